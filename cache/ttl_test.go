package cache

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"math"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// TestTTLChangeAppliesToStoredEntries: a TTL changed by SetLimits moves the
// expiry of the entries already stored, at once. An entry's own TTL (Put's
// ttl) is kept when the TTL is raised, and cut when the TTL is lowered
// below the one it was stored under.
func TestTTLChangeAppliesToStoredEntries(t *testing.T) {
	tests := []struct {
		name      string
		ttl       time.Duration // Options.TTL at the Put
		own       time.Duration // Put's ttl
		newTTL    time.Duration // SetLimits after the Put; 0: none
		age       time.Duration
		wantFresh bool
		wantLife  time.Duration // Expires - Stored after the change
	}{
		{"lowered: older entries stop at once", time.Hour, 0, time.Minute, 2 * time.Minute, false, time.Minute},
		{"lowered: younger entries stay", time.Hour, 0, time.Minute, 30 * time.Second, true, time.Minute},
		{"raised: entries live longer", time.Minute, 0, time.Hour, 2 * time.Minute, true, time.Hour},
		{"unchanged", time.Hour, 0, 0, 59 * time.Minute, true, time.Hour},
		{"own TTL longer than the TTL is kept", time.Hour, 48 * time.Hour, 0, 2 * time.Hour, true, 48 * time.Hour},
		{"own TTL is cut by a lowered TTL", time.Hour, 48 * time.Hour, time.Minute, 2 * time.Minute, false, time.Minute},
		{"own TTL below a lowered TTL is kept", time.Hour, 10 * time.Minute, 30 * time.Minute, 20 * time.Minute, false, 10 * time.Minute},
		{"own TTL is not lengthened by a raised TTL", time.Hour, 10 * time.Minute, 24 * time.Hour, 20 * time.Minute, false, 10 * time.Minute},
		{"own TTL longer than a raised TTL is kept", time.Hour, 48 * time.Hour, 2 * time.Hour, 3 * time.Hour, true, 48 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, clk, _ := newTestCache(t, Options{TTL: tt.ttl, StaleTTL: time.Hour})
			key := testKey(1)
			c.Put(key, []byte("answer"), tt.own, 0)
			mustFlush(t, c)
			if tt.newTTL > 0 {
				c.SetLimits(tt.newTTL, 0)
			}
			clk.Advance(tt.age)

			e, err := c.Get(key, 0, false)
			if fresh := err == nil; fresh != tt.wantFresh {
				t.Fatalf("fresh after %v = %v (err %v), want %v", tt.age, fresh, err, tt.wantFresh)
			}
			if err != nil && !errors.Is(err, ErrNotFound) {
				t.Fatalf("Get: %v", err)
			}
			// Within the stale window of the new expiry: still there, stale.
			e, err = c.Get(key, 0, true)
			if err != nil {
				t.Fatalf("Get allowing stale: %v", err)
			}
			if got := e.Expires.Sub(e.Stored); got != tt.wantLife || e.Stale == tt.wantFresh {
				t.Errorf("lifetime %v, Stale %v; want %v, %v", got, e.Stale, tt.wantLife, !tt.wantFresh)
			}
		})
	}
}

// TestLoweredTTLMovesTheStaleWindow: the stale window follows the new
// expiry, so a lowered TTL also ends stale answers earlier.
func TestLoweredTTLMovesTheStaleWindow(t *testing.T) {
	c, clk, _ := newTestCache(t, Options{TTL: 24 * time.Hour, StaleTTL: time.Hour})
	key := testKey(1)
	c.Put(key, []byte("answer"), 0, 0)
	mustFlush(t, c)
	c.SetLimits(time.Minute, 0)
	clk.Advance(time.Minute + time.Hour) // past the new expiry's stale window, long before the old expiry
	if _, err := c.Get(key, 0, true); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get allowing stale an hour past the new expiry: %v, want ErrNotFound", err)
	}
}

// TestRaisedTTLKeepsEntries: the writer deletes entries past their stale
// window under the TTL in force, so an entry whose old expiry passed but
// which a raised TTL keeps fresh is indexed anew, not deleted.
func TestRaisedTTLKeepsEntries(t *testing.T) {
	c, clk, _ := newTestCache(t, Options{TTL: time.Minute, StaleTTL: -1})
	key := testKey(1)
	c.Put(key, []byte("answer"), 0, 0)
	mustFlush(t, c)
	c.SetLimits(time.Hour, 0)
	clk.Advance(2 * time.Minute)
	mustFlush(t, c) // runs the deletion of dead entries
	if e := mustGet(t, c, key); e.Stale || !e.Expires.Equal(e.Stored.Add(time.Hour)) {
		t.Errorf("Stale %v, Expires %v; want fresh until %v", e.Stale, e.Expires, e.Stored.Add(time.Hour))
	}
	assertConsistent(t, c)

	clk.Advance(time.Hour)
	mustFlush(t, c)
	if s := mustStats(t, c); s.Entries != 0 {
		t.Errorf("Entries = %d past the raised TTL without a stale window, want 0", s.Entries)
	}
	assertConsistent(t, c)
}

