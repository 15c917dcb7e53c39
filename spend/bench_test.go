package spend

import (
	"fmt"
	"testing"

	"github.com/detour-gateway/detour/chat"
)

// benchLedger returns a ledger holding a month of spend over 5 providers,
// 20 groups and 40 deployments, and a Checker with a global budget and a
// budget per provider and per group.
func benchLedger(b *testing.B) (*Ledger, *Checker) {
	l, _, _ := newTestLedger(b, Options{})
	var budgets []Budget
	budgets = append(budgets, Budget{Scope: ScopeGlobal, DailyUSD: 1e6, MonthlyUSD: 1e7})
	for p := range 5 {
		budgets = append(budgets, Budget{Scope: ScopeProvider, Name: fmt.Sprint("p", p), DailyUSD: 1e5})
	}
	for g := range 20 {
		budgets = append(budgets, Budget{Scope: ScopeGroup, Name: fmt.Sprint("g", g), DailyUSD: 1e4, MonthlyUSD: 1e5, OnExceed: Downgrade})
	}
	for i := range 5000 {
		r := rec(fmt.Sprint("p", i%5), fmt.Sprint("d", i%40), fmt.Sprint("g", i%20), 0.01)
		r.Time = epoch.AddDate(0, 0, -(i % 14))
		l.Record(r)
	}
	c, err := NewChecker(budgets, l)
	if err != nil {
		b.Fatal(err)
	}
	return l, c
}

// BenchmarkCheck measures one budget check (26 budgets, 3 of which apply
// to the request): the hot-path cost of budgets per request.
func BenchmarkCheck(b *testing.B) {
	_, c := benchLedger(b)
	b.ReportAllocs()
	for b.Loop() {
		if v := c.Check("p1", "g3", 0.05); !v.Allowed {
			b.Fatal(v.Message)
		}
	}
}

// BenchmarkCheckParallel is BenchmarkCheck from all CPUs at once.
func BenchmarkCheckParallel(b *testing.B) {
	_, c := benchLedger(b)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			c.Check("p1", "g3", 0.05)
		}
	})
}

// BenchmarkReserveCommit measures a request's whole budget bookkeeping:
// Reserve, then Commit of its record.
func BenchmarkReserveCommit(b *testing.B) {
	_, c := benchLedger(b)
	r := rec("p1", "d1", "g3", 0.01)
	b.ReportAllocs()
	for b.Loop() {
		res, v := c.Reserve("p1", "g3", 0.05)
		if !v.Allowed {
			b.Fatal(v.Message)
		}
		res.Commit(r)
	}
}

// BenchmarkRecord measures Ledger.Record, the request path's write.
func BenchmarkRecord(b *testing.B) {
	l, _ := benchLedger(b)
	r := rec("p1", "d1", "g3", 0.01)
	b.ReportAllocs()
	for b.Loop() {
		l.Record(r)
	}
}

// BenchmarkLookup measures a price lookup of a dated snapshot (the slow
// path: no exact entry).
func BenchmarkLookup(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := Lookup("anthropic", "claude-sonnet-4-5-20250929"); !ok {
			b.Fatal("not found")
		}
	}
}

// BenchmarkEstimateTokens measures the prompt estimate of a short chat.
func BenchmarkEstimateTokens(b *testing.B) {
	req := &chat.Request{Messages: []chat.Message{
		{Role: "system", Content: chat.TextContent("You are a helpful assistant.")},
		{Role: "user", Content: chat.TextContent("Summarize the following text in three sentences: " + fmt.Sprint(make([]int, 200)))},
	}}
	b.ReportAllocs()
	for b.Loop() {
		EstimateTokens(req)
	}
}
