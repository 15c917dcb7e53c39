package responsestore

import (
	"errors"
	"path/filepath"
	"testing"
	"time"
)

func TestStore(t *testing.T) {
	now := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	path := filepath.Join(t.TempDir(), "responses.db")
	s, err := Open(path, Options{Keep: 3, TTL: time.Hour, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	put := func(id string) {
		t.Helper()
		if err := s.Put(Entry{ID: id, Response: []byte(`{"id":"` + id + `"}`), Conversation: []byte(`[]`)}); err != nil {
			t.Fatal(err)
		}
		now = now.Add(time.Minute)
	}
	for _, id := range []string{"resp_1", "resp_2", "resp_3", "resp_4"} {
		put(id)
	}
	if _, err := s.Get("resp_1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("the oldest of 4 with Keep 3: %v, want ErrNotFound", err)
	}
	e, err := s.Get("resp_4")
	if err != nil || string(e.Response) != `{"id":"resp_4"}` {
		t.Fatalf("Get = %+v, %v", e, err)
	}
	if err := s.Delete("resp_4"); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete("resp_4"); !errors.Is(err, ErrNotFound) {
		t.Errorf("second Delete: %v", err)
	}
	now = now.Add(2 * time.Hour)
	if _, err := s.Get("resp_3"); !errors.Is(err, ErrNotFound) {
		t.Errorf("an expired response: %v, want ErrNotFound", err)
	}
	put("resp_5") // drops the expired ones
	s.Close()

	s, err = Open(path, Options{Keep: 3, TTL: time.Hour, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Get("resp_5"); err != nil {
		t.Errorf("after reopening: %v", err)
	}
	if _, err := s.Get("resp_2"); !errors.Is(err, ErrNotFound) {
		t.Errorf("an expired response survived a Put: %v", err)
	}
}
