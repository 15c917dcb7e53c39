package spend

import (
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestNewCheckerRejects(t *testing.T) {
	l, _, _ := newTestLedger(t, Options{})
	tests := []struct {
		name string
		b    Budget
	}{
		{"unknown scope", Budget{Scope: 7, DailyUSD: 1}},
		{"global with a name", Budget{Scope: ScopeGlobal, Name: "x", DailyUSD: 1}},
		{"group without a name", Budget{Scope: ScopeGroup, DailyUSD: 1}},
		{"provider without a name", Budget{Scope: ScopeProvider, MonthlyUSD: 1}},
		{"unknown action", Budget{Scope: ScopeGlobal, DailyUSD: 1, OnExceed: 9}},
		{"negative limit", Budget{Scope: ScopeGlobal, DailyUSD: -1}},
		{"NaN limit", Budget{Scope: ScopeGlobal, MonthlyUSD: math.NaN()}},
		{"infinite limit", Budget{Scope: ScopeGlobal, MonthlyUSD: math.Inf(1)}},
		{"no limit", Budget{Scope: ScopeGroup, Name: "g"}},
	}
	for _, tt := range tests {
		if _, err := NewChecker([]Budget{tt.b}, l); err == nil {
			t.Errorf("%s: NewChecker accepted %+v", tt.name, tt.b)
		}
	}
	if _, err := NewChecker(nil, nil); err == nil {
		t.Error("NewChecker accepted a nil ledger")
	}
	if c, err := NewChecker(nil, l); err != nil || !c.Check("openai", "g", 1e6).Allowed {
		t.Errorf("no budgets: %v", err)
	}
}

func TestCheck(t *testing.T) {
	groupDaily := func(limit float64, a Action) Budget {
		return Budget{Scope: ScopeGroup, Name: "main", DailyUSD: limit, OnExceed: a}
	}
	type spent struct {
		provider, group string
		usd             float64
		daysAgo         int
	}
	tests := []struct {
		name            string
		budgets         []Budget
		spent           []spent
		provider, group string
		est             float64

		allowed bool
		action  Action
		budget  int // index of Verdict.Budget in budgets; -1 for nil
		warning bool
		message string // exact, or a prefix when it ends in "…"
	}{
		{name: "no budgets", provider: "openai", group: "main", est: 100,
			allowed: true, budget: -1},
		{name: "well under", budgets: []Budget{groupDaily(5, Block)}, spent: []spent{{"openai", "main", 2, 0}},
			provider: "openai", group: "main", est: 0.1, allowed: true, budget: -1},
		{name: "reached: block", budgets: []Budget{groupDaily(5, Block)}, spent: []spent{{"openai", "main", 5.02, 0}},
			provider: "openai", group: "main", est: 0.01, action: Block, budget: 0, warning: true,
			message: `daily budget for group "main" of $5.00 reached ($5.02 spent today)`},
		{name: "reached: downgrade", budgets: []Budget{groupDaily(5, Downgrade)}, spent: []spent{{"openai", "main", 5.02, 0}},
			provider: "openai", group: "main", est: 0.01, action: Downgrade, budget: 0, warning: true,
			message: `daily budget for group "main" of $5.00 reached ($5.02 spent today)`},
		{name: "reached refuses an unknown price too", budgets: []Budget{groupDaily(5, Block)}, spent: []spent{{"openai", "main", 5, 0}},
			provider: "openai", group: "main", est: 0, action: Block, budget: 0, warning: true,
			message: `daily budget for group "main" of $5.00 reached ($5.00 spent today)`},
		{name: "the estimate would cross: refused before sending", budgets: []Budget{groupDaily(5, Block)},
			spent: []spent{{"openai", "main", 4.95, 0}}, provider: "openai", group: "main", est: 0.10,
			action: Block, budget: 0, warning: true,
			message: `daily budget for group "main" of $5.00 would be crossed by this request, estimated at $0.10 ($4.95 spent today)`},
		{name: "the estimate lands on the limit: allowed", budgets: []Budget{groupDaily(5, Block)},
			spent: []spent{{"openai", "main", 4.90, 0}}, provider: "openai", group: "main", est: 0.10,
			allowed: true, budget: 0, warning: true,
			message: `daily budget for group "main" of $5.00 is 100% used, counting this request's estimated $0.10 ($4.90 spent today)`},
		{name: "80% warns", budgets: []Budget{groupDaily(5, Block)}, spent: []spent{{"openai", "main", 3.95, 0}},
			provider: "openai", group: "main", est: 0.05, allowed: true, budget: 0, warning: true,
			message: `daily budget for group "main" of $5.00 is 80% used, counting this request's estimated $0.05 ($3.95 spent today)`},
		{name: "79% does not warn", budgets: []Budget{groupDaily(5, Block)}, spent: []spent{{"openai", "main", 3.9, 0}},
			provider: "openai", group: "main", est: 0.05, allowed: true, budget: -1},
		{name: "another group's budget does not apply", budgets: []Budget{groupDaily(5, Block)},
			spent:    []spent{{"openai", "main", 9, 0}, {"openai", "other", 1, 0}},
			provider: "openai", group: "other", est: 1, allowed: true, budget: -1},
		{name: "yesterday does not count for the day", budgets: []Budget{groupDaily(5, Block)},
			spent: []spent{{"openai", "main", 9, 1}}, provider: "openai", group: "main", est: 1, allowed: true, budget: -1},
		{name: "provider, monthly", budgets: []Budget{{Scope: ScopeProvider, Name: "openai", MonthlyUSD: 10}},
			spent:    []spent{{"openai", "a", 9, 3}, {"openai", "b", 0.99, 0}, {"anthropic", "a", 50, 0}},
			provider: "openai", group: "a", est: 0.02, action: Block, budget: 0, warning: true,
			message: `monthly budget for provider "openai" of $10.00 would be crossed by this request, estimated at $0.02 ($9.99 spent this month)`},
		{name: "global, monthly reached while the day is fine", budgets: []Budget{{Scope: ScopeGlobal, DailyUSD: 5, MonthlyUSD: 20}},
			spent: []spent{{"openai", "a", 20, 5}}, provider: "gemini", group: "b", est: 0.001,
			action: Block, budget: 0, warning: true,
			message: `monthly global budget of $20.00 reached ($20.00 spent this month)`},
		{name: "block wins over downgrade",
			budgets: []Budget{groupDaily(1, Downgrade), {Scope: ScopeGlobal, DailyUSD: 1, OnExceed: Block}},
			spent:   []spent{{"openai", "main", 1, 0}}, provider: "openai", group: "main", est: 0.1,
			action: Block, budget: 1, warning: true, message: `daily global budget of $1.00 reached …`},
		{name: "block wins over downgrade, either order",
			budgets: []Budget{{Scope: ScopeGlobal, DailyUSD: 1, OnExceed: Block}, groupDaily(1, Downgrade)},
			spent:   []spent{{"openai", "main", 1, 0}}, provider: "openai", group: "main", est: 0.1,
			action: Block, budget: 0, warning: true, message: `daily global budget of $1.00 reached …`},
		{name: "downgrade first, block later", budgets: []Budget{groupDaily(5, Downgrade), groupDaily(10, Block)},
			spent: []spent{{"openai", "main", 6, 0}}, provider: "openai", group: "main", est: 0.1,
			action: Downgrade, budget: 0, warning: true, message: `daily budget for group "main" of $5.00 reached …`},
		{name: "warning names the most used budget",
			budgets: []Budget{{Scope: ScopeGlobal, DailyUSD: 100}, groupDaily(5, Block), {Scope: ScopeProvider, Name: "openai", DailyUSD: 4.5}},
			spent:   []spent{{"openai", "main", 4.2, 0}}, provider: "openai", group: "main", est: 0.1,
			allowed: true, budget: 2, warning: true, message: `daily budget for provider "openai" of $4.50 is 95% used…`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, _, _ := newTestLedger(t, Options{})
			for _, s := range tt.spent {
				r := rec(s.provider, "dep", s.group, s.usd)
				r.Time = epoch.AddDate(0, 0, -s.daysAgo)
				l.Record(r)
			}
			c, err := NewChecker(tt.budgets, l)
			if err != nil {
				t.Fatal(err)
			}
			v := c.Check(tt.provider, tt.group, tt.est)
			if v.Allowed != tt.allowed || v.Warning != tt.warning || (!v.Allowed && v.Action != tt.action) {
				t.Errorf("Check = %+v; want allowed %v, action %v, warning %v", v, tt.allowed, tt.action, tt.warning)
			}
			switch {
			case tt.budget < 0 && v.Budget != nil:
				t.Errorf("Budget = %+v, want nil", *v.Budget)
			case tt.budget >= 0 && (v.Budget == nil || *v.Budget != tt.budgets[tt.budget]):
				t.Errorf("Budget = %v, want %+v", v.Budget, tt.budgets[tt.budget])
			}
			if prefix, ok := strings.CutSuffix(tt.message, "…"); ok {
				if !strings.HasPrefix(v.Message, prefix) {
					t.Errorf("Message = %q, want it to start with %q", v.Message, prefix)
				}
			} else if v.Message != tt.message {
				t.Errorf("Message = %q\n         want %q", v.Message, tt.message)
			}
		})
	}
}

