package app

import (
	"context"
	"errors"
	"time"

	"github.com/detour-gateway/detour/config"
	"github.com/detour-gateway/detour/localauth"
	"github.com/detour-gateway/detour/server"
)

// LocalKeyEnv is the environment variable whose value is accepted as a
// local key, for machines without a keychain (a server, a container).
const LocalKeyEnv = "DETOUR_API_KEY"

// door is the server's door for cfg: its hosts and origins and, when
// local auth is on, the checker of local keys.
func (g *Gateway) door(cfg *config.Config) server.Door {
	sc := cfg.Detour.Server
	d := server.Door{AllowedHosts: sc.AllowedHosts, CORSOrigins: sc.CORSOrigins}
	if !sc.Auth {
		g.local.Store(nil)
		return d
	}
	c := g.localChecker(sc.MasterKey)
	g.local.Store(c)
	d.Auth = c
	return d
}

// localChecker checks the local keys in the keychain, $DETOUR_API_KEY and
// the config's master key.
func (g *Gateway) localChecker(mk config.MasterKey) *localauth.Checker {
	extra := []localauth.Extra{{Name: "$" + LocalKeyEnv, Source: "env", Value: g.opts.Getenv(LocalKeyEnv)}}
	master := localauth.Extra{Name: "general_settings.master_key", Source: "config"}
	switch {
	case mk.Literal != "":
		master.Value = mk.Literal
	case mk.Ref.Source == config.KeyEnv:
		master.Value = g.opts.Getenv(mk.Ref.Name)
		if master.Value == "" {
			g.opts.Logger.Warn("general_settings.master_key names an unset environment variable; it is not accepted", "env", mk.Ref.Name)
		}
	case mk.Ref.Source == config.KeyKeychain:
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		v, err := g.opts.Keys.Get(ctx, mk.Ref.Name)
		cancel()
		if err != nil {
			g.opts.Logger.Warn("general_settings.master_key could not be read from the keychain; it is not accepted", "entry", mk.Ref.Name, "err", err)
		}
		master.Value = v
	}
	g.secrets.Add(master.Value)
	return localauth.NewChecker(localauth.Keys{Store: g.opts.Keys, Now: g.opts.Clock.Now}, append(extra, master)...)
}

// limits are the server limits of detour.server.
func limits(s config.Server) server.Limits {
	return server.Limits{BodyTimeout: s.BodyTimeout, WriteTimeout: s.WriteTimeout, IdleTimeout: s.IdleTimeout,
		MaxHeaderBytes: s.MaxHeaderBytes, MaxInflightBytes: s.MaxInflightBytes, MaxRequests: s.MaxRequests, MaxStreams: s.MaxStreams}
}

// localKeys implements server.LocalKeys over the keychain.
type localKeys struct{ g *Gateway }

func (l localKeys) store() localauth.Keys {
	return localauth.Keys{Store: l.g.opts.Keys, Now: l.g.opts.Clock.Now}
}

// List implements server.LocalKeys.
func (l localKeys) List(ctx context.Context) (server.LocalKeyList, error) {
	out := server.LocalKeyList{Auth: l.g.config.Load().Detour.Server.Auth}
	keys, err := l.store().List(ctx)
	// The keys outside the keychain are listed whether or not auth is on,
	// so the page can tell before turning it on that a client has one.
	if l.g.opts.Getenv(LocalKeyEnv) != "" {
		keys = append(keys, localauth.Key{Name: "$" + LocalKeyEnv, Source: "env"})
	}
	if l.g.config.Load().Detour.Server.MasterKey.Set() {
		keys = append(keys, localauth.Key{Name: "general_settings.master_key", Source: "config"})
	}
	for _, k := range keys {
		out.Keys = append(out.Keys, server.LocalKey{Name: k.Name, Created: k.Created, Source: k.Source})
	}
	return out, err
}

// Add implements server.LocalKeys.
func (l localKeys) Add(ctx context.Context, name string) (server.NewLocalKey, error) {
	key, err := l.store().Add(ctx, name)
	if errors.Is(err, localauth.ErrExists) {
		return server.NewLocalKey{}, server.ErrLocalKeyExists
	}
	if err != nil {
		return server.NewLocalKey{}, err
	}
	l.forget()
	return server.NewLocalKey{LocalKey: server.LocalKey{Name: name, Created: l.g.opts.Clock.Now().UTC().Truncate(time.Second), Source: "keychain"}, Key: key}, nil
}

// Remove implements server.LocalKeys.
func (l localKeys) Remove(ctx context.Context, name string) error {
	err := l.store().Remove(ctx, name)
	if errors.Is(err, localauth.ErrNotFound) {
		return server.ErrUnknownKey
	}
	l.forget()
	return err
}

func (l localKeys) forget() {
	if c := l.g.local.Load(); c != nil {
		c.Forget()
	}
}
