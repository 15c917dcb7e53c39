package gemini_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"testing"

	"github.com/detour-gateway/detour/chat"
	"github.com/detour-gateway/detour/router/provider/gemini"
	"github.com/detour-gateway/detour/router/provider/gemini/geminitest"
	"github.com/detour-gateway/detour/router/provider/providertest"
)

// turn is one request of a golden case and the fake's reply to it.
type turn struct {
	reply geminitest.Reply
	// results are the tool outputs, by function name, that the client
	// sends back in the next turn after the answer's tool calls.
	results map[string]string
	// dropExtra makes the client forget the tool calls' extra members
	// before the next turn, keeping only their ids.
	dropExtra bool
}

// goldenCase is an OpenAI-shaped request run through the fake. Each turn
// after the first sends the previous request's messages, the answer's
// message and the tool results.
type goldenCase struct {
	name    string
	request string
	turns   []turn
	opts    func(*gemini.Options)
}

const weatherTool = `{"type":"function","function":{"name":"get_weather","description":"Current weather in a city.","parameters":{"$schema":"http://json-schema.org/draft-07/schema#","type":"object","properties":{"city":{"type":"string","description":"City name"},"unit":{"type":["string","null"],"enum":["celsius","fahrenheit"]}},"required":["city"],"additionalProperties":false},"strict":true}}`

const timeTool = `{"type":"function","function":{"name":"get_time","description":"Current time in a city.","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}`

const noArgsTool = `{"type":"function","function":{"name":"list_cities","description":"Cities we know.","parameters":{"type":"object","properties":{}}}}`

