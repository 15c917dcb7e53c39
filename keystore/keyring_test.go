package keystore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zalando/go-keyring"
)

// fakeBackend behaves like go-keyring over an in-memory map, and can be told
// to fail every call with err or to hang until the test ends.
type fakeBackend struct {
	mu       sync.Mutex
	entries  map[[2]string]string // {service, user} -> secret
	err      error                // if set, every call returns it
	hang     chan struct{}        // if set, every call blocks until it is closed
	started  chan struct{}        // if set, receives once per call before it hangs
	services []string             // service names seen, in order
}

func newFakeBackend() *fakeBackend {
	return &fakeBackend{entries: make(map[[2]string]string)}
}

// hangingBackend returns a backend whose calls never answer while the test
// runs (they are released at cleanup so no goroutine outlives the test).
func hangingBackend(t *testing.T) *fakeBackend {
	b := newFakeBackend()
	b.hang = make(chan struct{})
	b.started = make(chan struct{}, 16)
	t.Cleanup(func() { close(b.hang) })
	return b
}

func (b *fakeBackend) enter(service string) error {
	b.mu.Lock()
	b.services = append(b.services, service)
	hang, started, err := b.hang, b.started, b.err
	b.mu.Unlock()
	if started != nil {
		started <- struct{}{}
	}
	if hang != nil {
		<-hang
	}
	return err
}

func (b *fakeBackend) Get(service, user string) (string, error) {
	if err := b.enter(service); err != nil {
		return "", err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	v, ok := b.entries[[2]string{service, user}]
	if !ok {
		return "", keyring.ErrNotFound
	}
	return v, nil
}

func (b *fakeBackend) Set(service, user, password string) error {
	if err := b.enter(service); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.entries[[2]string{service, user}] = password
	return nil
}

func (b *fakeBackend) Delete(service, user string) error {
	if err := b.enter(service); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	k := [2]string{service, user}
	if _, ok := b.entries[k]; !ok {
		return keyring.ErrNotFound
	}
	delete(b.entries, k)
	return nil
}

// keyringOps runs each Store method once, for tests that expect every
// method to fail the same way.
var keyringOps = []struct {
	name string
	call func(ctx context.Context, k Keyring) error
}{
	{"get", func(ctx context.Context, k Keyring) error { _, err := k.Get(ctx, "openai"); return err }},
	{"set", func(ctx context.Context, k Keyring) error { return k.Set(ctx, "openai", "sk-secret-value") }},
	{"delete", func(ctx context.Context, k Keyring) error { return k.Delete(ctx, "openai") }},
}

func TestKeyringMapsBackendErrors(t *testing.T) {
	tests := []struct {
		name            string
		backendErr      error
		wantIs          error
		wantUnavailable bool
	}{
		{"not found", keyring.ErrNotFound, ErrNotFound, false},
		{"no secret service on the bus",
			errors.New("The name org.freedesktop.secrets was not provided by any .service files"),
			ErrUnavailable, true},
		{"unsupported platform", keyring.ErrUnsupportedPlatform, ErrUnavailable, true},
		{"prompt dismissed", errors.New("failed to unlock correct collection"), ErrUnavailable, true},
		{"too big is not unavailability", keyring.ErrSetDataTooBig, keyring.ErrSetDataTooBig, false},
	}
	for _, tt := range tests {
		for _, op := range keyringOps {
			t.Run(tt.name+"/"+op.name, func(t *testing.T) {
				b := newFakeBackend()
				b.err = tt.backendErr
				err := op.call(context.Background(), Keyring{backend: b})
				if !errors.Is(err, tt.wantIs) {
					t.Fatalf("err = %v; want it to wrap %v", err, tt.wantIs)
				}
				if got := errors.Is(err, ErrUnavailable); got != tt.wantUnavailable {
					t.Fatalf("errors.Is(err, ErrUnavailable) = %v; want %v (err: %v)", got, tt.wantUnavailable, err)
				}
				if !strings.Contains(err.Error(), `"openai"`) {
					t.Errorf("error %q does not name the entry", err)
				}
				if tt.wantUnavailable {
					for _, want := range []string{"no OS keychain reachable", tt.backendErr.Error(),
						"unlock your keyring", "api_key: os.environ/"} {
						if !strings.Contains(err.Error(), want) {
							t.Errorf("error %q does not say %q", err, want)
						}
					}
				}
			})
		}
	}
}

// TestKeyringHungKeychain simulates a Secret Service that never answers
// (a locked keyring whose unlock prompt nobody sees): every call must give
// up with ErrUnavailable instead of hanging the gateway.
func TestKeyringHungKeychain(t *testing.T) {
	for _, op := range keyringOps {
		t.Run(op.name, func(t *testing.T) {
			k := Keyring{Timeout: 10 * time.Millisecond, backend: hangingBackend(t)}
			err := op.call(context.Background(), k)
			if !errors.Is(err, ErrUnavailable) {
				t.Fatalf("err = %v; want ErrUnavailable", err)
			}
			if !strings.Contains(err.Error(), "no answer within 10ms") {
				t.Errorf("error %q does not say it timed out", err)
			}
		})
	}
}

// TestKeyringContextCancelled: a caller that gives up gets its ctx error,
// not ErrUnavailable, even while the keychain hangs.
func TestKeyringContextCancelled(t *testing.T) {
	for _, op := range keyringOps {
		t.Run(op.name, func(t *testing.T) {
			b := hangingBackend(t)
			ctx, cancel := context.WithCancel(context.Background())
			go func() {
				<-b.started // the call is under way and blocked
				cancel()
			}()
			err := op.call(ctx, Keyring{Timeout: time.Hour, backend: b})
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("err = %v; want context.Canceled", err)
			}
			if errors.Is(err, ErrUnavailable) {
				t.Fatalf("err = %v; a cancelled caller is not an unavailable keychain", err)
			}
		})
	}
}

