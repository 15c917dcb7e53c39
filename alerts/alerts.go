// Package alerts watches the gateway for trouble a user should hear about:
// a deployment failing or slow, a provider rejecting its key or not
// answering, spend running away, a budget nearly or wholly spent, the
// machine offline. An Engine is fed every model request's record as it is
// answered and evaluated periodically; each alert fires when its condition
// holds at an evaluation and resolves itself at the first evaluation where
// it no longer does. Sinks (a Slack-compatible webhook) hear of both.
package alerts

import (
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/detour-gateway/detour/clock"
	"github.com/detour-gateway/detour/requestlog"
)

// The rules. An alert's ID is its rule and subject: "error_rate:openai-a".
const (
	// RuleErrorRate: a deployment's failed attempts over the window are
	// above Options.ErrorRate of its attempts.
	RuleErrorRate = "error_rate"
	// RuleLatency: the 95th percentile of a deployment's attempt
	// durations over the window is above Options.P95.
	RuleLatency = "latency_p95"
	// RuleSpendSpike: today's spend is above Options.SpendFactor times
	// yesterday's up to the same time of day.
	RuleSpendSpike = "spend_spike"
	// RuleAuth: a provider rejected its key (or there is none).
	RuleAuth = "auth_failure"
	// RuleUnresponsive: every attempt at a provider over the window
	// failed to connect or timed out.
	RuleUnresponsive = "provider_unresponsive"
	// RuleBudget80 and RuleBudget100: a budget is at 80 % and at 100 %
	// of its limit.
	RuleBudget80  = "budget_80"
	RuleBudget100 = "budget_100"
	// RuleOffline: the gateway is offline (no cloud provider reachable).
	RuleOffline = "offline"
)

// Defaults of Options' zero fields.
const (
	DefaultWindow          = 5 * time.Minute
	DefaultErrorRate       = 0.05
	DefaultMinRequests     = 10
	DefaultP95             = 10 * time.Second
	DefaultSpendFactor     = 2.0
	DefaultMinSpendUSD     = 1.0
	DefaultMinUnresponsive = 3
	DefaultHistory         = 200
	// DefaultMaxSamples bounds the attempts kept for the window: 100,000,
	// a few MB. Past it the oldest are dropped, so under heavier load
	// the window is shorter than Options.Window.
	DefaultMaxSamples = 100_000
)

// State is an alert's state.
type State string

const (
	Firing   State = "firing"
	Resolved State = "resolved"
)

// Alert is one occurrence of a rule firing for a subject.
type Alert struct {
	// ID is Rule and Subject: the same ID fires again as a new Alert
	// after it resolved.
	ID      string `json:"id"`
	Rule    string `json:"rule"`
	Subject string `json:"subject"`
	// Reason says what is wrong, with the numbers, as last evaluated.
	Reason string `json:"reason"`
	// Fix is the command or dashboard page that fixes it, "" when there
	// is none to give.
	Fix        string     `json:"fix,omitempty"`
	State      State      `json:"state"`
	FiredAt    time.Time  `json:"fired_at"`
	ResolvedAt *time.Time `json:"resolved_at,omitempty"`
}

// Budget is one budget limit and what was spent against it.
type Budget struct {
	Scope    string  // global, provider or group
	Name     string  // "" for global
	Period   string  // daily or monthly
	LimitUSD float64 // > 0
	SpentUSD float64
}

// Status is the gateway's state an evaluation reads.
type Status struct {
	Offline      bool
	OfflineSince time.Time
	Budgets      []Budget
}

// Source tells an Engine the gateway's state at each evaluation.
type Source interface {
	Status() Status
}

// Sink hears of every alert that fires or resolves. Notify must not block:
// it is called by Evaluate.
type Sink interface {
	Notify(Alert)
}

