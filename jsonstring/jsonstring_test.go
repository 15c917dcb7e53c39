package jsonstring

import (
	"encoding/json"
	"testing"
)

// Unquote and EscapeLen agree with encoding/json on the strings it accepts.
func TestAgreesWithEncodingJSON(t *testing.T) {
	for _, body := range []string{
		`plain`, `caf\u00e9`, `tab\there`, `\"quoted\" \\ \/`, `\b\f\n\r`,
		`\ud83d\ude00`, `half \ud83d alone`, `low \ude00 alone`, "bad \xff byte", `é and 日本`,
	} {
		var want string
		if err := json.Unmarshal([]byte(`"`+body+`"`), &want); err != nil {
			t.Fatalf("%q: %v", body, err)
		}
		if got := Unquote([]byte(body)); got != want {
			t.Errorf("Unquote(%q) = %q, want %q", body, got, want)
		}
	}
	for _, tt := range []struct {
		s    string
		want int
	}{{`\n`, 2}, {`\/x`, 2}, {`\u00e9x`, 6}, {`\u00g9`, 0}, {`\x`, 0}, {`\`, 0}, {`\u12`, 0}} {
		if got := EscapeLen([]byte(tt.s)); got != tt.want {
			t.Errorf("EscapeLen(%q) = %d, want %d", tt.s, got, tt.want)
		}
	}
}