var goldenCases = []goldenCase{
	{
		name:    "plain",
		request: `{"model":"detour-main","messages":[{"role":"user","content":"Say hello."}],"temperature":0.3,"top_p":0.9,"seed":42,"user":"user-1","logit_bias":{"50256":-100},"presence_penalty":0.5}`,
		turns:   []turn{{reply: geminitest.Reply{Text: "Hello there, friend."}}},
	},
	{
		name: "system_multiturn",
		request: `{"model":"detour-main","messages":[
			{"role":"system","content":"You are terse."},
			{"role":"developer","content":[{"type":"text","text":"Answer in English."}]},
			{"role":"user","content":"What is 2+2?"},
			{"role":"assistant","content":"4."},
			{"role":"user","content":[{"type":"text","text":"And 3+3?"}]}],
			"max_completion_tokens":50,"max_tokens":10}`,
		turns: []turn{{reply: geminitest.Reply{Text: "6."}}},
	},
	{
		name:    "tools_round_trip",
		request: `{"model":"detour-main","messages":[{"role":"user","content":"Weather in Paris?"}],"tools":[` + weatherTool + `,` + noArgsTool + `],"tool_choice":"auto"}`,
		turns: []turn{
			{reply: geminitest.Reply{ToolCalls: []geminitest.ToolCall{{Name: "get_weather", Args: `{"city":"Paris","unit":"celsius"}`}}},
				results: map[string]string{"get_weather": `{"temp_c": 18, "sky": "cloudy"}`}},
			{reply: geminitest.Reply{Text: "It is 18°C and cloudy in Paris."}},
		},
	},
	{
		name:    "tools_parallel_gemini3",
		request: `{"model":"detour-main","messages":[{"role":"user","content":"Weather and time in Oslo?"}],"tools":[` + weatherTool + `,` + timeTool + `],"tool_choice":"required"}`,
		turns: []turn{
			{reply: geminitest.Reply{Gemini3: true, Text: "Checking both.", ToolCalls: []geminitest.ToolCall{
				{Name: "get_weather", Args: `{"city":"Oslo"}`}, {Name: "get_time", Args: `{"city":"Oslo"}`}}},
				results: map[string]string{"get_weather": "-3°C, snow", "get_time": `{"time":"14:05"}`}},
			{reply: geminitest.Reply{Gemini3: true, Text: "It is 14:05 and -3°C with snow in Oslo."}},
		},
	},
	{
		// A client that keeps only the tool call ids: the signature
		// travels in the id alone.
		name:    "gemini3_signature_in_id_only",
		request: `{"model":"detour-main","messages":[{"role":"user","content":"Weather in Rome?"}],"tools":[` + weatherTool + `]}`,
		turns: []turn{
			{reply: geminitest.Reply{Gemini3: true, ToolCalls: []geminitest.ToolCall{{Name: "get_weather", Args: `{"city":"Rome"}`, ID: "fc-7f3a"}}},
				results: map[string]string{"get_weather": "sunny"}, dropExtra: true},
			{reply: geminitest.Reply{Gemini3: true, Text: "Sunny in Rome."}},
		},
	},
	{
		// History from another provider after a failover: OpenAI-style ids,
		// no signatures. Gemini 3 takes it with the documented dummy.
		name: "gemini3_foreign_history",
		request: `{"model":"detour-main","messages":[
			{"role":"user","content":"Weather in Lima?"},
			{"role":"assistant","content":null,"tool_calls":[{"id":"call_Ab12Cd34","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Lima\"}"}},{"id":"call_Ef56","type":"function","function":{"name":"get_time","arguments":""}}]},
			{"role":"tool","tool_call_id":"call_Ab12Cd34","content":"22°C"},
			{"role":"tool","tool_call_id":"call_Ef56","content":[{"type":"text","text":"09:30"}]}],
			"tools":[` + weatherTool + `,` + timeTool + `]}`,
		turns: []turn{{reply: geminitest.Reply{Gemini3: true, Text: "22°C at 09:30 in Lima."}}},
	},
	{
		name:    "tool_choice_named",
		request: `{"model":"detour-main","messages":[{"role":"user","content":"Oslo time"}],"tools":[` + weatherTool + `,` + timeTool + `],"tool_choice":{"type":"function","function":{"name":"get_time"}}}`,
		turns:   []turn{{reply: geminitest.Reply{ToolCalls: []geminitest.ToolCall{{Name: "get_time", Args: `{"city":"Oslo"}`}}}}},
	},
	{
		name:    "image_data_url",
		request: `{"model":"detour-main","messages":[{"role":"user","content":[{"type":"text","text":"What is this?"},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==","detail":"low"}}]}]}`,
		turns:   []turn{{reply: geminitest.Reply{Text: "A single pixel."}}},
	},
	{
		name:    "image_http_url",
		request: `{"model":"detour-main","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://example.com/photos/cat.webp?size=large"}},{"type":"image_url","image_url":{"url":"https://example.com/render"}},{"type":"text","text":"Compare them."}]}]}`,
		turns:   []turn{{reply: geminitest.Reply{Text: "Both show a cat."}}},
	},
	{
		name:    "stream_text",
		request: `{"model":"detour-main","stream":true,"messages":[{"role":"user","content":"Count to three."}]}`,
		turns:   []turn{{reply: geminitest.Reply{Text: "One, two, three."}}},
	},
	{
		name:    "stream_include_usage",
		request: `{"model":"detour-main","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"Count to three."}]}`,
		turns:   []turn{{reply: geminitest.Reply{Text: "One, two, three.", CachedTokens: 2}}},
	},
	{
		name:    "stream_tools",
		request: `{"model":"detour-main","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"Weather in Oslo and Rome?"}],"tools":[` + weatherTool + `]}`,
		turns: []turn{
			{reply: geminitest.Reply{Gemini3: true, ToolCalls: []geminitest.ToolCall{
				{Name: "get_weather", Args: `{"city":"Oslo"}`}, {Name: "get_weather", Args: `{"city":"Rome"}`}}},
				results: map[string]string{"get_weather": "mild"}},
			{reply: geminitest.Reply{Gemini3: true, Text: "Mild in both."}},
		},
	},
	{
		name:    "stop",
		request: `{"model":"detour-main","messages":[{"role":"user","content":"Greet the world."}],"stop":"world"}`,
		turns:   []turn{{reply: geminitest.Reply{Text: "Hello world and everyone."}}},
	},
	{
		name:    "max_tokens_hit",
		request: `{"model":"detour-main","messages":[{"role":"user","content":"Tell a long story."}],"max_tokens":3}`,
		turns:   []turn{{reply: geminitest.Reply{Text: "Once upon a time there was a gateway."}}},
	},
	{
		name:    "stream_max_tokens_hit",
		request: `{"model":"detour-main","stream":true,"messages":[{"role":"user","content":"Tell a long story."}],"max_completion_tokens":2}`,
		turns:   []turn{{reply: geminitest.Reply{Text: "Once upon a time."}}},
	},
	{
		name: "json_schema",
		request: `{"model":"detour-main","messages":[{"role":"user","content":"Describe a person."}],"response_format":{"type":"json_schema","json_schema":{"name":"person","strict":true,"schema":{
			"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object","additionalProperties":false,
			"$defs":{"Address":{"type":"object","properties":{"city":{"type":"string"},"zip":{"type":"string","format":"postal"}},"required":["city","zip"],"additionalProperties":false}},
			"properties":{"name":{"type":"string","minLength":1},"age":{"type":["integer","null"],"minimum":0},"role":{"const":"admin"},"tags":{"type":"array","items":{"type":"string"},"uniqueItems":true},
			"address":{"$ref":"#/$defs/Address","description":"Home"},"id":{"oneOf":[{"type":"string"},{"type":"integer"}]},"level":{"enum":[1,2,3]}},
			"required":["name","age","address","ghost"]}}}}`,
		turns: []turn{{reply: geminitest.Reply{Text: `{"name":"Ada","age":36}`}}},
	},
	{
		name:    "json_object",
		request: `{"model":"detour-main","messages":[{"role":"user","content":"A JSON greeting."}],"response_format":{"type":"json_object"}}`,
		turns:   []turn{{reply: geminitest.Reply{Text: `{"greeting":"hi"}`}}},
	},
	{
		name:    "reasoning",
		request: `{"model":"detour-main","messages":[{"role":"user","content":"Is 7 prime?"}]}`,
		turns:   []turn{{reply: geminitest.Reply{Thought: "Check divisors up to 2. None divide.", Text: "Yes.", CachedTokens: 3}}},
		opts:    func(o *gemini.Options) { o.IncludeThoughts = true },
	},
	{
		name:    "stream_reasoning",
		request: `{"model":"detour-main","stream":true,"messages":[{"role":"user","content":"Is 9 prime?"}]}`,
		turns:   []turn{{reply: geminitest.Reply{Thought: "3 divides 9.", Text: "No."}}},
		opts:    func(o *gemini.Options) { o.IncludeThoughts = true },
	},
	{
		name:    "n2",
		request: `{"model":"detour-main","messages":[{"role":"user","content":"Pick a word."}],"n":2}`,
		turns:   []turn{{reply: geminitest.Reply{Text: "Apple."}}},
	},
	{
		name:    "stream_n2",
		request: `{"model":"detour-main","stream":true,"messages":[{"role":"user","content":"Pick two words."}],"n":2}`,
		turns:   []turn{{reply: geminitest.Reply{Text: "Apple pie."}}},
	},
	{
		name:    "content_filter",
		request: `{"model":"detour-main","messages":[{"role":"user","content":"Something unsafe."}]}`,
		turns:   []turn{{reply: geminitest.Reply{StopReason: "SAFETY"}}},
	},
}

