package openai_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/detour-gateway/detour/router/provider"
	"github.com/detour-gateway/detour/router/provider/openai"
	"github.com/detour-gateway/detour/router/provider/providertest"
)

// fuzzClient answers every request with a 200 carrying body, through the
// real client and no network.
func fuzzClient(body []byte, contentType string) *openai.Client {
	return openai.New(openai.Options{
		Name: "openai", BaseURL: "http://openai.test/v1", Model: "gpt-4o",
		HTTPClient: &http.Client{Transport: providertest.RoundTripFunc(func(r *http.Request) (*http.Response, error) {
			return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {contentType}},
				Body: io.NopCloser(bytes.NewReader(body)), Request: r}, nil
		})},
	})
}

// checkFailure asserts that err is a classified failure a client may see,
// of an answer that arrived: not Local, a class from the closed set, a
// message that is not empty.
func checkFailure(t *testing.T, err error) *provider.Error {
	t.Helper()
	var pe *provider.Error
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v (%T), want *provider.Error", err, err)
	}
	if !slices.Contains(provider.Classes(), pe.Class) || pe.Message == "" || pe.Local {
		t.Fatalf("failure = %+v", pe)
	}
	return pe
}

// FuzzResponse feeds arbitrary bytes to the non-streamed answer parser as
// the body of a 200. It must never panic; a body it cannot use is a
// ServerError with status 200, and an answer it accepts has choices and
// survives re-encoding for the client and the cache.
func FuzzResponse(f *testing.F) {
	for _, s := range []string{
		// As OpenAI sends them (the fake's answers byte for byte).
		`{
  "id": "chatcmpl-fake123",
  "object": "chat.completion",
  "created": 1732345678,
  "model": "gpt-4o-2024-08-06",
  "choices": [
    {
      "index": 0,
      "message": {
        "role": "assistant",
        "content": "Hello from the fake upstream.",
        "refusal": null,
        "annotations": []
      },
      "logprobs": null,
      "finish_reason": "stop"
    }
  ],
  "usage": {"prompt_tokens":9,"completion_tokens":5,"total_tokens":14,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},
  "service_tier": "default",
  "system_fingerprint": "fp_fake"
}
`,
		`{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_fake0","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":9,"completion_tokens":5,"total_tokens":14}}`,
		// Compatible services: reasoning, several choices, no usage.
		`{"id":"x","object":"chat.completion","created":1,"model":"deepseek-reasoner","choices":[{"index":0,"message":{"role":"assistant","content":"4","reasoning_content":"2+2"},"finish_reason":"stop"},{"index":1,"message":{"role":"assistant","content":[{"type":"text","text":"four"}]},"finish_reason":"length"}]}`,
		`{"choices":[],"usage":null}`,
		`{"choices":[null],"id":null}`,
		`{"choices":null}`,
		`{"choices":{}}`,
		`{"error":{"message":"The server had an error while processing your request. Sorry about that!","type":"server_error","param":null,"code":null}}`,
		`{"id":"chatcmpl-1","choices":[{"index":0,"message":{"role":"assistant","content":"Hel`,
		`<html><body>502 Bad Gateway</body></html>`,
		`null`,
		``,
		"{\"choices\":[{\"message\":{\"content\":\"\xff\"},\"finish_reason\":\"\xfe\"}],\"x\xff\":1}",
	} {
		f.Add([]byte(s))
	}
	req := providertest.ParseRequest(f, `{"model":"g","messages":[{"role":"user","content":"hi"}]}`)
	f.Fuzz(func(t *testing.T, body []byte) {
		resp, err := fuzzClient(body, "application/json").Chat(context.Background(), req)
		if err != nil {
			if pe := checkFailure(t, err); pe.Class != provider.ServerError || pe.Status != http.StatusOK {
				t.Fatalf("a 200 body that does not decode gave %+v, want a server_error with status 200", pe)
			}
			return
		}
		if resp == nil || resp.Choices == nil {
			t.Fatalf("accepted answer %+v", resp)
		}
		enc, err := json.Marshal(resp)
		if err != nil {
			t.Fatalf("answer does not encode: %v", err)
		}
		var again struct{ Choices []json.RawMessage }
		if err := json.Unmarshal(enc, &again); err != nil || len(again.Choices) != len(resp.Choices) {
			t.Fatalf("encoded answer %s does not decode with its %d choices: %v", enc, len(resp.Choices), err)
		}
	})
}

