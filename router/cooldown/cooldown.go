// Package cooldown tracks which deployments are out of rotation after
// failing, and until when. It is keyed by deployment id, so its state
// survives a config reload for deployments whose id did not change.
package cooldown

import (
	"sync"
	"time"

	"github.com/detour-gateway/detour/clock"
	"github.com/detour-gateway/detour/router/provider"
)

// Policy says when a deployment cools and for how long.
type Policy struct {
	// AllowedFails is how many failures of a cooling class a deployment may
	// have within Window before it cools: it cools on failure
	// AllowedFails+1, as in LiteLLM. 0 cools on the first failure.
	AllowedFails int
	// Window is the span failures are counted over. Zero means one minute.
	Window time.Duration
	// Duration is how long a deployment cools once it has failed more than
	// AllowedFails times (cooldown_time). Zero disables these cooldowns;
	// an exhausted quota and a provider's Retry-After still apply.
	Duration time.Duration
	// QuotaDuration is how long an exhausted quota cools a deployment, on
	// the first such failure. Zero means the larger of Duration and 1 hour.
	QuotaDuration time.Duration
	// MaxRetryAfter caps how far a provider's Retry-After can push a
	// cooldown. Zero means 1 hour.
	MaxRetryAfter time.Duration
}

func (p Policy) withDefaults() Policy {
	if p.Window <= 0 {
		p.Window = time.Minute
	}
	if p.QuotaDuration <= 0 {
		p.QuotaDuration = max(p.Duration, time.Hour)
	}
	if p.MaxRetryAfter <= 0 {
		p.MaxRetryAfter = time.Hour
	}
	return p
}

// Tracker records failures and cooldowns. Safe for concurrent use.
type Tracker struct {
	policy Policy
	clock  clock.Clock

	mu    sync.Mutex
	state map[string]*entry
}

type entry struct {
	fails []time.Time // within the window, oldest first
	until time.Time
	class provider.Class // of the failure that set until
}

// New returns a Tracker applying p, timed by clk (nil: the real clock).
func New(p Policy, clk clock.Clock) *Tracker {
	if clk == nil {
		clk = clock.Real{}
	}
	return &Tracker{policy: p.withDefaults(), clock: clk, state: map[string]*entry{}}
}

// SetPolicy replaces the policy, keeping every deployment's state. Used
// when the config is reloaded.
func (t *Tracker) SetPolicy(p Policy) {
	t.mu.Lock()
	t.policy = p.withDefaults()
	t.mu.Unlock()
}

// Fail records a failure of deployment id and reports until when it is now
// cooling (zero if it is not). Classes that do not cool are ignored. A
// provider's retryAfter keeps the deployment out at least that long, even
// below the failure threshold. A cooldown is only ever extended, never
// shortened.
func (t *Tracker) Fail(id string, class provider.Class, retryAfter time.Duration) time.Time {
	if !class.Cools() {
		return time.Time{}
	}
	now := t.clock.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.state[id]
	if e == nil {
		e = &entry{}
		t.state[id] = e
	}
	cutoff := now.Add(-t.policy.Window)
	kept := e.fails[:0]
	for _, f := range e.fails {
		if f.After(cutoff) {
			kept = append(kept, f)
		}
	}
	e.fails = append(kept, now)

	var d time.Duration
	switch {
	case class == provider.QuotaExhausted:
		d = t.policy.QuotaDuration
	case len(e.fails) > t.policy.AllowedFails && t.policy.Duration > 0:
		d = t.policy.Duration
	}
	d = max(d, min(retryAfter, t.policy.MaxRetryAfter))
	if until := now.Add(d); d > 0 && until.After(e.until) {
		e.until = until
		e.class = class
	}
	if e.until.After(now) {
		return e.until
	}
	return time.Time{}
}

// Until reports until when deployment id is cooling, and the class of the
// failure that cooled it. ok is false when it is in rotation.
func (t *Tracker) Until(id string) (until time.Time, class provider.Class, ok bool) {
	now := t.clock.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.state[id]
	if e == nil || !e.until.After(now) {
		return time.Time{}, "", false
	}
	return e.until, e.class, true
}

// Cooling reports whether deployment id is out of rotation now.
func (t *Tracker) Cooling(id string) bool {
	_, _, ok := t.Until(id)
	return ok
}

// Failures returns how many failures of deployment id fall in the window.
func (t *Tracker) Failures(id string) int {
	cutoff := t.clock.Now().Add(-t.policy.Window)
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	if e := t.state[id]; e != nil {
		for _, f := range e.fails {
			if f.After(cutoff) {
				n++
			}
		}
	}
	return n
}
