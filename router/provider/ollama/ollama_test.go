package ollama_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/detour-gateway/detour/chat"
	"github.com/detour-gateway/detour/router/provider"
	"github.com/detour-gateway/detour/router/provider/ollama"
	"github.com/detour-gateway/detour/router/provider/ollama/ollamatest"
	"github.com/detour-gateway/detour/router/provider/providertest"
)

const fakeKey = "test-key-not-real"

// now is the fixed clock of the tests: 2026-03-01 12:00:00 UTC.
var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func options(base string) ollama.Options {
	return ollama.Options{
		Name: "ollama", BaseURL: base, Model: "llama3.2",
		Now:  func() time.Time { return now },
		Rand: &providertest.CountingReader{},
	}
}

func newClient(base string) *ollama.Client { return ollama.New(options(base)) }

func hello(stream bool) *chat.Request {
	var r chat.Request
	if err := json.Unmarshal([]byte(`{"model":"local","messages":[{"role":"user","content":"hi"}],"stream_options":{"include_usage":true}}`), &r); err != nil {
		panic(err)
	}
	r.Stream = stream
	return &r
}

func asProviderError(t *testing.T, err error) *provider.Error {
	t.Helper()
	var pe *provider.Error
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v (%T), want *provider.Error", err, err)
	}
	return pe
}

func TestChat(t *testing.T) {
	up := ollamatest.New(t, ollamatest.Reply{Text: "one two three"})
	resp, err := newClient(up.URL).Chat(context.Background(), hello(false))
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.Choices[0].Message.Text(); got != "one two three" {
		t.Errorf("content = %q", got)
	}
	if resp.Model != "llama3.2" || resp.Object != "chat.completion" || resp.Created != now.Unix() ||
		!strings.HasPrefix(resp.ID, "chatcmpl-") || resp.Choices[0].FinishReason != "stop" {
		t.Errorf("response = %+v", resp)
	}
	if u := resp.Usage; u == nil || u.PromptTokens != 11 || u.CompletionTokens != 3 || u.TotalTokens != 14 {
		t.Errorf("usage = %+v", resp.Usage)
	}
	req := up.Requests()[0]
	if req.Path != "/api/chat" || req.Body["stream"] != false || req.Body["model"] != "llama3.2" {
		t.Errorf("upstream got %s %s", req.Path, req.Raw)
	}
	if got := req.Header.Get("Authorization"); got != "" {
		t.Errorf("Authorization = %q without a key", got)
	}
}

func TestModelIsTheOneOllamaReports(t *testing.T) {
	up := ollamatest.New(t, ollamatest.Reply{Model: "llama3.2:latest"})
	resp, err := newClient(up.URL).Chat(context.Background(), hello(false))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Model != "llama3.2:latest" {
		t.Errorf("model = %q", resp.Model)
	}
}

func TestKey(t *testing.T) {
	up := ollamatest.New(t)
	o := options(up.URL)
	o.Key = func(context.Context) (string, error) { return fakeKey, nil }
	if _, err := ollama.New(o).Chat(context.Background(), hello(false)); err != nil {
		t.Fatal(err)
	}
	if got := up.Requests()[0].Header.Get("Authorization"); got != "Bearer "+fakeKey {
		t.Errorf("Authorization = %q", got)
	}

	o.Key = func(context.Context) (string, error) { return "", nil }
	if _, err := ollama.New(o).Chat(context.Background(), hello(false)); err != nil {
		t.Fatal(err)
	}
	if got := up.Requests()[1].Header.Get("Authorization"); got != "" {
		t.Errorf("Authorization = %q for an empty key", got)
	}

	o.Key = func(context.Context) (string, error) { return "", errors.New("no key for ollama in the keychain") }
	_, err := ollama.New(o).Chat(context.Background(), hello(false))
	if pe := asProviderError(t, err); pe.Class != provider.Auth || !pe.Local {
		t.Errorf("key failure = %+v", pe)
	}
	_, err = ollama.New(o).Stream(context.Background(), hello(true))
	if pe := asProviderError(t, err); pe.Class != provider.Auth || !pe.Local {
		t.Errorf("key failure on Stream = %+v", pe)
	}
	if up.Count() != 2 {
		t.Errorf("a request was sent without its key")
	}
}

func ndjson(status int, body string) *http.Response {
	return &http.Response{StatusCode: status, Status: http.StatusText(status), Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{"Content-Type": {"application/x-ndjson"}}, Body: io.NopCloser(strings.NewReader(body))}
}

