package chaos

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/detour-gateway/detour/chat"
	"github.com/detour-gateway/detour/clock"
	"github.com/detour-gateway/detour/router/provider"
)

// start is in a zone east of UTC, so messages prove they print UTC.
var start = time.Date(2025, 3, 1, 13, 0, 0, 0, time.FixedZone("CET", 3600))

// fakeProvider counts its calls and answers each at once.
type fakeProvider struct {
	chats, streams atomic.Int32
}

func (f *fakeProvider) Chat(context.Context, *chat.Request) (*chat.Response, error) {
	f.chats.Add(1)
	return &chat.Response{ID: "ok"}, nil
}

func (f *fakeProvider) Stream(context.Context, *chat.Request) (provider.Stream, error) {
	f.streams.Add(1)
	return emptyStream{}, nil
}

// fakeEmbedder is a fakeProvider that also serves embeddings.
type fakeEmbedder struct {
	fakeProvider
	embeds atomic.Int32
}

func (f *fakeEmbedder) Embed(context.Context, *chat.EmbeddingRequest) (*chat.EmbeddingResponse, error) {
	f.embeds.Add(1)
	return &chat.EmbeddingResponse{}, nil
}

type emptyStream struct{}

func (emptyStream) Recv() (*chat.Chunk, error) { return nil, io.EOF }
func (emptyStream) Close() error               { return nil }

// logBuffer collects JSON log lines. Safe for concurrent use.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// lines returns every line logged so far, decoded.
func (b *logBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for line := range strings.Lines(b.buf.String()) {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

func newSwitch(t *testing.T) (*Switch, *clock.Fake, *logBuffer) {
	t.Helper()
	clk := clock.NewFake(start)
	logs := &logBuffer{}
	return New(clk, slog.New(slog.NewJSONHandler(logs, nil))), clk, logs
}

// call makes one call of kind "chat", "stream" or "embed" through p.
func call(ctx context.Context, p provider.Provider, kind string) error {
	switch kind {
	case "chat":
		_, err := p.Chat(ctx, &chat.Request{})
		return err
	case "stream":
		s, err := p.Stream(ctx, &chat.Request{})
		if err == nil {
			s.Close()
		}
		return err
	case "embed":
		_, err := p.(provider.Embedder).Embed(ctx, &chat.EmbeddingRequest{})
		return err
	}
	panic("unknown call kind " + kind)
}

// calls returns how many calls of kind reached f.
func (f *fakeEmbedder) calls(kind string) int32 {
	switch kind {
	case "chat":
		return f.chats.Load()
	case "stream":
		return f.streams.Load()
	}
	return f.embeds.Load()
}

func TestParseMode(t *testing.T) {
	tests := []struct {
		in   string
		want Mode
		ok   bool
	}{
		{"off", Off, true},
		{"down", Down, true},
		{"slow", Slow, true},
		{"rate_limited", RateLimited, true},
		{"", "", false},
		{"DOWN", "", false},
		{"rate-limited", "", false},
		{"broken", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseMode(tt.in)
			if tt.ok {
				if err != nil || got != tt.want {
					t.Fatalf("ParseMode(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
				}
				return
			}
			if !errors.Is(err, ErrUnknownMode) {
				t.Fatalf("ParseMode(%q) error = %v; want ErrUnknownMode", tt.in, err)
			}
			for _, m := range []string{"off", "down", "slow", "rate_limited"} {
				if !strings.Contains(err.Error(), `"`+m+`"`) {
					t.Errorf("error %q does not list mode %q", err, m)
				}
			}
		})
	}
}

func TestSet(t *testing.T) {
	tests := []struct {
		name      string
		mode      Mode
		d         time.Duration
		wantErr   error
		wantUntil time.Time // when no error
		wantOn    bool      // Get reports chaos afterwards
	}{
		{name: "default duration", mode: Down, d: 0, wantUntil: start.Add(DefaultDuration), wantOn: true},
		{name: "given duration", mode: Slow, d: 90 * time.Second, wantUntil: start.Add(90 * time.Second), wantOn: true},
		{name: "maximum", mode: RateLimited, d: MaxDuration, wantUntil: start.Add(MaxDuration), wantOn: true},
		{name: "over maximum", mode: Down, d: MaxDuration + time.Second, wantErr: ErrDuration},
		{name: "negative", mode: Down, d: -time.Second, wantErr: ErrDuration},
		{name: "unknown mode", mode: Mode("broken"), d: time.Minute, wantErr: ErrUnknownMode},
		{name: "empty mode", mode: Mode(""), d: time.Minute, wantErr: ErrUnknownMode},
		{name: "off negative", mode: Off, d: -time.Second, wantErr: ErrDuration},
		{name: "off", mode: Off, d: 0, wantUntil: start, wantOn: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sw, _, _ := newSwitch(t)
			st, err := sw.Set("dep-a", tt.mode, tt.d)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Set error = %v; want %v", err, tt.wantErr)
				}
				if _, on := sw.Get("dep-a"); on {
					t.Error("a refused Set left chaos on")
				}
				return
			}
			if err != nil {
				t.Fatalf("Set: %v", err)
			}
			if want := (State{Mode: tt.mode, Until: tt.wantUntil}); !st.Until.Equal(want.Until) || st.Mode != want.Mode {
				t.Errorf("Set = %+v; want %+v", st, want)
			}
			got, on := sw.Get("dep-a")
			if on != tt.wantOn {
				t.Fatalf("Get on = %v; want %v", on, tt.wantOn)
			}
			if on && got != st {
				t.Errorf("Get = %+v; want %+v", got, st)
			}
		})
	}
}

