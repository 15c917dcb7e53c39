package cache

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/detour-gateway/detour/clock"
	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// TestOpenLocked opens the same file twice in one process: bbolt's flock is
// per open file, so the second Open must give up after LockTimeout with
// ErrLocked, leave the file alone, and not disturb the first.
func TestOpenLocked(t *testing.T) {
	c, _, path := newTestCache(t, Options{})
	c.Put(testKey(1), []byte("v"), 0, 0)
	mustFlush(t, c)

	errc := make(chan error, 1)
	go func() {
		c2, err := Open(path, Options{LockTimeout: 100 * time.Millisecond, Logger: discard})
		if err == nil {
			c2.Close()
		}
		errc <- err
	}()
	var err error
	select {
	case err = <-errc:
	case <-time.After(30 * time.Second): // a hang guard, not a timing assertion
		t.Fatal("second Open still waiting for the lock: it must time out")
	}
	if !errors.Is(err, ErrLocked) || !errors.Is(err, bolterrors.ErrTimeout) {
		t.Fatalf("second Open: %v; want an error wrapping ErrLocked and bbolt's ErrTimeout", err)
	}
	if aside, _ := filepath.Glob(path + ".corrupt-*"); len(aside) != 0 {
		t.Errorf("a locked file was moved aside: %v", aside)
	}
	mustGet(t, c, testKey(1))

	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	c3, _ := openTestCache(t, path, Options{LockTimeout: 100 * time.Millisecond}, hooks{})
	mustGet(t, c3, testKey(1))
}

// TestOpenCorruptFile puts broken files where the cache lives: each is
// moved aside, intact, a warning names where, and a fresh cache works.
func TestOpenCorruptFile(t *testing.T) {
	tests := []struct {
		name  string
		write func(t *testing.T, path string)
	}{
		{"random bytes", func(t *testing.T, path string) {
			writeFile(t, path, randomBytes(64<<10))
		}},
		{"short random bytes", func(t *testing.T, path string) {
			writeFile(t, path, randomBytes(100))
		}},
		{"truncated cache, half", func(t *testing.T, path string) {
			truncateCache(t, path, 0.5)
		}},
		{"truncated cache, to a few pages", func(t *testing.T, path string) {
			truncateCache(t, path, 0.05)
		}},
		{"a bbolt file of someone else's", func(t *testing.T, path string) {
			db, err := bolt.Open(path, 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := db.Update(func(tx *bolt.Tx) error {
				_, err := tx.CreateBucket([]byte("other"))
				return err
			}); err != nil {
				t.Fatal(err)
			}
			db.Close()
		}},
		{"a cache of another format version", func(t *testing.T, path string) {
			c, _ := openTestCache(t, path, Options{}, hooks{})
			c.Close()
			db, err := bolt.Open(path, 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := db.Update(func(tx *bolt.Tx) error {
				return tx.Bucket(bucketMeta).Put(metaVersion, putUint64(formatVersion+1))
			}); err != nil {
				t.Fatal(err)
			}
			db.Close()
		}},
		{"a damaged page", func(t *testing.T, path string) {
			fillCache(t, path, 200)
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			pageSize := os.Getpagesize()
			for i := 4 * pageSize; i < 5*pageSize; i++ { // a data page, headers and all
				b[i] ^= 0x5a
			}
			writeFile(t, path, b)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "cache.db")
			tt.write(t, path)
			broken, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			logger, logs := newLogBuffer()
			clk := clock.NewFake(time.Date(2025, 6, 7, 8, 9, 10, 0, time.UTC))
			c, _ := openTestCache(t, path, Options{Logger: logger, Clock: clk}, hooks{})

			aside := path + ".corrupt-20250607T080910Z"
			moved, err := os.ReadFile(aside)
			if err != nil {
				t.Fatalf("the broken file is not at %s: %v", aside, err)
			}
			if !bytes.Equal(moved, broken) {
				t.Errorf("the file moved aside differs from the broken one")
			}
			if log := logs.String(); !strings.Contains(log, "level=WARN") || !strings.Contains(log, "moved_to="+aside) {
				t.Errorf("log does not warn with the new path %s:\n%s", aside, log)
			}
			if s := mustStats(t, c); s != (Stats{}) {
				t.Errorf("fresh cache Stats = %+v, want zero", s)
			}
			c.Put(testKey(1), testValue(1), 0, 0)
			mustFlush(t, c)
			mustGet(t, c, testKey(1))
			assertConsistent(t, c)
		})
	}
}

// TestCRCMismatch damages a stored value behind the cache's back: Get must
// treat it as a miss, and the writer delete it.
func TestCRCMismatch(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cache.db")
	c, _ := openTestCache(t, path, Options{}, hooks{})
	c.Put(testKey(1), testValue(1), 0, 0)
	c.Put(testKey(2), testValue(2), 0, 0)
	mustFlush(t, c)
	c.Close()

	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		b, key := tx.Bucket(bucketEntries), testKey(1)
		rec := bytes.Clone(b.Get(key[:]))
		rec[len(rec)-1] ^= 1 // one bit of the value, CRC unchanged
		return b.Put(key[:], rec)
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()

	logger, logs := newLogBuffer()
	c2, _ := openTestCache(t, path, Options{Logger: logger}, hooks{})
	if _, err := c2.Get(testKey(1), 0, true); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get of a damaged value: %v, want ErrNotFound", err)
	}
	mustFlush(t, c2)
	if s := mustStats(t, c2); s.Entries != 1 || s.Hits != 0 || s.Misses != 0 {
		t.Errorf("Entries, Hits, Misses = %d, %d, %d; want 1, 0, 0 (damaged entry deleted, not counted)", s.Entries, s.Hits, s.Misses)
	}
	if !strings.Contains(logs.String(), "CRC") {
		t.Errorf("no warning about the damaged entry:\n%s", logs)
	}
	mustGet(t, c2, testKey(2))
	assertConsistent(t, c2)
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func randomBytes(n int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// fillCache writes n entries to a cache at path and closes it.
func fillCache(t *testing.T, path string, n int) {
	t.Helper()
	c, err := Open(path, Options{Clock: clock.NewFake(epoch), Logger: discard})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		c.Put(testKey(i), testValue(i), 0, 0)
		if i%100 == 99 {
			mustFlush(t, c)
		}
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
}

// truncateCache writes a real cache to path and cuts it to frac of its size.
func truncateCache(t *testing.T, path string, frac float64) {
	t.Helper()
	fillCache(t, path, 2000)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, int64(float64(fi.Size())*frac)); err != nil {
		t.Fatal(err)
	}
}
