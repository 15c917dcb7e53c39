package app_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/detour-gateway/detour/app"
	"github.com/detour-gateway/detour/clock"
	"github.com/detour-gateway/detour/keystore"
	"github.com/detour-gateway/detour/localauth"
	"github.com/detour-gateway/detour/router/provider/openai/openaitest"
)

// scrape is one scrape of /metrics: each sample by its name and labels,
// as `name{a="x",b="y"}`, labels sorted; a histogram as its _count and
// _sum samples.
type scrape struct {
	body    []byte
	samples map[string]float64
}

// get GETs url with the headers (name, value, …) and parses the answer as
// Prometheus' text format; the status is returned with it.
func getMetrics(t *testing.T, url string, header ...string) (int, scrape) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		if header[i] == "Host" {
			req.Host = header[i+1]
		}
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	s := scrape{body: body, samples: map[string]float64{}}
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, s
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("the scrape does not parse: %v\n%s", err, body)
	}
	for name, f := range families {
		for _, m := range f.GetMetric() {
			labels := seriesLabels(m)
			switch f.GetType() {
			case dto.MetricType_COUNTER:
				s.samples[name+labels] = m.GetCounter().GetValue()
			case dto.MetricType_GAUGE:
				s.samples[name+labels] = m.GetGauge().GetValue()
			case dto.MetricType_HISTOGRAM:
				s.samples[name+"_count"+labels] = float64(m.GetHistogram().GetSampleCount())
				s.samples[name+"_sum"+labels] = m.GetHistogram().GetSampleSum()
			}
		}
	}
	return resp.StatusCode, s
}

// seriesLabels renders m's labels as {a="x",b="y"}, sorted; "" for none.
func seriesLabels(m *dto.Metric) string {
	var ls []string
	for _, l := range m.GetLabel() {
		ls = append(ls, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
	}
	if len(ls) == 0 {
		return ""
	}
	slices.Sort(ls)
	return "{" + strings.Join(ls, ",") + "}"
}

// family returns the samples whose name is name (with its labels), or
// starts with name+"_" for a histogram's _count and _sum.
func (s scrape) family(name string) map[string]float64 {
	out := map[string]float64{}
	for k, v := range s.samples {
		if k == name || strings.HasPrefix(k, name+"{") {
			out[k] = v
		}
	}
	return out
}

// metricsGateway runs a gateway with the cache on, a fake clock and a
// version, for the metrics tests.
func metricsGateway(t *testing.T, yaml string) *gateway {
	t.Helper()
	clk := clock.NewFake(time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC))
	logs := &syncBuffer{}
	s := serve(t, yaml, app.Options{Logger: slog.New(slog.NewTextHandler(logs, nil)), Clock: clk,
		Rand: func() float64 { return 0.5 }, Version: "v9.9.9-test"}, true)
	g := &gateway{logs: logs, cfg: s.cfg, url: s.url, gw: s.gw, clock: clk}
	g.client = openai.NewClient(option.WithBaseURL(g.url), option.WithAPIKey("client-side-key-unused"), option.WithMaxRetries(0))
	return g
}

