package requestlog

import (
	"errors"
	"fmt"
	"path/filepath"
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
