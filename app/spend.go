package app

import (
	"os"
	"path/filepath"

	"github.com/detour-gateway/detour/chat"
	"github.com/detour-gateway/detour/config"
	"github.com/detour-gateway/detour/router"
	"github.com/detour-gateway/detour/router/provider"
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

// budgets is the server's view of spend: before routing, it says whether
// a request's own group may be asked (a Block budget refuses it with a
// 429, a Downgrade one sends it to its fallbacks) and warns near a limit.
// The money itself is reserved and recorded by routeBudget, per attempt.
type budgets struct{ g *Gateway }

// Check implements server.Budgets.
func (b budgets) Check(group string, req *chat.Request) spend.Verdict {
	checker := b.g.checker.Load()
	if checker == nil {
		return spend.Verdict{Allowed: true}
	}
	// The estimate prices the request at the dearest deployment of the
	// group: the one that could cross the budget.
	tokens, out := spend.EstimateTokens(req), maxOutput(req)
	est := 0.0
	for _, d := range b.g.router.Load().Deployments() {
		if d.Group == group {
			est = max(est, estimate(d, tokens, out))
		}
	}
	return checker.Check("", group, est)
}

// Limits implements server.Budgets.
func (b budgets) Limits() []spend.Budget {
	if c := b.g.checker.Load(); c != nil {
		return c.Budgets()
	}
	return nil
}

// maxOutput is the request's own limit on output tokens, 0 when it sets
// none.
func maxOutput(req *chat.Request) int {
	switch {
	case req.MaxCompletionTokens != nil:
		return *req.MaxCompletionTokens
	case req.MaxTokens != nil:
		return *req.MaxTokens
	}
	return 0
}

// estimate is what a request of tokens prompt tokens and at most out
// output tokens (0: no limit set) can cost at d.
func estimate(d *router.Deployment, tokens, out int) float64 {
	if out == 0 {
		out = max(d.Price.MaxOutputTokens, 1024) / 4 // no limit set: a typical answer of this model
	}
	return spend.EstimateCost(d.Price, tokens, out)
}

// routeBudget is the router's view of spend: each attempt reserves its
// estimate at the deployment and group about to answer, and the answer
// records what it cost, on every path a request takes.
type routeBudget struct{ g *Gateway }

// Reserve implements router.Budget. The local tier is free and never
// refused; what it answers is still counted.
func (b routeBudget) Reserve(d *router.Deployment, size router.Size) (router.Hold, error) {
	checker := b.g.checker.Load()
	if checker == nil {
		return nil, nil
	}
	if spec, ok := provider.Lookup(d.Provider); ok && spec.Wire == provider.WireOllama && d.Price == (spend.Price{}) {
		return ledgerHold{b.g.ledger, d}, nil
	}
	res, v := checker.Reserve(d.Provider, d.Group, estimate(d, size.PromptTokens, size.MaxOutputTokens))
	if !v.Allowed {
		return nil, &router.Refusal{Deployment: v.Budget != nil && v.Budget.Scope == spend.ScopeProvider, Message: v.Message}
	}
	return reservationHold{res, d}, nil
}

// spendRecord is the ledger's record of one answer of deployment id at
// price p; usage nil or an unknown price counts as an unpriced request,
// never $0.
func spendRecord(id, providerName, group string, p spend.Price, usage *chat.Usage) spend.Record {
	rec := spend.Record{Provider: providerName, Deployment: id, Group: group}
	if usage != nil {
		rec.PromptTokens, rec.CompletionTokens = usage.PromptTokens, usage.CompletionTokens
		if p.Input > 0 || p.Output > 0 {
			rec.USD, rec.Known = p.Cost(usage), true
		}
	}
	return rec
}

// reservationHold is an attempt's reservation against the budgets.
type reservationHold struct {
	r spend.Reservation
	d *router.Deployment
}

func (h reservationHold) Commit(usage *chat.Usage) {
	h.r.Commit(spendRecord(h.d.ID, h.d.Provider, h.d.Group, h.d.Price, usage))
}

func (h reservationHold) Release() { h.r.Release() }

// ledgerHold counts an answer no budget limits (the local tier).
type ledgerHold struct {
	l *spend.Ledger
	d *router.Deployment
}

func (h ledgerHold) Commit(usage *chat.Usage) {
	h.l.Record(spendRecord(h.d.ID, h.d.Provider, h.d.Group, h.d.Price, usage))
}

func (ledgerHold) Release() {}
