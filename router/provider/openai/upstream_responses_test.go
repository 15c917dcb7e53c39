package openai_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sdk "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/responses"

	"github.com/detour-gateway/detour/chat"
	"github.com/detour-gateway/detour/router/provider"
	"github.com/detour-gateway/detour/router/provider/openai"
	"github.com/detour-gateway/detour/router/provider/openai/openaitest"
	"github.com/detour-gateway/detour/router/provider/providertest"
)

// upstreamModel is the deployment's model, which replaces the client's.
const upstreamModel = "gpt-4o-2024-08-06"

// responsesClient is a client for an upstream at base that serves the
// Responses API when responses is set.
func responsesClient(base string, responses bool) *openai.Client {
	return openai.New(openai.Options{Name: "openai", BaseURL: base, Model: upstreamModel, Organization: "org-fake",
		Key: func(context.Context) (string, error) { return fakeKey, nil }, Responses: responses})
}

// clientBody is a Responses request as a client writes it, with its own
// spacing and member order and members Detour does not model, which must
// all reach the upstream as they are. %s is where a stream member goes.
const clientBody = `{ "model" : "main-llm",
  "input": [{"role": "user", "content": "Weather in Paris?"}],
  "instructions": "Be terse.",` + responsesTools + `,
  "prompt_cache_key": "k-1", "include": ["reasoning.encrypted_content"], "store": false%s }`

