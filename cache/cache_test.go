package cache

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"
)

func TestPutGetRoundTrip(t *testing.T) {
	tests := []struct {
		name  string
		value []byte
		ttl   time.Duration
		saved float64
	}{
		{"empty value", []byte{}, 0, 0},
		{"small", []byte("hello"), 0, 0.001},
		{"2 KiB", bytes.Repeat([]byte{0xab}, 2048), time.Minute, 0.02},
		{"1 MiB", bytes.Repeat([]byte("0123456789abcdef"), 1<<16), 3 * time.Hour, 1.5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, clk, _ := newTestCache(t, Options{TTL: time.Hour})
			key := testKey(1)
			c.Put(key, tt.value, tt.ttl, tt.saved)
			mustFlush(t, c)

			e := mustGet(t, c, key)
			if !bytes.Equal(e.Value, tt.value) {
				t.Errorf("Value: %d bytes, want %d bytes put", len(e.Value), len(tt.value))
			}
			wantTTL := tt.ttl
			if wantTTL == 0 {
				wantTTL = time.Hour
			}
			if !e.Stored.Equal(clk.Now()) || !e.Expires.Equal(clk.Now().Add(wantTTL)) {
				t.Errorf("Stored, Expires = %v, %v; want %v, %v", e.Stored, e.Expires, clk.Now(), clk.Now().Add(wantTTL))
			}
			if e.Stale || e.Saved != tt.saved {
				t.Errorf("Stale, Saved = %v, %v; want false, %v", e.Stale, e.Saved, tt.saved)
			}
			if _, err := c.Get(testKey(2), 0, true); !errors.Is(err, ErrNotFound) {
				t.Errorf("Get of a key never put: %v, want ErrNotFound", err)
			}
			s := mustStats(t, c)
			if s.Entries != 1 || s.Bytes != keyLen+int64(len(tt.value)) {
				t.Errorf("Entries, Bytes = %d, %d; want 1, %d", s.Entries, s.Bytes, keyLen+len(tt.value))
			}
		})
	}
}

func TestPutReplacesEntry(t *testing.T) {
	c, _, _ := newTestCache(t, Options{})
	key := testKey(1)
	c.Put(key, []byte("first answer"), 0, 1)
	mustFlush(t, c)
	c.Put(key, []byte("second"), 0, 2)
	mustFlush(t, c)
	e := mustGet(t, c, key)
	if string(e.Value) != "second" || e.Saved != 2 {
		t.Errorf("Get = %q, saved %v; want the second Put", e.Value, e.Saved)
	}
	if s := mustStats(t, c); s.Entries != 1 || s.Bytes != keyLen+6 {
		t.Errorf("Entries, Bytes = %d, %d; want 1, %d", s.Entries, s.Bytes, keyLen+6)
	}
	assertConsistent(t, c)
}

