package cache

import (
	"testing"
)

// BenchmarkGetHit measures a hit on a 2 KiB value: the read transaction,
// the CRC check, the copy, and queueing the access update.
func BenchmarkGetHit(b *testing.B) {
	c, _, _ := newTestCache(b, Options{})
	key := testKey(1)
	c.Put(key, make([]byte, 2048), 0, 0.01)
	mustFlush(b, c)
	b.ReportAllocs()
	b.SetBytes(2048)
	for b.Loop() {
		if _, err := c.Get(key, 0, false); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	reportDropped(b, c)
}

// BenchmarkGetHitParallel is BenchmarkGetHit from GOMAXPROCS goroutines.
func BenchmarkGetHitParallel(b *testing.B) {
	c, _, _ := newTestCache(b, Options{})
	for i := range 64 {
		c.Put(testKey(i), make([]byte, 2048), 0, 0.01)
	}
	mustFlush(b, c)
	b.ReportAllocs()
	b.SetBytes(2048)
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := c.Get(testKey(i%64), 0, false); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
	b.StopTimer()
	reportDropped(b, c)
}

// BenchmarkPut measures Puts of distinct 2 KiB values. "enqueue" is what
// the caller pays (a copy and a channel send; Puts the writer cannot keep
// up with are dropped, reported as dropped/op). "committed" flushes every
// 256 Puts, so it measures what the writer sustains, fsyncs included.
func BenchmarkPut(b *testing.B) {
	value := make([]byte, 2048)
	for _, bc := range []struct {
		name       string
		flushEvery int
	}{
		{"enqueue", 0},
		{"committed", batchMax},
	} {
		b.Run(bc.name, func(b *testing.B) {
			c, _, _ := newTestCache(b, Options{})
			b.ReportAllocs()
			b.SetBytes(int64(len(value)))
			i := 0
			for b.Loop() {
				c.Put(testKey(i), value, 0, 0)
				i++
				if bc.flushEvery > 0 && i%bc.flushEvery == 0 {
					mustFlush(b, c)
				}
			}
			b.StopTimer()
			mustFlush(b, c)
			reportDropped(b, c)
		})
	}
}

func reportDropped(b *testing.B, c *Cache) {
	b.Helper()
	b.ReportMetric(float64(mustStats(b, c).Dropped)/float64(b.N), "dropped/op")
}
