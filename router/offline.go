package router

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/detour-gateway/detour/router/provider"
)

// Degrade is the router's last tier: a local model that answers when every
// deployment of a request's group and its fallbacks has failed, and at once,
// without trying the cloud, while the machine is offline.
type Degrade struct {
	// Deployment returns the local deployment to answer for group, or an
	// error saying why there is none (Ollama not running, no model
	// pulled). Required.
	Deployment func(ctx context.Context, group string) (*Deployment, error)
	// Name is the tier's name in messages and the x-detour-degraded
	// header. Empty means "ollama".
	Name string
}

// DefaultProbeInterval is how often Connectivity checks, while offline,
// whether the network is back: 5 seconds.
const DefaultProbeInterval = 5 * time.Second

// Connectivity knows whether the machine is offline: it goes offline when
// a request finds every cloud deployment it tried unreachable (DNS failure,
// no route, connection refused), and back online when a background probe
// reaches a provider again. It outlives config reloads.
type Connectivity struct {
	probe    func(ctx context.Context) bool
	interval time.Duration
	log      *slog.Logger
	ctx      context.Context

	offline atomic.Bool
	since   atomic.Int64 // unix nanos when it went offline

	// OnChange, if set before the Connectivity is used, is called after
	// each change, with the new state: offline or back online.
	OnChange func(offline bool)
}

// NewConnectivity returns a Connectivity whose probe reports whether any
// cloud provider is reachable, checked every interval (0 means
// DefaultProbeInterval) while offline, until ctx is done.
func NewConnectivity(ctx context.Context, probe func(ctx context.Context) bool, interval time.Duration, log *slog.Logger) *Connectivity {
	if interval <= 0 {
		interval = DefaultProbeInterval
	}
	if log == nil {
		log = slog.Default()
	}
	return &Connectivity{probe: probe, interval: interval, log: log, ctx: ctx}
}

// Offline reports whether the machine is offline, and since when.
func (c *Connectivity) Offline() (bool, time.Time) {
	if c == nil || !c.offline.Load() {
		return false, time.Time{}
	}
	return true, time.Unix(0, c.since.Load())
}

// markOffline records that the network is out of reach and starts the
// probe that notices its return.
func (c *Connectivity) markOffline() {
	if c == nil || !c.offline.CompareAndSwap(false, true) {
		return
	}
	c.since.Store(time.Now().UnixNano())
	c.log.Warn("offline: no cloud provider is reachable; answering from the local tier until the network is back")
	c.changed(true)
	go c.watch()
}

// watch probes until the network is back or the context ends. It runs on
// real time, not the router's clock: a fake clock would make it spin.
func (c *Connectivity) watch() {
	t := time.NewTicker(c.interval)
	defer t.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(c.ctx, c.interval)
		back := c.probe(ctx)
		cancel()
		if back {
			c.offline.Store(false)
			c.log.Info("online again: routing to the cloud", "offline_for", time.Since(time.Unix(0, c.since.Load())).Round(time.Second))
			c.changed(false)
			return
		}
	}
}

func (c *Connectivity) changed(offline bool) {
	if c.OnChange != nil {
		c.OnChange(offline)
	}
}

// allUnreachable reports whether a request made attempts and every one
// found its provider unreachable.
func allUnreachable(tr *Trace) bool {
	if len(tr.Attempts) == 0 {
		return false
	}
	for _, a := range tr.Attempts {
		pe := provider.AsError(a.Err)
		if a.Err == nil || !pe.Unreachable {
			return false
		}
	}
	return true
}

// degrade answers from the local tier after the cloud failed with cause
// (nil when the cloud was skipped because the machine is offline).
func (r *Router) degrade(ctx context.Context, group string, tr *Trace, rt *routing, cause error) error {
	name := r.degradeTier.Name
	if name == "" {
		name = "ollama"
	}
	d, err := r.degradeTier.Deployment(ctx, group)
	if err == nil {
		start := r.clock.Now()
		_, err = rt.call(ctx, d)
		took := r.clock.Now().Sub(start)
		if err == nil {
			tr.Attempts = append(tr.Attempts, Attempt{Deployment: d, Status: 200, Duration: took, Reason: "local tier"})
			tr.Answered, tr.Upstream, tr.Degraded = d, took, name
			return nil
		}
		pe := provider.AsError(err)
		tr.Attempts = append(tr.Attempts, Attempt{Deployment: d, Class: pe.Class, Status: pe.Status, Duration: took, Err: err, Reason: "local tier"})
		if pe.Class.Final() {
			return pe // the request itself is wrong for the local model too
		}
	}
	cloud := "the machine is offline, so the cloud providers were skipped"
	var retryAfter time.Duration
	if cause != nil {
		retryAfter = provider.AsError(cause).RetryAfter
		cloud = "the cloud providers failed (last: " + provider.AsError(cause).Message + ")"
		if off, _ := r.conn.Offline(); off {
			cloud += "; the machine looks offline"
		}
	}
	return &provider.Error{Class: provider.ServerError, Status: 503, Err: err, RetryAfter: retryAfter, Message: fmt.Sprintf(
		"Detour could not answer model group %q: %s, and the local %s tier failed too (%s). "+
			"Start Ollama (ollama serve) and pull a model (ollama pull llama3.2), or check your network and keys (detour keys list).",
		group, cloud, name, provider.AsError(err).Message)}
}
