// Package chaos is the chaos switch: it lets a user turn a deployment's
// provider "off" locally — down, slow or rate limited — for a while, to see
// what breaks, without touching the provider. A Switch holds the active
// chaos, keyed by deployment id, and Wrap puts it in front of a provider.
//
// Chaos failures are ordinary *provider.Error values, so the router retries,
// cools and fails over exactly as it would for the real failure. Chaos ends
// by itself when its time is up.
package chaos

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/detour-gateway/detour/chat"
	"github.com/detour-gateway/detour/clock"
	"github.com/detour-gateway/detour/router/provider"
)

// Mode is what the switch does to a deployment's calls.
type Mode string

// The modes.
const (
	// Off: no chaos; calls go to the provider. Setting it clears a
	// deployment's chaos.
	Off Mode = "off"
	// Down: every call fails at once as if the provider were unreachable
	// (class provider.Connection), without reaching the provider.
	Down Mode = "down"
	// Slow: every call waits the Switch's SlowDelay before it goes to the
	// provider, like a provider that hangs.
	Slow Mode = "slow"
	// RateLimited: every call fails at once with HTTP 429 (class
	// provider.RateLimited), without reaching the provider.
	RateLimited Mode = "rate_limited"
)

// modes lists the valid modes, in the order error messages name them.
var modes = []Mode{Off, Down, Slow, RateLimited}

// Durations.
const (
	// MaxDuration is the longest chaos Set accepts: 24 hours.
	MaxDuration = 24 * time.Hour
	// DefaultDuration is how long chaos lasts when Set is given 0:
	// 5 minutes.
	DefaultDuration = 5 * time.Minute
	// DefaultSlowDelay is how long Slow holds each call when the Switch's
	// SlowDelay is zero: 30 seconds.
	DefaultSlowDelay = 30 * time.Second
	// MaxRetryAfter caps the RetryAfter of a RateLimited failure: it is
	// the chaos time left, but at most 5 seconds. The router honours
	// Retry-After when it cools a deployment, so without the cap the
	// deployment would stay cooled long after the chaos was switched off.
	MaxRetryAfter = 5 * time.Second
)

// Errors, for callers to branch on with errors.Is.
var (
	// ErrUnknownMode is returned by ParseMode and Set for a mode that is
	// not one of Off, Down, Slow, RateLimited.
	ErrUnknownMode = errors.New("unknown chaos mode")
	// ErrDuration is returned by Set for a negative duration or one over
	// MaxDuration.
	ErrDuration = errors.New("invalid chaos duration")
	// ErrInjected is the cause (provider.Error.Err) of every failure the
	// switch makes up for Down and RateLimited, so logs can tell chaos
	// from a real outage. The router does not look at it: it decides from
	// the class, as for any failure.
	ErrInjected = errors.New("failure injected by the chaos switch")
)

// ParseMode returns the mode named s ("off", "down", "slow",
// "rate_limited", exactly). The error, wrapping ErrUnknownMode, lists the
// allowed modes.
func ParseMode(s string) (Mode, error) {
	for _, m := range modes {
		if string(m) == s {
			return m, nil
		}
	}
	return "", fmt.Errorf("%w %q: want one of %q, %q, %q, %q", ErrUnknownMode, s, Off, Down, Slow, RateLimited)
}

// State is the chaos on one deployment.
type State struct {
	// Mode is what is done to the deployment's calls.
	Mode Mode `json:"mode"`
	// Until is when the chaos ends by itself. For Off, returned by Set, it
	// is when the chaos was switched off.
	Until time.Time `json:"until"`
}

// Switch holds the active chaos, keyed by deployment id. It is safe for
// concurrent use. Being keyed by id, its state survives a config reload
// for deployments whose id did not change: keep one Switch for the
// gateway's life and Wrap each new router's providers with it.
type Switch struct {
	// SlowDelay is how long Slow holds each call before passing it on.
	// Zero means DefaultSlowDelay (30 s). Set it before the Switch is
	// used; it is read without locking. A call that started waiting waits
	// the whole delay even if the chaos ends meanwhile.
	SlowDelay time.Duration

	clock clock.Clock
	log   *slog.Logger

	mu     sync.Mutex
	active map[string]State // entries may have expired; see lookup
}

