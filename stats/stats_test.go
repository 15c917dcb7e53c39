package stats

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"
)

type fakeNow struct{ t time.Time }

func (f *fakeNow) now() time.Time { return f.t }

var t0 = time.Date(2026, 11, 23, 10, 0, 30, 0, time.UTC)

func ok(d string, ms int) Attempt {
	return Attempt{Deployment: d, Duration: time.Duration(ms) * time.Millisecond}
}
func failed(d, class string) Attempt {
	return Attempt{Deployment: d, Class: class, Duration: time.Millisecond}
}

func TestSeriesAndTotals(t *testing.T) {
	clk := &fakeNow{t0}
	r := New(clk.now)
	r.Record(Request{Time: t0, Status: 200, Attempts: []Attempt{ok("a", 10)}})
	r.Record(Request{Time: t0, Status: 200, Failover: true, Attempts: []Attempt{failed("a", "rate_limit"), ok("b", 30)}})
	r.Record(Request{Time: t0.Add(-2 * time.Minute), Status: 502, Attempts: []Attempt{failed("a", "server")}})
	r.Record(Request{Time: t0.Add(-25 * time.Hour), Status: 200}) // outside the window: total only
	r.Record(Request{Time: t0, Status: 200, CacheHit: true})

	s := r.Snapshot(60)
	if len(s.Series) != 60 {
		t.Fatalf("series has %d points, want 60", len(s.Series))
	}
	last, twoAgo := s.Series[59], s.Series[57]
	if want := t0.Truncate(time.Minute); !last.T.Equal(want) {
		t.Errorf("last point at %v, want the current minute %v", last.T, want)
	}
	if want := (Counts{Requests: 3, Failovers: 1, CacheHits: 1}); last.Counts != want {
		t.Errorf("current minute = %+v, want %+v", last.Counts, want)
	}
	if want := (Counts{Requests: 1, Errors: 1}); twoAgo.Counts != want {
		t.Errorf("two minutes ago = %+v, want %+v", twoAgo.Counts, want)
	}
	if want := (Counts{Requests: 5, Errors: 1, Failovers: 1, CacheHits: 1}); s.Total != want {
		t.Errorf("total = %+v, want %+v", s.Total, want)
	}
	if want := (Counts{Requests: 4, Errors: 1, Failovers: 1, CacheHits: 1}); s.Last24h != want {
		t.Errorf("last 24h = %+v, want %+v", s.Last24h, want)
	}
	if s.RequestsPerMinute != 3 {
		t.Errorf("requests per minute = %d, want 3 (the one two minutes ago is out)", s.RequestsPerMinute)
	}
	a := s.Deployments["a"]
	if a.Requests != 3 || a.Errors != 2 || a.ErrorsByClass["rate_limit"] != 1 || a.ErrorsByClass["server"] != 1 {
		t.Errorf("deployment a = %+v", a)
	}
	if a.ErrorRate != 2.0/3 {
		t.Errorf("error rate = %v, want 2/3", a.ErrorRate)
	}

	// A day later the old minutes have rolled out of the ring.
	clk.t = t0.Add(Window)
	s = r.Snapshot(60)
	if s.Last24h != (Counts{}) || s.RequestsPerMinute != 0 {
		t.Errorf("a day later: last 24h %+v, rpm %d; want zeros", s.Last24h, s.RequestsPerMinute)
	}
	if s.Total.Requests != 5 {
		t.Errorf("total after a day = %d, want 5", s.Total.Requests)
	}
}

// msText formats a latency percentile for messages: "nil" or "7".
func msText(p *int64) string {
	if p == nil {
		return "nil"
	}
	return strconv.FormatInt(*p, 10)
}

func TestPercentiles(t *testing.T) {
	tests := []struct {
		name     string
		ms       []int
		p50, p95 string
	}{
		{"one", []int{7}, "7", "7"},
		{"under a millisecond", []int{0}, "0", "0"}, // answered, and fast: a figure
		{"hundred", func() []int {
			var v []int
			for i := 100; i >= 1; i-- {
				v = append(v, i)
			}
			return v
		}(), "50", "95"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := New(func() time.Time { return t0 })
			for _, ms := range tt.ms {
				r.Record(Request{Time: t0, Status: 200, Attempts: []Attempt{ok("d", ms)}})
			}
			d := r.Snapshot(1).Deployments["d"]
			if msText(d.P50MS) != tt.p50 || msText(d.P95MS) != tt.p95 {
				t.Errorf("p50, p95 = %s, %s; want %s, %s", msText(d.P50MS), msText(d.P95MS), tt.p50, tt.p95)
			}
		})
	}
}