// TestGetFreshness walks an entry put with a TTL of 1h and a stale window
// of 2h through its life on a fake clock.
func TestGetFreshness(t *testing.T) {
	const ttl, staleTTL = time.Hour, 2 * time.Hour
	tests := []struct {
		name       string
		age        time.Duration // time since the Put
		maxAge     time.Duration
		allowStale bool
		wantFound  bool
		wantStale  bool
	}{
		{"just put", 0, 0, false, true, false},
		{"fresh", 59 * time.Minute, 0, false, true, false},
		{"fresh, stale allowed: not marked stale", 59 * time.Minute, 0, true, true, false},
		{"at expiry", ttl, 0, false, false, false},
		{"at expiry, stale allowed", ttl, 0, true, true, true},
		{"stale", 2 * time.Hour, 0, false, false, false},
		{"stale, allowed", 2 * time.Hour, 0, true, true, true},
		{"end of stale window, allowed", ttl + staleTTL - 1, 0, true, true, true},
		{"past stale window, allowed", ttl + staleTTL, 0, true, false, false},
		{"younger than maxAge", 5 * time.Minute, 10 * time.Minute, false, true, false},
		{"older than maxAge", 30 * time.Minute, 10 * time.Minute, false, false, false},
		{"older than maxAge, stale allowed", 30 * time.Minute, 10 * time.Minute, true, true, true},
		{"maxAge beyond TTL does not extend it", 90 * time.Minute, 10 * time.Hour, false, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, clk, _ := newTestCache(t, Options{TTL: ttl, StaleTTL: staleTTL})
			key := testKey(7)
			c.Put(key, []byte("answer"), 0, 0.5)
			mustFlush(t, c)
			clk.Advance(tt.age)

			e, err := c.Get(key, tt.maxAge, tt.allowStale)
			if !tt.wantFound {
				if !errors.Is(err, ErrNotFound) {
					t.Fatalf("Get: %v, want ErrNotFound", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Get: %v", err)
			}
			if e.Stale != tt.wantStale || string(e.Value) != "answer" {
				t.Errorf("Get = %q, Stale %v; want %q, Stale %v", e.Value, e.Stale, "answer", tt.wantStale)
			}
			s := mustStats(t, c)
			wantHits, wantStale, wantSaved := int64(1), int64(0), 0.5
			if tt.wantStale {
				wantHits, wantStale, wantSaved = 0, 1, 0
			}
			if s.Hits != wantHits || s.StaleHits != wantStale || s.SavedUSD != wantSaved || s.Misses != 0 {
				t.Errorf("Hits, StaleHits, SavedUSD, Misses = %d, %d, %v, %d; want %d, %d, %v, 0",
					s.Hits, s.StaleHits, s.SavedUSD, s.Misses, wantHits, wantStale, wantSaved)
			}
		})
	}
}

func TestPerEntryTTL(t *testing.T) {
	c, clk, _ := newTestCache(t, Options{TTL: time.Hour})
	short, long := testKey(1), testKey(2)
	c.Put(short, []byte("s"), time.Minute, 0)
	c.Put(long, []byte("l"), 0, 0)
	mustFlush(t, c)
	clk.Advance(2 * time.Minute)
	if _, err := c.Get(short, 0, false); !errors.Is(err, ErrNotFound) {
		t.Errorf("entry with a 1m TTL after 2m: %v, want ErrNotFound", err)
	}
	mustGet(t, c, long)
}

// TestExpiredEntriesDeleted checks that the writer deletes entries past
// their stale window (or, with a negative StaleTTL, at expiry).
func TestExpiredEntriesDeleted(t *testing.T) {
	tests := []struct {
		name     string
		staleTTL time.Duration
		keptFor  time.Duration // after expiry
	}{
		{"default stale window", 0, DefaultStaleTTL},
		{"1h stale window", time.Hour, time.Hour},
		{"no stale window", -1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, clk, _ := newTestCache(t, Options{TTL: time.Hour, StaleTTL: tt.staleTTL})
			c.Put(testKey(1), []byte("dies"), 0, 0)
			c.Put(testKey(2), []byte("lives"), 48*time.Hour+tt.keptFor, 0)
			mustFlush(t, c)

			clk.Advance(time.Hour + tt.keptFor - time.Nanosecond)
			mustFlush(t, c)
			if s := mustStats(t, c); s.Entries != 2 {
				t.Fatalf("Entries = %d just before the end of the stale window, want 2", s.Entries)
			}
			clk.Advance(time.Nanosecond)
			mustFlush(t, c)
			if s := mustStats(t, c); s.Entries != 1 || s.Bytes != keyLen+5 {
				t.Errorf("Entries, Bytes = %d, %d after the stale window; want 1, %d", s.Entries, s.Bytes, keyLen+5)
			}
			if !isMissing(t, c, testKey(1)) || isMissing(t, c, testKey(2)) {
				t.Error("the wrong entry was deleted")
			}
			assertConsistent(t, c)
		})
	}
}

func TestCountersPersist(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cache.db")
	c, clk := openTestCache(t, path, Options{TTL: time.Hour}, hooks{})
	key := testKey(1)
	c.Put(key, []byte("v"), 0, 0.25)
	mustFlush(t, c)
	for range 3 {
		mustGet(t, c, key)
	}
	c.RecordMiss()
	c.RecordMiss()
	if _, err := c.Get(testKey(2), 0, false); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get of a missing key: %v", err)
	}
	clk.Advance(2 * time.Hour)
	if e, err := c.Get(key, 0, true); err != nil || !e.Stale {
		t.Fatalf("stale Get = %v, %v", e.Stale, err)
	}
	want := Stats{Entries: 1, Bytes: keyLen + 1, Hits: 3, Misses: 2, StaleHits: 1, SavedUSD: 0.75}
	mustFlush(t, c)
	if got := mustStats(t, c); got != want {
		t.Errorf("Stats = %+v, want %+v", got, want)
	}
	// No Flush: Close must write what is pending.
	c.RecordMiss()
	want.Misses++
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	c2, _ := openTestCache(t, path, Options{TTL: time.Hour}, hooks{})
	if got := mustStats(t, c2); got != want {
		t.Errorf("Stats after reopening = %+v, want %+v", got, want)
	}
}

