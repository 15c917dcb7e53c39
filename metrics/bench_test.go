package metrics

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/detour-gateway/detour/requestlog"
)

// benchState is a large desktop config: 40 deployments in 20 groups,
// cooling, spending and budgeted.
func benchState() State {
	var s State
	for i := range 40 {
		s.Deployments = append(s.Deployments, Deployment{ID: fmt.Sprintf("openai-%08x", i), Group: fmt.Sprintf("group-%d", i/2),
			Provider: "openai", State: StateCooling, Cooldown: time.Second})
	}
	s.Cache = &CacheSize{Entries: 1000, Bytes: 1 << 20}
	s.Spend = map[string]Spend{"openai": {TodayUSD: 1, MonthUSD: 10}, "anthropic": {TodayUSD: 2, MonthUSD: 20}}
	s.Budgets = []Budget{{Scope: "global", Period: "daily", LimitUSD: 10, SpentUSD: 3}, {Scope: "global", Period: "monthly", LimitUSD: 100, SpentUSD: 30}}
	return s
}

// benchRecord is a request that failed over once.
func benchRecord(i int) requestlog.Record {
	c := 0.001
	return requestlog.Record{API: "chat", Group: fmt.Sprintf("group-%d", i%20), Status: 200, TotalMS: int64(i % 3000), Cache: "MISS", CostUSD: &c,
		Attempts: []requestlog.Attempt{
			{Deployment: fmt.Sprintf("openai-%08x", (2*i)%40), Provider: "openai", Class: "rate_limited", Status: 429, MS: 20},
			{Deployment: fmt.Sprintf("openai-%08x", (2*i+1)%40), Provider: "openai", Status: 200, MS: int64(i % 2000)},
		}}
}

// BenchmarkObserve is what counting one request costs the request path.
func BenchmarkObserve(b *testing.B) {
	m := New(Options{IsGroup: func(string) bool { return true }, NoRuntime: true})
	recs := make([]requestlog.Record, 1000)
	for i := range recs {
		recs[i] = benchRecord(i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m.Observe(recs[i%len(recs)])
	}
}

// BenchmarkScrape is one scrape of the benchState gateway after traffic
// on every group and deployment, with and without the Go runtime and
// process metrics.
func BenchmarkScrape(b *testing.B) {
	for _, runtime := range []bool{false, true} {
		b.Run(fmt.Sprintf("runtime=%v", runtime), func(b *testing.B) {
			m := New(Options{IsGroup: func(string) bool { return true }, State: benchState, NoRuntime: !runtime})
			for i := range 1000 {
				m.Observe(benchRecord(i))
			}
			req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				w := httptest.NewRecorder()
				m.Handler().ServeHTTP(w, req)
				if i == 0 {
					b.ReportMetric(float64(w.Body.Len()), "bytes/scrape")
				}
				io.Copy(io.Discard, w.Body)
			}
		})
	}
}
