package router

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/detour-gateway/detour/chat"
	"github.com/detour-gateway/detour/clock"
	"github.com/detour-gateway/detour/router/cooldown"
	"github.com/detour-gateway/detour/router/provider"
	"github.com/detour-gateway/detour/spend"
)

func ids(ds ...*Deployment) []*Deployment { return ds }

func TestStrategies(t *testing.T) {
	a := &Deployment{ID: "a", Price: spend.Price{Input: 3e-6, Output: 15e-6}, RPM: 10}
	b := &Deployment{ID: "b", Price: spend.Price{Input: 1e-6, Output: 2e-6}, RPM: 100}
	c := &Deployment{ID: "c"} // price unknown, no limits
	max := 1000
	longAnswer := &chat.Request{MaxTokens: &max}

	tests := []struct {
		name     string
		strategy Strategy
		setup    func(s *Stats)
		req      *chat.Request
		cands    []*Deployment
		want     string
	}{
		{"least-busy", LeastBusy{}, func(s *Stats) { s.begin("a", 0); s.begin("a", 0); s.begin("b", 0) }, nil, ids(a, b, c), "c"},
		{"least-busy tie goes to config order", LeastBusy{}, nil, nil, ids(b, a), "b"},
		{"cost: cheapest", CostBased{}, nil, longAnswer, ids(a, b, c), "b"},
		{"cost: unknown price last", CostBased{}, nil, nil, ids(c, a), "a"},
		{"cost: all unknown, config order", CostBased{}, nil, nil, ids(c, &Deployment{ID: "d"}), "c"},
		{"latency: unseen first", LatencyBased{}, func(s *Stats) {
			s.begin("a", 0)
			s.end("a", time.Second, false, &chat.Usage{CompletionTokens: 100}, false)
		}, nil, ids(a, b), "b"},
		{"latency: fastest per token", LatencyBased{}, func(s *Stats) {
			s.begin("a", 0)
			s.end("a", time.Second, false, &chat.Usage{CompletionTokens: 100}, false) // 10 ms/token
			s.begin("b", 0)
			s.end("b", time.Second, false, &chat.Usage{CompletionTokens: 20}, false) // 50 ms/token
		}, nil, ids(b, a), "a"},
		{"latency: streams by time to first content", LatencyBased{}, func(s *Stats) {
			s.begin("a", 0)
			s.end("a", 900*time.Millisecond, true, nil, false)
			s.begin("b", 0)
			s.end("b", 200*time.Millisecond, true, nil, false)
		}, &chat.Request{Stream: true}, ids(a, b), "b"},
		{"latency: a timeout is a large penalty", LatencyBased{}, func(s *Stats) {
			s.begin("a", 0)
			s.end("a", time.Second, false, nil, true)
			s.begin("b", 0)
			s.end("b", 2*time.Second, false, &chat.Usage{CompletionTokens: 10}, false) // 200 ms/token
		}, nil, ids(a, b), "b"},
		{"latency: buffer picks at random among the near", LatencyBased{Buffer: 0.5, Rand: func() float64 { return 0.99 }}, func(s *Stats) {
			s.begin("a", 0)
			s.end("a", time.Second, false, &chat.Usage{CompletionTokens: 100}, false) // 10 ms/token
			s.begin("b", 0)
			s.end("b", time.Second, false, &chat.Usage{CompletionTokens: 80}, false) // 12.5 ms/token: within 50 %
		}, nil, ids(a, b), "b"},
		{"usage: a deployment at its rpm is skipped", UsageBased{}, func(s *Stats) {
			for range 10 {
				s.begin("a", 0)
			}
		}, nil, ids(a, b), "b"},
		{"usage: most room left", UsageBased{}, func(s *Stats) {
			for range 50 {
				s.begin("b", 0)
			}
		}, nil, ids(a, b), "a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewStats(clock.NewFake(t0))
			if tt.setup != nil {
				tt.setup(s)
			}
			got := tt.strategy.Choose(Pick{Request: tt.req, Candidates: tt.cands, Stats: s, PromptTokens: 1000})
			if got.ID != tt.want {
				t.Errorf("chose %s, want %s", got.ID, tt.want)
			}
		})
	}
}

func TestUsageWindowIsAMinute(t *testing.T) {
	clk := clock.NewFake(t0)
	s := NewStats(clk)
	s.begin("a", 500)
	clk.Advance(time.Minute)
	if got := s.snapshot("a"); got.requests != 0 || got.tokens != 0 || got.inFlight != 1 {
		t.Errorf("after a minute: %+v, want the usage reset and the request still in flight", got)
	}
}

func TestNewStrategy(t *testing.T) {
	for _, name := range []string{"", "simple-shuffle", "least-busy", "cost-based-routing", "latency-based-routing", "usage-based-routing", "usage-based-routing-v2"} {
		if _, err := NewStrategy(name, nil, 0); err != nil {
			t.Errorf("%q: %v", name, err)
		}
	}
	if _, err := NewStrategy("fastest", nil, 0); err == nil {
		t.Error("unknown strategy accepted")
	}
}

func TestOrderTiers(t *testing.T) {
	primary := &scripted{name: "primary", errs: []error{perr(provider.ServerError)}}
	backup := &scripted{name: "backup"}
	r, err := New([]Deployment{
		{ID: "backup", Group: "g", Order: 2, Client: backup},
		{ID: "primary", Group: "g", Order: 1, Client: primary},
	}, Settings{NumRetries: 2, Cooldown: cooldown.Policy{AllowedFails: 0, Duration: time.Minute}},
		Options{Clock: clock.NewFake(t0), Rand: func() float64 { return 0 }})
	if err != nil {
		t.Fatal(err)
	}
	resp, tr, err := r.Chat(context.Background(), req("g"))
	if err != nil || resp.Model != "backup" || tr.Attempts[0].Deployment.ID != "primary" {
		t.Fatalf("answered by %v after %+v; want primary first, then backup once primary cooled", resp, tr.Attempts)
	}
	if resp, _, _ := r.Chat(context.Background(), req("g")); resp.Model != "backup" || primary.Calls() != 1 {
		t.Errorf("while primary cools: %s, primary called %d times", resp.Model, primary.Calls())
	}
}

// BenchmarkChoose measures one routing decision per strategy over 8
// deployments with live stats.
func BenchmarkChoose(b *testing.B) {
	var ds []*Deployment
	s := NewStats(clock.NewFake(t0))
	for i := range 8 {
		d := &Deployment{ID: fmt.Sprint("d", i), Weight: i + 1, RPM: 100 * (i + 1), TPM: 100000,
			Price: spend.Price{Input: float64(i+1) * 1e-6, Output: float64(i+1) * 4e-6}}
		ds = append(ds, d)
		s.begin(d.ID, 100)
		s.end(d.ID, time.Duration(i+1)*time.Second, false, &chat.Usage{CompletionTokens: 100}, false)
	}
	req := &chat.Request{Messages: []chat.Message{{Role: "user", Content: chat.TextContent("hello")}}}
	for _, name := range []string{"simple-shuffle", "least-busy", "cost-based-routing", "latency-based-routing", "usage-based-routing-v2"} {
		st, _ := NewStrategy(name, func() float64 { return 0.5 }, 0.1)
		b.Run(name, func(b *testing.B) {
			for range b.N {
				st.Choose(Pick{Request: req, Candidates: ds, Stats: s, PromptTokens: 100})
			}
		})
	}
}
