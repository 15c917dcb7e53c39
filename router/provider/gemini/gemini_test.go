package gemini_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/detour-gateway/detour/chat"
	"github.com/detour-gateway/detour/router/provider"
	"github.com/detour-gateway/detour/router/provider/gemini"
	"github.com/detour-gateway/detour/router/provider/gemini/geminitest"
	"github.com/detour-gateway/detour/router/provider/providertest"
)

const helloRequest = `{"model":"detour-main","messages":[{"role":"user","content":"hi"}]}`

func TestRequestLine(t *testing.T) {
	up := geminitest.New(t)
	up.RequireKey(fakeKey)
	c := newClient(up.URL+"/", func(o *gemini.Options) { o.Model = "models/gemini-2.5-pro" })
	if _, err := c.Chat(context.Background(), providertest.ParseRequest(t, helloRequest)); err != nil {
		t.Fatal(err)
	}
	s, err := c.Stream(context.Background(), providertest.ParseRequest(t, helloRequest))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := drain(t, s); err != io.EOF {
		t.Fatal(err)
	}
	reqs := up.Requests()
	for i, want := range []struct{ path, alt string }{
		{"/v1beta/models/gemini-2.5-pro:generateContent", ""},
		{"/v1beta/models/gemini-2.5-pro:streamGenerateContent", "sse"},
	} {
		r := reqs[i]
		if r.Path != want.path || r.Query.Get("alt") != want.alt {
			t.Errorf("request %d: %s ?%s, want %s alt=%s", i, r.Path, r.Query.Encode(), want.path, want.alt)
		}
		if r.Header.Get("X-Goog-Api-Key") != fakeKey {
			t.Errorf("request %d: x-goog-api-key = %q", i, r.Header.Get("X-Goog-Api-Key"))
		}
		if r.Query.Has("key") || strings.Contains(r.Query.Encode(), fakeKey) {
			t.Errorf("request %d: key in the URL: %s", i, r.Query.Encode())
		}
		if r.Header.Get("Authorization") != "" {
			t.Errorf("request %d: Authorization header sent", i)
		}
	}
}

func TestDefaults(t *testing.T) {
	var got string
	c := gemini.New(gemini.Options{Model: "gemini-2.5-flash", HTTPClient: &http.Client{Transport: providertest.RoundTripFunc(func(r *http.Request) (*http.Response, error) {
		got = r.URL.String()
		return nil, errors.New("stop here")
	})}})
	_, err := c.Chat(context.Background(), providertest.ParseRequest(t, helloRequest))
	if got != "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent" {
		t.Errorf("default URL = %q", got)
	}
	if pe := asError(t, err); pe.Class != provider.Connection || strings.Contains(pe.Message, "googleapis") {
		t.Errorf("transport failure = %+v", pe)
	}
}

