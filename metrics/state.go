package metrics

import (
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Deployment states, the values of detour_deployment_state's state label.
const (
	// StateHealthy: in rotation.
	StateHealthy = "healthy"
	// StateCooling: out of rotation after failures, until its cooldown
	// ends.
	StateCooling = "cooling"
	// StateProbing: its cooldown ended; one trial request is let through
	// before it is back in rotation.
	StateProbing = "probing"
	// StateOffline: its host is out of reach.
	StateOffline = "offline"
	// StateChaos: the chaos switch (the dashboard's) makes it fail.
	StateChaos = "chaos"
)

// DeploymentStates lists every deployment state, in documentation order.
func DeploymentStates() []string {
	return []string{StateHealthy, StateCooling, StateProbing, StateOffline, StateChaos}
}

// State is the gateway's state at one scrape.
type State struct {
	// Offline is true while every cloud host is out of reach (the local
	// tier answers, if there is one).
	Offline bool
	// Deployments are the deployments of the config in use.
	Deployments []Deployment
	// Cache is the response cache's size; nil when there is no cache.
	Cache *CacheSize
	// Spend is what the ledger holds for the current UTC day and month,
	// by provider; nil when spend is not tracked.
	Spend map[string]Spend
	// Budgets are the budgets in force and what was spent against them.
	Budgets []Budget
}

// Deployment is one deployment's health.
type Deployment struct {
	ID, Group, Provider string
	// State is one of DeploymentStates.
	State string
	// Cooldown is how much longer it cools; 0 when it is not cooling.
	Cooldown time.Duration
}

// CacheSize is the response cache's content.
type CacheSize struct {
	// Entries and Bytes are the entries stored and their keys' and
	// values' bytes.
	Entries, Bytes int64
}

// Spend is what was spent in the current UTC day and month, in dollars.
type Spend struct {
	TodayUSD, MonthUSD float64
}

// Budget is one limit of one budget.
type Budget struct {
	// Scope is global, provider or group; Name the provider or group, ""
	// for the global budget.
	Scope, Name string
	// Period is daily or monthly (UTC).
	Period string
	// LimitUSD is the limit; SpentUSD what the period spent against it.
	LimitUSD, SpentUSD float64
}

// The descriptions of what a scrape reads. Never modified.
var (
	descOffline = prometheus.NewDesc("detour_offline",
		"1 while every cloud provider's host is out of reach (the local tier answers, if there is one), else 0.", nil, nil)
	descDeploymentState = prometheus.NewDesc("detour_deployment_state",
		"1 for the state each deployment is in (healthy, cooling, probing, offline: its host is out of reach, chaos: failing by the chaos switch), 0 for the others.",
		[]string{"deployment", "group", "provider", "state"}, nil)
	descCooldown = prometheus.NewDesc("detour_deployment_cooldown_seconds",
		"How much longer each deployment is out of rotation after failures; 0 when it is in rotation.",
		[]string{"deployment", "group", "provider"}, nil)
	descCacheEntries = prometheus.NewDesc("detour_cache_entries",
		"Answers stored in the response cache.", nil, nil)
	descCacheBytes = prometheus.NewDesc("detour_cache_bytes",
		"Bytes of the response cache's entries, keys and values (what detour.cache.max_bytes caps).", nil, nil)
	descSpend = prometheus.NewDesc("detour_spend_period_usd",
		"Dollars the spend ledger holds for the current UTC day (period=day) and month (period=month), by provider.",
		[]string{"provider", "period"}, nil)
	descBudgetLimit = prometheus.NewDesc("detour_budget_limit_usd",
		"Each budget's limit in dollars, by scope (global, provider, group), name (the provider or group; empty for global) and period (daily, monthly; UTC).",
		[]string{"scope", "name", "period"}, nil)
	descBudgetRemaining = prometheus.NewDesc("detour_budget_remaining_usd",
		"Dollars each budget has left this period: its limit less what was spent; below 0 when requests in flight overran it.",
		[]string{"scope", "name", "period"}, nil)
)

// stateCollector reports a State read at each scrape.
type stateCollector struct {
	state func() State
}

// Describe implements prometheus.Collector.
func (stateCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descOffline, descDeploymentState, descCooldown, descCacheEntries, descCacheBytes,
		descSpend, descBudgetLimit, descBudgetRemaining} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c stateCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.state()
	ch <- prometheus.MustNewConstMetric(descOffline, prometheus.GaugeValue, boolValue(s.Offline))
	states := DeploymentStates()
	seen := make(map[string]bool, len(s.Deployments))
	for _, d := range s.Deployments {
		if seen[d.ID] {
			continue // a registry refuses two series with the same labels
		}
		seen[d.ID] = true
		for _, st := range states {
			ch <- prometheus.MustNewConstMetric(descDeploymentState, prometheus.GaugeValue, boolValue(d.State == st), d.ID, d.Group, d.Provider, st)
		}
		ch <- prometheus.MustNewConstMetric(descCooldown, prometheus.GaugeValue, max(d.Cooldown, 0).Seconds(), d.ID, d.Group, d.Provider)
	}
	if cs := s.Cache; cs != nil {
		ch <- prometheus.MustNewConstMetric(descCacheEntries, prometheus.GaugeValue, float64(cs.Entries))
		ch <- prometheus.MustNewConstMetric(descCacheBytes, prometheus.GaugeValue, float64(cs.Bytes))
	}
	for _, p := range sortedKeys(s.Spend) {
		ch <- prometheus.MustNewConstMetric(descSpend, prometheus.GaugeValue, s.Spend[p].TodayUSD, p, "day")
		ch <- prometheus.MustNewConstMetric(descSpend, prometheus.GaugeValue, s.Spend[p].MonthUSD, p, "month")
	}
	budgets := make(map[[3]string]bool, len(s.Budgets))
	for _, b := range s.Budgets {
		if k := [3]string{b.Scope, b.Name, b.Period}; budgets[k] {
			continue
		} else {
			budgets[k] = true
		}
		ch <- prometheus.MustNewConstMetric(descBudgetLimit, prometheus.GaugeValue, b.LimitUSD, b.Scope, b.Name, b.Period)
		ch <- prometheus.MustNewConstMetric(descBudgetRemaining, prometheus.GaugeValue, b.LimitUSD-b.SpentUSD, b.Scope, b.Name, b.Period)
	}
}

// boolValue is 1 for true, 0 for false.
func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
