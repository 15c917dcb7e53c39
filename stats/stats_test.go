package stats

import (
	"context"
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

func TestPercentiles(t *testing.T) {
	tests := []struct {
		name     string
		ms       []int
		p50, p95 int64
	}{
		{"none", nil, 0, 0},
		{"one", []int{7}, 7, 7},
		{"hundred", func() []int {
			var v []int
			for i := 100; i >= 1; i-- {
				v = append(v, i)
			}
			return v
		}(), 50, 95},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := New(func() time.Time { return t0 })
			for _, ms := range tt.ms {
				r.Record(Request{Time: t0, Status: 200, Attempts: []Attempt{ok("d", ms)}})
			}
			d := r.Snapshot(1).Deployments["d"]
			if d.P50MS != tt.p50 || d.P95MS != tt.p95 {
				t.Errorf("p50, p95 = %d, %d; want %d, %d", d.P50MS, d.P95MS, tt.p50, tt.p95)
			}
		})
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
	if d := r.Snapshot(1).Deployments["d"]; d.P95MS != 5 {
		t.Errorf("p95 = %d ms, want 5: the old samples should have been overwritten", d.P95MS)
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
	if s.Last24h.Failovers != 1 || s.Deployments["b"].P50MS != 40 || s.Deployments["a"].ErrorsByClass["timeout"] != 1 {
		t.Errorf("restored: last 24h %+v, deployments %+v", s.Last24h, s.Deployments)
	}
}