func TestErrorClasses(t *testing.T) {
	tests := []struct {
		name       string
		reply      geminitest.Reply
		requireKey string // the fake's key, when it checks one
		noKey      bool   // the client sends no key
		class      provider.Class
		retryAfter time.Duration
	}{
		{"429 retryDelay 17s", geminitest.RateLimited("17s"), "", false, provider.RateLimited, 17 * time.Second},
		{"429 retryDelay 0.5s", geminitest.RateLimited("0.5s"), "", false, provider.RateLimited, 500 * time.Millisecond},
		{"429 fractional retryDelay", geminitest.RateLimited("1.000340s"), "", false, provider.RateLimited, 1000340 * time.Microsecond},
		{"429 Retry-After header only", geminitest.Reply{Status: 429, Body: geminitest.RateLimitBody("GenerateRequestsPerMinutePerProjectPerModel-FreeTier", ""), Header: http.Header{"Retry-After": {"3"}}}, "", false, provider.RateLimited, 3 * time.Second},
		{"429 wait in message only", geminitest.Status(429, geminitest.ErrorBody(429, "RESOURCE_EXHAUSTED", geminitest.QuotaMessage)), "", false, provider.RateLimited, 17613709214 * time.Nanosecond},
		{"429 bare", geminitest.Status(429, geminitest.ErrorBody(429, "RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota).")), "", false, provider.RateLimited, 0},
		{"429 per-day quota", geminitest.DailyQuota(), "", false, provider.QuotaExhausted, 17 * time.Second},
		{"429 limit 0", geminitest.Status(429, geminitest.ErrorBody(429, "RESOURCE_EXHAUSTED", "You exceeded your current quota.\n* Quota exceeded for metric: generativelanguage.googleapis.com/generate_content_free_tier_requests, limit: 0, model: gemini-2.5-pro")), "", false, provider.QuotaExhausted, 0},
		{"400 API_KEY_INVALID from the fake", geminitest.Reply{}, "another-test-key", false, provider.Auth, 0},
		{"400 API_KEY_INVALID reply", geminitest.InvalidKey(), "", false, provider.Auth, 0},
		{"403 no key sent", geminitest.Reply{}, "", true, provider.Auth, 0},
		{"403 PERMISSION_DENIED", geminitest.Status(403, geminitest.PermissionDeniedBody), "", false, provider.Auth, 0},
		{"401 UNAUTHENTICATED", geminitest.Status(401, geminitest.UnauthenticatedBody), "", false, provider.Auth, 0},
		{"400 FAILED_PRECONDITION location", geminitest.Status(400, geminitest.LocationBody), "", false, provider.Auth, 0},
		{"404", geminitest.NotFound("gemini-9"), "", false, provider.NotFound, 0},
		{"400 input token count", geminitest.Status(400, geminitest.ContextBody), "", false, provider.ContextWindowExceeded, 0},
		{"400 exceeds the maximum number of tokens", geminitest.Status(400, geminitest.ErrorBody(400, "INVALID_ARGUMENT", "Request payload exceeds the maximum number of tokens allowed (1048575).")), "", false, provider.ContextWindowExceeded, 0},
		{"400 INVALID_ARGUMENT", geminitest.Status(400, geminitest.BadArgumentBody), "", false, provider.BadRequest, 0},
		{"400 missing thought signature", geminitest.Status(400, geminitest.ErrorBody(400, "INVALID_ARGUMENT", "Function call is missing a thought_signature in functionCall parts. This is required for tools to work correctly.")), "", false, provider.BadRequest, 0},
		{"500 INTERNAL", geminitest.Status(500, geminitest.InternalBody), "", false, provider.ServerError, 0},
		{"500 mentioning tokens", geminitest.Status(500, geminitest.ErrorBody(500, "INTERNAL", "failed while counting input token count that exceeds nothing")), "", false, provider.ServerError, 0},
		{"503 UNAVAILABLE", geminitest.Overloaded(), "", false, provider.ServerError, 0},
		{"503 Retry-After", geminitest.Reply{Status: 503, Body: geminitest.OverloadedBody, Header: http.Header{"Retry-After": {"2"}}}, "", false, provider.ServerError, 2 * time.Second},
		{"504 DEADLINE_EXCEEDED", geminitest.Status(504, geminitest.DeadlineBody), "", false, provider.Timeout, 0},
		{"502 html", geminitest.Status(502, "<html><body>Bad Gateway</body></html>"), "", false, provider.ServerError, 0},
		{"malformed 200", geminitest.Reply{Fault: geminitest.MalformedJSON}, "", false, provider.ServerError, 0},
		{"reset mid-body", geminitest.Reply{Fault: geminitest.ResetMidBody}, "", false, provider.Connection, 0},
		{"blocked prompt", geminitest.Reply{BlockReason: "PROHIBITED_CONTENT"}, "", false, provider.ContentPolicy, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := geminitest.New(t, tt.reply)
			if tt.requireKey != "" {
				up.RequireKey(tt.requireKey)
			}
			c := newClient(up.URL, func(o *gemini.Options) {
				if tt.noKey {
					o.Key = nil
				}
			})
			for _, streaming := range []bool{false, true} {
				var err error
				if streaming {
					var s provider.Stream
					s, err = c.Stream(context.Background(), providertest.ParseRequest(t, helloRequest))
					if err == nil {
						_, err = drain(t, s)
					}
				} else {
					_, err = c.Chat(context.Background(), providertest.ParseRequest(t, helloRequest))
				}
				if tt.reply.Fault == geminitest.MalformedJSON && streaming {
					continue // covered by TestStreamFaults
				}
				pe := asError(t, err)
				if pe.Class != tt.class || pe.RetryAfter != tt.retryAfter {
					t.Errorf("stream=%v: class %s retry-after %v, want %s %v (%v)", streaming, pe.Class, pe.RetryAfter, tt.class, tt.retryAfter, err)
				}
				if pe.Local {
					t.Errorf("stream=%v: Local set on an upstream failure", streaming)
				}
				checkSafeMessage(t, pe.Message)
			}
		})
	}
}

