package alerts_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/detour-gateway/detour/alerts"
	"github.com/detour-gateway/detour/clock"
	"github.com/detour-gateway/detour/requestlog"
)

var quiet = slog.New(slog.DiscardHandler)

var start = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

// status is a Source the test changes.
type status struct {
	mu sync.Mutex
	s  alerts.Status
}

func (s *status) Status() alerts.Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.s
}

func (s *status) set(st alerts.Status) {
	s.mu.Lock()
	s.s = st
	s.mu.Unlock()
}

// recorder is a Sink keeping what it heard.
type recorder struct {
	mu  sync.Mutex
	got []alerts.Alert
}

func (r *recorder) Notify(a alerts.Alert) {
	r.mu.Lock()
	r.got = append(r.got, a)
	r.mu.Unlock()
}

func attempt(dep, prov, class string, ms int64) requestlog.Record {
	return requestlog.Record{Attempts: []requestlog.Attempt{{Deployment: dep, Provider: prov, Class: class, MS: ms}}}
}

func repeat(n int, r requestlog.Record) []requestlog.Record {
	out := make([]requestlog.Record, n)
	for i := range out {
		out[i] = r
	}
	return out
}

func costly(usd float64) requestlog.Record {
	r := attempt("a", "openai", "", 100)
	r.CostUSD = &usd
	return r
}

func firingIDs(e *alerts.Engine) []string {
	var ids []string
	for _, a := range e.Snapshot().Firing {
		ids = append(ids, a.ID)
	}
	return ids
}

