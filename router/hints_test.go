package router

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/detour-gateway/detour/chat"
	"github.com/detour-gateway/detour/clock"
	"github.com/detour-gateway/detour/router/cooldown"
	"github.com/detour-gateway/detour/router/provider"
)

// hintsRouter builds a router over deployments given as "group/id[:tag,tag]".
func hintsRouter(t *testing.T, s Settings, specs ...string) (*Router, map[string]*scripted) {
	t.Helper()
	ps := map[string]*scripted{}
	var ds []Deployment
	for _, spec := range specs {
		group, rest, _ := strings.Cut(spec, "/")
		id, tags, _ := strings.Cut(rest, ":")
		p := &scripted{name: id}
		ps[id] = p
		d := Deployment{ID: id, Group: group, Provider: "test", Model: id, Client: p}
		if tags != "" {
			d.Tags = strings.Split(tags, ",")
		}
		ds = append(ds, d)
	}
	if s.Cooldown.Duration == 0 {
		s.Cooldown = cooldown.Policy{AllowedFails: 0, Duration: time.Minute}
	}
	r, err := New(ds, s, Options{Clock: clock.NewFake(t0), Rand: func() float64 { return 0 },
		EstimateTokens: func(req *chat.Request) int { return len(req.Messages[0].Text()) }})
	if err != nil {
		t.Fatal(err)
	}
	return r, ps
}

func chatWith(r *Router, h Hints, group string) (string, *Trace, error) {
	resp, tr, err := r.Chat(WithHints(context.Background(), h), req(group))
	if err != nil {
		return "", tr, err
	}
	return resp.Model, tr, nil
}

func TestTagsAreNeverBroken(t *testing.T) {
	r, ps := hintsRouter(t, Settings{NumRetries: 2, MaxFallbacks: 2, Fallbacks: map[string][]string{"g": {"h"}}},
		"g/us1", "g/eu1:eu,gdpr", "h/us2", "h/eu2:eu")
	if got, _, err := chatWith(r, Hints{Tags: []string{"eu"}}, "g"); err != nil || got != "eu1" {
		t.Fatalf("answered by %q (%v), want eu1", got, err)
	}
	// Every eu deployment fails: the request falls back only to eu ones,
	// and ends in an error rather than a non-eu answer.
	down := func() []error {
		return []error{perr(provider.ServerError), perr(provider.ServerError), perr(provider.ServerError), perr(provider.ServerError)}
	}
	ps["eu1"].errs, ps["eu2"].errs = down(), down()
	got, tr, err := chatWith(r, Hints{Tags: []string{"eu"}}, "g")
	if err == nil {
		t.Fatalf("answered by %q, want an error: no eu deployment is left", got)
	}
	for _, a := range tr.Attempts {
		if !hasTags(a.Deployment, []string{"eu"}) {
			t.Errorf("attempt on %s, which is not eu", a.Deployment.ID)
		}
	}
	if ps["us1"].Calls()+ps["us2"].Calls() != 0 {
		t.Error("a non-eu deployment was called for an eu request")
	}
	_, _, err = chatWith(r, Hints{Tags: []string{"hipaa"}}, "g")
	if pe := provider.AsError(err); err == nil || !strings.Contains(pe.Message, "carries the tags hipaa") {
		t.Errorf("err = %v, want a clear message about the tags", err)
	}
}

func TestSessionAffinity(t *testing.T) {
	r, ps := hintsRouter(t, Settings{NumRetries: 1}, "g/a", "g/b", "g/c")
	r.Affinity().Set("conv-1", "g", "c")
	for range 3 {
		if got, _, _ := chatWith(r, Hints{Session: "conv-1"}, "g"); got != "c" {
			t.Fatalf("session went to %s, want it kept on c", got)
		}
	}
	// c breaks: the session moves, and stays where it moved.
	ps["c"].errs = []error{perr(provider.ServerError)}
	moved, _, err := chatWith(r, Hints{Session: "conv-1"}, "g")
	if err != nil || moved == "c" {
		t.Fatalf("after c failed: %q (%v)", moved, err)
	}
	if got, _, _ := chatWith(r, Hints{Session: "conv-1"}, "g"); got != moved {
		t.Errorf("session hopped from %s to %s", moved, got)
	}
}

