package keystore

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// testStoreContract checks the behaviour every Store promises, through the
// Store alone. name must not exist in s yet; it is deleted afterwards.
// The Secret Service test runs it against the real keychain too.
func testStoreContract(t *testing.T, s Store, name string) {
	t.Helper()
	ctx := context.Background()
	t.Cleanup(func() { _ = s.Delete(context.Background(), name) })

	steps := []struct {
		name string
		run  func() error
	}{
		{"get missing is ErrNotFound", func() error {
			_, err := s.Get(ctx, name)
			return wantIs(err, ErrNotFound)
		}},
		{"delete missing is ErrNotFound", func() error {
			return wantIs(s.Delete(ctx, name), ErrNotFound)
		}},
		{"set then get", func() error {
			if err := s.Set(ctx, name, "sk-first"); err != nil {
				return err
			}
			return wantGet(ctx, s, name, "sk-first")
		}},
		{"set overwrites", func() error {
			if err := s.Set(ctx, name, "sk-second"); err != nil {
				return err
			}
			return wantGet(ctx, s, name, "sk-second")
		}},
		{"empty secret is refused and keeps the old one", func() error {
			if err := s.Set(ctx, name, ""); err == nil {
				return errors.New("Set with empty secret: got nil error")
			}
			return wantGet(ctx, s, name, "sk-second")
		}},
		{"delete then get is ErrNotFound", func() error {
			if err := s.Delete(ctx, name); err != nil {
				return err
			}
			_, err := s.Get(ctx, name)
			return wantIs(err, ErrNotFound)
		}},
		{"empty name is refused", func() error {
			_, err := s.Get(ctx, "")
			if err == nil || errors.Is(err, ErrNotFound) {
				return errors.New("Get(\"\") should fail, and not as ErrNotFound: got " + errString(err))
			}
			return nil
		}},
		{"done context is refused", func() error {
			cctx, cancel := context.WithCancel(ctx)
			cancel()
			_, err := s.Get(cctx, name)
			return wantIs(err, context.Canceled)
		}},
	}
	// The steps build on each other, so they run in order and stop at the
	// first failure.
	for _, step := range steps {
		if err := step.run(); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
	}
}

func wantGet(ctx context.Context, s Store, name, want string) error {
	got, err := s.Get(ctx, name)
	if err != nil {
		return err
	}
	if got != want {
		return errors.New("Get returned the wrong secret")
	}
	return nil
}

func wantIs(err, target error) error {
	if !errors.Is(err, target) {
		return errors.New("want an error wrapping " + target.Error() + ", got " + errString(err))
	}
	return nil
}

func errString(err error) string {
	if err == nil {
		return "nil"
	}
	return err.Error()
}

func TestStoreContract(t *testing.T) {
	tests := []struct {
		name  string
		store Store
	}{
		{"NewMemory", NewMemory()},
		{"zero Memory", &Memory{}},
		{"Keyring over a fake backend", Keyring{backend: newFakeBackend()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			testStoreContract(t, tt.store, "contract")
		})
	}
}

func TestMemoryKeepsEntriesApart(t *testing.T) {
	ctx := context.Background()
	m := NewMemory()
	for _, name := range []string{"openai", "anthropic"} {
		if err := m.Set(ctx, name, "sk-"+name); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.Delete(ctx, "openai"); err != nil {
		t.Fatal(err)
	}
	if got, err := m.Get(ctx, "anthropic"); err != nil || got != "sk-anthropic" {
		t.Fatalf("Get(anthropic) = %q, %v; want sk-anthropic", got, err)
	}
	if _, err := m.Get(ctx, "openai"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get(openai) after Delete: %v; want ErrNotFound", err)
	}
}

func TestMemoryErrorsNameTheEntry(t *testing.T) {
	_, err := NewMemory().Get(context.Background(), "openai")
	if err == nil || !strings.Contains(err.Error(), `"openai"`) {
		t.Fatalf("error %q should name the entry", errString(err))
	}
}

// TestMemoryConcurrent is meant for -race: readers and writers at once.
func TestMemoryConcurrent(t *testing.T) {
	ctx := context.Background()
	var m Memory
	done := make(chan struct{})
	for i := range 8 {
		go func() {
			defer func() { done <- struct{}{} }()
			for range 100 {
				if i%2 == 0 {
					_ = m.Set(ctx, "k", "v")
				} else {
					_, _ = m.Get(ctx, "k")
				}
			}
		}()
	}
	for range 8 {
		<-done
	}
	if got, err := m.Get(ctx, "k"); err != nil || got != "v" {
		t.Fatalf("Get = %q, %v; want v", got, err)
	}
}
