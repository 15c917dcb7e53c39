package cooldown

import (
	"testing"
	"time"

	"github.com/detour-gateway/detour/clock"
	"github.com/detour-gateway/detour/router/provider"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

type failure struct {
	after      time.Duration // since the previous step
	class      provider.Class
	retryAfter time.Duration
}

func TestCooldown(t *testing.T) {
	tests := []struct {
		name      string
		policy    Policy
		failures  []failure
		wantUntil time.Duration // since t0; 0 = not cooling at the end
	}{
		{"under threshold", Policy{AllowedFails: 1, Duration: time.Minute},
			[]failure{{0, provider.ServerError, 0}}, 0},
		{"over threshold", Policy{AllowedFails: 1, Duration: time.Minute},
			[]failure{{0, provider.ServerError, 0}, {time.Second, provider.Timeout, 0}}, time.Second + time.Minute},
		{"zero allowed cools at once", Policy{AllowedFails: 0, Duration: 30 * time.Second},
			[]failure{{0, provider.Connection, 0}}, 30 * time.Second},
		{"failures outside the window do not count", Policy{AllowedFails: 1, Duration: time.Minute},
			[]failure{{0, provider.ServerError, 0}, {61 * time.Second, provider.ServerError, 0}}, 0},
		{"bad request never cools", Policy{AllowedFails: 0},
			[]failure{{0, provider.BadRequest, 0}, {0, provider.ContextWindowExceeded, 0}, {0, provider.ContentPolicy, 0}}, 0},
		{"zero duration disables threshold cooldowns", Policy{AllowedFails: 0},
			[]failure{{0, provider.ServerError, 0}, {0, provider.ServerError, 0}}, 0},
		{"zero duration keeps retry-after", Policy{AllowedFails: 0},
			[]failure{{0, provider.RateLimited, 3 * time.Second}}, 3 * time.Second},
		{"quota cools long on first failure", Policy{AllowedFails: 3, Duration: time.Minute},
			[]failure{{0, provider.QuotaExhausted, 0}}, time.Hour},
		{"retry-after below threshold", Policy{AllowedFails: 3, Duration: time.Minute},
			[]failure{{0, provider.RateLimited, 5 * time.Second}}, 5 * time.Second},
		{"retry-after extends", Policy{AllowedFails: 0, Duration: time.Minute},
			[]failure{{0, provider.RateLimited, 90 * time.Second}}, 90 * time.Second},
		{"retry-after capped", Policy{AllowedFails: 0, Duration: time.Minute, MaxRetryAfter: 10 * time.Minute},
			[]failure{{0, provider.RateLimited, 24 * time.Hour}}, 10 * time.Minute},
		{"a later failure never shortens", Policy{AllowedFails: 0, Duration: 10 * time.Second},
			[]failure{{0, provider.RateLimited, 5 * time.Minute}, {time.Second, provider.ServerError, 0}}, 5 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := clock.NewFake(t0)
			tr := New(tt.policy, clk)
			for _, f := range tt.failures {
				clk.Advance(f.after)
				tr.Fail("d1", f.class, f.retryAfter)
			}
			until, _, ok := tr.Until("d1")
			if tt.wantUntil == 0 {
				if ok {
					t.Fatalf("cooling until %v, want not cooling", until.Sub(t0))
				}
				return
			}
			if !ok || !until.Equal(t0.Add(tt.wantUntil)) {
				t.Fatalf("until = %v (ok %v), want %v", until.Sub(t0), ok, tt.wantUntil)
			}
			clk.Advance(until.Sub(clk.Now()))
			if tr.Cooling("d1") {
				t.Error("still cooling once the cooldown ended")
			}
		})
	}
}

func TestSetPolicyKeepsState(t *testing.T) {
	clk := clock.NewFake(t0)
	tr := New(Policy{AllowedFails: 0, Duration: time.Minute}, clk)
	tr.Fail("d1", provider.ServerError, 0)
	tr.SetPolicy(Policy{AllowedFails: 5})
	if !tr.Cooling("d1") || tr.Failures("d1") != 1 {
		t.Error("state lost on SetPolicy")
	}
}

