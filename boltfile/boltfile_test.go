package boltfile

import (
	"bytes"
	"errors"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// epoch is the time of the fake clock: files move aside to
// "<path>.corrupt-20250607T080910Z".
var epoch = time.Date(2025, 6, 7, 8, 9, 10, 0, time.UTC)

func now() time.Time { return epoch }

// openTest opens path with o and closes the DB when the test ends.
func openTest(t *testing.T, path string, o Options) (*bolt.DB, string) {
	t.Helper()
	db, aside, err := Open(path, o)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return db, aside
}

// TestOpenLocked opens a file held by another Open: bbolt's flock is per
// open file, so the second Open gives up after LockTimeout with an error
// wrapping ErrLocked, the caller's sentinel and bbolt's ErrTimeout, and
// moves nothing.
func TestOpenLocked(t *testing.T) {
	errMine := errors.New("thing: file is locked")
	for _, tt := range []struct {
		name      string
		errLocked error
		wantIn    string // in the message
	}{
		{"boltfile's sentinel", nil, ErrLocked.Error()},
		{"the caller's sentinel", errMine, errMine.Error()},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "thing.db")
			openTest(t, path, Options{})
			errc := make(chan error, 1)
			go func() {
				db, _, err := Open(path, Options{Name: "thing", LockTimeout: 50 * time.Millisecond, ErrLocked: tt.errLocked})
				if err == nil {
					db.Close()
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
			if tt.errLocked != nil && !errors.Is(err, tt.errLocked) {
				t.Errorf("second Open: %v; want an error wrapping the caller's sentinel too", err)
			}
			if msg := err.Error(); !strings.HasPrefix(msg, "open thing "+path+": ") || !strings.Contains(msg, tt.wantIn) {
				t.Errorf("second Open: %q; want it to name the file and say %q", msg, tt.wantIn)
			}
			if tt.errLocked != nil && strings.Contains(err.Error(), ErrLocked.Error()) {
				t.Errorf("second Open: %q; want the caller's sentinel in place of boltfile's", err)
			}
			if aside, _ := filepath.Glob(path + ".corrupt-*"); len(aside) != 0 {
				t.Errorf("a locked file was moved aside: %v", aside)
			}
		})
	}
}

// TestOpenCorrupt puts unusable files at path: each is moved aside, intact,
// a warning names where, Open returns that name, and the fresh file is
// verified and works.
func TestOpenCorrupt(t *testing.T) {
	errNotMine := errors.New("not my format")
	tests := []struct {
		name   string
		write  func(t *testing.T, path string)
		verify func(db *bolt.DB) error
	}{
		{"random bytes", func(t *testing.T, path string) {
			writeFile(t, path, randomBytes(64<<10))
		}, nil},
		{"short random bytes", func(t *testing.T, path string) {
			writeFile(t, path, randomBytes(100))
		}, nil},
		{"truncated, half", func(t *testing.T, path string) {
			truncated(t, path, 0.5)
		}, nil},
		{"truncated, to a few pages", func(t *testing.T, path string) {
			truncated(t, path, 0.05)
		}, nil},
		{"refused by Verify", func(t *testing.T, path string) {
			filled(t, path, 10)
		}, func(db *bolt.DB) error {
			return db.View(func(tx *bolt.Tx) error {
				if tx.Bucket([]byte("data")) != nil {
					return errNotMine
				}
				return nil
			})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "thing.db")
			tt.write(t, path)
			broken, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var logs bytes.Buffer
			verified := 0
			db, aside := openTest(t, path, Options{
				Name:   "thing",
				Logger: slog.New(slog.NewTextHandler(&logs, nil)),
				Now:    now,
				Verify: func(db *bolt.DB) error {
					verified++
					if tt.verify != nil {
						return tt.verify(db)
					}
					return nil
				},
			})

			if want := path + ".corrupt-20250607T080910Z"; aside != want {
				t.Fatalf("Open moved the file to %q, want %q", aside, want)
			}
			moved, err := os.ReadFile(aside)
			if err != nil {
				t.Fatalf("the broken file is not at %s: %v", aside, err)
			}
			if !bytes.Equal(moved, broken) {
				t.Errorf("the file moved aside differs from the broken one")
			}
			if log := logs.String(); !strings.Contains(log, "level=WARN") || !strings.Contains(log, "thing file") ||
				!strings.Contains(log, "moved_to="+aside) {
				t.Errorf("log does not warn about the thing file with the new path %s:\n%s", aside, log)
			}
			if tt.verify != nil && !strings.Contains(logs.String(), errNotMine.Error()) {
				t.Errorf("log does not say what Verify found:\n%s", logs.String())
			}
			if verified == 0 {
				t.Errorf("Verify not called on the fresh file")
			}
			if err := db.Update(func(tx *bolt.Tx) error {
				_, err := tx.CreateBucket([]byte("fresh"))
				return err
			}); err != nil {
				t.Errorf("the fresh file does not write: %v", err)
			}
		})
	}
}

