package app

import (
	"net/http"
	"strconv"

	"github.com/detour-gateway/detour/router"
)

// rateLimitPairs are the headers providers report their limits in, as
// (remaining, limit) pairs: OpenAI's (and most compatible services') and
// Anthropic's.
var rateLimitPairs = [][2]string{
	{"X-Ratelimit-Remaining-Requests", "X-Ratelimit-Limit-Requests"},
	{"X-Ratelimit-Remaining-Tokens", "X-Ratelimit-Limit-Tokens"},
	{"Anthropic-Ratelimit-Requests-Remaining", "Anthropic-Ratelimit-Requests-Limit"},
	{"Anthropic-Ratelimit-Tokens-Remaining", "Anthropic-Ratelimit-Tokens-Limit"},
	{"Anthropic-Ratelimit-Input-Tokens-Remaining", "Anthropic-Ratelimit-Input-Tokens-Limit"},
	{"Anthropic-Ratelimit-Output-Tokens-Remaining", "Anthropic-Ratelimit-Output-Tokens-Limit"},
}

// headroom returns the smallest remaining/limit fraction in h, and false
// when h reports none.
func headroom(h http.Header) (float64, bool) {
	frac, found := 1.0, false
	for _, p := range rateLimitPairs {
		rem, err1 := strconv.ParseFloat(h.Get(p[0]), 64)
		lim, err2 := strconv.ParseFloat(h.Get(p[1]), 64)
		if err1 != nil || err2 != nil || lim <= 0 {
			continue
		}
		frac, found = min(frac, rem/lim), true
	}
	return frac, found
}

// watchLimits is an http.RoundTripper that reports each answer's
// rate-limit headers for one deployment to the router's stats.
type watchLimits struct {
	next  http.RoundTripper
	id    string
	stats func() *router.Stats
}

func (w watchLimits) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := w.next.RoundTrip(req)
	if err == nil {
		if f, ok := headroom(resp.Header); ok {
			w.stats().RateLimit(w.id, f)
		}
	}
	return resp, err
}

// clientFor returns the HTTP client for deployment id: the shared one,
// watching rate-limit headers.
func (g *Gateway) clientFor(id string) *http.Client {
	next := g.opts.HTTPClient.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	c := *g.opts.HTTPClient
	c.Transport = watchLimits{next: next, id: id, stats: func() *router.Stats { return g.router.Load().Stats() }}
	return &c
}
