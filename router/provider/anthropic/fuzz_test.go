package anthropic

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/detour-gateway/detour/router/provider"
)

// FuzzResponse feeds arbitrary bytes to the non-streamed answer parser:
// it must never panic, and an answer it accepts has one choice.
func FuzzResponse(f *testing.F) {
	f.Add([]byte(`{"id":"msg_1","type":"message","role":"assistant","model":"claude-x","content":[{"type":"text","text":"hi"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":3,"output_tokens":1}}`))
	f.Add([]byte(`{"type":"message","content":[{"type":"tool_use","id":"t","name":"f","input":null},{"type":"thinking","thinking":"x"}],"stop_reason":null,"usage":{}}`))
	f.Add([]byte(`{"type":"message","content":null,"usage":null}`))
	f.Add([]byte(`{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		resp, err := decodeResponse(data, "fallback", 0)
		if err != nil {
			return
		}
		if len(resp.Choices) != 1 || resp.Usage == nil {
			t.Fatalf("accepted answer %+v", resp)
		}
	})
}

// FuzzStream feeds arbitrary bytes to the stream parser as a 200 body: it
// must never panic, must end, and every failure must be a *provider.Error.
func FuzzStream(f *testing.F) {
	f.Add([]byte("event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"m\",\"content\":[],\"usage\":{\"input_tokens\":1,\"output_tokens\":1}}}\n\n" +
		"event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n" +
		"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi\"}}\n\n" +
		"event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n" +
		"event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"tool_use\",\"id\":\"t\",\"name\":\"f\",\"input\":{}}}\n\n" +
		"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"a\\\":\"}}\n\n" +
		"event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\"},\"usage\":{\"output_tokens\":5}}\n\n" +
		"event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"))
	f.Add([]byte("event: message_start\ndata: {\"type\":\"message_start\",\"message\":null}\n\nevent: error\ndata: {\"type\": \"error\", \"error\": {\"type\": \"overloaded_error\", \"message\": \"Overloaded\"}}\n\n"))
	f.Add([]byte("event: message_start\ndata: {\"type\":\"message_start\"}\n\nevent: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"thinking_delta\",\"thinking\":\"hm\"}}\n\ndata: {\"type\":\"message_stop\"}\n\n"))
	f.Add([]byte("data: {\"type\":\"content_block_delta\"}\n\n"))
	f.Add([]byte("event: ping\ndata: {\"type\": \"ping\"}\n\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, usage := range []bool{false, true} {
			s := newStream("anthropic", "m", 0, usage, io.NopCloser(bytes.NewReader(data)))
			for n := 0; ; n++ {
				if n > 4*len(data)+8 {
					t.Fatalf("stream of %d bytes gave more than %d chunks", len(data), n)
				}
				c, err := s.Recv()
				if err == io.EOF {
					break
				}
				if err != nil {
					var pe *provider.Error
					if !errors.As(err, &pe) {
						t.Fatalf("error %v is not a *provider.Error", err)
					}
					break
				}
				if c == nil || c.ID == "" {
					t.Fatalf("chunk %+v", c)
				}
			}
			s.Close()
		}
	})
}