func TestSetReplaces(t *testing.T) {
	sw, clk, _ := newSwitch(t)
	if _, err := sw.Set("dep-a", Down, time.Hour); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Minute)
	if _, err := sw.Set("dep-a", Slow, time.Minute); err != nil {
		t.Fatal(err)
	}
	got, ok := sw.Get("dep-a")
	if want := (State{Mode: Slow, Until: start.Add(2 * time.Minute)}); !ok || got.Mode != want.Mode || !got.Until.Equal(want.Until) {
		t.Errorf("Get = %+v, %v; want %+v", got, ok, want)
	}
}

func TestSetLogs(t *testing.T) {
	sw, clk, logs := newSwitch(t)
	if _, err := sw.Set("dep-a", Down, time.Minute); err != nil {
		t.Fatal(err)
	}
	clk.Advance(10 * time.Second)
	if _, err := sw.Set("dep-a", Off, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := sw.Set("dep-b", RateLimited, time.Minute); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Minute)
	sw.Get("dep-b")
	if _, err := sw.Set("dep-c", Mode("broken"), 0); err == nil {
		t.Fatal("Set accepted an unknown mode")
	}

	tests := []struct {
		msg, id, mode, was string
		until              time.Time
	}{
		{"chaos on", "dep-a", "down", "", start.Add(time.Minute)},
		{"chaos off", "dep-a", "off", "down", start.Add(10 * time.Second)},
		{"chaos on", "dep-b", "rate_limited", "", start.Add(70 * time.Second)},
		{"chaos expired", "dep-b", "rate_limited", "", start.Add(70 * time.Second)},
	}
	lines := logs.lines(t)
	if len(lines) != len(tests) {
		t.Fatalf("logged %d lines, want %d: %v", len(lines), len(tests), lines)
	}
	for i, tt := range tests {
		t.Run(fmt.Sprint(i, " ", tt.msg), func(t *testing.T) {
			l := lines[i]
			if l["msg"] != tt.msg || l["id"] != tt.id || l["mode"] != tt.mode {
				t.Errorf("line = %v; want msg %q id %q mode %q", l, tt.msg, tt.id, tt.mode)
			}
			if tt.was != "" && l["was"] != tt.was {
				t.Errorf("was = %v; want %q", l["was"], tt.was)
			}
			until, err := time.Parse(time.RFC3339Nano, fmt.Sprint(l["until"]))
			if err != nil || !until.Equal(tt.until) {
				t.Errorf("until = %v (%v); want %v", l["until"], err, tt.until)
			}
		})
	}
}