// The api client signs requests to ollama.com with ~/.ollama/id_ed25519;
// with an API key the adapter sends a Bearer header instead, to ollama.com
// itself, and no signature.
func TestOllamaComBearer(t *testing.T) {
	t.Setenv("HOME", t.TempDir()) // no key file to sign with
	var got *http.Request
	rt := providertest.RoundTripFunc(func(r *http.Request) (*http.Response, error) {
		got = r
		return ndjson(200, `{"model":"gpt-oss:120b","created_at":"2026-03-01T12:00:00Z","message":{"role":"assistant","content":"hi"},"done":true,"done_reason":"stop"}`), nil
	})
	o := options("https://ollama.com")
	o.Model = "gpt-oss:120b"
	o.HTTPClient = &http.Client{Transport: rt}
	o.Key = func(context.Context) (string, error) { return fakeKey, nil }
	if _, err := ollama.New(o).Chat(context.Background(), hello(false)); err != nil {
		t.Fatal(err)
	}
	if got.URL.String() != "https://ollama.com/api/chat" || got.Host != "" && got.Host != "ollama.com" {
		t.Errorf("sent to %s (Host %q)", got.URL, got.Host)
	}
	if a := got.Header.Get("Authorization"); a != "Bearer "+fakeKey {
		t.Errorf("Authorization = %q", a)
	}
}

func TestKeyNotSentToOtherHosts(t *testing.T) {
	other := ollamatest.New(t)
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer redirect.Close()
	o := options(redirect.URL)
	o.Key = func(context.Context) (string, error) { return fakeKey, nil }
	if _, err := ollama.New(o).Chat(context.Background(), hello(false)); err != nil {
		t.Fatal(err)
	}
	if a := other.Requests()[0].Header.Get("Authorization"); a != "" {
		t.Errorf("key sent to the redirect's host: %q", a)
	}
}

func TestParseHost(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "http://127.0.0.1:11434"},
		{"127.0.0.1:11434", "http://127.0.0.1:11434"},
		{"0.0.0.0", "http://127.0.0.1:11434"},
		{"0.0.0.0:8080", "http://127.0.0.1:8080"},
		{":11435", "http://127.0.0.1:11435"},
		{"[::]:11434", "http://[::1]:11434"},
		{"::1", "http://[::1]:11434"},
		{"localhost", "http://localhost:11434"},
		{"gpu-box.lan:11434", "http://gpu-box.lan:11434"},
		{"http://gpu-box.lan", "http://gpu-box.lan"},
		{"https://gpu-box.lan/ollama/", "https://gpu-box.lan/ollama"},
		{"http://127.0.0.1:11434/", "http://127.0.0.1:11434"},
		{"HTTP://[::1]", "http://[::1]"},
		{"ollama.com", "https://ollama.com"},
		{"https://ollama.com", "https://ollama.com"},
		{"  http://example.test:9000  ", "http://example.test:9000"},
	}
	for _, tt := range tests {
		u, err := ollama.ParseHost(tt.in)
		if err != nil || u.String() != tt.want {
			t.Errorf("ParseHost(%q) = %v, %v; want %s", tt.in, u, err, tt.want)
		}
	}
	for _, bad := range []string{"ftp://host", "host:99999", "host:port", "http://user@host", "http://host?x=1"} {
		if u, err := ollama.ParseHost(bad); err == nil {
			t.Errorf("ParseHost(%q) = %v, want an error", bad, u)
		}
	}
}

func TestInvalidBaseURL(t *testing.T) {
	_, err := newClient("ftp://nowhere").Chat(context.Background(), hello(false))
	if pe := asProviderError(t, err); pe.Class != provider.BadRequest || !pe.Local || strings.Contains(pe.Message, "nowhere") {
		t.Errorf("err = %+v", pe)
	}
}