// Options configure an Engine. Zero fields take the defaults.
type Options struct {
	// Clock times observations. Nil means the real clock.
	Clock clock.Clock
	// Window is how far back the per-deployment and per-provider rules
	// look: 0 means DefaultWindow, 5 minutes.
	Window time.Duration
	// ErrorRate is the fraction of failed attempts above which a
	// deployment alerts: 0 means DefaultErrorRate, 5 %. Failures that are
	// the caller's (bad_request, context_window_exceeded,
	// content_policy) do not count.
	ErrorRate float64
	// MinRequests is how many attempts a deployment needs in the window
	// before its error rate and p95 are judged, so that one failure of
	// two attempts is no alert: 0 means DefaultMinRequests, 10.
	MinRequests int
	// P95 is the 95th-percentile attempt duration above which a
	// deployment alerts: 0 means DefaultP95, 10 seconds.
	P95 time.Duration
	// SpendFactor is how many times yesterday's spend (to the same time
	// of day) today's must exceed: 0 means DefaultSpendFactor, 2.
	SpendFactor float64
	// MinSpendUSD is the least spend today, in USD, that can alert, so
	// cents against nothing stay quiet: 0 means DefaultMinSpendUSD, 1.
	MinSpendUSD float64
	// MinUnresponsive is how many attempts at a provider, all failing to
	// connect or timing out, make it unresponsive: 0 means
	// DefaultMinUnresponsive, 3.
	MinUnresponsive int
	// History is how many alerts, firing or resolved, are kept: 0 means
	// DefaultHistory, 200.
	History int
	// MaxSamples bounds the attempts kept: 0 means DefaultMaxSamples.
	MaxSamples int
	// Sinks hear of every alert fired and resolved.
	Sinks []Sink
}

func (o Options) withDefaults() Options {
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	if o.Window <= 0 {
		o.Window = DefaultWindow
	}
	if o.ErrorRate <= 0 {
		o.ErrorRate = DefaultErrorRate
	}
	if o.MinRequests <= 0 {
		o.MinRequests = DefaultMinRequests
	}
	if o.P95 <= 0 {
		o.P95 = DefaultP95
	}
	if o.SpendFactor <= 0 {
		o.SpendFactor = DefaultSpendFactor
	}
	if o.MinSpendUSD <= 0 {
		o.MinSpendUSD = DefaultMinSpendUSD
	}
	if o.MinUnresponsive <= 0 {
		o.MinUnresponsive = DefaultMinUnresponsive
	}
	if o.History <= 0 {
		o.History = DefaultHistory
	}
	if o.MaxSamples <= 0 {
		o.MaxSamples = DefaultMaxSamples
	}
	return o
}

// sample is one upstream attempt as observed.
type sample struct {
	at         time.Time
	deployment string
	provider   string
	class      string // "" when it answered
	dur        time.Duration
}

// authStreak is a provider's auth failures since it last answered.
type authStreak struct {
	first, last time.Time
	count       int
	status      int
}

// Engine evaluates the rules. Safe for concurrent use.
type Engine struct {
	opts Options
	src  Source

	mu      sync.Mutex
	started time.Time
	samples []sample // oldest first
	// spent is the USD observed per minute (keyed by unix minute), kept
	// for two days: the ledger keeps days, not hours, so yesterday to
	// the same time of day is known only from what the engine saw.
	spent   map[int64]float64
	auth    map[string]*authStreak // by provider
	firing  map[string]*Alert      // by ID
	history []*Alert               // oldest first
}

// New returns an Engine reading the gateway's state from src (nil means
// the state-based rules, offline and budgets, never fire).
func New(src Source, o Options) *Engine {
	o = o.withDefaults()
	return &Engine{opts: o, src: src, started: o.Clock.Now(),
		spent: map[int64]float64{}, auth: map[string]*authStreak{}, firing: map[string]*Alert{}}
}

// Observe takes the record of one answered model request. It never blocks
// for long: the request path calls it.
func (e *Engine) Observe(r requestlog.Record) {
	now := e.opts.Clock.Now()
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, a := range r.Attempts {
		if a.Deployment == "" {
			continue
		}
		e.samples = append(e.samples, sample{at: now, deployment: a.Deployment, provider: a.Provider,
			class: a.Class, dur: time.Duration(a.MS) * time.Millisecond})
		switch {
		case a.Class == "auth":
			s := e.auth[a.Provider]
			if s == nil {
				s = &authStreak{first: now}
				e.auth[a.Provider] = s
			}
			s.last, s.status = now, a.Status
			s.count++
		case a.Class == "":
			// The key works again: the streak, and so the alert, is over.
			delete(e.auth, a.Provider)
		}
	}
	if n := len(e.samples) - e.opts.MaxSamples; n > 0 {
		e.samples = slices.Delete(e.samples, 0, n)
	}
	if r.CostUSD != nil && *r.CostUSD > 0 {
		e.spent[now.Unix()/60] += *r.CostUSD
	}
}

