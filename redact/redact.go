// Package redact removes known secret values from text that leaves the
// process: error bodies, log lines, the request log. Patterns catch what
// looks like a key; a Secrets set catches every key Detour actually used,
// whatever its length or shape (an Azure key is 32 plain hex digits, which
// no pattern can tell from a request id).
package redact

import (
	"bytes"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// MinLen is the shortest value a Secrets set accepts, in bytes: shorter
// values would redact ordinary words and numbers, and are no secret worth
// the name.
const MinLen = 8

// Placeholder replaces each secret value.
const Placeholder = "[redacted]"

// Secrets is a set of secret values to remove from text. The zero value
// is empty and ready to use; a Secrets is safe for concurrent use and must
// not be copied after first use.
//
// Adding is rare (once per distinct key) and redacting is frequent, so the
// replacer is rebuilt on Add and read without a lock.
type Secrets struct {
	mu     sync.Mutex // serialises Add
	values []string   // sorted, longest first; guarded by mu
	r      atomic.Pointer[replacer]
}

type replacer struct {
	*strings.Replacer
	values []string
	raw    [][]byte // values as bytes, for Bytes
}

// Add remembers value as a secret. Values shorter than MinLen and values
// already known are ignored; surrounding white space is not part of the
// value.
func (s *Secrets) Add(value string) {
	value = strings.TrimSpace(value)
	if len(value) < MinLen {
		return
	}
	if r := s.r.Load(); r != nil && slices.Contains(r.values, value) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if slices.Contains(s.values, value) {
		return
	}
	values := append(slices.Clone(s.values), strings.Clone(value))
	// Longest first, so a key containing another key is removed whole.
	slices.SortFunc(values, func(a, b string) int { return len(b) - len(a) })
	pairs := make([]string, 0, 2*len(values))
	for _, v := range values {
		pairs = append(pairs, v, Placeholder)
	}
	raw := make([][]byte, len(values))
	for i, v := range values {
		raw[i] = []byte(v)
	}
	s.values = values
	s.r.Store(&replacer{Replacer: strings.NewReplacer(pairs...), values: values, raw: raw})
}

// Len reports how many secrets the set holds; 0 for a nil Secrets.
func (s *Secrets) Len() int {
	if s == nil {
		return 0
	}
	if r := s.r.Load(); r != nil {
		return len(r.values)
	}
	return 0
}

// String returns text with every secret replaced by Placeholder. A nil
// Secrets redacts nothing.
func (s *Secrets) String(text string) string {
	if s == nil {
		return text
	}
	r := s.r.Load()
	if r == nil || text == "" {
		return text
	}
	return r.Replace(text)
}

// Bytes is String for a byte slice. It returns b itself when it holds no
// secret.
func (s *Secrets) Bytes(b []byte) []byte {
	if s == nil {
		return b
	}
	r := s.r.Load()
	if r == nil || len(b) == 0 || !r.contains(b) {
		return b
	}
	return []byte(r.Replace(string(b)))
}

// contains reports whether b holds any of the secrets.
func (r *replacer) contains(b []byte) bool {
	for _, v := range r.raw {
		if bytes.Contains(b, v) {
			return true
		}
	}
	return false
}
