// Package localauth keeps Detour's own API keys: the local keys a client
// must present when local auth is on. Only their SHA-256 digests are kept,
// in one OS keychain entry, so neither the keychain entry nor Detour's
// memory holds a key that could be replayed; a new key is shown once, when
// it is made.
package localauth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/detour-gateway/detour/keystore"
	"github.com/detour-gateway/detour/server"
)

// Entry is the keychain entry holding the local keys' names and digests.
const Entry = "detour-local-keys"

// Prefix starts every key Add makes, so a leaked one is recognisable.
const Prefix = "dtr-"

// Sentinel errors.
var (
	// ErrExists: Add of a name already taken.
	ErrExists = errors.New("a local key of that name exists")
	// ErrNotFound: Remove of a name that does not exist.
	ErrNotFound = errors.New("no local key of that name")
)

// Key describes one local key; never its value.
type Key struct {
	// Name is what the user called it, e.g. "laptop" or "ci".
	Name string `json:"name"`
	// Created is when it was made; zero for keys not in the keychain.
	Created time.Time `json:"created,omitzero"`
	// Source is "keychain", "env" ($DETOUR_API_KEY) or "config"
	// (general_settings.master_key).
	Source string `json:"source"`
}

// stored is one keychain record.
type stored struct {
	Name    string    `json:"name"`
	SHA256  string    `json:"sha256"`
	Created time.Time `json:"created"`
}

// Keys are the local keys in the keychain. The zero value is not usable:
// Store is required.
type Keys struct {
	// Store is the keychain.
	Store keystore.Store
	// Now returns the time; nil means time.Now.
	Now func() time.Time
	// Rand is the source of new keys; nil means crypto/rand.
	Rand io.Reader
}

// load reads the records; none when the entry does not exist.
func (k Keys) load(ctx context.Context) ([]stored, error) {
	raw, err := k.Store.Get(ctx, Entry)
	if errors.Is(err, keystore.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the local keys: %w", err)
	}
	var recs []stored
	if err := json.Unmarshal([]byte(raw), &recs); err != nil {
		return nil, fmt.Errorf("read the local keys: keychain entry %q is not Detour's: %w", Entry, err)
	}
	return recs, nil
}

func (k Keys) save(ctx context.Context, recs []stored) error {
	if len(recs) == 0 {
		err := k.Store.Delete(ctx, Entry)
		if errors.Is(err, keystore.ErrNotFound) {
			return nil
		}
		return err
	}
	b, err := json.Marshal(recs)
	if err != nil {
		return err
	}
	return k.Store.Set(ctx, Entry, string(b))
}

// List returns the local keys in the keychain, oldest first.
func (k Keys) List(ctx context.Context) ([]Key, error) {
	recs, err := k.load(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Key, len(recs))
	for i, r := range recs {
		out[i] = Key{Name: r.Name, Created: r.Created, Source: "keychain"}
	}
	return out, nil
}

// Add makes a new local key called name, keeps its digest, and returns
// the key: the only time it is ever seen.
func (k Keys) Add(ctx context.Context, name string) (string, error) {
	if !keystore.ValidName(name) {
		return "", fmt.Errorf("invalid local key name %q: use letters, digits, '.', '_' or '-'", name)
	}
	recs, err := k.load(ctx)
	if err != nil {
		return "", err
	}
	if slices.ContainsFunc(recs, func(r stored) bool { return r.Name == name }) {
		return "", fmt.Errorf("%w: %q", ErrExists, name)
	}
	rnd := k.Rand
	if rnd == nil {
		rnd = rand.Reader
	}
	var b [32]byte
	if _, err := io.ReadFull(rnd, b[:]); err != nil {
		return "", fmt.Errorf("make a local key: %w", err)
	}
	key := Prefix + base64.RawURLEncoding.EncodeToString(b[:])
	now := time.Now
	if k.Now != nil {
		now = k.Now
	}
	recs = append(recs, stored{Name: name, SHA256: digestHex(key), Created: now().UTC().Truncate(time.Second)})
	if err := k.save(ctx, recs); err != nil {
		return "", fmt.Errorf("store the local key: %w", err)
	}
	return key, nil
}