// TestMetricsAfterScriptedSequence drives a real gateway through a
// success, a 429 failover, a cache hit, a stream and a budget refusal,
// then checks that one scrape says exactly that: every series of every
// counter, the histograms' counts, and the state read at scrape time.
// Durations are wall-clock, so only their counts are checked.
func TestMetricsAfterScriptedSequence(t *testing.T) {
	a := openaitest.New(t, openaitest.Reply{Text: "three word answer"}, openaitest.RateLimited("20"))
	b := openaitest.New(t, openaitest.Reply{Text: "three word answer"})
	const prices = "input_cost_per_token: 0.000002, output_cost_per_token: 0.00001"
	gw := metricsGateway(t, fmt.Sprintf(`model_list:
  - model_name: main
    litellm_params: {model: openai/gpt-4o, api_base: %q, order: 1}
    model_info: {id: a, %s}
  - model_name: main
    litellm_params: {model: openai/gpt-4o, api_base: %q, order: 2}
    model_info: {id: b, %s}
  - model_name: dear
    litellm_params: {model: openai/gpt-4o, api_base: %q}
    model_info: {id: dear, %s}
router_settings: {num_retries: 1}
detour:
  budgets: {daily_usd: 1, groups: {dear: {daily_usd: 0.000001}}}
`, a.URL, prices, b.URL, prices, b.URL, prices))

	// 1. A success: a answers; the cache misses, then keeps the answer.
	ask(t, gw, steady("main"), false)
	flush(t, gw)
	// 2. A 429 failover: a is rate limited (and cools for its
	// Retry-After), b answers. Sampling, so the cache is bypassed.
	ask(t, gw, params("main"), false)
	// 3. A cache hit: the first request again.
	var hit *http.Response
	if _, err := gw.client.Chat.Completions.New(context.Background(), steady("main"), option.WithResponseInto(&hit)); err != nil {
		t.Fatal(err)
	}
	if hit.Header.Get("X-Detour-Cache") != "HIT" {
		t.Fatalf("x-detour-cache %q, want HIT", hit.Header.Get("X-Detour-Cache"))
	}
	// 4. A stream: a is cooling, b answers.
	ask(t, gw, params("main"), true)
	// 5. A budget refusal: the dear group's budget fits no request.
	_, err := gw.client.Chat.Completions.New(context.Background(), params("dear"))
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusTooManyRequests || apiErr.Type != "budget_exceeded" {
		t.Fatalf("dear: %v, want a 429 budget_exceeded", err)
	}
	if a.Count() != 2 || b.Count() != 2 {
		t.Fatalf("upstream calls: a %d, b %d; want 2 and 2", a.Count(), b.Count())
	}

	// A request is counted just after its answer is written; wait until
	// all five are.
	root := strings.TrimSuffix(gw.url, "/v1")
	var s scrape
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		var status int
		if status, s = getMetrics(t, root+"/metrics"); status != http.StatusOK {
			t.Fatalf("GET /metrics: %d\n%s", status, s.body)
		}
		n := 0.0
		for _, v := range s.family("detour_requests_total") {
			n += v
		}
		if n == 5 || time.Now().After(deadline) {
			break
		}
	}

	const cost = 9*0.000002 + 3*0.00001 // 9 prompt tokens, 3 completion tokens
	exact := map[string]map[string]float64{
		"detour_requests_total": {
			`detour_requests_total{api="chat",deployment="a",error_class="none",group="main",status_class="2xx"}`:               1,
			`detour_requests_total{api="chat",deployment="b",error_class="none",group="main",status_class="2xx"}`:               2,
			`detour_requests_total{api="chat",deployment="none",error_class="none",group="main",status_class="2xx"}`:            1,
			`detour_requests_total{api="chat",deployment="none",error_class="budget_exceeded",group="dear",status_class="4xx"}`: 1,
		},
		"detour_upstream_attempts_total": {
			`detour_upstream_attempts_total{deployment="a",error_class="none"}`:         1,
			`detour_upstream_attempts_total{deployment="a",error_class="rate_limited"}`: 1,
			`detour_upstream_attempts_total{deployment="b",error_class="none"}`:         2,
		},
		"detour_failovers_total": {`detour_failovers_total{deployment="a",reason="rate_limited"}`: 1},
		"detour_retries_total":   {},
		"detour_cache_requests_total": {
			`detour_cache_requests_total{group="main",result="miss"}`:   1,
			`detour_cache_requests_total{group="main",result="bypass"}`: 2,
			`detour_cache_requests_total{group="main",result="hit"}`:    1,
			`detour_cache_requests_total{group="dear",result="bypass"}`: 1,
		},
		"detour_cache_saved_usd_total": {`detour_cache_saved_usd_total{provider="openai"}`: cost},
		"detour_spend_usd_total":       {`detour_spend_usd_total{provider="openai"}`: 3 * cost},
		"detour_spend_period_usd": {
			`detour_spend_period_usd{period="day",provider="openai"}`:   3 * cost,
			`detour_spend_period_usd{period="month",provider="openai"}`: 3 * cost,
		},
		"detour_budget_limit_usd": {
			`detour_budget_limit_usd{name="",period="daily",scope="global"}`:    1,
			`detour_budget_limit_usd{name="dear",period="daily",scope="group"}`: 0.000001,
		},
		"detour_budget_remaining_usd": {
			`detour_budget_remaining_usd{name="",period="daily",scope="global"}`:    1 - 3*cost,
			`detour_budget_remaining_usd{name="dear",period="daily",scope="group"}`: 0.000001,
		},
		"detour_request_duration_seconds_count": {
			`detour_request_duration_seconds_count{api="chat",group="main",stream="false"}`: 3,
			`detour_request_duration_seconds_count{api="chat",group="main",stream="true"}`:  1,
			`detour_request_duration_seconds_count{api="chat",group="dear",stream="false"}`: 1,
		},
		"detour_upstream_duration_seconds_count": {
			`detour_upstream_duration_seconds_count{deployment="a"}`: 1,
			`detour_upstream_duration_seconds_count{deployment="b"}`: 1,
		},
		"detour_time_to_first_token_seconds_count": {`detour_time_to_first_token_seconds_count{deployment="b"}`: 1},
		"detour_gateway_overhead_seconds_count":    {`detour_gateway_overhead_seconds_count{api="chat"}`: 4},
		"detour_deployment_state": deploymentStates(map[string]string{
			`deployment="a",group="main",provider="openai"`:    "cooling",
			`deployment="b",group="main",provider="openai"`:    "healthy",
			`deployment="dear",group="dear",provider="openai"`: "healthy",
		}),
		"detour_deployment_cooldown_seconds": {
			`detour_deployment_cooldown_seconds{deployment="a",group="main",provider="openai"}`:    20, // Retry-After; the fake clock stands still
			`detour_deployment_cooldown_seconds{deployment="b",group="main",provider="openai"}`:    0,
			`detour_deployment_cooldown_seconds{deployment="dear",group="dear",provider="openai"}`: 0,
		},
		"detour_offline":       {"detour_offline": 0},
		"detour_cache_entries": {"detour_cache_entries": 1},
		"detour_build_info":    {`detour_build_info{goversion="` + runtime.Version() + `",version="v9.9.9-test"}`: 1},
	}
	for name, want := range exact {
		got := s.family(name)
		for k, v := range want {
			if g, ok := got[k]; !ok || math.Abs(g-v) > 1e-12 {
				t.Errorf("%s = %v (present %v), want %v", k, g, ok, v)
			}
		}
		for k, v := range got {
			if _, ok := want[k]; !ok {
				t.Errorf("unexpected series %s = %v", k, v)
			}
		}
	}
	st, err := gw.gw.Cache().Stats()
	if err != nil {
		t.Fatal(err)
	}
	if got := s.samples["detour_cache_bytes"]; got != float64(st.Bytes) || got == 0 {
		t.Errorf("detour_cache_bytes = %v, want the cache's %d", got, st.Bytes)
	}
	t.Run("promtool", func(t *testing.T) { promtoolCheck(t, s.body) })
}

