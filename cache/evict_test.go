package cache

import (
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"
)

// evictLog records the size of each eviction transaction.
type evictLog struct {
	mu  sync.Mutex
	txs []int
}

func (l *evictLog) hook(n int) {
	l.mu.Lock()
	l.txs = append(l.txs, n)
	l.mu.Unlock()
}

func (l *evictLog) take() []int {
	l.mu.Lock()
	defer l.mu.Unlock()
	txs := l.txs
	l.txs = nil
	return txs
}

// TestLRUEviction fills a cache of ten 1000-byte entries, reads three of
// the oldest, and puts five more: the six least recently used go, in
// transactions of at most EvictBatch deletions, down to 90% of MaxBytes.
func TestLRUEviction(t *testing.T) {
	const size = keyLen + 1000
	tests := []struct {
		name       string
		evictBatch int
		wantTxs    []int
	}{
		{"batch of 2", 2, []int{2, 2, 2}},
		{"batch of 4", 4, []int{4, 2}},
		{"batch of 1", 1, []int{1, 1, 1, 1, 1, 1}},
		{"default batch", 0, []int{6}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var log evictLog
			path := filepath.Join(t.TempDir(), "cache.db")
			c, clk := openTestCache(t, path, Options{MaxBytes: 10 * size, EvictBatch: tt.evictBatch}, hooks{evictTx: log.hook})
			value := func(i int) []byte { return append(testValue(i)[:8], make([]byte, 992)...) }

			for i := range 10 { // stored at minute 0..9
				c.Put(testKey(i), value(i), 0, 0)
				clk.Advance(time.Minute)
			}
			mustFlush(t, c)
			if s := mustStats(t, c); s.Entries != 10 || s.Bytes != 10*size {
				t.Fatalf("Entries, Bytes = %d, %d; want 10, %d (at the cap, not over)", s.Entries, s.Bytes, 10*size)
			}
			if txs := log.take(); len(txs) != 0 {
				t.Fatalf("evicted %v at the cap", txs)
			}
			for _, i := range []int{0, 1, 2} { // read at minute 10..12
				mustGet(t, c, testKey(i))
				clk.Advance(time.Minute)
			}
			mustFlush(t, c)
			for i := 10; i < 15; i++ { // minute 13..17
				c.Put(testKey(i), value(i), 0, 0)
				clk.Advance(time.Minute)
			}
			mustFlush(t, c)

			var evicted []int
			for i := range 15 {
				if isMissing(t, c, testKey(i)) {
					evicted = append(evicted, i)
				}
			}
			if want := []int{3, 4, 5, 6, 7, 8}; !slices.Equal(evicted, want) {
				t.Errorf("evicted %v, want %v (least recently used)", evicted, want)
			}
			if s := mustStats(t, c); s.Bytes > 10*size*9/10 || s.Entries != 9 {
				t.Errorf("Entries, Bytes = %d, %d; want 9, ≤ %d (90%% of MaxBytes)", s.Entries, s.Bytes, 10*size*9/10)
			}
			// Six deletions in transactions of at most EvictBatch. (Usually
			// exactly wantTxs; the writer's 200ms timer may split the five
			// Puts over two commits, and so the evictions too.)
			batch := tt.evictBatch
			if batch == 0 {
				batch = DefaultEvictBatch
			}
			txs, sum := log.take(), 0
			for _, n := range txs {
				if n > batch || n <= 0 {
					t.Errorf("an eviction transaction deleted %d keys; EvictBatch is %d", n, batch)
				}
				sum += n
			}
			if sum != 6 || len(txs) < len(tt.wantTxs) {
				t.Errorf("eviction transactions deleted %v keys, want %v", txs, tt.wantTxs)
			}
			assertConsistent(t, c)
		})
	}
}

