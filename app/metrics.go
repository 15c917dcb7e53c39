package app

import (
	"net/http"
	"slices"

	"github.com/detour-gateway/detour/metrics"
	"github.com/detour-gateway/detour/requestlog"
	"github.com/detour-gateway/detour/router/cooldown"
	"github.com/detour-gateway/detour/server"
	"github.com/detour-gateway/detour/spend"
)

// withMetrics wires the gateway's Prometheus metrics into o: GET /metrics,
// the count of every request answered, and what cache hits saved. The
// registry is the gateway's own, so two gateways in one process (tests)
// never share a number.
func (g *Gateway) withMetrics(o *server.Options) {
	m := metrics.New(metrics.Options{
		Version: g.opts.Version,
		IsGroup: func(name string) bool { return slices.Contains(g.router.Load().Groups(), name) },
		State:   g.metricsState,
	})
	if prev := o.Observe; prev != nil {
		o.Observe = func(r requestlog.Record) { prev(r); m.Observe(r) }
	} else {
		o.Observe = m.Observe
	}
	if o.Cache != nil {
		o.Cache = server.CacheHits(o.Cache, m.CacheSaved)
	}
	h := m.Handler()
	// detour.metrics is read at each scrape, so a reload that turns
	// metrics off or on applies at once; they are counted either way.
	o.Metrics = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !g.config.Load().Detour.Metrics {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte("metrics are off in this Detour's config (detour.metrics: false)\n"))
			return
		}
		h.ServeHTTP(w, r)
	})
}

// metricsState reads what a scrape reports of the gateway now: each
// deployment's health as the dashboard shows it (without the key check,
// which would ask the keychain at every scrape), offline, the cache's
// size, the ledger's spend and the budgets.
func (g *Gateway) metricsState() metrics.State {
	now := g.opts.Clock.Now()
	var s metrics.State
	s.Offline, _ = g.hosts.Offline()
	r := g.router.Load()
	for _, d := range r.Deployments() {
		md := metrics.Deployment{ID: d.ID, Group: d.Group, Provider: d.Provider, State: metrics.StateHealthy}
		switch st, until, _ := r.Cooldowns().State(d.ID); st {
		case cooldown.Cooling:
			md.State, md.Cooldown = metrics.StateCooling, until.Sub(now)
		case cooldown.Probing:
			md.State = metrics.StateProbing
		}
		if !g.hosts.Reachable(d.Host) {
			md.State = metrics.StateOffline
		}
		if _, ok := g.chaos.Get(d.ID); ok {
			md.State = metrics.StateChaos
		}
		s.Deployments = append(s.Deployments, md)
	}
	if g.cache != nil {
		if cs, err := g.cache.Stats(); err == nil {
			s.Cache = &metrics.CacheSize{Entries: cs.Entries, Bytes: cs.Bytes}
		}
	}
	if g.ledger == nil {
		return s
	}
	t := g.ledger.Totals(now)
	s.Spend = make(map[string]metrics.Spend, len(t.ByProvider))
	for p, sp := range t.ByProvider {
		s.Spend[p] = metrics.Spend{TodayUSD: sp.TodayUSD, MonthUSD: sp.MonthUSD}
	}
	if c := g.checker.Load(); c != nil {
		s.Budgets = budgetStates(c.Budgets(), t)
	}
	return s
}

// budgetStates pairs each limit of bs with what was spent against it, as
// GET /api/v1/spend does.
func budgetStates(bs []spend.Budget, t spend.Totals) []metrics.Budget {
	var out []metrics.Budget
	for _, b := range bs {
		var spent spend.Spend
		switch b.Scope {
		case spend.ScopeGlobal:
			spent = spend.Spend{TodayUSD: t.TodayUSD, MonthUSD: t.MonthUSD}
		case spend.ScopeProvider:
			spent = t.ByProvider[b.Name]
		case spend.ScopeGroup:
			spent = t.ByGroup[b.Name]
		}
		mb := metrics.Budget{Scope: b.Scope.String(), Name: b.Name}
		if b.DailyUSD > 0 {
			mb.Period, mb.LimitUSD, mb.SpentUSD = "daily", b.DailyUSD, spent.TodayUSD
			out = append(out, mb)
		}
		if b.MonthlyUSD > 0 {
			mb.Period, mb.LimitUSD, mb.SpentUSD = "monthly", b.MonthlyUSD, spent.MonthUSD
			out = append(out, mb)
		}
	}
	return out
}
