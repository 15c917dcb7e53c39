package app

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/detour-gateway/detour/config"
	"github.com/detour-gateway/detour/keystore"
	"github.com/detour-gateway/detour/router/cooldown"
	"github.com/detour-gateway/detour/router/provider"
	"github.com/detour-gateway/detour/server"
)

// KeyName is a key Detour can use: a provider that takes one, or a
// keychain entry a config names.
type KeyName struct {
	Name string
	// Env is the provider's environment variable, tried after the
	// keychain; "" for a name only the config knows.
	Env string
}

// KeyNames lists every provider prefix that takes a key (local servers
// and the mock need none), then every keychain/NAME of cfg (nil: none).
func KeyNames(cfg *config.Config) []KeyName {
	var out []KeyName
	seen := map[string]bool{}
	for _, n := range provider.Names() {
		if spec, _ := provider.Lookup(n); !spec.KeyOptional {
			out, seen[n] = append(out, KeyName{Name: n, Env: spec.EnvKey}), true
		}
	}
	if cfg != nil {
		for _, d := range cfg.Models {
			if d.Key.Source == config.KeyKeychain && !seen[d.Key.Name] {
				out, seen[d.Key.Name] = append(out, KeyName{Name: d.Key.Name}), true
			}
		}
	}
	return out
}

// keys implements server.Keys over the gateway's keystore. It never
// returns a key's value.
type keys struct{ g *Gateway }

// users returns the deployments of the config in use that read keychain
// entry name, and the key sources they use.
func (k keys) users(name string) (ids []string, srcs []keystore.Source) {
	for _, d := range k.g.config.Load().Models {
		if d.Key.Source != config.KeyDefault && d.Key.Source != config.KeyKeychain || d.Key.Name != name {
			continue
		}
		_, src := k.g.keyFunc(d.Key)
		ids, srcs = append(ids, d.ID), append(srcs, src)
	}
	return ids, srcs
}

// List implements server.Keys: every provider that takes a key, and every
// keychain name the config refers to.
func (k keys) List(ctx context.Context) []server.KeyState {
	r := k.g.router.Load()
	names := KeyNames(k.g.config.Load())
	out := make([]server.KeyState, 0, len(names))
	for _, kn := range names {
		n := kn.Name
		st := server.KeyState{Name: n, Keychain: "set", Env: kn.Env, Deployments: []string{}}
		cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		_, err := k.g.opts.Keys.Get(cctx, n)
		cancel()
		switch {
		case errors.Is(err, keystore.ErrNotFound):
			st.Keychain = "missing"
		case err != nil:
			st.Keychain = "unavailable"
		}
		st.EnvSet = st.Env != "" && k.g.opts.Getenv(st.Env) != ""
		ids, _ := k.users(n)
		st.Deployments = append(st.Deployments, ids...)
		for _, id := range ids {
			if s, _, class := r.Cooldowns().State(id); s != cooldown.Healthy && class == provider.Auth {
				st.Failing = true
			}
		}
		out = append(out, st)
	}
	return out
}

// Set implements server.Keys. The deployments using the key read it again
// on their next request.
func (k keys) Set(ctx context.Context, name, value string) error {
	k.g.secrets.Add(value) // redacted from here on, even before first use
	if err := k.g.opts.Keys.Set(ctx, name, value); err != nil {
		return err
	}
	k.forget(name)
	return nil
}

// Delete implements server.Keys.
func (k keys) Delete(ctx context.Context, name string) error {
	err := k.g.opts.Keys.Delete(ctx, name)
	if errors.Is(err, keystore.ErrNotFound) {
		return server.ErrUnknownKey
	}
	k.forget(name)
	return err
}

func (k keys) forget(name string) {
	_, srcs := k.users(name)
	for _, src := range srcs {
		k.g.keys.Forget(src)
	}
}

// Test implements server.Keys: each deployment using the key is probed
// with a request that costs nothing, where its provider has one.
func (k keys) Test(ctx context.Context, name string) server.KeyTest {
	t := server.KeyTest{Name: name, Results: []server.KeyTestEntry{}}
	ids, _ := k.users(name)
	probed := 0
	for _, d := range k.g.router.Load().Deployments() {
		if !slices.Contains(ids, d.ID) {
			continue
		}
		e := server.KeyTestEntry{Deployment: d.ID}
		switch {
		case d.Probe == nil:
			e.Message = d.Provider + " has no free request to test with; the next real request will tell"
		default:
			probed++
			pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			err := d.Probe(pctx)
			cancel()
			if err == nil {
				e.OK = true
			} else {
				pe := provider.AsError(err)
				e.Class, e.Message = string(pe.Class), pe.Message
			}
		}
		t.Results = append(t.Results, e)
	}
	t.OK = probed > 0
	for _, e := range t.Results {
		t.OK = t.OK && (e.OK || e.Class == "")
	}
	return t
}