func TestWrap(t *testing.T) {
	tests := []struct {
		mode       Mode
		wantCalled bool           // the inner provider got the call
		wantClass  provider.Class // "" when the call succeeds
		wantStatus int
		wantRetry  time.Duration
		wantMsg    string
		wantSleeps []time.Duration
	}{
		{mode: Off, wantCalled: true},
		{mode: Down, wantClass: provider.Connection,
			wantMsg: "chaos: dep-a is switched down (until 12:05:00 UTC)"},
		{mode: RateLimited, wantClass: provider.RateLimited, wantStatus: 429, wantRetry: MaxRetryAfter,
			wantMsg: "chaos: dep-a is switched to rate_limited (until 12:05:00 UTC)"},
		{mode: Slow, wantCalled: true, wantSleeps: []time.Duration{DefaultSlowDelay}},
	}
	for _, tt := range tests {
		for _, kind := range []string{"chat", "stream", "embed"} {
			t.Run(string(tt.mode)+"/"+kind, func(t *testing.T) {
				sw, clk, _ := newSwitch(t)
				if _, err := sw.Set("dep-a", tt.mode, 0); err != nil {
					t.Fatal(err)
				}
				inner, other := &fakeEmbedder{}, &fakeEmbedder{}
				p := sw.Wrap("dep-a", inner)

				err := call(t.Context(), p, kind)
				if got := inner.calls(kind) == 1; got != tt.wantCalled {
					t.Errorf("inner called = %v; want %v", got, tt.wantCalled)
				}
				if got := clk.Sleeps(); !slices.Equal(got, tt.wantSleeps) {
					t.Errorf("sleeps = %v; want %v", got, tt.wantSleeps)
				}
				if tt.wantClass == "" {
					if err != nil {
						t.Fatalf("call: %v", err)
					}
				} else {
					var pe *provider.Error
					if !errors.As(err, &pe) {
						t.Fatalf("error = %v (%T); want *provider.Error", err, err)
					}
					want := provider.Error{Class: tt.wantClass, Status: tt.wantStatus, RetryAfter: tt.wantRetry,
						Message: tt.wantMsg, Err: ErrInjected, Local: false, Unreachable: false}
					if *pe != want {
						t.Errorf("error = %+v; want %+v", *pe, want)
					}
				}

				// Another deployment's wrapper is untouched.
				if err := call(t.Context(), sw.Wrap("dep-b", other), kind); err != nil || other.calls(kind) != 1 {
					t.Errorf("dep-b: err %v, calls %d; want its call through", err, other.calls(kind))
				}
			})
		}
	}
}

func TestRateLimitedRetryAfter(t *testing.T) {
	tests := []struct {
		name    string
		d       time.Duration
		elapsed time.Duration
		want    time.Duration
	}{
		{"long chaos caps at 5s", time.Hour, 0, MaxRetryAfter},
		{"exactly 5s left", time.Minute, 55 * time.Second, 5 * time.Second},
		{"less left than the cap", time.Minute, 58 * time.Second, 2 * time.Second},
		{"short chaos", time.Second, 0, time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sw, clk, _ := newSwitch(t)
			if _, err := sw.Set("dep-a", RateLimited, tt.d); err != nil {
				t.Fatal(err)
			}
			clk.Advance(tt.elapsed)
			_, err := sw.Wrap("dep-a", &fakeProvider{}).Chat(t.Context(), &chat.Request{})
			if pe := provider.AsError(err); pe.RetryAfter != tt.want {
				t.Errorf("RetryAfter = %v; want %v", pe.RetryAfter, tt.want)
			}
		})
	}
}

func TestSlowDelayOption(t *testing.T) {
	sw, clk, _ := newSwitch(t)
	sw.SlowDelay = 2 * time.Second
	if _, err := sw.Set("dep-a", Slow, 0); err != nil {
		t.Fatal(err)
	}
	inner := &fakeProvider{}
	if _, err := sw.Wrap("dep-a", inner).Chat(t.Context(), &chat.Request{}); err != nil {
		t.Fatal(err)
	}
	if got := clk.Sleeps(); !slices.Equal(got, []time.Duration{2 * time.Second}) || inner.chats.Load() != 1 {
		t.Errorf("sleeps %v, calls %d; want [2s], 1", got, inner.chats.Load())
	}
}

