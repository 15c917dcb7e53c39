package router

import (
	"context"
	"errors"
	"io"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/detour-gateway/detour/chat"
	"github.com/detour-gateway/detour/clock"
	"github.com/detour-gateway/detour/router/cooldown"
	"github.com/detour-gateway/detour/router/provider"
)

// scripted is a provider whose calls fail with errs in order, then succeed.
// A streamed success sends "hello", then fails with midErr if set.
type scripted struct {
	name   string
	mu     sync.Mutex
	errs   []error
	calls  int
	midErr error
	hang   bool // block until the context ends
}

func (s *scripted) next(ctx context.Context) error {
	s.mu.Lock()
	s.calls++
	var err error
	if len(s.errs) > 0 {
		err, s.errs = s.errs[0], s.errs[1:]
	}
	s.mu.Unlock()
	if s.hang {
		<-ctx.Done()
		return provider.TransportError(ctx.Err())
	}
	return err
}

func (s *scripted) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

func (s *scripted) Chat(ctx context.Context, req *chat.Request) (*chat.Response, error) {
	if err := s.next(ctx); err != nil {
		return nil, err
	}
	return &chat.Response{Model: s.name, Choices: []chat.Choice{{Message: chat.Message{Role: "assistant", Content: chat.TextContent("hi from " + s.name)}, FinishReason: "stop"}}}, nil
}

func (s *scripted) Stream(ctx context.Context, req *chat.Request) (provider.Stream, error) {
	if err := s.next(ctx); err != nil {
		return nil, err
	}
	chunks := []*chat.Chunk{
		{Model: s.name, Choices: []chat.ChunkChoice{{Delta: chat.Delta{Role: "assistant"}}}},
		{Model: s.name, Choices: []chat.ChunkChoice{{Delta: chat.Delta{Content: "hello from " + s.name}}}},
	}
	if s.midErr == nil {
		chunks = append(chunks, &chat.Chunk{Model: s.name, Choices: []chat.ChunkChoice{{FinishReason: "stop"}}})
	}
	return &sliceStream{chunks: chunks, end: s.midErr}, nil
}

type sliceStream struct {
	chunks []*chat.Chunk
	end    error
}

func (s *sliceStream) Recv() (*chat.Chunk, error) {
	if len(s.chunks) == 0 {
		if s.end != nil {
			return nil, s.end
		}
		return nil, io.EOF
	}
	c := s.chunks[0]
	s.chunks = s.chunks[1:]
	return c, nil
}

func (s *sliceStream) Close() error { return nil }

func perr(c provider.Class) error { return &provider.Error{Class: c, Message: string(c)} }

var t0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

type fixture struct {
	router *Router
	clock  *clock.Fake
	p      map[string]*scripted
}

// dep is a deployment spec for newFixture: "group/name".
type dep struct {
	group, name string
	weight      int
	p           *scripted
}

func newFixture(t *testing.T, s Settings, deps ...dep) *fixture {
	t.Helper()
	f := &fixture{clock: clock.NewFake(t0), p: map[string]*scripted{}}
	var ds []Deployment
	for _, d := range deps {
		if d.p == nil {
			d.p = &scripted{}
		}
		d.p.name = d.name
		f.p[d.name] = d.p
		ds = append(ds, Deployment{ID: d.name, Group: d.group, Provider: "test", Model: d.name, Weight: d.weight, Client: d.p})
	}
	r, err := New(ds, s, Options{Clock: f.clock, Rand: func() float64 { return 0.5 }})
	if err != nil {
		t.Fatal(err)
	}
	f.router = r
	return f
}

func req(group string) *chat.Request {
	return &chat.Request{Model: group, Messages: []chat.Message{{Role: "user", Content: chat.TextContent("hi")}}}
}

func answeredBy(t *testing.T, f *fixture, group string) (string, *Trace, error) {
	t.Helper()
	resp, tr, err := f.router.Chat(context.Background(), req(group))
	if err != nil {
		return "", tr, err
	}
	return resp.Model, tr, nil
}

