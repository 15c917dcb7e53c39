package spend

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
)

// Scope says what a Budget limits.
type Scope int

const (
	// ScopeGlobal limits all spend together.
	ScopeGlobal Scope = iota
	// ScopeProvider limits the spend at one provider (Budget.Name, a
	// provider prefix such as "openai").
	ScopeProvider
	// ScopeGroup limits the spend of one model group (Budget.Name).
	ScopeGroup
)

// String returns "global", "provider" or "group".
func (s Scope) String() string {
	switch s {
	case ScopeGlobal:
		return "global"
	case ScopeProvider:
		return "provider"
	case ScopeGroup:
		return "group"
	}
	return "Scope(" + strconv.Itoa(int(s)) + ")"
}

// Action is what to do with a request that a budget does not allow.
type Action int

const (
	// Block refuses the request.
	Block Action = iota
	// Downgrade sends the request somewhere cheaper instead: a fallback
	// group, or the local tier. The caller decides where, and checks the
	// new target's budgets in turn.
	Downgrade
)

// String returns "block" or "downgrade".
func (a Action) String() string {
	switch a {
	case Block:
		return "block"
	case Downgrade:
		return "downgrade"
	}
	return "Action(" + strconv.Itoa(int(a)) + ")"
}

// Budget limits spend per UTC day and per UTC month.
type Budget struct {
	// Scope says what is limited; Name names the provider or group, and is
	// "" for ScopeGlobal.
	Scope Scope
	Name  string
	// DailyUSD and MonthlyUSD are the limits in USD; 0 means no limit of
	// that period. At least one must be set.
	DailyUSD, MonthlyUSD float64
	// OnExceed says what happens to a request the budget does not allow.
	OnExceed Action
}

// describe returns the budget's name in messages: "global budget" or
// `budget for group "main"`.
func (b *Budget) describe() string {
	if b.Scope == ScopeGlobal {
		return "global budget"
	}
	return fmt.Sprintf("budget for %s %q", b.Scope, b.Name)
}

// Verdict is a Checker's answer for one request.
type Verdict struct {
	// Allowed reports whether the request may be sent as it is.
	Allowed bool
	// Action says what to do with a request that is not Allowed: Block it,
	// or Downgrade it. Meaningless when Allowed.
	Action Action
	// Budget is the budget that decided a refusal (a Block budget wins
	// over a Downgrade one), or, for an allowed request with Warning set,
	// the budget most used. Nil otherwise. It points into the Checker:
	// read it, do not change it.
	Budget *Budget
	// Warning reports that a budget that applies is at least 80% used,
	// counting this request's estimate (always so when not Allowed).
	Warning bool
	// Message says which budget and by how much, e.g. `daily budget for
	// group "main" of $5.00 reached ($5.02 spent today)`. Empty when the
	// request is allowed without a warning.
	Message string
}

// warnFraction is the share of a limit from which Verdict.Warning is set.
const warnFraction = 0.8

// tolerance is the amount, in USD, by which sums may miss a limit and
// still count as at it: float64 sums of cents are not exact (ten times
// $0.10 is $0.9999999999999999). A nano-dollar.
const tolerance = 1e-9

// Checker decides whether requests fit their budgets, from the spend in a
// Ledger (read from memory, never the disk) and the requests in flight.
// It is immutable and safe for concurrent use. In-flight reservations are
// kept by the Ledger, not the Checker, so a Checker rebuilt on a config
// reload sees the reservations made through the old one.
//
// The rule: a request may go when, for every limit of every budget that
// applies to it (the global ones, its provider's, its group's), spend
// committed in the limit's period + the estimates of reservations in
// flight + the request's own estimate is at most the limit (within a
// nano-dollar). A limit already reached refuses every request, even one
// whose estimate is 0 (an unknown price). So the request that would cross
// a limit is refused before it is sent, and — when every request reserves
// (Reserve) and costs no more than its estimate — committed plus in-flight
// spend never exceeds a limit under any concurrency. Spend can go past a
// limit only by what requests cost beyond their estimates, and by
// requests sent after Check without a reservation: at most the estimates
// of the requests in flight at the time.
type Checker struct {
	budgets []Budget
	ledger  *Ledger
}

// NewChecker returns a Checker of budgets (copied) against the spend in l.
// It fails on a budget with an unknown Scope or Action, a missing or
// superfluous Name, a negative or non-finite limit, or no limit at all.
// Several budgets may apply to the same scope, e.g. a daily Downgrade at
// $5 and a daily Block at $10.
func NewChecker(budgets []Budget, l *Ledger) (*Checker, error) {
	if l == nil {
		return nil, errors.New("spend: NewChecker needs a Ledger")
	}
	c := &Checker{budgets: append([]Budget(nil), budgets...), ledger: l}
	for i, b := range c.budgets {
		bad := func(msg string) error { return fmt.Errorf("spend: budget %d (%s %q): %s", i, b.Scope, b.Name, msg) }
		switch {
		case b.Scope < ScopeGlobal || b.Scope > ScopeGroup:
			return nil, bad("unknown scope")
		case b.Scope == ScopeGlobal && b.Name != "":
			return nil, bad("a global budget has no name")
		case b.Scope != ScopeGlobal && b.Name == "":
			return nil, bad("needs the name of the provider or group")
		case b.OnExceed != Block && b.OnExceed != Downgrade:
			return nil, bad("unknown action")
		case !validLimit(b.DailyUSD) || !validLimit(b.MonthlyUSD):
			return nil, bad("limits must be finite and not negative")
		case b.DailyUSD == 0 && b.MonthlyUSD == 0:
			return nil, bad("has neither a daily nor a monthly limit")
		}
	}
	return c, nil
}

