package app_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/detour-gateway/detour/app"
	"github.com/detour-gateway/detour/clock"
	"github.com/detour-gateway/detour/config"
	"github.com/detour-gateway/detour/keystore"
	"github.com/detour-gateway/detour/router/provider/openai/openaitest"
)

// upstreamKey is the fake provider key; tests check it never leaks.
const upstreamKey = "fake-upstream-key-7f3a9c"

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type gateway struct {
	url    string
	cfg    *config.Config
	logs   *syncBuffer
	client openai.Client
	gw     *app.Gateway
	clock  *clock.Fake
}

// requestLogs returns the logs once they hold n request lines. The line is
// written after the answer, so a client can be done before it is there.
func (g *gateway) requestLogs(t *testing.T, n int) string {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if strings.Count(g.logs.String(), "msg=request") >= n {
			break
		}
	}
	return g.logs.String()
}

// start runs a real gateway on 127.0.0.1:0 with the config in yaml, and an
// OpenAI SDK client pointed at it. Backoff and cooldown waits use a fake
// clock, so they take no time.
func start(t *testing.T, yaml string) *gateway { return startWith(t, yaml, false) }

// startCached is start with the response cache on, in the test's temp dir.
func startCached(t *testing.T, yaml string) *gateway { return startWith(t, yaml, true) }

func startWith(t *testing.T, yaml string, withCache bool) *gateway {
	t.Helper()
	logs := &syncBuffer{}
	clk := clock.NewFake(time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC))
	s := serve(t, yaml, app.Options{
		Logger: slog.New(slog.NewTextHandler(logs, nil)),
		Clock:  clk,
		Rand:   func() float64 { return 0.5 },
	}, withCache)
	g := &gateway{logs: logs, cfg: s.cfg, url: s.url, gw: s.gw, clock: clk}
	g.client = openai.NewClient(option.WithBaseURL(g.url), option.WithAPIKey("client-side-key-unused"), option.WithMaxRetries(0))
	return g
}

// serve runs a gateway for yaml on 127.0.0.1:0 until the test ends, with
// upstreamKey as the key of every provider and no environment unless o
// brings its own Keys and Getenv. The response
// cache is off unless withCache, when it lives in the test's temp dir. It
// returns the parsed config, the base URL ("…/v1") and a func that shuts
// the gateway down gracefully and returns Serve's error.
func serve(t testing.TB, yaml string, o app.Options, withCache bool) *served {
	t.Helper()
	cfg, _, err := config.Parse([]byte(yaml))
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	cfg.Detour.Cache.Enabled = withCache
	if cfg.Detour.RequestLog.Path == "" {
		cfg.Detour.RequestLog.Path = filepath.Join(t.TempDir(), "requests.db")
	}
	if cfg.Detour.SpendPath == "" {
		cfg.Detour.SpendPath = filepath.Join(t.TempDir(), "spend.db")
	}
	if cfg.Detour.ResponsesPath == "" {
		cfg.Detour.ResponsesPath = filepath.Join(t.TempDir(), "responses.db")
	}
	// The Ollama tier would turn every cloud failure into its own 503;
	// only tests about it turn it on.
	cfg.Detour.Offline.Enabled = strings.Contains(yaml, "offline:")
	if cfg.Detour.Cache.Path == "" {
		cfg.Detour.Cache.Path = filepath.Join(t.TempDir(), "cache.db")
	}
	if o.Keys == nil {
		keys := keystore.NewMemory()
		for _, name := range []string{"openai", "azure", "anthropic", "gemini"} {
			if err := keys.Set(context.Background(), name, upstreamKey); err != nil {
				t.Fatal(err)
			}
		}
		o.Keys = keys
	}
	if o.Getenv == nil {
		o.Getenv = func(string) string { return "" }
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	gw, err := app.New(cfg, o)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- gw.Serve(ctx, ln) }()
	var once sync.Once
	var serveErr error
	stop := func() error {
		once.Do(func() {
			cancel()
			serveErr = errors.Join(<-done, gw.Close())
		})
		return serveErr
	}
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return &served{cfg: cfg, url: "http://" + ln.Addr().String() + "/v1", gw: gw, stop: stop}
}

// served is a gateway running for a test.
type served struct {
	cfg  *config.Config
	url  string // the API base, "…/v1"
	gw   *app.Gateway
	stop func() error
}

func params(model string) openai.ChatCompletionNewParams {
	return openai.ChatCompletionNewParams{
		Model:    model,
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("say hello (secret prompt text)")},
	}
}

