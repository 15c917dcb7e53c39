package openai_test

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
	"github.com/detour-gateway/detour/router/provider/openai"
	"github.com/detour-gateway/detour/router/provider/openai/openaitest"
	"github.com/detour-gateway/detour/router/provider/providertest"
)

const fakeKey = "test-key-not-real"

func newClient(base string) *openai.Client {
	return openai.New(openai.Options{
		Name: "openai", BaseURL: base, Model: "gpt-4o-2024-08-06",
		Key: func(context.Context) (string, error) { return fakeKey, nil },
	})
}

func request(stream bool) *chat.Request {
	var r chat.Request
	body := `{"model":"main-llm","messages":[{"role":"user","content":"hi"}],"temperature":0.2,"logit_bias":{"1":2},"stream_options":{"include_usage":true}}`
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		panic(err)
	}
	r.Stream = stream
	return &r
}

func TestChatPassesFieldsThrough(t *testing.T) {
	up := openaitest.New(t)
	resp, err := newClient(up.URL).Chat(context.Background(), request(false))
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.Choices[0].Message.Text(); got != "Hello from the fake upstream." {
		t.Errorf("content = %q", got)
	}
	if resp.Model != "gpt-4o-2024-08-06" || string(resp.Extra["system_fingerprint"]) != `"fp_fake"` {
		t.Errorf("response lost fields: model %q extra %v", resp.Model, resp.Extra)
	}
	req := up.Requests()[0]
	if req.Body["model"] != "gpt-4o-2024-08-06" || req.Body["logit_bias"] == nil || req.Body["temperature"] != 0.2 {
		t.Errorf("upstream got %s", req.Raw)
	}
	if _, ok := req.Body["stream_options"]; ok {
		t.Errorf("stream_options sent on a non-streamed request: %s", req.Raw)
	}
	if got := req.Header.Get("Authorization"); got != "Bearer "+fakeKey {
		t.Errorf("Authorization = %q", got)
	}
}

func TestStream(t *testing.T) {
	up := openaitest.New(t, openaitest.Reply{Text: "one two three"})
	s, err := newClient(up.URL).Stream(context.Background(), request(true))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var text strings.Builder
	var usage *chat.Usage
	for {
		c, err := s.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, ch := range c.Choices {
			text.WriteString(ch.Delta.Content)
		}
		if c.Usage != nil {
			usage = c.Usage
		}
	}
	if text.String() != "one two three" {
		t.Errorf("text = %q", text.String())
	}
	if usage == nil || usage.CompletionTokens != 3 {
		t.Errorf("usage = %+v", usage)
	}
	if so, _ := up.Requests()[0].Body["stream_options"].(map[string]any); so["include_usage"] != true {
		t.Errorf("stream_options not passed: %s", up.Requests()[0].Raw)
	}
}

func TestErrorClasses(t *testing.T) {
	tests := []struct {
		name       string
		reply      openaitest.Reply
		class      provider.Class
		retryAfter time.Duration
	}{
		{"429 retry-after", openaitest.RateLimited("2"), provider.RateLimited, 2 * time.Second},
		{"429 retry-after-ms", openaitest.Reply{Status: 429, Body: openaitest.RateLimitBody, Header: http.Header{"Retry-After-Ms": {"1500"}}}, provider.RateLimited, 1500 * time.Millisecond},
		{"insufficient_quota", openaitest.Status(429, openaitest.QuotaBody), provider.QuotaExhausted, 0},
		{"401", openaitest.Status(401, openaitest.AuthBody), provider.Auth, 0},
		{"403", openaitest.Status(403, `{"error":{"message":"Project does not have access to model","type":"invalid_request_error","param":null,"code":"model_not_found"}}`), provider.Auth, 0},
		{"404", openaitest.Status(404, `{"error":{"message":"The model 'gpt-9' does not exist","type":"invalid_request_error","param":null,"code":"model_not_found"}}`), provider.NotFound, 0},
		{"400 context", openaitest.Status(400, openaitest.ContextBody), provider.ContextWindowExceeded, 0},
		{"400 content policy", openaitest.Status(400, `{"error":{"message":"Your request was rejected as a result of our safety system.","type":"invalid_request_error","param":null,"code":"content_policy_violation"}}`), provider.ContentPolicy, 0},
		{"400 param", openaitest.Status(400, openaitest.BadParamBody), provider.BadRequest, 0},
		{"408", openaitest.Status(408, ""), provider.Timeout, 0},
		{"500", openaitest.Status(500, openaitest.ServerBody), provider.ServerError, 0},
		{"500 mentioning context", openaitest.Status(500, `{"error":{"message":"failed to compute the context length","type":"server_error","param":null,"code":null}}`), provider.ServerError, 0},
		{"502 html", openaitest.Status(502, "<html>Bad Gateway</html>"), provider.ServerError, 0},
		{"503", openaitest.Status(503, openaitest.OverloadBody), provider.ServerError, 0},
		{"504", openaitest.Status(504, ""), provider.Timeout, 0},
		{"malformed 200", openaitest.Reply{Fault: openaitest.MalformedJSON}, provider.ServerError, 0},
		{"reset mid-body", openaitest.Reply{Fault: openaitest.ResetMidBody}, provider.Connection, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := openaitest.New(t, tt.reply)
			_, err := newClient(up.URL).Chat(context.Background(), request(false))
			var pe *provider.Error
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want *provider.Error", err)
			}
			if pe.Class != tt.class || pe.RetryAfter != tt.retryAfter {
				t.Errorf("class %s retry-after %v, want %s %v (%v)", pe.Class, pe.RetryAfter, tt.class, tt.retryAfter, err)
			}
			if strings.Contains(pe.Message, "sk-fake") || strings.Contains(pe.Message, "https://") {
				t.Errorf("client message leaks: %q", pe.Message)
			}
		})
	}
}