func TestSlowContextDone(t *testing.T) {
	expired, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	canceled, cancel2 := context.WithCancel(context.Background())
	cancel2()

	tests := []struct {
		name      string
		ctx       context.Context
		wantClass provider.Class
		wantCause error
	}{
		{"deadline passed: a hung provider", expired, provider.Timeout, context.DeadlineExceeded},
		{"canceled", canceled, provider.Connection, context.Canceled},
	}
	for _, tt := range tests {
		for _, kind := range []string{"chat", "stream", "embed"} {
			t.Run(tt.name+"/"+kind, func(t *testing.T) {
				sw, clk, _ := newSwitch(t)
				if _, err := sw.Set("dep-a", Slow, 0); err != nil {
					t.Fatal(err)
				}
				inner := &fakeEmbedder{}
				err := call(tt.ctx, sw.Wrap("dep-a", inner), kind)
				var pe *provider.Error
				if !errors.As(err, &pe) || pe.Class != tt.wantClass || !errors.Is(err, tt.wantCause) {
					t.Fatalf("error = %v; want a %s *provider.Error caused by %v", err, tt.wantClass, tt.wantCause)
				}
				if inner.calls(kind) != 0 {
					t.Error("the inner provider was called after the context was done")
				}
				if !clk.Now().Equal(start) {
					t.Errorf("clock moved to %v; a done context must not wait", clk.Now())
				}
			})
		}
	}
}

func TestExpiry(t *testing.T) {
	tests := []struct {
		mode    Mode
		advance time.Duration
		wantOn  bool
	}{
		{Down, time.Minute - time.Nanosecond, true},
		{Down, time.Minute, false}, // Until itself is past the chaos
		{RateLimited, time.Minute, false},
		{Slow, 2 * time.Minute, false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.mode, " after ", tt.advance), func(t *testing.T) {
			sw, clk, _ := newSwitch(t)
			if _, err := sw.Set("dep-a", tt.mode, time.Minute); err != nil {
				t.Fatal(err)
			}
			inner := &fakeEmbedder{}
			p := sw.Wrap("dep-a", inner) // wrapped before the time passes
			clk.Advance(tt.advance)

			_, on := sw.Get("dep-a")
			if on != tt.wantOn {
				t.Fatalf("Get on = %v; want %v", on, tt.wantOn)
			}
			if _, listed := sw.Active()["dep-a"]; listed != tt.wantOn {
				t.Errorf("Active lists dep-a = %v; want %v", listed, tt.wantOn)
			}
			if tt.wantOn {
				return
			}
			for _, kind := range []string{"chat", "stream", "embed"} {
				if err := call(t.Context(), p, kind); err != nil || inner.calls(kind) != 1 {
					t.Errorf("%s after expiry: err %v, calls %d; want through", kind, err, inner.calls(kind))
				}
			}
			if len(clk.Sleeps()) != 0 {
				t.Errorf("expired Slow still slept: %v", clk.Sleeps())
			}
		})
	}
}

func TestOffRestoresCalls(t *testing.T) {
	for _, mode := range []Mode{Down, Slow, RateLimited} {
		t.Run(string(mode), func(t *testing.T) {
			sw, clk, _ := newSwitch(t)
			inner := &fakeEmbedder{}
			p := sw.Wrap("dep-a", inner)
			if _, err := sw.Set("dep-a", mode, time.Hour); err != nil {
				t.Fatal(err)
			}
			if _, err := sw.Set("dep-a", Off, 0); err != nil {
				t.Fatal(err)
			}
			if _, on := sw.Get("dep-a"); on {
				t.Error("Get reports chaos after Off")
			}
			for _, kind := range []string{"chat", "stream", "embed"} {
				if err := call(t.Context(), p, kind); err != nil || inner.calls(kind) != 1 {
					t.Errorf("%s after Off: err %v, calls %d; want through", kind, err, inner.calls(kind))
				}
			}
			if len(clk.Sleeps()) != 0 {
				t.Errorf("slept after Off: %v", clk.Sleeps())
			}
		})
	}
}