// TestOpenKeep checks that a Verify error Keep claims is returned, wrapped,
// and the file is left where it is.
func TestOpenKeep(t *testing.T) {
	path := filepath.Join(t.TempDir(), "thing.db")
	filled(t, path, 10)
	errNewer := errors.New("from a newer program")
	_, aside, err := Open(path, Options{
		Name:       "thing",
		Verify:     func(*bolt.DB) error { return errNewer },
		Keep:       func(err error) bool { return errors.Is(err, errNewer) },
		MovedAside: func(path, aside string, err error) { t.Errorf("moved %s aside to %s: %v", path, aside, err) },
	})
	if !errors.Is(err, errNewer) || aside != "" {
		t.Fatalf("Open = %q, %v; want no move and an error wrapping %v", aside, err, errNewer)
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("file moved: %v", err)
	}
	if moved, _ := filepath.Glob(path + ".corrupt-*"); len(moved) != 0 {
		t.Errorf("moved aside: %v", moved)
	}
	// The file is closed: a second Open does not wait for its lock.
	openTest(t, path, Options{LockTimeout: 50 * time.Millisecond})
}

// TestOpenMovedAsideHook checks that MovedAside, when set, is told of the
// move instead of the log.
func TestOpenMovedAsideHook(t *testing.T) {
	path := filepath.Join(t.TempDir(), "thing.db")
	writeFile(t, path, randomBytes(8192))
	var logs bytes.Buffer
	var gotPath, gotAside string
	var gotErr error
	_, aside := openTest(t, path, Options{
		Name:   "thing",
		Now:    now,
		Logger: slog.New(slog.NewTextHandler(&logs, nil)),
		MovedAside: func(path, aside string, err error) {
			gotPath, gotAside, gotErr = path, aside, err
		},
	})
	if gotPath != path || gotAside != aside || aside == "" || gotErr == nil {
		t.Errorf("MovedAside(%q, %q, %v); Open moved the file to %q", gotPath, gotAside, gotErr, aside)
	}
	if logs.Len() != 0 {
		t.Errorf("logged despite MovedAside:\n%s", logs.String())
	}
}

// TestOpenCorruptTwice checks that a second broken file does not overwrite
// the first one moved aside in the same second.
func TestOpenCorruptTwice(t *testing.T) {
	path := filepath.Join(t.TempDir(), "thing.db")
	var asides []string
	for i := range 2 {
		writeFile(t, path, randomBytes(8192))
		db, aside, err := Open(path, Options{Now: now, MovedAside: func(string, string, error) {}})
		if err != nil {
			t.Fatalf("Open #%d: %v", i, err)
		}
		db.Close()
		asides = append(asides, aside)
	}
	base := path + ".corrupt-20250607T080910Z"
	if asides[0] != base || asides[1] != base+".1" {
		t.Errorf("files moved to %q, want %q and %q", asides, base, base+".1")
	}
}

// TestOpenUnusablePath checks that Open reports an environment problem
// instead of moving things aside.
func TestOpenUnusablePath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "thing.db")
	if err := os.Mkdir(path, 0o700); err != nil { // a directory where the file should be
		t.Fatal(err)
	}
	if _, _, err := Open(path, Options{MovedAside: func(string, string, error) {}}); err == nil {
		t.Fatal("Open of a directory succeeded")
	}
	if aside, _ := filepath.Glob(path + ".corrupt-*"); len(aside) != 0 {
		t.Errorf("moved aside: %v", aside)
	}
}

// TestOpenCreatesDirectory checks that Open makes the missing directories
// of path, private to the user.
func TestOpenCreatesDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	openTest(t, filepath.Join(dir, "thing.db"), Options{})
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		t.Errorf("directory mode %v, want no access for others", perm)
	}
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

// filled writes a bbolt file at path with n KiB of values in bucket "data".
func filled(t *testing.T, path string, n int) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket([]byte("data"))
		if err != nil {
			return err
		}
		for i := range n {
			if err := b.Put([]byte{byte(i >> 8), byte(i)}, randomBytes(1024)); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

// truncated writes a bbolt file at path and cuts it to frac of its size.
func truncated(t *testing.T, path string, frac float64) {
	t.Helper()
	filled(t, path, 2000)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, int64(float64(fi.Size())*frac)); err != nil {
		t.Fatal(err)
	}
}
