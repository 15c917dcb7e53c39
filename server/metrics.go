package server

import (
	"time"

	"github.com/detour-gateway/detour/cache"
)

// CacheHits returns c, telling hit of each fresh answer it hands the
// server: the provider that once gave the answer, and the dollars it cost
// then (cache.Entry.Saved), which the hit saved. Stale answers, served in
// place of a failure, saved nothing and are not told. hit must not block.
// The answers are laid out by the server, so only it can say whose they
// are; this is how metrics learn what the cache saved by provider.
func CacheHits(c Cache, hit func(provider string, savedUSD float64)) Cache {
	return hitCache{Cache: c, hit: hit}
}

// hitCache is a Cache that tells of its fresh hits.
type hitCache struct {
	Cache
	hit func(provider string, savedUSD float64)
}

// Get implements Cache.
func (c hitCache) Get(key [32]byte, maxAge time.Duration, allowStale bool) (cache.Entry, error) {
	e, err := c.Cache.Get(key, maxAge, allowStale)
	if err == nil && !e.Stale {
		if a, ok := decodeAnswer(e.Value); ok {
			c.hit(a.Provider, e.Saved)
		}
	}
	return e, err
}