func TestWrapEmbedderIffInner(t *testing.T) {
	tests := []struct {
		name  string
		inner provider.Provider
		want  bool
	}{
		{"chat only", &fakeProvider{}, false},
		{"embedder", &fakeEmbedder{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sw, _, _ := newSwitch(t)
			_, got := sw.Wrap("dep-a", tt.inner).(provider.Embedder)
			if got != tt.want {
				t.Errorf("wrapper is an Embedder = %v; want %v", got, tt.want)
			}
		})
	}
}

func TestActive(t *testing.T) {
	sw, clk, _ := newSwitch(t)
	set := []struct {
		id   string
		mode Mode
		d    time.Duration
	}{
		{"short", Down, time.Minute},
		{"long", Slow, time.Hour},
		{"default", RateLimited, 0},
		{"cleared", Down, time.Hour},
	}
	for _, s := range set {
		if _, err := sw.Set(s.id, s.mode, s.d); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := sw.Set("cleared", Off, 0); err != nil {
		t.Fatal(err)
	}

	steps := []struct {
		advance time.Duration
		want    map[string]Mode
	}{
		{0, map[string]Mode{"short": Down, "long": Slow, "default": RateLimited}},
		{time.Minute, map[string]Mode{"long": Slow, "default": RateLimited}},
		{DefaultDuration, map[string]Mode{"long": Slow}},
		{time.Hour, map[string]Mode{}},
	}
	for _, st := range steps {
		clk.Advance(st.advance)
		got := sw.Active()
		if len(got) != len(st.want) {
			t.Errorf("at %v: Active = %v; want %v", clk.Now().Sub(start), got, st.want)
			continue
		}
		for id, mode := range st.want {
			if got[id].Mode != mode {
				t.Errorf("at %v: Active[%s] = %+v; want mode %s", clk.Now().Sub(start), id, got[id], mode)
			}
		}
	}
}

func TestActiveIsACopy(t *testing.T) {
	sw, _, _ := newSwitch(t)
	if _, err := sw.Set("dep-a", Down, 0); err != nil {
		t.Fatal(err)
	}
	delete(sw.Active(), "dep-a")
	if _, on := sw.Get("dep-a"); !on {
		t.Error("changing Active's map changed the switch")
	}
}

func TestStateJSON(t *testing.T) {
	b, err := json.Marshal(State{Mode: RateLimited, Until: time.Date(2025, 3, 1, 12, 5, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"mode":"rate_limited","until":"2025-03-01T12:05:00Z"}`; string(b) != want {
		t.Errorf("JSON = %s; want %s", b, want)
	}
}

func TestNewDefaults(t *testing.T) {
	sw := New(nil, nil)
	if _, ok := sw.clock.(clock.Real); !ok || sw.log != slog.Default() {
		t.Errorf("New(nil, nil) clock %T, default log %v; want clock.Real, slog.Default()", sw.clock, sw.log == slog.Default())
	}
}

func TestConcurrentUse(t *testing.T) {
	sw, clk, _ := newSwitch(t)
	sw.SlowDelay = time.Millisecond // on the fake clock: no real wait
	ids := []string{"dep-a", "dep-b", "dep-c"}
	modes := []Mode{Off, Down, Slow, RateLimited}
	inner := &fakeEmbedder{}

	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				id := ids[(g+i)%len(ids)]
				switch i % 5 {
				case 0:
					if _, err := sw.Set(id, modes[(g+i)%len(modes)], time.Duration(i%3)*time.Second); err != nil {
						t.Error(err)
					}
				case 1:
					sw.Get(id)
				case 2:
					sw.Active()
				case 3:
					clk.Advance(time.Second)
				case 4:
					err := call(t.Context(), sw.Wrap(id, inner), []string{"chat", "stream", "embed"}[g%3])
					if err != nil && provider.AsError(err).Local {
						t.Errorf("chaos failure marked Local: %v", err)
					}
				}
			}
		})
	}
	wg.Wait()
}
