package anthropic_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/detour-gateway/detour/chat"
	"github.com/detour-gateway/detour/router/provider"
	"github.com/detour-gateway/detour/router/provider/anthropic"
	"github.com/detour-gateway/detour/router/provider/anthropic/anthropictest"
	"github.com/detour-gateway/detour/router/provider/providertest"
)

const (
	fakeKey  = "test-key-not-real"
	model    = "claude-sonnet-4-20250514"
	fakeTime = 1735689600 // 2025-01-01T00:00:00Z
)

func newClient(base string) *anthropic.Client {
	return newClientWith(anthropic.Options{BaseURL: base})
}

// newClientWith fills in the options a test leaves unset.
func newClientWith(o anthropic.Options) *anthropic.Client {
	if o.Model == "" {
		o.Model = model
	}
	if o.Key == nil {
		o.Key = func(context.Context) (string, error) { return fakeKey, nil }
	}
	o.Now = func() time.Time { return time.Unix(fakeTime, 0) }
	return anthropic.New(o)
}

const hello = `{"model":"main-llm","messages":[{"role":"user","content":"hi"}]}`

func TestChatHeaders(t *testing.T) {
	up := anthropictest.New(t)
	resp, err := newClient(up.URL).Chat(context.Background(), providertest.ParseRequest(t, hello))
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.Choices[0].Message.Text(); got != anthropictest.DefaultText {
		t.Errorf("content = %q", got)
	}
	h := up.Requests()[0].Header
	for name, want := range map[string]string{"x-api-key": fakeKey, "anthropic-version": "2023-06-01", "content-type": "application/json"} {
		if got := h.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if h.Get("Authorization") != "" {
		t.Errorf("Authorization sent: %q", h.Get("Authorization"))
	}
}

func TestNoEmbeddings(t *testing.T) {
	var p any = anthropic.New(anthropic.Options{})
	if _, ok := p.(provider.Embedder); ok {
		t.Error("Client implements provider.Embedder; Anthropic has no embeddings")
	}
}

func TestMaxTokens(t *testing.T) {
	tests := []struct {
		name      string
		fields    string
		maxOutput int
		want      float64
	}{
		{"default", ``, 0, anthropic.DefaultMaxTokens},
		{"deployment max", ``, 64000, 64000},
		{"max_tokens", `,"max_tokens":100`, 64000, 100},
		{"max_completion_tokens wins", `,"max_tokens":100,"max_completion_tokens":50`, 64000, 50},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := anthropictest.New(t)
			c := newClientWith(anthropic.Options{BaseURL: up.URL, MaxOutputTokens: tt.maxOutput})
			req := providertest.ParseRequest(t, `{"model":"m","messages":[{"role":"user","content":"hi"}]`+tt.fields+`}`)
			if _, err := c.Chat(context.Background(), req); err != nil {
				t.Fatal(err)
			}
			if got := up.Requests()[0].Body["max_tokens"]; got != tt.want {
				t.Errorf("max_tokens = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestDefaultBaseURL(t *testing.T) {
	var got string
	c := anthropic.New(anthropic.Options{Model: model, HTTPClient: &http.Client{Transport: providertest.RoundTripFunc(func(r *http.Request) (*http.Response, error) {
		got = r.URL.String()
		return nil, errors.New("no network in tests")
	})}})
	_, err := c.Chat(context.Background(), providertest.ParseRequest(t, hello))
	if got != "https://api.anthropic.com/v1/messages" {
		t.Errorf("posted to %q", got)
	}
	if pe := provider.AsError(err); pe.Class != provider.Connection || strings.Contains(pe.Message, "anthropic.com") {
		t.Errorf("err = %v (message %q)", err, pe.Message)
	}
}

// TestLocalBadRequests checks that requests Anthropic cannot take fail
// before anything is sent, with a message naming the field.
func TestLocalBadRequests(t *testing.T) {
	tests := []struct {
		name, body, field string
	}{
		{"tool arguments not JSON", `{"model":"m","messages":[{"role":"user","content":"hi"},
			{"role":"assistant","tool_calls":[{"id":"a","type":"function","function":{"name":"f","arguments":"{}"}},{"id":"b","type":"function","function":{"name":"f","arguments":"{city: Paris"}}]},
			{"role":"tool","tool_call_id":"a","content":"x"},{"role":"tool","tool_call_id":"b","content":"y"}]}`,
			"messages[1].tool_calls[1].function.arguments"},
		{"tool arguments not an object", `{"model":"m","messages":[{"role":"user","content":"hi"},
			{"role":"assistant","tool_calls":[{"id":"a","type":"function","function":{"name":"f","arguments":"[1,2]"}}]}]}`,
			"messages[1].tool_calls[0].function.arguments"},
		{"audio part", `{"model":"m","messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{"data":"AAAA","format":"wav"}}]}]}`,
			"messages[0].content[0]"},
		{"bmp data URL", `{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/bmp;base64,AAAA"}}]}]}`,
			"messages[0].content[0].image_url.url"},
		{"ftp image", `{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"ftp://host/x.png"}}]}]}`,
			"messages[0].content[0].image_url.url"},
		{"image in system", `{"model":"m","messages":[{"role":"system","content":[{"type":"image_url","image_url":{"url":"https://x.example/a.png"}}]},{"role":"user","content":"hi"}]}`,
			"messages[0].content[0]"},
		{"content not parts", `{"model":"m","messages":[{"role":"user","content":{"text":"hi"}}]}`, "messages[0]"},
		{"function role", `{"model":"m","messages":[{"role":"function","name":"f","content":"x"}]}`, "messages[0].role"},
		{"tool without id", `{"model":"m","messages":[{"role":"user","content":"hi"},{"role":"tool","content":"x"}]}`, "messages[1].tool_call_id"},
		{"only system", `{"model":"m","messages":[{"role":"system","content":"be nice"}]}`, "messages"},
		{"n=2", `{"model":"m","n":2,"messages":[{"role":"user","content":"hi"}]}`, "n:"},
		{"required without tools", `{"model":"m","tool_choice":"required","messages":[{"role":"user","content":"hi"}]}`, "tool_choice"},
		{"bad tool_choice", `{"model":"m","tool_choice":"sometimes","tools":[{"type":"function","function":{"name":"f"}}],"messages":[{"role":"user","content":"hi"}]}`, "tool_choice"},
		{"custom tool", `{"model":"m","tools":[{"type":"custom","custom":{"name":"f"}}],"messages":[{"role":"user","content":"hi"}]}`, "tools[0]"},
		{"schema not object", `{"model":"m","tools":[{"type":"function","function":{"name":"f","parameters":"x"}}],"messages":[{"role":"user","content":"hi"}]}`, "tools[0].function.parameters"},
		{"top_k not int", `{"model":"m","top_k":"many","messages":[{"role":"user","content":"hi"}]}`, "top_k"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := anthropictest.New(t)
			for _, stream := range []bool{false, true} {
				req := providertest.ParseRequest(t, tt.body)
				var err error
				if stream {
					_, err = newClient(up.URL).Stream(context.Background(), req)
				} else {
					_, err = newClient(up.URL).Chat(context.Background(), req)
				}
				var pe *provider.Error
				if !errors.As(err, &pe) {
					t.Fatalf("err = %v, want *provider.Error", err)
				}
				if pe.Class != provider.BadRequest || !pe.Local || !strings.Contains(pe.Message, tt.field) {
					t.Errorf("got %s local=%v %q; want a local bad_request naming %s", pe.Class, pe.Local, pe.Message, tt.field)
				}
			}
			if up.Count() != 0 {
				t.Errorf("%d requests sent upstream, want none", up.Count())
			}
		})
	}
}

func TestKeyError(t *testing.T) {
	up := anthropictest.New(t)
	c := newClientWith(anthropic.Options{BaseURL: up.URL, Key: func(context.Context) (string, error) {
		return "", errors.New("no key for anthropic in the keychain")
	}})
	_, err := c.Chat(context.Background(), providertest.ParseRequest(t, hello))
	var pe *provider.Error
	if !errors.As(err, &pe) || pe.Class != provider.Auth || !pe.Local {
		t.Fatalf("err = %#v, want a local auth error", err)
	}
	if up.Count() != 0 {
		t.Errorf("request sent without a key")
	}
}

func TestErrorClasses(t *testing.T) {
	tests := []struct {
		name       string
		reply      anthropictest.Reply
		key        string // "" means fakeKey; "none" sends no key
		class      provider.Class
		status     int
		retryAfter time.Duration
	}{
		{"429 retry-after", anthropictest.RateLimited("7"), "", provider.RateLimited, 429, 7 * time.Second},
		{"429 without retry-after", anthropictest.Status(429, anthropictest.RateLimitBody), "", provider.RateLimited, 429, 0},
		{"529 overloaded", anthropictest.Overloaded(), "", provider.ServerError, 529, 0},
		{"500 api_error", anthropictest.ServerError(), "", provider.ServerError, 500, 0},
		{"502 html", anthropictest.Status(502, "<html>Bad Gateway</html>"), "", provider.ServerError, 502, 0},
		{"401 invalid key", anthropictest.Unauthorized(), "", provider.Auth, 401, 0},
		{"401 missing key", anthropictest.Reply{}, "none", provider.Auth, 401, 0},
		{"403 permission", anthropictest.Forbidden(), "", provider.Auth, 403, 0},
		{"404 model", anthropictest.NotFound("claude-9"), "", provider.NotFound, 404, 0},
		{"400 prompt too long", anthropictest.PromptTooLong(), "", provider.ContextWindowExceeded, 400, 0},
		{"400 other", anthropictest.Status(400, anthropictest.BadTemperatureBody), "", provider.BadRequest, 400, 0},
		{"400 credit too low", anthropictest.CreditTooLow(), "", provider.QuotaExhausted, 400, 0},
		{"413 too large", anthropictest.TooLarge(), "", provider.BadRequest, 413, 0},
		{"408", anthropictest.Status(408, ""), "", provider.Timeout, 408, 0},
		{"504", anthropictest.Status(504, anthropictest.TimeoutBody), "", provider.Timeout, 504, 0},
		{"malformed 200", anthropictest.Reply{Fault: anthropictest.MalformedJSON}, "", provider.ServerError, 200, 0},
		{"reset mid-body", anthropictest.Reply{Fault: anthropictest.ResetMidBody}, "", provider.Connection, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := anthropictest.New(t, tt.reply)
			key := fakeKey
			if tt.key == "none" {
				key = ""
			}
			c := newClientWith(anthropic.Options{BaseURL: up.URL, Key: func(context.Context) (string, error) { return key, nil }})
			check := func(err error) {
				t.Helper()
				var pe *provider.Error
				if !errors.As(err, &pe) {
					t.Fatalf("err = %v, want *provider.Error", err)
				}
				if pe.Class != tt.class || pe.Status != tt.status || pe.RetryAfter != tt.retryAfter {
					t.Errorf("got %s status %d retry-after %v, want %s %d %v (%v)", pe.Class, pe.Status, pe.RetryAfter, tt.class, tt.status, tt.retryAfter, err)
				}
				if strings.Contains(pe.Message, fakeKey) || strings.Contains(pe.Message, "http://") ||
					strings.Contains(pe.Message, "https://") || strings.Contains(pe.Message, "127.0.0.1") {
					t.Errorf("client message leaks: %q", pe.Message)
				}
			}
			_, err := c.Chat(context.Background(), providertest.ParseRequest(t, hello))
			check(err)
			if tt.reply.Fault == anthropictest.NoFault { // the same failure before a stream starts
				s, err := c.Stream(context.Background(), providertest.ParseRequest(t, hello))
				if err == nil {
					s.Close()
				}
				check(err)
			}
		})
	}
}

func TestMidStreamErrorClasses(t *testing.T) {
	tests := []struct {
		errType string
		class   provider.Class
	}{
		{"overloaded_error", provider.ServerError},
		{"api_error", provider.ServerError},
		{"rate_limit_error", provider.RateLimited},
		{"invalid_request_error", provider.BadRequest},
		{"authentication_error", provider.Auth},
		{"brand_new_error", provider.ServerError},
	}
	for _, tt := range tests {
		t.Run(tt.errType, func(t *testing.T) {
			body := "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"m\",\"content\":[],\"usage\":{\"input_tokens\":1,\"output_tokens\":1}}}\n\n" +
				"event: error\ndata: " + anthropictest.ErrorBody(tt.errType, "went wrong, see https://status.example.com") + "\n\n"
			s := streamOf(t, body)
			_, err := providertest.Collect(s)
			var pe *provider.Error
			if !errors.As(err, &pe) || pe.Class != tt.class || pe.Status != http.StatusOK {
				t.Fatalf("err = %v, want %s with status 200", err, tt.class)
			}
			if strings.Contains(pe.Message, "https://") {
				t.Errorf("message leaks a URL: %q", pe.Message)
			}
		})
	}
}

// streamOf opens a stream whose 200 body is body.
func streamOf(t *testing.T, body string) provider.Stream {
	t.Helper()
	c := newClientWith(anthropic.Options{BaseURL: "http://upstream.invalid", HTTPClient: &http.Client{Transport: providertest.RoundTripFunc(func(r *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"text/event-stream"}},
			Body: io.NopCloser(strings.NewReader(body)), Request: r}, nil
	})}})
	s, err := c.Stream(context.Background(), providertest.ParseRequest(t, `{"model":"m","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestStreamEvents(t *testing.T) {
	const start = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-x\",\"content\":[],\"stop_reason\":null,\"usage\":{\"input_tokens\":10,\"cache_read_input_tokens\":5,\"output_tokens\":1}}}\n\n"
	body := start +
		"event: ping\ndata: {\"type\": \"ping\"}\n\n" +
		": a comment\n\n" +
		"event: brand_new_event\ndata: {\"type\":\"brand_new_event\",\"x\":1}\n\n" +
		"event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"redacted_thinking\",\"data\":\"abc\"}}\n\n" +
		"event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n" +
		"event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"now_utc\",\"input\":{}}}\n\n" +
		"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"\"}}\n\n" +
		"event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":1}\n\n" +
		"event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\",\"stop_sequence\":null},\"usage\":{\"input_tokens\":12,\"output_tokens\":9}}\n\n" +
		"event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"
	chunks, err := providertest.Collect(streamOf(t, body))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(chunks)
	want := `[{"id":"chatcmpl-msg_1","object":"chat.completion.chunk","created":1735689600,"model":"claude-x","choices":[{"index":0,"delta":{"role":"assistant"},"finish_reason":null}]},` +
		`{"id":"chatcmpl-msg_1","object":"chat.completion.chunk","created":1735689600,"model":"claude-x","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"toolu_1","type":"function","function":{"name":"now_utc","arguments":""}}]},"finish_reason":null}]},` +
		`{"id":"chatcmpl-msg_1","object":"chat.completion.chunk","created":1735689600,"model":"claude-x","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{}"}}]},"finish_reason":null}]},` +
		`{"id":"chatcmpl-msg_1","object":"chat.completion.chunk","created":1735689600,"model":"claude-x","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]},` +
		`{"id":"chatcmpl-msg_1","object":"chat.completion.chunk","created":1735689600,"model":"claude-x","choices":[],"usage":{"prompt_tokens":17,"completion_tokens":9,"total_tokens":26,"prompt_tokens_details":{"cached_tokens":5}}}]`
	if string(got) != want {
		t.Errorf("chunks:\n%s\nwant:\n%s", got, want)
	}
}

func TestStreamFaults(t *testing.T) {
	tests := []struct {
		name  string
		fault anthropictest.Fault
		class provider.Class
	}{
		{"cut", anthropictest.CutMidStream, provider.Connection},
		{"error event", anthropictest.ErrorEventMidStream, provider.ServerError},
		{"malformed event", anthropictest.MalformedJSON, provider.ServerError},
		{"reset before events", anthropictest.ResetMidBody, provider.Connection},
		{"no message_stop", anthropictest.EndWithoutStop, provider.Connection},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := anthropictest.New(t, anthropictest.Reply{Fault: tt.fault, Text: "one two three"})
			s, err := newClient(up.URL).Stream(context.Background(), providertest.ParseRequest(t, `{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}`))
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			_, err = providertest.Collect(s)
			if err == nil {
				t.Fatal("stream ended cleanly, want a failure")
			}
			if pe := provider.AsError(err); pe.Class != tt.class {
				t.Errorf("class = %s, want %s (%v)", pe.Class, tt.class, err)
			}
			if _, again := s.Recv(); again == nil || again == io.EOF {
				t.Errorf("Recv after the failure = %v, want the failure again", again)
			}
		})
	}
}

func TestStreamBeforeMessageStart(t *testing.T) {
	_, err := providertest.Collect(streamOf(t, "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"hi\"}}\n\n"))
	if pe := provider.AsError(err); pe.Class != provider.ServerError {
		t.Errorf("err = %v, want server_error", err)
	}
}

func TestStreamStallEndsWithContext(t *testing.T) {
	up := anthropictest.New(t, anthropictest.Reply{Fault: anthropictest.StallMidStream, Text: "one two"})
	ctx, cancel := context.WithCancel(context.Background())
	s, err := newClient(up.URL).Stream(ctx, providertest.ParseRequest(t, `{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}`))
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

func TestStreamDeadlineIsTimeout(t *testing.T) {
	up := anthropictest.New(t, anthropictest.Reply{Fault: anthropictest.StallMidStream, Text: "one two"})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	s, err := newClient(up.URL).Stream(ctx, providertest.ParseRequest(t, `{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, err = providertest.Collect(s)
	if pe := provider.AsError(err); pe.Class != provider.Timeout {
		t.Errorf("class = %s, want timeout (%v)", pe.Class, err)
	}
}

func TestCloseTwice(t *testing.T) {
	up := anthropictest.New(t)
	s, err := newClient(up.URL).Stream(context.Background(), providertest.ParseRequest(t, `{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
	if _, err := s.Recv(); err == nil || err == io.EOF {
		t.Errorf("Recv after Close = %v, want a failure", err)
	}
}

func TestConnectionRefused(t *testing.T) {
	_, err := newClient("http://"+providertest.ClosedAddr(t)).Chat(context.Background(), providertest.ParseRequest(t, hello))
	if pe := provider.AsError(err); pe.Class != provider.Connection {
		t.Errorf("class = %s, want connection (%v)", pe.Class, err)
	}
}

func TestSlowFirstByteTimesOut(t *testing.T) {
	up := anthropictest.New(t, anthropictest.Reply{Delay: time.Hour})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := newClient(up.URL).Chat(ctx, providertest.ParseRequest(t, hello))
	if pe := provider.AsError(err); pe.Class != provider.Timeout {
		t.Errorf("class = %s, want timeout (%v)", pe.Class, err)
	}
}

// TestToolRoundTrip answers a tool call, then sends its result back, as an
// agent would: the second request must satisfy the fake's pairing rules.
func TestToolRoundTrip(t *testing.T) {
	up := anthropictest.New(t,
		anthropictest.Reply{ToolCalls: []anthropictest.ToolCall{{Name: "get_weather", Args: `{"city":"Paris"}`}, {Name: "now_utc"}}},
		anthropictest.Reply{Text: "Sunny, noon."})
	c := newClient(up.URL)
	req := providertest.ParseRequest(t, `{"model":"m","messages":[{"role":"user","content":"Weather and time?"}],`+weatherTools+`}`)
	first, err := c.Chat(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	msg := first.Choices[0].Message
	if first.Choices[0].FinishReason != "tool_calls" || len(msg.ToolCalls) != 2 || string(msg.Content) != "null" {
		t.Fatalf("first answer = %+v", first.Choices[0])
	}
	req.Messages = append(req.Messages, msg)
	for _, tc := range msg.ToolCalls {
		req.Messages = append(req.Messages, chat.Message{Role: "tool", ToolCallID: tc.ID, Content: chat.TextContent("result of " + tc.Function.Name)})
	}
	second, err := c.Chat(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if got := second.Choices[0].Message.Text(); got != "Sunny, noon." {
		t.Errorf("second answer = %q", got)
	}

	// Leaving a result out is what the real API refuses.
	req.Messages = req.Messages[:len(req.Messages)-1]
	_, err = c.Chat(context.Background(), req)
	if pe := provider.AsError(err); pe.Class != provider.BadRequest || !strings.Contains(pe.Message, "without `tool_result` blocks") {
		t.Errorf("err = %v, want the upstream's bad_request", err)
	}
}

func TestClassifySanitizes(t *testing.T) {
	body := anthropictest.ErrorBody("invalid_request_error", "bad key sk-fakefakefake at https://internal.example/v1/x")
	e := anthropic.Classify("anthropic", 400, http.Header{}, []byte(body), time.Now())
	if strings.Contains(e.Message, "sk-fakefake") || strings.Contains(e.Message, "internal.example") {
		t.Errorf("message not sanitized: %q", e.Message)
	}
	if e.Class != provider.BadRequest {
		t.Errorf("class = %s", e.Class)
	}
}