func TestHalfOpenAndGrowth(t *testing.T) {
	clk := clock.NewFake(t0)
	tr := New(Policy{AllowedFails: 0, Duration: 10 * time.Second, MaxDuration: 35 * time.Second}, clk)
	state := func() State { s, _, _ := tr.State("d"); return s }

	tr.Fail("d", provider.ServerError, 0)
	for i, want := range []time.Duration{10 * time.Second, 20 * time.Second, 35 * time.Second, 35 * time.Second} {
		until, _, ok := tr.Until("d")
		if !ok || until.Sub(clk.Now()) != want || state() != Cooling {
			t.Fatalf("cooldown %d lasts %v (state %s), want %v", i, until.Sub(clk.Now()), state(), want)
		}
		if tr.Admit("d") {
			t.Fatal("admitted while cooling")
		}
		clk.Advance(want)
		if state() != Probing {
			t.Fatalf("after cooldown %d: state %s, want probing", i, state())
		}
		if !tr.Admit("d") || tr.Admit("d") {
			t.Fatal("half-open must let exactly one trial through")
		}
		tr.Fail("d", provider.Timeout, 0) // the trial fails: a longer cooldown
	}
	clk.Advance(35 * time.Second)
	if !tr.Admit("d") {
		t.Fatal("no trial after the last cooldown")
	}
	tr.Succeed("d")
	if state() != Healthy || !tr.Admit("d") || !tr.Admit("d") {
		t.Fatalf("after a successful trial: state %s; want healthy and open to all", state())
	}
	tr.Fail("d", provider.ServerError, 0)
	if until, _, _ := tr.Until("d"); until.Sub(clk.Now()) != 10*time.Second {
		t.Errorf("after a success the next cooldown lasts %v, want the base 10s", until.Sub(clk.Now()))
	}
}

func TestTrialTimeoutAndRelease(t *testing.T) {
	clk := clock.NewFake(t0)
	tr := New(Policy{AllowedFails: 0, Duration: time.Second, TrialTimeout: time.Minute}, clk)
	tr.Fail("d", provider.ServerError, 0)
	clk.Advance(time.Second)
	if !tr.Admit("d") || tr.Admit("d") {
		t.Fatal("want one trial")
	}
	clk.Advance(time.Minute) // the trial never reported back
	if !tr.Admit("d") {
		t.Fatal("a lost trial blocks the deployment forever")
	}
	tr.Release("d")
	if !tr.Admit("d") {
		t.Error("a released trial was not given back")
	}
}

// A 429 with Retry-After: 1 keeps the deployment out one second, and is
// no strike: the next failure is judged by allowed_fails and the base
// cooldown, not doubled (it used to cool for 120 s).
func TestRetryAfterIsAFloorNotAStrike(t *testing.T) {
	for _, tt := range []struct {
		name      string
		allowed   int
		wantAfter time.Duration // the cooldown the next failure sets; 0 = none
	}{
		{"allowed_fails honoured", 3, 0},
		{"base cooldown, not doubled", 1, time.Minute},
	} {
		t.Run(tt.name, func(t *testing.T) {
			clk := clock.NewFake(t0)
			tr := New(Policy{AllowedFails: tt.allowed, Duration: time.Minute}, clk)
			if until := tr.Fail("d", provider.RateLimited, time.Second); until.Sub(t0) != time.Second {
				t.Fatalf("Retry-After: 1 cooled for %v, want 1s", until.Sub(t0))
			}
			clk.Advance(time.Second)
			if s, _, _ := tr.State("d"); s != Healthy || !tr.Admit("d") || !tr.Admit("d") {
				t.Fatalf("after the Retry-After: state %s; want healthy, not half-open", s)
			}
			until := tr.Fail("d", provider.ServerError, 0)
			if got := until.Sub(clk.Now()); tt.wantAfter == 0 && !until.IsZero() || tt.wantAfter != 0 && got != tt.wantAfter {
				t.Errorf("next failure cools for %v (until %v), want %v", got, until, tt.wantAfter)
			}
		})
	}
}

// A probe that passes puts the deployment back in rotation but keeps its
// history: when the next real request fails, the cooldown grows as after
// a failed trial instead of starting over.
func TestPassedProbeKeepsStrikes(t *testing.T) {
	clk := clock.NewFake(t0)
	tr := New(Policy{AllowedFails: 0, Duration: 10 * time.Second}, clk)
	tr.Fail("d", provider.ServerError, 0)
	clk.Advance(10 * time.Second)
	tr.Probed("d")
	if s, _, _ := tr.State("d"); s != Healthy || !tr.Admit("d") || !tr.Admit("d") {
		t.Fatalf("after a passed probe: state %s; want healthy and open to every request", s)
	}
	if until := tr.Fail("d", provider.ServerError, 0); until.Sub(clk.Now()) != 20*time.Second {
		t.Errorf("a real failure after a passed probe cools for %v, want 20s (the strike kept)", until.Sub(clk.Now()))
	}
	clk.Advance(20 * time.Second)
	tr.Probed("d")
	tr.Succeed("d") // a real answer: history cleared
	if until := tr.Fail("d", provider.ServerError, 0); until.Sub(clk.Now()) != 10*time.Second {
		t.Errorf("after a real success the cooldown is %v, want the base 10s", until.Sub(clk.Now()))
	}
}
