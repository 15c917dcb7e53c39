package app

import (
	"os"
	"path/filepath"

	"github.com/detour-gateway/detour/chat"
	"github.com/detour-gateway/detour/config"
	"github.com/detour-gateway/detour/router"
	"github.com/detour-gateway/detour/server"
	"github.com/detour-gateway/detour/spend"
)

// openLedger opens the spend ledger, or returns nil (and says why): the
// gateway runs without spend tracking rather than not at all.
func openLedger(path string, o Options) *spend.Ledger {
	if path == "" {
		dir, err := os.UserCacheDir()
		if err != nil {
			o.Logger.Warn("running without a spend ledger", "err", err)
			return nil
		}
		path = filepath.Join(dir, "detour", "spend.db")
	}
	l, err := spend.Open(path, spend.Options{Clock: o.Clock, Logger: o.Logger})
	if err != nil {
		o.Logger.Warn("running without a spend ledger", "path", path, "err", err)
		return nil
	}
	return l
}

// newChecker builds the budget checker for cfg's budgets.
func newChecker(budgets []config.Budget, l *spend.Ledger) (*spend.Checker, error) {
	var bs []spend.Budget
	for _, b := range budgets {
		sb := spend.Budget{Name: b.Name, DailyUSD: b.DailyUSD, MonthlyUSD: b.MonthlyUSD, OnExceed: spend.Block}
		switch b.Scope {
		case "provider":
			sb.Scope = spend.ScopeProvider
		case "group":
			sb.Scope = spend.ScopeGroup
		default:
			sb.Scope = spend.ScopeGlobal
		}
		if b.OnExceed == "downgrade" {
			sb.OnExceed = spend.Downgrade
		}
		bs = append(bs, sb)
	}
	return spend.NewChecker(bs, l)
}

// budgets is the server's view of spend: it reserves a request's
// estimated cost against the budgets before it is sent and records what it
// cost once answered.
type budgets struct{ g *Gateway }

// Reserve implements server.Budgets.
func (b budgets) Reserve(group string, req *chat.Request) (server.Ticket, spend.Verdict) {
	checker := b.g.checker.Load()
	if checker == nil {
		return nil, spend.Verdict{Allowed: true}
	}
	// The estimate prices the request at the dearest deployment of the
	// group: the one that could cross the budget.
	tokens, out := spend.EstimateTokens(req), 0
	switch {
	case req.MaxCompletionTokens != nil:
		out = *req.MaxCompletionTokens
	case req.MaxTokens != nil:
		out = *req.MaxTokens
	}
	est := 0.0
	for _, d := range b.g.router.Load().Deployments() {
		if d.Group == group {
			o := out
			if o == 0 {
				o = max(d.Price.MaxOutputTokens, 1024) / 4 // no limit set: a typical answer of this model
			}
			est = max(est, spend.EstimateCost(d.Price, tokens, o))
		}
	}
	res, v := checker.Reserve("", group, est)
	return ticket{res}, v
}

// Limits implements server.Budgets.
func (b budgets) Limits() []spend.Budget {
	if c := b.g.checker.Load(); c != nil {
		return c.Budgets()
	}
	return nil
}

// allow reports whether deployment d's provider budget leaves room.
func (g *Gateway) allow(d *router.Deployment) bool {
	checker := g.checker.Load()
	return checker == nil || checker.Check(d.Provider, "", 0).Allowed
}

// ticket is a request's reservation.
type ticket struct{ r spend.Reservation }

// Commit records what the request cost; usage nil or an unknown price
// counts as an unpriced request, never $0.
func (t ticket) Commit(d *router.Deployment, usage *chat.Usage) {
	rec := spend.Record{Provider: d.Provider, Deployment: d.ID, Group: d.Group}
	if usage != nil {
		rec.PromptTokens, rec.CompletionTokens = usage.PromptTokens, usage.CompletionTokens
		if d.Price.Input > 0 || d.Price.Output > 0 {
			rec.USD, rec.Known = d.Price.Cost(usage), true
		}
	}
	t.r.Commit(rec)
}

// Release gives the reservation back: nothing was spent.
func (t ticket) Release() { t.r.Release() }
