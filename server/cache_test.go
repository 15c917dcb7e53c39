package server

import (
	"context"
	"encoding/json"
	"fmt"
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
	"github.com/detour-gateway/detour/router/provider"
)

// countingProvider answers "answer N" to its Nth call, or fails with a
// server error while failing is set. Streams are not served.
type countingProvider struct {
	mu      sync.Mutex
	calls   int
	failing bool
}

func (p *countingProvider) Chat(ctx context.Context, req *chat.Request) (*chat.Response, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls++
	if p.failing {
		return nil, &provider.Error{Class: provider.ServerError, Status: http.StatusServiceUnavailable, Message: "overloaded"}
	}
	return &chat.Response{ID: fmt.Sprintf("chatcmpl-%d", p.calls), Object: "chat.completion", Model: "demo",
		Choices: []chat.Choice{{Message: chat.Message{Role: "assistant", Content: chat.TextContent(fmt.Sprintf("answer %d", p.calls))}, FinishReason: "stop"}},
		Usage:   &chat.Usage{PromptTokens: 3, CompletionTokens: 2, TotalTokens: 5}}, nil
}

func (p *countingProvider) Stream(ctx context.Context, req *chat.Request) (provider.Stream, error) {
	return nil, &provider.Error{Class: provider.BadRequest, Message: "this test provider does not stream"}
}

func (p *countingProvider) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls
}

func (p *countingProvider) fail(on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.failing = on
}

// cachedServer is a Server with a real cache (in the test's temp dir, on
// a fake clock) in front of one countingProvider deployment, group "demo".
type cachedServer struct {
	url   string
	up    *countingProvider
	cache *cache.Cache
	clock *clock.Fake
}

