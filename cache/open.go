package cache

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
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
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create cache directory: %w", err)
	}
	db, st, err := openChecked(path, o)
	if errors.Is(err, errCorrupt) {
		aside, mvErr := moveAside(path, o)
		if mvErr != nil {
			return nil, fmt.Errorf("open cache %s: %w; move it aside: %w", path, err, mvErr)
		}
		o.Logger.Warn("cache: the cache file was unreadable; moved it aside and started an empty cache",
			"path", path, "moved_to", aside, "err", err)
		db, st, err = openChecked(path, o)
	}
	if err != nil {
		return nil, err
	}
	return newCache(db, o, st, h), nil
}

// openChecked opens path with bbolt and checks it (see verify). An error
// wrapping errCorrupt means the file should be moved aside.
func openChecked(path string, o Options) (db *bolt.DB, st persisted, err error) {
	// bbolt reads the file through a memory map: a truncated file faults
	// (SIGBUS) when bbolt touches a page past its end, which would kill the
	// process. Make such a fault a panic of this goroutine, and recover.
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))

	var file *os.File // the file bbolt opened, to close it if bbolt panics
	bo := &bolt.Options{
		// A second Detour gets ErrTimeout after this, never waits forever.
		Timeout: o.LockTimeout,
		// NoSync and NoFreelistSync stay false, bbolt's defaults: every
		// commit is fsynced, so a crash or power cut loses at most the
		// batch being written, never the file. Setting NoSync would make
		// writes faster and the file corruptible — THIS WOULD BE UNSAFE.
		NoSync:         false,
		NoFreelistSync: false,
		OpenFile: func(name string, flag int, perm os.FileMode) (*os.File, error) {
			f, err := os.OpenFile(name, flag, perm)
			file = f
			return f, err
		},
	}
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		// The memory map of a DB that panicked inside bbolt.Open cannot be
		// unmapped from here; it leaks, once, on this rare path. The file
		// is closed, which releases its lock.
		if db != nil {
			closeAfterPanic(db)
		} else if file != nil {
			_ = file.Close()
		}
		db = nil
		if f, ok := r.(interface{ Addr() uintptr }); ok {
			r = fmt.Sprintf("memory fault at %#x reading the file: truncated or damaged", f.Addr())
		}
		err = fmt.Errorf("open cache %s: %w: %v", path, errCorrupt, r)
	}()

	db, err = bolt.Open(path, 0o600, bo)
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, st, fmt.Errorf("open cache %s: %w (%w)", path, ErrLocked, err)
	}
	if err != nil {
		if !worthMovingAside(path) {
			return nil, st, fmt.Errorf("open cache %s: %w", path, err)
		}
		return nil, st, fmt.Errorf("open cache %s: %w: %w", path, errCorrupt, err)
	}
	st, err = verify(db, file)
	if err != nil {
		_ = db.Close()
		return nil, st, fmt.Errorf("open cache %s: %w: %w", path, errCorrupt, err)
	}
	return db, st, nil
}

// closeAfterPanic closes db, which may panic again on a broken file.
func closeAfterPanic(db *bolt.DB) {
	defer func() { _ = recover() }()
	_ = db.Close()
}

// worthMovingAside reports whether a file bbolt failed to open should be
// moved aside: a regular file with something in it. An empty file, a
// directory or a missing one is an environment problem (permissions, a
// full disk) that a fresh file would not fix.
func worthMovingAside(path string) bool {
	fi, err := os.Lstat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Size() > 0
}

// moveAside renames path to "<path>.corrupt-<UTC time>" (with a numeric
// suffix if that exists) and returns the new name.
func moveAside(path string, o Options) (string, error) {
	base := path + ".corrupt-" + o.Clock.Now().UTC().Format("20060102T150405Z")
	aside := base
	for i := 1; ; i++ {
		if _, err := os.Lstat(aside); errors.Is(err, os.ErrNotExist) {
			break
		}
		aside = base + "." + strconv.Itoa(i)
	}
	if err := os.Rename(path, aside); err != nil {
		return "", err
	}
	return aside, nil
}

// persisted is what the meta bucket holds.
type persisted struct {
	bytes, entries          int64
	hits, misses, staleHits int64
	savedUSD                float64
}

// verify checks an open DB and prepares it: the file holds every page its
// meta page counts, bbolt's consistency check (tx.Check) passes, the
// buckets are this format's. It creates the buckets of a new file and
// returns the meta bucket's values.
func verify(db *bolt.DB, file *os.File) (persisted, error) {
	var st persisted
	fi, err := file.Stat()
	if err != nil {
		return st, err
	}
	err = db.View(func(tx *bolt.Tx) error {
		// Pages past the end of a truncated file fault when read; tx.Check
		// reads them on a goroutine of its own, where a fault cannot be
		// recovered. So refuse a short file before checking.
		if tx.Size() > fi.Size() {
			return fmt.Errorf("file is %d bytes, its meta page says %d: truncated", fi.Size(), tx.Size())
		}
		var first error
		for err := range tx.Check() { // drain: Check's goroutine sends every error
			if first == nil {
				first = err
			}
		}
		if first != nil {
			return fmt.Errorf("consistency check: %w", first)
		}
		return nil
	})
	if err != nil {
		return st, err
	}
	err = db.Update(func(tx *bolt.Tx) error {
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
