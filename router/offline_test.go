package router

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
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

type offlineFixture struct {
	router *Router
	cloud  *scripted
	local  *scripted
	online atomic.Bool // what the probe reports
	conn   *Connectivity
	// changes receives each state OnChange reports.
	changes chan bool
}

func newOfflineFixture(t *testing.T, cloudErrs []error, localErr error) *offlineFixture {
	t.Helper()
	f := &offlineFixture{cloud: &scripted{name: "cloud", errs: cloudErrs}, local: &scripted{name: "local"}}
	if localErr != nil {
		f.local.errs = []error{localErr, localErr, localErr}
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	f.conn = NewConnectivity(ctx, func(context.Context) bool { return f.online.Load() }, 5*time.Millisecond, quiet)
	f.changes = make(chan bool, 8)
	f.conn.OnChange = func(offline bool) { f.changes <- offline }
	local := &Deployment{ID: "ollama-llama3.2", Group: "g", Provider: "ollama", Model: "llama3.2", Client: f.local}
	r, err := New([]Deployment{{ID: "cloud", Group: "g", Provider: "openai", Model: "gpt", Client: f.cloud}},
		Settings{NumRetries: 2, Cooldown: cooldown.Policy{AllowedFails: 0, Duration: time.Hour}},
		Options{Clock: clock.NewFake(t0), Rand: func() float64 { return 0 }, Connectivity: f.conn,
			Degrade: &Degrade{Deployment: func(context.Context, string) (*Deployment, error) { return local, nil }}})
	if err != nil {
		t.Fatal(err)
	}
	f.router = r
	return f
}

// nextChange returns the next state OnChange reports; it fails the test
// if none comes within 5 s.
func (f *offlineFixture) nextChange(t *testing.T) bool {
	t.Helper()
	select {
	case offline := <-f.changes:
		return offline
	case <-time.After(5 * time.Second):
		t.Fatal("no connectivity change reported")
		return false
	}
}

func TestDegradesToTheLocalTier(t *testing.T) {
	f := newOfflineFixture(t, []error{perr(provider.ServerError), perr(provider.ServerError), perr(provider.ServerError)}, nil)
	f.router.Cooldowns().SetPolicy(cooldown.Policy{AllowedFails: 5}) // let the group use its retries
	resp, tr, err := f.router.Chat(context.Background(), req("g"))
	if err != nil || resp.Model != "local" || tr.Degraded != "ollama" {
		t.Fatalf("answered by %v (degraded %q), err %v; want the local tier", resp, tr.Degraded, err)
	}
	if f.cloud.Calls() != 3 {
		t.Errorf("cloud calls = %d, want 3: the tier comes after the group's retries", f.cloud.Calls())
	}
	if off, _ := f.conn.Offline(); off {
		t.Error("server errors marked the machine offline")
	}
}

func TestOfflineSkipsTheCloudUntilTheNetworkIsBack(t *testing.T) {
	f := newOfflineFixture(t, []error{unreachable()}, nil)
	if _, tr, err := f.router.Chat(context.Background(), req("g")); err != nil || tr.Degraded == "" {
		t.Fatalf("first request: degraded %q, err %v", tr.Degraded, err)
	}
	if off, _ := f.conn.Offline(); !off {
		t.Fatal("every cloud attempt unreachable, but not marked offline")
	}
	if f.router.Cooldowns().Cooling("cloud") {
		t.Error("an offline machine cooled the cloud deployment")
	}
	if got := f.nextChange(t); !got {
		t.Error("OnChange reported online when the machine went offline")
	}
	calls := f.cloud.Calls()
	for _, stream := range []bool{false, true} {
		var tr *Trace
		var err error
		if stream {
			var s *Stream
			s, tr, err = f.router.Stream(context.Background(), req("g"))
			if err == nil {
				s.Close()
			}
		} else {
			_, tr, err = f.router.Chat(context.Background(), req("g"))
		}
		if err != nil || tr.Degraded != "ollama" || len(tr.Attempts) != 1 {
			t.Errorf("stream=%v while offline: degraded %q, %d attempts, err %v; want straight to the local tier", stream, tr.Degraded, len(tr.Attempts), err)
		}
	}
	if f.cloud.Calls() != calls {
		t.Errorf("the cloud was called %d times while offline", f.cloud.Calls()-calls)
	}
	f.online.Store(true)
	if got := f.nextChange(t); got { // the probe noticed: back online
		t.Error("OnChange reported offline when the network came back")
	}
	if off, _ := f.conn.Offline(); off {
		t.Error("OnChange said online, Offline says offline")
	}
	resp, tr, err := f.router.Chat(context.Background(), req("g"))
	if err != nil || resp.Model != "cloud" || tr.Degraded != "" {
		t.Errorf("after the network came back: answered by %v (degraded %q), err %v; want the cloud", resp, tr.Degraded, err)
	}
}

func TestOneUnreachableProviderIsAnOutageNotOffline(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	conn := NewConnectivity(ctx, func(context.Context) bool { return false }, time.Hour, quiet)
	down := &scripted{name: "down", errs: []error{unreachable()}}
	broken := &scripted{name: "broken", errs: []error{perr(provider.ServerError), perr(provider.ServerError)}}
	r, err := New([]Deployment{
		{ID: "down", Group: "g", Provider: "openai", Weight: 9, Client: down},
		{ID: "broken", Group: "g", Provider: "groq", Weight: 1, Client: broken},
	}, Settings{NumRetries: 1, Cooldown: cooldown.Policy{AllowedFails: 0, Duration: time.Hour}},
		Options{Clock: clock.NewFake(t0), Rand: func() float64 { return 0 }, Connectivity: conn})
	if err != nil {
		t.Fatal(err)
	}
	r.Chat(context.Background(), req("g"))
	if off, _ := conn.Offline(); off {
		t.Error("marked offline although another provider answered (with a 500)")
	}
	if !r.Cooldowns().Cooling("down") {
		t.Error("the unreachable deployment did not cool: its provider is down, not the machine")
	}
}

func TestLocalTierDownToo(t *testing.T) {
	f := newOfflineFixture(t, []error{unreachable()}, unreachable())
	_, _, err := f.router.Chat(context.Background(), req("g"))
	var pe *provider.Error
	if !errors.As(err, &pe) || pe.Status != 503 || !strings.Contains(pe.Message, "ollama serve") || !strings.Contains(pe.Message, "offline") {
		t.Fatalf("err = %v, want a 503 saying what was tried and how to fix it", err)
	}
}

func TestFinalErrorsDoNotDegrade(t *testing.T) {
	f := newOfflineFixture(t, []error{perr(provider.BadRequest)}, nil)
	_, tr, err := f.router.Chat(context.Background(), req("g"))
	if pe := provider.AsError(err); err == nil || pe.Class != provider.BadRequest || tr.Degraded != "" || f.local.Calls() != 0 {
		t.Errorf("err %v degraded %q local calls %d; a bad request must not go to the local tier", err, tr.Degraded, f.local.Calls())
	}
}