func TestGolden(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			var replies []geminitest.Reply
			for _, tr := range tc.turns {
				replies = append(replies, tr.reply)
			}
			up := geminitest.New(t, replies...)
			edits := []func(*gemini.Options){}
			if tc.opts != nil {
				edits = append(edits, tc.opts)
			}
			client := newClient(up.URL, edits...)
			req := providertest.ParseRequest(t, tc.request)
			for k, tr := range tc.turns {
				suffix := ""
				if len(tc.turns) > 1 {
					suffix = fmt.Sprintf("-turn%d", k+1)
				}
				var result any
				var msg chat.Message
				if req.Stream {
					s, err := client.Stream(context.Background(), req)
					if err != nil {
						t.Fatalf("turn %d: %v", k+1, err)
					}
					chunks, err := drain(t, s)
					if err != io.EOF {
						t.Fatalf("turn %d: stream ended with %v", k+1, err)
					}
					checkChunks(t, chunks, req)
					result, msg = chunks, assemble(chunks)
				} else {
					resp, err := client.Chat(context.Background(), req)
					if err != nil {
						t.Fatalf("turn %d: %v", k+1, err)
					}
					result, msg = resp, resp.Choices[0].Message
				}
				sent := up.Requests()[k]
				providertest.GoldenSorted(t, filepath.Join("testdata", "requests", tc.name+suffix+".json"), sent.Raw)
				got, err := json.Marshal(result)
				if err != nil {
					t.Fatal(err)
				}
				providertest.GoldenSorted(t, filepath.Join("testdata", "responses", tc.name+suffix+".json"), got)
				if k+1 < len(tc.turns) {
					req = nextTurn(t, req, msg, tr)
				}
			}
		})
	}
}