// checkSafeMessage fails when a client-facing message leaks a key or URL.
func checkSafeMessage(t *testing.T, msg string) {
	t.Helper()
	for _, leak := range []string{fakeKey, "another-test-key", "http://", "https://", "127.0.0.1", "googleapis.com/v1beta"} {
		if strings.Contains(msg, leak) {
			t.Errorf("client message leaks %q: %q", leak, msg)
		}
	}
	if msg == "" {
		t.Error("empty client message")
	}
}

func TestAuthMessagesAreOurs(t *testing.T) {
	e := gemini.Classify("gemini", 403, http.Header{}, []byte(geminitest.PermissionDeniedBody), time.Now())
	if !strings.Contains(e.Message, "detour keys set gemini") || strings.Contains(e.Message, "api_key:") {
		t.Errorf("message = %q", e.Message)
	}
	e = gemini.Classify("gemini", 403, http.Header{}, []byte(geminitest.MissingKeyBody), time.Now())
	if !strings.Contains(e.Message, "none was sent") {
		t.Errorf("missing key message = %q", e.Message)
	}
}

func TestSanitizedUpstreamMessage(t *testing.T) {
	body := geminitest.ErrorBody(400, "INVALID_ARGUMENT", "bad value near AIzaFAKEFAKEFAKEFAKEFAKE at https://internal.example/v1beta/x")
	e := gemini.Classify("gemini", 400, http.Header{}, []byte(body), time.Now())
	if strings.Contains(e.Message, "AIzaFAKE") || strings.Contains(e.Message, "internal.example") {
		t.Errorf("message not sanitized: %q", e.Message)
	}
	if e.Class != provider.BadRequest || e.Status != 400 {
		t.Errorf("class %s status %d", e.Class, e.Status)
	}
}

func TestKeyError(t *testing.T) {
	up := geminitest.New(t)
	c := newClient(up.URL, func(o *gemini.Options) {
		o.Key = func(context.Context) (string, error) { return "", errors.New("no key for gemini in the keychain") }
	})
	_, err := c.Chat(context.Background(), providertest.ParseRequest(t, helloRequest))
	pe := asError(t, err)
	if pe.Class != provider.Auth || !pe.Local || pe.Message != "no key for gemini in the keychain" {
		t.Errorf("got %+v", pe)
	}
	if up.Count() != 0 {
		t.Errorf("a request was sent")
	}
}

