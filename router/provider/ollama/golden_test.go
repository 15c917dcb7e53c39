package ollama_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/detour-gateway/detour/chat"
	"github.com/detour-gateway/detour/router/provider"
	"github.com/detour-gateway/detour/router/provider/ollama"
	"github.com/detour-gateway/detour/router/provider/ollama/ollamatest"
	"github.com/detour-gateway/detour/router/provider/providertest"
)

// A 1×1 PNG.
const pixel = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="

var weatherTool = `{"type":"function","function":{"name":"get_weather","description":"Current weather in a city",
	"parameters":{"type":"object","properties":{"city":{"type":"string","description":"City name"},
	"unit":{"type":"string","enum":["celsius","fahrenheit"]}},"required":["city"]}}}`

// goldenCases are OpenAI-shaped requests, with what the fake answers. For
// each, testdata/requests/NAME.json holds the body the adapter sent to
// Ollama and testdata/responses/NAME.json what it made of the answer (a
// chat.completion, the list of chunks of a stream, or a local error).
var goldenCases = []struct {
	name    string
	request string
	replies []ollamatest.Reply
}{
	{"plain", `{"model":"local","messages":[{"role":"user","content":"Say hello."}],
		"temperature":0.2,"user":"u-42","logit_bias":{"50256":-100}}`,
		[]ollamatest.Reply{{Text: "Hello there."}}},
	{"system_multiturn", `{"model":"local","messages":[
		{"role":"system","content":"You are terse."},
		{"role":"developer","content":"Answer in English."},
		{"role":"user","content":"What is 2+2?"},
		{"role":"assistant","content":"4"},
		{"role":"user","content":[{"type":"text","text":"And 3+3?"},{"type":"text","text":"Just the number."}]}]}`,
		[]ollamatest.Reply{{Text: "6"}}},
	{"tools_call", `{"model":"local","messages":[{"role":"user","content":"Weather in Paris?"}],
		"tools":[` + weatherTool + `],"tool_choice":"auto"}`,
		[]ollamatest.Reply{{ToolCalls: []ollamatest.ToolCall{{Name: "get_weather", Args: `{"city":"Paris","unit":"celsius"}`}}}}},
	{"tools_result", `{"model":"local","messages":[{"role":"user","content":"Weather in Paris?"},
		{"role":"assistant","content":null,"tool_calls":[{"id":"call_k3j4h5g6","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\",\"unit\":\"celsius\"}"}}]},
		{"role":"tool","tool_call_id":"call_k3j4h5g6","content":"18°C, light rain"}],
		"tools":[` + weatherTool + `]}`,
		nil},
	{"image_data_url", `{"model":"local","messages":[{"role":"user","content":[
		{"type":"text","text":"What is in this image?"},
		{"type":"image_url","image_url":{"url":"data:image/png;base64,` + pixel + `","detail":"low"}}]}]}`,
		nil},
	{"image_http_url", `{"model":"local","messages":[{"role":"user","content":[
		{"type":"text","text":"What is in this image?"},
		{"type":"image_url","image_url":{"url":"https://example.test/cat.png"}}]}]}`,
		nil},
	{"stream_tools", `{"model":"local","stream":true,"messages":[{"role":"user","content":"Weather in Paris and Rome?"}],
		"tools":[` + weatherTool + `]}`,
		[]ollamatest.Reply{{Text: "Checking both.", ToolCalls: []ollamatest.ToolCall{
			{Name: "get_weather", Args: `{"city":"Paris"}`}, {Name: "get_weather", Args: `{"city":"Rome"}`}}}}},
	{"stream_include_usage", `{"model":"local","stream":true,"stream_options":{"include_usage":true},
		"messages":[{"role":"user","content":"Count to three."}]}`,
		[]ollamatest.Reply{{Text: "One, two, three."}}},
	{"stream_thinking", `{"model":"local","stream":true,"messages":[{"role":"user","content":"Is 7 prime?"}]}`,
		[]ollamatest.Reply{{Thinking: "7 has no divisors but 1 and 7.", Text: "Yes."}}},
	{"stream_length", `{"model":"local","stream":true,"max_completion_tokens":4,"messages":[{"role":"user","content":"Tell a story."}]}`,
		[]ollamatest.Reply{{Text: "Once upon a time there was a fox."}}},
	{"stop", `{"model":"local","messages":[{"role":"user","content":"Count to five."}],"stop":["four"],"seed":7}`,
		[]ollamatest.Reply{{Text: "one two three four five"}}},
	{"max_tokens_hit", `{"model":"local","messages":[{"role":"user","content":"Tell a story."}],"max_tokens":3}`,
		[]ollamatest.Reply{{Text: "Once upon a time there was a fox."}}},
	{"stop_reason_length", `{"model":"local","messages":[{"role":"user","content":"Tell a story."}]}`,
		[]ollamatest.Reply{{Text: "Once upon a", StopReason: "length"}}},
	{"thinking", `{"model":"local","messages":[{"role":"user","content":"Is 7 prime?"}],"top_p":0.9}`,
		[]ollamatest.Reply{{Thinking: "7 has no divisors but 1 and 7.", Text: "Yes."}}},
	{"json_schema", `{"model":"local","messages":[{"role":"user","content":"Name a city."}],
		"response_format":{"type":"json_schema","json_schema":{"name":"city","strict":true,
		"schema":{"type":"object","properties":{"name":{"type":"string"}},"required":["name"]}}}}`,
		[]ollamatest.Reply{{Text: `{"name":"Oslo"}`}}},
	{"legacy_tool_ids", `{"model":"local","messages":[{"role":"user","content":"Weather in Oslo?"}],"tools":[` + weatherTool + `]}`,
		[]ollamatest.Reply{{NoToolCallIDs: true, ToolCalls: []ollamatest.ToolCall{{Name: "get_weather", Args: `{"city":"Oslo"}`}}}}},
}