// streamSeeds are event streams as OpenAI and compatible services send
// them, and the ways they break.
var streamSeeds = []string{
	// OpenAI, with include_usage: role, words, finish, usage, [DONE].
	"data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1732345678,\"model\":\"gpt-4o\",\"service_tier\":\"default\",\"system_fingerprint\":\"fp_fake\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\",\"refusal\":null},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n" +
		"data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1732345678,\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"one \"},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n" +
		"data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1732345678,\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"stop\"}],\"usage\":null}\n\n" +
		"data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1732345678,\"model\":\"gpt-4o\",\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":1,\"total_tokens\":10}}\n\n" +
		"data: [DONE]\n\n",
	// Tool calls in fragments.
	"data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"call_0\",\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"arguments\":\"\"}}]},\"finish_reason\":null}]}\n\n" +
		"data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{\\\"city\\\":\"}}]},\"finish_reason\":null}]}\n\n" +
		"data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n\n" +
		"data: [DONE]\n\n",
	// CRLF framing, comments, keep-alives, event names, ids, no space after the colon.
	": OPENROUTER PROCESSING\r\n\r\nid: 1\r\nevent: message\r\ndata:{\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"}}]}\r\n\r\ndata: [DONE]\r\n\r\n",
	// Ends after the finish chunk without [DONE].
	"data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"},\"finish_reason\":\"length\"}]}\n\n",
	// Cut mid-stream, cut inside an event, cut inside a line.
	"data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"}}]}\n\n",
	"data: {\"id\":\"c\",\"choices\":[]}\n",
	"data: {\"id\":\"c\",\"choi",
	// Errors inside a 200 stream (OpenRouter puts the status in code).
	"data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"}}]}\n\ndata: {\"error\":{\"message\":\"The server had an error while processing your request. Sorry about that!\",\"type\":\"server_error\",\"param\":null,\"code\":null}}\n\n",
	"data: {\"error\":{\"message\":\"Rate limit exceeded: free-models-per-day\",\"code\":429}}\n\n",
	"event: error\ndata: {\"error\":{\"message\":\"This model's maximum context length is 8192 tokens\",\"code\":\"context_length_exceeded\"}}\n\n",
	"event: error\ndata: not json\n\n",
	// Malformed and odd chunks.
	"data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\n\n",
	"data: {\"choices\":null}\n\ndata: null\n\ndata: {}\n\ndata: [DONE]\n\n",
	"data: {\"id\":\"c\",\n\ndata: [DONE]\n\n",
	"data: \n\n\n\ndata:    \n\nevent: ping\n\n: x\n\ndata: [DONE]\n\ndata: {\"after\":\"done\"}\n\n",
	"data: [DONE]",
	"data: [DONE]\n\n",
	"",
	"\n\n\n",
}