func TestOptionsMapping(t *testing.T) {
	up := ollamatest.New(t)
	o := options(up.URL)
	o.NumCtx = 8192
	req := providertest.ParseRequest(t, `{"model":"m","messages":[{"role":"user","content":"hi"}],
		"temperature":0.5,"top_p":0.9,"max_tokens":100,"max_completion_tokens":50,"stop":"END","seed":42,
		"frequency_penalty":0.1,"presence_penalty":null,"logit_bias":{"1":2},"user":"u-1","reasoning_effort":"low",
		"response_format":{"type":"json_object"},"tool_choice":"none",
		"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object","properties":{}}}}]}`)
	if _, err := ollama.New(o).Chat(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	body := up.Requests()[0].Body
	want := map[string]any{"temperature": 0.5, "top_p": 0.9, "num_predict": 50.0, "stop": []any{"END"},
		"seed": 42.0, "frequency_penalty": 0.1, "num_ctx": 8192.0}
	gotJSON, _ := json.Marshal(body["options"])
	wantJSON, _ := json.Marshal(want)
	if string(gotJSON) != string(wantJSON) {
		t.Errorf("options = %s, want %s", gotJSON, wantJSON)
	}
	if body["format"] != "json" {
		t.Errorf("format = %v", body["format"])
	}
	for _, k := range []string{"tools", "logit_bias", "user", "reasoning_effort", "think", "tool_choice"} {
		if _, ok := body[k]; ok {
			t.Errorf("%s sent: %s", k, up.Requests()[0].Raw)
		}
	}
}

func TestLocalBadRequests(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{"tool arguments not JSON", `{"messages":[{"role":"user","content":"x"},{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"f","arguments":"{not json"}}]}]}`,
			"messages[1].tool_calls[0].function.arguments"},
		{"tool arguments an array", `{"messages":[{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"[1]"}}]}]}`,
			"messages[0].tool_calls[0].function.arguments"},
		{"http image", `{"messages":[{"role":"user","content":[{"type":"text","text":"what"},{"type":"image_url","image_url":{"url":"https://example.test/cat.png"}}]}]}`,
			"messages[0].content[1].image_url"},
		{"bad base64 image", `{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,!!!"}}]}]}`,
			"messages[0].content[0].image_url"},
		{"audio part", `{"messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{"data":"AAAA","format":"wav"}}]}]}`,
			`messages[0].content[0]: content part type "input_audio"`},
		{"unknown role", `{"messages":[{"role":"function","content":"x"}]}`, "messages[0].role"},
		{"n=2", `{"messages":[{"role":"user","content":"x"}],"n":2}`, "n:"},
		{"max_tokens 0", `{"messages":[{"role":"user","content":"x"}],"max_tokens":0}`, "max_tokens"},
		{"response_format", `{"messages":[{"role":"user","content":"x"}],"response_format":{"type":"xml"}}`, "response_format.type"},
		{"json_schema without schema", `{"messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_schema","json_schema":{"name":"x"}}}`, "response_format.json_schema.schema"},
		{"custom tool", `{"messages":[{"role":"user","content":"x"}],"tools":[{"type":"custom","custom":{"name":"x"}}]}`, "tools[0]"},
		{"tool parameters", `{"messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object","properties":{"a":{"type":7}}}}}]}`, "tools[0].function.parameters"},
		{"penalty not a number", `{"messages":[{"role":"user","content":"x"}],"presence_penalty":"high"}`, "presence_penalty"},
	}
	up := ollamatest.New(t)
	c := newClient(up.URL)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, stream := range []bool{false, true} {
				req := providertest.ParseRequest(t, tt.body)
				var err error
				if stream {
					_, err = c.Stream(context.Background(), req)
				} else {
					_, err = c.Chat(context.Background(), req)
				}
				pe := asProviderError(t, err)
				if pe.Class != provider.BadRequest || !pe.Local || !strings.Contains(pe.Message, tt.want) {
					t.Errorf("stream=%v: %+v, want a local bad request naming %q", stream, pe, tt.want)
				}
			}
		})
	}
	if up.Count() != 0 {
		t.Errorf("%d requests sent", up.Count())
	}
}

