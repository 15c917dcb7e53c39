package keystore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"
)

// DefaultTTL is how long [Resolver] caches a found key when its TTL is zero.
const DefaultTTL = time.Minute

// Source says where one provider's API key may be found: first the keychain
// entry, then the environment variable. Source is comparable and is the
// [Resolver]'s cache key.
type Source struct {
	// Keychain is the name of the entry in the [Store], e.g. "openai".
	// If empty, the keychain is not consulted.
	Keychain string

	// Env is the name of an environment variable, e.g. "OPENAI_API_KEY".
	// If empty, the environment is not consulted.
	Env string
}

// String describes where the key is looked for, e.g.
// `keychain entry "openai", then $OPENAI_API_KEY`. It never contains a secret.
func (s Source) String() string {
	switch {
	case s.Keychain != "" && s.Env != "":
		return fmt.Sprintf("keychain entry %q, then $%s", s.Keychain, s.Env)
	case s.Keychain != "":
		return fmt.Sprintf("keychain entry %q", s.Keychain)
	case s.Env != "":
		return "$" + s.Env
	default:
		return "no key source"
	}
}

// Resolver finds a provider's API key for the request path: in the keychain
// first, then in the environment. A found key is cached for TTL, so a hot
// request path does not reach the keychain (D-Bus) every time, and a key
// changed with `detour keys set` while serving is picked up within TTL.
// Misses are not cached. Concurrent lookups of the same Source share one
// keychain call.
//
// When the keychain is unavailable ([ErrUnavailable]) the Resolver uses the
// environment, and for TTL does not ask the keychain again, so a hung
// keychain costs one timeout per TTL rather than one per request.
//
// The zero value looks in the environment only. A Resolver is safe for
// concurrent use and must not be copied after first use.
type Resolver struct {
	// Store is the keychain. If nil, only the environment is consulted.
	Store Store

	// Getenv reads an environment variable. If nil, os.Getenv.
	Getenv func(string) string

	// TTL is how long a found key is cached. If zero or negative, [DefaultTTL].
	TTL time.Duration

	// Now returns the current time. If nil, time.Now. Tests inject a clock.
	Now func() time.Time

	// Found, if not nil, is called with each key found, before any caller
	// gets it: Detour gives it to its redactor, so a key is removed by
	// value from anything that leaves the process.
	Found func(key string)

	mu       sync.Mutex
	cache    map[Source]cachedKey
	inflight map[Source]*lookup
	// downUntil and downErr remember an unavailable keychain: until then
	// lookups skip it and report downErr as the reason.
	downUntil time.Time
	downErr   error
}

// cachedKey is a found key and when it stops being trusted.
type cachedKey struct {
	key     string
	expires time.Time
}

// lookup is one keychain-and-environment search that callers wait on.
type lookup struct {
	done chan struct{} // closed when key and err are set
	key  string
	err  error
}

// Key returns the API key for src: the keychain entry src.Keychain if it
// exists and is not blank, else the environment variable src.Env. Leading
// and trailing white space is trimmed (a key pasted with a newline still
// works); a blank value counts as missing.
//
// If neither has a key the error wraps [ErrNoKey] and names both ways of
// giving one; if the keychain was unreachable too, it also wraps
// [ErrUnavailable] and says so. If ctx is done first, the error wraps
// ctx.Err(). No error contains a secret.
func (r *Resolver) Key(ctx context.Context, src Source) (string, error) {
	if src.Keychain == "" && src.Env == "" {
		return "", fmt.Errorf("%w: no keychain entry or environment variable configured", ErrNoKey)
	}
	r.mu.Lock()
	if c, ok := r.cache[src]; ok && r.now().Before(c.expires) {
		r.mu.Unlock()
		return c.key, nil
	}
	l, ok := r.inflight[src]
	if !ok {
		if err := ctx.Err(); err != nil {
			r.mu.Unlock()
			return "", fmt.Errorf("keystore: look up API key (%s): %w", src, err)
		}
		l = &lookup{done: make(chan struct{})}
		if r.inflight == nil {
			r.inflight = make(map[Source]*lookup)
		}
		r.inflight[src] = l
		// The search outlives a caller that gives up, so the others
		// waiting on it are not failed by that caller's ctx; the Store's
		// own timeout (Keyring.Timeout) bounds it.
		go r.search(context.WithoutCancel(ctx), src, l)
	}
	r.mu.Unlock()

	select {
	case <-l.done:
		return l.key, l.err
	case <-ctx.Done():
		return "", fmt.Errorf("keystore: look up API key (%s): %w", src, ctx.Err())
	}
}