func TestLocalBadRequests(t *testing.T) {
	tests := []struct {
		name, request, mention string
	}{
		{"tool arguments not JSON", `{"messages":[{"role":"user","content":"x"},{"role":"assistant","tool_calls":[{"id":"call_1","type":"function","function":{"name":"f","arguments":"{oops"}}]},{"role":"tool","tool_call_id":"call_1","content":"r"}]}`, "messages[1].tool_calls[0].function.arguments"},
		{"tool arguments not an object", `{"messages":[{"role":"user","content":"x"},{"role":"assistant","tool_calls":[{"id":"call_1","type":"function","function":{"name":"f","arguments":"[1]"}}]}]}`, "must be a JSON object"},
		{"tool call without name", `{"messages":[{"role":"user","content":"x"},{"role":"assistant","tool_calls":[{"id":"call_1","type":"function","function":{"arguments":"{}"}}]}]}`, "messages[1].tool_calls[0].function.name"},
		{"audio part", `{"messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{"data":"AAAA","format":"wav"}}]}]}`, "messages[0].content[0].type \"input_audio\""},
		{"image scheme", `{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"ftp://example.com/a.png"}}]}]}`, "messages[0].content[0].image_url.url"},
		{"image data not base64", `{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png,rawbytes"}}]}]}`, "not base64"},
		{"image without url", `{"messages":[{"role":"user","content":[{"type":"image_url"}]}]}`, "image_url.url is required"},
		{"content not parts", `{"messages":[{"role":"user","content":{"a":1}}]}`, "messages[0].content"},
		{"role", `{"messages":[{"role":"function","content":"x"}]}`, `messages[0].role "function"`},
		{"tool result for unknown call", `{"messages":[{"role":"user","content":"x"},{"role":"tool","tool_call_id":"call_9","content":"r"}]}`, `tool_call_id "call_9"`},
		{"image in system", `{"messages":[{"role":"system","content":[{"type":"image_url","image_url":{"url":"https://e.com/a.png"}}]},{"role":"user","content":"x"}]}`, "messages[0].content[0]"},
		{"no content", `{"messages":[{"role":"system","content":"be nice"},{"role":"user","content":""}]}`, "messages must include"},
		{"tool type", `{"messages":[{"role":"user","content":"x"}],"tools":[{"type":"custom","custom":{"name":"c"}}]}`, `tools[0].type "custom"`},
		{"tool parameters", `{"messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"f","parameters":[1]}}]}`, "tools[0].function.parameters"},
		{"tool_choice", `{"messages":[{"role":"user","content":"x"}],"tool_choice":"sometimes"}`, "tool_choice"},
		{"tool_choice object", `{"messages":[{"role":"user","content":"x"}],"tool_choice":{"type":"function"}}`, "tool_choice"},
		{"response_format", `{"messages":[{"role":"user","content":"x"}],"response_format":{"type":"grammar"}}`, "response_format.type"},
		{"response_format schema", `{"messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_schema","json_schema":{"name":"n","schema":"nope"}}}`, "response_format.json_schema.schema"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := geminitest.New(t)
			c := newClient(up.URL)
			for _, streaming := range []bool{false, true} {
				var err error
				if streaming {
					_, err = c.Stream(context.Background(), providertest.ParseRequest(t, tt.request))
				} else {
					_, err = c.Chat(context.Background(), providertest.ParseRequest(t, tt.request))
				}
				pe := asError(t, err)
				if pe.Class != provider.BadRequest || !pe.Local || !strings.Contains(pe.Message, tt.mention) {
					t.Errorf("stream=%v: got %s local=%v %q, want bad_request naming %q", streaming, pe.Class, pe.Local, pe.Message, tt.mention)
				}
			}
			if up.Count() != 0 {
				t.Errorf("%d requests sent", up.Count())
			}
		})
	}
}

func TestConnectionRefused(t *testing.T) {
	c := newClient("http://" + providertest.ClosedAddr(t))
	_, err := c.Chat(context.Background(), providertest.ParseRequest(t, helloRequest))
	if pe := asError(t, err); pe.Class != provider.Connection {
		t.Errorf("class = %s, want connection (%v)", pe.Class, err)
	}
	checkSafeMessage(t, asError(t, err).Message)
}