func TestSimpleShuffle(t *testing.T) {
	a, b, c := &Deployment{ID: "a", Weight: 1}, &Deployment{ID: "b", Weight: 3}, &Deployment{ID: "c"}
	tests := []struct {
		name string
		ds   []*Deployment
		rand float64
		want string
	}{
		{"weight low draw", []*Deployment{a, b}, 0.2, "a"},
		{"weight high draw", []*Deployment{a, b}, 0.3, "b"},
		{"unweighted gets nothing while weighted exist", []*Deployment{c, b}, 0.0, "b"},
		{"rpm when no weight", []*Deployment{{ID: "x", RPM: 100}, {ID: "y", RPM: 300}}, 0.24, "x"},
		{"tpm when no rpm", []*Deployment{{ID: "x", TPM: 100}, {ID: "y", TPM: 300}}, 0.26, "y"},
		{"uniform", []*Deployment{{ID: "x"}, {ID: "y"}, {ID: "z"}}, 0.5, "y"},
		{"uniform top edge", []*Deployment{{ID: "x"}, {ID: "y"}}, 0.9999, "y"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := SimpleShuffle{Rand: func() float64 { return tt.rand }}.Choose(Pick{Candidates: tt.ds})
			if got.ID != tt.want {
				t.Errorf("picked %s, want %s", got.ID, tt.want)
			}
		})
	}
}

func TestRetryGoesToAnotherDeploymentAtOnce(t *testing.T) {
	f := newFixture(t, Settings{NumRetries: 2, Cooldown: cooldown.Policy{AllowedFails: 5}},
		dep{group: "g", name: "a", weight: 9, p: &scripted{errs: []error{perr(provider.ServerError)}}},
		dep{group: "g", name: "b", weight: 1})
	got, tr, err := answeredBy(t, f, "g")
	if err != nil || got != "b" {
		t.Fatalf("answered by %q, err %v; want b", got, err)
	}
	if len(tr.Attempts) != 2 || tr.Attempts[0].Class != provider.ServerError || tr.Answered.ID != "b" {
		t.Errorf("trace = %+v", tr)
	}
	if s := f.clock.Sleeps(); len(s) != 0 {
		t.Errorf("slept %v before retrying on a fresh deployment", s)
	}
}

func TestBackoffOnSameDeployment(t *testing.T) {
	f := newFixture(t, Settings{NumRetries: 2, Cooldown: cooldown.Policy{AllowedFails: 5}},
		dep{group: "g", name: "a", p: &scripted{errs: []error{perr(provider.ServerError), perr(provider.Connection)}}})
	if _, _, err := answeredBy(t, f, "g"); err != nil {
		t.Fatal(err)
	}
	// 500 ms base doubling, jitter: half fixed plus half times rand (0.5).
	want := []time.Duration{375 * time.Millisecond, 750 * time.Millisecond}
	if s := f.clock.Sleeps(); !slices.Equal(s, want) {
		t.Errorf("sleeps = %v, want %v", s, want)
	}
	if n := f.p["a"].Calls(); n != 3 {
		t.Errorf("calls = %d, want 3", n)
	}
}

func TestRetriesExhausted(t *testing.T) {
	f := newFixture(t, Settings{NumRetries: 1, Cooldown: cooldown.Policy{AllowedFails: 5}},
		dep{group: "g", name: "a", p: &scripted{errs: []error{perr(provider.ServerError), perr(provider.Timeout), nil}}})
	_, tr, err := answeredBy(t, f, "g")
	if pe := provider.AsError(err); err == nil || pe.Class != provider.Timeout {
		t.Fatalf("err = %v, want the last failure (timeout)", err)
	}
	if len(tr.Attempts) != 2 {
		t.Errorf("attempts = %d, want 2", len(tr.Attempts))
	}
}