func deployment(up *openaitest.Server, group, model string, extra ...string) string {
	return fmt.Sprintf("  - model_name: %s\n    litellm_params:\n      model: openai/%s\n      api_base: %s\n%s", group, model, up.URL,
		strings.Join(extra, ""))
}

func TestSDKChat(t *testing.T) {
	up := openaitest.New(t, openaitest.Reply{Text: "Hello there."})
	gw := start(t, "model_list:\n"+deployment(up, "main-llm", "gpt-4o-test"))
	var resp *http.Response
	c, err := gw.client.Chat.Completions.New(context.Background(), params("main-llm"), option.WithResponseInto(&resp))
	if err != nil {
		t.Fatal(err)
	}
	if c.Choices[0].Message.Content != "Hello there." || c.Choices[0].FinishReason != "stop" {
		t.Errorf("answer = %+v", c.Choices[0])
	}
	if c.Model != "gpt-4o-test" {
		t.Errorf("model = %q, want the upstream model that answered", c.Model)
	}
	if c.Usage.TotalTokens == 0 || c.SystemFingerprint != "fp_fake" {
		t.Errorf("usage or passthrough fields lost: %+v", c)
	}
	want := map[string]string{
		"X-Detour-Provider": "openai", "X-Detour-Deployment": gw.cfg.Models[0].ID, "X-Detour-Model-Group": "main-llm",
		"X-Detour-Attempts": "1", "X-Detour-Fallbacks": "0",
	}
	for k, v := range want {
		if got := resp.Header.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if resp.Header.Get("X-Detour-Upstream-Ms") == "" || resp.Header.Get("X-Detour-Request-Id") == "" {
		t.Error("missing x-detour-upstream-ms or x-detour-request-id")
	}
	got := up.Requests()[0]
	if got.Header.Get("Authorization") != "Bearer "+upstreamKey || got.Body["model"] != "gpt-4o-test" {
		t.Errorf("upstream saw auth %q model %v", got.Header.Get("Authorization"), got.Body["model"])
	}
	logs := gw.requestLogs(t, 1)
	if !strings.Contains(logs, "msg=request") || !strings.Contains(logs, gw.cfg.Models[0].ID+" ok 200") {
		t.Errorf("no request log line with the attempt:\n%s", logs)
	}
	if strings.Contains(logs, upstreamKey) || strings.Contains(logs, "secret prompt text") {
		t.Errorf("log leaks the key or the prompt:\n%s", logs)
	}
}

func TestSDKStream(t *testing.T) {
	up := openaitest.New(t, openaitest.Reply{Text: "one two three four"})
	gw := start(t, "model_list:\n"+deployment(up, "main-llm", "gpt-4o-test"))
	p := params("main-llm")
	p.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
	stream := gw.client.Chat.Completions.NewStreaming(context.Background(), p)
	var acc openai.ChatCompletionAccumulator
	chunks := 0
	for stream.Next() {
		acc.AddChunk(stream.Current())
		chunks++
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if acc.Choices[0].Message.Content != "one two three four" || acc.Model != "gpt-4o-test" {
		t.Errorf("accumulated %q from %q", acc.Choices[0].Message.Content, acc.Model)
	}
	if acc.Usage.CompletionTokens != 4 || chunks < 6 {
		t.Errorf("usage %+v over %d chunks", acc.Usage, chunks)
	}
}

func TestSDKFallbackAfter500(t *testing.T) {
	broken := openaitest.New(t, openaitest.Status(500, openaitest.ServerBody))
	good := openaitest.New(t, openaitest.Reply{Text: "from the fallback"})
	gw := start(t, "model_list:\n"+deployment(broken, "main-llm", "gpt-4o")+deployment(good, "cheap-llm", "gpt-4o-mini")+
		"router_settings:\n  num_retries: 1\n  fallbacks: [{main-llm: [cheap-llm]}]\n")
	var resp *http.Response
	c, err := gw.client.Chat.Completions.New(context.Background(), params("main-llm"), option.WithResponseInto(&resp))
	if err != nil {
		t.Fatal(err)
	}
	if c.Choices[0].Message.Content != "from the fallback" || c.Model != "gpt-4o-mini" {
		t.Errorf("answer %q from %q", c.Choices[0].Message.Content, c.Model)
	}
	if broken.Count() != 2 {
		t.Errorf("broken upstream called %d times, want 2 (1 + num_retries)", broken.Count())
	}
	h := resp.Header
	if h.Get("X-Detour-Attempts") != "3" || h.Get("X-Detour-Fallbacks") != "1" || h.Get("X-Detour-Model-Group") != "cheap-llm" {
		t.Errorf("headers attempts=%s fallbacks=%s group=%s", h.Get("X-Detour-Attempts"), h.Get("X-Detour-Fallbacks"), h.Get("X-Detour-Model-Group"))
	}
}

func TestSDKErrorMapping(t *testing.T) {
	tests := []struct {
		name   string
		reply  openaitest.Reply
		model  string
		status int
		typ    string
		code   string
	}{
		{"rate limited", openaitest.RateLimited("1"), "main-llm", 429, "rate_limit_error", "rate_limit_exceeded"},
		{"quota", openaitest.Status(429, openaitest.QuotaBody), "main-llm", 429, "insufficient_quota", "insufficient_quota"},
		{"bad key", openaitest.Status(401, openaitest.AuthBody), "main-llm", 401, "authentication_error", "invalid_api_key"},
		{"context", openaitest.Status(400, openaitest.ContextBody), "main-llm", 400, "invalid_request_error", "context_length_exceeded"},
		{"bad param", openaitest.Status(400, openaitest.BadParamBody), "main-llm", 400, "invalid_request_error", ""},
		{"server error", openaitest.Status(500, openaitest.ServerBody), "main-llm", 502, "server_error", "upstream_error"},
		{"overloaded", openaitest.Status(503, openaitest.OverloadBody), "main-llm", 503, "server_error", "upstream_unavailable"},
		{"gateway timeout", openaitest.Status(504, ""), "main-llm", 504, "timeout_error", "upstream_timeout"},
		{"malformed", openaitest.Reply{Fault: openaitest.MalformedJSON}, "main-llm", 502, "server_error", "upstream_error"},
		{"reset", openaitest.Reply{Fault: openaitest.ResetMidBody}, "main-llm", 502, "api_connection_error", "upstream_unreachable"},
		{"unknown model", openaitest.Reply{}, "no-such-group", 404, "invalid_request_error", "model_not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := openaitest.New(t, tt.reply)
			gw := start(t, "model_list:\n"+deployment(up, "main-llm", "gpt-4o")+"router_settings:\n  num_retries: 0\n")
			_, err := gw.client.Chat.Completions.New(context.Background(), params(tt.model))
			var apiErr *openai.Error
			if !errors.As(err, &apiErr) {
				t.Fatalf("err = %v, want *openai.Error", err)
			}
			if apiErr.StatusCode != tt.status || apiErr.Type != tt.typ || apiErr.Code != tt.code {
				t.Errorf("got %d %q %q, want %d %q %q: %s", apiErr.StatusCode, apiErr.Type, apiErr.Code, tt.status, tt.typ, tt.code, apiErr.Message)
			}
			for _, leak := range []string{upstreamKey, "sk-fake", up.URL, "127.0.0.1", "goroutine"} {
				if strings.Contains(apiErr.RawJSON(), leak) {
					t.Errorf("error body leaks %q: %s", leak, apiErr.RawJSON())
				}
			}
		})
	}
}

func TestSDKConnectionRefused(t *testing.T) {
	gw := start(t, "model_list:\n  - model_name: main-llm\n    litellm_params: {model: openai/gpt-4o, api_base: http://"+
		openaitest.ClosedAddr(t)+"/v1}\nrouter_settings: {num_retries: 1}\n")
	_, err := gw.client.Chat.Completions.New(context.Background(), params("main-llm"))
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 502 || apiErr.Type != "api_connection_error" {
		t.Fatalf("err = %v, want 502 api_connection_error", err)
	}
}

func TestSDKStreamNeverSplices(t *testing.T) {
	for _, fault := range []openaitest.Fault{openaitest.ErrorEventMidStream, openaitest.CutMidStream} {
		t.Run(fmt.Sprint(fault), func(t *testing.T) {
			primary := openaitest.New(t, openaitest.Reply{Text: "first answer goes on", Fault: fault})
			other := openaitest.New(t, openaitest.Reply{Text: "second answer"})
			gw := start(t, "model_list:\n"+deployment(primary, "main-llm", "gpt-4o")+deployment(other, "cheap-llm", "gpt-4o-mini")+
				"router_settings:\n  num_retries: 2\n  fallbacks: [{main-llm: [cheap-llm]}]\n")
			stream := gw.client.Chat.Completions.NewStreaming(context.Background(), params("main-llm"))
			var text strings.Builder
			for stream.Next() {
				for _, ch := range stream.Current().Choices {
					text.WriteString(ch.Delta.Content)
				}
			}
			if text.String() != "first " {
				t.Errorf("client saw %q, want only the primary's first chunk", text.String())
			}
			if err := stream.Err(); err == nil || !strings.Contains(err.Error(), "stream broke") {
				t.Errorf("stream error = %v, want the error event", err)
			}
			if other.Count() != 0 || primary.Count() != 1 {
				t.Errorf("calls primary=%d fallback=%d; a failure after content must end the stream", primary.Count(), other.Count())
			}
		})
	}
}

func TestSDKStreamFailsOverBeforeFirstByte(t *testing.T) {
	primary := openaitest.New(t, openaitest.Reply{Fault: openaitest.ResetMidBody})
	other := openaitest.New(t, openaitest.Reply{Text: "clean answer"})
	gw := start(t, "model_list:\n"+deployment(primary, "main-llm", "gpt-4o")+deployment(other, "cheap-llm", "gpt-4o-mini")+
		"router_settings:\n  num_retries: 0\n  fallbacks: [{main-llm: [cheap-llm]}]\n")
	stream := gw.client.Chat.Completions.NewStreaming(context.Background(), params("main-llm"))
	var text strings.Builder
	for stream.Next() {
		for _, ch := range stream.Current().Choices {
			text.WriteString(ch.Delta.Content)
		}
	}
	if err := stream.Err(); err != nil || text.String() != "clean answer" {
		t.Errorf("got %q, err %v; want the fallback's clean answer", text.String(), err)
	}
}

func TestSDKStreamAllFailGetsHTTPStatus(t *testing.T) {
	up := openaitest.New(t, openaitest.Status(503, openaitest.OverloadBody))
	gw := start(t, "model_list:\n"+deployment(up, "main-llm", "gpt-4o")+"router_settings: {num_retries: 1}\n")
	stream := gw.client.Chat.Completions.NewStreaming(context.Background(), params("main-llm"))
	for stream.Next() {
		t.Error("got a chunk from a request that failed everywhere")
	}
	var apiErr *openai.Error
	if err := stream.Err(); !errors.As(err, &apiErr) || apiErr.StatusCode != 503 {
		t.Fatalf("err = %v, want an HTTP 503 before any stream", err)
	}
}

func TestSDKSlowFirstByteFailsOver(t *testing.T) {
	slow := openaitest.New(t, openaitest.Reply{Delay: time.Minute})
	fast := openaitest.New(t, openaitest.Reply{Text: "fast answer"})
	gw := start(t, "model_list:\n"+deployment(slow, "main-llm", "gpt-4o", "      stream_timeout: 0.05\n      timeout: 0.05\n")+
		deployment(fast, "cheap-llm", "gpt-4o-mini")+"router_settings:\n  num_retries: 0\n  fallbacks: [{main-llm: [cheap-llm]}]\n")
	for _, streaming := range []bool{false, true} {
		var text string
		if streaming {
			stream := gw.client.Chat.Completions.NewStreaming(context.Background(), params("main-llm"))
			for stream.Next() {
				for _, ch := range stream.Current().Choices {
					text += ch.Delta.Content
				}
			}
			if err := stream.Err(); err != nil {
				t.Fatal(err)
			}
		} else {
			c, err := gw.client.Chat.Completions.New(context.Background(), params("main-llm"))
			if err != nil {
				t.Fatal(err)
			}
			text = c.Choices[0].Message.Content
		}
		if text != "fast answer" {
			t.Errorf("stream=%v: got %q, want the fast fallback", streaming, text)
		}
	}
}

func TestSDKStallMidStreamEndsWithError(t *testing.T) {
	up := openaitest.New(t, openaitest.Reply{Text: "one two three", Fault: openaitest.StallMidStream})
	gw := start(t, "model_list:\n"+deployment(up, "main-llm", "gpt-4o", "      timeout: 0.2\n"))
	stream := gw.client.Chat.Completions.NewStreaming(context.Background(), params("main-llm"))
	var text string
	for stream.Next() {
		for _, ch := range stream.Current().Choices {
			text += ch.Delta.Content
		}
	}
	if text != "one " || stream.Err() == nil {
		t.Errorf("got %q, err %v; want the first word then an error", text, stream.Err())
	}
}

func TestClientDisconnectCancelsUpstream(t *testing.T) {
	up := openaitest.New(t, openaitest.Reply{Text: "one two three", Fault: openaitest.StallMidStream})
	gw := start(t, "model_list:\n"+deployment(up, "main-llm", "gpt-4o"))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stream := gw.client.Chat.Completions.NewStreaming(ctx, params("main-llm"))
	for stream.Next() {
		if len(stream.Current().Choices) > 0 && stream.Current().Choices[0].Delta.Content != "" {
			cancel() // leave after the first content
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for up.Disconnects() == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if up.Disconnects() != 1 {
		t.Error("the upstream call was not cancelled when the client left")
	}
}

func TestShutdownLetsStreamsFinish(t *testing.T) {
	up := openaitest.New(t, openaitest.Reply{Text: "slow but complete", Delay: 300 * time.Millisecond})
	s := serve(t, "model_list:\n"+deployment(up, "main-llm", "gpt-4o"), app.Options{}, false)
	url, stop := s.url, s.stop
	client := openai.NewClient(option.WithBaseURL(url), option.WithAPIKey("x"), option.WithMaxRetries(0))
	got := make(chan string, 1)
	go func() {
		stream := client.Chat.Completions.NewStreaming(context.Background(), params("main-llm"))
		var text string
		for stream.Next() {
			for _, ch := range stream.Current().Choices {
				text += ch.Delta.Content
			}
		}
		if stream.Err() != nil {
			text += " ERROR: " + stream.Err().Error()
		}
		got <- text
	}()
	for up.Count() == 0 { // the request is inside the gateway, waiting on the upstream
		time.Sleep(time.Millisecond)
	}
	if err := stop(); err != nil {
		t.Errorf("serve: %v", err)
	}
	if text := <-got; text != "slow but complete" {
		t.Errorf("stream in flight at shutdown got %q", text)
	}
	if _, err := http.Get(strings.TrimSuffix(url, "/v1") + "/health"); err == nil {
		t.Error("still accepting connections after shutdown")
	}
}

func TestMockFailRateUnderTheDefaultRand(t *testing.T) {
	cfg, _, err := config.Parse([]byte("model_list:\n  - model_name: flaky\n    litellm_params: {model: mock/flaky, mock_fail_rate: 1, mock_status: 503}\nrouter_settings: {num_retries: 0}\n"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Detour.Cache.Enabled, cfg.Detour.RequestLog.Enabled = false, false
	cfg.Detour.SpendPath = filepath.Join(t.TempDir(), "spend.db")
	gw, err := app.New(cfg, app.Options{Keys: keystore.NewMemory(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(gw.Handler())
	defer ts.Close()
	resp, err := http.Post(ts.URL+"/v1/chat/completions", "application/json",
		strings.NewReader(`{"model":"flaky","messages":[{"role":"user","content":"hi"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 {
		t.Errorf("status = %d, want 503 from mock_fail_rate 1", resp.StatusCode)
	}
}

func TestSDKEmbeddings(t *testing.T) {
	up := openaitest.New(t)
	gw := start(t, "model_list:\n"+deployment(up, "embed", "text-embedding-3-small")+
		"  - model_name: local-embed\n    litellm_params: {model: mock/emb}\n")
	for _, format := range []openai.EmbeddingNewParamsEncodingFormat{openai.EmbeddingNewParamsEncodingFormatFloat, openai.EmbeddingNewParamsEncodingFormatBase64} {
		t.Run(string(format), func(t *testing.T) {
			var resp *http.Response
			e, err := gw.client.Embeddings.New(context.Background(), openai.EmbeddingNewParams{
				Model:          "embed",
				Input:          openai.EmbeddingNewParamsInputUnion{OfArrayOfStrings: []string{"ab", "cde"}},
				EncodingFormat: format,
			}, option.WithResponseInto(&resp))
			if err != nil {
				t.Fatal(err)
			}
			if len(e.Data) != 2 || e.Data[1].Index != 1 || e.Model != "text-embedding-3-small" || e.Usage.PromptTokens != 2 {
				t.Fatalf("embeddings = %+v", e)
			}
			// The fake's vector for "cde" at index 1 is [3.5, -0.25, 1].
			if got := e.Data[1].Embedding; len(got) != 3 || got[0] != 3.5 || got[1] != -0.25 || got[2] != 1 {
				t.Errorf("vector = %v, want [3.5 -0.25 1] whatever the encoding", got)
			}
			if resp.Header.Get("X-Detour-Deployment") != gw.cfg.Models[0].ID {
				t.Errorf("x-detour-deployment = %q", resp.Header.Get("X-Detour-Deployment"))
			}
		})
	}
	e, err := gw.client.Embeddings.New(context.Background(), openai.EmbeddingNewParams{
		Model: "local-embed", Input: openai.EmbeddingNewParamsInputUnion{OfString: openai.String("hello")}})
	if err != nil || len(e.Data) != 1 || len(e.Data[0].Embedding) != 8 {
		t.Fatalf("mock embeddings = %+v, %v", e, err)
	}
}
