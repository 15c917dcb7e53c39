package app

import (
	"context"
	"time"

	"github.com/detour-gateway/detour/alerts"
	"github.com/detour-gateway/detour/requestlog"
	"github.com/detour-gateway/detour/server"
)

// AlertInterval is how often the alert rules are evaluated: 15 seconds.
const AlertInterval = 15 * time.Second

// withAlerts builds the gateway's alert engine into o: it observes every
// answered request (chained after the hooks already set), serves GET
// /api/v1/alerts, posts to $SLACK_WEBHOOK_URL when set, and is evaluated
// every AlertInterval until ctx ends. The rules take their defaults: the
// detour.alerts config keys are still to come.
func (g *Gateway) withAlerts(ctx context.Context, o *server.Options) {
	var sinks []alerts.Sink
	if url := g.opts.Getenv(alerts.EnvSlackWebhook); url != "" {
		wh := alerts.NewWebhook(url, alerts.WebhookOptions{Client: g.opts.HTTPClient, Logger: g.opts.Logger})
		go wh.Run(ctx)
		sinks = append(sinks, wh)
	}
	g.alerts = alerts.New(alertSource{g}, alerts.Options{Clock: g.opts.Clock, Sinks: sinks})
	if prev := o.Observe; prev != nil {
		o.Observe = func(r requestlog.Record) { prev(r); g.alerts.Observe(r) }
	} else {
		o.Observe = g.alerts.Observe
	}
	o.Alerts = g.alerts.Snapshot
	go g.alertLoop(ctx)
}

// alertLoop evaluates the alert rules every AlertInterval until ctx ends.
func (g *Gateway) alertLoop(ctx context.Context) {
	t := time.NewTicker(AlertInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			g.EvaluateAlerts()
		}
	}
}

// EvaluateAlerts evaluates the alert rules now, as the gateway does every
// AlertInterval; tests call it directly.
func (g *Gateway) EvaluateAlerts() { g.alerts.Evaluate(g.opts.Clock.Now()) }

// alertSource reads the gateway's state for the alert rules.
type alertSource struct{ g *Gateway }

// Status implements alerts.Source: offline and every budget limit with
// what was spent against it, as /metrics reports them.
func (s alertSource) Status() alerts.Status {
	g := s.g
	var st alerts.Status
	st.Offline, st.OfflineSince = g.hosts.Offline()
	c := g.checker.Load()
	if g.ledger == nil || c == nil {
		return st
	}
	for _, b := range budgetStates(c.Budgets(), g.ledger.Totals(g.opts.Clock.Now())) {
		st.Budgets = append(st.Budgets, alerts.Budget{Scope: b.Scope, Name: b.Name, Period: b.Period, LimitUSD: b.LimitUSD, SpentUSD: b.SpentUSD})
	}
	return st
}
