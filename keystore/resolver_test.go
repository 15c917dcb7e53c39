package keystore

import (
	"context"
	"errors"
	"github.com/detour-gateway/detour/clock"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var openai = Source{Keychain: "openai", Env: "OPENAI_API_KEY"}

func newFakeClock() *clock.Fake {
	return clock.NewFake(time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC))
}

// env is a fake environment for Resolver.Getenv.
type env map[string]string

func (e env) Getenv(name string) string { return e[name] }

// countingStore counts Get calls to the Store it wraps.
type countingStore struct {
	Store
	gets atomic.Int64
}

func (s *countingStore) Get(ctx context.Context, name string) (string, error) {
	s.gets.Add(1)
	return s.Store.Get(ctx, name)
}

// errStore fails every call with err.
type errStore struct{ err error }

func (s errStore) Get(context.Context, string) (string, error) { return "", s.err }
func (s errStore) Set(context.Context, string, string) error   { return s.err }
func (s errStore) Delete(context.Context, string) error        { return s.err }

func memoryWith(t *testing.T, entries map[string]string) *Memory {
	t.Helper()
	m := NewMemory()
	for name, secret := range entries {
		if err := m.Set(context.Background(), name, secret); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

func TestResolverKey(t *testing.T) {
	tests := []struct {
		name     string
		keychain map[string]string
		env      env
		src      Source
		want     string
		wantErr  string // exact message if want == ""
	}{
		{name: "keychain only", keychain: map[string]string{"openai": "sk-keychain"},
			src: openai, want: "sk-keychain"},
		{name: "env only", env: env{"OPENAI_API_KEY": "sk-env"},
			src: openai, want: "sk-env"},
		{name: "keychain wins over env", keychain: map[string]string{"openai": "sk-keychain"},
			env: env{"OPENAI_API_KEY": "sk-env"}, src: openai, want: "sk-keychain"},
		{name: "white space is trimmed", keychain: map[string]string{"openai": " sk-pasted\n"},
			src: openai, want: "sk-pasted"},
		{name: "blank keychain entry falls through to env", keychain: map[string]string{"openai": " \n"},
			env: env{"OPENAI_API_KEY": "sk-env"}, src: openai, want: "sk-env"},
		{name: "keychain not consulted without an entry name", keychain: map[string]string{"openai": "sk-keychain"},
			env: env{"OPENAI_API_KEY": "sk-env"}, src: Source{Env: "OPENAI_API_KEY"}, want: "sk-env"},
		{name: "env not consulted without a variable", env: env{"OPENAI_API_KEY": "sk-env"},
			src:     Source{Keychain: "openai"},
			wantErr: "keystore: no API key: run `detour keys set openai`"},
		{name: "missing everywhere names both ways", src: openai,
			wantErr: "keystore: no API key: run `detour keys set openai`, or set $OPENAI_API_KEY"},
		{name: "blank env var is missing", env: env{"OPENAI_API_KEY": "  "}, src: openai,
			wantErr: "keystore: no API key: run `detour keys set openai`, or set $OPENAI_API_KEY"},
		{name: "env-only source missing", src: Source{Env: "GEMINI_API_KEY"},
			wantErr: "keystore: no API key: set $GEMINI_API_KEY"},
		{name: "no source at all", src: Source{},
			wantErr: "keystore: no API key: no keychain entry or environment variable configured"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &Resolver{Store: memoryWith(t, tt.keychain), Getenv: tt.env.Getenv}
			got, err := r.Key(context.Background(), tt.src)
			if tt.want != "" {
				if err != nil || got != tt.want {
					t.Fatalf("Key = %q, %v; want %q", got, err, tt.want)
				}
				return
			}
			if !errors.Is(err, ErrNoKey) {
				t.Fatalf("Key = %q, %v; want ErrNoKey", got, err)
			}
			if errors.Is(err, ErrUnavailable) {
				t.Errorf("err %v wraps ErrUnavailable, but the keychain was reachable", err)
			}
			if err.Error() != tt.wantErr {
				t.Errorf("message\n got: %s\nwant: %s", err, tt.wantErr)
			}
		})
	}
}

func TestResolverCachesForTTL(t *testing.T) {
	ctx := context.Background()
	clk := newFakeClock()
	store := &countingStore{Store: memoryWith(t, map[string]string{"openai": "sk-old"})}
	r := &Resolver{Store: store, Getenv: env{}.Getenv, TTL: 30 * time.Second, Now: clk.Now}

	steps := []struct {
		name      string
		advance   time.Duration
		set       string // if not "", `detour keys set openai` this first
		want      string
		wantStore int64 // Store.Get calls so far
	}{
		{name: "first lookup reads the keychain", want: "sk-old", wantStore: 1},
		{name: "hot path is served from cache", advance: 10 * time.Second, want: "sk-old", wantStore: 1},
		{name: "a new key is not seen within TTL", advance: 19 * time.Second, set: "sk-new", want: "sk-old", wantStore: 1},
		{name: "a new key is seen once TTL has passed", advance: time.Second, want: "sk-new", wantStore: 2},
		{name: "and cached again", advance: 29 * time.Second, want: "sk-new", wantStore: 2},
	}
	for _, step := range steps {
		clk.Advance(step.advance)
		if step.set != "" {
			if err := store.Set(ctx, "openai", step.set); err != nil {
				t.Fatal(err)
			}
		}
		got, err := r.Key(ctx, openai)
		if err != nil || got != step.want {
			t.Fatalf("%s: Key = %q, %v; want %q", step.name, got, err, step.want)
		}
		if n := store.gets.Load(); n != step.wantStore {
			t.Fatalf("%s: %d keychain reads; want %d", step.name, n, step.wantStore)
		}
	}
}

func TestResolverDefaultTTL(t *testing.T) {
	clk := newFakeClock()
	store := &countingStore{Store: memoryWith(t, map[string]string{"openai": "sk"})}
	r := &Resolver{Store: store, Now: clk.Now}
	for _, advance := range []time.Duration{0, DefaultTTL - time.Nanosecond, time.Nanosecond} {
		clk.Advance(advance)
		if _, err := r.Key(context.Background(), openai); err != nil {
			t.Fatal(err)
		}
	}
	if n := store.gets.Load(); n != 2 {
		t.Fatalf("%d keychain reads; want 2 (one at start, one after DefaultTTL)", n)
	}
}

func TestResolverCachesEnvKeys(t *testing.T) {
	clk := newFakeClock()
	e := env{"OPENAI_API_KEY": "sk-1"}
	r := &Resolver{Getenv: e.Getenv, Now: clk.Now}
	if got, _ := r.Key(context.Background(), openai); got != "sk-1" {
		t.Fatalf("Key = %q; want sk-1", got)
	}
	e["OPENAI_API_KEY"] = "sk-2"
	if got, _ := r.Key(context.Background(), openai); got != "sk-1" {
		t.Fatalf("Key within TTL = %q; want the cached sk-1", got)
	}
	r.Forget(openai)
	if got, _ := r.Key(context.Background(), openai); got != "sk-2" {
		t.Fatalf("Key after Forget = %q; want sk-2", got)
	}
}

func TestResolverForget(t *testing.T) {
	ctx := context.Background()
	clk := newFakeClock()
	other := Source{Keychain: "anthropic"}
	store := memoryWith(t, map[string]string{"openai": "sk-revoked", "anthropic": "sk-ant"})
	r := &Resolver{Store: store, Now: clk.Now}
	for _, src := range []Source{openai, other} {
		if _, err := r.Key(ctx, src); err != nil {
			t.Fatal(err)
		}
	}

	// The provider said 401; the user sets a fresh key; Detour forgets the old one.
	for name, secret := range map[string]string{"openai": "sk-fresh", "anthropic": "sk-ant-2"} {
		if err := store.Set(ctx, name, secret); err != nil {
			t.Fatal(err)
		}
	}
	r.Forget(openai)

	tests := []struct {
		src  Source
		want string
	}{
		{openai, "sk-fresh"}, // re-read at once, no TTL wait
		{other, "sk-ant"},    // other sources keep their cache
	}
	for _, tt := range tests {
		if got, err := r.Key(ctx, tt.src); err != nil || got != tt.want {
			t.Errorf("Key(%s) = %q, %v; want %q", tt.src, got, err, tt.want)
		}
	}
	r.Forget(Source{Keychain: "never-looked-up"}) // no-op, no panic
}

func TestResolverDoesNotCacheMisses(t *testing.T) {
	ctx := context.Background()
	store := NewMemory()
	r := &Resolver{Store: store, Now: newFakeClock().Now}
	if _, err := r.Key(ctx, openai); !errors.Is(err, ErrNoKey) {
		t.Fatalf("err = %v; want ErrNoKey", err)
	}
	if err := store.Set(ctx, "openai", "sk-now"); err != nil {
		t.Fatal(err)
	}
	if got, err := r.Key(ctx, openai); err != nil || got != "sk-now" {
		t.Fatalf("Key after `keys set` = %q, %v; want sk-now at once", got, err)
	}
}

func TestResolverKeychainUnavailable(t *testing.T) {
	down := errStore{err: &unavailableError{op: "get", name: "openai",
		cause: errors.New("The name org.freedesktop.secrets was not provided by any .service files")}}
	tests := []struct {
		name    string
		store   Store
		env     env
		src     Source
		want    string
		wantErr string
	}{
		{name: "falls back to env", store: down,
			env: env{"OPENAI_API_KEY": "sk-env"}, src: openai, want: "sk-env"},
		{name: "hung keychain falls back to env",
			store: Keyring{Timeout: 10 * time.Millisecond, backend: hangingBackend(t)},
			env:   env{"OPENAI_API_KEY": "sk-env"}, src: openai, want: "sk-env"},
		{name: "nil Store means env only",
			env: env{"OPENAI_API_KEY": "sk-env"}, src: openai, want: "sk-env"},
		{name: "neither: says the keychain was unreachable", store: down, src: openai,
			wantErr: "keystore: no API key: the OS keychain is unreachable " +
				"(The name org.freedesktop.secrets was not provided by any .service files) " +
				"and $OPENAI_API_KEY is not set: unlock your keyring and run `detour keys set openai`, " +
				"or set $OPENAI_API_KEY"},
		{name: "hung keychain, no env", src: openai,
			store: Keyring{Timeout: 10 * time.Millisecond, backend: hangingBackend(t)},
			wantErr: "keystore: no API key: the OS keychain is unreachable (no answer within 10ms) " +
				"and $OPENAI_API_KEY is not set: unlock your keyring and run `detour keys set openai`, " +
				"or set $OPENAI_API_KEY"},
		{name: "keychain-only source", store: down, src: Source{Keychain: "openai"},
			wantErr: "keystore: no API key: the OS keychain is unreachable " +
				"(The name org.freedesktop.secrets was not provided by any .service files): " +
				"unlock your keyring, or give the key through the environment with api_key: os.environ/VAR"},
		{name: "a foreign Store's error is reported as is", store: errStore{err: errors.New("vault sealed")},
			src: openai,
			wantErr: "keystore: no API key: the OS keychain is unreachable (vault sealed) " +
				"and $OPENAI_API_KEY is not set: unlock your keyring and run `detour keys set openai`, " +
				"or set $OPENAI_API_KEY"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &Resolver{Store: tt.store, Getenv: tt.env.Getenv}
			got, err := r.Key(context.Background(), tt.src)
			if tt.want != "" {
				if err != nil || got != tt.want {
					t.Fatalf("Key = %q, %v; want %q", got, err, tt.want)
				}
				return
			}
			if !errors.Is(err, ErrNoKey) || !errors.Is(err, ErrUnavailable) {
				t.Fatalf("err = %v; want it to wrap both ErrNoKey and ErrUnavailable", err)
			}
			if err.Error() != tt.wantErr {
				t.Errorf("message\n got: %s\nwant: %s", err, tt.wantErr)
			}
		})
	}
}