func TestSlowFirstByteTimesOut(t *testing.T) {
	up := geminitest.New(t, geminitest.Reply{Delay: time.Hour})
	for _, streaming := range []bool{false, true} {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		var err error
		if streaming {
			_, err = newClient(up.URL).Stream(ctx, providertest.ParseRequest(t, helloRequest))
		} else {
			_, err = newClient(up.URL).Chat(ctx, providertest.ParseRequest(t, helloRequest))
		}
		cancel()
		if pe := asError(t, err); pe.Class != provider.Timeout {
			t.Errorf("stream=%v: class = %s, want timeout (%v)", streaming, pe.Class, err)
		}
	}
}

func TestStreamFaults(t *testing.T) {
	tests := []struct {
		name  string
		reply geminitest.Reply
		class provider.Class
	}{
		{"cut", geminitest.Reply{Fault: geminitest.CutMidStream}, provider.Connection},
		{"end without finishReason", geminitest.Reply{Fault: geminitest.EndWithoutFinish}, provider.Connection},
		{"error event", geminitest.Reply{Fault: geminitest.ErrorEventMidStream}, provider.ServerError},
		{"malformed event", geminitest.Reply{Fault: geminitest.MalformedJSON}, provider.ServerError},
		{"reset before events", geminitest.Reply{Fault: geminitest.ResetMidBody}, provider.Connection},
		{"blocked prompt", geminitest.Reply{BlockReason: "SAFETY"}, provider.ContentPolicy},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.reply.Text = "one two three"
			up := geminitest.New(t, tt.reply)
			s, err := newClient(up.URL).Stream(context.Background(), providertest.ParseRequest(t, helloRequest))
			if err != nil {
				t.Fatal(err)
			}
			_, err = drain(t, s)
			if err == io.EOF {
				t.Fatal("stream ended cleanly, want a failure")
			}
			pe := asError(t, err)
			if pe.Class != tt.class || pe.Status != http.StatusOK {
				t.Errorf("class %s status %d, want %s 200 (%v)", pe.Class, pe.Status, tt.class, err)
			}
			checkSafeMessage(t, pe.Message)
			// The failure sticks.
			if _, again := s.Recv(); again != err {
				t.Errorf("Recv after failure = %v, want the same failure", again)
			}
		})
	}
}

func TestStreamErrorEventClassified(t *testing.T) {
	// A rate limit reported inside the stream keeps its class.
	body := `data: {"error":{"code":429,"message":"Resource has been exhausted (e.g. check quota).","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"4s"}]}}` + "\r\n\r\n"
	c := newClient("http://unused.invalid", func(o *gemini.Options) {
		o.HTTPClient = &http.Client{Transport: providertest.RoundTripFunc(func(r *http.Request) (*http.Response, error) {
			return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"text/event-stream"}},
				Body: io.NopCloser(strings.NewReader(body)), Request: r}, nil
		})}
	})
	s, err := c.Stream(context.Background(), providertest.ParseRequest(t, helloRequest))
	if err != nil {
		t.Fatal(err)
	}
	_, err = drain(t, s)
	if pe := asError(t, err); pe.Class != provider.RateLimited || pe.RetryAfter != 4*time.Second {
		t.Errorf("got %s %v", pe.Class, pe.RetryAfter)
	}
}