func TestRetryAfterIsHonoured(t *testing.T) {
	f := newFixture(t, Settings{NumRetries: 1, Cooldown: cooldown.Policy{AllowedFails: 5}},
		dep{group: "g", name: "a", p: &scripted{errs: []error{&provider.Error{Class: provider.RateLimited, RetryAfter: 2 * time.Second}}}})
	if _, _, err := answeredBy(t, f, "g"); err != nil {
		t.Fatal(err)
	}
	if s := f.clock.Sleeps(); !slices.Equal(s, []time.Duration{2 * time.Second}) {
		t.Errorf("sleeps = %v, want exactly the 2s Retry-After", s)
	}
	if n := f.p["a"].Calls(); n != 2 {
		t.Errorf("calls = %d, want 2: the wait must leave the last retry its attempt", n)
	}
}

func TestMissingKeyDoesNotCool(t *testing.T) {
	f := newFixture(t, Settings{NumRetries: 0, Cooldown: cooldown.Policy{AllowedFails: 0, Duration: time.Minute}},
		dep{group: "g", name: "a", p: &scripted{errs: []error{&provider.Error{Class: provider.Auth, Local: true, Message: "no API key"}}}})
	if _, _, err := answeredBy(t, f, "g"); err == nil {
		t.Fatal("want the missing-key error")
	}
	if f.router.Cooldowns().Cooling("a") {
		t.Error("a missing key cooled the deployment: setting the key would not help for a minute")
	}
}

func TestRetryAfterBeyondDeadlineFallsThrough(t *testing.T) {
	f := newFixture(t, Settings{NumRetries: 2, Timeout: 30 * time.Second, Cooldown: cooldown.Policy{AllowedFails: 5}},
		dep{group: "g", name: "a", p: &scripted{errs: []error{&provider.Error{Class: provider.RateLimited, RetryAfter: time.Minute}}}})
	_, _, err := answeredBy(t, f, "g")
	if pe := provider.AsError(err); err == nil || pe.Class != provider.RateLimited {
		t.Fatalf("err = %v, want rate_limited", err)
	}
	if s := f.clock.Sleeps(); len(s) != 0 {
		t.Errorf("slept %v for a Retry-After beyond the request's deadline", s)
	}
}

func TestCooldownTakesDeploymentOutOfRotation(t *testing.T) {
	f := newFixture(t, Settings{NumRetries: 1, Cooldown: cooldown.Policy{AllowedFails: 0, Duration: time.Minute}},
		dep{group: "g", name: "a", weight: 1000, p: &scripted{errs: []error{perr(provider.ServerError)}}},
		dep{group: "g", name: "b", weight: 1})
	for i := range 3 {
		if got, _, err := answeredBy(t, f, "g"); err != nil || got != "b" {
			t.Fatalf("request %d answered by %q (%v), want b", i, got, err)
		}
	}
	if n := f.p["a"].Calls(); n != 1 {
		t.Errorf("cooling deployment called %d times, want 1", n)
	}
	f.clock.Advance(time.Minute)
	if got, _, _ := answeredBy(t, f, "g"); got != "a" {
		t.Errorf("after the cooldown answered by %q, want a back in rotation", got)
	}
}

func TestFinalClassesAreReturnedAtOnce(t *testing.T) {
	for _, class := range []provider.Class{provider.BadRequest, provider.ContextWindowExceeded, provider.ContentPolicy} {
		t.Run(string(class), func(t *testing.T) {
			f := newFixture(t, Settings{NumRetries: 3, MaxFallbacks: 5, Fallbacks: map[string][]string{"g": {"h"}},
				Cooldown: cooldown.Policy{AllowedFails: 0}},
				dep{group: "g", name: "a", p: &scripted{errs: []error{perr(class)}}},
				dep{group: "g", name: "b", p: &scripted{errs: []error{perr(class)}}},
				dep{group: "h", name: "c"})
			_, tr, err := answeredBy(t, f, "g")
			if pe := provider.AsError(err); err == nil || pe.Class != class {
				t.Fatalf("err = %v, want %s", err, class)
			}
			if len(tr.Attempts) != 1 || tr.Fallbacks() != 0 {
				t.Errorf("attempts %d, fallbacks %d; want 1, 0", len(tr.Attempts), tr.Fallbacks())
			}
			if f.router.Cooldowns().Cooling(tr.Attempts[0].Deployment.ID) {
				t.Error("a request's own fault cooled the deployment")
			}
		})
	}
}

