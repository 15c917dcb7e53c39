package router

import (
	"sync"
	"time"

	"github.com/detour-gateway/detour/chat"
	"github.com/detour-gateway/detour/clock"
)

// Stats are the live numbers the strategies decide from, per deployment
// id: requests in flight, latency, and this minute's usage. They outlive
// config reloads, like cooldowns. Safe for concurrent use.
type Stats struct {
	clock clock.Clock
	mu    sync.Mutex
	m     map[string]*deploymentStats
}

// deploymentStats is one deployment's numbers.
type deploymentStats struct {
	inFlight int
	// perToken is the moving average of seconds per output token of
	// non-streamed answers; ttft the moving average of seconds to the first
	// content of streams. Zero: no sample yet.
	perToken, ttft float64
	// minute is the unix minute the counters below are for.
	minute           int64
	requests, tokens int
	// headroom is the smallest remaining/limit fraction the provider last
	// reported in its rate-limit headers, at headroomAt; headroomAt zero:
	// none reported.
	headroom   float64
	headroomAt time.Time
}

// latencyWeight is the weight of a new sample in the moving averages.
const latencyWeight = 0.3

// timeoutPenalty is the latency recorded for an attempt that timed out:
// far worse than any real answer, so latency-based routing avoids it.
const timeoutPenalty = 10 * time.Second

// NewStats returns empty Stats timed by clk (nil: the real clock).
func NewStats(clk clock.Clock) *Stats {
	if clk == nil {
		clk = clock.Real{}
	}
	return &Stats{clock: clk, m: map[string]*deploymentStats{}}
}

func (s *Stats) get(id string) *deploymentStats {
	d := s.m[id]
	if d == nil {
		d = &deploymentStats{}
		s.m[id] = d
	}
	if min := s.clock.Now().Unix() / 60; d.minute != min {
		d.minute, d.requests, d.tokens = min, 0, 0
	}
	return d
}

// begin records a request sent to deployment id, with its estimated
// tokens.
func (s *Stats) begin(id string, tokens int) {
	s.mu.Lock()
	d := s.get(id)
	d.inFlight++
	d.requests++
	d.tokens += tokens
	s.mu.Unlock()
}

// end records how an attempt went: took is its duration (to the first
// content for streams), usage its usage when known, timedOut whether it
// ran out of time.
func (s *Stats) end(id string, took time.Duration, stream bool, usage *chat.Usage, timedOut bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.get(id)
	d.inFlight--
	secs := took.Seconds()
	if timedOut {
		secs = timeoutPenalty.Seconds()
	}
	switch {
	case stream || timedOut:
		d.ttft = ewma(d.ttft, secs)
		if timedOut {
			d.perToken = ewma(d.perToken, secs)
		}
	case usage != nil && usage.CompletionTokens > 0:
		d.perToken = ewma(d.perToken, secs/float64(usage.CompletionTokens))
	}
}

func ewma(avg, sample float64) float64 {
	if avg == 0 {
		return sample
	}
	return avg + latencyWeight*(sample-avg)
}

// headroomFor is how long a reported rate-limit headroom counts: a minute.
const headroomFor = time.Minute

// RateLimit records what a provider's rate-limit headers said of
// deployment id: the fraction of its limits left, 0 to 1.
func (s *Stats) RateLimit(id string, remaining float64) {
	s.mu.Lock()
	d := s.get(id)
	d.headroom, d.headroomAt = min(max(remaining, 0), 1), s.clock.Now()
	s.mu.Unlock()
}

// snapshot returns a copy of deployment id's numbers.
func (s *Stats) snapshot(id string) deploymentStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := *s.get(id)
	if !d.headroomAt.IsZero() && s.clock.Now().Sub(d.headroomAt) > headroomFor {
		d.headroomAt = time.Time{} // stale
	}
	return d
}

// InFlight returns how many requests deployment id has in flight.
func (s *Stats) InFlight(id string) int { return s.snapshot(id).inFlight }
