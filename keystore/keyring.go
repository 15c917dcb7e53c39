package keystore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/zalando/go-keyring"
)

// DefaultTimeout bounds one keychain call when [Keyring.Timeout] is zero.
const DefaultTimeout = 3 * time.Second

// Keyring is a [Store] over the OS keychain (github.com/zalando/go-keyring).
// The zero value uses service [Service] and [DefaultTimeout].
//
// go-keyring takes no context and a locked or hung Secret Service can block
// it indefinitely (an unlock prompt nobody answers), so every call runs in
// its own goroutine and Keyring stops waiting after Timeout or when ctx is
// done. A call given up on keeps running in the background until the
// keychain answers: a Set that timed out may still land later.
//
// Errors: a missing entry wraps [ErrNotFound]; a timeout or any other
// keychain failure wraps [ErrUnavailable] and tells the user what to do;
// a done ctx wraps ctx.Err(). No error contains the secret.
type Keyring struct {
	// Service is the keychain service name. If empty, [Service] is used.
	Service string

	// Timeout bounds each call. If zero or negative, [DefaultTimeout].
	Timeout time.Duration

	// backend is the blocking keychain; nil means go-keyring's package
	// functions. Tests put a fake here to simulate a hung keychain without
	// touching go-keyring's global provider.
	backend backend
}

// backend is the blocking part of go-keyring that Keyring uses.
type backend interface {
	Get(service, user string) (string, error)
	Set(service, user, password string) error
	Delete(service, user string) error
}

// goKeyring is the real backend: go-keyring's package-level functions,
// which use the platform's keychain (or whatever keyring.MockInit installed).
type goKeyring struct{}

func (goKeyring) Get(service, user string) (string, error) {
	return keyring.Get(service, user)
}

func (goKeyring) Set(service, user, password string) error {
	return keyring.Set(service, user, password)
}

func (goKeyring) Delete(service, user string) error {
	return keyring.Delete(service, user)
}

// Get returns the secret stored under name.
func (k Keyring) Get(ctx context.Context, name string) (string, error) {
	return k.call(ctx, "get", name, "", func(b backend, service string) (string, error) {
		return b.Get(service, name)
	})
}

// Set stores secret under name, replacing any earlier one. An empty secret
// is refused: delete the entry instead.
func (k Keyring) Set(ctx context.Context, name, secret string) error {
	if secret == "" && name != "" { // an empty name is reported by call
		return fmt.Errorf("keychain set %q: %w", name, errEmptySecret)
	}
	_, err := k.call(ctx, "set", name, secret, func(b backend, service string) (string, error) {
		return "", b.Set(service, name, secret)
	})
	return err
}

// Delete removes the entry name. Deleting a missing entry returns an error
// wrapping [ErrNotFound].
func (k Keyring) Delete(ctx context.Context, name string) error {
	_, err := k.call(ctx, "delete", name, "", func(b backend, service string) (string, error) {
		return "", b.Delete(service, name)
	})
	return err
}

// keychain returns the backend to call: k.backend, or go-keyring.
func (k Keyring) keychain() backend {
	if k.backend == nil {
		return goKeyring{}
	}
	return k.backend
}

// result carries one backend call's outcome out of its goroutine.
type result struct {
	value string
	err   error
}

// call runs fn against the backend in a goroutine and waits for it at most
// Timeout and until ctx is done, then maps the outcome to this package's
// errors. secret (may be empty) is scrubbed from any error text.
func (k Keyring) call(ctx context.Context, op, name, secret string, fn func(backend, string) (string, error)) (string, error) {
	if name == "" {
		return "", fmt.Errorf("keychain %s: %w", op, errEmptyName)
	}
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("keychain %s %q: %w", op, name, err)
	}
	b := k.keychain()
	service := k.Service
	if service == "" {
		service = Service
	}
	timeout := k.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}

	// Buffered, so the goroutine can finish and be collected even after
	// nobody waits for it any more.
	done := make(chan result, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- result{err: fmt.Errorf("keychain library panicked: %v", p)}
			}
		}()
		v, err := fn(b, service)
		done <- result{value: v, err: err}
	}()

	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case r := <-done:
		switch {
		case r.err == nil:
			return r.value, nil
		case errors.Is(r.err, keyring.ErrNotFound):
			return "", fmt.Errorf("keychain %s %q: %w", op, name, ErrNotFound)
		case errors.Is(r.err, keyring.ErrSetDataTooBig):
			// The keychain works; the input is what is wrong.
			return "", fmt.Errorf("keychain %s %q: secret too large for the OS keychain: %w", op, name, keyring.ErrSetDataTooBig)
		default:
			return "", &unavailableError{op: op, name: name, cause: scrub(r.err, secret)}
		}
	case <-timer.C:
		return "", &unavailableError{op: op, name: name, cause: fmt.Errorf("no answer within %v", timeout)}
	case <-ctx.Done():
		return "", fmt.Errorf("keychain %s %q: %w", op, name, ctx.Err())
	}
}

// unavailableError is a keychain that could not be used. It matches
// [ErrUnavailable] with errors.Is and unwraps to its cause too.
type unavailableError struct {
	op, name string
	cause    error
}

func (e *unavailableError) Error() string {
	return fmt.Sprintf("keychain %s %q: no OS keychain reachable (%v): unlock your keyring, "+
		"or give the key through the environment with api_key: os.environ/VAR", e.op, e.name, e.cause)
}

func (e *unavailableError) Unwrap() []error { return []error{ErrUnavailable, e.cause} }

// scrub returns err, or a stand-in without its text if that text contains
// secret: an error from a foreign library must not carry a key into a log.
func scrub(err error, secret string) error {
	if secret != "" && strings.Contains(err.Error(), secret) {
		return errors.New("keychain error withheld: its text contained the secret")
	}
	return err
}
