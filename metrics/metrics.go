// Package metrics keeps Detour's Prometheus metrics and serves them in
// Prometheus' text format (GET /metrics). Request metrics are counted from
// each request's decision trace (requestlog.Record) as it ends; the state
// of the gateway (deployment health, offline, cache size, spend, budgets)
// is read when a scrape asks for it, so it is never stale and costs
// nothing between scrapes.
//
// Every label value comes from a bounded set: the config's model groups
// and deployments, provider names, Detour's APIs, status classes and the
// closed set of error classes. Nothing a client chooses (request ids,
// prompts, a model name that is no model group) becomes a label.
package metrics

import (
	"net/http"
	"runtime"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/detour-gateway/detour/requestlog"
	"github.com/detour-gateway/detour/router/provider"
)

// Label values for what a request did not have.
const (
	// UnknownGroup is the group label of a request for a model name that
	// is not a model group of the config in use (it got a 404, or was
	// refused before its name was looked at). Client-chosen names never
	// become labels.
	UnknownGroup = "unknown"
	// None is the deployment label of a request no deployment was asked
	// for (a cache hit, a refusal), and the error_class of a request
	// that was answered without a failure.
	None = "none"
)

// Error classes of requests that have no provider error class: Detour
// refused or ended them itself. The others are provider.Class values.
const (
	// ClassBudgetExceeded: a spent budget refused the request before any
	// upstream was asked (429 budget_exceeded). A budget that refuses
	// every deployment during routing is quota_exhausted, as the router
	// classifies it.
	ClassBudgetExceeded = "budget_exceeded"
	// ClassUnavailable: no deployment could be asked (every one cooling
	// or out of reach) or Detour was at its limits (503).
	ClassUnavailable = "unavailable"
	// ClassClientClosed: the client went away while its stream flowed.
	ClassClientClosed = "client_closed"
)

// cacheStale is the Record.Cache of an expired answer served in place of
// a failure.
const cacheStale = "STALE"

// Histogram buckets, in seconds. Never modified.
var (
	// latencyBuckets suit a whole LLM answer: from a cached-fast 50 ms to
	// a long generation of 5 minutes.
	latencyBuckets = []float64{0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120, 300}
	// firstTokenBuckets suit the wait for a stream's first content.
	firstTokenBuckets = []float64{0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60}
	// overheadBuckets suit Detour's own time; the trace's resolution is
	// 1 ms, so the first bucket holds everything under it.
	overheadBuckets = []float64{0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5}
)

// DefaultMaxScrapes bounds how many scrapes are served at once when
// Options.MaxScrapes is 0: 4. Another gets a 503.
const DefaultMaxScrapes = 4

// Options configure New. The zero value counts requests only, under
// group "unknown", with no state read at scrape time.
type Options struct {
	// Version is the build's version, the version label of
	// detour_build_info. "" means "dev".
	Version string
	// IsGroup reports whether name is a model group of the config in
	// use; any other name is counted as UnknownGroup. It is called once
	// per request and must be cheap. Nil means no name is one.
	IsGroup func(name string) bool
	// State returns the gateway's state, once per scrape. Nil means
	// none is reported.
	State func() State
	// MaxScrapes bounds the scrapes served at once; 0 means
	// DefaultMaxScrapes.
	MaxScrapes int
	// NoRuntime leaves out the Go runtime (go_*) and process (process_*)
	// metrics, e.g. in tests that count every series.
	NoRuntime bool
}

// Metrics are one gateway's metrics, in a registry of their own. Safe for
// concurrent use.
type Metrics struct {
	opts     Options
	registry *prometheus.Registry
	handler  http.Handler

	requests     *prometheus.CounterVec
	attempts     *prometheus.CounterVec
	retries      *prometheus.CounterVec
	failovers    *prometheus.CounterVec
	cacheResults *prometheus.CounterVec
	cacheSaved   *prometheus.CounterVec
	spent        *prometheus.CounterVec

	total      *prometheus.HistogramVec
	upstream   *prometheus.HistogramVec
	overhead   *prometheus.HistogramVec
	firstToken *prometheus.HistogramVec
}