func TestNonRetryableClassesSkipTheDeployment(t *testing.T) {
	for _, class := range []provider.Class{provider.QuotaExhausted, provider.Auth, provider.NotFound} {
		t.Run(string(class), func(t *testing.T) {
			f := newFixture(t, Settings{NumRetries: 3, Cooldown: cooldown.Policy{AllowedFails: 5}},
				dep{group: "g", name: "a", p: &scripted{errs: []error{perr(class), perr(class), perr(class)}}})
			_, tr, err := answeredBy(t, f, "g")
			if pe := provider.AsError(err); err == nil || pe.Class != class {
				t.Fatalf("err = %v, want %s", err, class)
			}
			if len(tr.Attempts) != 1 {
				t.Errorf("attempts = %d, want 1: %s is not retried on the same deployment", len(tr.Attempts), class)
			}
		})
	}
}

func TestFallbacks(t *testing.T) {
	fail := func() *scripted {
		return &scripted{errs: []error{perr(provider.ServerError), perr(provider.ServerError), perr(provider.ServerError)}}
	}
	tests := []struct {
		name       string
		settings   Settings
		wantGroups []string
		want       string // answering deployment, "" for an error
	}{
		{"ordered", Settings{MaxFallbacks: 5, Fallbacks: map[string][]string{"a": {"b", "ok"}}}, []string{"a", "b", "ok"}, "ok"},
		{"recursive", Settings{MaxFallbacks: 5, Fallbacks: map[string][]string{"a": {"b"}, "b": {"ok"}}}, []string{"a", "b", "ok"}, "ok"},
		{"bounded by max_fallbacks", Settings{MaxFallbacks: 1, Fallbacks: map[string][]string{"a": {"b", "ok"}}}, []string{"a", "b"}, ""},
		{"default_fallbacks", Settings{MaxFallbacks: 5, DefaultFallbacks: []string{"ok"}}, []string{"a", "ok"}, "ok"},
		{"wildcard", Settings{MaxFallbacks: 5, Fallbacks: map[string][]string{"*": {"ok"}}}, []string{"a", "ok"}, "ok"},
		{"group entry beats wildcard", Settings{MaxFallbacks: 5, Fallbacks: map[string][]string{"*": {"ok"}, "a": {"b"}}}, []string{"a", "b", "ok"}, "ok"},
		{"never back to a tried group", Settings{MaxFallbacks: 5, Fallbacks: map[string][]string{"a": {"b"}, "b": {"a", "ok"}}}, []string{"a", "b", "ok"}, "ok"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.settings.Cooldown = cooldown.Policy{AllowedFails: 100}
			f := newFixture(t, tt.settings,
				dep{group: "a", name: "a1", p: fail()}, dep{group: "b", name: "b1", p: fail()}, dep{group: "ok", name: "ok1"})
			got, tr, err := answeredBy(t, f, "a")
			if tt.want == "" {
				if err == nil {
					t.Fatalf("answered by %s, want an error", got)
				}
			} else if err != nil || got != tt.want+"1" {
				t.Fatalf("answered by %q (%v), want %s1", got, err, tt.want)
			}
			if !slices.Equal(tr.Groups, tt.wantGroups) {
				t.Errorf("groups = %v, want %v", tr.Groups, tt.wantGroups)
			}
			if f.p["a1"].Calls() != 1 {
				t.Errorf("group a tried %d times, want once", f.p["a1"].Calls())
			}
		})
	}
}

