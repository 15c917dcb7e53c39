package requestlog

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "requests.db")
	l, err := Open(path, Options{Keep: 3})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		l.Add(Record{ID: fmt.Sprint("r", i), Group: "g", Status: 200, Attempts: []Attempt{{Deployment: "d", Reason: "least-busy"}}})
	}
	if err := l.Flush(); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Get("r1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("r1 kept beyond the bound: %v", err)
	}
	r, err := l.Get("r4")
	if err != nil || r.Attempts[0].Reason != "least-busy" {
		t.Fatalf("r4 = %+v, %v", r, err)
	}
	recent, err := l.Recent(10)
	if err != nil || len(recent) != 3 || recent[0].ID != "r4" || recent[2].ID != "r2" {
		t.Errorf("recent = %+v, %v; want r4, r3, r2", recent, err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l, err = Open(path, Options{Keep: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if _, err := l.Get("r3"); err != nil {
		t.Errorf("r3 lost across a restart: %v", err)
	}
}

// TestLogSeesUnwrittenRecords: a record is readable the moment it is
// added, before the batch holding it is committed, and once only after.
func TestLogSeesUnwrittenRecords(t *testing.T) {
	l, err := Open(filepath.Join(t.TempDir(), "requests.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	l.Add(Record{ID: "a", Status: 200})
	l.Add(Record{ID: "b", Status: 502})
	check := func(when string) {
		t.Helper()
		recent, err := l.Recent(10)
		if err != nil || len(recent) != 2 || recent[0].ID != "b" || recent[1].ID != "a" {
			t.Errorf("%s: recent = %+v, %v; want b, a", when, recent, err)
		}
		if r, err := l.Get("b"); err != nil || r.Status != 502 {
			t.Errorf("%s: Get(b) = %+v, %v", when, r, err)
		}
	}
	check("before the commit")
	if err := l.Flush(); err != nil {
		t.Fatal(err)
	}
	check("after the commit")
	if n := len(l.pendingRecords()); n != 0 {
		t.Errorf("%d records still pending after the commit", n)
	}
}

// TestLogCorruptFile puts random bytes where the log lives: the file is
// moved aside, intact, a warning names where, and a fresh log works.
func TestLogCorruptFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "requests.db")
	r := rand.New(rand.NewPCG(1, 2))
	broken := make([]byte, 64<<10)
	for i := range broken {
		broken[i] = byte(r.Uint32())
	}
	if err := os.WriteFile(path, broken, 0o600); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	l, err := Open(path, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatalf("Open over a corrupt file: %v", err)
	}
	defer l.Close()

	aside, _ := filepath.Glob(path + ".corrupt-*")
	if len(aside) != 1 {
		t.Fatalf("files moved aside: %v, want 1", aside)
	}
	if moved, err := os.ReadFile(aside[0]); err != nil || !bytes.Equal(moved, broken) {
		t.Errorf("the file moved aside differs from the broken one (%v)", err)
	}
	if log := logs.String(); !strings.Contains(log, "level=WARN") || !strings.Contains(log, "moved_to="+aside[0]) {
		t.Errorf("log does not warn with the new path %s:\n%s", aside[0], log)
	}
	l.Add(Record{ID: "r1", Group: "g", Status: 200})
	if err := l.Flush(); err != nil {
		t.Fatal(err)
	}
	if got, err := l.Get("r1"); err != nil || got.Group != "g" {
		t.Errorf("Get(r1) = %+v, %v", got, err)
	}
}

// TestLogLocked opens the log twice: the second Open gives up with
// ErrLocked and leaves the file alone.
func TestLogLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "requests.db")
	l, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if l2, err := Open(path, Options{}); !errors.Is(err, ErrLocked) {
		if err == nil {
			l2.Close()
		}
		t.Fatalf("second Open = %v, want ErrLocked", err)
	}
	if aside, _ := filepath.Glob(path + ".corrupt-*"); len(aside) != 0 {
		t.Errorf("a locked file was moved aside: %v", aside)
	}
}