// TestReserveConcurrent races many requests for a $1 budget with
// estimates of $0.10 each: exactly the ten that fit are let through, and
// committed plus in-flight spend never exceeds the budget at any moment.
func TestReserveConcurrent(t *testing.T) {
	for _, tt := range []struct {
		name      string
		actual    float64 // what each request really costs
		wantExact int     // allowed requests, when exact; 0: only bounded
	}{
		{"actual equals estimate", 0.10, 10},
		{"actual below estimate", 0.04, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			const (
				budget   = 1.00
				estimate = 0.10
				requests = 64
			)
			l, _, _ := newTestLedger(t, Options{})
			c, err := NewChecker([]Budget{{Scope: ScopeGlobal, DailyUSD: budget}}, l)
			if err != nil {
				t.Fatal(err)
			}
			var (
				allowed atomic.Int32
				start   = make(chan struct{})
				stop    = make(chan struct{})
				wg      sync.WaitGroup
				watch   sync.WaitGroup
				worst   float64
			)
			// The documented bound: committed + in flight ≤ budget + one
			// request's estimate (in fact ≤ budget, as no request costs
			// more than its estimate).
			bound := budget + estimate + tolerance
			watch.Go(func() {
				for {
					tot := l.Totals(time.Time{})
					worst = max(worst, tot.TodayUSD+tot.InFlightUSD)
					select {
					case <-stop:
						return
					default:
					}
				}
			})
			for i := range requests {
				wg.Go(func() {
					<-start
					res, v := c.Reserve("openai", "main", estimate)
					if !v.Allowed {
						if res.EstimatedUSD() != 0 {
							t.Error("a refused request holds a reservation")
						}
						return
					}
					defer res.Release()
					allowed.Add(1)
					if i%2 == 0 {
						time.Sleep(time.Millisecond) // some requests take longer
					}
					res.Commit(Record{Deployment: "d", USD: tt.actual, Known: true})
				})
			}
			close(start)
			wg.Wait()
			close(stop)
			watch.Wait()

			got := l.Totals(time.Time{})
			n := int(allowed.Load())
			if tt.wantExact != 0 && n != tt.wantExact {
				t.Errorf("%d requests allowed, want %d", n, tt.wantExact)
			}
			if got.TodayUSD > bound || worst > bound {
				t.Errorf("spent $%v, at worst $%v committed + in flight; bound $%v", got.TodayUSD, worst, bound)
			}
			if got.TodayRequests != n || got.InFlightUSD != 0 {
				t.Errorf("%d requests recorded, %d allowed, $%v still in flight", got.TodayRequests, n, got.InFlightUSD)
			}
			if !near(got.TodayUSD, float64(n)*tt.actual) {
				t.Errorf("spent $%v for %d requests of $%v", got.TodayUSD, n, tt.actual)
			}
		})
	}
}