func newCachedServer(t *testing.T, mode cache.Mode) *cachedServer {
	t.Helper()
	clk := clock.NewFake(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	up := &countingProvider{}
	r, err := router.New([]router.Deployment{{ID: "up-1", Group: "demo", Provider: "openai", Model: "demo", Client: up}},
		router.Settings{}, router.Options{Clock: clk, Rand: func() float64 { return 0.5 }})
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	c, err := cache.Open(filepath.Join(t.TempDir(), "cache.db"), cache.Options{TTL: time.Hour, Mode: mode, Clock: clk, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	ts := httptest.NewServer(New(Options{Router: func() *router.Router { return r }, Cache: c, Logger: logger}))
	t.Cleanup(ts.Close)
	return &cachedServer{url: ts.URL, up: up, cache: c, clock: clk}
}

// ask posts body with the given header pairs, then waits until the cache
// has written what it was given, and returns the status, the
// x-detour-cache header and the answer's text.
func (s *cachedServer) ask(t *testing.T, body string, header ...string) (status int, state, text string) {
	t.Helper()
	req, _ := http.NewRequest("POST", s.url+"/v1/chat/completions", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Choices []struct {
			Message struct {
				Content string `json:"content"`
			} `json:"message"`
		} `json:"choices"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err == nil && len(out.Choices) > 0 {
		text = out.Choices[0].Message.Content
	}
	if err := s.cache.Flush(); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("X-Detour-Cache"), text
}

// askBody is a request to group demo with the given extra members
// (`"temperature":0.9`), or none.
func askBody(extra string) string {
	if extra != "" {
		extra = "," + extra
	}
	return `{"model":"demo","messages":[{"role":"user","content":"write me a poem"}]` + extra + `}`
}

// TestCacheMode sends the same request twice under each mode: only what
// the mode lets in is answered from the cache the second time; the rest
// goes upstream both times and says BYPASS.
func TestCacheMode(t *testing.T) {
	tests := []struct {
		name   string
		mode   cache.Mode
		extra  string   // request members besides model and messages
		header []string // request header pairs
		want   []string // x-detour-cache of the first and second request
	}{
		{"deterministic: temperature 0.9 goes upstream twice", cache.ModeDeterministic, `"temperature":0.9`, nil, []string{"BYPASS", "BYPASS"}},
		{"deterministic: no temperature samples too", cache.ModeDeterministic, ``, nil, []string{"BYPASS", "BYPASS"}},
		{"deterministic: temperature 1", cache.ModeDeterministic, `"temperature":1`, nil, []string{"BYPASS", "BYPASS"}},
		{"deterministic: top_p alone is not deterministic", cache.ModeDeterministic, `"top_p":0.1`, nil, []string{"BYPASS", "BYPASS"}},
		{"deterministic: temperature 0 hits", cache.ModeDeterministic, `"temperature":0`, nil, []string{"MISS", "HIT"}},
		{"deterministic: temperature 0.0 hits", cache.ModeDeterministic, `"temperature":0.0`, nil, []string{"MISS", "HIT"}},
		{"deterministic: a seed hits", cache.ModeDeterministic, `"temperature":0.9,"seed":42`, nil, []string{"MISS", "HIT"}},
		{"deterministic: a seed without temperature hits", cache.ModeDeterministic, `"seed":0`, nil, []string{"MISS", "HIT"}},
		{"deterministic: body cache ttl asks for caching", cache.ModeDeterministic, `"temperature":0.9,"cache":{"ttl":600}`, nil, []string{"MISS", "HIT"}},
		{"deterministic: body cache s-maxage asks for caching", cache.ModeDeterministic, `"temperature":0.9,"cache":{"s-maxage":600}`, nil, []string{"MISS", "HIT"}},
		{"deterministic: Cache-Control max-age asks for caching", cache.ModeDeterministic, `"temperature":0.9`, []string{"Cache-Control", "max-age=600"}, []string{"MISS", "HIT"}},
		{"deterministic: body cache use-cache true asks for caching", cache.ModeDeterministic, `"temperature":0.9,"cache":{"use-cache":true}`, nil, []string{"MISS", "HIT"}},
		{"deterministic: body cache use-cache false bypasses temperature 0", cache.ModeDeterministic, `"temperature":0,"cache":{"use-cache":false}`, nil, []string{"BYPASS", "BYPASS"}},
		{"all: body cache use-cache false bypasses", cache.ModeAll, `"cache":{"use-cache":false}`, nil, []string{"BYPASS", "BYPASS"}},
		{"deterministic: a namespace alone does not", cache.ModeDeterministic, `"temperature":0.9,"cache":{"namespace":"team-a"}`, nil, []string{"BYPASS", "BYPASS"}},
		{"deterministic: s-maxage 0 does not", cache.ModeDeterministic, `"temperature":0.9,"cache":{"s-maxage":0}`, nil, []string{"BYPASS", "BYPASS"}},
		{"deterministic: no-cache still bypasses temperature 0", cache.ModeDeterministic, `"temperature":0`, []string{"Cache-Control", "no-cache"}, []string{"BYPASS", "BYPASS"}},
		{"all: temperature 0.9 hits", cache.ModeAll, `"temperature":0.9`, nil, []string{"MISS", "HIT"}},
		{"all: no temperature hits", cache.ModeAll, ``, nil, []string{"MISS", "HIT"}},
		{"off: temperature 0 never hits", cache.ModeOff, `"temperature":0`, nil, []string{"BYPASS", "BYPASS"}},
		{"off: an explicit ask does not either", cache.ModeOff, `"temperature":0,"cache":{"ttl":600}`, []string{"Cache-Control", "max-age=600"}, []string{"BYPASS", "BYPASS"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newCachedServer(t, tt.mode)
			_, first, a1 := s.ask(t, askBody(tt.extra), tt.header...)
			_, second, a2 := s.ask(t, askBody(tt.extra), tt.header...)
			if first != tt.want[0] || second != tt.want[1] {
				t.Errorf("x-detour-cache %q then %q, want %q then %q", first, second, tt.want[0], tt.want[1])
			}
			wantCalls, wantSecond := 2, "answer 2"
			if tt.want[1] == "HIT" {
				wantCalls, wantSecond = 1, "answer 1"
			}
			if s.up.count() != wantCalls || a1 != "answer 1" || a2 != wantSecond {
				t.Errorf("%d upstream calls, answers %q then %q; want %d, %q then %q", s.up.count(), a1, a2, wantCalls, "answer 1", wantSecond)
			}
			st, err := s.cache.Stats()
			if err != nil {
				t.Fatal(err)
			}
			// A request the mode leaves out is neither stored nor counted
			// as a miss (no-cache still stores the fresh answer).
			if tt.want[0] == "BYPASS" && len(tt.header) == 0 && (st.Entries != 0 || st.Misses != 0) {
				t.Errorf("a bypassed request was stored or counted as a miss: %+v", st)
			}
		})
	}
}

// TestCacheModeChangesAtOnce: SetMode on the cache in use applies to the
// next request, both ways.
func TestCacheModeChangesAtOnce(t *testing.T) {
	s := newCachedServer(t, cache.ModeAll)
	hot := askBody(`"temperature":0.9`)
	s.ask(t, hot)
	if _, state, _ := s.ask(t, hot); state != "HIT" {
		t.Fatalf("mode all: x-detour-cache %q, want HIT", state)
	}
	s.cache.SetMode(cache.ModeDeterministic)
	if _, state, text := s.ask(t, hot); state != "BYPASS" || text != "answer 2" {
		t.Errorf("after the change to deterministic: %q (%s), want a new answer, BYPASS", text, state)
	}
	s.cache.SetMode(cache.ModeOff)
	cold := askBody(`"temperature":0`)
	s.ask(t, cold)
	if _, state, _ := s.ask(t, cold); state != "BYPASS" || s.up.count() != 4 {
		t.Errorf("mode off: x-detour-cache %q after %d upstream calls, want BYPASS after 4", state, s.up.count())
	}
}

// TestCacheModeStale: the stale fallback follows the mode. When every
// provider fails, an expired entry answers a request the mode lets in, not
// one it leaves out — even one stored while the mode was all.
func TestCacheModeStale(t *testing.T) {
	tests := []struct {
		name      string
		extra     string
		wantState string
		wantOK    bool
	}{
		{"temperature 0 gets the stale answer", `"temperature":0`, "STALE", true},
		{"temperature 0.9 gets the error", `"temperature":0.9`, "BYPASS", false},
		{"temperature 0.9 that asks for caching gets the stale answer", `"temperature":0.9,"cache":{"ttl":60}`, "STALE", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newCachedServer(t, cache.ModeAll)
			s.ask(t, askBody(tt.extra))
			s.cache.SetMode(cache.ModeDeterministic)
			s.clock.Advance(2 * time.Hour) // past the TTL, within the stale window
			s.up.fail(true)
			status, state, text := s.ask(t, askBody(tt.extra))
			if ok := status == http.StatusOK; ok != tt.wantOK || state != tt.wantState {
				t.Errorf("status %d, x-detour-cache %q, answer %q; want ok=%v, %q", status, state, text, tt.wantOK, tt.wantState)
			}
			if tt.wantOK && text != "answer 1" {
				t.Errorf("answer %q, want the stale %q", text, "answer 1")
			}
		})
	}
}

// TestCacheTTLLowered: an entry stored under a TTL of 1h is no longer
// served 2 minutes later once the TTL is lowered to 1 minute.
func TestCacheTTLLowered(t *testing.T) {
	s := newCachedServer(t, cache.ModeDeterministic)
	body := askBody(`"temperature":0`)
	s.ask(t, body)
	s.clock.Advance(2 * time.Minute)
	if _, state, _ := s.ask(t, body); state != "HIT" {
		t.Fatalf("under the 1h TTL: x-detour-cache %q, want HIT", state)
	}
	s.cache.SetLimits(time.Minute, 0)
	if _, state, text := s.ask(t, body); state != "MISS" || text != "answer 2" {
		t.Errorf("after lowering the TTL to 1m: %q (%s), want a new answer, MISS", text, state)
	}
}

// TestDeterministic reads the rule on its own, as the dialects decode it.
func TestDeterministic(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	seed := int64(7)
	tests := []struct {
		name string
		req  chat.Request
		want bool
	}{
		{"no temperature, no seed", chat.Request{}, false},
		{"temperature 0", chat.Request{Temperature: f(0)}, true},
		{"temperature 0.9", chat.Request{Temperature: f(0.9)}, false},
		{"temperature 0.0001", chat.Request{Temperature: f(0.0001)}, false},
		{"seed", chat.Request{Seed: &seed}, true},
		{"seed and temperature 2", chat.Request{Seed: &seed, Temperature: f(2)}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := deterministic(&tt.req); got != tt.want {
				t.Errorf("deterministic = %v, want %v", got, tt.want)
			}
		})
	}
}