// TestRulesFireAndClear drives each rule with synthetic traffic on a fake
// clock: the alert fires at an evaluation, then clears once the window
// has passed or the state changed.
func TestRulesFireAndClear(t *testing.T) {
	tests := []struct {
		name   string
		feed   func(clk *clock.Fake, e *alerts.Engine, src *status)
		want   []string // the IDs that fire, sorted; the first's reason is checked
		reason string   // a part of its reason
		fix    string
		// clear makes the condition go away; nil means wait out the
		// window.
		clear func(clk *clock.Fake, e *alerts.Engine, src *status)
	}{
		{name: "error rate", want: []string{"error_rate:a"}, reason: "2 of 20 attempts failed",
			feed: func(_ *clock.Fake, e *alerts.Engine, _ *status) {
				for _, r := range append(repeat(18, attempt("a", "openai", "", 100)), repeat(2, attempt("a", "openai", "server_error", 100))...) {
					e.Observe(r)
				}
			}},
		{name: "p95 latency", want: []string{"latency_p95:a"}, reason: "p95 latency 12s",
			feed: func(_ *clock.Fake, e *alerts.Engine, _ *status) {
				for _, r := range append(repeat(9, attempt("a", "openai", "", 100)), repeat(1, attempt("a", "openai", "", 12000))...) {
					e.Observe(r)
				}
			}},
		{name: "auth failure", want: []string{"auth_failure:anthropic"}, reason: "since 2026-03-02T00:00:00Z", fix: "detour keys set anthropic",
			feed: func(_ *clock.Fake, e *alerts.Engine, _ *status) {
				e.Observe(attempt("c", "anthropic", "auth", 10))
			},
			clear: func(_ *clock.Fake, e *alerts.Engine, _ *status) {
				e.Observe(attempt("c", "anthropic", "", 10))
			}},
		{name: "provider unresponsive", want: []string{"provider_unresponsive:gemini"}, reason: "all 3 attempts",
			feed: func(_ *clock.Fake, e *alerts.Engine, _ *status) {
				e.Observe(attempt("g1", "gemini", "connection", 10))
				e.Observe(attempt("g2", "gemini", "timeout", 10))
				e.Observe(attempt("g1", "gemini", "connection", 10))
			}},
		{name: "budget 80", want: []string{"budget_80:provider openai daily"}, reason: "$8.50 of $10.00",
			feed: func(_ *clock.Fake, _ *alerts.Engine, src *status) {
				src.set(alerts.Status{Budgets: []alerts.Budget{{Scope: "provider", Name: "openai", Period: "daily", LimitUSD: 10, SpentUSD: 8.5}}})
			},
			clear: func(_ *clock.Fake, _ *alerts.Engine, src *status) { src.set(alerts.Status{}) }},
		{name: "budget 100", want: []string{"budget_100:global monthly", "budget_80:global monthly"}, reason: "(120 %)",
			feed: func(_ *clock.Fake, _ *alerts.Engine, src *status) {
				src.set(alerts.Status{Budgets: []alerts.Budget{{Scope: "global", Period: "monthly", LimitUSD: 100, SpentUSD: 120}}})
			},
			clear: func(_ *clock.Fake, _ *alerts.Engine, src *status) {
				src.set(alerts.Status{Budgets: []alerts.Budget{{Scope: "global", Period: "monthly", LimitUSD: 100, SpentUSD: 50}}})
			}},
		{name: "offline", want: []string{"offline:gateway"}, reason: "offline",
			feed: func(clk *clock.Fake, _ *alerts.Engine, src *status) {
				src.set(alerts.Status{Offline: true, OfflineSince: clk.Now()})
			},
			clear: func(_ *clock.Fake, _ *alerts.Engine, src *status) { src.set(alerts.Status{}) }},
		{name: "spend spike", want: []string{"spend_spike:today"}, reason: "$5.00 is above 2× yesterday's $2.00",
			feed: func(clk *clock.Fake, e *alerts.Engine, _ *status) {
				// Yesterday: $2 by 10:00, $10 later in the day.
				clk.Advance(10 * time.Hour)
				e.Observe(costly(2))
				clk.Advance(5 * time.Hour)
				e.Observe(costly(10))
				// Today, by 10:30: $5.
				clk.Advance(19*time.Hour + 30*time.Minute)
				e.Observe(costly(5))
			},
			clear: func(clk *clock.Fake, _ *alerts.Engine, _ *status) {
				// By 15:00 yesterday's $12 is past today's $5.
				clk.Advance(5 * time.Hour)
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := clock.NewFake(start)
			src := &status{}
			sink := &recorder{}
			e := alerts.New(src, alerts.Options{Clock: clk, Sinks: []alerts.Sink{sink}})
			e.Evaluate(clk.Now())
			if ids := firingIDs(e); len(ids) != 0 {
				t.Fatalf("firing before any traffic: %v", ids)
			}
			tt.feed(clk, e, src)
			e.Evaluate(clk.Now())
			snap := e.Snapshot()
			if ids := firingIDs(e); !slices.Equal(ids, tt.want) {
				t.Fatalf("firing %v, want %v", ids, tt.want)
			}
			a := snap.Firing[0]
			if a.State != alerts.Firing || !a.FiredAt.Equal(clk.Now()) || a.ResolvedAt != nil ||
				!strings.Contains(a.Reason, tt.reason) || a.Fix != tt.fix {
				t.Fatalf("alert %+v, want firing now, reason with %q, fix %q", a, tt.reason, tt.fix)
			}
			// Still firing at the next evaluation: not fired twice.
			clk.Advance(15 * time.Second)
			e.Evaluate(clk.Now())
			if tt.clear != nil {
				tt.clear(clk, e, src)
			} else {
				clk.Advance(alerts.DefaultWindow)
			}
			e.Evaluate(clk.Now())
			snap = e.Snapshot()
			if len(snap.Firing) != 0 {
				t.Fatalf("still firing after the condition cleared: %v", firingIDs(e))
			}
			if len(snap.History) != len(tt.want) || snap.History[0].State != alerts.Resolved || snap.History[0].ResolvedAt == nil ||
				!snap.History[0].ResolvedAt.Equal(clk.Now()) {
				t.Fatalf("history %+v, want the one alert, resolved now", snap.History)
			}
			n := len(tt.want)
			if len(sink.got) != 2*n || sink.got[0].State != alerts.Firing || sink.got[n].State != alerts.Resolved {
				t.Fatalf("sink heard %+v, want fired then resolved", sink.got)
			}
		})
	}
}

