package ollama

import (
	"strings"
	"testing"
)

func TestErrorLines(t *testing.T) {
	tests := []struct {
		name   string
		chunks []string
		eof    bool
		want   string
	}{
		{"one line", []string{`{"error":"boom"}` + "\n"}, false, `{"error":"boom"}`},
		{"split anywhere", []string{`{"mo`, `del":"x"}` + "\n" + `{"err`, `or":"bo`, `om"}` + "\n"}, false, `{"error":"boom"}`},
		{"last wins", []string{`{"error":"a"}` + "\n" + `{"error":"b"}` + "\n"}, false, `{"error":"b"}`},
		{"unterminated until EOF", []string{`{"error":"x"}`}, false, ""},
		{"terminated by EOF", []string{`{"error":"x"}`}, true, `{"error":"x"}`},
		{"prefix in the middle of a line", []string{`x{"error":"x"}` + "\n"}, false, ""},
		{"content mentioning error", []string{`{"message":{"content":"{\"error\":1}"}}` + "\n"}, false, ""},
		{"too long", []string{`{"error":"` + strings.Repeat("a", maxErrorLine) + `"}` + "\n"}, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e errorLines
			for _, c := range tt.chunks {
				e.write([]byte(c))
			}
			if tt.eof {
				e.end()
			}
			if string(e.last) != tt.want {
				t.Errorf("last = %q, want %q", e.last, tt.want)
			}
		})
	}
}