// New returns a Switch with no chaos, timed by clk (nil: clock.Real{}) and
// logging to log (nil: slog.Default()).
func New(clk clock.Clock, log *slog.Logger) *Switch {
	if clk == nil {
		clk = clock.Real{}
	}
	if log == nil {
		log = slog.Default()
	}
	return &Switch{clock: clk, log: log, active: map[string]State{}}
}

// Set puts deployment id into mode for d, from now; d 0 means
// DefaultDuration. It replaces any chaos already on id. Off clears id's
// chaos at once. d is checked for every mode, Off included: a negative d
// or one over MaxDuration is an error wrapping ErrDuration; a mode that is
// not one of the four is an error wrapping ErrUnknownMode. Set logs
// "chaos on" or "chaos off" with id, mode and until.
func (s *Switch) Set(id string, mode Mode, d time.Duration) (State, error) {
	if _, err := ParseMode(string(mode)); err != nil {
		return State{}, err
	}
	switch {
	case d < 0:
		return State{}, fmt.Errorf("%w: %s is negative", ErrDuration, d)
	case d > MaxDuration:
		return State{}, fmt.Errorf("%w: %s is over the maximum of %s (%d s)",
			ErrDuration, d, MaxDuration, int64(MaxDuration/time.Second))
	case d == 0:
		d = DefaultDuration
	}

	now := s.clock.Now()
	s.mu.Lock()
	was, wasOn := s.active[id]
	wasOn = wasOn && now.Before(was.Until)
	var st State
	if mode == Off {
		st = State{Mode: Off, Until: now}
		delete(s.active, id)
	} else {
		st = State{Mode: mode, Until: now.Add(d)}
		s.active[id] = st
	}
	s.mu.Unlock()

	if mode == Off {
		prev := Off
		if wasOn {
			prev = was.Mode
		}
		s.log.Info("chaos off", "id", id, "mode", Off, "until", st.Until, "was", prev)
	} else {
		s.log.Info("chaos on", "id", id, "mode", st.Mode, "until", st.Until)
	}
	return st, nil
}

// Get returns the chaos active on deployment id; false when there is none.
// Expired chaos counts as none.
func (s *Switch) Get(id string) (State, bool) {
	st, _, ok := s.lookup(id)
	return st, ok
}

// Active returns every deployment's active chaos, by id, for the health
// API. The map is the caller's.
func (s *Switch) Active() map[string]State {
	now := s.clock.Now()
	out := map[string]State{}
	var expired map[string]State
	s.mu.Lock()
	for id, st := range s.active {
		if now.Before(st.Until) {
			out[id] = st
			continue
		}
		if expired == nil {
			expired = map[string]State{}
		}
		expired[id] = st
		delete(s.active, id)
	}
	s.mu.Unlock()
	for id, st := range expired {
		s.logExpired(id, st)
	}
	return out
}

// lookup returns id's active chaos and the time it was looked up at.
// Expiry is lazy: an entry found expired is deleted here, and logged.
func (s *Switch) lookup(id string) (State, time.Time, bool) {
	now := s.clock.Now()
	s.mu.Lock()
	st, ok := s.active[id]
	expired := ok && !now.Before(st.Until)
	if expired {
		delete(s.active, id)
	}
	s.mu.Unlock()
	if expired {
		s.logExpired(id, st)
	}
	if !ok || expired {
		return State{}, now, false
	}
	return st, now, true
}

func (s *Switch) logExpired(id string, st State) {
	s.log.Info("chaos expired", "id", id, "mode", st.Mode, "until", st.Until)
}