func TestKeyringNeverPutsTheSecretInAnError(t *testing.T) {
	const secret = "sk-live-0123456789abcdef"
	b := newFakeBackend()
	b.err = fmt.Errorf("dbus: CreateItem rejected secret %s", secret)
	err := Keyring{backend: b}.Set(context.Background(), "openai", secret)
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("err = %v; want ErrUnavailable", err)
	}
	for e := error(err); e != nil; e = errors.Unwrap(e) {
		if strings.Contains(e.Error(), secret) {
			t.Fatalf("error text contains the secret: %q", e)
		}
	}
	var ue *unavailableError
	if !errors.As(err, &ue) || strings.Contains(ue.cause.Error(), secret) {
		t.Fatalf("wrapped cause contains the secret: %v", ue.cause)
	}
}

func TestKeyringPanickingBackendIsUnavailable(t *testing.T) {
	err := Keyring{backend: panickingBackend{}}.Delete(context.Background(), "openai")
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("err = %v; want ErrUnavailable", err)
	}
}

type panickingBackend struct{}

func (panickingBackend) Get(string, string) (string, error) { panic("boom") }
func (panickingBackend) Set(string, string, string) error   { panic("boom") }
func (panickingBackend) Delete(string, string) error        { panic("boom") }

func TestKeyringServiceName(t *testing.T) {
	tests := []struct {
		name    string
		service string
		want    string
	}{
		{"zero value uses Service", "", Service},
		{"explicit service", "detour-dev", "detour-dev"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newFakeBackend()
			if err := (Keyring{Service: tt.service, backend: b}).Set(context.Background(), "openai", "sk"); err != nil {
				t.Fatal(err)
			}
			if len(b.services) != 1 || b.services[0] != tt.want {
				t.Fatalf("backend saw services %q; want [%q]", b.services, tt.want)
			}
		})
	}
}

// TestKeyringDefaultBackendIsGoKeyring: the zero Keyring goes through
// go-keyring's package functions. (The real round trip through them is
// TestSecretService; keyring.MockInit is not used here because it replaces
// go-keyring's provider for the whole test binary, that test included.)
func TestKeyringDefaultBackendIsGoKeyring(t *testing.T) {
	if _, ok := (Keyring{}).keychain().(goKeyring); !ok {
		t.Fatalf("zero Keyring uses %T; want goKeyring", (Keyring{}).keychain())
	}
}
