package server

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/detour-gateway/detour/cache"
	"github.com/detour-gateway/detour/chat"
	"github.com/detour-gateway/detour/clock"
	"github.com/detour-gateway/detour/router"
	"github.com/detour-gateway/detour/spend"
)

// savedHit is one hit CacheHits told of.
type savedHit struct {
	provider string
	usd      float64
}

// TestCacheHitsTellsFreshHits: a fresh hit is told with its provider and
// what the answer cost; a miss and a stale answer are not.
func TestCacheHitsTellsFreshHits(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	up := &countingProvider{}
	price := spend.Price{Input: 0.001, Output: 0.01}
	r, err := router.New([]router.Deployment{{ID: "up-1", Group: "demo", Provider: "openai", Model: "demo", Price: price, Client: up}},
		router.Settings{}, router.Options{Clock: clk, Rand: func() float64 { return 0.5 }})
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	c, err := cache.Open(filepath.Join(t.TempDir(), "cache.db"), cache.Options{TTL: time.Hour, Clock: clk, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	var (
		mu   sync.Mutex
		hits []savedHit
	)
	told := CacheHits(c, func(p string, usd float64) {
		mu.Lock()
		defer mu.Unlock()
		hits = append(hits, savedHit{p, usd})
	})
	ts := httptest.NewServer(New(Options{Router: func() *router.Router { return r }, Cache: told, Logger: logger}))
	t.Cleanup(ts.Close)
	s := &cachedServer{url: ts.URL, up: up, cache: c, clock: clk}

	const body = `{"model":"demo","temperature":0,"messages":[{"role":"user","content":"write me a poem"}]}`
	for _, step := range []struct {
		name      string
		do        func()
		wantState string
		wantHits  int
	}{
		{"miss", func() {}, "MISS", 0},
		{"fresh hit", func() {}, "HIT", 1},
		{"stale", func() { clk.Advance(2 * time.Hour); up.fail(true) }, "STALE", 1},
	} {
		step.do()
		if _, state, _ := s.ask(t, body); state != step.wantState {
			t.Fatalf("%s: x-detour-cache %q, want %q", step.name, state, step.wantState)
		}
		mu.Lock()
		n := len(hits)
		mu.Unlock()
		if n != step.wantHits {
			t.Fatalf("%s: %d hits told, want %d", step.name, n, step.wantHits)
		}
	}
	// 3 prompt tokens at $0.001 and 2 completion tokens at $0.01.
	if want := (savedHit{"openai", 3*0.001 + 2*0.01}); hits[0].provider != want.provider || hits[0].usd-want.usd > 1e-12 || want.usd-hits[0].usd > 1e-12 {
		t.Errorf("told %+v, want %+v", hits[0], want)
	}
}

// blockingProvider answers once release is closed; entered is closed
// when it is first called.
type blockingProvider struct {
	countingProvider
	once             sync.Once
	entered, release chan struct{}
}

func (p *blockingProvider) Chat(ctx context.Context, req *chat.Request) (*chat.Response, error) {
	p.once.Do(func() { close(p.entered) })
	select {
	case <-p.release:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return p.countingProvider.Chat(ctx, req)
}

// TestMetricsRoute: GET /metrics is served by Options.Metrics behind the
// door's Host, Origin and local key checks, but not its limits: a scrape
// gets through while the gateway is at max_requests. Without
// Options.Metrics it is not served.
func TestMetricsRoute(t *testing.T) {
	up := &blockingProvider{entered: make(chan struct{}), release: make(chan struct{})}
	r, err := router.New([]router.Deployment{{ID: "up-1", Group: "demo", Provider: "openai", Model: "demo", Client: up}},
		router.Settings{}, router.Options{Rand: func() float64 { return 0.5 }})
	if err != nil {
		t.Fatal(err)
	}
	scrape := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "detour_up 1\n") })
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	busy := httptest.NewServer(New(Options{Router: func() *router.Router { return r }, Logger: logger, Metrics: scrape, Limits: Limits{MaxRequests: 1}}))
	t.Cleanup(busy.Close)
	locked := httptest.NewServer(New(Options{Router: func() *router.Router { return r }, Logger: logger, Metrics: scrape, Door: Door{Auth: fixedKey("k-1")}}))
	t.Cleanup(locked.Close)
	without := httptest.NewServer(New(Options{Router: func() *router.Router { return r }, Logger: logger}))
	t.Cleanup(without.Close)

	// Fill the one place for model requests.
	done := make(chan struct{})
	go func() {
		defer close(done)
		resp, err := http.Post(busy.URL+"/v1/chat/completions", "application/json",
			strings.NewReader(`{"model":"demo","messages":[{"role":"user","content":"hold on"}]}`))
		if err == nil {
			resp.Body.Close()
		}
	}()
	<-up.entered
	t.Cleanup(func() { close(up.release); <-done })

	get := func(method, url string, header ...string) int {
		t.Helper()
		req, _ := http.NewRequest(method, url, nil)
		for i := 0; i+1 < len(header); i += 2 {
			if header[i] == "Host" {
				req.Host = header[i+1]
			}
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, tc := range []struct {
		name, method, url string
		header            []string
		want              int
	}{
		{"scrape while busy", "GET", busy.URL + "/metrics", nil, http.StatusOK},
		{"model request while busy", "GET", busy.URL + "/v1/models", nil, http.StatusServiceUnavailable},
		{"foreign host", "GET", busy.URL + "/metrics", []string{"Host", "evil.example.com"}, http.StatusForbidden},
		{"foreign page", "GET", busy.URL + "/metrics", []string{"Origin", "https://evil.example.com"}, http.StatusForbidden},
		{"POST", "POST", busy.URL + "/metrics", []string{"Content-Type", "application/json"}, http.StatusMethodNotAllowed},
		{"no key", "GET", locked.URL + "/metrics", nil, http.StatusUnauthorized},
		{"the key", "GET", locked.URL + "/metrics", []string{"Authorization", "Bearer k-1"}, http.StatusOK},
		{"not served", "GET", without.URL + "/metrics", nil, http.StatusNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := get(tc.method, tc.url, tc.header...); got != tc.want {
				t.Errorf("%s %s: %d, want %d", tc.method, tc.url, got, tc.want)
			}
		})
	}
}

// fixedKey accepts one local key.
type fixedKey string

func (k fixedKey) Authenticate(ctx context.Context, key string) error {
	if key != string(k) {
		return ErrBadLocalKey
	}
	return nil
}