// A deployment that never answered has no latency: null in the JSON the
// dashboard reads, not 0 ms.
func TestNoLatencyWithoutAnAnswer(t *testing.T) {
	r := New(func() time.Time { return t0 })
	r.Record(Request{Time: t0, Status: 503, Attempts: []Attempt{failed("down", "server_error"), failed("down", "timeout")}})
	r.Restore(Request{Time: t0.Add(-time.Minute), Status: 503, Attempts: []Attempt{failed("down", "connection")}})
	d := r.Snapshot(1).Deployments["down"]
	if d.Requests != 3 || d.Errors != 3 {
		t.Fatalf("down: %+v, want 3 failed attempts", d)
	}
	if d.P50MS != nil || d.P95MS != nil {
		t.Errorf("p50, p95 = %s, %s; want nil before the first answer", msText(d.P50MS), msText(d.P95MS))
	}
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"p50_ms":null`, `"p95_ms":null`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JSON %s lacks %s", b, want)
		}
	}

	// Its first answer gives it a figure.
	r.Record(Request{Time: t0, Status: 200, Attempts: []Attempt{ok("down", 12)}})
	if d := r.Snapshot(1).Deployments["down"]; msText(d.P50MS) != "12" || msText(d.P95MS) != "12" {
		t.Errorf("after an answer: p50, p95 = %s, %s; want 12, 12", msText(d.P50MS), msText(d.P95MS))
	}
}

func TestLatencyKeepsRecentSamples(t *testing.T) {
	r := New(func() time.Time { return t0 })
	for range latencySamples {
		r.Record(Request{Time: t0, Status: 200, Attempts: []Attempt{ok("d", 1000)}})
	}
	for range latencySamples {
		r.Record(Request{Time: t0, Status: 200, Attempts: []Attempt{ok("d", 5)}})
	}
	if d := r.Snapshot(1).Deployments["d"]; msText(d.P95MS) != "5" {
		t.Errorf("p95 = %s ms, want 5: the old samples should have been overwritten", msText(d.P95MS))
	}
}

func TestWait(t *testing.T) {
	r := New(nil)
	v := r.Snapshot(0).Version

	if got := r.Wait(context.Background(), v-1, time.Hour); got != v {
		t.Errorf("Wait with an old version = %d, want %d at once", got, v)
	}

	done := make(chan uint64)
	go func() { done <- r.Wait(context.Background(), v, time.Hour) }()
	r.Changed()
	if got := <-done; got == v {
		t.Errorf("Wait returned the version it waited on after Changed")
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	v = r.Snapshot(0).Version
	if got := r.Wait(ctx, v, time.Hour); got != v {
		t.Errorf("Wait on a done context = %d, want %d", got, v)
	}
	if got := r.Wait(context.Background(), v, time.Millisecond); got != v {
		t.Errorf("Wait past max = %d, want %d", got, v)
	}
}

func BenchmarkRecord(b *testing.B) {
	r := New(nil)
	req := Request{Status: 200, Failover: true, Attempts: []Attempt{failed("a", "rate_limit"), ok("b", 120)}}
	b.ReportAllocs()
	for b.Loop() {
		r.Record(req)
	}
}

func BenchmarkSnapshot(b *testing.B) {
	r := New(nil)
	for i := range 1000 {
		r.Record(Request{Status: 200, Attempts: []Attempt{ok(string(rune('a'+i%8)), i)}})
	}
	b.ReportAllocs()
	for b.Loop() {
		r.Snapshot(60)
	}
}

func TestRestoreSkipsTheTotals(t *testing.T) {
	r := New(func() time.Time { return t0 })
	r.Restore(Request{Time: t0.Add(-time.Hour), Status: 200, Failover: true, Attempts: []Attempt{failed("a", "timeout"), ok("b", 40)}})
	s := r.Snapshot(60)
	if s.Total != (Counts{}) {
		t.Errorf("total = %+v, want zero: restored requests are not since start", s.Total)
	}
	if s.Last24h.Failovers != 1 || msText(s.Deployments["b"].P50MS) != "40" || s.Deployments["a"].ErrorsByClass["timeout"] != 1 {
		t.Errorf("restored: last 24h %+v, deployments %+v", s.Last24h, s.Deployments)
	}
}