// condition is a rule holding for a subject at an evaluation.
type condition struct {
	rule, subject, reason, fix string
}

// Evaluate judges every rule at now: it fires the alerts whose condition
// holds and were not firing, and resolves those firing whose condition no
// longer holds. Sinks are told of both before it returns.
func (e *Engine) Evaluate(now time.Time) {
	var st Status
	if e.src != nil {
		st = e.src.Status()
	}
	e.mu.Lock()
	conds := e.conditions(now, st)
	var changed []Alert
	seen := map[string]bool{}
	for _, c := range conds {
		id := c.rule + ":" + c.subject
		seen[id] = true
		if a := e.firing[id]; a != nil {
			a.Reason, a.Fix = c.reason, c.fix
			continue
		}
		a := &Alert{ID: id, Rule: c.rule, Subject: c.subject, Reason: c.reason, Fix: c.fix, State: Firing, FiredAt: now}
		e.firing[id] = a
		e.history = append(e.history, a)
		if n := len(e.history) - e.opts.History; n > 0 {
			e.history = slices.Delete(e.history, 0, n)
		}
		changed = append(changed, *a)
	}
	for id, a := range e.firing {
		if seen[id] {
			continue
		}
		t := now
		a.State, a.ResolvedAt = Resolved, &t
		delete(e.firing, id)
		changed = append(changed, *a)
	}
	e.mu.Unlock()
	for _, a := range changed {
		for _, s := range e.opts.Sinks {
			s.Notify(a)
		}
	}
}

// conditions returns the conditions holding at now, sorted by rule and
// subject. e.mu is held.
func (e *Engine) conditions(now time.Time, st Status) []condition {
	from := now.Add(-e.opts.Window)
	i := sort.Search(len(e.samples), func(i int) bool { return !e.samples[i].at.Before(from) })
	e.samples = slices.Delete(e.samples, 0, i)
	for m := range e.spent {
		if m < now.Add(-48*time.Hour).Unix()/60 {
			delete(e.spent, m)
		}
	}
	var out []condition
	out = append(out, e.deploymentConditions()...)
	out = append(out, e.providerConditions()...)
	out = append(out, e.spendCondition(now)...)
	for _, b := range st.Budgets {
		if b.LimitUSD <= 0 {
			continue
		}
		subject := b.Scope + " " + b.Period
		if b.Name != "" {
			subject = b.Scope + " " + b.Name + " " + b.Period
		}
		pct := b.SpentUSD / b.LimitUSD * 100
		reason := fmt.Sprintf("%s budget: $%.2f of $%.2f spent (%.0f %%)", subject, b.SpentUSD, b.LimitUSD, pct)
		if pct >= 80 {
			out = append(out, condition{rule: RuleBudget80, subject: subject, reason: reason})
		}
		if pct >= 100 {
			out = append(out, condition{rule: RuleBudget100, subject: subject, reason: reason})
		}
	}
	if st.Offline {
		reason := "the gateway is offline: no cloud provider is reachable"
		if !st.OfflineSince.IsZero() {
			reason += " since " + st.OfflineSince.UTC().Format(time.RFC3339)
		}
		out = append(out, condition{rule: RuleOffline, subject: "gateway", reason: reason})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].rule != out[j].rule {
			return out[i].rule < out[j].rule
		}
		return out[i].subject < out[j].subject
	})
	return out
}

// callerFault reports whether a failure class is the caller's request, not
// the deployment's health.
func callerFault(class string) bool {
	return class == "bad_request" || class == "context_window_exceeded" || class == "content_policy"
}

// deploymentConditions judges error rate and p95 latency per deployment
// over the samples in the window.
func (e *Engine) deploymentConditions() []condition {
	byDep := map[string][]sample{}
	for _, s := range e.samples {
		byDep[s.deployment] = append(byDep[s.deployment], s)
	}
	var out []condition
	for dep, ss := range byDep {
		if len(ss) < e.opts.MinRequests {
			continue
		}
		failed := 0
		durs := make([]time.Duration, len(ss))
		for i, s := range ss {
			if s.class != "" && !callerFault(s.class) {
				failed++
			}
			durs[i] = s.dur
		}
		if rate := float64(failed) / float64(len(ss)); rate > e.opts.ErrorRate {
			out = append(out, condition{rule: RuleErrorRate, subject: dep, reason: fmt.Sprintf(
				"deployment %s: %d of %d attempts failed in the last %s (%.1f %%, above %.1f %%)",
				dep, failed, len(ss), e.opts.Window, rate*100, e.opts.ErrorRate*100)})
		}
		slices.Sort(durs)
		// Nearest-rank percentile: the smallest duration at or above 95 %
		// of the samples.
		p95 := durs[(len(durs)*95+99)/100-1]
		if p95 > e.opts.P95 {
			out = append(out, condition{rule: RuleLatency, subject: dep, reason: fmt.Sprintf(
				"deployment %s: p95 latency %s over %d attempts in the last %s (above %s)",
				dep, p95, len(ss), e.opts.Window, e.opts.P95)})
		}
	}
	return out
}