// New returns metrics registered in a new registry.
func New(o Options) *Metrics {
	if o.Version == "" {
		o.Version = "dev"
	}
	if o.IsGroup == nil {
		o.IsGroup = func(string) bool { return false }
	}
	if o.MaxScrapes <= 0 {
		o.MaxScrapes = DefaultMaxScrapes
	}
	m := &Metrics{opts: o, registry: prometheus.NewRegistry()}
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
		m.registry.MustRegister(c)
		return c
	}
	histogram := func(name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
		h := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets}, labels)
		m.registry.MustRegister(h)
		return h
	}
	m.requests = counter("detour_requests_total",
		"Model requests answered, by API (chat, embeddings, messages, responses), model group, the deployment asked last (none: no upstream was asked), HTTP status class and error class (none: no failure).",
		"api", "group", "deployment", "status_class", "error_class")
	m.attempts = counter("detour_upstream_attempts_total",
		"Upstream calls, by deployment and outcome: the failure's error class, or none for the call that answered.",
		"deployment", "error_class")
	m.retries = counter("detour_retries_total",
		"Failed upstream calls followed by another call to the same deployment, by deployment and the failure's error class (reason).",
		"deployment", "reason")
	m.failovers = counter("detour_failovers_total",
		"Failed upstream calls followed by a call to another deployment (of the same group, a fallback group or the local tier), by the deployment failed away from and the failure's error class (reason).",
		"deployment", "reason")
	m.cacheResults = counter("detour_cache_requests_total",
		"Requests that used the response cache, by model group and result: hit (a fresh answer), miss, stale (an expired answer served because every provider failed) or bypass (the request or the cache mode left the cache out).",
		"group", "result")
	m.cacheSaved = counter("detour_cache_saved_usd_total",
		"Dollars fresh cache hits saved: what each answer cost when its provider gave it, by that provider.",
		"provider")
	m.spent = counter("detour_spend_usd_total",
		"Dollars spent on answered requests of known price, by the provider that answered.",
		"provider")
	m.total = histogram("detour_request_duration_seconds",
		"Total latency of a model request as Detour served it: from its arrival to the end of the answer (for a stream, its last event), by API, model group and whether it streamed. Resolution 1 ms.",
		latencyBuckets, "api", "group", "stream")
	m.upstream = histogram("detour_upstream_duration_seconds",
		"Upstream latency: how long the deployment that answered a non-streamed request took, from sending it to the whole answer. Failed calls are not included. Resolution 1 ms.",
		latencyBuckets, "deployment")
	m.overhead = histogram("detour_gateway_overhead_seconds",
		"Detour's own time in a non-streamed request: its total latency less the time spent in upstream calls, so decoding, cache, budgets, routing, retry backoff and encoding. Resolution 1 ms.",
		overheadBuckets, "api")
	m.firstToken = histogram("detour_time_to_first_token_seconds",
		"Time to first token of a streamed request at the deployment that answered it: from sending the request to its first content chunk. Earlier failed calls and Detour's own time are not included. Resolution 1 ms.",
		firstTokenBuckets, "deployment")

	build := prometheus.NewGauge(prometheus.GaugeOpts{Name: "detour_build_info",
		Help:        "Always 1; the labels say which build of Detour runs.",
		ConstLabels: prometheus.Labels{"version": o.Version, "goversion": runtime.Version()}})
	build.Set(1)
	m.registry.MustRegister(build)
	if o.State != nil {
		m.registry.MustRegister(stateCollector{state: o.State})
	}
	if !o.NoRuntime {
		m.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	m.handler = promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{
		// A broken collector must not hide the rest: the scrape goes on
		// and promhttp counts the error.
		ErrorHandling:       promhttp.ContinueOnError,
		MaxRequestsInFlight: o.MaxScrapes,
	})
	return m
}

// Handler serves the metrics in Prometheus' text format (or another format
// the scraper asks for). It does no access control: the caller's door does.
func (m *Metrics) Handler() http.Handler { return m.handler }

// Gatherer returns the registry, for tests and other exporters.
func (m *Metrics) Gatherer() prometheus.Gatherer { return m.registry }

// Observe counts one model request from its decision trace, once it was
// answered. It never blocks.
func (m *Metrics) Observe(r requestlog.Record) {
	group := r.Group
	if !m.opts.IsGroup(group) {
		group = UnknownGroup
	}
	deployment := None
	if n := len(r.Attempts); n > 0 {
		deployment = r.Attempts[n-1].Deployment
	}
	var upstream int64
	for i, a := range r.Attempts {
		upstream += a.MS
		class := a.Class
		if class == "" {
			class = None
		}
		m.attempts.WithLabelValues(a.Deployment, class).Inc()
		if a.Class == "" || i+1 == len(r.Attempts) {
			continue
		}
		if r.Attempts[i+1].Deployment == a.Deployment {
			m.retries.WithLabelValues(a.Deployment, a.Class).Inc()
		} else {
			m.failovers.WithLabelValues(a.Deployment, a.Class).Inc()
		}
	}

	stream := "false"
	if r.Stream {
		stream = "true"
	}
	m.total.WithLabelValues(r.API, group, stream).Observe(seconds(r.TotalMS))
	if a, ok := answering(r); ok {
		if r.Stream {
			m.firstToken.WithLabelValues(a.Deployment).Observe(seconds(a.MS))
		} else {
			m.upstream.WithLabelValues(a.Deployment).Observe(seconds(a.MS))
		}
		if r.CostUSD != nil && *r.CostUSD >= 0 {
			m.spent.WithLabelValues(a.Provider).Add(*r.CostUSD)
		}
	}
	if !r.Stream {
		// A stream's total holds the time its answer flowed, which is
		// no upstream call's: it has no overhead figure.
		m.overhead.WithLabelValues(r.API).Observe(seconds(max(r.TotalMS-upstream, 0)))
	}
	if result, ok := cacheResultLabels[r.Cache]; ok {
		m.cacheResults.WithLabelValues(group, result).Inc()
	}
	// Counted last: a scrape that sees the request counted sees every
	// other figure of it too.
	m.requests.WithLabelValues(r.API, group, deployment, statusClass(r.Status), errorClass(r)).Inc()
}