// A request with nowhere else to go waits for a cooling deployment only
// when it comes back within MaxCooldownWait; otherwise it fails at once
// with a Retry-After of when it returns (it used to hang for 54 s).
func TestCooldownWaitIsBounded(t *testing.T) {
	tests := []struct {
		name      string
		cooldown  time.Duration
		maxWait   time.Duration
		wantSleep []time.Duration
		wantErr   bool
	}{
		{"within the bound", 2 * time.Second, 0, []time.Duration{2 * time.Second}, false},
		{"beyond the default bound", 54 * time.Second, 0, nil, true},
		{"beyond a set bound", 10 * time.Second, 5 * time.Second, nil, true},
		{"never wait", time.Second, -1, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, Settings{NumRetries: 0, MaxCooldownWait: tt.maxWait, Cooldown: cooldown.Policy{AllowedFails: 0, Duration: tt.cooldown}},
				dep{group: "g", name: "a"})
			f.router.Cooldowns().Fail("a", provider.ServerError, 0)
			got, tr, err := answeredBy(t, f, "g")
			if s := f.clock.Sleeps(); !slices.Equal(s, tt.wantSleep) {
				t.Errorf("sleeps = %v, want %v", s, tt.wantSleep)
			}
			if !tt.wantErr {
				if err != nil || got != "a" {
					t.Fatalf("answered by %q (%v), want a after the wait", got, err)
				}
				return
			}
			if pe := provider.AsError(err); err == nil || pe.RetryAfter != tt.cooldown || len(tr.Attempts) != 0 {
				t.Fatalf("err = %v (retry-after %v, %d attempts), want an error at once with retry-after %v", err, pe.RetryAfter, len(tr.Attempts), tt.cooldown)
			}
		})
	}
}

// The local tier is somewhere to go: with it, a cooling group is not
// waited for at all.
func TestLocalTierMeansNoCooldownWait(t *testing.T) {
	local := &scripted{name: "local"}
	ld := &Deployment{ID: "local", Group: "g", Provider: "ollama", Client: local}
	clk := clock.NewFake(t0)
	r, err := New([]Deployment{{ID: "a", Group: "g", Provider: "openai", Client: &scripted{name: "a"}}},
		Settings{Cooldown: cooldown.Policy{AllowedFails: 0, Duration: 2 * time.Second}},
		Options{Clock: clk, Degrade: &Degrade{Deployment: func(context.Context, string) (*Deployment, error) { return ld, nil }}})
	if err != nil {
		t.Fatal(err)
	}
	r.Cooldowns().Fail("a", provider.ServerError, 0)
	resp, tr, err := r.Chat(context.Background(), req("g"))
	if err != nil || resp.Model != "local" || tr.Degraded == "" || len(clk.Sleeps()) != 0 {
		t.Fatalf("answered by %v (degraded %q) after sleeps %v, err %v; want the local tier at once", resp, tr.Degraded, clk.Sleeps(), err)
	}
}

func TestCoolingGroupFailsOverInsteadOfWaiting(t *testing.T) {
	f := newFixture(t, Settings{MaxFallbacks: 1, Fallbacks: map[string][]string{"g": {"h"}}, Cooldown: cooldown.Policy{AllowedFails: 0, Duration: 10 * time.Second}},
		dep{group: "g", name: "a"}, dep{group: "h", name: "b"})
	f.router.Cooldowns().Fail("a", provider.RateLimited, 0)
	if got, tr, err := answeredBy(t, f, "g"); err != nil || got != "b" || len(tr.Attempts) != 1 {
		t.Fatalf("answered by %q (%v), want b with one attempt", got, err)
	}
	if s := f.clock.Sleeps(); len(s) != 0 {
		t.Errorf("slept %v although a fallback was available", s)
	}
}