func TestGolden(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			up := ollamatest.New(t, tc.replies...)
			o := options(up.URL)
			if strings.Contains(tc.name, "image") {
				o.Model = "llava:7b"
			}
			c := ollama.New(o)
			req := providertest.ParseRequest(t, tc.request)
			var result any
			if req.Stream {
				s, err := c.Stream(context.Background(), req)
				if err != nil {
					result = errorResult(t, err)
				} else {
					chunks, err := providertest.Collect(s)
					s.Close()
					if err != nil {
						t.Fatal(err)
					}
					result = chunks
				}
			} else {
				resp, err := c.Chat(context.Background(), req)
				if err != nil {
					result = errorResult(t, err)
				} else {
					result = resp
				}
			}
			reqFile := filepath.Join("testdata", "requests", tc.name+".json")
			if reqs := up.Requests(); len(reqs) > 0 {
				providertest.Golden(t, reqFile, reqs[0].Raw)
			} else if _, err := os.Stat(reqFile); err == nil && !*providertest.Update {
				t.Errorf("no request sent, but %s exists", reqFile)
			}
			out, err := json.Marshal(result)
			if err != nil {
				t.Fatal(err)
			}
			providertest.Golden(t, filepath.Join("testdata", "responses", tc.name+".json"), out)
		})
	}
}

func TestGoldenEmbeddings(t *testing.T) {
	up := ollamatest.New(t)
	o := options(up.URL)
	o.Model = "nomic-embed-text"
	o.NumCtx = 2048
	var req chat.EmbeddingRequest
	if err := json.Unmarshal([]byte(`{"model":"embed","input":["The sky is blue.","Grass is green."],"dimensions":4,"user":"u-1"}`), &req); err != nil {
		t.Fatal(err)
	}
	resp, err := ollama.New(o).Embed(context.Background(), &req)
	if err != nil {
		t.Fatal(err)
	}
	providertest.Golden(t, filepath.Join("testdata", "requests", "embed.json"), up.Requests()[0].Raw)
	out, _ := json.Marshal(resp)
	providertest.Golden(t, filepath.Join("testdata", "responses", "embed.json"), out)
}

// errorResult is how a failure is kept in a golden file.
func errorResult(t *testing.T, err error) any {
	var pe *provider.Error
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v, want *provider.Error", err)
	}
	return map[string]any{"error": map[string]any{"class": pe.Class, "status": pe.Status, "local": pe.Local, "message": pe.Message}}
}