func TestStreamStallEndsWithContext(t *testing.T) {
	up := geminitest.New(t, geminitest.Reply{Fault: geminitest.StallMidStream, Text: "one two"})
	ctx, cancel := context.WithCancel(context.Background())
	s, err := newClient(up.URL).Stream(ctx, providertest.ParseRequest(t, helloRequest))
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
	} else if asError(t, err).Class != provider.Connection {
		t.Errorf("class = %s", asError(t, err).Class)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestStreamCRLFAndLFFraming(t *testing.T) {
	events := []string{
		`{"candidates":[{"content":{"parts":[{"text":"Hel"}],"role":"model"}}],"modelVersion":"gemini-2.5-flash","responseId":"r1"}`,
		`{"candidates":[{"content":{"parts":[{"text":"lo"}],"role":"model"},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":1,"candidatesTokenCount":2,"totalTokenCount":3},"modelVersion":"gemini-2.5-flash","responseId":"r1"}`,
	}
	for _, sep := range []string{"\n\n", "\r\n\r\n"} {
		body := ""
		for _, e := range events {
			body += "data: " + e + sep
		}
		c := newClient("http://unused.invalid", func(o *gemini.Options) {
			o.HTTPClient = &http.Client{Transport: providertest.RoundTripFunc(func(r *http.Request) (*http.Response, error) {
				return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader(body)), Request: r}, nil
			})}
		})
		s, err := c.Stream(context.Background(), providertest.ParseRequest(t, helloRequest))
		if err != nil {
			t.Fatal(err)
		}
		chunks, err := drain(t, s)
		if err != io.EOF {
			t.Fatalf("sep %q: %v", sep, err)
		}
		if got := assemble(chunks).Text(); got != "Hello" {
			t.Errorf("sep %q: text %q", sep, got)
		}
		if chunks[0].ID != "chatcmpl-r1" {
			t.Errorf("id = %q", chunks[0].ID)
		}
	}
}

func TestToolCallIDsAreUniqueAndSafe(t *testing.T) {
	up := geminitest.New(t, geminitest.Reply{Gemini3: true, ToolCalls: []geminitest.ToolCall{{Name: "a"}, {Name: "b"}, {Name: "c"}}})
	c := gemini.New(gemini.Options{BaseURL: up.URL, Model: testModel, Key: func(context.Context) (string, error) { return fakeKey, nil }})
	seen := map[string]bool{}
	safe := regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	for range 3 {
		resp, err := c.Chat(context.Background(), providertest.ParseRequest(t, helloRequest))
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range resp.Choices[0].Message.ToolCalls {
			if seen[tc.ID] || !safe.MatchString(tc.ID) || !strings.HasPrefix(tc.ID, "call_") {
				t.Errorf("tool call id %q repeated or unsafe", tc.ID)
			}
			seen[tc.ID] = true
			if tc.Index != nil {
				t.Errorf("Index set in a non-streamed answer")
			}
		}
	}
}

