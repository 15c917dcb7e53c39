// Package keystore keeps provider API keys out of config files: in the OS
// keychain (the Secret Service on Linux, Keychain on macOS, Credential
// Manager on Windows, all through github.com/zalando/go-keyring), with the
// environment as a fallback and an in-memory store for tests and for users
// without a keychain.
//
// The rest of Detour sees two things: [Store], the small get/set/delete
// interface that `detour keys …` writes through, and [Resolver], which the
// request path asks for a provider's key and which looks in the keychain
// first, then the environment, and caches what it finds for a short while.
//
// No error from this package ever contains a secret.
package keystore

import (
	"context"
	"errors"
	"regexp"
)

// Service is the keychain service name under which Detour keeps its keys.
// An entry is addressed by (Service, name), name being e.g. "openai".
const Service = "detour"

var (
	// ErrNotFound is returned (wrapped) when the store has no entry of that name.
	ErrNotFound = errors.New("keystore: no such key")

	// ErrUnavailable is returned (wrapped) when the OS keychain cannot be
	// used at all: no Secret Service on the session bus, a locked keyring,
	// a keychain that did not answer within the timeout, an unsupported
	// platform. The wrapping error says what the user can do about it.
	ErrUnavailable = errors.New("keystore: keychain unavailable")

	// ErrNoKey is returned (wrapped) by [Resolver.Key] when neither the
	// keychain nor the environment holds a key for a [Source]. The wrapping
	// error names both ways of giving one.
	ErrNoKey = errors.New("keystore: no API key")
)

// Store is where Detour reads and writes API keys. Entries are addressed by
// a short name such as "openai". Implementations are safe for concurrent use
// and honour ctx. Get and Delete of a missing entry return an error wrapping
// [ErrNotFound]; a keychain that cannot be reached gives one wrapping
// [ErrUnavailable].
type Store interface {
	// Get returns the secret stored under name.
	Get(ctx context.Context, name string) (string, error)
	// Set stores secret under name, replacing any earlier one.
	Set(ctx context.Context, name, secret string) error
	// Delete removes the entry name.
	Delete(ctx context.Context, name string) error
}

// Compile-time checks that both stores satisfy Store.
var (
	_ Store = Keyring{}
	_ Store = (*Memory)(nil)
)

// errEmptyName and errEmptySecret reject input no keychain should hold.
var (
	errEmptyName   = errors.New("empty key name")
	errEmptySecret = errors.New("empty secret")
)

// validName is what a key may be called: a letter or digit, then up to 63
// letters, digits, '.', '_' or '-'. Never modified.
var validName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// ValidName reports whether name may name a key.
func ValidName(name string) bool { return validName.MatchString(name) }