// FuzzStream feeds arbitrary bytes to the stream parser as the body of a
// 200 event stream. It must never panic and must end: Recv gives chunks,
// then io.EOF (again on every later call) or a classified failure with the
// stream's status, 200. A stream that ends cleanly said so, with [DONE] or
// a finish_reason; every chunk encodes for the client.
func FuzzStream(f *testing.F) {
	for _, s := range streamSeeds {
		f.Add([]byte(s))
	}
	req := providertest.ParseRequest(f, `{"model":"g","messages":[{"role":"user","content":"hi"}],"stream":true}`)
	f.Fuzz(func(t *testing.T, body []byte) {
		s, err := fuzzClient(body, "text/event-stream").Stream(context.Background(), req)
		if err != nil {
			t.Fatalf("Stream of a 200: %v", err)
		}
		defer s.Close()
		// An event takes at least a line and a blank line.
		limit := bytes.Count(body, []byte("\n"))/2 + 1
		finished := false
		for n := 0; ; n++ {
			if n > limit {
				t.Fatalf("stream of %d bytes gave more than %d chunks", len(body), limit)
			}
			c, err := s.Recv()
			if err == io.EOF {
				if !finished && !bytes.Contains(body, []byte("[DONE]")) {
					t.Fatalf("clean end without [DONE] or a finish_reason")
				}
				if c, err := s.Recv(); c != nil || err != io.EOF {
					t.Fatalf("Recv after the end = %v, %v; want io.EOF", c, err)
				}
				return
			}
			if err != nil {
				if pe := checkFailure(t, err); pe.Status != http.StatusOK {
					t.Fatalf("failure inside a 200 stream has status %d: %+v", pe.Status, pe)
				}
				return
			}
			if c == nil {
				t.Fatal("Recv returned neither a chunk nor an error")
			}
			for _, ch := range c.Choices {
				finished = finished || ch.FinishReason != ""
			}
			if _, err := json.Marshal(c); err != nil {
				t.Fatalf("chunk does not encode: %v", err)
			}
		}
	})
}

// FuzzClassify feeds arbitrary error answers (a status and a body) to
// Classify. It must never panic; every answer gets a class from the closed
// set and a message for the client, the status is kept, and a rejected key
// is reported in Detour's words, never the upstream's, which often quote
// part of the key.
func FuzzClassify(f *testing.F) {
	for _, s := range []struct {
		status int
		body   string
	}{
		{429, `{"error":{"message":"Rate limit reached for gpt-4o in organization org-fake on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in 20s. Visit https://platform.openai.com/account/rate-limits to learn more.","type":"requests","param":null,"code":"rate_limit_exceeded"}}`},
		{429, `{"error":{"message":"You exceeded your current quota, please check your plan and billing details.","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}`},
		{401, `{"error":{"message":"Incorrect API key provided: sk-fake-***********************1234. You can find your API key at https://platform.openai.com/account/api-keys.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}`},
		{400, `{"error":{"message":"This model's maximum context length is 128000 tokens. However, your messages resulted in 130542 tokens.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}`},
		{400, `{"error":{"message":"Your request was rejected as a result of our safety system.","type":"invalid_request_error","param":null,"code":"content_policy_violation"}}`},
		{400, `{"error":{"message":"Invalid value for 'temperature': must be between 0 and 2.","type":"invalid_request_error","param":"temperature","code":"invalid_value"}}`},
		{404, `{"error":{"message":"The model 'gpt-9' does not exist","type":"invalid_request_error","param":null,"code":"model_not_found"}}`},
		{413, `{"error":{"message":"Request too large","code":413}}`},
		{422, `{"detail":[{"loc":["body","messages"],"msg":"field required"}]}`},
		{500, `{"error":{"message":"The server had an error while processing your request. Sorry about that!","type":"server_error","param":null,"code":null}}`},
		{502, `<html>Bad Gateway</html>`},
		{503, `{"error":{"message":"The engine is currently overloaded, please try again later","type":"server_error"}}`},
		{504, ``},
		{408, `{"error":null}`},
		{400, `{"error":{"message":123,"code":{"a":1}}}`},
		{400, "{\"error\":{\"message\":\"\xff\xfe " + strings.Repeat("é", 400) + "\"}}"},
		{0, `{}`},
		{-1, `null`},
		{999, `[]`},
	} {
		f.Add(s.status, []byte(s.body))
	}
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	header := http.Header{"Retry-After": {"2"}}
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		pe := openai.Classify("openai", status, header, body, now)
		if pe == nil {
			t.Fatal("Classify returned nil")
		}
		checkFailure(t, pe)
		if pe.Status != status {
			t.Fatalf("status %d classified with status %d", status, pe.Status)
		}
		if pe.RetryAfter < 0 {
			t.Fatalf("retry after %v", pe.RetryAfter)
		}
		if pe.Class == provider.Auth {
			if plain := openai.Classify("openai", status, header, nil, now); pe.Message != plain.Message {
				t.Fatalf("auth failure message %q depends on the body; without one it is %q", pe.Message, plain.Message)
			}
		}
	})
}