func TestReservations(t *testing.T) {
	l, _, _ := newTestLedger(t, Options{})
	budgets := []Budget{{Scope: ScopeGroup, Name: "main", DailyUSD: 1}}
	c, err := NewChecker(budgets, l)
	if err != nil {
		t.Fatal(err)
	}

	first, v := c.Reserve("openai", "main", 0.6)
	if !v.Allowed || first.EstimatedUSD() != 0.6 {
		t.Fatalf("first reservation: %+v", v)
	}
	if got := l.Totals(time.Time{}); got.InFlightUSD != 0.6 || got.TodayUSD != 0 {
		t.Errorf("while in flight: %+v", got)
	}
	// Check sees the reservation and does not make one.
	for range 2 {
		if v := c.Check("openai", "main", 0.6); v.Allowed ||
			v.Message != `daily budget for group "main" of $1.00 would be crossed by this request, estimated at $0.60 ($0.00 spent today, $0.60 in flight)` {
			t.Errorf("Check with $0.60 in flight: %+v", v)
		}
	}
	// So does a Checker rebuilt from the same budgets, as on a config reload.
	c2, _ := NewChecker(budgets, l)
	second, v := c2.Reserve("openai", "main", 0.6)
	if v.Allowed || second != (Reservation{}) {
		t.Errorf("second reservation: %+v", v)
	}
	second.Commit(rec("openai", "d", "main", 5)) // the zero Reservation does nothing
	second.Release()

	first.Release()
	first.Release() // only the first end counts
	first.Commit(rec("openai", "d", "main", 5))
	if got := l.Totals(time.Time{}); got.InFlightUSD != 0 || got.TodayRequests != 0 {
		t.Errorf("after Release: %+v", got)
	}

	third, v := c.Reserve("openai", "main", 0.6)
	if !v.Allowed {
		t.Fatalf("after Release: %+v", v)
	}
	third.Commit(Record{Deployment: "d", USD: 0.55, Known: true}) // provider and group from the reservation
	third.Commit(Record{Deployment: "d", USD: 0.55, Known: true}) // counted once
	third.Release()
	got := l.Totals(time.Time{})
	if got.InFlightUSD != 0 || !near(got.TodayUSD, 0.55) || got.ByGroup["main"].TodayRequests != 1 || got.ByProvider["openai"].TodayRequests != 1 {
		t.Errorf("after Commit: %+v", got)
	}
	if v := c.Check("openai", "main", 0.5); v.Allowed {
		t.Errorf("$0.55 spent + $0.50 should not fit $1: %+v", v)
	}

	// A reservation for an unknown price holds nothing but still records.
	free, v := c.Reserve("openai", "main", math.NaN())
	if !v.Allowed || free.EstimatedUSD() != 0 {
		t.Fatalf("NaN estimate: %+v, %v", v, free.EstimatedUSD())
	}
	free.Commit(Record{Deployment: "d"})
	if v := c.Check("openai", "main", math.Inf(1)); v.Allowed {
		t.Errorf("an infinite estimate was allowed: %+v", v)
	}
	unlimited, _ := NewChecker(nil, l)
	huge, v := unlimited.Reserve("openai", "main", math.Inf(1)) // no budget applies
	if !v.Allowed || huge.EstimatedUSD() != maxEstimate {
		t.Errorf("infinite estimate without budgets: %+v, %v", v, huge.EstimatedUSD())
	}
	huge.Release()
	if got := l.Totals(time.Time{}); got.InFlightUSD != 0 {
		t.Errorf("in flight after Release: $%v", got.InFlightUSD)
	}
	if got := l.Totals(time.Time{}); got.UnpricedToday != 1 || got.InFlightUSD != 0 {
		t.Errorf("after an unpriced Commit: %+v", got)
	}
}
