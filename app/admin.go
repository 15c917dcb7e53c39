package app

import (
	"context"
	"errors"
	"time"

	"github.com/detour-gateway/detour/config"
	"github.com/detour-gateway/detour/keystore"
	"github.com/detour-gateway/detour/router/chaos"
	"github.com/detour-gateway/detour/router/cooldown"
	"github.com/detour-gateway/detour/server"
)

// admin implements server.Admin over a Gateway.
type admin struct{ g *Gateway }

// Deployments reports each deployment's health: chaos first (it is what the
// user switched on), then its host out of reach, cooling, a missing key,
// else healthy.
func (a admin) Deployments(ctx context.Context) server.Health {
	g := a.g
	var h server.Health
	if m, ok := g.localModel.Load().(string); ok {
		h.LocalModel = m
	}
	off, since := g.hosts.Offline()
	if off {
		h.Offline, h.OfflineSince = true, &since
	}
	cfg := g.config.Load()
	refs := map[string]config.KeyRef{}
	for _, d := range cfg.Models {
		refs[d.ID] = d.Key
	}
	r := g.router.Load()
	for _, d := range r.Deployments() {
		dh := server.DeploymentHealth{ID: d.ID, Group: d.Group, Provider: d.Provider, Model: d.Model, State: "healthy"}
		switch st, until, class := r.Cooldowns().State(d.ID); st {
		case cooldown.Cooling:
			dh.State, dh.CoolingUntil, dh.CoolingClass = string(st), &until, string(class)
		case cooldown.Probing:
			dh.State, dh.CoolingClass = string(st), string(class)
		}
		if dh.State == "healthy" {
			if _, err := g.keyOf(ctx, refs[d.ID]); errors.Is(err, keystore.ErrNoKey) {
				dh.State = "no_key"
			}
		}
		if !g.hosts.Reachable(d.Host) {
			dh.State = "offline" // its host is out of reach
		}
		if st, ok := g.chaos.Get(d.ID); ok {
			dh.State, dh.Chaos = "chaos", &server.ChaosState{Mode: string(st.Mode), Until: st.Until}
		}
		h.Deployments = append(h.Deployments, dh)
	}
	return h
}

// SetChaos switches a deployment's chaos mode.
func (a admin) SetChaos(id, mode string, d time.Duration) (server.ChaosState, error) {
	known := false
	for _, dep := range a.g.router.Load().Deployments() {
		known = known || dep.ID == id
	}
	if !known {
		return server.ChaosState{}, server.ErrUnknownDeployment
	}
	m, err := chaos.ParseMode(mode)
	if err != nil {
		return server.ChaosState{}, err
	}
	st, err := a.g.chaos.Set(id, m, d)
	return server.ChaosState{Mode: string(st.Mode), Until: st.Until}, err
}

// keyOf resolves a deployment's key, for the health report only: nothing
// is sent anywhere.
func (g *Gateway) keyOf(ctx context.Context, ref config.KeyRef) (string, error) {
	key, _ := g.keyFunc(ref)
	if key == nil {
		return "", nil
	}
	return key(ctx)
}

// Admin returns what the /api/v1 deployment endpoints manage: health and
// the chaos switch.
func (g *Gateway) Admin() server.Admin { return admin{g} }
