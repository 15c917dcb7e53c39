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
	// MaxDuration caps a cooldown grown by repeated failures: each
	// cooldown that ends without a success in between doubles the next.
	// Zero means 30 minutes, or Duration when that is longer.
	MaxDuration time.Duration
	// TrialTimeout is how long a half-open deployment's one trial may be
	// outstanding before another is let through. Zero means 1 minute.
	TrialTimeout time.Duration
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
	if p.MaxDuration <= 0 {
		p.MaxDuration = max(30*time.Minute, p.Duration)
	}
	if p.TrialTimeout <= 0 {
		p.TrialTimeout = time.Minute
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
	// strikes counts the policy's cooldowns since the last success; past
	// such a cooldown the deployment is half-open until a success resets
	// it. A cooldown a provider's Retry-After alone asked for is not one.
	strikes int
	trial   time.Time // when the half-open trial was let through; zero: none
	// probed is set when a probe passed while half-open: the deployment is
	// back in rotation, but keeps its strikes until a real request
	// answers, so a real failure cools it again, for longer.
	probed bool
}

// State is a deployment's place in the cooldown cycle.
type State string

// States.
const (
	// Healthy: in rotation.
	Healthy State = "healthy"
	// Cooling: out of rotation until a time.
	Cooling State = "cooling"
	// Probing: the cooldown ended without a success since; one probe or
	// one trial request at a time decides whether it is back.
	Probing State = "probing"
)

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
// cooling (zero if it is not). Classes that do not cool are ignored.
//
// A deployment cools once it has failed more than AllowedFails times
// within Window, and at once when it fails a half-open trial or its first
// real request after a passed probe; each such cooldown is a strike, and
// the next one lasts twice as long, until a success. A provider's
// retryAfter is a floor for the cooldown: it keeps the deployment out at
// least that long, even below the threshold, but a cooldown it alone
// decides is no strike, so it neither escalates the next cooldown nor
// makes the deployment half-open after. A cooldown is only ever extended,
// never shortened.
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
	case (len(e.fails) > t.policy.AllowedFails || !e.trial.IsZero() || e.probed) && t.policy.Duration > 0:
		// Over the threshold, or a failed half-open trial: cool, longer
		// for each cooldown that ended without a success.
		d = min(t.policy.Duration<<min(e.strikes, 16), t.policy.MaxDuration)
	}
	strike := d > 0
	d = max(d, min(retryAfter, t.policy.MaxRetryAfter))
	e.trial, e.probed = time.Time{}, false
	if until := now.Add(d); d > 0 && until.After(e.until) {
		e.until = until
		e.class = class
		if strike {
			e.strikes++
		}
	}
	if e.until.After(now) {
		return e.until
	}
	return time.Time{}
}

// Succeed records that a real request to deployment id answered: a
// half-open deployment is healthy again and the next cooldown starts from
// Duration.
func (t *Tracker) Succeed(id string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if e := t.state[id]; e != nil && (e.strikes > 0 || !e.trial.IsZero() || e.probed) {
		e.strikes, e.trial, e.fails, e.probed = 0, time.Time{}, nil, false
	}
}

// Probed records that a probe of half-open deployment id passed: it is
// back in rotation, every request admitted. Unlike Succeed it keeps the
// strikes: a probe is one small request, and if the next real one fails
// the deployment cools again at once, for longer than last time.
func (t *Tracker) Probed(id string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if e := t.state[id]; e != nil && e.strikes > 0 && !e.until.After(t.clock.Now()) {
		e.trial, e.probed = time.Time{}, true
	}
}

// Admit reports whether a request may go to deployment id now: yes when it
// is healthy; no while it cools; when it is half-open, yes for one trial at
// a time (the caller reports the outcome with Succeed or Fail, or gives
// the trial back with Release).
func (t *Tracker) Admit(id string) bool {
	now := t.clock.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.state[id]
	switch {
	case e == nil:
		return true
	case e.until.After(now):
		return false
	case e.strikes == 0 || e.probed:
		return true
	case !e.trial.IsZero() && now.Sub(e.trial) < t.policy.TrialTimeout:
		return false // another trial is out
	}
	e.trial = now
	return true
}

// Release gives back a half-open trial that was not tried.
func (t *Tracker) Release(id string) {
	t.mu.Lock()
	if e := t.state[id]; e != nil {
		e.trial = time.Time{}
	}
	t.mu.Unlock()
}

// State reports where deployment id is in the cooldown cycle; until is set
// while it cools.
func (t *Tracker) State(id string) (s State, until time.Time, class provider.Class) {
	now := t.clock.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.state[id]
	switch {
	case e == nil:
		return Healthy, time.Time{}, ""
	case e.until.After(now):
		return Cooling, e.until, e.class
	case e.strikes > 0 && !e.probed:
		return Probing, time.Time{}, e.class
	}
	return Healthy, time.Time{}, ""
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
