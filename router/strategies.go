package router

import (
	"fmt"
	"math"

	"github.com/detour-gateway/detour/chat"
)

// Pick is what a strategy is given for one choice.
type Pick struct {
	// Request is the request being routed.
	Request *chat.Request
	// Candidates are the deployments in rotation, in config order; never
	// empty.
	Candidates []*Deployment
	// Stats are the live numbers.
	Stats *Stats
	// PromptTokens is the request's estimated prompt size in tokens.
	PromptTokens int
}

// NewStrategy returns the strategy named as LiteLLM's routing_strategy.
// lowestLatencyBuffer is latency-based-routing's tolerance (0.1: within
// 10 % of the fastest).
func NewStrategy(name string, rand func() float64, lowestLatencyBuffer float64) (Strategy, error) {
	switch name {
	case "", "simple-shuffle":
		return SimpleShuffle{Rand: rand}, nil
	case "least-busy":
		return LeastBusy{}, nil
	case "cost-based-routing":
		return CostBased{}, nil
	case "latency-based-routing":
		return LatencyBased{Buffer: lowestLatencyBuffer, Rand: rand}, nil
	case "usage-based-routing", "usage-based-routing-v2":
		return UsageBased{}, nil
	}
	return nil, fmt.Errorf("unknown routing strategy %q", name)
}

// LeastBusy picks the deployment with the fewest requests in flight; ties
// go to the first in config order.
type LeastBusy struct{}

// Choose implements Strategy.
func (LeastBusy) Choose(p Pick) *Deployment {
	return argmin(p.Candidates, func(d *Deployment) float64 { return float64(p.Stats.InFlight(d.ID)) })
}

// typicalOutputTokens is the answer length cost-based routing assumes
// when a request sets no max_tokens.
const typicalOutputTokens = 256

// CostBased picks the deployment whose expected cost for this request is
// lowest: estimated prompt tokens at the input price, plus max_tokens (else
// 256) at the output price. Deployments with an unknown price come last;
// ties go to the first in config order.
type CostBased struct{}

// Choose implements Strategy.
func (CostBased) Choose(p Pick) *Deployment {
	out := typicalOutputTokens
	if r := p.Request; r != nil {
		switch {
		case r.MaxCompletionTokens != nil:
			out = *r.MaxCompletionTokens
		case r.MaxTokens != nil:
			out = *r.MaxTokens
		}
	}
	return argmin(p.Candidates, func(d *Deployment) float64 {
		if d.Price.Input == 0 && d.Price.Output == 0 {
			return math.Inf(1) // unknown: last
		}
		return float64(p.PromptTokens)*d.Price.Input + float64(out)*d.Price.Output
	})
}

// LatencyBased picks the fastest deployment by moving average: seconds per
// output token, or time to first content for a streamed request. A
// deployment with no sample yet is tried first (in config order); a
// timeout counts as 10 s. Among those within Buffer of the fastest (0.1:
// 10 % slower at most) it picks at random.
type LatencyBased struct {
	Buffer float64
	Rand   func() float64
}

// Choose implements Strategy.
func (l LatencyBased) Choose(p Pick) *Deployment {
	stream := p.Request != nil && p.Request.Stream
	latency := func(d *Deployment) float64 {
		s := p.Stats.snapshot(d.ID)
		if stream {
			return s.ttft
		}
		return s.perToken
	}
	best := math.Inf(1)
	for _, d := range p.Candidates {
		v := latency(d)
		if v == 0 {
			return d // unseen: try it
		}
		best = min(best, v)
	}
	var near []*Deployment
	for _, d := range p.Candidates {
		if latency(d) <= best*(1+l.Buffer) {
			near = append(near, d)
		}
	}
	if len(near) == 1 || l.Rand == nil {
		return near[0]
	}
	return near[min(int(l.Rand()*float64(len(near))), len(near)-1)]
}

// UsageBased picks the deployment with the most room left this minute
// under its rpm and tpm limits, counting this request; deployments it
// would push over a limit are skipped (all over: the least over). Those
// without limits count as empty. What a provider's rate-limit headers said
// in the last minute counts too: a deployment with 10 % of its provider
// limits left is 90 % used, so it loses priority before a 429 arrives.
// Ties go to the first in config order.
type UsageBased struct{}

// Choose implements Strategy.
func (UsageBased) Choose(p Pick) *Deployment {
	return argmin(p.Candidates, func(d *Deployment) float64 {
		s := p.Stats.snapshot(d.ID)
		use := 0.0
		if d.RPM > 0 {
			use = max(use, float64(s.requests+1)/float64(d.RPM))
		}
		if d.TPM > 0 {
			use = max(use, float64(s.tokens+p.PromptTokens)/float64(d.TPM))
		}
		if !s.headroomAt.IsZero() {
			use = max(use, 1-s.headroom)
		}
		return use
	})
}

// argmin returns the candidate with the lowest score; the first wins ties.
func argmin(ds []*Deployment, score func(*Deployment) float64) *Deployment {
	best, bestScore := ds[0], score(ds[0])
	for _, d := range ds[1:] {
		if s := score(d); s < bestScore {
			best, bestScore = d, s
		}
	}
	return best
}
