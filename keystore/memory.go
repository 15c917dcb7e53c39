package keystore

import (
	"context"
	"fmt"
	"sync"
)

// Memory is a [Store] that keeps keys in process memory, for tests and for
// users without an OS keychain (keys are lost when the process exits). It is
// safe for concurrent use. The zero value is an empty, ready-to-use store;
// a Memory must not be copied after first use.
type Memory struct {
	mu   sync.RWMutex
	keys map[string]string // nil until the first Set
}

// NewMemory returns an empty Memory.
func NewMemory() *Memory { return &Memory{} }

// Get returns the secret stored under name, or an error wrapping
// [ErrNotFound].
func (m *Memory) Get(ctx context.Context, name string) (string, error) {
	if err := checkMemoryCall(ctx, "get", name); err != nil {
		return "", err
	}
	m.mu.RLock()
	secret, ok := m.keys[name]
	m.mu.RUnlock()
	if !ok {
		return "", fmt.Errorf("memory get %q: %w", name, ErrNotFound)
	}
	return secret, nil
}

// Set stores secret under name, replacing any earlier one. An empty secret
// is refused: delete the entry instead.
func (m *Memory) Set(ctx context.Context, name, secret string) error {
	if err := checkMemoryCall(ctx, "set", name); err != nil {
		return err
	}
	if secret == "" {
		return fmt.Errorf("memory set %q: %w", name, errEmptySecret)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.keys == nil {
		m.keys = make(map[string]string)
	}
	m.keys[name] = secret
	return nil
}

// Delete removes the entry name, or returns an error wrapping [ErrNotFound]
// if there is none (as the OS keychain does).
func (m *Memory) Delete(ctx context.Context, name string) error {
	if err := checkMemoryCall(ctx, "delete", name); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.keys[name]; !ok {
		return fmt.Errorf("memory delete %q: %w", name, ErrNotFound)
	}
	delete(m.keys, name)
	return nil
}

// checkMemoryCall refuses a call on a done context or with an empty name.
func checkMemoryCall(ctx context.Context, op, name string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memory %s %q: %w", op, name, err)
	}
	if name == "" {
		return fmt.Errorf("memory %s: %w", op, errEmptyName)
	}
	return nil
}
