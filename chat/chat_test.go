package chat

import (
	"encoding/json"
	"testing"
)

func TestRequestRoundTripKeepsUnknownFields(t *testing.T) {
	in := `{"model":"gpt-4o","messages":[{"role":"user","content":[{"type":"text","text":"hi"},{"type":"image_url","image_url":{"url":"data:x"}}],"x_msg":1}],` +
		`"stop":"END","logit_bias":{"50256":-100},"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"},"x_fn":true},"x_tool":"y"}],` +
		`"stream_options":{"include_usage":true,"x_so":2},"metadata":{"a":"b"}}`
	var r Request
	if err := json.Unmarshal([]byte(in), &r); err != nil {
		t.Fatal(err)
	}
	if got := r.Messages[0].Text(); got != "hi" {
		t.Errorf("Text() = %q, want hi", got)
	}
	if len(r.Stop) != 1 || r.Stop[0] != "END" {
		t.Errorf("Stop = %v, want [END]", r.Stop)
	}
	out, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var want, got map[string]any
	json.Unmarshal([]byte(in), &want)
	json.Unmarshal(out, &got)
	want["stop"] = []any{"END"} // always written as an array
	wb, _ := json.Marshal(want)
	gb, _ := json.Marshal(got)
	if string(wb) != string(gb) {
		t.Errorf("round trip lost data:\n got %s\nwant %s", gb, wb)
	}
}

func TestFinishReasonNull(t *testing.T) {
	b, err := json.Marshal(ChunkChoice{Delta: Delta{Content: "x"}})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"index":0,"delta":{"content":"x"},"finish_reason":null}`; string(b) != want {
		t.Errorf("got %s, want %s", b, want)
	}
	var c ChunkChoice
	if err := json.Unmarshal([]byte(`{"index":0,"delta":{},"finish_reason":"stop","logprobs":null}`), &c); err != nil {
		t.Fatal(err)
	}
	if c.FinishReason != "stop" || string(c.Extra["logprobs"]) != "null" {
		t.Errorf("got %+v", c)
	}
}

func TestChunkHasContent(t *testing.T) {
	tests := []struct {
		name  string
		chunk string
		want  bool
	}{
		{"role only", `{"choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}`, false},
		{"text", `{"choices":[{"index":0,"delta":{"content":"Hel"},"finish_reason":null}]}`, true},
		{"tool call", `{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{"}}]}}]}`, true},
		{"finish", `{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}`, true},
		{"usage", `{"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}`, true},
		{"refusal", `{"choices":[{"index":0,"delta":{"refusal":"no"}}]}`, true},
		{"null refusal", `{"choices":[{"index":0,"delta":{"refusal":null}}]}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c Chunk
			if err := json.Unmarshal([]byte(tt.chunk), &c); err != nil {
				t.Fatal(err)
			}
			if got := c.HasContent(); got != tt.want {
				t.Errorf("HasContent() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestStopRejectsNumbers(t *testing.T) {
	var r Request
	if err := json.Unmarshal([]byte(`{"model":"m","messages":[],"stop":5}`), &r); err == nil {
		t.Fatal("want error for numeric stop")
	}
}
