package app

import (
	"context"

	"net"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/detour-gateway/detour/config"
	"github.com/detour-gateway/detour/router"
	"github.com/detour-gateway/detour/router/chaos"
	"github.com/detour-gateway/detour/router/cooldown"
	"github.com/detour-gateway/detour/router/provider"
	"github.com/detour-gateway/detour/router/provider/ollama"
)

// pickFor is how long an automatically picked local model is kept before
// Ollama's list is read again: 30 seconds.
const pickFor = 30 * time.Second

// localTier is the Ollama tier of detour.offline: it resolves which local
// model answers a group and keeps one deployment per group and model.
type localTier struct {
	cfg  config.Offline
	base string
	g    *Gateway

	mu          sync.Mutex
	deployments map[[2]string]*router.Deployment // by group, model
	picked      string
	pickedAt    time.Time
}

func (g *Gateway) newLocalTier(cfg config.Offline) *localTier {
	base := cfg.OllamaHost
	if base == "" {
		base = g.opts.Getenv("OLLAMA_HOST")
	}
	return &localTier{cfg: cfg, base: base, g: g, deployments: map[[2]string]*router.Deployment{}}
}

// deployment returns the local deployment answering group.
func (t *localTier) deployment(ctx context.Context, group string) (*router.Deployment, error) {
	model := t.cfg.Map[group]
	if model == "" {
		model = t.cfg.Model
	}
	if model == "" {
		var err error
		if model, err = t.pick(ctx); err != nil {
			return nil, err
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	key := [2]string{group, model}
	if d := t.deployments[key]; d != nil {
		return d, nil
	}
	d := &router.Deployment{ID: "offline-ollama-" + model, Group: group, Provider: "ollama", Model: model, Client: t.client(model)}
	t.deployments[key] = d
	return d, nil
}

func (t *localTier) client(model string) *ollama.Client {
	return ollama.New(ollama.Options{Name: "ollama", BaseURL: t.base, Model: model, HTTPClient: t.g.opts.HTTPClient})
}

// pick chooses the local model when the config names none: the first chat
// model in Ollama's list, which Ollama orders most recently changed first.
// Embedding models (a name containing "embed") are skipped.
func (t *localTier) pick(ctx context.Context) (string, error) {
	t.mu.Lock()
	if t.picked != "" && time.Since(t.pickedAt) < pickFor {
		defer t.mu.Unlock()
		return t.picked, nil
	}
	t.mu.Unlock()
	names, err := t.client("").List(ctx)
	if err != nil {
		return "", err
	}
	for _, n := range names {
		if strings.Contains(strings.ToLower(n), "embed") {
			continue
		}
		t.mu.Lock()
		if n != t.picked {
			t.g.opts.Logger.Info("offline tier: using the local model picked from Ollama's list", "model", n)
		}
		t.picked, t.pickedAt = n, time.Now()
		t.g.localModel.Store(n)
		t.mu.Unlock()
		return n, nil
	}
	return "", &provider.Error{Class: provider.NotFound, Message: "Ollama has no chat model pulled: run ollama pull llama3.2, or set detour.offline.model"}
}

// cloudReachable is the offline probe: it reports whether a TCP connection
// can be made to any cloud deployment of the config in use (local servers
// and the mock do not count). With no cloud deployment there is nothing to
// be offline from.
func (g *Gateway) cloudReachable(ctx context.Context) bool {
	hosts := cloudHosts(g.config.Load(), g.opts.Getenv)
	if len(hosts) == 0 {
		return true
	}
	var d net.Dialer
	for _, h := range hosts {
		if c, err := d.DialContext(ctx, "tcp", h); err == nil {
			c.Close()
			return true
		}
	}
	return false
}

// cloudHosts lists the host:port of every cloud deployment of cfg.
func cloudHosts(cfg *config.Config, getenv func(string) string) []string {
	seen := map[string]bool{}
	var out []string
	for _, d := range cfg.Models {
		spec, ok := provider.Lookup(d.Provider)
		if !ok || spec.Wire == provider.WireMock || spec.Wire == provider.WireOllama || spec.KeyOptional {
			continue
		}
		base := d.APIBase
		if base == "" && spec.EnvBase != "" {
			base = getenv(spec.EnvBase)
		}
		if base == "" {
			base = spec.BaseURL
		}
		u, err := url.Parse(base)
		if err != nil || u.Host == "" {
			continue
		}
		host := u.Host
		if u.Port() == "" {
			port := "443"
			if u.Scheme == "http" {
				port = "80"
			}
			host = net.JoinHostPort(u.Hostname(), port)
		}
		if !seen[host] {
			seen[host] = true
			out = append(out, host)
		}
	}
	return out
}

// degradeOptions returns the router's local tier and connectivity for cfg,
// or nils when detour.offline is off.
func (g *Gateway) degradeOptions(cfg *config.Config) (*router.Degrade, *router.Connectivity) {
	if !cfg.Detour.Offline.Enabled {
		return nil, nil
	}
	tier := g.newLocalTier(cfg.Detour.Offline)
	return &router.Degrade{Deployment: tier.deployment, Name: "ollama"}, g.conn
}

// Offline reports whether the gateway considers the machine offline, and
// since when.
func (g *Gateway) Offline() (bool, time.Time) { return g.conn.Offline() }

// probeFunc returns how a deployment is probed while half-open, or nil
// when its provider has no free request to probe with. A deployment whose
// chaos switch is down or rate limited fails its probes too.
func (g *Gateway) probeFunc(id string, p provider.Provider) func(context.Context) error {
	for {
		if pr, ok := p.(provider.Prober); ok {
			return func(ctx context.Context) error {
				if st, ok := g.chaos.Get(id); ok && (st.Mode == chaos.Down || st.Mode == chaos.RateLimited) {
					return &provider.Error{Class: provider.Connection, Message: "chaos: switched " + string(st.Mode)}
				}
				return pr.Probe(ctx)
			}
		}
		u, ok := p.(interface{ Unwrap() provider.Provider })
		if !ok {
			return nil
		}
		p = u.Unwrap()
	}
}

// probeLoop probes half-open deployments every interval until ctx ends.
func (g *Gateway) probeLoop(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = config.DefaultProbeInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			g.ProbeDeployments(ctx)
		}
	}
}

// ProbeDeployments probes, once, every half-open deployment that has a
// probe and no trial out: a success puts it back in rotation, a failure
// cools it again, for longer. It runs in the background every probe
// interval; tests call it directly.
func (g *Gateway) ProbeDeployments(ctx context.Context) {
	r := g.router.Load()
	cool := r.Cooldowns()
	for _, d := range r.Deployments() {
		if d.Probe == nil {
			continue
		}
		if s, _, _ := cool.State(d.ID); s != cooldown.Probing || !cool.Admit(d.ID) {
			continue
		}
		pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := d.Probe(pctx)
		cancel()
		if err == nil {
			cool.Succeed(d.ID)
			g.opts.Logger.Info("deployment back in rotation after a probe", "deployment", d.ID)
			continue
		}
		pe := provider.AsError(err)
		if pe.Local || ctx.Err() != nil {
			cool.Release(d.ID)
			continue
		}
		until := cool.Fail(d.ID, pe.Class, pe.RetryAfter)
		g.opts.Logger.Info("probe failed; cooling longer", "deployment", d.ID, "class", pe.Class, "until", until)
	}
}