func TestCoolingBeyondWaitIsAnError(t *testing.T) {
	f := newFixture(t, Settings{Timeout: 30 * time.Second, Cooldown: cooldown.Policy{AllowedFails: 0, Duration: time.Minute}},
		dep{group: "g", name: "a"})
	f.router.Cooldowns().Fail("a", provider.RateLimited, 0)
	_, tr, err := answeredBy(t, f, "g")
	pe := provider.AsError(err)
	if err == nil || pe.Class != provider.RateLimited || pe.RetryAfter != time.Minute || len(tr.Attempts) != 0 {
		t.Fatalf("err = %v (retry-after %v, %d attempts), want rate_limited with retry-after 1m and no attempt", err, pe.RetryAfter, len(tr.Attempts))
	}
}

func TestUnknownGroup(t *testing.T) {
	f := newFixture(t, Settings{}, dep{group: "g", name: "a"})
	if _, _, err := answeredBy(t, f, "nope"); !errors.Is(err, ErrUnknownGroup) {
		t.Errorf("err = %v, want ErrUnknownGroup", err)
	}
}

func TestHungProviderFailsOverOnTimeout(t *testing.T) {
	f := newFixture(t, Settings{NumRetries: 0, MaxFallbacks: 1, Fallbacks: map[string][]string{"g": {"h"}}},
		dep{group: "g", name: "a", p: &scripted{hang: true}}, dep{group: "h", name: "b"})
	f.router.groups["g"][0].Timeout = 10 * time.Millisecond
	got, tr, err := answeredBy(t, f, "g")
	if err != nil || got != "b" || tr.Attempts[0].Class != provider.Timeout {
		t.Fatalf("answered by %q (%v), trace %+v; want b after a timeout", got, err, tr.Attempts)
	}
}

func TestRequestTimeout(t *testing.T) {
	f := newFixture(t, Settings{Timeout: 10 * time.Millisecond}, dep{group: "g", name: "a", p: &scripted{hang: true}})
	_, _, err := answeredBy(t, f, "g")
	if pe := provider.AsError(err); err == nil || pe.Class != provider.Timeout {
		t.Fatalf("err = %v, want timeout", err)
	}
}

func TestClientCancelStopsRouting(t *testing.T) {
	f := newFixture(t, Settings{NumRetries: 3, MaxFallbacks: 1, Fallbacks: map[string][]string{"g": {"h"}}},
		dep{group: "g", name: "a", p: &scripted{hang: true}}, dep{group: "h", name: "b"})
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for f.p["a"].Calls() == 0 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	if _, _, err := f.router.Chat(ctx, req("g")); err == nil {
		t.Fatal("want an error after the client left")
	}
	if f.p["b"].Calls() != 0 || f.router.Cooldowns().Cooling("a") {
		t.Error("a client leaving triggered a fallback or a cooldown")
	}
}

func readAll(t *testing.T, s *Stream) (string, error) {
	t.Helper()
	var text string
	for {
		c, err := s.Recv()
		if err == io.EOF {
			return text, nil
		}
		if err != nil {
			return text, err
		}
		for _, ch := range c.Choices {
			text += ch.Delta.Content
		}
	}
}

