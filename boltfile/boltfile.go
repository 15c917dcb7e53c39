// Package boltfile opens a bbolt file safely: it never waits forever for
// another process's lock, a truncated or damaged file cannot crash the
// process, and a file that is not usable is moved aside — kept, not
// deleted — and replaced by a fresh one, so that a broken file does not
// stop the gateway.
package boltfile

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// DefaultLockTimeout is Options.LockTimeout when it is zero or negative.
const DefaultLockTimeout = time.Second

// ErrLocked is wrapped by the error Open returns when another process (or
// another Open of the same path in this process) holds the file and did
// not let go within Options.LockTimeout. That error also wraps bbolt's
// ErrTimeout, and Options.ErrLocked if set.
var ErrLocked = errors.New("boltfile: file is locked by another process")

// Options configure Open. The zero value works: every field's zero value
// means the default given in its comment.
type Options struct {
	// Name says what the file is, in errors ("open cache <path>: …") and
	// in the warning about a file moved aside: "cache", "request log".
	// Empty means "bbolt file".
	Name string

	// LockTimeout is how long Open waits for the file lock held by another
	// process before giving up with ErrLocked. Zero or negative means
	// DefaultLockTimeout (1s); Open never waits forever.
	LockTimeout time.Duration

	// ErrLocked is the caller's own sentinel for a lock timeout: the error
	// Open returns wraps it as well, and its message says it in place of
	// boltfile.ErrLocked. Nil means boltfile.ErrLocked alone.
	ErrLocked error

	// Verify checks a file that bbolt opened and found sound, and prepares
	// it: checks the format is the caller's, creates the buckets of a new
	// file. A memory fault while it reads the file is recovered as an
	// error. An error means the file is not usable: Open moves it aside
	// and starts a fresh file, calling Verify again — unless Keep says
	// otherwise. Nil means every sound bbolt file is usable.
	Verify func(db *bolt.DB) error

	// Keep reports whether an error of Verify means the file must be left
	// as it is (a format from a newer program, say): Open then returns
	// that error, wrapped, and moves nothing. Nil means no error does.
	Keep func(err error) bool

	// Now gives the time in the name of a file moved aside. Nil means
	// time.Now.
	Now func() time.Time

	// Logger receives the warning that a file was moved aside. Nil means
	// slog.Default().
	Logger *slog.Logger

	// MovedAside, if set, is called instead of logging the warning, after
	// an unusable file at path was moved to aside and before the fresh
	// file is opened; err says what was wrong with it.
	MovedAside func(path, aside string, err error)
}

func (o Options) withDefaults() Options {
	if o.Name == "" {
		o.Name = "bbolt file"
	}
	if o.LockTimeout <= 0 {
		o.LockTimeout = DefaultLockTimeout
	}
	if o.ErrLocked == nil {
		o.ErrLocked = ErrLocked
	}
	if o.Verify == nil {
		o.Verify = func(*bolt.DB) error { return nil }
	}
	if o.Keep == nil {
		o.Keep = func(error) bool { return false }
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.MovedAside == nil {
		log, msg := o.Logger, fmt.Sprintf("%[1]s: the %[1]s file was unreadable; moved it aside and started an empty %[1]s", o.Name)
		o.MovedAside = func(path, aside string, err error) {
			log.Warn(msg, "path", path, "moved_to", aside, "err", err)
		}
	}
	return o
}

// Open opens the bbolt file at path, creating it (mode 0600) and its
// directory (mode 0700) if need be, and returns it with the name an
// unusable file there was moved to ("" if none).
//
// A file that is not usable (bbolt cannot open it, it is shorter than its
// meta page says, bbolt's consistency check fails, or Options.Verify
// refuses it) is renamed to "<path>.corrupt-<UTC time>" (with a numeric
// suffix if that exists), reported (see Options.MovedAside), and Open
// starts over with a fresh file. A file bbolt cannot open that is empty,
// not a regular file or missing is an environment problem (permissions, a
// full disk) that a fresh file would not fix: Open returns the error and
// moves nothing.
func Open(path string, o Options) (db *bolt.DB, aside string, err error) {
	o = o.withDefaults()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, "", fmt.Errorf("create %s directory: %w", o.Name, err)
	}
	db, corrupt, err := openChecked(path, o)
	if !corrupt {
		return db, "", err
	}
	aside, mvErr := moveAside(path, o.Now())
	if mvErr != nil {
		return nil, "", fmt.Errorf("open %s %s: %w; move it aside: %w", o.Name, path, err, mvErr)
	}
	o.MovedAside(path, aside, err)
	db, _, err = openChecked(path, o)
	return db, aside, err
}

// openChecked opens path with bbolt and checks it (see check and
// Options.Verify). corrupt reports that err means the file should be moved
// aside.
func openChecked(path string, o Options) (db *bolt.DB, corrupt bool, err error) {
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
		corrupt, err = true, fmt.Errorf("open %s %s: corrupt %s file: %v", o.Name, path, o.Name, r)
	}()

	db, err = bolt.Open(path, 0o600, bo)
	if errors.Is(err, bolterrors.ErrTimeout) {
		err = fmt.Errorf("open %s %s: %w (%w)", o.Name, path, o.ErrLocked, err)
		if o.ErrLocked != ErrLocked {
			err = alsoWraps{err, ErrLocked}
		}
		return nil, false, err
	}
	if err != nil {
		if !worthMovingAside(path) {
			return nil, false, fmt.Errorf("open %s %s: %w", o.Name, path, err)
		}
		return nil, true, fmt.Errorf("open %s %s: corrupt %s file: %w", o.Name, path, o.Name, err)
	}
	err = check(db, file)
	if err == nil {
		err = o.Verify(db)
	}
	if err != nil {
		_ = db.Close()
		if o.Keep(err) {
			return nil, false, fmt.Errorf("open %s %s: %w", o.Name, path, err)
		}
		return nil, true, fmt.Errorf("open %s %s: corrupt %s file: %w", o.Name, path, o.Name, err)
	}
	return db, false, nil
}

// alsoWraps is an error that wraps one more error than its message says.
type alsoWraps struct {
	error
	also error
}

func (e alsoWraps) Unwrap() []error { return []error{e.error, e.also} }

// check refuses a file that is not sound: one that does not hold every
// page its meta page counts, or fails bbolt's consistency check (tx.Check).
func check(db *bolt.DB, file *os.File) error {
	fi, err := file.Stat()
	if err != nil {
		return err
	}
	return db.View(func(tx *bolt.Tx) error {
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
func moveAside(path string, now time.Time) (string, error) {
	base := path + ".corrupt-" + now.UTC().Format("20060102T150405Z")
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
