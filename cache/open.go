package cache

import (
	"errors"
	"fmt"
	"math"

	"github.com/detour-gateway/detour/boltfile"
	bolt "go.etcd.io/bbolt"
)

// Open opens the cache file at path, creating it (mode 0600) and its
// directory (mode 0700) if need be, and starts the background writer.
//
// Only one process can have the file open. If another holds it, Open waits
// up to Options.LockTimeout and then returns an error wrapping ErrLocked:
// it never hangs. bbolt locks with flock, which is per open file, so a
// second Open of the same path in the same process is refused the same way.
//
// A file that is not a usable cache (bbolt cannot open it, it is truncated,
// bbolt's consistency check fails, or its buckets are not this format's) is
// renamed to "<path>.corrupt-<UTC time>", a warning names the new path, and
// Open starts over with an empty cache. A cache is only a cache: losing it
// must not stop the gateway.
func Open(path string, o Options) (*Cache, error) {
	return open(path, o, hooks{})
}

// hooks let tests watch the writer. The zero value does nothing.
type hooks struct {
	// evictTx is called after each eviction transaction commits, with the
	// number of keys it deleted.
	evictTx func(deleted int)
}

func open(path string, o Options, h hooks) (*Cache, error) {
	o = o.withDefaults()
	var st persisted
	db, _, err := boltfile.Open(path, boltfile.Options{
		Name:        "cache",
		LockTimeout: o.LockTimeout,
		ErrLocked:   ErrLocked,
		Verify: func(db *bolt.DB) (err error) {
			st, err = verify(db)
			return err
		},
		Now:    o.Clock.Now,
		Logger: o.Logger,
	})
	if err != nil {
		return nil, err
	}
	return newCache(db, o, st, h), nil
}

// persisted is what the meta bucket holds.
type persisted struct {
	bytes, entries          int64
	hits, misses, staleHits int64
	savedUSD                float64
}

// verify checks the format of a DB that boltfile found sound and prepares
// it: the buckets are this format's. It creates the buckets of a new file
// and returns the meta bucket's values.
func verify(db *bolt.DB) (persisted, error) {
	var st persisted
	err := db.Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if meta == nil {
			// A new file, or not one of ours: only an empty file is made ours.
			if c := tx.Cursor(); func() bool { k, _ := c.First(); return k != nil }() {
				return errors.New("file has buckets but no meta bucket: not a Detour cache")
			}
			var err error
			if meta, err = tx.CreateBucket(bucketMeta); err != nil {
				return err
			}
			if err := meta.Put(metaVersion, putUint64(formatVersion)); err != nil {
				return err
			}
		}
		if v, err := readUint64(meta.Get(metaVersion)); err != nil || v != formatVersion {
			return fmt.Errorf("cache format version %d (%v), want %d", v, err, formatVersion)
		}
		for _, name := range [][]byte{bucketEntries, bucketLRU, bucketExpiry} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		for _, f := range []struct {
			key []byte
			dst *int64
		}{
			{metaBytes, &st.bytes}, {metaEntries, &st.entries}, {metaHits, &st.hits},
			{metaMisses, &st.misses}, {metaStaleHits, &st.staleHits},
		} {
			v, err := readUint64(meta.Get(f.key))
			if err != nil {
				return fmt.Errorf("meta %s: %w", f.key, err)
			}
			*f.dst = int64(v)
		}
		v, err := readUint64(meta.Get(metaSavedUSD))
		if err != nil {
			return fmt.Errorf("meta %s: %w", metaSavedUSD, err)
		}
		st.savedUSD = math.Float64frombits(v)
		if st.bytes < 0 || st.entries < 0 || math.IsNaN(st.savedUSD) {
			return fmt.Errorf("meta totals out of range: bytes %d, entries %d, saved %v", st.bytes, st.entries, st.savedUSD)
		}
		return nil
	})
	return st, err
}
