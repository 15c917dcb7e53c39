package localauth

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/detour-gateway/detour/keystore"
	"github.com/detour-gateway/detour/server"
)

func TestKeys(t *testing.T) {
	ctx := context.Background()
	store := keystore.NewMemory()
	now := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	random := make([]byte, 64)
	for i := range random {
		random[i] = byte(i)
	}
	keys := Keys{Store: store, Now: func() time.Time { return now }, Rand: bytes.NewReader(random)}

	laptop, err := keys.Add(ctx, "laptop")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(laptop, Prefix) || len(laptop) != len(Prefix)+43 {
		t.Errorf("key %q: want %s and 43 base64url characters", laptop, Prefix)
	}
	ci, err := keys.Add(ctx, "ci")
	if err != nil {
		t.Fatal(err)
	}
	if ci == laptop {
		t.Error("two keys are the same")
	}
	if _, err := keys.Add(ctx, "laptop"); !errors.Is(err, ErrExists) {
		t.Errorf("adding a taken name: %v, want ErrExists", err)
	}
	if _, err := keys.Add(ctx, "no spaces"); err == nil {
		t.Error("an invalid name was accepted")
	}
	raw, err := store.Get(ctx, Entry)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(raw, laptop) || strings.Contains(raw, ci) {
		t.Errorf("the keychain entry holds a key, not only its digest: %s", raw)
	}
	list, err := keys.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Name != "laptop" || list[1].Name != "ci" || !list[0].Created.Equal(now) || list[0].Source != "keychain" {
		t.Errorf("List = %+v", list)
	}
	if err := keys.Remove(ctx, "laptop"); err != nil {
		t.Fatal(err)
	}
	if err := keys.Remove(ctx, "laptop"); !errors.Is(err, ErrNotFound) {
		t.Errorf("removing twice: %v, want ErrNotFound", err)
	}
	if err := keys.Remove(ctx, "ci"); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Get(ctx, Entry); !errors.Is(err, keystore.ErrNotFound) {
		t.Errorf("the entry remains after the last key went: %v", err)
	}
}

func TestChecker(t *testing.T) {
	ctx := context.Background()
	store := keystore.NewMemory()
	keys := Keys{Store: store}
	empty := NewChecker(keys, Extra{Name: "$DETOUR_API_KEY", Source: "env", Value: "  "})
	if err := empty.Authenticate(ctx, "anything"); !errors.Is(err, server.ErrNoLocalKey) {
		t.Errorf("no keys at all: %v, want ErrNoLocalKey", err)
	}

	c := NewChecker(keys, Extra{Name: "$DETOUR_API_KEY", Source: "env", Value: "env-local-key-123"},
		Extra{Name: "general_settings.master_key", Source: "config", Value: "sk-1234"})
	tests := []struct {
		name, key string
		want      error
	}{
		{"environment key", "env-local-key-123", nil},
		{"master key", "sk-1234", nil},
		{"wrong", "sk-12345", server.ErrBadLocalKey},
		{"empty", "", server.ErrBadLocalKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := c.Authenticate(ctx, tt.key); !errors.Is(err, tt.want) && err != tt.want {
				t.Errorf("Authenticate(%q) = %v, want %v", tt.key, err, tt.want)
			}
		})
	}

	// A key made in another process works at once: an unknown key reads
	// the keychain again (at most every couple of seconds).
	made, err := keys.Add(ctx, "laptop")
	if err != nil {
		t.Fatal(err)
	}
	c.Forget() // the checker read the keychain a moment ago, for "wrong"
	if err := c.Authenticate(ctx, made); err != nil {
		t.Errorf("a new keychain key: %v", err)
	}
	if err := keys.Remove(ctx, "laptop"); err != nil {
		t.Fatal(err)
	}
	c.Forget()
	if err := c.Authenticate(ctx, made); !errors.Is(err, server.ErrBadLocalKey) {
		t.Errorf("a removed key: %v, want ErrBadLocalKey", err)
	}
}

// downStore is a keychain that cannot be reached.
type downStore struct{ *keystore.Memory }

func (downStore) Get(context.Context, string) (string, error) {
	return "", keystore.ErrUnavailable
}

func TestCheckerWithoutKeychain(t *testing.T) {
	c := NewChecker(Keys{Store: downStore{keystore.NewMemory()}})
	err := c.Authenticate(context.Background(), "dtr-x")
	if !errors.Is(err, server.ErrNoLocalKey) || !strings.Contains(err.Error(), "DETOUR_API_KEY") {
		t.Errorf("no keychain and no other key: %v, want ErrNoLocalKey suggesting $DETOUR_API_KEY", err)
	}
	withEnv := NewChecker(Keys{Store: downStore{keystore.NewMemory()}}, Extra{Name: "$DETOUR_API_KEY", Source: "env", Value: "env-key-abcdef"})
	if err := withEnv.Authenticate(context.Background(), "env-key-abcdef"); err != nil {
		t.Errorf("the environment's key without a keychain: %v", err)
	}
}