// TestGemini3RejectsLostSignature shows the fake refusing what the real
// API refuses, so the round-trip goldens prove something.
func TestGemini3RejectsLostSignature(t *testing.T) {
	up := geminitest.New(t, geminitest.Reply{Gemini3: true, ToolCalls: []geminitest.ToolCall{{Name: "get_weather", Args: `{"city":"Oslo"}`}}})
	c := newClient(up.URL)
	req := providertest.ParseRequest(t, `{"messages":[{"role":"user","content":"Weather in Oslo?"}],"tools":[`+weatherTool+`]}`)
	resp, err := c.Chat(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	call := resp.Choices[0].Message.ToolCalls[0]
	tests := []struct {
		name   string
		edit   func(*chat.ToolCall)
		wantOK bool
	}{
		{"as returned", func(*chat.ToolCall) {}, true},
		{"extra only", func(tc *chat.ToolCall) { tc.ID, _, _ = strings.Cut(tc.ID, "__thought__") }, true},
		{"id only", func(tc *chat.ToolCall) { tc.Extra = nil }, true},
		{"corrupted", func(tc *chat.ToolCall) {
			tc.Extra = nil
			tc.ID += "AAAA"
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tc := call
			tc.Extra = chat.Extra{}
			for k, v := range call.Extra {
				tc.Extra[k] = v
			}
			tt.edit(&tc)
			next := *req
			next.Messages = append(append([]chat.Message(nil), req.Messages...),
				chat.Message{Role: "assistant", Content: json.RawMessage("null"), ToolCalls: []chat.ToolCall{tc}},
				chat.Message{Role: "tool", ToolCallID: tc.ID, Content: chat.TextContent("cold")})
			up.SetReplies(geminitest.Reply{Gemini3: true, Text: "Cold."})
			_, err := c.Chat(context.Background(), &next)
			if tt.wantOK && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if !tt.wantOK {
				if pe := asError(t, err); pe.Class != provider.BadRequest || pe.Status != 400 {
					t.Errorf("got %v, want a 400 bad_request", err)
				}
			}
		})
	}
}

func TestFakeRefusesLikeGemini(t *testing.T) {
	tests := []struct {
		name, body, mention string
		gemini3             bool
	}{
		{"empty contents", `{"contents":[]}`, "contents is not specified", false},
		{"role", `{"contents":[{"role":"assistant","parts":[{"text":"x"}]}]}`, "valid role", false},
		{"empty parts", `{"contents":[{"role":"user","parts":[]}]}`, "must not be empty", false},
		{"unknown member", `{"contents":[{"role":"user","parts":[{"text":"x"}]}],"generationConfig":{"maxTokens":5}}`, `Unknown name \"maxTokens\"`, false},
		{"additionalProperties", `{"contents":[{"role":"user","parts":[{"text":"x"}]}],"tools":[{"functionDeclarations":[{"name":"f","parameters":{"type":"object","properties":{"a":{"type":"string"}},"additionalProperties":false}}]}]}`, `Unknown name \"additionalProperties\"`, false},
		{"functionResponse without call", `{"contents":[{"role":"user","parts":[{"text":"x"}]},{"role":"model","parts":[{"functionCall":{"name":"f","args":{}}}]},{"role":"user","parts":[{"functionResponse":{"name":"g","response":{}}}]}]}`, "does not match", false},
		{"missing signature", `{"contents":[{"role":"user","parts":[{"text":"x"}]},{"role":"model","parts":[{"functionCall":{"name":"f","args":{}}}]},{"role":"user","parts":[{"functionResponse":{"name":"f","response":{}}}]}]}`, "missing a thought_signature", true},
		{"unknown signature", `{"contents":[{"role":"user","parts":[{"text":"x"}]},{"role":"model","parts":[{"functionCall":{"name":"f","args":{}},"thoughtSignature":"QUJDRA=="}]},{"role":"user","parts":[{"functionResponse":{"name":"f","response":{}}}]}]}`, "Corrupted thought signature", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := geminitest.New(t, geminitest.Reply{Gemini3: tt.gemini3})
			req, _ := http.NewRequest(http.MethodPost, up.URL+"/v1beta/models/gemini-3-pro-preview:generateContent", strings.NewReader(tt.body))
			req.Header.Set("x-goog-api-key", fakeKey)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body := string(readAll(t, resp.Body))
			if resp.StatusCode != 400 || !strings.Contains(body, `"status": "INVALID_ARGUMENT"`) || !strings.Contains(body, tt.mention) {
				t.Errorf("got %d %s", resp.StatusCode, body)
			}
		})
	}
	// Without gemini-3 mode a call without a signature is fine.
	up := geminitest.New(t)
	req, _ := http.NewRequest(http.MethodPost, up.URL+"/v1beta/models/gemini-2.5-flash:generateContent",
		strings.NewReader(`{"contents":[{"role":"user","parts":[{"text":"x"}]},{"role":"model","parts":[{"functionCall":{"name":"f","args":{}}}]},{"role":"user","parts":[{"functionResponse":{"name":"f","response":{}}}]}]}`))
	req.Header.Set("x-goog-api-key", fakeKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("gemini 2.5 mode refused an unsigned call: %d", resp.StatusCode)
	}
}