// TestQuietTraffic checks what must not alert: too few requests, the
// caller's own errors, a provider that fails and answers, spend before a
// whole yesterday was watched.
func TestQuietTraffic(t *testing.T) {
	clk := clock.NewFake(start.Add(12 * time.Hour))
	e := alerts.New(nil, alerts.Options{Clock: clk})
	for _, r := range repeat(5, attempt("few", "openai", "server_error", 20000)) {
		e.Observe(r)
	}
	for _, r := range repeat(20, attempt("callers", "openai", "bad_request", 10)) {
		e.Observe(r)
	}
	e.Observe(attempt("x", "mistral", "timeout", 10))
	e.Observe(attempt("x", "mistral", "timeout", 10))
	e.Observe(attempt("x", "mistral", "", 10))
	e.Observe(costly(50))
	clk.Advance(24 * time.Hour) // a day later, but the engine never saw all of a yesterday
	e.Observe(costly(500))
	e.Evaluate(clk.Now().Add(-24*time.Hour + time.Minute))
	e.Evaluate(clk.Now())
	if ids := firingIDs(e); len(ids) != 0 {
		t.Fatalf("firing %v, want none", ids)
	}
}

func TestHistoryBounded(t *testing.T) {
	clk := clock.NewFake(start)
	src := &status{}
	e := alerts.New(src, alerts.Options{Clock: clk, History: 3})
	for range 5 {
		src.set(alerts.Status{Offline: true})
		e.Evaluate(clk.Now())
		clk.Advance(time.Minute)
		src.set(alerts.Status{})
		e.Evaluate(clk.Now())
		clk.Advance(time.Minute)
	}
	h := e.Snapshot().History
	if len(h) != 3 {
		t.Fatalf("history holds %d, want 3", len(h))
	}
	// Newest first: the last fired at start+8m.
	if !h[0].FiredAt.Equal(start.Add(8*time.Minute)) || !h[2].FiredAt.Equal(start.Add(4*time.Minute)) {
		t.Fatalf("history %+v, want the last three, newest first", h)
	}
}

// TestWebhook delivers a fired and a resolved alert to a local receiver
// as Slack-compatible JSON.
func TestWebhook(t *testing.T) {
	got := make(chan map[string]any, 4)
	rx := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s with content type %q, want a JSON POST", r.Method, r.Header.Get("Content-Type"))
		}
		b, _ := io.ReadAll(r.Body)
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Errorf("body %s: %v", b, err)
		}
		got <- m
	}))
	defer rx.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	wh := alerts.NewWebhook(rx.URL, alerts.WebhookOptions{Client: rx.Client(), Logger: quiet})
	go wh.Run(ctx)

	clk := clock.NewFake(start)
	e := alerts.New(nil, alerts.Options{Clock: clk, Sinks: []alerts.Sink{wh}})
	e.Observe(attempt("a", "openai", "auth", 10))
	e.Evaluate(clk.Now())
	e.Observe(attempt("a", "openai", "", 10))
	e.Evaluate(clk.Now())

	for i, want := range []string{"Detour alert firing: auth_failure (openai)", "Detour alert resolved: auth_failure (openai)"} {
		select {
		case m := <-got:
			text, _ := m["text"].(string)
			if len(m) != 1 || !strings.Contains(text, want) {
				t.Fatalf("message %d: %v, want {\"text\": …%s…}", i, m, want)
			}
			if i == 0 && !strings.Contains(text, "detour keys set openai") {
				t.Fatalf("fired message %q does not say how to rotate the key", text)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("message %d never arrived", i)
		}
	}
}

// TestWebhookNeverBlocks fills the queue of a webhook nobody delivers.
func TestWebhookNeverBlocks(t *testing.T) {
	wh := alerts.NewWebhook("http://127.0.0.1:1", alerts.WebhookOptions{Queue: 1, Logger: quiet})
	for range 10 {
		wh.Notify(alerts.Alert{ID: "x"}) // would hang the test if it blocked
	}
}