// nextTurn is req followed by the answer and the results of its calls.
func nextTurn(t *testing.T, req *chat.Request, answer chat.Message, tr turn) *chat.Request {
	t.Helper()
	next := *req
	next.Messages = append(append([]chat.Message(nil), req.Messages...), answer)
	if tr.dropExtra {
		last := &next.Messages[len(next.Messages)-1]
		calls := append([]chat.ToolCall(nil), last.ToolCalls...)
		for i := range calls {
			calls[i].Extra = nil
		}
		last.ToolCalls = calls
	}
	for _, call := range answer.ToolCalls {
		out, ok := tr.results[call.Function.Name]
		if !ok {
			t.Fatalf("no result for tool %q", call.Function.Name)
		}
		next.Messages = append(next.Messages, chat.Message{Role: "tool", ToolCallID: call.ID, Content: chat.TextContent(out)})
	}
	// Round-trip through JSON, as a client's next request would.
	b, err := json.Marshal(&next)
	if err != nil {
		t.Fatal(err)
	}
	return providertest.ParseRequest(t, string(b))
}

// checkChunks checks the invariants of an OpenAI stream.
func checkChunks(t *testing.T, chunks []*chat.Chunk, req *chat.Request) {
	t.Helper()
	if len(chunks) == 0 {
		t.Fatal("no chunks")
	}
	first := chunks[0]
	if len(first.Choices) != 1 || first.Choices[0].Delta.Role != "assistant" || first.HasContent() {
		t.Errorf("first chunk is not a bare role chunk: %+v", first)
	}
	for _, c := range chunks {
		if c.ID != first.ID || c.Created != first.Created || c.Model == "" || c.Object != "chat.completion.chunk" {
			t.Errorf("chunk header differs: %+v vs %+v", c, first)
		}
	}
	last := chunks[len(chunks)-1]
	wantUsage := req.StreamOptions != nil && req.StreamOptions.IncludeUsage
	if wantUsage {
		if last.Usage == nil || last.Choices == nil || len(last.Choices) != 0 {
			t.Errorf("last chunk is not a usage chunk: %+v", last)
		}
		last = chunks[len(chunks)-2]
	}
	if len(last.Choices) != 1 || last.Choices[0].FinishReason == "" || last.Choices[0].Delta.Content != "" || len(last.Choices[0].Delta.ToolCalls) > 0 {
		t.Errorf("chunk before the end is not a finish chunk: %+v", last)
	}
	for _, c := range chunks {
		if c.Usage != nil && c != chunks[len(chunks)-1] {
			t.Errorf("usage on a chunk before the last")
		}
	}
}
