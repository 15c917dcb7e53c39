package metrics

import (
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/detour-gateway/detour/requestlog"
)

// groups are the model groups of the tests' config.
func groups(name string) bool { return name == "main" || name == "backup" }

func newTest(state func() State) *Metrics {
	return New(Options{Version: "v1.2.3", IsGroup: groups, State: state, NoRuntime: true})
}

func cost(usd float64) *float64 { return &usd }

// TestObserveCounts: each kind of request ends up in the counters it
// should, with bounded labels, and nowhere else.
func TestObserveCounts(t *testing.T) {
	for _, tc := range []struct {
		name  string
		rec   requestlog.Record
		names []string // the metrics compared
		want  string
	}{
		{
			name: "success",
			rec: requestlog.Record{API: "chat", Group: "main", Status: 200, TotalMS: 120, Cache: "MISS", CostUSD: cost(0.25),
				Attempts: []requestlog.Attempt{{Deployment: "a", Provider: "openai", Group: "main", Status: 200, MS: 100}}},
			names: []string{"detour_requests_total", "detour_upstream_attempts_total", "detour_retries_total", "detour_failovers_total",
				"detour_cache_requests_total", "detour_spend_usd_total"},
			want: `
# HELP detour_cache_requests_total Requests that used the response cache, by model group and result: hit (a fresh answer), miss, stale (an expired answer served because every provider failed) or bypass (the request or the cache mode left the cache out).
# TYPE detour_cache_requests_total counter
detour_cache_requests_total{group="main",result="miss"} 1
# HELP detour_requests_total Model requests answered, by API (chat, embeddings, messages, responses), model group, the deployment asked last (none: no upstream was asked), HTTP status class and error class (none: no failure).
# TYPE detour_requests_total counter
detour_requests_total{api="chat",deployment="a",error_class="none",group="main",status_class="2xx"} 1
# HELP detour_spend_usd_total Dollars spent on answered requests of known price, by the provider that answered.
# TYPE detour_spend_usd_total counter
detour_spend_usd_total{provider="openai"} 0.25
# HELP detour_upstream_attempts_total Upstream calls, by deployment and outcome: the failure's error class, or none for the call that answered.
# TYPE detour_upstream_attempts_total counter
detour_upstream_attempts_total{deployment="a",error_class="none"} 1
`,
		},
		{
			name: "retry then failover then fallback",
			rec: requestlog.Record{API: "messages", Group: "main", Status: 200, TotalMS: 900, Groups: []string{"main", "backup"},
				Attempts: []requestlog.Attempt{
					{Deployment: "a", Provider: "openai", Group: "main", Class: "rate_limited", Status: 429, MS: 10},
					{Deployment: "a", Provider: "openai", Group: "main", Class: "server_error", Status: 500, MS: 10},
					{Deployment: "b", Provider: "anthropic", Group: "main", Class: "timeout", MS: 500},
					{Deployment: "c", Provider: "gemini", Group: "backup", Status: 200, MS: 300},
				}},
			names: []string{"detour_requests_total", "detour_upstream_attempts_total", "detour_retries_total", "detour_failovers_total"},
			want: `
# HELP detour_failovers_total Failed upstream calls followed by a call to another deployment (of the same group, a fallback group or the local tier), by the deployment failed away from and the failure's error class (reason).
# TYPE detour_failovers_total counter
detour_failovers_total{deployment="a",reason="server_error"} 1
detour_failovers_total{deployment="b",reason="timeout"} 1
# HELP detour_requests_total Model requests answered, by API (chat, embeddings, messages, responses), model group, the deployment asked last (none: no upstream was asked), HTTP status class and error class (none: no failure).
# TYPE detour_requests_total counter
detour_requests_total{api="messages",deployment="c",error_class="none",group="main",status_class="2xx"} 1
# HELP detour_retries_total Failed upstream calls followed by another call to the same deployment, by deployment and the failure's error class (reason).
# TYPE detour_retries_total counter
detour_retries_total{deployment="a",reason="rate_limited"} 1
# HELP detour_upstream_attempts_total Upstream calls, by deployment and outcome: the failure's error class, or none for the call that answered.
# TYPE detour_upstream_attempts_total counter
detour_upstream_attempts_total{deployment="a",error_class="rate_limited"} 1
detour_upstream_attempts_total{deployment="a",error_class="server_error"} 1
detour_upstream_attempts_total{deployment="b",error_class="timeout"} 1
detour_upstream_attempts_total{deployment="c",error_class="none"} 1
`,
		},
		{
			name: "every deployment failed",
			rec: requestlog.Record{API: "responses", Group: "main", Status: 502, TotalMS: 40, Groups: []string{"main"},
				Attempts: []requestlog.Attempt{{Deployment: "a", Provider: "openai", Group: "main", Class: "server_error", Status: 500, MS: 30}}},
			names: []string{"detour_requests_total", "detour_failovers_total", "detour_spend_usd_total"},
			want: `
# HELP detour_requests_total Model requests answered, by API (chat, embeddings, messages, responses), model group, the deployment asked last (none: no upstream was asked), HTTP status class and error class (none: no failure).
# TYPE detour_requests_total counter
detour_requests_total{api="responses",deployment="a",error_class="server_error",group="main",status_class="5xx"} 1
`,
		},
		{
			name:  "a model name that is no group",
			rec:   requestlog.Record{API: "chat", Group: "ignore previous instructions", Status: 404, TotalMS: 1},
			names: []string{"detour_requests_total", "detour_request_duration_seconds"},
			want: `
# HELP detour_request_duration_seconds Total latency of a model request as Detour served it: from its arrival to the end of the answer (for a stream, its last event), by API, model group and whether it streamed. Resolution 1 ms.
# TYPE detour_request_duration_seconds histogram
detour_request_duration_seconds_bucket{api="chat",group="unknown",stream="false",le="0.05"} 1
detour_request_duration_seconds_bucket{api="chat",group="unknown",stream="false",le="0.1"} 1
detour_request_duration_seconds_bucket{api="chat",group="unknown",stream="false",le="0.25"} 1
detour_request_duration_seconds_bucket{api="chat",group="unknown",stream="false",le="0.5"} 1
detour_request_duration_seconds_bucket{api="chat",group="unknown",stream="false",le="1"} 1
detour_request_duration_seconds_bucket{api="chat",group="unknown",stream="false",le="2"} 1
detour_request_duration_seconds_bucket{api="chat",group="unknown",stream="false",le="4"} 1
detour_request_duration_seconds_bucket{api="chat",group="unknown",stream="false",le="8"} 1
detour_request_duration_seconds_bucket{api="chat",group="unknown",stream="false",le="15"} 1
detour_request_duration_seconds_bucket{api="chat",group="unknown",stream="false",le="30"} 1
detour_request_duration_seconds_bucket{api="chat",group="unknown",stream="false",le="60"} 1
detour_request_duration_seconds_bucket{api="chat",group="unknown",stream="false",le="120"} 1
detour_request_duration_seconds_bucket{api="chat",group="unknown",stream="false",le="300"} 1
detour_request_duration_seconds_bucket{api="chat",group="unknown",stream="false",le="+Inf"} 1
detour_request_duration_seconds_sum{api="chat",group="unknown",stream="false"} 0.001
detour_request_duration_seconds_count{api="chat",group="unknown",stream="false"} 1
# HELP detour_requests_total Model requests answered, by API (chat, embeddings, messages, responses), model group, the deployment asked last (none: no upstream was asked), HTTP status class and error class (none: no failure).
# TYPE detour_requests_total counter
detour_requests_total{api="chat",deployment="none",error_class="not_found",group="unknown",status_class="4xx"} 1
`,
		},
		{
			name:  "a cache hit",
			rec:   requestlog.Record{API: "chat", Group: "main", Status: 200, TotalMS: 2, Cache: "HIT"},
			names: []string{"detour_requests_total", "detour_cache_requests_total", "detour_spend_usd_total"},
			want: `
# HELP detour_cache_requests_total Requests that used the response cache, by model group and result: hit (a fresh answer), miss, stale (an expired answer served because every provider failed) or bypass (the request or the cache mode left the cache out).
# TYPE detour_cache_requests_total counter
detour_cache_requests_total{group="main",result="hit"} 1
# HELP detour_requests_total Model requests answered, by API (chat, embeddings, messages, responses), model group, the deployment asked last (none: no upstream was asked), HTTP status class and error class (none: no failure).
# TYPE detour_requests_total counter
detour_requests_total{api="chat",deployment="none",error_class="none",group="main",status_class="2xx"} 1
`,
		},
		{
			name: "a stale answer in place of a failure",
			rec: requestlog.Record{API: "chat", Group: "main", Status: 200, TotalMS: 50, Cache: "STALE", Groups: []string{"main"},
				Error:    "connection: the provider could not be reached",
				Attempts: []requestlog.Attempt{{Deployment: "a", Provider: "openai", Group: "main", Class: "connection", MS: 40}}},
			names: []string{"detour_requests_total", "detour_cache_requests_total", "detour_upstream_duration_seconds", "detour_spend_usd_total"},
			want: `
# HELP detour_cache_requests_total Requests that used the response cache, by model group and result: hit (a fresh answer), miss, stale (an expired answer served because every provider failed) or bypass (the request or the cache mode left the cache out).
# TYPE detour_cache_requests_total counter
detour_cache_requests_total{group="main",result="stale"} 1
# HELP detour_requests_total Model requests answered, by API (chat, embeddings, messages, responses), model group, the deployment asked last (none: no upstream was asked), HTTP status class and error class (none: no failure).
# TYPE detour_requests_total counter
detour_requests_total{api="chat",deployment="a",error_class="connection",group="main",status_class="2xx"} 1
`,
		},
		{
			name:  "a budget refusal",
			rec:   requestlog.Record{API: "chat", Group: "backup", Status: 429, TotalMS: 1, Cache: "BYPASS"},
			names: []string{"detour_requests_total", "detour_cache_requests_total"},
			want: `
# HELP detour_cache_requests_total Requests that used the response cache, by model group and result: hit (a fresh answer), miss, stale (an expired answer served because every provider failed) or bypass (the request or the cache mode left the cache out).
# TYPE detour_cache_requests_total counter
detour_cache_requests_total{group="backup",result="bypass"} 1
# HELP detour_requests_total Model requests answered, by API (chat, embeddings, messages, responses), model group, the deployment asked last (none: no upstream was asked), HTTP status class and error class (none: no failure).
# TYPE detour_requests_total counter
detour_requests_total{api="chat",deployment="none",error_class="budget_exceeded",group="backup",status_class="4xx"} 1
`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newTest(nil)
			m.Observe(tc.rec)
			if err := testutil.GatherAndCompare(m.Gatherer(), strings.NewReader(tc.want), tc.names...); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestErrorClass: every way a request ends maps to one bounded class.
func TestErrorClass(t *testing.T) {
	failed := func(class string) []requestlog.Attempt {
		return []requestlog.Attempt{{Deployment: "a", Class: class}}
	}
	answered := []requestlog.Attempt{{Deployment: "a", Status: 200}}
	for _, tc := range []struct {
		name string
		rec  requestlog.Record
		want string
	}{
		{"answered", requestlog.Record{Status: 200, Attempts: answered}, "none"},
		{"failed upstream", requestlog.Record{Status: 429, Groups: []string{"g"}, Attempts: failed("rate_limited")}, "rate_limited"},
		{"last failure counts", requestlog.Record{Status: 502, Groups: []string{"g"},
			Attempts: append(failed("timeout"), requestlog.Attempt{Deployment: "b", Class: "server_error"})}, "server_error"},
		{"stream broke upstream", requestlog.Record{Status: 200, Attempts: answered, Error: "server_error (upstream status 502): the stream broke"}, "server_error"},
		{"stream timed out", requestlog.Record{Status: 200, Attempts: answered, Error: "timeout: no content"}, "timeout"},
		{"client went away", requestlog.Record{Status: 200, Attempts: answered, Error: "client went away: write: broken pipe"}, ClassClientClosed},
		{"stream broke otherwise", requestlog.Record{Status: 200, Attempts: answered, Error: "unexpected EOF"}, "server_error"},
		{"stale", requestlog.Record{Status: 200, Cache: "STALE", Groups: []string{"g"}, Attempts: failed("connection"), Error: "connection: down"}, "connection"},
		{"budget before routing", requestlog.Record{Status: 429}, ClassBudgetExceeded},
		{"budget while routing", requestlog.Record{Status: 429, Groups: []string{"g"}}, "quota_exhausted"},
		{"nothing to ask", requestlog.Record{Status: 503, Groups: []string{"g"}}, ClassUnavailable},
		{"unknown model", requestlog.Record{Status: 404}, "not_found"},
		{"no key", requestlog.Record{Status: 401, Groups: []string{"g"}}, "auth"},
		{"request timeout", requestlog.Record{Status: 504, Groups: []string{"g"}}, "timeout"},
		{"bad request", requestlog.Record{Status: 400}, "bad_request"},
		{"too large", requestlog.Record{Status: 413}, "bad_request"},
		{"gateway failure", requestlog.Record{Status: 500}, "server_error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := errorClass(tc.rec); got != tc.want {
				t.Errorf("errorClass = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestStatusClass: statuses map to their class; nonsense to "unknown".
func TestStatusClass(t *testing.T) {
	for status, want := range map[int]string{0: "unknown", 99: "unknown", 100: "1xx", 200: "2xx", 304: "3xx", 429: "4xx", 599: "5xx", 600: "unknown"} {
		if got := statusClass(status); got != want {
			t.Errorf("statusClass(%d) = %q, want %q", status, got, want)
		}
	}
}

// TestDurations: each histogram gets what its help says, from the
// trace's milliseconds: total for all, upstream for a non-streamed
// answer, overhead for non-streamed requests, time to first token for a
// streamed answer.
func TestDurations(t *testing.T) {
	m := newTest(nil)
	m.Observe(requestlog.Record{API: "chat", Group: "main", Status: 200, TotalMS: 1500, Attempts: []requestlog.Attempt{
		{Deployment: "a", Class: "server_error", MS: 200}, {Deployment: "b", MS: 1000}}})
	m.Observe(requestlog.Record{API: "chat", Group: "main", Status: 200, TotalMS: 9000, Stream: true, Attempts: []requestlog.Attempt{
		{Deployment: "b", MS: 700}}})
	m.Observe(requestlog.Record{API: "chat", Group: "main", Status: 200, TotalMS: 3, Cache: "HIT"})
	want := `
# HELP detour_gateway_overhead_seconds Detour's own time in a non-streamed request: its total latency less the time spent in upstream calls, so decoding, cache, budgets, routing, retry backoff and encoding. Resolution 1 ms.
# TYPE detour_gateway_overhead_seconds histogram
detour_gateway_overhead_seconds_bucket{api="chat",le="0.001"} 0
detour_gateway_overhead_seconds_bucket{api="chat",le="0.002"} 0
detour_gateway_overhead_seconds_bucket{api="chat",le="0.005"} 1
detour_gateway_overhead_seconds_bucket{api="chat",le="0.01"} 1
detour_gateway_overhead_seconds_bucket{api="chat",le="0.025"} 1
detour_gateway_overhead_seconds_bucket{api="chat",le="0.05"} 1
detour_gateway_overhead_seconds_bucket{api="chat",le="0.1"} 1
detour_gateway_overhead_seconds_bucket{api="chat",le="0.25"} 1
detour_gateway_overhead_seconds_bucket{api="chat",le="0.5"} 2
detour_gateway_overhead_seconds_bucket{api="chat",le="1"} 2
detour_gateway_overhead_seconds_bucket{api="chat",le="2.5"} 2
detour_gateway_overhead_seconds_bucket{api="chat",le="5"} 2
detour_gateway_overhead_seconds_bucket{api="chat",le="+Inf"} 2
detour_gateway_overhead_seconds_sum{api="chat"} 0.303
detour_gateway_overhead_seconds_count{api="chat"} 2
# HELP detour_time_to_first_token_seconds Time to first token of a streamed request at the deployment that answered it: from sending the request to its first content chunk. Earlier failed calls and Detour's own time are not included. Resolution 1 ms.
# TYPE detour_time_to_first_token_seconds histogram
detour_time_to_first_token_seconds_bucket{deployment="b",le="0.025"} 0
detour_time_to_first_token_seconds_bucket{deployment="b",le="0.05"} 0
detour_time_to_first_token_seconds_bucket{deployment="b",le="0.1"} 0
detour_time_to_first_token_seconds_bucket{deployment="b",le="0.25"} 0
detour_time_to_first_token_seconds_bucket{deployment="b",le="0.5"} 0
detour_time_to_first_token_seconds_bucket{deployment="b",le="1"} 1
detour_time_to_first_token_seconds_bucket{deployment="b",le="2"} 1
detour_time_to_first_token_seconds_bucket{deployment="b",le="4"} 1
detour_time_to_first_token_seconds_bucket{deployment="b",le="8"} 1
detour_time_to_first_token_seconds_bucket{deployment="b",le="15"} 1
detour_time_to_first_token_seconds_bucket{deployment="b",le="30"} 1
detour_time_to_first_token_seconds_bucket{deployment="b",le="60"} 1
detour_time_to_first_token_seconds_bucket{deployment="b",le="+Inf"} 1
detour_time_to_first_token_seconds_sum{deployment="b"} 0.7
detour_time_to_first_token_seconds_count{deployment="b"} 1
# HELP detour_upstream_duration_seconds Upstream latency: how long the deployment that answered a non-streamed request took, from sending it to the whole answer. Failed calls are not included. Resolution 1 ms.
# TYPE detour_upstream_duration_seconds histogram
detour_upstream_duration_seconds_bucket{deployment="b",le="0.05"} 0
detour_upstream_duration_seconds_bucket{deployment="b",le="0.1"} 0
detour_upstream_duration_seconds_bucket{deployment="b",le="0.25"} 0
detour_upstream_duration_seconds_bucket{deployment="b",le="0.5"} 0
detour_upstream_duration_seconds_bucket{deployment="b",le="1"} 1
detour_upstream_duration_seconds_bucket{deployment="b",le="2"} 1
detour_upstream_duration_seconds_bucket{deployment="b",le="4"} 1
detour_upstream_duration_seconds_bucket{deployment="b",le="8"} 1
detour_upstream_duration_seconds_bucket{deployment="b",le="15"} 1
detour_upstream_duration_seconds_bucket{deployment="b",le="30"} 1
detour_upstream_duration_seconds_bucket{deployment="b",le="60"} 1
detour_upstream_duration_seconds_bucket{deployment="b",le="120"} 1
detour_upstream_duration_seconds_bucket{deployment="b",le="300"} 1
detour_upstream_duration_seconds_bucket{deployment="b",le="+Inf"} 1
detour_upstream_duration_seconds_sum{deployment="b"} 1
detour_upstream_duration_seconds_count{deployment="b"} 1
`
	if err := testutil.GatherAndCompare(m.Gatherer(), strings.NewReader(want),
		"detour_gateway_overhead_seconds", "detour_time_to_first_token_seconds", "detour_upstream_duration_seconds"); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(m.total, "detour_request_duration_seconds"); n != 2 {
		t.Errorf("%d request duration series, want 2 (streamed and not)", n)
	}
}

// TestCacheSaved: what hits saved adds up by provider.
func TestCacheSaved(t *testing.T) {
	m := newTest(nil)
	m.CacheSaved("openai", 0.5)
	m.CacheSaved("openai", 0.25)
	m.CacheSaved("anthropic", 0) // an answer of unknown price
	want := `
# HELP detour_cache_saved_usd_total Dollars fresh cache hits saved: what each answer cost when its provider gave it, by that provider.
# TYPE detour_cache_saved_usd_total counter
detour_cache_saved_usd_total{provider="anthropic"} 0
detour_cache_saved_usd_total{provider="openai"} 0.75
`
	if err := testutil.GatherAndCompare(m.Gatherer(), strings.NewReader(want), "detour_cache_saved_usd_total"); err != nil {
		t.Error(err)
	}
}

// TestState: what a scrape reads of the gateway, including build info.
func TestState(t *testing.T) {
	calls := 0
	m := newTest(func() State {
		calls++
		return State{
			Offline: true,
			Deployments: []Deployment{
				{ID: "a", Group: "main", Provider: "openai", State: StateCooling, Cooldown: 1500 * time.Millisecond},
				{ID: "b", Group: "main", Provider: "anthropic", State: StateHealthy},
				{ID: "b", Group: "main", Provider: "anthropic", State: StateHealthy}, // listed twice: reported once
			},
			Cache: &CacheSize{Entries: 3, Bytes: 4096},
			Spend: map[string]Spend{"openai": {TodayUSD: 0.5, MonthUSD: 2}},
			Budgets: []Budget{
				{Scope: "global", Period: "daily", LimitUSD: 1, SpentUSD: 0.5},
				{Scope: "provider", Name: "openai", Period: "monthly", LimitUSD: 1.5, SpentUSD: 2},
			},
		}
	})
	want := `
# HELP detour_budget_limit_usd Each budget's limit in dollars, by scope (global, provider, group), name (the provider or group; empty for global) and period (daily, monthly; UTC).
# TYPE detour_budget_limit_usd gauge
detour_budget_limit_usd{name="",period="daily",scope="global"} 1
detour_budget_limit_usd{name="openai",period="monthly",scope="provider"} 1.5
# HELP detour_budget_remaining_usd Dollars each budget has left this period: its limit less what was spent; below 0 when requests in flight overran it.
# TYPE detour_budget_remaining_usd gauge
detour_budget_remaining_usd{name="",period="daily",scope="global"} 0.5
detour_budget_remaining_usd{name="openai",period="monthly",scope="provider"} -0.5
# HELP detour_build_info Always 1; the labels say which build of Detour runs.
# TYPE detour_build_info gauge
detour_build_info{goversion="` + goVersion() + `",version="v1.2.3"} 1
# HELP detour_cache_bytes Bytes of the response cache's entries, keys and values (what detour.cache.max_bytes caps).
# TYPE detour_cache_bytes gauge
detour_cache_bytes 4096
# HELP detour_cache_entries Answers stored in the response cache.
# TYPE detour_cache_entries gauge
detour_cache_entries 3
# HELP detour_deployment_cooldown_seconds How much longer each deployment is out of rotation after failures; 0 when it is in rotation.
# TYPE detour_deployment_cooldown_seconds gauge
detour_deployment_cooldown_seconds{deployment="a",group="main",provider="openai"} 1.5
detour_deployment_cooldown_seconds{deployment="b",group="main",provider="anthropic"} 0
# HELP detour_deployment_state 1 for the state each deployment is in (healthy, cooling, probing, offline: its host is out of reach, chaos: failing by the chaos switch), 0 for the others.
# TYPE detour_deployment_state gauge
detour_deployment_state{deployment="a",group="main",provider="openai",state="chaos"} 0
detour_deployment_state{deployment="a",group="main",provider="openai",state="cooling"} 1
detour_deployment_state{deployment="a",group="main",provider="openai",state="healthy"} 0
detour_deployment_state{deployment="a",group="main",provider="openai",state="offline"} 0
detour_deployment_state{deployment="a",group="main",provider="openai",state="probing"} 0
detour_deployment_state{deployment="b",group="main",provider="anthropic",state="chaos"} 0
detour_deployment_state{deployment="b",group="main",provider="anthropic",state="cooling"} 0
detour_deployment_state{deployment="b",group="main",provider="anthropic",state="healthy"} 1
detour_deployment_state{deployment="b",group="main",provider="anthropic",state="offline"} 0
detour_deployment_state{deployment="b",group="main",provider="anthropic",state="probing"} 0
# HELP detour_offline 1 while every cloud provider's host is out of reach (the local tier answers, if there is one), else 0.
# TYPE detour_offline gauge
detour_offline 1
# HELP detour_spend_period_usd Dollars the spend ledger holds for the current UTC day (period=day) and month (period=month), by provider.
# TYPE detour_spend_period_usd gauge
detour_spend_period_usd{period="day",provider="openai"} 0.5
detour_spend_period_usd{period="month",provider="openai"} 2
`
	if err := testutil.GatherAndCompare(m.Gatherer(), strings.NewReader(want)); err != nil {
		t.Error(err)
	}
	if calls != 1 {
		t.Errorf("State called %d times for one scrape, want 1", calls)
	}
}

// TestHandler: the handler serves the text format, and the zero Options
// (with the Go and process metrics) gather without error.
func TestHandler(t *testing.T) {
	m := New(Options{})
	m.Observe(requestlog.Record{API: "embeddings", Group: "main", Status: 200, TotalMS: 5})
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/plain") {
		t.Fatalf("status %d, Content-Type %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	for _, want := range []string{
		`detour_requests_total{api="embeddings",deployment="none",error_class="none",group="unknown",status_class="2xx"} 1`,
		`detour_build_info{goversion="` + goVersion() + `",version="dev"} 1`,
		"go_goroutines ",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("scrape lacks %s:\n%s", want, body)
		}
	}
}

// goVersion is the goversion label of detour_build_info.
func goVersion() string { return runtime.Version() }
