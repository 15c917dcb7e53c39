package keystore

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"
)

// TestSecretService runs Keyring against a real Secret Service (on CI:
// gnome-keyring under dbus-run-session). It writes and removes one entry
// with a unique name under service "detour".
//
// Run it with:
//
//	bash .ci/keyring-test.sh
//
// or, in a session whose keyring is unlocked:
//
//	DETOUR_TEST_SECRET_SERVICE=1 go test -count=1 -run SecretService -v ./keystore/
func TestSecretService(t *testing.T) {
	if os.Getenv("DETOUR_TEST_SECRET_SERVICE") != "1" {
		t.Skip("needs a real Secret Service: run `bash .ci/keyring-test.sh` " +
			"(or set DETOUR_TEST_SECRET_SERVICE=1 in a session with an unlocked keyring)")
	}
	name := fmt.Sprintf("detour-test-%d-%d", os.Getpid(), time.Now().UnixNano())

	t.Run("store contract", func(t *testing.T) {
		testStoreContract(t, Keyring{}, name)
	})

	t.Run("resolver reads the keychain", func(t *testing.T) {
		ctx := context.Background()
		k := Keyring{}
		if err := k.Set(ctx, name, "sk-from-secret-service\n"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = k.Delete(context.Background(), name) })

		r := &Resolver{Store: k, Getenv: func(string) string { return "sk-from-env" }}
		got, err := r.Key(ctx, Source{Keychain: name, Env: "DETOUR_TEST_UNUSED"})
		if err != nil || got != "sk-from-secret-service" {
			t.Fatalf("Key = %q, %v; want the keychain's key, trimmed", got, err)
		}
	})
}