func validLimit(x float64) bool { return x >= 0 && !math.IsInf(x, 0) } // NaN fails x >= 0

// Budgets returns a copy of the checker's budgets.
func (c *Checker) Budgets() []Budget { return append([]Budget(nil), c.budgets...) }

// Check says whether a request to provider for group, of estimated cost
// estimatedUSD (see EstimateCost; 0 when the price is unknown), fits its
// budgets now, by the Ledger's clock. It reserves nothing: a request that
// will be sent should Reserve instead, so that concurrent requests see it.
func (c *Checker) Check(provider, group string, estimatedUSD float64) Verdict {
	l := c.ledger
	now := l.opt.Clock.Now()
	l.ensureLoaded(dayOf(now).month().firstDay())
	l.mu.RLock()
	defer l.mu.RUnlock()
	return c.verdict(now, provider, group, estimatedUSD)
}

// Reserve is Check that, when the request is allowed, also holds its
// estimate as in flight, counted by every later Check and Reserve until
// the Reservation is committed or released. The check and the hold are
// one step: two concurrent requests cannot both take the last of a budget.
// When the request is not allowed, the Reservation is the zero one, whose
// methods do nothing.
//
// Use it as:
//
//	res, v := checker.Reserve(provider, group, estimate)
//	if !v.Allowed { … refuse or downgrade … }
//	defer res.Release() // no-op once committed
//	… send the request …
//	res.Commit(spend.Record{…, USD: actual, Known: known})
func (c *Checker) Reserve(provider, group string, estimatedUSD float64) (Reservation, Verdict) {
	l := c.ledger
	now := l.opt.Clock.Now()
	l.ensureLoaded(dayOf(now).month().firstDay())
	l.mu.Lock()
	defer l.mu.Unlock()
	v := c.verdict(now, provider, group, estimatedUSD)
	if !v.Allowed {
		return Reservation{}, v
	}
	r := &reservation{l: l, provider: provider, group: group, usd: estimate(estimatedUSD)}
	l.flight.add(r.provider, r.group, r.usd, +1)
	return Reservation{r}, v
}

// maxEstimate caps estimates, so that in-flight sums stay finite: an
// infinite estimate crosses every budget all the same.
const maxEstimate = 1e12

// estimate returns x as an estimate: NaN and negative amounts count as 0,
// and amounts above maxEstimate (infinity included) as maxEstimate.
func estimate(x float64) float64 {
	if !(x > 0) {
		return 0
	}
	return min(x, maxEstimate)
}

// verdict decides. The caller holds the ledger's mu.
func (c *Checker) verdict(now time.Time, provider, group string, estimatedUSD float64) Verdict {
	est := estimate(estimatedUSD)
	l := c.ledger
	day := dayOf(now)
	today, month := l.days[day], l.months[day.month()]

	v := Verdict{Allowed: true}
	var refusal *Budget
	mostUsed := -1.0
	for i := range c.budgets {
		b := &c.budgets[i]
		var name string
		var spentDay, spentMonth *amount
		var flying float64
		switch b.Scope {
		case ScopeGlobal:
			if today != nil {
				spentDay = &today.total
			}
			if month != nil {
				spentMonth = &month.total
			}
			flying = l.flight.total
		case ScopeProvider, ScopeGroup:
			name = provider
			if b.Scope == ScopeGroup {
				name = group
			}
			if name != b.Name {
				continue
			}
			if today != nil {
				spentDay = today.of(b.Scope)[name]
			}
			if month != nil {
				spentMonth = month.of(b.Scope)[name]
			}
			flying = l.flight.of(b.Scope)[name]
		}
		flying = max(flying, 0)
		for _, lim := range [2]struct {
			period, when string
			limit        float64
			spent        *amount
		}{{"daily", "today", b.DailyUSD, spentDay}, {"monthly", "this month", b.MonthlyUSD, spentMonth}} {
			if lim.limit <= 0 {
				continue
			}
			spent := 0.0
			if lim.spent != nil {
				spent = lim.spent.usd
			}
			used := spent + flying
			// Messages are built only when needed: Check is on the hot path.
			spentText := func() string {
				if flying > 0 {
					return usd(spent) + " spent " + lim.when + ", " + usd(flying) + " in flight"
				}
				return usd(spent) + " spent " + lim.when
			}
			var msg string
			switch {
			case used >= lim.limit-tolerance:
				msg = fmt.Sprintf("%s %s of %s reached (%s)", lim.period, b.describe(), usd(lim.limit), spentText())
			case used+est > lim.limit+tolerance:
				msg = fmt.Sprintf("%s %s of %s would be crossed by this request, estimated at %s (%s)",
					lim.period, b.describe(), usd(lim.limit), usd(est), spentText())
			}
			if msg != "" {
				v.Warning = true
				// The first Block budget decides; failing one, the first Downgrade.
				if refusal == nil || refusal.OnExceed == Downgrade && b.OnExceed == Block {
					refusal = b
					v.Allowed, v.Action, v.Budget, v.Message = false, b.OnExceed, b, msg
				}
				continue
			}
			if share := (used + est) / lim.limit; share >= warnFraction {
				v.Warning = true
				if refusal == nil && share > mostUsed {
					mostUsed = share
					v.Budget = b
					v.Message = fmt.Sprintf("%s %s of %s is %d%% used, counting this request's estimated %s (%s)",
						lim.period, b.describe(), usd(lim.limit), int(share*100+1e-6), usd(est), spentText())
				}
			}
		}
	}
	return v
}

