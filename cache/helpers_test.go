package cache

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/detour-gateway/detour/clock"
	bolt "go.etcd.io/bbolt"
)

// epoch is where the fake clocks of the tests start.
var epoch = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// discard is a logger for tests that do not look at the log.
var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

// testKey returns the key of entry i.
func testKey(i int) [32]byte {
	return sha256.Sum256(fmt.Appendf(nil, "key-%d", i))
}

// testValue returns the self-checking value of entry i: i as 8 big-endian
// bytes, then sha256(i) repeated 1 to 64 times (up to 2 KiB).
func testValue(i int) []byte {
	sum := sha256.Sum256(binary.BigEndian.AppendUint64(nil, uint64(i)))
	v := binary.BigEndian.AppendUint64(nil, uint64(i))
	for range 1 + i%64 {
		v = append(v, sum[:]...)
	}
	return v
}

// checkValue returns the i that testValue(i) == v, or an error if v is no
// value testValue makes.
func checkValue(v []byte) (int, error) {
	if len(v) < 8 {
		return 0, fmt.Errorf("value of %d bytes", len(v))
	}
	i := int(binary.BigEndian.Uint64(v))
	if i < 0 || !bytes.Equal(v, testValue(i)) {
		return 0, fmt.Errorf("value of %d bytes claiming to be entry %d does not match it", len(v), i)
	}
	return i, nil
}

// newTestCache opens a cache in a fresh temporary directory with a fake
// clock and closes it when the test ends. Fields of o left zero get test
// defaults; o.Clock, if set, must be a *clock.Fake.
func newTestCache(t testing.TB, o Options) (*Cache, *clock.Fake, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "cache.db")
	c, clk := openTestCache(t, path, o, hooks{})
	return c, clk, path
}

// openTestCache opens the cache at path like newTestCache.
func openTestCache(t testing.TB, path string, o Options, h hooks) (*Cache, *clock.Fake) {
	t.Helper()
	if o.Clock == nil {
		o.Clock = clock.NewFake(epoch)
	}
	if o.Logger == nil {
		o.Logger = discard
	}
	c, err := open(path, o, h)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return c, o.Clock.(*clock.Fake)
}

// mustFlush flushes c or fails the test.
func mustFlush(t testing.TB, c *Cache) {
	t.Helper()
	if err := c.Flush(); err != nil {
		t.Fatalf("Flush: %v", err)
	}
}

// mustStats returns c's stats or fails the test.
func mustStats(t testing.TB, c *Cache) Stats {
	t.Helper()
	s, err := c.Stats()
	if err != nil {
		t.Fatalf("Stats: %v", err)
	}
	return s
}

// mustGet gets a hit or fails the test.
func mustGet(t testing.TB, c *Cache, key [32]byte) Entry {
	t.Helper()
	e, err := c.Get(key, 0, false)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	return e
}

// isMissing reports whether key is absent, failing on any other error.
func isMissing(t testing.TB, c *Cache, key [32]byte) bool {
	t.Helper()
	_, err := c.Get(key, 0, true)
	if err != nil && !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get: %v", err)
	}
	return err != nil
}

// logBuffer collects log output; safe for the writer goroutine and the test.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// newLogBuffer returns a logger writing text to a logBuffer.
func newLogBuffer() (*slog.Logger, *logBuffer) {
	b := &logBuffer{}
	return slog.New(slog.NewTextHandler(b, nil)), b
}

// assertConsistent checks that the buckets agree with each other and with
// the totals: every entry is whole and has its lru and expiry keys, no
// index key is left over, and meta and Stats count what is there.
func assertConsistent(t testing.TB, c *Cache) {
	t.Helper()
	mustFlush(t, c)
	err := c.db.View(func(tx *bolt.Tx) error {
		entries, lru, expiry := tx.Bucket(bucketEntries), tx.Bucket(bucketLRU), tx.Bucket(bucketExpiry)
		var n, size int64
		err := entries.ForEach(func(k, raw []byte) error {
			r, err := decodeRecord(raw, true)
			if err != nil {
				return fmt.Errorf("entry %x: %w", k, err)
			}
			if lru.Get(indexKey(r.lastAccess, k)) == nil || expiry.Get(indexKey(r.expires, k)) == nil {
				return fmt.Errorf("entry %x: index key missing", k)
			}
			n++
			size += entrySize(raw)
			return nil
		})
		if err != nil {
			return err
		}
		if ln, en := int64(lru.Stats().KeyN), int64(expiry.Stats().KeyN); ln != n || en != n {
			return fmt.Errorf("%d entries, %d lru keys, %d expiry keys", n, ln, en)
		}
		meta := tx.Bucket(bucketMeta)
		mb, _ := readUint64(meta.Get(metaBytes))
		me, _ := readUint64(meta.Get(metaEntries))
		if int64(mb) != size || int64(me) != n {
			return fmt.Errorf("meta says %d entries of %d bytes, the buckets hold %d of %d", me, mb, n, size)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("inconsistent cache: %v", err)
	}
	s := mustStats(t, c)
	var want persisted
	_ = c.db.View(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		b, _ := readUint64(meta.Get(metaBytes))
		e, _ := readUint64(meta.Get(metaEntries))
		want.bytes, want.entries = int64(b), int64(e)
		return nil
	})
	if s.Bytes != want.bytes || s.Entries != want.entries {
		t.Fatalf("Stats says %d entries of %d bytes, meta %d of %d", s.Entries, s.Bytes, want.entries, want.bytes)
	}
}