// TestErrorClasses drives every failure through the fake and the real api
// client, non-streamed and streamed.
func TestErrorClasses(t *testing.T) {
	tests := []struct {
		name       string
		model      string // default llama3.2
		reply      ollamatest.Reply
		class      provider.Class
		status     int
		retryAfter time.Duration
		message    string // a part of the client message
	}{
		{"model not pulled", "mistral", ollamatest.Reply{}, provider.NotFound, 404, 0, "`ollama pull mistral`"},
		{"model not found, try pulling", "", ollamatest.ModelNotFound("llama3.2"), provider.NotFound, 404, 0, "`ollama pull llama3.2`"},
		{"model is required", "-", ollamatest.Reply{}, provider.BadRequest, 400, 0, "model is required"},
		{"context length", "", ollamatest.ContextTooLong(), provider.ContextWindowExceeded, 400, 0, "context length"},
		{"no tool support", "", ollamatest.NoToolSupport("llama3.2"), provider.BadRequest, 400, 0, "does not support tools"},
		{"400 other", "", ollamatest.Error(400, "invalid format"), provider.BadRequest, 400, 0, "invalid format"},
		{"401", "", ollamatest.Unauthorized(), provider.Auth, 401, 0, "detour keys set ollama"},
		{"403", "", ollamatest.Forbidden(), provider.Auth, 403, 0, "unauthorized"},
		{"429 retry-after", "", ollamatest.RateLimited("3"), provider.RateLimited, 429, 3 * time.Second, "too many requests"},
		{"429 usage limit", "", ollamatest.UsageLimit(), provider.QuotaExhausted, 429, 0, "usage limit"},
		{"500 runner", "", ollamatest.RunnerFailed(), provider.ServerError, 500, 0, "runner"},
		{"502 html", "", ollamatest.Status(502, "<html><body>Bad Gateway</body></html>"), provider.ServerError, 502, 0, "HTTP 502"},
		{"503 busy", "", ollamatest.Busy(), provider.ServerError, 503, 0, "server busy"},
		{"504", "", ollamatest.Status(504, "upstream timed out"), provider.Timeout, 504, 0, ""},
		{"408", "", ollamatest.Status(408, ""), provider.Timeout, 408, 0, ""},
		{"499 canceled", "", ollamatest.Error(499, "request canceled"), provider.Connection, 499, 0, ""},
	}
	for _, tt := range tests {
		for _, stream := range []bool{false, true} {
			name := tt.name
			if stream {
				name += " stream"
			}
			t.Run(name, func(t *testing.T) {
				up := ollamatest.New(t, tt.reply)
				o := options(up.URL)
				switch tt.model {
				case "":
				case "-":
					o.Model = ""
				default:
					o.Model = tt.model
				}
				c := ollama.New(o)
				var err error
				if stream {
					_, err = c.Stream(context.Background(), hello(true))
				} else {
					_, err = c.Chat(context.Background(), hello(false))
				}
				pe := asProviderError(t, err)
				if pe.Class != tt.class || pe.Status != tt.status || pe.RetryAfter != tt.retryAfter || pe.Local {
					t.Errorf("got %s status %d retry-after %v local %v, want %s %d %v (%v)",
						pe.Class, pe.Status, pe.RetryAfter, pe.Local, tt.class, tt.status, tt.retryAfter, err)
				}
				if !strings.Contains(pe.Message, tt.message) {
					t.Errorf("message %q does not say %q", pe.Message, tt.message)
				}
				if strings.Contains(pe.Message, "://") || strings.Contains(pe.Message, "127.0.0.1") ||
					strings.Contains(pe.Message, fakeKey) || strings.Contains(pe.Message, "<html") {
					t.Errorf("client message leaks: %q", pe.Message)
				}
			})
		}
	}
}

func TestAnswerFaults(t *testing.T) {
	tests := []struct {
		name  string
		reply ollamatest.Reply
		class provider.Class
	}{
		{"malformed 200", ollamatest.Reply{Fault: ollamatest.MalformedJSON}, provider.ServerError},
		{"reset mid-body", ollamatest.Reply{Fault: ollamatest.ResetMidBody}, provider.Connection},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := ollamatest.New(t, tt.reply)
			_, err := newClient(up.URL).Chat(context.Background(), hello(false))
			if pe := asProviderError(t, err); pe.Class != tt.class {
				t.Errorf("class = %s, want %s (%v)", pe.Class, tt.class, err)
			}
		})
	}
}

// An error status with no body: the api client reports nothing for it.
func TestErrorStatusWithoutBody(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "7")
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	c := newClient(srv.URL)
	_, err := c.Chat(context.Background(), hello(false))
	if pe := asProviderError(t, err); pe.Class != provider.ServerError || pe.Status != 503 || pe.RetryAfter != 7*time.Second {
		t.Errorf("Chat: %+v", pe)
	}
	_, err = c.Stream(context.Background(), hello(true))
	if pe := asProviderError(t, err); pe.Class != provider.ServerError || pe.Status != 503 || pe.RetryAfter != 7*time.Second {
		t.Errorf("Stream: %+v", pe)
	}
}

func TestEmptyAnswer(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	_, err := newClient(srv.URL).Chat(context.Background(), hello(false))
	if pe := asProviderError(t, err); pe.Class != provider.ServerError {
		t.Errorf("class = %s (%v)", pe.Class, err)
	}
}