// of returns the period's spend by provider or by group.
func (p *period) of(s Scope) map[string]*amount {
	if s == ScopeProvider {
		return p.provider
	}
	return p.group
}

// usd formats an amount of dollars: cents, or four decimals below a cent.
func usd(x float64) string {
	if x > 0 && x < 0.01 {
		return "$" + strconv.FormatFloat(x, 'f', 4, 64)
	}
	return "$" + strconv.FormatFloat(x, 'f', 2, 64)
}

// Reservation holds a request's estimated cost as in flight, from Reserve
// until Commit or Release. The zero Reservation holds nothing, and its
// methods do nothing. Only the first Commit or Release has an effect, so
// `defer res.Release()` after Reserve is always safe.
//
// A reservation that is never committed nor released keeps its estimate
// in flight until the process ends: release it on every path.
type Reservation struct {
	r *reservation
}

type reservation struct {
	l               *Ledger
	provider, group string
	usd             float64
	done            bool // under l.mu
}

// Commit records the request in the Ledger (rec, whose Provider and Group
// default to the reserved ones) and ends the reservation, in one step:
// no concurrent check ever sees the request's cost missing from both the
// in-flight estimates and the recorded spend. rec.USD is the actual cost;
// record an unknown price with Known false, as with Ledger.Record.
func (r Reservation) Commit(rec Record) {
	if r.r == nil {
		return
	}
	l := r.r.l
	l.mu.Lock()
	defer l.mu.Unlock()
	if r.r.done {
		return
	}
	r.r.done = true
	l.flight.add(r.r.provider, r.r.group, -r.r.usd, -1)
	if rec.Provider == "" {
		rec.Provider = r.r.provider
	}
	if rec.Group == "" {
		rec.Group = r.r.group
	}
	l.recordLocked(rec)
}

// Release ends the reservation without recording anything: the request
// was not sent, or failed without cost.
func (r Reservation) Release() {
	if r.r == nil {
		return
	}
	l := r.r.l
	l.mu.Lock()
	defer l.mu.Unlock()
	if r.r.done {
		return
	}
	r.r.done = true
	l.flight.add(r.r.provider, r.r.group, -r.r.usd, -1)
}

// EstimatedUSD returns the estimate the reservation holds; 0 for the zero
// Reservation.
func (r Reservation) EstimatedUSD() float64 {
	if r.r == nil {
		return 0
	}
	return r.r.usd
}

// inFlight sums the estimates of the reservations under way, in total
// and per provider and group. A sum whose last reservation ends is
// deleted, not left at a float64 residue.
type inFlight struct {
	total             float64
	n                 int
	provider, group   map[string]float64
	providerN, groupN map[string]int
}

func newInFlight() inFlight {
	return inFlight{provider: map[string]float64{}, group: map[string]float64{},
		providerN: map[string]int{}, groupN: map[string]int{}}
}

// add adds usd to the sums and step (+1 for a new reservation, -1 for
// one that ends, with usd its negated estimate) to the counts.
func (f *inFlight) add(provider, group string, usd float64, step int) {
	f.n += step
	f.total += usd
	if f.n == 0 {
		f.total = 0
	}
	for _, e := range []struct {
		sums   map[string]float64
		counts map[string]int
		key    string
	}{{f.provider, f.providerN, provider}, {f.group, f.groupN, group}} {
		e.counts[e.key] += step
		e.sums[e.key] += usd
		if e.counts[e.key] == 0 {
			delete(e.counts, e.key)
			delete(e.sums, e.key)
		}
	}
}

// of returns the in-flight sums by provider or by group.
func (f *inFlight) of(s Scope) map[string]float64 {
	if s == ScopeProvider {
		return f.provider
	}
	return f.group
}