// cacheResultLabels are the result labels of Record.Cache's values (the
// x-detour-cache header); "" (no cache) and anything else count nowhere.
// Never modified.
var cacheResultLabels = map[string]string{"HIT": "hit", "MISS": "miss", "STALE": "stale", "BYPASS": "bypass"}

// CacheSaved counts a fresh cache hit that saved usd dollars of an answer
// provider once gave. It never blocks.
func (m *Metrics) CacheSaved(providerName string, usd float64) {
	if usd >= 0 {
		m.cacheSaved.WithLabelValues(providerName).Add(usd)
	}
}

// answering returns the attempt that answered r, if one did.
func answering(r requestlog.Record) (requestlog.Attempt, bool) {
	n := len(r.Attempts)
	if n == 0 || r.Attempts[n-1].Class != "" || r.Cache == cacheStale {
		return requestlog.Attempt{}, false
	}
	return r.Attempts[n-1], true
}

// seconds converts milliseconds to seconds.
func seconds(ms int64) float64 { return float64(ms) / 1000 }

// statusClasses are the status_class values, by the status's first
// digit. Never modified.
var statusClasses = [...]string{"unknown", "1xx", "2xx", "3xx", "4xx", "5xx"}

// statusClass returns "2xx" for 200 and so on; "unknown" for a status
// outside 100–599.
func statusClass(status int) string {
	if status < 100 || status > 599 {
		return statusClasses[0]
	}
	return statusClasses[status/100]
}

// errorClass returns what went wrong with r, from a closed set: None when
// nothing did; else the provider.Class of the failure that ended it (or
// that a stale answer stood in for, or that broke a stream after it
// started); else, when no upstream was asked, one of Detour's own
// classes by the status it answered.
func errorClass(r requestlog.Record) string {
	if r.Status < 400 && r.Error == "" {
		return None
	}
	if r.Status < 400 && r.Cache != cacheStale {
		// The stream broke after it started: the error is the router's
		// *provider.Error, or the client's going away.
		if c, ok := leadingClass(r.Error); ok {
			return c
		}
		if strings.HasPrefix(r.Error, "client went away") {
			return ClassClientClosed
		}
		return string(provider.ServerError)
	}
	for i := len(r.Attempts) - 1; i >= 0; i-- {
		if c := r.Attempts[i].Class; c != "" {
			return c
		}
	}
	if c, ok := leadingClass(r.Error); ok {
		return c
	}
	// No upstream was asked: Detour answered, and its status says why.
	switch {
	case r.Status == http.StatusTooManyRequests && len(r.Groups) == 0:
		// Before routing, the only 429 is a budget's.
		return ClassBudgetExceeded
	case r.Status == http.StatusTooManyRequests:
		return string(provider.QuotaExhausted)
	case r.Status == http.StatusServiceUnavailable:
		return ClassUnavailable
	case r.Status == http.StatusNotFound:
		return string(provider.NotFound)
	case r.Status == http.StatusUnauthorized:
		return string(provider.Auth)
	case r.Status == http.StatusGatewayTimeout:
		return string(provider.Timeout)
	case r.Status < 500:
		return string(provider.BadRequest)
	}
	return string(provider.ServerError)
}

// leadingClass reads the class a *provider.Error's text starts with
// ("rate_limited: …", "server_error (upstream status 502): …").
func leadingClass(msg string) (string, bool) {
	for _, c := range provider.Classes() {
		if rest, ok := strings.CutPrefix(msg, string(c)); ok && (strings.HasPrefix(rest, ":") || strings.HasPrefix(rest, " (")) {
			return string(c), true
		}
	}
	return "", false
}
