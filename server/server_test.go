package server

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/detour-gateway/detour/router"
	"github.com/detour-gateway/detour/router/provider/mock"
)

func newTestServer(t *testing.T, maxBody int64) *httptest.Server {
	t.Helper()
	r, err := router.New([]router.Deployment{
		{ID: "mock-1", Group: "demo", Provider: "mock", Model: "demo", Client: mock.New(mock.Options{Model: "demo"})},
		{ID: "mock-2", Group: "other", Provider: "mock", Model: "other", Client: mock.New(mock.Options{Model: "other"})},
	}, router.Settings{}, router.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := New(Options{Router: func() *router.Router { return r }, MaxBodyBytes: maxBody,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return ts
}

type errorResponse struct {
	Error struct {
		Message string  `json:"message"`
		Type    string  `json:"type"`
		Param   *string `json:"param"`
		Code    *string `json:"code"`
	} `json:"error"`
}

func TestRequestErrors(t *testing.T) {
	ts := newTestServer(t, 1024)
	tests := []struct {
		name, method, path, body string
		status                   int
		typ, param, code         string
		msg                      string
	}{
		{"invalid json", "POST", "/v1/chat/completions", `{"model":`, 400, "invalid_request_error", "", "", "not valid JSON"},
		{"trailing data", "POST", "/v1/chat/completions", `{"model":"demo","messages":[{"role":"user","content":"x"}]} {}`, 400, "invalid_request_error", "", "", "after top-level value"},
		{"wrong type", "POST", "/v1/chat/completions", `{"model":"demo","messages":[{"role":"user","content":"x"}],"temperature":"hot"}`, 400, "invalid_request_error", "temperature", "", "temperature"},
		{"bad stop", "POST", "/v1/chat/completions", `{"model":"demo","messages":[{"role":"user","content":"x"}],"stop":5}`, 400, "invalid_request_error", "", "", "stop must be"},
		{"no model", "POST", "/v1/chat/completions", `{"messages":[{"role":"user","content":"x"}]}`, 400, "invalid_request_error", "model", "", "model parameter"},
		{"no messages", "POST", "/v1/chat/completions", `{"model":"demo","messages":[]}`, 400, "invalid_request_error", "messages", "", "non-empty"},
		{"bad role", "POST", "/v1/chat/completions", `{"model":"demo","messages":[{"role":"robot","content":"x"}]}`, 400, "invalid_request_error", "messages[0].role", "", "robot"},
		{"unknown model", "POST", "/v1/chat/completions", `{"model":"gpt-9","messages":[{"role":"user","content":"x"}]}`, 404, "invalid_request_error", "model", "model_not_found", "demo, other"},
		{"too large", "POST", "/v1/chat/completions", `{"model":"demo","messages":[{"role":"user","content":"` + strings.Repeat("x", 2048) + `"}]}`, 413, "invalid_request_error", "", "request_too_large", "1024 bytes"},
		{"wrong method", "GET", "/v1/chat/completions", ``, 405, "invalid_request_error", "", "", "use POST"},
		{"no such endpoint", "POST", "/v1/completions", `{}`, 404, "invalid_request_error", "", "", "no such endpoint"},
		{"unknown model path", "GET", "/v1/models/gpt-9", ``, 404, "invalid_request_error", "model", "model_not_found", "gpt-9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, ts.URL+tt.path, strings.NewReader(tt.body))
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var e errorResponse
			if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
				t.Fatalf("error body is not OpenAI-shaped JSON: %v", err)
			}
			if resp.StatusCode != tt.status || e.Error.Type != tt.typ || !strings.Contains(e.Error.Message, tt.msg) {
				t.Errorf("got %d %q %q, want %d %q containing %q", resp.StatusCode, e.Error.Type, e.Error.Message, tt.status, tt.typ, tt.msg)
			}
			if got := deref(e.Error.Param); got != tt.param {
				t.Errorf("param = %q, want %q", got, tt.param)
			}
			if got := deref(e.Error.Code); got != tt.code {
				t.Errorf("code = %q, want %q", got, tt.code)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
		})
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func TestModelsAndHealth(t *testing.T) {
	ts := newTestServer(t, 0)
	for _, path := range []string{"/v1/models", "/models"} {
		resp, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		var list struct {
			Object string `json:"object"`
			Data   []struct {
				ID      string `json:"id"`
				Object  string `json:"object"`
				OwnedBy string `json:"owned_by"`
			} `json:"data"`
		}
		json.NewDecoder(resp.Body).Decode(&list)
		resp.Body.Close()
		if list.Object != "list" || len(list.Data) != 2 || list.Data[0].ID != "demo" || list.Data[1].ID != "other" ||
			list.Data[0].Object != "model" || list.Data[0].OwnedBy != "detour" {
			t.Errorf("%s = %+v", path, list)
		}
	}
	resp, err := http.Get(ts.URL + "/v1/models/demo")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"id":"demo"`) || !strings.Contains(string(b), `"object":"model"`) {
		t.Errorf("/v1/models/demo = %d %s", resp.StatusCode, b)
	}
	resp, err = http.Get(ts.URL + "/health")
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"status":"ok"`) {
		t.Errorf("/health = %d %s", resp.StatusCode, b)
	}
}

func TestStreamWireFormat(t *testing.T) {
	ts := newTestServer(t, 0)
	resp, err := http.Post(ts.URL+"/chat/completions", "application/json",
		strings.NewReader(`{"model":"demo","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"x"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Errorf("Content-Type = %q", ct)
	}
	events := strings.Split(strings.TrimSuffix(string(b), "\n\n"), "\n\n")
	if events[len(events)-1] != "data: [DONE]" {
		t.Errorf("last event = %q, want data: [DONE]", events[len(events)-1])
	}
	usage := false
	for _, ev := range events[:len(events)-1] {
		data, ok := strings.CutPrefix(ev, "data: ")
		if !ok || strings.Contains(data, "\n") {
			t.Fatalf("malformed event %q", ev)
		}
		var c struct {
			Object string          `json:"object"`
			Usage  json.RawMessage `json:"usage"`
		}
		if err := json.Unmarshal([]byte(data), &c); err != nil || c.Object != "chat.completion.chunk" {
			t.Fatalf("event %q is not a chunk: %v", data, err)
		}
		usage = usage || len(c.Usage) > 0
	}
	if !usage {
		t.Error("no usage chunk although include_usage was set")
	}
}

func TestGuardAPI(t *testing.T) {
	tests := []struct {
		name, method, remote, host, origin, contentType string
		want                                            int // 0: allowed
	}{
		{"loopback get", "GET", "", "127.0.0.1:4000", "", "", 0},
		{"localhost get", "GET", "", "localhost:4000", "", "", 0},
		{"ipv6 loopback", "GET", "[::1]:5123", "[::1]:4000", "", "", 0},
		{"dns rebinding", "GET", "", "attacker.example:4000", "", "", 403},
		{"private address", "GET", "", "192.168.1.10:4000", "", "", 403},
		{"another machine naming loopback", "GET", "192.168.1.20:5123", "127.0.0.1:4000", "", "", 403},
		{"local page", "POST", "", "127.0.0.1:4000", "http://127.0.0.1:4000", "application/json", 0},
		{"another local page", "POST", "", "127.0.0.1:4000", "http://127.0.0.1:5173", "application/json", 403},
		{"foreign page", "POST", "", "127.0.0.1:4000", "https://evil.example", "application/json", 403},
		{"form post", "POST", "", "127.0.0.1:4000", "", "application/x-www-form-urlencoded", 415},
		{"json with charset", "POST", "", "localhost", "", "application/json; charset=utf-8", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, "/api/v1/deployments", nil)
			r.RemoteAddr = "127.0.0.1:5123"
			if tt.remote != "" {
				r.RemoteAddr = tt.remote
			}
			r.Host = tt.host
			if tt.origin != "" {
				r.Header.Set("Origin", tt.origin)
			}
			if tt.contentType != "" {
				r.Header.Set("Content-Type", tt.contentType)
			}
			e := guardAPI(r)
			switch {
			case tt.want == 0 && e != nil:
				t.Errorf("refused: %d %s", e.Status, e.Body.Message)
			case tt.want != 0 && (e == nil || e.Status != tt.want):
				t.Errorf("got %v, want status %d", e, tt.want)
			}
		})
	}
}