// inject applies id's chaos to one call. A non-nil error is the call's
// failure; nil means the call goes on to the provider.
func (s *Switch) inject(ctx context.Context, id string) error {
	st, now, ok := s.lookup(id)
	if !ok {
		return nil
	}
	switch st.Mode {
	case Down:
		// Not Local: the point is to exercise retries, cooldowns and
		// failover, which Local failures skip. Not Unreachable either:
		// with every deployment switched down the router would take the
		// machine for offline, and an offline machine cools nothing.
		return &provider.Error{Class: provider.Connection, Err: ErrInjected,
			Message: fmt.Sprintf("chaos: %s is switched down (until %s)", id, clockTime(st.Until))}
	case RateLimited:
		return &provider.Error{Class: provider.RateLimited, Status: 429, Err: ErrInjected,
			RetryAfter: min(st.Until.Sub(now), MaxRetryAfter),
			Message:    fmt.Sprintf("chaos: %s is switched to rate_limited (until %s)", id, clockTime(st.Until))}
	case Slow:
		delay := s.SlowDelay
		if delay <= 0 {
			delay = DefaultSlowDelay
		}
		if err := s.clock.Sleep(ctx, delay); err != nil {
			// The caller gave up first: to it, a hung provider.
			return provider.TransportError(err)
		}
	}
	return nil
}

// clockTime formats t as "15:04:05 UTC".
func clockTime(t time.Time) string {
	return t.UTC().Format("15:04:05") + " UTC"
}

// Wrap returns a provider that applies deployment id's chaos to every call
// to p, checking the switch each time, so chaos set or ended later takes
// effect on the next call:
//
//   - no chaos (or expired): the call goes to p.
//   - Down: fails at once, without calling p, with a provider.Connection
//     *provider.Error "chaos: <id> is switched down (until HH:MM:SS UTC)".
//     It is neither Local nor Unreachable, so it counts towards cooldowns
//     like a real outage and never makes the router think the machine is
//     offline.
//   - RateLimited: fails at once, without calling p, with a
//     provider.RateLimited *provider.Error, Status 429 and RetryAfter the
//     chaos time left, at most MaxRetryAfter (5 s).
//   - Slow: waits SlowDelay on the Switch's clock, then calls p. If ctx is
//     done first it returns provider.TransportError of ctx's error: a
//     provider.Timeout when ctx's deadline passed.
//
// The result implements provider.Embedder exactly when p does.
func (s *Switch) Wrap(id string, p provider.Provider) provider.Provider {
	w := &wrapped{sw: s, id: id, p: p}
	if e, ok := p.(provider.Embedder); ok {
		return &wrappedEmbedder{wrapped: w, e: e}
	}
	return w
}

// wrapped is a provider behind the switch.
type wrapped struct {
	sw *Switch
	id string
	p  provider.Provider
}

func (w *wrapped) Chat(ctx context.Context, req *chat.Request) (*chat.Response, error) {
	if err := w.sw.inject(ctx, w.id); err != nil {
		return nil, err
	}
	return w.p.Chat(ctx, req)
}

func (w *wrapped) Stream(ctx context.Context, req *chat.Request) (provider.Stream, error) {
	if err := w.sw.inject(ctx, w.id); err != nil {
		return nil, err
	}
	return w.p.Stream(ctx, req)
}

// Unwrap returns the provider behind the switch, so that what it also
// implements (a provider.Prober) can be found.
func (w *wrapped) Unwrap() provider.Provider { return w.p }

// wrappedEmbedder is a provider that serves embeddings, behind the switch.
// It is a separate type so that a wrapped provider implements
// provider.Embedder exactly when the inner one does: the router answers
// "does not serve embeddings" from that type assertion.
type wrappedEmbedder struct {
	*wrapped
	e provider.Embedder
}

func (w *wrappedEmbedder) Embed(ctx context.Context, req *chat.EmbeddingRequest) (*chat.EmbeddingResponse, error) {
	if err := w.sw.inject(ctx, w.id); err != nil {
		return nil, err
	}
	return w.e.Embed(ctx, req)
}