// Remove deletes the local key called name; clients using it are refused
// from then on.
func (k Keys) Remove(ctx context.Context, name string) error {
	recs, err := k.load(ctx)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(recs, func(r stored) bool { return r.Name == name })
	if i < 0 {
		return fmt.Errorf("%w: %q", ErrNotFound, name)
	}
	if err := k.save(ctx, slices.Delete(recs, i, i+1)); err != nil {
		return fmt.Errorf("remove the local key: %w", err)
	}
	return nil
}

func digestHex(key string) string {
	d := sha256.Sum256([]byte(key))
	return hex.EncodeToString(d[:])
}

// DefaultRefresh is how long a Checker trusts the digests it read from
// the keychain: 30 s, so a key removed with `detour keys local rm` in
// another process stops working within that.
const DefaultRefresh = 30 * time.Second

// retryUnknown is how soon after a refresh an unknown key may cause
// another, so a key just made in another process works at once while a
// client sending wrong keys cannot hammer the keychain.
const retryUnknown = 2 * time.Second

// Checker is a server.Authenticator over Keys and any extra keys (the
// environment's $DETOUR_API_KEY, a config's master_key). It is safe for
// concurrent use.
type Checker struct {
	keys  Keys
	extra []Key
	// extraDigests are the digests of the extra keys, in extra's order.
	extraDigests [][32]byte
	refresh      time.Duration

	mu       sync.Mutex
	loadedAt time.Time
	known    map[[32]byte]string // keychain digests → names
	loadErr  error
}

// Extra is a local key that is not in the keychain.
type Extra struct {
	// Name and Source describe it, e.g. "DETOUR_API_KEY" and "env".
	Name, Source string
	// Value is the key.
	Value string
}

// NewChecker returns a Checker of the keys in keys' keychain entry and
// the extra ones. Blank extra values are skipped.
func NewChecker(keys Keys, extra ...Extra) *Checker {
	c := &Checker{keys: keys, refresh: DefaultRefresh}
	for _, e := range extra {
		if v := strings.TrimSpace(e.Value); v != "" {
			c.extra = append(c.extra, Key{Name: e.Name, Source: e.Source})
			c.extraDigests = append(c.extraDigests, sha256.Sum256([]byte(v)))
		}
	}
	return c
}

// Authenticate implements server.Authenticator.
func (c *Checker) Authenticate(ctx context.Context, key string) error {
	d := sha256.Sum256([]byte(key))
	for _, e := range c.extraDigests {
		if subtle.ConstantTimeCompare(d[:], e[:]) == 1 {
			return nil
		}
	}
	digests, err := c.digests(ctx, false)
	if _, ok := digests[d]; ok {
		return nil
	}
	if digests, err = c.digests(ctx, true); err == nil {
		if _, ok := digests[d]; ok {
			return nil
		}
	}
	if len(digests) == 0 && len(c.extra) == 0 {
		if err != nil {
			return fmt.Errorf("%w (the keychain could not be read: %v; set $DETOUR_API_KEY instead)", server.ErrNoLocalKey, err)
		}
		return server.ErrNoLocalKey
	}
	return server.ErrBadLocalKey
}

// digests returns the keychain's digests, read again when they are older
// than the refresh interval or, with unknown, older than retryUnknown.
func (c *Checker) digests(ctx context.Context, unknown bool) (map[[32]byte]string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	age := time.Since(c.loadedAt)
	if c.known != nil && (age < c.refresh && !unknown || unknown && age < retryUnknown) {
		return c.known, c.loadErr
	}
	cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	recs, err := c.keys.load(cctx)
	c.loadedAt, c.loadErr = time.Now(), err
	if err != nil && c.known != nil {
		return c.known, err // keep what worked until the keychain answers again
	}
	m := make(map[[32]byte]string, len(recs))
	for _, r := range recs {
		var d [32]byte
		if b, herr := hex.DecodeString(r.SHA256); herr == nil && len(b) == len(d) {
			copy(d[:], b)
			m[d] = r.Name
		}
	}
	c.known = m
	return m, err
}

// Forget makes the next check read the keychain again: after a key was
// added or removed in this process.
func (c *Checker) Forget() {
	c.mu.Lock()
	c.loadedAt = time.Time{}
	c.mu.Unlock()
}