func TestConnectionRefused(t *testing.T) {
	c := newClient("http://" + providertest.ClosedAddr(t))
	_, err := c.Chat(context.Background(), hello(false))
	if pe := asProviderError(t, err); pe.Class != provider.Connection || pe.Message != "could not connect to the provider" {
		t.Errorf("Chat: %+v", pe)
	}
	var op *net.OpError
	if !errors.As(err, &op) || op.Op != "dial" {
		t.Errorf("the dial error is lost: %v", err)
	}
	_, err = c.Stream(context.Background(), hello(true))
	if pe := asProviderError(t, err); pe.Class != provider.Connection {
		t.Errorf("Stream: %+v", pe)
	}
	if err := c.Ping(context.Background()); asProviderError(t, err).Class != provider.Connection {
		t.Errorf("Ping: %v", err)
	}
	if _, err := c.List(context.Background()); asProviderError(t, err).Class != provider.Connection {
		t.Errorf("List: %v", err)
	}
}

func TestDNSFailure(t *testing.T) {
	o := options("http://ollama.test:11434")
	o.HTTPClient = &http.Client{Transport: providertest.RoundTripFunc(func(r *http.Request) (*http.Response, error) {
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: "ollama.test", IsNotFound: true}}
	})}
	_, err := ollama.New(o).Chat(context.Background(), hello(false))
	var dns *net.DNSError
	if pe := asProviderError(t, err); pe.Class != provider.Connection || !errors.As(err, &dns) {
		t.Errorf("err = %+v", pe)
	}
}

func TestSlowFirstByteTimesOut(t *testing.T) {
	up := ollamatest.New(t, ollamatest.Reply{Delay: time.Hour})
	for _, stream := range []bool{false, true} {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		var err error
		if stream {
			_, err = newClient(up.URL).Stream(ctx, hello(true))
		} else {
			_, err = newClient(up.URL).Chat(ctx, hello(false))
		}
		cancel()
		if pe := asProviderError(t, err); pe.Class != provider.Timeout {
			t.Errorf("stream=%v: class = %s, want timeout (%v)", stream, pe.Class, err)
		}
	}
}

func TestStream(t *testing.T) {
	up := ollamatest.New(t, ollamatest.Reply{Text: "one two three", Thinking: "hmm ok"})
	s, err := newClient(up.URL).Stream(context.Background(), hello(true))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	chunks, err := providertest.Collect(s)
	if err != nil {
		t.Fatal(err)
	}
	var text, reasoning strings.Builder
	for i, c := range chunks {
		if c.ID != chunks[0].ID || c.Created != now.Unix() || c.Model != "llama3.2" || c.Object != "chat.completion.chunk" {
			t.Errorf("chunk %d = %+v", i, c)
		}
		for _, ch := range c.Choices {
			text.WriteString(ch.Delta.Content)
			reasoning.WriteString(ch.Delta.ReasoningContent)
		}
	}
	if chunks[0].Choices[0].Delta.Role != "assistant" {
		t.Errorf("first chunk = %+v", chunks[0])
	}
	if text.String() != "one two three" || reasoning.String() != "hmm ok" {
		t.Errorf("text %q reasoning %q", text.String(), reasoning.String())
	}
	last := chunks[len(chunks)-1]
	if last.Choices == nil || len(last.Choices) != 0 || last.Usage == nil || last.Usage.CompletionTokens != 5 {
		t.Errorf("usage chunk = %+v", last)
	}
	if fin := chunks[len(chunks)-2]; fin.Choices[0].FinishReason != "stop" {
		t.Errorf("finish chunk = %+v", fin)
	}
	if _, err := s.Recv(); err != io.EOF {
		t.Errorf("Recv after the end = %v", err)
	}
	if up.Requests()[0].Body["stream"] != true {
		t.Errorf("stream not asked for: %s", up.Requests()[0].Raw)
	}
}

