package openai_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/detour-gateway/detour/router/provider/openai"
)

// responses100KB is a Responses request of about 100 KB in the shape the
// Codex CLI sends: instructions, function tools, and an input of
// reasoning, function_call and function_call_output items whose outputs
// carry file contents.
func responses100KB() []byte {
	file := strings.Repeat("func f() { return nil } // some Go source\n", 40) // ~1.7 KB
	var items []string
	items = append(items, `{"type":"message","role":"user","content":[{"type":"input_text","text":"Fix the failing test."}]}`)
	for i := 0; len(strings.Join(items, ",")) < 100_000; i++ {
		id := fmt.Sprintf("call_Bench%04d", i)
		output, _ := json.Marshal(file)
		items = append(items,
			fmt.Sprintf(`{"type":"reasoning","summary":[{"type":"summary_text","text":"Read file %d."}],"encrypted_content":"gAAAAABbench"}`, i),
			fmt.Sprintf(`{"type":"function_call","call_id":%q,"name":"shell","arguments":"{\"command\":[\"cat\",\"/src/f%d.go\"]}"}`, id, i),
			fmt.Sprintf(`{"type":"function_call_output","call_id":%q,"output":%s}`, id, output))
	}
	return []byte(`{"model":"gpt-5-codex","stream":true,"store":false,"instructions":"You are Codex, a coding agent.",` +
		`"tools":[{"type":"function","name":"shell","description":"Runs a command","strict":false,` +
		`"parameters":{"type":"object","properties":{"command":{"type":"array","items":{"type":"string"}}},"required":["command"]}}],` +
		`"tool_choice":"auto","parallel_tool_calls":false,"reasoning":{"effort":"medium","summary":"auto"},` +
		`"include":["reasoning.encrypted_content"],"input":[` + strings.Join(items, ",") + `]}`)
}

// BenchmarkResponsesTranslate100KB measures translating a 100 KB Responses
// request to the canonical form (for a chat-completions deployment), and
// then encoding that as an OpenAI-compatible upstream is sent it.
func BenchmarkResponsesTranslate100KB(b *testing.B) {
	body := responses100KB()
	b.Run("request", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		for range b.N {
			rreq, err := openai.DecodeResponsesRequest(body)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := rreq.Chat(nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("request+MarshalJSON", func(b *testing.B) {
		// The canonical JSON taken from MarshalJSON itself, as an adapter
		// can: its output is what json.Marshal gives.
		b.SetBytes(int64(len(body)))
		for range b.N {
			rreq, err := openai.DecodeResponsesRequest(body)
			if err != nil {
				b.Fatal(err)
			}
			req, err := rreq.Chat(nil)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := req.MarshalJSON(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("request+encode", func(b *testing.B) {
		// As the OpenAI adapter encodes today: json.Marshal, which checks
		// and compacts what MarshalJSON gives once more.
		b.SetBytes(int64(len(body)))
		for range b.N {
			rreq, err := openai.DecodeResponsesRequest(body)
			if err != nil {
				b.Fatal(err)
			}
			req, err := rreq.Chat(nil)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := json.Marshal(req); err != nil {
				b.Fatal(err)
			}
		}
	})
}