// TestResolverSkipsAnUnavailableKeychainForTTL: a hung keychain costs one
// timeout per TTL, not one per request.
func TestResolverSkipsAnUnavailableKeychainForTTL(t *testing.T) {
	ctx := context.Background()
	clk := newFakeClock()
	store := &countingStore{Store: errStore{err: ErrUnavailable}}
	r := &Resolver{Store: store, Now: clk.Now, TTL: time.Minute}

	for i := range 3 {
		if _, err := r.Key(ctx, openai); !errors.Is(err, ErrUnavailable) {
			t.Fatalf("lookup %d: err = %v; want ErrUnavailable", i, err)
		}
		// Another source, same keychain: also skipped.
		if _, err := r.Key(ctx, Source{Keychain: "anthropic"}); !errors.Is(err, ErrUnavailable) {
			t.Fatalf("lookup %d: err = %v; want ErrUnavailable", i, err)
		}
	}
	if n := store.gets.Load(); n != 1 {
		t.Fatalf("%d keychain calls within TTL; want 1", n)
	}

	// The user unlocks the keyring; after TTL it is asked again.
	store.Store = memoryWith(t, map[string]string{"openai": "sk-unlocked"})
	clk.Advance(time.Minute)
	if got, err := r.Key(ctx, openai); err != nil || got != "sk-unlocked" {
		t.Fatalf("Key after TTL = %q, %v; want sk-unlocked", got, err)
	}
	if n := store.gets.Load(); n != 2 {
		t.Fatalf("%d keychain calls; want 2", n)
	}
}