func TestConnectionRefused(t *testing.T) {
	_, err := newClient("http://"+providertest.ClosedAddr(t)+"/v1").Chat(context.Background(), request(false))
	if pe := provider.AsError(err); pe.Class != provider.Connection {
		t.Errorf("class = %s, want connection (%v)", pe.Class, err)
	}
}

func TestSlowFirstByteTimesOut(t *testing.T) {
	up := openaitest.New(t, openaitest.Reply{Delay: time.Hour})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := newClient(up.URL).Chat(ctx, request(false))
	if pe := provider.AsError(err); pe.Class != provider.Timeout {
		t.Errorf("class = %s, want timeout (%v)", pe.Class, err)
	}
}

func TestStreamFaults(t *testing.T) {
	tests := []struct {
		name  string
		fault openaitest.Fault
		class provider.Class
	}{
		{"cut", openaitest.CutMidStream, provider.Connection},
		{"error event", openaitest.ErrorEventMidStream, provider.ServerError},
		{"malformed chunk", openaitest.MalformedJSON, provider.ServerError},
		{"reset before events", openaitest.ResetMidBody, provider.Connection},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := openaitest.New(t, openaitest.Reply{Fault: tt.fault, Text: "one two three"})
			s, err := newClient(up.URL).Stream(context.Background(), request(true))
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			for {
				_, err = s.Recv()
				if err != nil {
					break
				}
			}
			if err == io.EOF {
				t.Fatal("stream ended cleanly, want a failure")
			}
			if pe := provider.AsError(err); pe.Class != tt.class {
				t.Errorf("class = %s, want %s (%v)", pe.Class, tt.class, err)
			}
		})
	}
}

func TestStreamStallEndsWithContext(t *testing.T) {
	up := openaitest.New(t, openaitest.Reply{Fault: openaitest.StallMidStream, Text: "one two"})
	ctx, cancel := context.WithCancel(context.Background())
	s, err := newClient(up.URL).Stream(ctx, request(true))
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

func TestSanitizedUpstreamMessage(t *testing.T) {
	e := openai.Classify("openai", 400, http.Header{}, []byte(`{"error":{"message":"bad key sk-abcdef123456 at https://internal.example/v1/x"}}`), time.Now())
	if strings.Contains(e.Message, "sk-abcdef") || strings.Contains(e.Message, "internal.example") {
		t.Errorf("message not sanitized: %q", e.Message)
	}
}

func TestEmbed(t *testing.T) {
	up := openaitest.New(t)
	c := openai.New(openai.Options{Name: "openai", BaseURL: up.URL, Model: "text-embedding-3-small",
		Key: func(context.Context) (string, error) { return fakeKey, nil }})
	var req chat.EmbeddingRequest
	json.Unmarshal([]byte(`{"model":"emb","input":["ab","cde"],"encoding_format":"base64","dimensions":3}`), &req)
	resp, err := c.Embed(context.Background(), &req)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Data) != 2 || resp.Data[1].Embedding[0] != 3.5 || resp.Data[1].Index != 1 || resp.Usage.PromptTokens != 2 {
		t.Errorf("resp = %+v", resp)
	}
	got := up.Requests()[0].Body
	if got["encoding_format"] != "float" || got["model"] != "text-embedding-3-small" || got["dimensions"] != 3.0 {
		t.Errorf("upstream got %v; want floats asked for, the deployment's model, dimensions kept", got)
	}
}