// Forget drops the cached key for src, so the next [Resolver.Key] reads the
// keychain and environment again. Call it when a provider rejects the key.
func (r *Resolver) Forget(src Source) {
	r.mu.Lock()
	delete(r.cache, src)
	r.mu.Unlock()
}

// search looks src up and publishes the outcome to l's waiters.
func (r *Resolver) search(ctx context.Context, src Source, l *lookup) {
	key, err := r.find(ctx, src)
	if err == nil && r.Found != nil {
		r.Found(key)
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	if err == nil {
		if r.cache == nil {
			r.cache = make(map[Source]cachedKey)
		}
		r.cache[src] = cachedKey{key: key, expires: r.now().Add(r.ttl())}
	}
	delete(r.inflight, src)
	l.key, l.err = key, err
	close(l.done)
}

// find does the lookup proper: keychain, then environment.
func (r *Resolver) find(ctx context.Context, src Source) (string, error) {
	// keychainErr is why the keychain could not be asked; nil if it was
	// asked and simply had no such entry, or was not to be asked.
	var keychainErr error
	if src.Keychain != "" {
		key, err := r.fromKeychain(ctx, src.Keychain)
		if err == nil && key != "" {
			return key, nil
		}
		keychainErr = err
	}
	if src.Env != "" {
		if key := strings.TrimSpace(r.getenv(src.Env)); key != "" {
			return key, nil
		}
	}
	return "", noKeyError(src, keychainErr)
}

// fromKeychain reads entry name from the Store. It returns "" and nil if
// the keychain has no such (or a blank) entry, and an error if it could not
// be asked.
func (r *Resolver) fromKeychain(ctx context.Context, name string) (string, error) {
	if r.Store == nil {
		return "", errNoStore
	}
	r.mu.Lock()
	down, downErr := r.now().Before(r.downUntil), r.downErr
	r.mu.Unlock()
	if down {
		return "", downErr
	}

	key, err := r.Store.Get(ctx, name)
	switch {
	case err == nil:
		return strings.TrimSpace(key), nil
	case errors.Is(err, ErrNotFound):
		return "", nil
	default:
		// Any other failure: treat the keychain as unavailable for a TTL,
		// and fall back to the environment meanwhile.
		r.mu.Lock()
		r.downUntil, r.downErr = r.now().Add(r.ttl()), err
		r.mu.Unlock()
		return "", err
	}
}

// errNoStore stands for a Resolver without a keychain.
var errNoStore = errors.New("no keychain configured")

// noKeyError builds the error for a key found nowhere. keychainErr is why
// the keychain could not be asked, or nil.
func noKeyError(src Source, keychainErr error) error {
	setKey := fmt.Sprintf("run `detour keys set %s`", src.Keychain)
	setEnv := fmt.Sprintf("set $%s", src.Env)

	var msg string
	switch {
	case keychainErr == nil && src.Keychain != "" && src.Env != "":
		msg = setKey + ", or " + setEnv
	case keychainErr == nil && src.Keychain != "":
		msg = setKey
	case keychainErr == nil:
		msg = setEnv
	case src.Env != "":
		msg = fmt.Sprintf("the OS keychain is unreachable (%s) and $%s is not set: unlock your keyring and %s, or %s",
			unavailableCause(keychainErr), src.Env, setKey, setEnv)
	default:
		msg = fmt.Sprintf("the OS keychain is unreachable (%s): unlock your keyring, "+
			"or give the key through the environment with api_key: os.environ/VAR", unavailableCause(keychainErr))
	}
	wrapped := []error{ErrNoKey}
	if keychainErr != nil {
		wrapped = append(wrapped, ErrUnavailable, keychainErr)
	}
	return &noKeyErr{msg: ErrNoKey.Error() + ": " + msg, wrapped: wrapped}
}

// unavailableCause is the short reason a keychain could not be asked: the
// root cause of a [Keyring] error, else the error's own text.
func unavailableCause(err error) string {
	var ue *unavailableError
	if errors.As(err, &ue) {
		return ue.cause.Error()
	}
	return err.Error()
}

// noKeyErr carries its own message and wraps [ErrNoKey] and, when the
// keychain was unreachable, [ErrUnavailable] and the keychain's error.
type noKeyErr struct {
	msg     string
	wrapped []error
}

func (e *noKeyErr) Error() string   { return e.msg }
func (e *noKeyErr) Unwrap() []error { return e.wrapped }

func (r *Resolver) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Resolver) ttl() time.Duration {
	if r.TTL > 0 {
		return r.TTL
	}
	return DefaultTTL
}

func (r *Resolver) getenv(name string) string {
	if r.Getenv != nil {
		return r.Getenv(name)
	}
	return os.Getenv(name)
}