// providerConditions judges auth failures and unresponsiveness per
// provider.
func (e *Engine) providerConditions() []condition {
	var out []condition
	for p, s := range e.auth {
		out = append(out, condition{rule: RuleAuth, subject: p, fix: "detour keys set " + p, reason: fmt.Sprintf(
			"%s rejected the API key (%s) %d time(s) since %s, last at %s; rotate it with `detour keys set %s` or on the dashboard page /ui/#/keys",
			p, authWhat(s.status), s.count, s.first.UTC().Format(time.RFC3339), s.last.UTC().Format(time.RFC3339), p)})
	}
	type tally struct{ all, dead int }
	byProv := map[string]*tally{}
	for _, s := range e.samples {
		t := byProv[s.provider]
		if t == nil {
			t = &tally{}
			byProv[s.provider] = t
		}
		t.all++
		if s.class == "connection" || s.class == "timeout" {
			t.dead++
		}
	}
	for p, t := range byProv {
		if t.all >= e.opts.MinUnresponsive && t.dead == t.all {
			out = append(out, condition{rule: RuleUnresponsive, subject: p, reason: fmt.Sprintf(
				"provider %s is not answering: all %d attempts in the last %s failed to connect or timed out", p, t.all, e.opts.Window)})
		}
	}
	return out
}

func authWhat(status int) string {
	if status == 0 {
		return "no key, or refused before sending"
	}
	return fmt.Sprintf("HTTP %d", status)
}

// spendCondition compares today's spend (UTC days, as the ledger's) with
// yesterday's up to the same time of day. It judges only once the engine
// has watched all of yesterday: before, yesterday's figure would be short
// and any spend today would look like a spike.
func (e *Engine) spendCondition(now time.Time) []condition {
	today := now.UTC().Truncate(24 * time.Hour)
	yesterday := today.Add(-24 * time.Hour)
	if e.started.After(yesterday) {
		return nil
	}
	sum := func(from, to time.Time) float64 {
		var usd float64
		for m, v := range e.spent {
			if m >= from.Unix()/60 && m <= to.Unix()/60 {
				usd += v
			}
		}
		return usd
	}
	t, y := sum(today, now), sum(yesterday, now.Add(-24*time.Hour))
	if t < e.opts.MinSpendUSD || t <= e.opts.SpendFactor*y {
		return nil
	}
	return []condition{{rule: RuleSpendSpike, subject: "today", reason: fmt.Sprintf(
		"today's spend $%.2f is above %g× yesterday's $%.2f at the same time (%s UTC)",
		t, e.opts.SpendFactor, y, now.UTC().Format("15:04"))}}
}

// Snapshot is the alerts now: those firing and the bounded history, both
// newest first.
type Snapshot struct {
	Firing  []Alert `json:"firing"`
	History []Alert `json:"history"`
}

// Snapshot returns the firing alerts and the history, newest first. Never
// nil slices, so JSON has [] rather than null.
func (e *Engine) Snapshot() Snapshot {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := Snapshot{Firing: []Alert{}, History: make([]Alert, 0, len(e.history))}
	for i := len(e.history) - 1; i >= 0; i-- {
		a := *e.history[i]
		s.History = append(s.History, a)
	}
	for _, a := range e.firing {
		s.Firing = append(s.Firing, *a)
	}
	sort.Slice(s.Firing, func(i, j int) bool {
		if !s.Firing[i].FiredAt.Equal(s.Firing[j].FiredAt) {
			return s.Firing[i].FiredAt.After(s.Firing[j].FiredAt)
		}
		return s.Firing[i].ID < s.Firing[j].ID
	})
	return s
}