// TestEvictDeadFirst checks that entries past their stale window go before
// live ones, even recently used ones, and without pressure on the size.
func TestEvictDeadFirst(t *testing.T) {
	var log evictLog
	path := filepath.Join(t.TempDir(), "cache.db")
	c, clk := openTestCache(t, path, Options{TTL: time.Hour, StaleTTL: time.Hour, EvictBatch: 3}, hooks{evictTx: log.hook})
	for i := range 7 {
		c.Put(testKey(i), testValue(i), time.Minute, 0) // short-lived
	}
	c.Put(testKey(100), testValue(100), 0, 0) // old and never read, but alive
	mustFlush(t, c)
	clk.Advance(30 * time.Second)
	for i := range 7 {
		mustGet(t, c, testKey(i)) // recently used
	}
	mustFlush(t, c)
	clk.Advance(time.Hour + time.Minute) // past the stale window of the short-lived ones
	mustFlush(t, c)
	for i := range 7 {
		if !isMissing(t, c, testKey(i)) {
			t.Errorf("dead entry %d survived", i)
		}
	}
	if isMissing(t, c, testKey(100)) {
		t.Error("the live entry was evicted")
	}
	if txs := log.take(); !slices.Equal(txs, []int{3, 3, 1}) {
		t.Errorf("eviction transactions deleted %v keys, want [3 3 1]", txs)
	}
	assertConsistent(t, c)
}

// TestEvictionSurvivesReopen checks that the LRU order is on disk: entries
// read before a restart outlive those that were not.
func TestEvictionSurvivesReopen(t *testing.T) {
	const size = keyLen + 100
	path := filepath.Join(t.TempDir(), "cache.db")
	o := Options{MaxBytes: 4 * size}
	c, clk := openTestCache(t, path, o, hooks{})
	for i := range 4 {
		c.Put(testKey(i), make([]byte, 100), 0, 0)
		clk.Advance(time.Second)
	}
	mustFlush(t, c)
	mustGet(t, c, testKey(0))
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}

	o.Clock = clk
	c2, _ := openTestCache(t, path, o, hooks{})
	clk.Advance(time.Second)
	c2.Put(testKey(4), make([]byte, 100), 0, 0) // 5 entries: evict down to 3
	mustFlush(t, c2)
	for i, wantMissing := range []bool{false, true, true, false, false} {
		if got := isMissing(t, c2, testKey(i)); got != wantMissing {
			t.Errorf("entry %d missing = %v, want %v", i, got, wantMissing)
		}
	}
}

// TestSetLimits: a smaller cap evicts down to 90% of it at the next
// commit, and a new TTL applies to the Puts after it.
func TestSetLimits(t *testing.T) {
	const size = keyLen + 1000
	c, clk := openTestCache(t, filepath.Join(t.TempDir(), "cache.db"), Options{MaxBytes: 100 * size, TTL: time.Hour}, hooks{})
	value := func(i int) []byte { return append(testValue(i)[:8], make([]byte, 992)...) }
	for i := range 10 {
		c.Put(testKey(i), value(i), 0, 0)
		clk.Advance(time.Second)
	}
	mustFlush(t, c)

	c.SetLimits(time.Minute, 5*size)
	mustFlush(t, c)
	if s := mustStats(t, c); s.Entries != 4 || s.Bytes != 4*size {
		t.Errorf("after the cap went down to 5 entries: Entries, Bytes = %d, %d; want 4, %d (90%% of the cap)", s.Entries, s.Bytes, 4*size)
	}
	for i := range 6 {
		if _, err := c.Get(testKey(i), 0, false); err == nil {
			t.Errorf("entry %d, among the least recently used, survived", i)
		}
	}

	c.Put(testKey(20), value(20), 0, 0)
	mustFlush(t, c)
	e, err := c.Get(testKey(20), 0, false)
	if err != nil {
		t.Fatal(err)
	}
	if got := e.Expires.Sub(e.Stored); got != time.Minute {
		t.Errorf("a Put after SetLimits lives %v, want the new TTL of 1m", got)
	}
}
