// Package stats keeps the live numbers Detour's dashboard shows: requests,
// errors, failovers and cache hits per minute over the last day, requests
// in the last minute, and each deployment's latency and errors. Everything
// is in memory: the totals count since the process started, while the
// series and the deployments' numbers can be restored from an earlier run
// (Restore); spend and the cache's own counters are persisted by their
// packages.
package stats

import (
	"context"
	"slices"
	"sync"
	"time"
)

// Window is how far back the per-minute series reaches: 24 hours.
const Window = 24 * time.Hour

// latencySamples is how many recent successful attempts per deployment
// the latency percentiles are computed over.
const latencySamples = 512

const (
	minutes = int(Window / time.Minute)
	seconds = 60
)

// Request is one finished request, as the server saw it.
type Request struct {
	Time   time.Time
	Status int
	// Failover is true when a deployment other than the first one tried
	// (or the local tier) answered.
	Failover bool
	// CacheHit is true when a fresh cache entry answered.
	CacheHit bool
	Attempts []Attempt
}

// Attempt is one upstream call of a Request.
type Attempt struct {
	Deployment string
	// Class is the failure's class; "" for the answering attempt.
	Class    string
	Duration time.Duration
}

// Counts are the totals of one span of time.
type Counts struct {
	Requests  int `json:"requests"`
	Errors    int `json:"errors"`
	Failovers int `json:"failovers"`
	CacheHits int `json:"cache_hits"`
}

func (c *Counts) add(r Request) {
	c.Requests++
	if r.Status >= 400 {
		c.Errors++
	}
	if r.Failover {
		c.Failovers++
	}
	if r.CacheHit {
		c.CacheHits++
	}
}

// Point is one minute of the series.
type Point struct {
	T time.Time `json:"t"`
	Counts
}

// Deployment is one deployment's attempts, since start and restored.
type Deployment struct {
	Requests      int            `json:"requests"`
	Errors        int            `json:"errors"`
	ErrorsByClass map[string]int `json:"errors_by_class"`
	// ErrorRate is Errors/Requests, 0 without requests.
	ErrorRate float64 `json:"error_rate"`
	// P50MS and P95MS are the latency percentiles of the latest
	// successful attempts, in milliseconds. They are nil (JSON null)
	// until the deployment first answers: one that only failed has no
	// latency to show, and 0 ms would claim it is fast.
	P50MS *int64 `json:"p50_ms"`
	P95MS *int64 `json:"p95_ms"`
}

// Snapshot is the numbers at one moment.
type Snapshot struct {
	// Version changes whenever a number may have changed; see Wait.
	Version uint64
	Now     time.Time
	// RequestsPerMinute counts the requests of the last 60 seconds.
	RequestsPerMinute int
	// Total counts since start; Last24h over the last Window.
	Total, Last24h Counts
	// Series holds the last n minutes asked of Snapshot, oldest first,
	// the current minute last.
	Series []Point
	// Deployments are the attempts per deployment id since start.
	Deployments map[string]Deployment
}

type bucket struct {
	start int64 // unix minute (or second) the bucket holds; stale when it differs
	Counts
}

type deployment struct {
	requests, errors int
	byClass          map[string]int
	latency          [latencySamples]time.Duration
	n                int // samples written; latency[n%len] is next
}

// Recorder collects Requests. Its methods are safe for concurrent use.
type Recorder struct {
	now func() time.Time

	mu      sync.Mutex
	version uint64
	changed chan struct{} // closed and replaced on every change
	total   Counts
	minute  [minutes]bucket
	second  [seconds]bucket
	deps    map[string]*deployment
}

// New returns a Recorder reading the time from now (nil: time.Now).
func New(now func() time.Time) *Recorder {
	if now == nil {
		now = time.Now
	}
	return &Recorder{now: now, version: 1, changed: make(chan struct{}), deps: map[string]*deployment{}}
}

// Record adds a finished request; a zero Time means now.
func (r *Recorder) Record(req Request) { r.add(req, true) }

// Restore adds a request from before this process started, read back from
// the request log: it counts in the series, the last day and the
// deployments' numbers, but not in the totals since start.
func (r *Recorder) Restore(req Request) { r.add(req, false) }