func TestStreamWithoutUsage(t *testing.T) {
	up := ollamatest.New(t)
	req := hello(true)
	req.StreamOptions = nil
	s, err := newClient(up.URL).Stream(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	chunks, err := providertest.Collect(s)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range chunks {
		if c.Usage != nil {
			t.Errorf("usage chunk without include_usage: %+v", c)
		}
	}
	if chunks[len(chunks)-1].Choices[0].FinishReason != "stop" {
		t.Errorf("last chunk = %+v", chunks[len(chunks)-1])
	}
}

func TestStreamFaults(t *testing.T) {
	tests := []struct {
		name    string
		fault   ollamatest.Fault
		class   provider.Class
		message string
	}{
		{"cut", ollamatest.CutMidStream, provider.Connection, "ended before the answer was complete"},
		{"error line", ollamatest.ErrorLineMidStream, provider.ServerError, "an error was encountered while running the model"},
		{"malformed line", ollamatest.MalformedJSON, provider.ServerError, "malformed"},
		{"reset before lines", ollamatest.ResetMidBody, provider.Connection, "ended before the answer was complete"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := ollamatest.New(t, ollamatest.Reply{Fault: tt.fault, Text: "one two three"})
			s, err := newClient(up.URL).Stream(context.Background(), hello(true))
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			chunks, err := providertest.Collect(s)
			if err == nil {
				t.Fatal("stream ended cleanly, want a failure")
			}
			pe := asProviderError(t, err)
			if pe.Class != tt.class || pe.Status != 200 || !strings.Contains(pe.Message, tt.message) {
				t.Errorf("got %s %d %q, want %s 200 %q", pe.Class, pe.Status, pe.Message, tt.class, tt.message)
			}
			if tt.fault != ollamatest.ResetMidBody && len(chunks) != 2 {
				t.Errorf("%d chunks before the failure, want the role and first word", len(chunks))
			}
			if _, again := s.Recv(); again != err {
				t.Errorf("Recv after the failure = %v, want the same failure", again)
			}
		})
	}
}

func TestStreamStallEndsWithContext(t *testing.T) {
	up := ollamatest.New(t, ollamatest.Reply{Fault: ollamatest.StallMidStream, Text: "one two"})
	ctx, cancel := context.WithCancel(context.Background())
	s, err := newClient(up.URL).Stream(ctx, hello(true))
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
	_, err = s.Recv()
	if pe := asProviderError(t, err); pe.Class != provider.Connection {
		t.Errorf("Recv after cancel = %+v", pe)
	}
}

func TestStreamStallDeadline(t *testing.T) {
	up := ollamatest.New(t, ollamatest.Reply{Fault: ollamatest.StallMidStream, Text: "one two"})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	s, err := newClient(up.URL).Stream(ctx, hello(true))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, err = providertest.Collect(s)
	if pe := asProviderError(t, err); pe.Class != provider.Timeout {
		t.Errorf("stalled stream past its deadline = %+v", pe)
	}
}

// streamGoroutines counts the goroutines running the api client for a
// stream.
func streamGoroutines() int {
	buf := make([]byte, 1<<20)
	n := runtime.Stack(buf, true)
	return strings.Count(string(buf[:n]), "ollama.(*stream).run(")
}

// waitNoStreamGoroutines polls until no stream goroutine is left.
func waitNoStreamGoroutines(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for streamGoroutines() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d stream goroutines leaked", streamGoroutines())
		}
		time.Sleep(time.Millisecond)
	}
}

func TestStreamNoGoroutineLeak(t *testing.T) {
	waitNoStreamGoroutines(t) // none from earlier tests
	tests := []struct {
		name  string
		reply ollamatest.Reply
		stop  func(s provider.Stream, cancel context.CancelFunc)
	}{
		{"close after one chunk", ollamatest.Reply{Text: "a b c d e f g h"}, func(s provider.Stream, _ context.CancelFunc) { s.Close() }},
		{"close twice", ollamatest.Reply{Text: "a b c d e f g h"}, func(s provider.Stream, _ context.CancelFunc) { s.Close(); s.Close() }},
		{"cancel without close", ollamatest.Reply{Text: "a b c d e f g h"}, func(_ provider.Stream, cancel context.CancelFunc) { cancel() }},
		{"close while stalled", ollamatest.Reply{Text: "a b", Fault: ollamatest.StallMidStream}, func(s provider.Stream, _ context.CancelFunc) { s.Close() }},
		{"cancel while stalled", ollamatest.Reply{Text: "a b", Fault: ollamatest.StallMidStream}, func(_ provider.Stream, cancel context.CancelFunc) { cancel() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := ollamatest.New(t, tt.reply)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			s, err := newClient(up.URL).Stream(ctx, hello(true))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.Recv(); err != nil {
				t.Fatal(err)
			}
			if n := streamGoroutines(); n != 1 {
				t.Fatalf("%d stream goroutines while streaming, want 1", n)
			}
			stopped := make(chan struct{})
			go func() {
				tt.stop(s, cancel)
				close(stopped)
			}()
			select {
			case <-stopped:
			case <-time.After(5 * time.Second):
				t.Fatal("stopping the stream hangs: the api client's goroutine is stuck")
			}
			waitNoStreamGoroutines(t)
		})
	}
	t.Run("read to the end without close", func(t *testing.T) {
		up := ollamatest.New(t)
		s, err := newClient(up.URL).Stream(context.Background(), hello(true))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := providertest.Collect(s); err != nil {
			t.Fatal(err)
		}
		waitNoStreamGoroutines(t)
	})
}

