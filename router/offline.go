package router

import (
	"context"
	"fmt"

	"github.com/detour-gateway/detour/router/provider"
)

// Degrade is the router's last tier: a local model that answers when every
// deployment of a request's group and its fallbacks has failed or is out
// of reach (at once, without trying the cloud, when all of them are).
type Degrade struct {
	// Deployment returns the local deployment to answer for group, or an
	// error saying why there is none (Ollama not running, no model
	// pulled). Required.
	Deployment func(ctx context.Context, group string) (*Deployment, error)
	// Name is the tier's name in messages and the x-detour-degraded
	// header. Empty means "ollama".
	Name string
}

// degrade answers from the local tier after the cloud failed with cause.
// When the local tier cannot answer either, the client gets cause itself
// if it is a problem of Detour's own setup (no key, a spent budget: what
// the user must fix), else a 503 saying what was tried.
func (r *Router) degrade(ctx context.Context, group string, tr *Trace, rt *routing, cause error) error {
	name := r.degradeTier.Name
	if name == "" {
		name = "ollama"
	}
	d, err := r.degradeTier.Deployment(ctx, group)
	if err == nil {
		err = r.tryLocal(ctx, d, name, tr, rt)
		if err == nil {
			return nil
		}
		if pe := provider.AsError(err); pe.Class.Final() {
			return pe // the request itself is wrong for the local model too
		}
	}
	last := provider.AsError(cause)
	if last.Local {
		return last
	}
	cloud := "the cloud providers failed (last: " + last.Message + ")"
	if off, _ := r.hosts.Offline(); off {
		cloud = "every cloud provider is out of reach (the machine looks offline)"
	}
	return &provider.Error{Class: provider.ServerError, Status: 503, Err: err, RetryAfter: last.RetryAfter, Message: fmt.Sprintf(
		"Detour could not answer model group %q: %s, and the local %s tier failed too (%s). "+
			"Start Ollama (ollama serve) and pull a model (ollama pull llama3.2), or check your network and keys (detour keys list).",
		group, cloud, name, provider.AsError(err).Message)}
}

// tryLocal makes the one attempt at the local tier's deployment d.
func (r *Router) tryLocal(ctx context.Context, d *Deployment, name string, tr *Trace, rt *routing) error {
	hold, refused := r.reserve(d, rt)
	if refused != nil {
		return overBudget(refused)
	}
	start := r.clock.Now()
	_, err := rt.call(ctx, d)
	took := r.clock.Now().Sub(start)
	if err != nil {
		hold.Release()
		pe := provider.AsError(err)
		tr.Attempts = append(tr.Attempts, Attempt{Deployment: d, Class: pe.Class, Status: pe.Status, Duration: took, Err: err, Reason: "local tier"})
		return pe
	}
	tr.Attempts = append(tr.Attempts, Attempt{Deployment: d, Status: 200, Duration: took, Reason: "local tier"})
	tr.Answered, tr.Upstream, tr.Degraded, tr.hold = d, took, name, hold
	return nil
}