// blockingStore's Get waits until release is closed, after signalling on
// started, then reads from the Store it wraps.
type blockingStore struct {
	*countingStore
	started chan struct{}
	release chan struct{}
}

func (s blockingStore) Get(ctx context.Context, name string) (string, error) {
	s.started <- struct{}{}
	<-s.release
	return s.countingStore.Get(ctx, name)
}

// TestResolverConcurrent is meant for -race: many callers, one keychain
// read. With the clock standing still every caller either joins the
// in-flight lookup or hits the cache it filled.
func TestResolverConcurrent(t *testing.T) {
	store := blockingStore{
		countingStore: &countingStore{Store: memoryWith(t, map[string]string{"openai": "sk"})},
		started:       make(chan struct{}, 20),
		release:       make(chan struct{}),
	}
	r := &Resolver{Store: store, Now: newFakeClock().Now}

	const callers = 20
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for range callers {
		wg.Go(func() {
			got, err := r.Key(context.Background(), openai)
			if err == nil && got != "sk" {
				err = errors.New("wrong key: " + got)
			}
			errs <- err
		})
	}
	<-store.started
	close(store.release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := store.gets.Load(); n != 1 {
		t.Fatalf("%d keychain reads for %d concurrent callers; want 1", n, callers)
	}
}

// TestResolverCallerGivesUp: a caller whose ctx ends stops waiting with its
// ctx error; the lookup goes on and serves the next caller.
func TestResolverCallerGivesUp(t *testing.T) {
	store := blockingStore{
		countingStore: &countingStore{Store: memoryWith(t, map[string]string{"openai": "sk"})},
		started:       make(chan struct{}, 1),
		release:       make(chan struct{}),
	}
	r := &Resolver{Store: store, Now: newFakeClock().Now}

	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-store.started
		cancel()
	}()
	_, err := r.Key(ctx, openai)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v; want context.Canceled", err)
	}
	if !strings.Contains(err.Error(), `keychain entry "openai"`) {
		t.Errorf("error %q does not say what was being looked up", err)
	}

	close(store.release)
	if got, err := r.Key(context.Background(), openai); err != nil || got != "sk" {
		t.Fatalf("next Key = %q, %v; want sk", got, err)
	}
	if n := store.gets.Load(); n != 1 {
		t.Fatalf("%d keychain reads; want 1 (the abandoned lookup served the next caller)", n)
	}

	done, cancelDone := context.WithCancel(context.Background())
	cancelDone()
	if _, err := r.Key(done, Source{Env: "UNSET"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Key with a done ctx: err = %v; want context.Canceled", err)
	}
}

func TestSourceString(t *testing.T) {
	tests := []struct {
		src  Source
		want string
	}{
		{openai, `keychain entry "openai", then $OPENAI_API_KEY`},
		{Source{Keychain: "openai"}, `keychain entry "openai"`},
		{Source{Env: "OPENAI_API_KEY"}, `$OPENAI_API_KEY`},
		{Source{}, `no key source`},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.src.String(); got != tt.want {
				t.Errorf("String() = %q; want %q", got, tt.want)
			}
		})
	}
}

// TestResolverErrorsNeverContainTheKey: a key found nowhere cannot leak,
// but a key set in a variable other than the one asked for must not either.
func TestResolverErrorsNeverContainTheKey(t *testing.T) {
	const secret = "sk-live-should-never-appear"
	r := &Resolver{
		Store:  errStore{err: errors.New("dbus: connection refused")},
		Getenv: env{"OTHER_KEY": secret}.Getenv,
	}
	_, err := r.Key(context.Background(), openai)
	if err == nil || strings.Contains(err.Error(), secret) {
		t.Fatalf("err = %v", err)
	}
}