// Close may be called while another goroutine waits in Recv, as a server
// does when its client goes away.
func TestStreamCloseDuringRecv(t *testing.T) {
	up := ollamatest.New(t, ollamatest.Reply{Fault: ollamatest.StallMidStream, Text: "one two"})
	s, err := newClient(up.URL).Stream(context.Background(), hello(true))
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := s.Recv(); err != nil {
			t.Fatal(err)
		}
	}
	errc := make(chan error, 1)
	go func() {
		_, err := s.Recv()
		errc <- err
	}()
	s.Close()
	if err := <-errc; err == nil || err == io.EOF {
		t.Errorf("Recv during Close = %v, want a failure", err)
	}
}

func TestToolCallIDs(t *testing.T) {
	up := ollamatest.New(t,
		ollamatest.Reply{ToolCalls: []ollamatest.ToolCall{{ID: "call_given", Name: "f", Args: `{"b":1,"a":2}`}}},
		ollamatest.Reply{NoToolCallIDs: true, ToolCalls: []ollamatest.ToolCall{{Name: "f"}, {Name: "g", Args: `{"x":"y"}`}}},
	)
	c := newClient(up.URL)
	resp, err := c.Chat(context.Background(), hello(false))
	if err != nil {
		t.Fatal(err)
	}
	tc := resp.Choices[0].Message.ToolCalls
	if len(tc) != 1 || tc[0].ID != "call_given" || tc[0].Function.Arguments != `{"b":1,"a":2}` || tc[0].Index != nil {
		t.Errorf("tool calls = %+v", tc)
	}
	if string(resp.Choices[0].Message.Content) != "null" || resp.Choices[0].FinishReason != "tool_calls" {
		t.Errorf("message = %s finish %s", resp.Choices[0].Message.Content, resp.Choices[0].FinishReason)
	}
	resp, err = c.Chat(context.Background(), hello(false))
	if err != nil {
		t.Fatal(err)
	}
	tc = resp.Choices[0].Message.ToolCalls
	if len(tc) != 2 || !strings.HasPrefix(tc[0].ID, "call_") || len(tc[0].ID) != 29 || tc[0].ID == tc[1].ID ||
		tc[0].Function.Arguments != "{}" || tc[1].Function.Arguments != `{"x":"y"}` {
		t.Errorf("minted tool calls = %+v", tc)
	}
}

func TestEmbed(t *testing.T) {
	up := ollamatest.New(t)
	o := options(up.URL)
	o.Model = "nomic-embed-text"
	c := ollama.New(o)
	tests := []struct {
		name, body string
		n          int
		dims       int
		wantInput  any
	}{
		{"one string", `{"model":"e","input":"hello world"}`, 1, 8, "hello world"},
		{"strings", `{"model":"e","input":["a","b c"],"dimensions":4,"encoding_format":"base64"}`, 2, 4, []any{"a", "b c"}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var req chat.EmbeddingRequest
			if err := json.Unmarshal([]byte(tt.body), &req); err != nil {
				t.Fatal(err)
			}
			resp, err := c.Embed(context.Background(), &req)
			if err != nil {
				t.Fatal(err)
			}
			if resp.Object != "list" || resp.Model != "nomic-embed-text" || len(resp.Data) != tt.n || resp.Usage == nil || resp.Usage.PromptTokens == 0 ||
				resp.Usage.TotalTokens != resp.Usage.PromptTokens {
				t.Fatalf("response = %+v", resp)
			}
			for j, d := range resp.Data {
				if d.Index != j || d.Object != "embedding" || len(d.Embedding) != tt.dims {
					t.Errorf("data[%d] = %+v", j, d)
				}
			}
			body := up.Requests()[i].Body
			in, _ := json.Marshal(body["input"])
			want, _ := json.Marshal(tt.wantInput)
			if string(in) != string(want) || up.Requests()[i].Path != "/api/embed" {
				t.Errorf("upstream got %s", up.Requests()[i].Raw)
			}
		})
	}
}

