package router

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/detour-gateway/detour/clock"
	"github.com/detour-gateway/detour/router/cooldown"
	"github.com/detour-gateway/detour/router/provider"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func unreachable() error {
	return &provider.Error{Class: provider.Connection, Unreachable: true, Message: "could not connect to the provider"}
}

// hostFixture is two groups: "dead", whose deployments sit on hosts h1
// and h2, and "live" on h3, with a local tier behind both.
type hostFixture struct {
	router  *Router
	hosts   *Hosts
	dead    [2]*scripted
	live    *scripted
	local   *scripted
	back    sync.Map      // host → true once the probe should find it
	changes chan struct{} // one per OnChange
}

func newHostFixture(t *testing.T, deadErrs [2][]error, localErr error) *hostFixture {
	t.Helper()
	f := &hostFixture{live: &scripted{name: "live"}, local: &scripted{name: "local"}, changes: make(chan struct{}, 16)}
	for i := range f.dead {
		f.dead[i] = &scripted{name: fmt.Sprintf("dead%d", i+1), errs: deadErrs[i]}
	}
	if localErr != nil {
		f.local.errs = []error{localErr, localErr, localErr}
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	f.hosts = NewHosts(ctx, func(_ context.Context, host string) bool { _, ok := f.back.Load(host); return ok }, 5*time.Millisecond, quiet)
	f.hosts.SetCloud([]string{"h1:443", "h2:443", "h3:443"})
	f.hosts.OnChange = func() { f.changes <- struct{}{} }
	local := &Deployment{ID: "ollama-llama3.2", Group: "dead", Provider: "ollama", Model: "llama3.2", Client: f.local}
	r, err := New([]Deployment{
		{ID: "dead1", Group: "dead", Provider: "openai", Host: "h1:443", Client: f.dead[0]},
		{ID: "dead2", Group: "dead", Provider: "anthropic", Host: "h2:443", Client: f.dead[1]},
		{ID: "live", Group: "live", Provider: "groq", Host: "h3:443", Client: f.live},
	}, Settings{NumRetries: 2, Cooldown: cooldown.Policy{AllowedFails: 0, Duration: time.Hour}},
		Options{Clock: clock.NewFake(t0), Rand: func() float64 { return 0 }, Hosts: f.hosts,
			Degrade: &Degrade{Deployment: func(context.Context, string) (*Deployment, error) { return local, nil }}})
	if err != nil {
		t.Fatal(err)
	}
	f.router = r
	return f
}

// waitChange waits for the next OnChange; it fails the test if none
// comes within 5 s.
func (f *hostFixture) waitChange(t *testing.T) {
	t.Helper()
	select {
	case <-f.changes:
	case <-time.After(5 * time.Second):
		t.Fatal("no reachability change reported")
	}
}

func (f *hostFixture) calls() int { return f.dead[0].Calls() + f.dead[1].Calls() }

func TestDegradesToTheLocalTier(t *testing.T) {
	f := newHostFixture(t, [2][]error{{perr(provider.ServerError), perr(provider.ServerError)}, {perr(provider.ServerError), perr(provider.ServerError)}}, nil)
	f.router.Cooldowns().SetPolicy(cooldown.Policy{AllowedFails: 5}) // let the group use its retries
	resp, tr, err := f.router.Chat(context.Background(), req("dead"))
	if err != nil || resp.Model != "local" || tr.Degraded != "ollama" {
		t.Fatalf("answered by %v (degraded %q), err %v; want the local tier", resp, tr.Degraded, err)
	}
	if f.calls() != 3 {
		t.Errorf("cloud calls = %d, want 3: the tier comes after the group's retries", f.calls())
	}
	if len(f.hosts.Down()) != 0 {
		t.Errorf("server errors marked hosts %v out of reach", f.hosts.Down())
	}
}

// One group's hosts refusing connections takes only that group to the
// local tier: the other group is still served by its own host, and the
// dead group goes back to its host as soon as it answers.
func TestUnreachableHostsAreSkippedPerHost(t *testing.T) {
	f := newHostFixture(t, [2][]error{{unreachable()}, {unreachable()}}, nil)
	_, tr, err := f.router.Chat(context.Background(), req("dead"))
	if err != nil || tr.Degraded != "ollama" || len(tr.Attempts) != 3 {
		t.Fatalf("first request: degraded %q after %d attempts, err %v; want each host tried once, then the local tier", tr.Degraded, len(tr.Attempts), err)
	}
	if got := f.hosts.Down(); !slices.Equal(got, []string{"h1:443", "h2:443"}) {
		t.Errorf("hosts out of reach = %v, want h1 and h2", got)
	}
	for _, id := range []string{"dead1", "dead2"} {
		if f.router.Cooldowns().Cooling(id) {
			t.Errorf("%s cooled: its host is out of reach, the deployment is not to blame", id)
		}
	}
	if off, _ := f.hosts.Offline(); off {
		t.Error("offline although h3 was never out of reach")
	}
	for _, stream := range []bool{false, true} {
		var tr *Trace
		var err error
		if stream {
			var s *Stream
			s, tr, err = f.router.Stream(context.Background(), req("live"))
			if err == nil {
				s.Close()
			}
		} else {
			_, tr, err = f.router.Chat(context.Background(), req("live"))
		}
		if err != nil || tr.Degraded != "" || tr.Answered == nil || tr.Answered.ID != "live" {
			t.Errorf("stream=%v: the live group was degraded (%q) or failed (%v)", stream, tr.Degraded, err)
		}
	}
	calls := f.calls()
	_, tr, err = f.router.Chat(context.Background(), req("dead"))
	if err != nil || tr.Degraded != "ollama" || len(tr.Attempts) != 1 || f.calls() != calls {
		t.Errorf("while its hosts are out of reach: degraded %q, %d attempts, %d cloud calls, err %v; want straight to the local tier",
			tr.Degraded, len(tr.Attempts), f.calls()-calls, err)
	}
	f.waitChange(t) // h1 went
	f.waitChange(t) // h2 went
	f.back.Store("h2:443", true)
	f.waitChange(t) // the probe found h2
	if !f.hosts.Reachable("h2:443") || f.hosts.Reachable("h1:443") {
		t.Fatalf("after h2 answered a probe: down %v, want only h1", f.hosts.Down())
	}
	resp, tr, err := f.router.Chat(context.Background(), req("dead"))
	if err != nil || resp.Model != "dead2" || tr.Degraded != "" || len(tr.Attempts) != 1 {
		t.Errorf("after h2 came back: answered by %v (degraded %q, %d attempts), err %v; want dead2 at once", resp, tr.Degraded, len(tr.Attempts), err)
	}
}

func TestOfflineIsEveryCloudHost(t *testing.T) {
	f := newHostFixture(t, [2][]error{{unreachable()}, {unreachable()}}, nil)
	f.live.errs = []error{unreachable()}
	f.router.Chat(context.Background(), req("dead"))
	if off, _ := f.hosts.Offline(); off {
		t.Fatal("offline with h3 unknown")
	}
	f.router.Chat(context.Background(), req("live"))
	if off, since := f.hosts.Offline(); !off || since.IsZero() {
		t.Fatalf("every cloud host out of reach, but Offline = %v since %v", off, since)
	}
	f.back.Store("h3:443", true)
	deadline := time.Now().Add(5 * time.Second)
	for off, _ := f.hosts.Offline(); off; off, _ = f.hosts.Offline() {
		if time.Now().After(deadline) {
			t.Fatal("still offline after h3 answered its probe")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestWithoutHostsAnUnreachableDeploymentCools(t *testing.T) {
	down := &scripted{name: "down", errs: []error{unreachable()}}
	broken := &scripted{name: "broken", errs: []error{perr(provider.ServerError), perr(provider.ServerError)}}
	r, err := New([]Deployment{
		{ID: "down", Group: "g", Provider: "openai", Weight: 9, Host: "h1:443", Client: down},
		{ID: "broken", Group: "g", Provider: "groq", Weight: 1, Host: "h2:443", Client: broken},
	}, Settings{NumRetries: 1, Cooldown: cooldown.Policy{AllowedFails: 0, Duration: time.Hour}},
		Options{Clock: clock.NewFake(t0), Rand: func() float64 { return 0 }})
	if err != nil {
		t.Fatal(err)
	}
	r.Chat(context.Background(), req("g"))
	if !r.Cooldowns().Cooling("down") {
		t.Error("with no host tracking the unreachable deployment did not cool")
	}
}

func TestLocalTierDownToo(t *testing.T) {
	f := newHostFixture(t, [2][]error{{unreachable()}, {unreachable()}}, unreachable())
	f.live.errs = []error{unreachable()}
	f.router.Chat(context.Background(), req("live"))
	_, _, err := f.router.Chat(context.Background(), req("dead"))
	var pe *provider.Error
	if !errors.As(err, &pe) || pe.Status != 503 || !strings.Contains(pe.Message, "ollama serve") || !strings.Contains(pe.Message, "offline") {
		t.Fatalf("err = %v, want a 503 saying what was tried and how to fix it", err)
	}
}

func TestFinalErrorsDoNotDegrade(t *testing.T) {
	f := newHostFixture(t, [2][]error{{perr(provider.BadRequest)}, {perr(provider.BadRequest)}}, nil)
	_, tr, err := f.router.Chat(context.Background(), req("dead"))
	if pe := provider.AsError(err); err == nil || pe.Class != provider.BadRequest || tr.Degraded != "" || f.local.Calls() != 0 {
		t.Errorf("err %v degraded %q local calls %d; a bad request must not go to the local tier", err, tr.Degraded, f.local.Calls())
	}
}

// A request no deployment can send for want of a key gets that error, a
// 401 naming the key, not a 503 about the local tier.
func TestMissingKeyIsTheAnswerWhenTheLocalTierFails(t *testing.T) {
	noKey := &provider.Error{Class: provider.Auth, Local: true, Message: "no API key for openai: run `detour keys set openai`"}
	f := newHostFixture(t, [2][]error{{noKey}, {noKey}}, unreachable())
	_, _, err := f.router.Chat(context.Background(), req("dead"))
	if pe := provider.AsError(err); pe.Class != provider.Auth || !strings.Contains(pe.Message, "detour keys set openai") {
		t.Errorf("err = %v, want the missing key's own error", err)
	}
}
