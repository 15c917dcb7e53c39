package server

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/detour-gateway/detour/router"
	"github.com/detour-gateway/detour/router/provider/mock"
)

// fixedAuth accepts one key; with none, it says no local key exists.
type fixedAuth string

func (f fixedAuth) Authenticate(_ context.Context, key string) error {
	switch {
	case f == "":
		return ErrNoLocalKey
	case key != string(f):
		return ErrBadLocalKey
	}
	return nil
}

// doorServer is a Server with one mock group, "demo", behind door d,
// listening (as far as it knows) on listen.
func doorServer(t *testing.T, d Door, listen string, logs io.Writer) *Server {
	t.Helper()
	r, err := router.New([]router.Deployment{
		{ID: "mock-1", Group: "demo", Provider: "mock", Model: "demo", Client: mock.New(mock.Options{Model: "demo"})},
	}, router.Settings{}, router.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if logs == nil {
		logs = io.Discard
	}
	return New(Options{Router: func() *router.Router { return r }, Door: d, Logger: slog.New(slog.NewTextHandler(logs, nil)),
		Listening: func() string { return listen },
		InterfaceAddrs: func() ([]net.Addr, error) {
			return []net.Addr{&net.IPNet{IP: net.ParseIP("192.168.1.20"), Mask: net.CIDRMask(24, 32)}}, nil
		}})
}

const chatBody = `{"model":"demo","messages":[{"role":"user","content":"hi"}]}`

func TestDoor(t *testing.T) {
	type request struct {
		method, path, host, origin, contentType string
		header                                  map[string]string
	}
	post := func(host string) request {
		return request{method: "POST", path: "/v1/chat/completions", host: host, contentType: "application/json"}
	}
	with := func(r request, f func(*request)) request { f(&r); return r }
	tests := []struct {
		name   string
		door   Door
		listen string
		req    request
		status int
		code   string // the error's code; "" for none
		check  func(t *testing.T, h http.Header)
	}{
		{name: "loopback address", req: post("127.0.0.1:4000"), status: 200},
		{name: "localhost", req: post("localhost:4000"), status: 200},
		{name: "ipv6 loopback", req: post("[::1]:4000"), status: 200},
		{name: "hostile host on /v1", req: post("evil.example.com"), status: 403, code: "host_not_allowed"},
		{name: "hostile host on /health", req: request{method: "GET", path: "/health", host: "evil.example.com:4000"}, status: 403, code: "host_not_allowed"},
		{name: "hostile host on models", req: request{method: "GET", path: "/models", host: "attacker.test"}, status: 403, code: "host_not_allowed"},
		{name: "allowed host", door: Door{AllowedHosts: []string{"Studio.local"}}, req: post("studio.local:4000"), status: 200},
		{name: "listen name", listen: "gateway.lan:4000", req: post("gateway.lan:4000"), status: 200},
		{name: "listen address", listen: "192.168.1.20:4000", req: post("192.168.1.20:4000"), status: 200},
		{name: "other address with specific listen", listen: "192.168.1.20:4000", req: post("192.168.1.99:4000"), status: 403, code: "host_not_allowed"},
		{name: "machine address with wildcard listen", listen: "0.0.0.0:4000", req: post("192.168.1.20:4000"), status: 200},
		{name: "foreign address with wildcard listen", listen: "0.0.0.0:4000", req: post("10.9.8.7:4000"), status: 403, code: "host_not_allowed"},
		{name: "hostile origin", req: with(post("127.0.0.1:4000"), func(r *request) { r.origin = "https://evil.example.com" }), status: 403, code: "origin_not_allowed"},
		{name: "another local page", req: with(post("127.0.0.1:4000"), func(r *request) { r.origin = "http://127.0.0.1:5173" }), status: 403, code: "origin_not_allowed"},
		{name: "null origin", req: with(post("127.0.0.1:4000"), func(r *request) { r.origin = "null" }), status: 403, code: "origin_not_allowed"},
		{name: "own page", req: with(post("127.0.0.1:4000"), func(r *request) { r.origin = "http://127.0.0.1:4000" }), status: 200,
			check: func(t *testing.T, h http.Header) {
				if h.Get("Access-Control-Allow-Origin") != "" {
					t.Error("a same-origin answer carries CORS headers")
				}
			}},
		{name: "cors origin", door: Door{CORSOrigins: []string{"http://localhost:3000"}},
			req: with(post("127.0.0.1:4000"), func(r *request) { r.origin = "http://localhost:3000" }), status: 200,
			check: func(t *testing.T, h http.Header) {
				if h.Get("Access-Control-Allow-Origin") != "http://localhost:3000" || !strings.Contains(h.Get("Access-Control-Expose-Headers"), "X-Detour-Provider") {
					t.Errorf("CORS headers = %v", h)
				}
			}},
		{name: "cors origin default port", door: Door{CORSOrigins: []string{"https://app.example:443"}},
			req: with(post("127.0.0.1:4000"), func(r *request) { r.origin = "https://app.example" }), status: 200},
		{name: "preflight allowed", door: Door{CORSOrigins: []string{"http://localhost:3000"}},
			req: request{method: "OPTIONS", path: "/v1/chat/completions", host: "127.0.0.1:4000", origin: "http://localhost:3000",
				header: map[string]string{"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization, content-type"}},
			status: 204,
			check: func(t *testing.T, h http.Header) {
				if h.Get("Access-Control-Allow-Origin") != "http://localhost:3000" || !strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") ||
					h.Get("Access-Control-Allow-Headers") != "authorization, content-type" || h.Get("Access-Control-Max-Age") == "" {
					t.Errorf("preflight headers = %v", h)
				}
			}},
		{name: "preflight refused", req: request{method: "OPTIONS", path: "/v1/chat/completions", host: "127.0.0.1:4000", origin: "https://evil.example.com",
			header: map[string]string{"Access-Control-Request-Method": "POST"}}, status: 403, code: "origin_not_allowed"},
		{name: "any origin", door: Door{CORSOrigins: []string{"*"}}, req: with(post("127.0.0.1:4000"), func(r *request) { r.origin = "https://mine.example" }), status: 200},
		{name: "text/plain", req: with(post("127.0.0.1:4000"), func(r *request) { r.contentType = "text/plain" }), status: 415, code: "unsupported_media_type"},
		{name: "form", req: with(post("127.0.0.1:4000"), func(r *request) { r.contentType = "application/x-www-form-urlencoded" }), status: 415, code: "unsupported_media_type"},
		{name: "no content type", req: with(post("127.0.0.1:4000"), func(r *request) { r.contentType = "" }), status: 415, code: "unsupported_media_type"},
		{name: "json with charset", req: with(post("127.0.0.1:4000"), func(r *request) { r.contentType = "Application/JSON; charset=utf-8" }), status: 200},
		{name: "auth: no key", door: Door{Auth: fixedAuth("dtr-right")}, req: post("127.0.0.1:4000"), status: 401, code: "invalid_api_key"},
		{name: "auth: wrong bearer", door: Door{Auth: fixedAuth("dtr-right")},
			req: with(post("127.0.0.1:4000"), func(r *request) { r.header = map[string]string{"Authorization": "Bearer dtr-wrong"} }), status: 401, code: "invalid_api_key"},
		{name: "auth: wrong x-api-key", door: Door{Auth: fixedAuth("dtr-right")},
			req: with(post("127.0.0.1:4000"), func(r *request) { r.header = map[string]string{"X-Api-Key": "dtr-wrong"} }), status: 401, code: "invalid_api_key"},
		{name: "auth: right bearer", door: Door{Auth: fixedAuth("dtr-right")},
			req: with(post("127.0.0.1:4000"), func(r *request) { r.header = map[string]string{"Authorization": "Bearer dtr-right"} }), status: 200},
		{name: "auth: right x-api-key", door: Door{Auth: fixedAuth("dtr-right")},
			req: with(post("127.0.0.1:4000"), func(r *request) { r.header = map[string]string{"X-Api-Key": "dtr-right"} }), status: 200},
		{name: "auth: models too", door: Door{Auth: fixedAuth("dtr-right")}, req: request{method: "GET", path: "/v1/models", host: "127.0.0.1:4000"}, status: 401, code: "invalid_api_key"},
		{name: "auth: no local key yet", door: Door{Auth: fixedAuth("")},
			req: with(post("127.0.0.1:4000"), func(r *request) { r.header = map[string]string{"Authorization": "Bearer anything"} }), status: 401, code: "invalid_api_key"},
		{name: "auth: health stays open", door: Door{Auth: fixedAuth("dtr-right")}, req: request{method: "GET", path: "/health", host: "127.0.0.1:4000"}, status: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := doorServer(t, tt.door, tt.listen, nil)
			var body io.Reader
			if tt.req.method == "POST" {
				body = strings.NewReader(chatBody)
			}
			r := httptest.NewRequest(tt.req.method, tt.req.path, body)
			r.Host, r.RemoteAddr = tt.req.host, "127.0.0.1:50000"
			if tt.req.contentType != "" {
				r.Header.Set("Content-Type", tt.req.contentType)
			}
			if tt.req.origin != "" {
				r.Header.Set("Origin", tt.req.origin)
			}
			for k, v := range tt.req.header {
				r.Header.Set(k, v)
			}
			w := httptest.NewRecorder()
			s.ServeHTTP(w, r)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.status, w.Body)
			}
			if tt.status >= 400 {
				var e errorResponse
				if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Error.Message == "" {
					t.Fatalf("not an OpenAI error body: %s", w.Body)
				}
				if got := ""; e.Error.Code != nil {
					got = *e.Error.Code
					if got != tt.code {
						t.Errorf("code %q, want %q", got, tt.code)
					}
				} else if tt.code != "" {
					t.Errorf("no code, want %q", tt.code)
				}
			}
			if tt.check != nil {
				tt.check(t, w.Header())
			}
		})
	}
}

func TestRefusedHostLoggedOnce(t *testing.T) {
	var logs strings.Builder
	s := doorServer(t, Door{}, "", &logs)
	for range 3 {
		r := httptest.NewRequest("GET", "/v1/models", nil)
		r.Host = "rebind.attacker.test"
		s.ServeHTTP(httptest.NewRecorder(), r)
	}
	if n := strings.Count(logs.String(), "rebind.attacker.test"); n != 1 {
		t.Errorf("the refused host is logged %d times, want once:\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), "detour.server.allowed_hosts") {
		t.Errorf("the log line does not say how to allow the host:\n%s", logs.String())
	}
}

func TestSetDoorApplies(t *testing.T) {
	s := doorServer(t, Door{}, "", nil)
	status := func() int {
		r := httptest.NewRequest("GET", "/v1/models", nil)
		r.Host = "studio.local"
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		return w.Code
	}
	if got := status(); got != 403 {
		t.Fatalf("before: %d, want 403", got)
	}
	s.SetDoor(Door{AllowedHosts: []string{"studio.local"}}, "")
	if got := status(); got != 200 {
		t.Fatalf("after SetDoor: %d, want 200", got)
	}
}