// deploymentStates is detour_deployment_state for deployments (their
// labels) in the given states: 1 for its state, 0 for the others.
func deploymentStates(in map[string]string) map[string]float64 {
	out := map[string]float64{}
	for labels, state := range in {
		for _, st := range []string{"healthy", "cooling", "probing", "offline", "chaos"} {
			v := 0.0
			if st == state {
				v = 1
			}
			out[fmt.Sprintf("detour_deployment_state{%s,state=%q}", labels, st)] = v
		}
	}
	return out
}

// promtoolCheck runs `promtool check metrics` (Debian's prometheus
// package; make deps installs it) on a scrape. Without promtool the check
// is skipped, except under CI=true, where it fails: CI must never pass
// without it.
func promtoolCheck(t *testing.T, body []byte) {
	t.Helper()
	path, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("promtool is not installed (apt-get install prometheus; make deps does): CI may not skip this check")
		}
		t.Skip("promtool is not installed (apt-get install prometheus, or make deps)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, "check", "metrics")
	cmd.Stdin = bytes.NewReader(body)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Errorf("promtool check metrics: %v\n%s\nscrape:\n%s", err, out, body)
	}
}

// TestMetricsBehindTheDoor: /metrics is let in by the same door as /v1:
// a foreign Host or web page is refused, and with local auth on only a
// local key gets in. detour.metrics: false turns it off.
func TestMetricsBehindTheDoor(t *testing.T) {
	keys := keystore.NewMemory()
	key, err := localauth.Keys{Store: keys}.Add(context.Background(), "prometheus")
	if err != nil {
		t.Fatal(err)
	}
	const models = "model_list:\n  - model_name: demo\n    litellm_params: {model: mock/demo}\n"
	locked := strings.TrimSuffix(serve(t, models+"detour: {server: {auth: true}}\n", app.Options{Keys: keys}, false).url, "/v1")
	open := strings.TrimSuffix(serve(t, models, app.Options{Keys: keys}, false).url, "/v1")
	off := strings.TrimSuffix(serve(t, models+"litellm_settings: {callbacks: [prometheus]}\ndetour: {metrics: false}\n", app.Options{Keys: keys}, false).url, "/v1")
	for _, tc := range []struct {
		name   string
		url    string
		header []string
		want   int
	}{
		{"no key", locked, nil, http.StatusUnauthorized},
		{"wrong key", locked, []string{"Authorization", "Bearer dtr-not-a-key"}, http.StatusUnauthorized},
		{"local key", locked, []string{"Authorization", "Bearer " + key}, http.StatusOK},
		{"local key as x-api-key", locked, []string{"X-Api-Key", key}, http.StatusOK},
		{"auth off", open, nil, http.StatusOK},
		{"rebinding host", open, []string{"Host", "evil.example.com"}, http.StatusForbidden},
		{"foreign page", open, []string{"Origin", "https://evil.example.com"}, http.StatusForbidden},
		{"foreign page with the key", locked, []string{"Origin", "https://evil.example.com", "Authorization", "Bearer " + key}, http.StatusForbidden},
		{"turned off", off, nil, http.StatusNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, s := getMetrics(t, tc.url+"/metrics", tc.header...)
			if status != tc.want {
				t.Fatalf("GET /metrics: %d, want %d\n%s", status, tc.want, s.body)
			}
			if status == http.StatusOK && s.samples["detour_offline"] != 0 {
				t.Errorf("detour_offline = %v", s.samples["detour_offline"])
			}
			if status != http.StatusOK && bytes.Contains(s.body, []byte("detour_")) {
				t.Errorf("a refused scrape got metrics:\n%s", s.body)
			}
		})
	}
	resp, err := http.Post(open+"/metrics", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /metrics: %d, want 405", resp.StatusCode)
	}
}

// BenchmarkMetricsScrape is one scrape of a real gateway's /metrics
// through its door, with the state read from its router, cache, ledger
// and budgets.
func BenchmarkMetricsScrape(b *testing.B) {
	var yaml strings.Builder
	yaml.WriteString("model_list:\n")
	for i := range 20 {
		fmt.Fprintf(&yaml, "  - model_name: group-%d\n    litellm_params: {model: mock/m%d}\n", i/2, i)
	}
	yaml.WriteString("detour:\n  budgets: {daily_usd: 10, monthly_usd: 100}\n")
	s := serve(b, yaml.String(), app.Options{}, true)
	h := s.gw.Handler()
	req, _ := http.NewRequest(http.MethodGet, "/metrics", nil)
	req.Host = "127.0.0.1"
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w := &discardWriter{header: http.Header{}}
		h.ServeHTTP(w, req)
		if w.status != http.StatusOK {
			b.Fatalf("status %d", w.status)
		}
	}
}

// discardWriter is a ResponseWriter that keeps only the status.
type discardWriter struct {
	header http.Header
	status int
}

func (w *discardWriter) Header() http.Header { return w.header }
func (w *discardWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}
func (w *discardWriter) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return len(p), nil
}