func TestEmbed(t *testing.T) {
	up := geminitest.New(t)
	c := newClient(up.URL, func(o *gemini.Options) { o.Model = "gemini-embedding-001" })
	dims := 4
	resp, err := c.Embed(context.Background(), &chat.EmbeddingRequest{Model: "emb", Input: json.RawMessage(`["alpha","beta"]`), Dimensions: &dims})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Object != "list" || resp.Model != "gemini-embedding-001" || resp.Usage != nil || len(resp.Data) != 2 {
		t.Fatalf("response %+v", resp)
	}
	for i, d := range resp.Data {
		want := geminitest.Embedding([]string{"alpha", "beta"}[i], 4)
		if d.Object != "embedding" || d.Index != i || fmt.Sprint(d.Embedding) != fmt.Sprint(want) {
			t.Errorf("data[%d] = %+v, want %v", i, d, want)
		}
	}
	r := up.Requests()[0]
	if r.Path != "/v1beta/models/gemini-embedding-001:batchEmbedContents" || r.Header.Get("X-Goog-Api-Key") != fakeKey {
		t.Errorf("request %s %v", r.Path, r.Header)
	}
	want := `{"requests":[{"model":"models/gemini-embedding-001","content":{"parts":[{"text":"alpha"}]},"outputDimensionality":4},{"model":"models/gemini-embedding-001","content":{"parts":[{"text":"beta"}]},"outputDimensionality":4}]}`
	if string(r.Raw) != want {
		t.Errorf("body\n%s\nwant\n%s", r.Raw, want)
	}
}

func TestEmbedBatchesOf100(t *testing.T) {
	up := geminitest.New(t)
	c := newClient(up.URL, func(o *gemini.Options) { o.Model = "gemini-embedding-001" })
	inputs := make([]string, 250)
	for i := range inputs {
		inputs[i] = fmt.Sprintf("text %d", i)
	}
	in, _ := json.Marshal(inputs)
	resp, err := c.Embed(context.Background(), &chat.EmbeddingRequest{Input: in})
	if err != nil {
		t.Fatal(err)
	}
	if up.Count() != 3 || len(resp.Data) != 250 {
		t.Fatalf("%d requests, %d vectors", up.Count(), len(resp.Data))
	}
	for i, d := range resp.Data {
		if d.Index != i || fmt.Sprint(d.Embedding) != fmt.Sprint(geminitest.Embedding(inputs[i], geminitest.DefaultDimensions)) {
			t.Fatalf("data[%d] out of order", i)
		}
	}
}

func TestEmbedErrors(t *testing.T) {
	tests := []struct {
		name  string
		reply geminitest.Reply
		input string
		class provider.Class
		local bool
	}{
		{"invalid key", geminitest.InvalidKey(), `"x"`, provider.Auth, false},
		{"rate limited", geminitest.RateLimited("2s"), `"x"`, provider.RateLimited, false},
		{"malformed", geminitest.Reply{Fault: geminitest.MalformedJSON}, `"x"`, provider.ServerError, false},
		{"token input", geminitest.Reply{}, `[[1,2,3]]`, provider.BadRequest, true},
		{"empty input", geminitest.Reply{}, `[]`, provider.BadRequest, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := geminitest.New(t, tt.reply)
			_, err := newClient(up.URL).Embed(context.Background(), &chat.EmbeddingRequest{Input: json.RawMessage(tt.input)})
			pe := asError(t, err)
			if pe.Class != tt.class || pe.Local != tt.local {
				t.Errorf("got %s local=%v, want %s local=%v (%v)", pe.Class, pe.Local, tt.class, tt.local, err)
			}
			checkSafeMessage(t, pe.Message)
		})
	}
}

func TestConcurrentUse(t *testing.T) {
	up := geminitest.New(t, geminitest.Reply{ToolCalls: []geminitest.ToolCall{{Name: "f"}}})
	c := gemini.New(gemini.Options{BaseURL: up.URL, Model: testModel, Key: func(context.Context) (string, error) { return fakeKey, nil }})
	errs := make(chan error, 8)
	for range 8 {
		go func() {
			_, err := c.Chat(context.Background(), providertest.ParseRequest(t, helloRequest))
			errs <- err
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