func (r *Recorder) add(req Request, sinceStart bool) {
	if req.Time.IsZero() {
		req.Time = r.now()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if sinceStart {
		r.total.add(req)
	}
	at(r.minute[:], req.Time.Unix()/60).add(req)
	at(r.second[:], req.Time.Unix()).add(req)
	for _, a := range req.Attempts {
		d := r.deps[a.Deployment]
		if d == nil {
			d = &deployment{byClass: map[string]int{}}
			r.deps[a.Deployment] = d
		}
		d.requests++
		if a.Class != "" {
			d.errors++
			d.byClass[a.Class]++
			continue
		}
		d.latency[d.n%latencySamples] = a.Duration
		d.n++
	}
	r.bumpLocked()
}

// at returns the bucket for unit number u (a minute or a second), reset
// when it last held an older one. A unit already rolled out of the ring
// gets a throwaway bucket, so a late record never wipes a newer one.
func at(ring []bucket, u int64) *bucket {
	b := &ring[int(u%int64(len(ring)))]
	switch {
	case b.start > u:
		return &bucket{}
	case b.start < u:
		*b = bucket{start: u}
	}
	return b
}

// Changed marks that something the dashboard shows changed outside
// Record (a key set, a chaos switch, a reload), so waiters wake up.
func (r *Recorder) Changed() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.bumpLocked()
}

func (r *Recorder) bumpLocked() {
	r.version++
	close(r.changed)
	r.changed = make(chan struct{})
}

// Wait blocks until the version differs from v, ctx is done, or max has
// passed, and returns the version then.
func (r *Recorder) Wait(ctx context.Context, v uint64, max time.Duration) uint64 {
	r.mu.Lock()
	cur, ch := r.version, r.changed
	r.mu.Unlock()
	if cur != v {
		return cur
	}
	t := time.NewTimer(max)
	defer t.Stop()
	select {
	case <-ch:
	case <-t.C:
	case <-ctx.Done():
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.version
}

// Snapshot returns the numbers now, with the last n minutes of the
// series (at most a day's).
func (r *Recorder) Snapshot(n int) Snapshot {
	n = min(max(n, 0), minutes)
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	s := Snapshot{Version: r.version, Now: now, Total: r.total, Series: make([]Point, 0, n), Deployments: make(map[string]Deployment, len(r.deps))}
	curMin, curSec := now.Unix()/60, now.Unix()
	for u := curMin - int64(minutes) + 1; u <= curMin; u++ {
		c := countsAt(r.minute[:], u)
		s.Last24h.Requests += c.Requests
		s.Last24h.Errors += c.Errors
		s.Last24h.Failovers += c.Failovers
		s.Last24h.CacheHits += c.CacheHits
		if u > curMin-int64(n) {
			s.Series = append(s.Series, Point{T: time.Unix(u*60, 0).UTC(), Counts: c})
		}
	}
	for u := curSec - seconds + 1; u <= curSec; u++ {
		s.RequestsPerMinute += countsAt(r.second[:], u).Requests
	}
	for id, d := range r.deps {
		out := Deployment{Requests: d.requests, Errors: d.errors, ErrorsByClass: make(map[string]int, len(d.byClass))}
		for k, v := range d.byClass {
			out.ErrorsByClass[k] = v
		}
		if d.requests > 0 {
			out.ErrorRate = float64(d.errors) / float64(d.requests)
		}
		if samples := d.latency[:min(d.n, latencySamples)]; len(samples) > 0 {
			p50, p95 := percentiles(samples)
			out.P50MS, out.P95MS = &p50, &p95
		}
		s.Deployments[id] = out
	}
	return s
}

// countsAt returns the counts of unit u, zero when its bucket holds
// another one.
func countsAt(ring []bucket, u int64) Counts {
	if u < 0 {
		return Counts{}
	}
	b := ring[int(u%int64(len(ring)))]
	if b.start != u {
		return Counts{}
	}
	return b.Counts
}

// percentiles returns the nearest-rank 50th and 95th percentiles of
// samples in milliseconds; samples must not be empty.
func percentiles(samples []time.Duration) (p50, p95 int64) {
	s := slices.Clone(samples)
	slices.Sort(s)
	rank := func(p int) int64 {
		i := (p*len(s) + 99) / 100 // nearest rank: ceil(p/100 × n)
		return s[max(i-1, 0)].Milliseconds()
	}
	return rank(50), rank(95)
}