// nativeRequest is the canonical request the gateway makes of a Responses
// body: its translation, with the body as Native.
func nativeRequest(t *testing.T, body string) *chat.Request {
	t.Helper()
	rr, err := openai.DecodeResponsesRequest([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	req, err := rr.Chat(nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Native = &chat.Native{Dialect: chat.DialectResponses, Body: []byte(body)}
	return req
}

// upstreamAnswer is what a fresh fake answers body with for reply, read
// raw: the bytes the adapter must hand back.
func upstreamAnswer(t *testing.T, reply openaitest.Reply, body []byte) []byte {
	t.Helper()
	up := openaitest.New(t, reply)
	resp, err := http.Post(up.URL+"/responses", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// collectNative reads s to its end and returns the answer its chunks add
// up to, the chunks and their Native bytes joined.
func collectNative(t *testing.T, s provider.Stream) (*chat.Response, []*chat.Chunk, []byte, error) {
	t.Helper()
	defer s.Close()
	chunks, err := providertest.Collect(s)
	var a chat.Assembler
	var native []byte
	for _, c := range chunks {
		a.Add(c)
		native = append(native, c.Native...)
	}
	return a.Response(), chunks, native, err
}

// TestResponsesPassthrough sends a Responses client's request to an
// upstream that serves the API, whole and streamed: the upstream gets the
// client's bytes with only model and stream set, the client's answer is
// the upstream's bytes, and the translation beside them says what the
// gateway needs.
func TestResponsesPassthrough(t *testing.T) {
	getWeather := openaitest.ToolCall{Name: "get_weather", Arguments: `{"city":"Paris"}`}
	now := openaitest.ToolCall{Name: "now", Arguments: `{}`}
	tests := []struct {
		name    string
		reply   openaitest.Reply
		message string // the canonical message
		finish  chat.FinishReason
		usage   string
	}{
		{"text", openaitest.Reply{Text: "Sunny and mild."}, `{"role":"assistant","content":"Sunny and mild."}`, "stop",
			`{"prompt_tokens":9,"completion_tokens":3,"total_tokens":12,"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}}`},
		{"tool calls", openaitest.Reply{ToolCalls: []openaitest.ToolCall{getWeather, now}},
			`{"role":"assistant","content":null,"tool_calls":[
				{"id":"call_fake0","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},
				{"id":"call_fake1","type":"function","function":{"name":"now","arguments":"{}"}}]}`, "tool_calls",
			`{"prompt_tokens":9,"completion_tokens":6,"total_tokens":15,"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}}`},
		{"text and a tool call", openaitest.Reply{Text: "Let me check.", ToolCalls: []openaitest.ToolCall{getWeather}},
			`{"role":"assistant","content":"Let me check.","tool_calls":[
				{"id":"call_fake0","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]}`, "tool_calls",
			`{"prompt_tokens":9,"completion_tokens":8,"total_tokens":17,"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}}`},
		{"max_output_tokens", openaitest.Reply{Text: "Sunny and", FinishReason: "length"}, `{"role":"assistant","content":"Sunny and"}`, "length",
			`{"prompt_tokens":9,"completion_tokens":2,"total_tokens":11,"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}}`},
		{"content filter", openaitest.Reply{Text: "Sunny", FinishReason: "content_filter"}, `{"role":"assistant","content":"Sunny"}`, "content_filter",
			`{"prompt_tokens":9,"completion_tokens":1,"total_tokens":10,"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name+"/whole", func(t *testing.T) {
			body := strings.Replace(clientBody, "%s", "", 1)
			up := openaitest.New(t, tt.reply)
			resp, err := responsesClient(up.URL, true).Chat(context.Background(), nativeRequest(t, body))
			if err != nil {
				t.Fatal(err)
			}
			checkUpstreamRequest(t, up, strings.Replace(clientBody, "%s", "", 1), `,"stream":false`, "application/json")
			if resp.Native == nil || resp.Native.Dialect != chat.DialectResponses {
				t.Fatalf("Native = %+v", resp.Native)
			}
			if want := upstreamAnswer(t, tt.reply, up.Requests()[0].Raw); !bytes.Equal(resp.Native.Body, want) {
				t.Errorf("Native body:\n%s\nwant the upstream's:\n%s", resp.Native.Body, want)
			}
			if resp.ID != "chatcmpl-resp_fake1" || resp.Model != upstreamModel || resp.Created != 1732345678 || len(resp.Choices) != 1 {
				t.Fatalf("response = %+v", resp)
			}
			sameJSON(t, "message", resp.Choices[0].Message, tt.message)
			sameJSON(t, "usage", resp.Usage, tt.usage)
			if resp.Choices[0].FinishReason != tt.finish {
				t.Errorf("finish = %q, want %q", resp.Choices[0].FinishReason, tt.finish)
			}
		})
		t.Run(tt.name+"/stream", func(t *testing.T) {
			body := strings.Replace(clientBody, "%s", `, "stream": true`, 1)
			up := openaitest.New(t, tt.reply)
			s, err := responsesClient(up.URL, true).Stream(context.Background(), nativeRequest(t, body))
			if err != nil {
				t.Fatal(err)
			}
			resp, chunks, native, err := collectNative(t, s)
			if err != nil {
				t.Fatal(err)
			}
			checkUpstreamRequest(t, up, body, "", "text/event-stream")
			if want := upstreamAnswer(t, tt.reply, up.Requests()[0].Raw); !bytes.Equal(native, want) {
				t.Errorf("Native events:\n%s\nwant the upstream's:\n%s", native, want)
			}
			// The gateway tells a passed-through stream by its first chunk.
			if chunks[0].Native == nil || !bytes.HasPrefix(chunks[0].Native, []byte("event: response.created\n")) {
				t.Errorf("first chunk's Native = %q", chunks[0].Native)
			}
			last := chunks[len(chunks)-1]
			if last.Usage == nil || last.Native != nil || len(last.Choices) != 0 {
				t.Errorf("last chunk = %+v, want the usage alone", last)
			}
			finish := chunks[len(chunks)-2]
			if finish.Choices[0].FinishReason != tt.finish || !bytes.Contains(finish.Native, []byte("event: response.output_item.done\n")) {
				t.Errorf("finish chunk %+v with events %s", finish.Choices, finish.Native)
			}
			for i, c := range chunks {
				if c.ID != "chatcmpl-resp_fake1" || c.Model != upstreamModel || c.Object != "chat.completion.chunk" {
					t.Errorf("chunk %d = %+v", i, c)
				}
			}
			sameJSON(t, "message", resp.Choices[0].Message, tt.message)
			sameJSON(t, "usage", resp.Usage, tt.usage)
			if resp.Choices[0].FinishReason != tt.finish {
				t.Errorf("finish = %q, want %q", resp.Choices[0].FinishReason, tt.finish)
			}
		})
	}
}

// checkUpstreamRequest checks that the only request up received was the
// client's body, byte for byte, with the deployment's model and tail
// (a stream member) added before its closing brace, with the deployment's
// headers.
func checkUpstreamRequest(t *testing.T, up *openaitest.Server, body, tail, accept string) {
	t.Helper()
	reqs := up.Requests()
	if len(reqs) != 1 {
		t.Fatalf("upstream got %d requests", len(reqs))
	}
	got := reqs[0]
	want := strings.Replace(body, `"main-llm"`, `"`+upstreamModel+`"`, 1)
	want = want[:len(want)-1] + tail + "}"
	if got.Path != "/v1/responses" || string(got.Raw) != want {
		t.Errorf("upstream got %s\n%s\nwant\n%s", got.Path, got.Raw, want)
	}
	for h, v := range map[string]string{"Authorization": "Bearer " + fakeKey, "OpenAI-Organization": "org-fake", "Accept": accept} {
		if got.Header.Get(h) != v {
			t.Errorf("%s = %q, want %q", h, got.Header.Get(h), v)
		}
	}
}

// TestResponsesUpstreamStreams translates streams of every kind of item
// the adapter reads (text, parallel function calls, reasoning, custom
// tool calls and a namespace's calls interleaved), each file a stream in
// the API's format. The chunks' Native bytes are the file; what the chunks
// add up to is what the stream's final response translates to whole.
func TestResponsesUpstreamStreams(t *testing.T) {
	tests := []struct {
		file    string
		message string
		finish  chat.FinishReason
	}{
		{"stream_text.sse", `{"role":"assistant","content":"Hello!"}`, "stop"},
		{"stream_tool_call.sse", `{"role":"assistant","content":null,"tool_calls":[
			{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},
			{"id":"call_2","type":"function","function":{"name":"now","arguments":"{}"}}]}`, "tool_calls"},
		{"stream_reasoning.sse", `{"role":"assistant","content":"Done.","reasoning_content":"Thinking."}`, "stop"},
		// A namespace's function keeps its own name; a custom tool's
		// input is the input argument.
		{"stream_namespace_custom.sse", `{"role":"assistant","content":null,"reasoning_content":"Add the file, then ask a reviewer.","tool_calls":[
			{"id":"call_patch1","type":"function","function":{"name":"apply_patch","arguments":"{\"input\":\"*** Begin Patch\\n*** Add File: hello.txt\\n+hello\\n*** End Patch\\n\"}"}},
			{"id":"call_spawn1","type":"function","function":{"name":"spawn_agent","arguments":"{\"message\":\"Review hello.txt\",\"agent_type\":\"reviewer\"}"}},
			{"id":"call_send1","type":"function","function":{"name":"send_input","arguments":"{\"input\":\"agent_7\\nAlso check the trailing newline.\"}"}}]}`, "tool_calls"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			events, err := os.ReadFile(filepath.Join("testdata", "responses", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			final := finalResponse(t, events)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/v1/responses" {
					http.NotFound(w, r)
					return
				}
				if strings.Contains(r.Header.Get("Accept"), "text/event-stream") {
					w.Header().Set("Content-Type", "text/event-stream")
					w.Write(events)
					return
				}
				w.Header().Set("Content-Type", "application/json")
				w.Write(final)
			}))
			defer srv.Close()
			c := responsesClient(srv.URL+"/v1", true)
			body := `{"model":"main-llm","input":"Hi",` + responsesTools + `}`

			s, err := c.Stream(context.Background(), nativeRequest(t, `{"model":"main-llm","input":"Hi","stream":true,`+responsesTools+`}`))
			if err != nil {
				t.Fatal(err)
			}
			streamed, _, native, err := collectNative(t, s)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(native, events) {
				t.Errorf("Native events:\n%s\nwant the file's", native)
			}
			sameJSON(t, "streamed message", streamed.Choices[0].Message, tt.message)
			if streamed.Choices[0].FinishReason != tt.finish {
				t.Errorf("streamed finish = %q, want %q", streamed.Choices[0].FinishReason, tt.finish)
			}

			whole, err := c.Chat(context.Background(), nativeRequest(t, body))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(whole.Native.Body, final) {
				t.Errorf("Native body is not the upstream's")
			}
			sameJSON(t, "whole message", whole.Choices[0].Message, tt.message)
			if whole.Choices[0].FinishReason != tt.finish {
				t.Errorf("whole finish = %q, want %q", whole.Choices[0].FinishReason, tt.finish)
			}
			sameJSON(t, "usage", whole.Usage, string(mustJSON(t, streamed.Usage)))
		})
	}
}

// finalResponse is the response of the response.completed event of a
// stream.
func finalResponse(t *testing.T, events []byte) []byte {
	t.Helper()
	for _, line := range bytes.Split(events, []byte("\n")) {
		data, ok := bytes.CutPrefix(line, []byte(`data: {"type":"response.completed"`))
		if !ok {
			continue
		}
		var ev struct {
			Response json.RawMessage `json:"response"`
		}
		if err := json.Unmarshal(append([]byte(`{"type":"response.completed"`), data...), &ev); err != nil {
			t.Fatal(err)
		}
		return ev.Response
	}
	t.Fatal("no response.completed event")
	return nil
}

// TestResponsesUpstreamFaults: failures before the answer are classified
// as chat's are; a stream that breaks after content ends with the error,
// the content before it delivered.
func TestResponsesUpstreamFaults(t *testing.T) {
	tests := []struct {
		name       string
		reply      openaitest.Reply
		stream     bool
		class      provider.Class
		retryAfter time.Duration
		content    string // what a stream delivered before failing
	}{
		{"429", openaitest.RateLimited("2"), false, provider.RateLimited, 2 * time.Second, ""},
		{"429 stream", openaitest.RateLimited("2"), true, provider.RateLimited, 2 * time.Second, ""},
		{"quota", openaitest.Status(429, openaitest.QuotaBody), false, provider.QuotaExhausted, 0, ""},
		{"401", openaitest.Status(401, openaitest.AuthBody), false, provider.Auth, 0, ""},
		{"400 context", openaitest.Status(400, openaitest.ContextBody), true, provider.ContextWindowExceeded, 0, ""},
		{"400 param", openaitest.Status(400, openaitest.BadParamBody), false, provider.BadRequest, 0, ""},
		{"500", openaitest.Status(500, openaitest.ServerBody), false, provider.ServerError, 0, ""},
		{"503 stream", openaitest.Status(503, openaitest.OverloadBody), true, provider.ServerError, 0, ""},
		{"malformed answer", openaitest.Reply{Fault: openaitest.MalformedJSON}, false, provider.ServerError, 0, ""},
		{"malformed event", openaitest.Reply{Fault: openaitest.MalformedJSON}, true, provider.ServerError, 0, ""},
		{"reset mid-body", openaitest.Reply{Fault: openaitest.ResetMidBody}, false, provider.Connection, 0, ""},
		{"reset before events", openaitest.Reply{Fault: openaitest.ResetMidBody}, true, provider.Connection, 0, ""},
		{"cut mid-stream", openaitest.Reply{Text: "one two three", Fault: openaitest.CutMidStream}, true, provider.Connection, 0, "one "},
		{"response.failed mid-stream", openaitest.Reply{Text: "one two three", Fault: openaitest.ErrorEventMidStream}, true, provider.ServerError, 0, "one "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := openaitest.New(t, tt.reply)
			c := responsesClient(up.URL, true)
			var content strings.Builder
			var err error
			if tt.stream {
				var s provider.Stream
				if s, err = c.Stream(context.Background(), nativeRequest(t, `{"model":"m","input":"Hi","stream":true}`)); err == nil {
					var resp *chat.Response
					resp, _, _, err = collectNative(t, s)
					for _, ch := range resp.Choices {
						content.WriteString(ch.Message.Text())
					}
				}
			} else {
				_, err = c.Chat(context.Background(), nativeRequest(t, `{"model":"m","input":"Hi"}`))
			}
			var pe *provider.Error
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want *provider.Error", err)
			}
			if pe.Class != tt.class || pe.RetryAfter != tt.retryAfter {
				t.Errorf("class %s retry-after %v, want %s %v (%v)", pe.Class, pe.RetryAfter, tt.class, tt.retryAfter, err)
			}
			if content.String() != tt.content {
				t.Errorf("content before the failure = %q, want %q", content.String(), tt.content)
			}
			if strings.Contains(pe.Message, "sk-fake") || strings.Contains(pe.Message, "https://") {
				t.Errorf("client message leaks: %q", pe.Message)
			}
		})
	}
}

// TestResponsesUpstreamFailed: a response that failed, in a 200 answer or
// in a stream (response.failed, or an error event of either shape), is
// classified from its error code as an error body with that code would be.
func TestResponsesUpstreamFailed(t *testing.T) {
	const created = "event: response.created\n" +
		`data: {"type":"response.created","sequence_number":0,"response":{"id":"resp_1","object":"response","created_at":1,"status":"in_progress","model":"gpt-4o","output":[]}}` + "\n\n"
	failed := func(code, message string) string {
		return `{"id":"resp_1","object":"response","created_at":1,"status":"failed","model":"gpt-4o","output":[],` +
			`"error":{"code":` + code + `,"message":"` + message + `"},"usage":null}`
	}
	tests := []struct {
		name  string
		body  string // a whole answer, or a stream's events
		class provider.Class
	}{
		{"server_error", failed(`"server_error"`, "The server had an error."), provider.ServerError},
		{"no code", failed(`null`, ""), provider.ServerError},
		{"rate_limit_exceeded", failed(`"rate_limit_exceeded"`, "Slow down."), provider.RateLimited},
		{"invalid_prompt", failed(`"invalid_prompt"`, "Invalid prompt: your prompt was flagged as potentially violating our usage policy."), provider.ContentPolicy},
		{"bio_policy", failed(`"bio_policy"`, "Refused."), provider.ContentPolicy},
		{"image_too_large", failed(`"image_too_large"`, "The image is too large."), provider.BadRequest},
		{"vector_store_timeout", failed(`"vector_store_timeout"`, "Timed out."), provider.Timeout},
		{"unknown code", failed(`"something_new"`, "Hm."), provider.ServerError},
		{"stream response.failed", created + "event: response.failed\n" +
			`data: {"type":"response.failed","sequence_number":1,"response":` + failed(`"insufficient_quota"`, "You exceeded your current quota.") + "}\n\n",
			provider.QuotaExhausted},
		{"stream error event", created + "event: error\n" +
			`data: {"type":"error","sequence_number":1,"code":"rate_limit_exceeded","message":"Slow down.","param":null}` + "\n\n",
			provider.RateLimited},
		{"stream nested error event", "event: error\n" +
			`data: {"type":"error","sequence_number":0,"error":{"type":"invalid_request_error","code":"context_length_exceeded","message":"Your input exceeds the context window of this model.","param":"input"}}` + "\n\n",
			provider.ContextWindowExceeded},
		{"stream ends early", created, provider.Connection},
		{"stream event before response.created", "event: response.output_text.delta\n" +
			`data: {"type":"response.output_text.delta","sequence_number":0,"item_id":"msg_1","output_index":0,"content_index":0,"delta":"Hi"}` + "\n\n",
			provider.ServerError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stream := strings.HasPrefix(tt.body, "event:")
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				if stream {
					w.Header().Set("Content-Type", "text/event-stream")
				}
				io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			c := responsesClient(srv.URL+"/v1", true)
			var err error
			if stream {
				var s provider.Stream
				if s, err = c.Stream(context.Background(), nativeRequest(t, `{"model":"m","input":"Hi","stream":true}`)); err == nil {
					_, _, _, err = collectNative(t, s)
				}
			} else {
				_, err = c.Chat(context.Background(), nativeRequest(t, `{"model":"m","input":"Hi"}`))
			}
			pe := provider.AsError(err)
			if err == nil || pe.Class != tt.class {
				t.Fatalf("err = %v, want class %s", err, tt.class)
			}
			if pe.Status != http.StatusOK || pe.Message == "" {
				t.Errorf("status %d message %q", pe.Status, pe.Message)
			}
		})
	}
}

// TestResponsesUpstreamOff: without Options.Responses, for a request a
// client made in another dialect, and for Azure, requests go to chat
// completions, translated, as before.
func TestResponsesUpstreamOff(t *testing.T) {
	anthropicNative := func(t *testing.T, body string) *chat.Request {
		req := nativeRequest(t, body)
		req.Native.Dialect = chat.DialectAnthropic
		return req
	}
	plain := func(t *testing.T, body string) *chat.Request {
		req := nativeRequest(t, body)
		req.Native = nil
		return req
	}
	tests := []struct {
		name      string
		client    func(base string) *openai.Client
		request   func(*testing.T, string) *chat.Request
		path      string
		wantQuery bool
	}{
		{"option off", func(base string) *openai.Client { return responsesClient(base, false) }, nativeRequest, "/v1/chat/completions", false},
		{"no Native", func(base string) *openai.Client { return responsesClient(base, true) }, plain, "/v1/chat/completions", false},
		{"another dialect", func(base string) *openai.Client { return responsesClient(base, true) }, anthropicNative, "/v1/chat/completions", false},
		{"azure", func(base string) *openai.Client {
			return openai.NewAzure(openai.Options{BaseURL: strings.TrimSuffix(base, "/v1"), Model: "gpt-4o",
				Key: func(context.Context) (string, error) { return fakeKey, nil }, Responses: true}, "")
		}, nativeRequest, "/openai/deployments/gpt-4o/chat/completions", true},
	}
	for _, tt := range tests {
		for _, stream := range []bool{false, true} {
			name := tt.name
			if stream {
				name += "/stream"
			}
			t.Run(name, func(t *testing.T) {
				up := openaitest.New(t, openaitest.Reply{Text: "Hi there."})
				body := `{"model":"main-llm","input":"Hi"}`
				if stream {
					body = `{"model":"main-llm","input":"Hi","stream":true}`
				}
				c := tt.client(up.URL)
				var resp *chat.Response
				var err error
				if stream {
					var s provider.Stream
					if s, err = c.Stream(context.Background(), tt.request(t, body)); err == nil {
						var native []byte
						resp, _, native, err = collectNative(t, s)
						if len(native) != 0 {
							t.Errorf("chunks carry Native %q", native)
						}
					}
				} else if resp, err = c.Chat(context.Background(), tt.request(t, body)); err == nil && resp.Native != nil {
					t.Errorf("Native = %+v", resp.Native)
				}
				if err != nil {
					t.Fatal(err)
				}
				if resp.Choices[0].Message.Text() != "Hi there." {
					t.Errorf("answer = %+v", resp.Choices[0].Message)
				}
				got := up.Requests()[0]
				if got.Path != tt.path || got.Body["messages"] == nil || got.Body["input"] != nil {
					t.Errorf("upstream got %s %s, want the chat translation at %s", got.Path, got.Raw, tt.path)
				}
			})
		}
	}
}

// TestFakeResponsesWithSDK checks the fake's Responses API against the
// official OpenAI Go SDK, which must read its answers and events.
func TestFakeResponsesWithSDK(t *testing.T) {
	reply := openaitest.Reply{Text: "Sunny and mild.", ToolCalls: []openaitest.ToolCall{{Name: "get_weather", Arguments: `{"city":"Paris"}`}}}
	up := openaitest.New(t, reply)
	client := sdkClient(up.Server)
	params := responses.ResponseNewParams{Model: "gpt-4o", Input: responses.ResponseNewParamsInputUnion{OfString: sdk.String("Weather?")},
		Instructions: sdk.String("Be terse.")}

	resp, err := client.Responses.New(context.Background(), params)
	if err != nil {
		t.Fatal(err)
	}
	if resp.ID != "resp_fake1" || resp.Status != responses.ResponseStatusCompleted || resp.OutputText() != reply.Text ||
		len(resp.Output) != 2 || resp.Instructions.OfString != "Be terse." {
		t.Errorf("SDK read %s", resp.RawJSON())
	}
	if call := resp.Output[1].AsFunctionCall(); call.CallID != "call_fake0" || call.Name != "get_weather" || call.Arguments != `{"city":"Paris"}` {
		t.Errorf("function call = %+v", call)
	}
	if resp.Usage.InputTokens != 9 || resp.Usage.OutputTokens != 8 || resp.Usage.TotalTokens != 17 {
		t.Errorf("usage = %+v", resp.Usage)
	}

	stream := client.Responses.NewStreaming(context.Background(), params)
	var deltas, args strings.Builder
	var final responses.Response
	seq := int64(0)
	for stream.Next() {
		ev := stream.Current()
		if ev.SequenceNumber != seq {
			t.Errorf("%s has sequence_number %d, want %d", ev.Type, ev.SequenceNumber, seq)
		}
		seq++
		switch ev.Type {
		case "response.output_text.delta":
			deltas.WriteString(ev.AsResponseOutputTextDelta().Delta)
		case "response.function_call_arguments.delta":
			args.WriteString(ev.AsResponseFunctionCallArgumentsDelta().Delta)
		case "response.completed":
			final = ev.AsResponseCompleted().Response
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if deltas.String() != reply.Text || args.String() != `{"city":"Paris"}` || final.ID != "resp_fake2" || final.OutputText() != reply.Text ||
		final.Usage.TotalTokens != 17 {
		t.Errorf("deltas %q, arguments %q, final %s", deltas.String(), args.String(), final.RawJSON())
	}

	incomplete := openaitest.New(t, openaitest.Reply{Text: "Sunny", FinishReason: "length"})
	resp, err = sdkClient(incomplete.Server).Responses.New(context.Background(), params)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != responses.ResponseStatusIncomplete || resp.IncompleteDetails.Reason != "max_output_tokens" {
		t.Errorf("SDK read %s", resp.RawJSON())
	}
}

// TestFakeResponsesValidates: the fake refuses what the API refuses, a
// request without model or input, and takes members it does not know.
func TestFakeResponsesValidates(t *testing.T) {
	tests := []struct {
		body   string
		status int
		param  string
	}{
		{`{"input":"Hi"}`, 400, "model"},
		{`{"model":"","input":"Hi"}`, 400, "model"},
		{`{"model":7,"input":"Hi"}`, 400, "model"},
		{`{"model":"gpt-4o"}`, 400, "input"},
		{`{"model":"gpt-4o","input":null}`, 400, "input"},
		{`{"model":"gpt-4o","prompt":{"id":"pmpt_1"}}`, 200, ""},
		{`{"model":"gpt-4o","input":"Hi","a_member_from_next_year":{"x":1}}`, 200, ""},
		{`{"model":"gpt-4o","input":[{"role":"user","content":"Hi"}],"stream":false}`, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.body, func(t *testing.T) {
			up := openaitest.New(t)
			resp, err := http.Post(up.URL+"/responses", "application/json", strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var eb struct {
				Error struct {
					Type, Message string
					Param         *string
				}
			}
			json.NewDecoder(resp.Body).Decode(&eb)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d (%+v)", resp.StatusCode, tt.status, eb)
			}
			if tt.status != 200 && (eb.Error.Param == nil || *eb.Error.Param != tt.param || eb.Error.Type != "invalid_request_error") {
				t.Errorf("error = %+v, want param %q", eb.Error, tt.param)
			}
			if reqs := up.Requests(); len(reqs) != 1 || string(reqs[0].Raw) != tt.body || reqs[0].Path != "/v1/responses" {
				t.Errorf("recorded %+v", reqs)
			}
		})
	}
}

// TestResponsesUpstreamStall: a Responses stream that stalls after its
// first delta ends when the request's context does.
func TestResponsesUpstreamStall(t *testing.T) {
	up := openaitest.New(t, openaitest.Reply{Fault: openaitest.StallMidStream, Text: "one two"})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := responsesClient(up.URL, true).Stream(ctx, nativeRequest(t, `{"model":"m","input":"Hi","stream":true}`))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for range 2 { // role chunk, first word
		if _, err := s.Recv(); err != nil {
			t.Fatal(err)
		}
	}
	cancel()
	if _, err := s.Recv(); err == nil || err == io.EOF {
		t.Errorf("Recv after cancel = %v, want a failure", err)
	}
}

// FuzzResponsesStream feeds arbitrary bytes to the Responses stream parser
// as the body of a 200 event stream. It must never panic and must end:
// Recv gives chunks, then io.EOF (again on every later call) after a
// finish chunk, or a classified failure with the stream's status, 200.
// Every chunk encodes for the client, and the first carries the events
// before it.
func FuzzResponsesStream(f *testing.F) {
	for _, name := range []string{"stream_text.sse", "stream_tool_call.sse", "stream_reasoning.sse", "stream_namespace_custom.sse"} {
		b, err := os.ReadFile(filepath.Join("testdata", "responses", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("event: error\ndata: {\"type\":\"error\",\"code\":\"server_error\",\"message\":\"x\"}\n\n"))
	f.Add([]byte("data: {\"type\":\"response.created\",\"response\":{}}\n\ndata: {\"type\":\"response.output_item.added\",\"output_index\":0,\"item\":{\"type\":\"custom_tool_call\",\"call_id\":\"c\",\"name\":\"n\"}}\n\ndata: {\"type\":\"response.completed\",\"response\":{\"status\":\"completed\"}}\n\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		c := openai.New(openai.Options{Name: "openai", BaseURL: "http://openai.test/v1", Model: "gpt-4o", Responses: true,
			HTTPClient: &http.Client{Transport: providertest.RoundTripFunc(func(r *http.Request) (*http.Response, error) {
				return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"text/event-stream"}},
					Body: io.NopCloser(bytes.NewReader(body)), Request: r}, nil
			})}})
		req := &chat.Request{Model: "m", Stream: true, StreamOptions: &chat.StreamOptions{IncludeUsage: true},
			Native: &chat.Native{Dialect: chat.DialectResponses, Body: []byte(`{"model":"m","input":"Hi","stream":true}`)}}
		s, err := c.Stream(context.Background(), req)
		if err != nil {
			t.Fatalf("Stream of a 200: %v", err)
		}
		defer s.Close()
		limit := bytes.Count(body, []byte("\n")) + 3
		finished := false
		for n := 0; ; n++ {
			if n > limit {
				t.Fatalf("stream of %d bytes gave more than %d chunks", len(body), limit)
			}
			ch, err := s.Recv()
			if err == io.EOF {
				if !finished {
					t.Fatal("clean end without a finish chunk")
				}
				if ch, err := s.Recv(); ch != nil || err != io.EOF {
					t.Fatalf("Recv after the end = %v, %v; want io.EOF", ch, err)
				}
				return
			}
			if err != nil {
				if pe := checkFailure(t, err); pe.Status != http.StatusOK {
					t.Fatalf("failure inside a 200 stream has status %d: %+v", pe.Status, pe)
				}
				return
			}
			if n == 0 && len(ch.Native) == 0 {
				t.Fatal("the first chunk carries no events")
			}
			for _, choice := range ch.Choices {
				finished = finished || choice.FinishReason != ""
			}
			if _, err := json.Marshal(ch); err != nil {
				t.Fatalf("chunk does not encode: %v", err)
			}
		}
	})
}