// TestQueueFullDropsWrites blocks the writer, fills its queue, and checks
// that Put and Get neither block nor lose the hit count.
func TestQueueFullDropsWrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cache.db")
	c, _ := openTestCache(t, path, Options{}, hooks{})
	hot := testKey(0)
	c.Put(hot, []byte("hot"), 0, 0.5)
	mustFlush(t, c)

	// A flush whose reply nobody reads holds the writer until we read it.
	reply := make(chan error)
	c.events <- event{kind: evFlush, reply: reply}
	for len(c.events) > 0 { // wait for the writer to take it
		time.Sleep(time.Millisecond)
	}
	for i := 1; i <= queueLen; i++ {
		c.Put(testKey(i), testValue(i), 0, 0)
	}
	if s := mustStats(t, c); s.Dropped != 0 {
		t.Fatalf("Dropped = %d with a queue of %d for %d Puts", s.Dropped, queueLen, queueLen)
	}
	c.Put(testKey(queueLen+1), testValue(queueLen+1), 0, 0) // no room: dropped
	mustGet(t, c, hot)                                      // its access update: dropped
	if s := mustStats(t, c); s.Dropped != 2 || s.Hits != 1 || s.SavedUSD != 0.5 {
		t.Errorf("Dropped, Hits, SavedUSD = %d, %d, %v; want 2, 1, 0.5", s.Dropped, s.Hits, s.SavedUSD)
	}
	<-reply // release the writer
	mustFlush(t, c)
	if s := mustStats(t, c); s.Entries != queueLen+1 {
		t.Errorf("Entries = %d, want %d", s.Entries, queueLen+1)
	}
	if !isMissing(t, c, testKey(queueLen+1)) {
		t.Error("the dropped Put was stored")
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	c2, _ := openTestCache(t, path, Options{}, hooks{})
	if s := mustStats(t, c2); s.Hits != 1 || s.SavedUSD != 0.5 {
		t.Errorf("after reopening: Hits, SavedUSD = %d, %v; want 1, 0.5 (a dropped access update must not lose the count)", s.Hits, s.SavedUSD)
	}
}

func TestValueLargerThanCacheNotStored(t *testing.T) {
	c, _, _ := newTestCache(t, Options{MaxBytes: 1000})
	c.Put(testKey(1), make([]byte, 1000), 0, 0)
	c.Put(testKey(2), make([]byte, 1000-keyLen), 0, 0)
	mustFlush(t, c)
	if !isMissing(t, c, testKey(1)) || isMissing(t, c, testKey(2)) {
		t.Error("want only the value that fits stored")
	}
}

// TestValueIsCopy checks that Put copies its argument and Get returns a
// copy, not bbolt's memory.
func TestValueIsCopy(t *testing.T) {
	c, _, _ := newTestCache(t, Options{})
	key := testKey(1)
	in := []byte("original")
	c.Put(key, in, 0, 0)
	copy(in, "CHANGED!")
	mustFlush(t, c)
	e := mustGet(t, c, key)
	if string(e.Value) != "original" {
		t.Fatalf("Get = %q: Put kept the caller's slice", e.Value)
	}
	for i := range e.Value {
		e.Value[i] = 'x'
	}
	if e2 := mustGet(t, c, key); string(e2.Value) != "original" {
		t.Errorf("Get after modifying a returned Value = %q", e2.Value)
	}
}