// encodeV1 lays r out as a version 1 record, as Detour wrote them before
// records carried their TTLs.
func encodeV1(r record) []byte {
	b := make([]byte, headerLen1+len(r.value))
	b[0] = recordVersion1
	binary.BigEndian.PutUint64(b[1:], uint64(r.stored))
	binary.BigEndian.PutUint64(b[9:], uint64(r.expires))
	binary.BigEndian.PutUint64(b[17:], uint64(r.lastAccess))
	binary.BigEndian.PutUint64(b[25:], math.Float64bits(r.saved))
	binary.BigEndian.PutUint32(b[33:], uint32(len(r.value)))
	binary.BigEndian.PutUint32(b[37:], crc32.Checksum(r.value, castagnoli))
	copy(b[headerLen1:], r.value)
	return b
}

// TestVersion1Records: a file written with version 1 records still
// serves them, with the life they were given; a lowered TTL cuts it, a
// raised one does not lengthen it; a hit rewrites the record as version 2.
func TestVersion1Records(t *testing.T) {
	tests := []struct {
		name      string
		newTTL    time.Duration // 0: none
		age       time.Duration
		wantFresh bool
	}{
		{"fresh within its life", 0, 59 * time.Minute, true},
		{"expired after its life", 0, time.Hour, false},
		{"a lowered TTL cuts it", time.Minute, 2 * time.Minute, false},
		{"a raised TTL does not lengthen it", 24 * time.Hour, 2 * time.Hour, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "cache.db")
			c, clk := openTestCache(t, path, Options{TTL: time.Hour}, hooks{})
			key := testKey(1)
			c.Put(key, []byte("answer"), 0, 0.5)
			mustFlush(t, c)
			if err := c.Close(); err != nil {
				t.Fatal(err)
			}
			rewriteAsV1(t, path, key)

			c, _ = openTestCache(t, path, Options{TTL: time.Hour, Clock: clk}, hooks{})
			if tt.newTTL > 0 {
				c.SetLimits(tt.newTTL, 0)
			}
			clk.Advance(tt.age)
			e, err := c.Get(key, 0, false)
			if fresh := err == nil; fresh != tt.wantFresh {
				t.Fatalf("fresh = %v (err %v), want %v", fresh, err, tt.wantFresh)
			}
			if err != nil {
				assertConsistent(t, c)
				return
			}
			if string(e.Value) != "answer" || e.Saved != 0.5 {
				t.Errorf("Get = %q, saved %v; want the stored answer", e.Value, e.Saved)
			}
			mustFlush(t, c) // the hit's access time rewrites the record
			if v := recordVersionOf(t, c, key); v != recordVersion {
				t.Errorf("record version %d after a hit, want %d", v, recordVersion)
			}
			if e2 := mustGet(t, c, key); !e2.Expires.Equal(e.Expires) {
				t.Errorf("Expires %v after the rewrite, want %v", e2.Expires, e.Expires)
			}
			if s := mustStats(t, c); s.Entries != 1 || s.Bytes != keyLen+6 {
				t.Errorf("Entries, Bytes = %d, %d; want 1, %d", s.Entries, s.Bytes, keyLen+6)
			}
			assertConsistent(t, c)
		})
	}
}

// rewriteAsV1 rewrites the record of key in the closed cache file at path
// as version 1, its indexes unchanged.
func rewriteAsV1(t *testing.T, path string, key [32]byte) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketEntries)
		r, err := decodeRecord(b.Get(key[:]), true)
		if err != nil {
			return err
		}
		r.value = append([]byte(nil), r.value...)
		return b.Put(key[:], encodeV1(r))
	}); err != nil {
		t.Fatal(err)
	}
}

// recordVersionOf returns the version byte of key's record.
func recordVersionOf(t *testing.T, c *Cache, key [32]byte) byte {
	t.Helper()
	var v byte
	if err := c.db.View(func(tx *bolt.Tx) error {
		raw := tx.Bucket(bucketEntries).Get(key[:])
		if len(raw) == 0 {
			return ErrNotFound
		}
		v = raw[0]
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestMode: the mode is kept, defaults to deterministic, and unknown
// values read as deterministic.
func TestMode(t *testing.T) {
	tests := []struct {
		name       string
		open, set  Mode
		want, then Mode
	}{
		{"default", "", ModeAll, ModeDeterministic, ModeAll},
		{"all, then off", ModeAll, ModeOff, ModeAll, ModeOff},
		{"off, then back", ModeOff, "", ModeOff, ModeDeterministic},
		{"unknown", "sometimes", "never", ModeDeterministic, ModeDeterministic},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _, _ := newTestCache(t, Options{Mode: tt.open})
			if got := c.Mode(); got != tt.want {
				t.Errorf("Mode() = %q after Open, want %q", got, tt.want)
			}
			c.SetMode(tt.set)
			if got := c.Mode(); got != tt.then {
				t.Errorf("Mode() = %q after SetMode(%q), want %q", got, tt.set, tt.then)
			}
		})
	}
}