func TestStreamFailsOverBeforeFirstContent(t *testing.T) {
	f := newFixture(t, Settings{NumRetries: 1, Cooldown: cooldown.Policy{AllowedFails: 5}},
		dep{group: "g", name: "a", weight: 9, p: &scripted{errs: []error{perr(provider.ServerError)}}},
		dep{group: "g", name: "b", weight: 1})
	s, tr, err := f.router.Stream(context.Background(), req("g"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	text, err := readAll(t, s)
	if err != nil || text != "hello from b" || tr.Answered.ID != "b" {
		t.Errorf("text %q err %v answered %v", text, err, tr.Answered)
	}
}

func TestStreamNeverSplices(t *testing.T) {
	f := newFixture(t, Settings{NumRetries: 2, MaxFallbacks: 1, Fallbacks: map[string][]string{"g": {"h"}}},
		dep{group: "g", name: "a", p: &scripted{midErr: perr(provider.Connection)}}, dep{group: "h", name: "b"})
	s, _, err := f.router.Stream(context.Background(), req("g"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	text, err := readAll(t, s)
	if text != "hello from a" {
		t.Errorf("text = %q, want only a's content", text)
	}
	if pe := provider.AsError(err); err == nil || pe.Class != provider.Connection {
		t.Errorf("err = %v, want the mid-stream failure", err)
	}
	if f.p["b"].Calls() != 0 || f.p["a"].Calls() != 1 {
		t.Errorf("calls a=%d b=%d; a failure after content must not be retried", f.p["a"].Calls(), f.p["b"].Calls())
	}
}

// silent streams only a role chunk, then hangs until its context ends.
type silent struct{ calls int }

func (s *silent) Chat(ctx context.Context, _ *chat.Request) (*chat.Response, error) {
	<-ctx.Done()
	return nil, provider.TransportError(ctx.Err())
}

func (s *silent) Stream(ctx context.Context, _ *chat.Request) (provider.Stream, error) {
	s.calls++
	return &hangStream{ctx: ctx}, nil
}

type hangStream struct {
	ctx  context.Context
	sent bool
}

func (h *hangStream) Recv() (*chat.Chunk, error) {
	if !h.sent {
		h.sent = true
		return &chat.Chunk{Choices: []chat.ChunkChoice{{Delta: chat.Delta{Role: "assistant"}}}}, nil
	}
	<-h.ctx.Done()
	return nil, provider.TransportError(h.ctx.Err())
}

func (h *hangStream) Close() error { return nil }

func TestStreamTimeoutToFirstContent(t *testing.T) {
	clk := clock.NewFake(t0)
	b := &scripted{name: "b"}
	r, err := New([]Deployment{
		{ID: "a", Group: "g", Provider: "slow", Weight: 9, StreamTimeout: 10 * time.Millisecond, Client: &silent{}},
		{ID: "b", Group: "g", Provider: "fast", Weight: 1, Client: b},
	}, Settings{NumRetries: 1, Cooldown: cooldown.Policy{AllowedFails: 5}}, Options{Clock: clk, Rand: func() float64 { return 0 }})
	if err != nil {
		t.Fatal(err)
	}
	s, tr, err := r.Stream(context.Background(), req("g"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if tr.Attempts[0].Class != provider.Timeout || tr.Answered.ID != "b" {
		t.Errorf("attempts %+v; want a timeout on a, then b", tr.Attempts)
	}
}

func TestResolve(t *testing.T) {
	mk := func(id, group string) Deployment {
		return Deployment{ID: id, Group: group, Provider: "mock", Model: "m", Client: &silent{}}
	}
	r, err := New([]Deployment{mk("a", "claude"), mk("b", "claude-*"), mk("c", "claude-haiku-*"), mk("d", "*"), mk("e", "gpt-*-mini")},
		Settings{Aliases: map[string]string{"claude-sonnet-4-5-20250929": "claude"}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, want string }{
		{"claude", "claude"},
		{"claude-sonnet-4-5-20250929", "claude"}, // the alias wins over the wildcard
		{"claude-opus-4-1", "claude-*"},
		{"claude-haiku-4-5", "claude-haiku-*"}, // the longer pattern wins
		{"gpt-4o-mini", "gpt-*-mini"},
		{"gpt-4o", "*"},
		{"anthropic/claude-x", "*"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, ok := r.Resolve(tt.name); !ok || got != tt.want {
				t.Errorf("Resolve(%q) = %q, %v; want %q", tt.name, got, ok, tt.want)
			}
		})
	}
	narrow, _ := New([]Deployment{mk("a", "claude-*")}, Settings{}, Options{})
	if g, ok := narrow.Resolve("gpt-4o"); ok {
		t.Errorf("Resolve(gpt-4o) = %q with no group matching", g)
	}
	if !matchWildcard("a*b*c", "a-x-b-y-c") || matchWildcard("a*b*c", "a-c") || matchWildcard("ab*ba", "aba") {
		t.Error("matchWildcard is wrong on several stars or overlapping ends")
	}
}
