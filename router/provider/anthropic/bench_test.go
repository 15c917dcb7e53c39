package anthropic_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/detour-gateway/detour/chat"
	"github.com/detour-gateway/detour/router/provider/anthropic"
)

// conversation100KB is a Messages request of about 100 KB in the shape
// Claude Code sends: system blocks, tools, and tool_use / tool_result
// turns whose results carry file contents.
func conversation100KB() []byte {
	file := strings.Repeat("func f() { return nil } // some Go source\n", 40) // ~1.7 KB
	var msgs []string
	msgs = append(msgs, `{"role":"user","content":[{"type":"text","text":"Fix the failing test."}]}`)
	for i := 0; len(strings.Join(msgs, ",")) < 100_000; i++ {
		id := fmt.Sprintf("toolu_01Bench%04d", i)
		content, _ := json.Marshal(file)
		msgs = append(msgs,
			fmt.Sprintf(`{"role":"assistant","content":[{"type":"thinking","thinking":"Read file %d.","signature":"c2lnbmF0dXJl"},{"type":"tool_use","id":%q,"name":"Read","input":{"file_path":"/src/f%d.go"}}]}`, i, id, i),
			fmt.Sprintf(`{"role":"user","content":[{"type":"tool_result","tool_use_id":%q,"content":%s}]}`, id, content))
	}
	return []byte(`{"model":"claude","max_tokens":32000,"stream":true,` +
		`"system":[{"type":"text","text":"You are Claude Code.","cache_control":{"type":"ephemeral"}}],` +
		`"tools":[{"name":"Read","description":"Reads a file","input_schema":{"type":"object","properties":{"file_path":{"type":"string"}}}}],` +
		`"messages":[` + strings.Join(msgs, ",") + `]}`)
}

// BenchmarkTranslate100KB measures translating a 100 KB Messages request
// to the canonical form (for a non-Anthropic deployment) and the answer
// back.
func BenchmarkTranslate100KB(b *testing.B) {
	body := conversation100KB()
	b.Run("request", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		for range b.N {
			if _, err := anthropic.DecodeRequest(body); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("request+encode", func(b *testing.B) {
		// What a translated request costs in all: decode, then the
		// canonical JSON an OpenAI-compatible upstream is sent.
		b.SetBytes(int64(len(body)))
		for range b.N {
			req, err := anthropic.DecodeRequest(body)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := json.Marshal(req); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("request+MarshalJSON", func(b *testing.B) {
		// The same, the canonical JSON taken from MarshalJSON itself, as
		// an adapter can: its output is what json.Marshal gives, which
		// checks and compacts it once more.
		b.SetBytes(int64(len(body)))
		for range b.N {
			req, err := anthropic.DecodeRequest(body)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := req.MarshalJSON(); err != nil {
				b.Fatal(err)
			}
		}
	})
	resp := &chat.Response{ID: "chatcmpl-1", Model: "gpt-4.1", Choices: []chat.Choice{{Message: chat.Message{Role: "assistant",
		Content: chat.TextContent(strings.Repeat("word ", 2000))}, FinishReason: "stop"}},
		Usage: &chat.Usage{PromptTokens: 25000, CompletionTokens: 2000, TotalTokens: 27000}}
	b.Run("answer", func(b *testing.B) {
		for range b.N {
			if _, err := anthropic.EncodeResponse(resp, "gpt-4.1"); err != nil {
				b.Fatal(err)
			}
		}
	})
}
