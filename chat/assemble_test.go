package chat

import (
	"encoding/json"
	"testing"
)

func TestAssembleAndChunksRoundTrip(t *testing.T) {
	stream := []string{
		`{"id":"c1","object":"chat.completion.chunk","created":7,"model":"m","system_fingerprint":"fp","obfuscation":"x","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}`,
		`{"id":"c1","object":"chat.completion.chunk","created":7,"model":"m","choices":[{"index":0,"delta":{"content":"Hel"},"finish_reason":null}]}`,
		`{"id":"c1","object":"chat.completion.chunk","created":7,"model":"m","choices":[{"index":0,"delta":{"content":"lo"},"finish_reason":null}]}`,
		`{"id":"c1","object":"chat.completion.chunk","created":7,"model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_b","type":"function","function":{"name":"g","arguments":""}}]},"finish_reason":null}]}`,
		`{"id":"c1","object":"chat.completion.chunk","created":7,"model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"f","arguments":"{\"x\":"}}]},"finish_reason":null}]}`,
		`{"id":"c1","object":"chat.completion.chunk","created":7,"model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"1}"}}]},"finish_reason":null}]}`,
		`{"id":"c1","object":"chat.completion.chunk","created":7,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}`,
		`{"id":"c1","object":"chat.completion.chunk","created":7,"model":"m","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}}`,
	}
	var a Assembler
	for _, s := range stream {
		var c Chunk
		if err := json.Unmarshal([]byte(s), &c); err != nil {
			t.Fatal(err)
		}
		a.Add(&c)
	}
	resp := a.Response()
	want := `{"id":"c1","object":"chat.completion","created":7,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"Hello",` +
		`"tool_calls":[{"id":"call_a","type":"function","function":{"name":"f","arguments":"{\"x\":1}"}},{"id":"call_b","type":"function","function":{"name":"g","arguments":""}}]},` +
		`"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7},"system_fingerprint":"fp"}`
	got, _ := json.Marshal(resp)
	if string(got) != want {
		t.Fatalf("assembled\n got %s\nwant %s", got, want)
	}

	// Replaying the whole answer as chunks and assembling them again gives
	// the same answer.
	var b Assembler
	chunks := Chunks(resp, true)
	for _, c := range chunks {
		b.Add(c)
	}
	again, _ := json.Marshal(b.Response())
	if string(again) != want {
		t.Errorf("round trip\n got %s\nwant %s", again, want)
	}
	if last := chunks[len(chunks)-1]; last.Usage == nil || len(last.Choices) != 0 {
		t.Errorf("last chunk = %+v, want usage only", last)
	}
	if noUsage := Chunks(resp, false); noUsage[len(noUsage)-1].Usage != nil {
		t.Error("usage chunk sent without include_usage")
	}
}
