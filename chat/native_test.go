package chat

import (
	"encoding/json"
	"testing"
)

func TestSetMember(t *testing.T) {
	tests := []struct {
		name, body, key, value, want string
	}{
		{"replace", `{"model":"claude-x","max_tokens":5}`, "model", `"claude-sonnet-4-5"`, `{"model":"claude-sonnet-4-5","max_tokens":5}`},
		{"spacing kept", "{ \"max_tokens\" : 5,\n  \"model\" :  \"a\" ,\"x\":[1, 2]}", "model", `"b"`, "{ \"max_tokens\" : 5,\n  \"model\" :  \"b\" ,\"x\":[1, 2]}"},
		{"nested model untouched", `{"metadata":{"model":"m"},"model":"a"}`, "model", `"b"`, `{"metadata":{"model":"m"},"model":"b"}`},
		{"same value", `{"model":"a"}`, "model", `"a"`, `{"model":"a"}`},
		{"missing", `{"max_tokens":5}`, "model", `"b"`, `{"max_tokens":5,"model":"b"}`},
		{"empty object", `{ }`, "stream", `true`, `{ "stream":true}`},
		{"escapes kept", `{"model":"a","system":"caf\u00e9 \"q\""}`, "model", `"b"`, `{"model":"b","system":"caf\u00e9 \"q\""}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := SetMember([]byte(tt.body), tt.key, json.RawMessage(tt.value))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
	for _, bad := range []string{``, `[]`, `{"model":`, `"x"`} {
		if _, err := SetMember([]byte(bad), "model", json.RawMessage(`"b"`)); err == nil {
			t.Errorf("SetMember(%q) succeeded", bad)
		}
	}
}
