package router

// Strategy picks the deployment for the next attempt. Caddy's Selector is
// the model: small, and given only healthy candidates.
type Strategy interface {
	// Choose picks one of p.Candidates, which is never empty.
	Choose(p Pick) *Deployment
}

// SimpleShuffle picks at random, weighted as LiteLLM's simple-shuffle: by
// weight if any candidate sets one, else by rpm, else by tpm, else
// uniformly. A candidate without the chosen weight counts as 0, so
// unweighted deployments serve only when the weighted ones are cooling.
type SimpleShuffle struct {
	// Rand returns numbers in [0, 1).
	Rand func() float64
}

// Choose draws one candidate.
func (s SimpleShuffle) Choose(p Pick) *Deployment {
	candidates := p.Candidates
	if len(candidates) == 1 {
		return candidates[0]
	}
	for _, weight := range []func(*Deployment) int{
		func(d *Deployment) int { return d.Weight },
		func(d *Deployment) int { return d.RPM },
		func(d *Deployment) int { return d.TPM },
	} {
		total := 0
		for _, d := range candidates {
			total += max(weight(d), 0)
		}
		if total == 0 {
			continue
		}
		x := s.Rand() * float64(total)
		for _, d := range candidates {
			x -= float64(max(weight(d), 0))
			if x < 0 {
				return d
			}
		}
		return candidates[len(candidates)-1]
	}
	return candidates[min(int(s.Rand()*float64(len(candidates))), len(candidates)-1)]
}