func TestEmbedErrors(t *testing.T) {
	up := ollamatest.New(t)
	for _, tt := range []struct {
		name, body string
		class      provider.Class
		local      bool
	}{
		{"token arrays", `{"input":[[1,2]]}`, provider.BadRequest, true},
		{"empty string", `{"input":["a",""]}`, provider.BadRequest, true},
		{"no input", `{}`, provider.BadRequest, true},
		{"dimensions 0", `{"input":"a","dimensions":0}`, provider.BadRequest, true},
		{"model not pulled", `{"input":"a"}`, provider.NotFound, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var req chat.EmbeddingRequest
			if err := json.Unmarshal([]byte(tt.body), &req); err != nil {
				t.Fatal(err)
			}
			o := options(up.URL)
			o.Model = "all-minilm"
			_, err := ollama.New(o).Embed(context.Background(), &req)
			pe := asProviderError(t, err)
			if pe.Class != tt.class || pe.Local != tt.local {
				t.Errorf("err = %+v", pe)
			}
			if tt.class == provider.NotFound && !strings.Contains(pe.Message, "`ollama pull all-minilm`") {
				t.Errorf("message = %q", pe.Message)
			}
		})
	}
	up.SetReplies(ollamatest.Reply{Embeddings: [][]float32{{1, 0}}})
	var req chat.EmbeddingRequest
	json.Unmarshal([]byte(`{"input":["a","b"]}`), &req)
	o := options(up.URL)
	o.Model = "nomic-embed-text"
	_, err := ollama.New(o).Embed(context.Background(), &req)
	if pe := asProviderError(t, err); pe.Class != provider.ServerError {
		t.Errorf("one vector for two inputs: %+v", pe)
	}
}

func TestListAndPing(t *testing.T) {
	up := ollamatest.New(t)
	up.SetModels("llama3.2", "qwen3:8b")
	c := newClient(up.URL)
	names, err := c.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(names, ",") != "llama3.2:latest,qwen3:8b" {
		t.Errorf("names = %v", names)
	}
	if err := c.Ping(context.Background()); err != nil {
		t.Errorf("Ping = %v", err)
	}
	// A base URL that is not Ollama's: Ping must not pass.
	if err := newClient(up.URL + "/nope").Ping(context.Background()); asProviderError(t, err).Class != provider.NotFound {
		t.Errorf("Ping of a wrong path = %v", err)
	}
}

func TestClassifyDirect(t *testing.T) {
	tests := []struct {
		status int
		body   string
		class  provider.Class
	}{
		{404, `{"error":"model 'qwen3:4b' not found"}`, provider.NotFound},
		{404, "404 page not found", provider.NotFound},
		{400, `{"error":"input exceeds maximum context length and cannot be truncated further"}`, provider.ContextWindowExceeded},
		{400, `{"error":"json: cannot unmarshal string into Go struct field ChatRequest.messages of type []api.Message"}`, provider.BadRequest},
		{500, `{"error":"failed to compute the context length"}`, provider.ServerError},
		{429, `{"error":"you've reached your weekly usage limit, please wait or upgrade to continue"}`, provider.QuotaExhausted},
	}
	for _, tt := range tests {
		e := ollama.Classify("ollama", tt.status, nil, []byte(tt.body), now)
		if e.Class != tt.class || e.Status != tt.status {
			t.Errorf("Classify(%d, %s) = %+v, want %s", tt.status, tt.body, e, tt.class)
		}
	}
	e := ollama.Classify("ollama", 400, http.Header{}, []byte(`{"error":"bad key sk-fake-not-real at https://internal.example/v1/x"}`), now)
	if strings.Contains(e.Message, "sk-fake") || strings.Contains(e.Message, "internal.example") {
		t.Errorf("message not sanitized: %q", e.Message)
	}
}

// A server that keeps the connection open after done: true must not hold
// back the end of the stream, and Close must still release it.
func TestStreamEOFWhileUpstreamLingers(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-ndjson")
		io.WriteString(w, `{"model":"llama3.2","created_at":"2026-03-01T12:00:00Z","message":{"role":"assistant","content":"hi"},"done":false}`+"\n")
		io.WriteString(w, `{"model":"llama3.2","created_at":"2026-03-01T12:00:00Z","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","eval_count":1}`+"\n")
		http.NewResponseController(w).Flush()
		<-r.Context().Done()
	}))
	defer srv.Close()
	s, err := newClient(srv.URL).Stream(context.Background(), hello(true))
	if err != nil {
		t.Fatal(err)
	}
	chunks, err := providertest.Collect(s)
	if err != nil || len(chunks) != 4 {
		t.Fatalf("%d chunks, %v", len(chunks), err)
	}
	s.Close()
	waitNoStreamGoroutines(t)
}
