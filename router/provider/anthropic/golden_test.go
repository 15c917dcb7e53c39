package anthropic_test

import (
	"context"
	"encoding/json"
	"io"
	"path/filepath"
	"testing"

	"github.com/detour-gateway/detour/chat"
	"github.com/detour-gateway/detour/router/provider/anthropic/anthropictest"
	"github.com/detour-gateway/detour/router/provider/providertest"
)

// png1x1 is a one-pixel PNG, base64 encoded.
const png1x1 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="

// weatherTools are the tools of the tool cases, as an OpenAI client sends them.
const weatherTools = `"tools":[
	{"type":"function","function":{"name":"get_weather","description":"Current weather in a city","parameters":{"type":"object","properties":{"city":{"type":"string"},"unit":{"type":"string","enum":["celsius","fahrenheit"]}},"required":["city"]},"strict":true}},
	{"type":"function","function":{"name":"get_time","description":"Local time in a city","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}},
	{"type":"function","function":{"name":"now_utc"}}]`

// goldenCases are OpenAI-shaped requests with the fake's reply to each.
// testdata/requests/<name>.json holds the Messages request the adapter
// sends; testdata/responses/<name>.json the answer it makes of the reply (a
// list of chunks for a stream).
var goldenCases = []struct {
	name    string
	request string
	reply   anthropictest.Reply
}{
	{"plain", `{"model":"main-llm","messages":[{"role":"user","content":"Hello, Claude"}]}`,
		anthropictest.Reply{}},
	{"system_multiturn", `{"model":"main-llm","messages":[
		{"role":"system","content":"You are a terse assistant."},
		{"role":"developer","content":[{"type":"text","text":"Answer in French."}]},
		{"role":"user","content":"What is the capital of France?"},
		{"role":"assistant","content":"Paris.","name":"bot"},
		{"role":"user","content":"And of Italy?"},
		{"role":"user","content":[{"type":"text","text":"Also Spain."},{"type":"text","text":"   "}]}],
		"temperature":1.5,"top_p":0.9,"max_tokens":256,"n":1,"seed":7,"user":"user-42",
		"logit_bias":{"1":2},"response_format":{"type":"json_object"},"metadata":{"k":"v"},"store":true,"top_k":40}`,
		anthropictest.Reply{Text: "Rome. Madrid."}},
	{"tools_call", `{"model":"main-llm","messages":[{"role":"user","content":"Weather and time in Paris?"}],` + weatherTools + `,
		"tool_choice":"auto","parallel_tool_calls":false}`,
		anthropictest.Reply{Text: "I'll look that up.", ToolCalls: []anthropictest.ToolCall{
			{Name: "get_weather", Args: `{"city": "Paris", "unit": "celsius"}`}}}},
	{"tools_result", `{"model":"main-llm","messages":[
		{"role":"user","content":"Weather and time in Paris?"},
		{"role":"assistant","content":null,"tool_calls":[
			{"id":"toolu_01A","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},
			{"id":"toolu_01B","type":"function","function":{"name":"now_utc","arguments":""}}]},
		{"role":"tool","tool_call_id":"toolu_01A","content":"18°C, sunny"},
		{"role":"tool","tool_call_id":"toolu_01B","content":[{"type":"text","text":"2025-01-01T12:00:00Z"}]},
		{"role":"user","content":"Thanks. Summarise."}],` + weatherTools + `}`,
		anthropictest.Reply{Text: "It is 18°C and sunny in Paris at noon UTC."}},
	{"tool_choice_required", `{"model":"main-llm","messages":[{"role":"user","content":"Weather in Oslo"}],` + weatherTools + `,"tool_choice":"required"}`,
		anthropictest.Reply{ToolCalls: []anthropictest.ToolCall{{Name: "get_weather", Args: `{"city":"Oslo"}`}}}},
	{"tool_choice_named", `{"model":"main-llm","messages":[{"role":"user","content":"What time is it?"}],` + weatherTools + `,
		"tool_choice":{"type":"function","function":{"name":"now_utc"}},"parallel_tool_calls":false}`,
		anthropictest.Reply{ToolCalls: []anthropictest.ToolCall{{Name: "now_utc"}}}},
	{"image_data_url", `{"model":"main-llm","messages":[{"role":"user","content":[
		{"type":"text","text":"What is in this image?"},
		{"type":"image_url","image_url":{"url":"data:image/png;base64,` + png1x1 + `","detail":"low"}}]}]}`,
		anthropictest.Reply{Text: "A single pixel."}},
	{"image_http_url", `{"model":"main-llm","messages":[{"role":"user","content":[
		{"type":"image_url","image_url":{"url":"https://images.example.com/cat.jpg"}},
		{"type":"text","text":"Describe it.","cache_control":{"type":"ephemeral"}}]}]}`,
		anthropictest.Reply{Text: "A cat on a mat."}},
	{"stop", `{"model":"main-llm","messages":[{"role":"user","content":"Count"}],"stop":["five","three"]}`,
		anthropictest.Reply{Text: "one two three four five"}},
	{"max_tokens_hit", `{"model":"main-llm","messages":[{"role":"user","content":"Count"}],"max_completion_tokens":3,"max_tokens":100}`,
		anthropictest.Reply{Text: "one two three four five"}},
	{"thinking_cache", `{"model":"main-llm","messages":[{"role":"user","content":"Is 17 prime?"}],
		"max_tokens":2048,"thinking":{"type":"enabled","budget_tokens":1024}}`,
		anthropictest.Reply{Thinking: "17 has no divisor but 1 and itself.", Text: "Yes.", CacheReadTokens: 100, CacheCreationTokens: 20}},
	{"stream_text", `{"model":"main-llm","stream":true,"messages":[{"role":"user","content":"Hi"}]}`,
		anthropictest.Reply{Text: "Hello there, friend."}},
	{"stream_tools", `{"model":"main-llm","stream":true,"messages":[{"role":"user","content":"Weather in Paris and Rome?"}],` + weatherTools + `,
		"thinking":{"type":"enabled","budget_tokens":1024},"max_tokens":4000}`,
		anthropictest.Reply{Thinking: "Two cities, two calls.", Text: "Checking both.", ToolCalls: []anthropictest.ToolCall{
			{Name: "get_weather", Args: `{"city": "Paris", "unit": "celsius"}`},
			{Name: "get_weather", Args: `{"city": "Rome"}`},
			{Name: "now_utc"}}}},
	{"stream_include_usage", `{"model":"main-llm","stream":true,"stream_options":{"include_usage":true},
		"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi"}]}`,
		anthropictest.Reply{Text: "Hi!", CacheReadTokens: 7, Model: "claude-3-5-haiku-20241022"}},
	{"stream_max_tokens", `{"model":"main-llm","stream":true,"stream_options":{"include_usage":true},
		"messages":[{"role":"user","content":"Count"}],"max_tokens":2}`,
		anthropictest.Reply{Text: "one two three"}},
}

func TestGolden(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			up := anthropictest.New(t, tc.reply)
			var req chat.Request
			if err := json.Unmarshal([]byte(tc.request), &req); err != nil {
				t.Fatal(err)
			}
			var result any
			if req.Stream {
				s, err := newClient(up.URL).Stream(context.Background(), &req)
				if err != nil {
					t.Fatal(err)
				}
				defer s.Close()
				chunks := []*chat.Chunk{}
				for {
					c, err := s.Recv()
					if err == io.EOF {
						break
					}
					if err != nil {
						t.Fatal(err)
					}
					chunks = append(chunks, c)
				}
				result = chunks
			} else {
				resp, err := newClient(up.URL).Chat(context.Background(), &req)
				if err != nil {
					t.Fatal(err)
				}
				result = resp
			}
			if up.Count() != 1 {
				t.Fatalf("upstream got %d requests, want 1", up.Count())
			}
			providertest.Golden(t, filepath.Join("testdata", "requests", tc.name+".json"), up.Requests()[0].Raw)
			got, err := json.Marshal(result)
			if err != nil {
				t.Fatal(err)
			}
			providertest.Golden(t, filepath.Join("testdata", "responses", tc.name+".json"), got)
		})
	}
}
