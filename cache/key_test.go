package cache

import (
	"encoding/json"
	"testing"

	"github.com/detour-gateway/detour/chat"
)

func keyOf(t *testing.T, group, ns, body string) [32]byte {
	t.Helper()
	var req chat.Request
	if err := json.Unmarshal([]byte(body), &req); err != nil {
		t.Fatal(err)
	}
	k, err := Key(group, ns, &req)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

const base = `{"model":"g","messages":[{"role":"user","content":"hi"}],"temperature":0.5,"max_tokens":100}`

func TestKeySame(t *testing.T) {
	tests := []struct{ name, body string }{
		{"key order and spacing", `{ "max_tokens" : 100, "temperature":0.5,
			"messages":[{"content":"hi","role":"user"}], "model":"g" }`},
		{"number spelling", `{"model":"g","messages":[{"role":"user","content":"hi"}],"temperature":5e-1,"max_tokens":100}`},
		{"stream and stream_options", `{"model":"g","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}],"temperature":0.5,"max_tokens":100}`},
		{"user and metadata", `{"model":"g","user":"u1","metadata":{"a":"b"},"messages":[{"role":"user","content":"hi"}],"temperature":0.5,"max_tokens":100}`},
		{"cache control and store", `{"model":"g","cache":{"ttl":5},"store":true,"messages":[{"role":"user","content":"hi"}],"temperature":0.5,"max_tokens":100}`},
		{"model field is the group", `{"model":"other-spelling","messages":[{"role":"user","content":"hi"}],"temperature":0.5,"max_tokens":100}`},
	}
	want := keyOf(t, "g", "", base)
	// Numbers in members Detour does not model are normalised too.
	if keyOf(t, "g", "", `{"model":"g","messages":[],"top_k":40}`) != keyOf(t, "g", "", `{"model":"g","messages":[],"top_k":4.0e1}`) {
		t.Error("top_k 40 and 4.0e1 give different keys")
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if keyOf(t, "g", "", tt.body) != want {
				t.Error("key differs, want the same entry")
			}
		})
	}
}

func TestKeyDiffers(t *testing.T) {
	msg := `"messages":[{"role":"user","content":"hi"}]`
	tests := []struct{ name, group, ns, body string }{
		{"group", "h", "", base},
		{"namespace", "g", "team-a", base},
		{"message text", "g", "", `{"model":"g","messages":[{"role":"user","content":"hi!"}],"temperature":0.5,"max_tokens":100}`},
		{"message role", "g", "", `{"model":"g","messages":[{"role":"system","content":"hi"}],"temperature":0.5,"max_tokens":100}`},
		{"temperature", "g", "", `{"model":"g",` + msg + `,"temperature":0.6,"max_tokens":100}`},
		{"max_tokens", "g", "", `{"model":"g",` + msg + `,"temperature":0.5,"max_tokens":101}`},
		{"max_completion_tokens", "g", "", `{"model":"g",` + msg + `,"temperature":0.5,"max_completion_tokens":100}`},
		{"top_p", "g", "", `{"model":"g",` + msg + `,"temperature":0.5,"max_tokens":100,"top_p":0.9}`},
		{"stop", "g", "", `{"model":"g",` + msg + `,"temperature":0.5,"max_tokens":100,"stop":["x"]}`},
		{"n", "g", "", `{"model":"g",` + msg + `,"temperature":0.5,"max_tokens":100,"n":2}`},
		{"seed", "g", "", `{"model":"g",` + msg + `,"temperature":0.5,"max_tokens":100,"seed":1}`},
		{"tools", "g", "", `{"model":"g",` + msg + `,"temperature":0.5,"max_tokens":100,"tools":[{"type":"function","function":{"name":"f"}}]}`},
		{"tool_choice", "g", "", `{"model":"g",` + msg + `,"temperature":0.5,"max_tokens":100,"tool_choice":"none"}`},
		{"response_format", "g", "", `{"model":"g",` + msg + `,"temperature":0.5,"max_tokens":100,"response_format":{"type":"json_object"}}`},
		{"reasoning_effort", "g", "", `{"model":"g",` + msg + `,"temperature":0.5,"max_tokens":100,"reasoning_effort":"high"}`},
		{"penalties", "g", "", `{"model":"g",` + msg + `,"temperature":0.5,"max_tokens":100,"presence_penalty":1}`},
		{"logit_bias", "g", "", `{"model":"g",` + msg + `,"temperature":0.5,"max_tokens":100,"logit_bias":{"50256":-100}}`},
		{"provider extra", "g", "", `{"model":"g",` + msg + `,"temperature":0.5,"max_tokens":100,"top_k":40}`},
	}
	want := keyOf(t, "g", "", base)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if keyOf(t, tt.group, tt.ns, tt.body) == want {
				t.Error("same key, want a different entry")
			}
		})
	}
}