func TestAffinityIsBounded(t *testing.T) {
	a := NewAffinity(3)
	for i := range 5 {
		a.Set(fmt.Sprint("s", i), "g", "d")
	}
	a.Get("s2", "g") // recently used
	a.Set("s5", "g", "d")
	if a.Len() != 3 {
		t.Errorf("len = %d, want 3", a.Len())
	}
	if _, ok := a.Get("s2", "g"); !ok {
		t.Error("a recently used session was dropped")
	}
	if _, ok := a.Get("s0", "g"); ok {
		t.Error("the oldest session was kept")
	}
}

func TestTypedFallbacks(t *testing.T) {
	s := Settings{MaxFallbacks: 3, Fallbacks: map[string][]string{"g": {"plain"}},
		ContextWindowFallbacks: map[string][]string{"g": {"long"}},
		ContentPolicyFallbacks: map[string][]string{"*": {"lax"}}}
	for _, tt := range []struct {
		class provider.Class
		want  string
	}{
		{provider.ContextWindowExceeded, "long1"},
		{provider.ContentPolicy, "lax1"},
		{provider.ServerError, "plain1"},
	} {
		t.Run(string(tt.class), func(t *testing.T) {
			r, ps := hintsRouter(t, s, "g/g1", "plain/plain1", "long/long1", "lax/lax1")
			ps["g1"].errs = []error{perr(tt.class)}
			if got, _, err := chatWith(r, Hints{}, "g"); err != nil || got != tt.want {
				t.Errorf("answered by %q (%v), want %s", got, err, tt.want)
			}
		})
	}
	t.Run("bad request has no fallback", func(t *testing.T) {
		r, ps := hintsRouter(t, s, "g/g1", "plain/plain1", "long/long1", "lax/lax1")
		ps["g1"].errs = []error{perr(provider.BadRequest)}
		if _, _, err := chatWith(r, Hints{}, "g"); err == nil {
			t.Error("a bad request fell back")
		}
	})
}

func TestContextWindowPreCheck(t *testing.T) {
	r, ps := hintsRouter(t, Settings{MaxFallbacks: 2, ContextWindowFallbacks: map[string][]string{"g": {"long"}}},
		"g/small", "g/big", "long/huge")
	r.groups["g"][0].MaxInputTokens = 1 // "hi" is 2 tokens by the test's estimate
	if got, _, _ := chatWith(r, Hints{}, "g"); got != "big" || ps["small"].Calls() != 0 {
		t.Errorf("answered by %s (small called %d times), want big without trying small", got, ps["small"].Calls())
	}
	r.groups["g"][1].MaxInputTokens = 1
	if got, tr, _ := chatWith(r, Hints{}, "g"); got != "huge" || len(tr.Attempts) != 1 {
		t.Errorf("answered by %s after %d attempts, want the context window fallback at once", got, len(tr.Attempts))
	}
}

func TestPerRequestFallbacks(t *testing.T) {
	s := Settings{MaxFallbacks: 3, Fallbacks: map[string][]string{"g": {"configured"}}}
	r, ps := hintsRouter(t, s, "g/g1", "configured/c1", "chosen/x1")
	ps["g1"].errs = []error{perr(provider.ServerError), perr(provider.ServerError), perr(provider.ServerError)}
	if got, _, _ := chatWith(r, Hints{Fallbacks: []string{"chosen"}}, "g"); got != "x1" {
		t.Errorf("answered by %s, want the request's own fallback", got)
	}
	r.Cooldowns().SetPolicy(cooldown.Policy{AllowedFails: 100})
	clkAdvance(r, time.Hour)
	ps["g1"].errs = []error{perr(provider.ServerError)}
	if got, tr, err := chatWith(r, Hints{DisableFallbacks: true}, "g"); err == nil || tr.Fallbacks() != 0 {
		t.Errorf("answered by %s with %d fallbacks, want an error and none", got, tr.Fallbacks())
	}
}

func clkAdvance(r *Router, d time.Duration) { r.clock.(*clock.Fake).Advance(d) }