func TestAzure(t *testing.T) {
	up := openaitest.New(t, openaitest.Reply{Text: "from azure"})
	c := openai.NewAzure(openai.Options{BaseURL: up.Server.URL, Model: "my-gpt4o",
		Key: func(context.Context) (string, error) { return fakeKey, nil }}, "")
	resp, err := c.Chat(context.Background(), request(false))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Choices[0].Message.Text() != "from azure" {
		t.Errorf("content = %q", resp.Choices[0].Message.Text())
	}
	got := up.Requests()[0]
	if got.Path != "/openai/deployments/my-gpt4o/chat/completions" || got.Query != "api-version="+openai.DefaultAzureAPIVersion {
		t.Errorf("path %s?%s", got.Path, got.Query)
	}
	if got.Header.Get("Api-Key") != fakeKey || got.Header.Get("Authorization") != "" {
		t.Errorf("auth headers: api-key %q, authorization %q", got.Header.Get("Api-Key"), got.Header.Get("Authorization"))
	}
	up.SetReplies(openaitest.RateLimited("3"), openaitest.Reply{})
	_, err = c.Chat(context.Background(), request(false))
	if pe := provider.AsError(err); pe.Class != provider.RateLimited || pe.RetryAfter != 3*time.Second || !strings.Contains(pe.Message, "Rate limit") {
		t.Errorf("err = %v, want the OpenAI adapter's classification", err)
	}
	emb, err := c.Embed(context.Background(), &chat.EmbeddingRequest{Input: json.RawMessage(`"x"`)})
	if err != nil || len(emb.Data) != 1 || up.Requests()[2].Path != "/openai/deployments/my-gpt4o/embeddings" {
		t.Errorf("embed = %+v, %v", emb, err)
	}
}

func TestToolCallsPassThrough(t *testing.T) {
	calls := []openaitest.ToolCall{{Name: "get_weather", Arguments: `{"city":"Paris"}`}}
	up := openaitest.New(t, openaitest.Reply{ToolCalls: calls})
	c := newClient(up.URL)
	resp, err := c.Chat(context.Background(), request(false))
	if err != nil {
		t.Fatal(err)
	}
	ch := resp.Choices[0]
	if ch.FinishReason != "tool_calls" || len(ch.Message.ToolCalls) != 1 || ch.Message.ToolCalls[0].Function.Arguments != `{"city":"Paris"}` ||
		string(ch.Message.Content) != "null" {
		t.Errorf("choice = %+v", ch)
	}
	s, err := c.Stream(context.Background(), request(true))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var name, args string
	var finish chat.FinishReason
	for {
		chunk, err := s.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, cc := range chunk.Choices {
			for _, tc := range cc.Delta.ToolCalls {
				name += tc.Function.Name
				args += tc.Function.Arguments
			}
			if cc.FinishReason != "" {
				finish = cc.FinishReason
			}
		}
	}
	if name != "get_weather" || args != `{"city":"Paris"}` || finish != "tool_calls" {
		t.Errorf("streamed %q(%s) finish %q", name, args, finish)
	}
}

func TestUnreachableIsMarked(t *testing.T) {
	_, err := newClient("http://"+openaitest.ClosedAddr(t)+"/v1").Chat(context.Background(), request(false))
	if pe := provider.AsError(err); !pe.Unreachable {
		t.Errorf("connection refused not marked unreachable: %+v", pe)
	}
	up := openaitest.New(t, openaitest.Reply{Fault: openaitest.ResetMidBody})
	_, err = newClient(up.URL).Chat(context.Background(), request(false))
	if pe := provider.AsError(err); pe.Unreachable {
		t.Errorf("a reset mid-body marked unreachable: %+v", pe)
	}
}

func TestProbe(t *testing.T) {
	up := openaitest.New(t, openaitest.Reply{}, openaitest.Status(503, openaitest.OverloadBody))
	c := newClient(up.URL)
	if err := c.Probe(context.Background()); err != nil {
		t.Fatalf("probe of a healthy upstream: %v", err)
	}
	got := up.Requests()[0]
	if got.Path != "/v1/models" || got.Header.Get("Authorization") != "Bearer "+fakeKey {
		t.Errorf("probe sent %s with auth %q", got.Path, got.Header.Get("Authorization"))
	}
	if pe := provider.AsError(c.Probe(context.Background())); pe.Class != provider.ServerError || pe.Status != 503 {
		t.Errorf("probe of an overloaded upstream = %v", pe)
	}
	az := openai.NewAzure(openai.Options{BaseURL: up.Server.URL, Model: "dep", Key: func(context.Context) (string, error) { return fakeKey, nil }}, "")
	up.SetReplies(openaitest.Reply{})
	if err := az.Probe(context.Background()); err != nil || up.Requests()[2].Path != "/openai/models" {
		t.Errorf("azure probe: %v at %s", err, up.Requests()[2].Path)
	}
}

func TestNoStreamOptions(t *testing.T) {
	up := openaitest.New(t, openaitest.Reply{Text: "a b"})
	c := openai.New(openai.Options{Name: "mistral", BaseURL: up.URL, Model: "mistral-large-latest", NoStreamOptions: true})
	s, err := c.Stream(context.Background(), request(true))
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, sent := up.Requests()[0].Body["stream_options"]; sent {
		t.Errorf("stream_options sent to a service that refuses it: %s", up.Requests()[0].Raw)
	}
}