func TestClear(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cache.db")
	c, _ := openTestCache(t, path, Options{}, hooks{})
	for i := range 10 {
		c.Put(testKey(i), testValue(i), 0, 0.1)
	}
	mustFlush(t, c)
	mustGet(t, c, testKey(3))
	c.RecordMiss()
	c.Put(testKey(10), testValue(10), 0, 0) // queued: cleared too
	if err := c.Clear(); err != nil {
		t.Fatal(err)
	}
	want := Stats{Hits: 1, Misses: 1, SavedUSD: 0.1}
	if got := mustStats(t, c); got != want {
		t.Errorf("Stats after Clear = %+v, want %+v", got, want)
	}
	for i := range 11 {
		if !isMissing(t, c, testKey(i)) {
			t.Errorf("entry %d survived Clear", i)
		}
	}
	c.Put(testKey(20), testValue(20), 0, 0)
	mustFlush(t, c)
	mustGet(t, c, testKey(20))
	want.Hits++
	want.Entries, want.Bytes = 1, keyLen+int64(len(testValue(20)))
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	c2, _ := openTestCache(t, path, Options{}, hooks{})
	if got := mustStats(t, c2); got != want {
		t.Errorf("Stats after reopening = %+v, want %+v", got, want)
	}
	assertConsistent(t, c2)
}

func TestClosed(t *testing.T) {
	c, _, _ := newTestCache(t, Options{})
	c.Put(testKey(1), []byte("v"), 0, 0)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get(testKey(1), 0, false); !errors.Is(err, ErrClosed) {
		t.Errorf("Get: %v, want ErrClosed", err)
	}
	if err := c.Flush(); !errors.Is(err, ErrClosed) {
		t.Errorf("Flush: %v, want ErrClosed", err)
	}
	if err := c.Clear(); !errors.Is(err, ErrClosed) {
		t.Errorf("Clear: %v, want ErrClosed", err)
	}
	if _, err := c.Stats(); !errors.Is(err, ErrClosed) {
		t.Errorf("Stats: %v, want ErrClosed", err)
	}
	c.Put(testKey(2), []byte("v"), 0, 0) // must neither panic nor block
	c.RecordMiss()
	if err := c.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestOpenCreatesDirectoryAndFile(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permissions")
	}
	path := filepath.Join(t.TempDir(), "a", "b", "cache.db")
	openTestCache(t, path, Options{}, hooks{})
	for _, tt := range []struct {
		path string
		mode os.FileMode
	}{
		{filepath.Dir(path), 0o700 | os.ModeDir},
		{path, 0o600},
	} {
		fi, err := os.Stat(tt.path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != tt.mode {
			t.Errorf("%s: mode %v, want %v", tt.path, fi.Mode(), tt.mode)
		}
	}
}

// TestConcurrentUse runs Get, Put, Stats, RecordMiss and Flush from many
// goroutines at once (run with -race) and checks every value returned.
func TestConcurrentUse(t *testing.T) {
	c, _, _ := newTestCache(t, Options{MaxBytes: 64 << 10, EvictBatch: 16})
	const goroutines, ops, keys = 16, 400, 100
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for n := range ops {
				i := (g*ops + n*7) % keys
				switch n % 5 {
				case 0, 1:
					c.Put(testKey(i), testValue(i), 0, 0.01)
				case 2:
					e, err := c.Get(testKey(i), 0, false)
					if errors.Is(err, ErrNotFound) {
						c.RecordMiss()
						continue
					}
					if err != nil {
						t.Errorf("Get: %v", err)
						return
					}
					if got, err := checkValue(e.Value); err != nil || got != i {
						t.Errorf("Get(key %d) = entry %d, %v", i, got, err)
						return
					}
					e.Value[0] ^= 0xff // ours to modify
				case 3:
					if _, err := c.Stats(); err != nil {
						t.Errorf("Stats: %v", err)
					}
				case 4:
					if n%25 == 4 {
						if err := c.Flush(); err != nil {
							t.Errorf("Flush: %v", err)
						}
					}
				}
			}
		})
	}
	wg.Wait()
	mustFlush(t, c)
	s := mustStats(t, c)
	if s.Bytes > 64<<10 {
		t.Errorf("Bytes = %d over MaxBytes %d", s.Bytes, 64<<10)
	}
	if s.Hits+s.Misses != goroutines*ops/5 {
		t.Errorf("Hits + Misses = %d, want %d Gets", s.Hits+s.Misses, goroutines*ops/5)
	}
	if math.Abs(s.SavedUSD-float64(s.Hits)*0.01) > 1e-9 {
		t.Errorf("SavedUSD = %v for %d hits of 0.01", s.SavedUSD, s.Hits)
	}
	assertConsistent(t, c)
}
