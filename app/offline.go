package app

import (
	"context"
	"encoding/json"
	"net"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/detour-gateway/detour/chat"
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

// deploymentHost returns the upstream "host:port" deployment d sends its
// requests to, "" for the mock; cloud reports whether the host is a cloud
// provider's, whose loss together with every other means the machine is
// offline (local servers, Ollama and keyless OpenAI-compatible servers
// do not count).
func deploymentHost(d config.Deployment, getenv func(string) string) (host string, cloud bool) {
	spec, ok := provider.Lookup(d.Provider)
	if !ok || spec.Wire == provider.WireMock {
		return "", false
	}
	u, err := url.Parse(baseURL(d, spec, getenv))
	if err != nil || u.Host == "" {
		return "", false
	}
	host = u.Host
	if u.Port() == "" {
		port := "443"
		if u.Scheme == "http" {
			port = "80"
		}
		host = net.JoinHostPort(u.Hostname(), port)
	}
	return host, spec.Wire != provider.WireOllama && !spec.KeyOptional
}

// baseURL is where deployment d of provider spec sends its requests:
// api_base, else the provider's environment variable, else its default;
// "" when none is known.
func baseURL(d config.Deployment, spec provider.Spec, getenv func(string) string) string {
	base := d.APIBase
	if base == "" && spec.EnvBase != "" {
		base = getenv(spec.EnvBase)
	}
	if base == "" {
		base = spec.BaseURL
	}
	return base
}

// cloudHosts lists the host:port of every cloud deployment of cfg.
func cloudHosts(cfg *config.Config, getenv func(string) string) []string {
	var out []string
	for _, d := range cfg.Models {
		if host, cloud := deploymentHost(d, getenv); cloud && !slices.Contains(out, host) {
			out = append(out, host)
		}
	}
	return out
}

// degradeOptions returns the router's local tier for cfg, or nil when
// detour.offline is off.
func (g *Gateway) degradeOptions(cfg *config.Config) *router.Degrade {
	if !cfg.Detour.Offline.Enabled {
		return nil
	}
	tier := g.newLocalTier(cfg.Detour.Offline)
	return &router.Degrade{Deployment: tier.deployment, Name: "ollama"}
}

// Offline reports whether every cloud host is out of reach, and since
// when.
func (g *Gateway) Offline() (bool, time.Time) { return g.hosts.Offline() }

// probeFunc returns how deployment d is probed while half-open: a real,
// minimal request of its own kind (one token of chat; for a deployment
// whose model_info.mode is "embedding", the embedding of one word), so a
// deployment whose listing works but whose answers fail is not put back.
// A deployment whose chaos switch is down or rate limited fails its
// probes too.
func (g *Gateway) probeFunc(d config.Deployment, p provider.Provider) func(context.Context) error {
	id := d.ID
	mode, _ := d.Info.Extra["mode"].(string)
	return func(ctx context.Context) error {
		if st, ok := g.chaos.Get(id); ok && (st.Mode == chaos.Down || st.Mode == chaos.RateLimited) {
			return &provider.Error{Class: provider.Connection, Message: "chaos: switched " + string(st.Mode)}
		}
		if mode == "embedding" {
			e, ok := p.(provider.Embedder)
			if !ok {
				return &provider.Error{Class: provider.NotFound, Local: true, Message: "no embeddings"}
			}
			_, err := e.Embed(ctx, &chat.EmbeddingRequest{Model: d.Group, Input: json.RawMessage(`"ping"`)})
			return err
		}
		one := 1
		resp, err := p.Chat(ctx, &chat.Request{Model: d.Group, MaxTokens: &one,
			Messages: []chat.Message{{Role: "user", Content: chat.TextContent("ping")}}})
		if err == nil && g.ledger != nil {
			// A probe costs a few tokens; they are spent like any others.
			g.ledger.Record(spendRecord(d.ID, d.Provider, d.Group, priceOf(d), resp.Usage))
		}
		return err
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
// probe and no trial out: an answer puts it back in rotation (keeping its
// strikes until a real request answers), a failure cools it again, for
// longer. A probe the deployment refuses as a bad request (a model that
// wants a larger max_tokens) still shows it answers. It runs in the
// background every probe interval; tests call it directly.
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
		pe := provider.AsError(err)
		if err == nil || !pe.Local && pe.Class.Final() {
			cool.Probed(d.ID)
			g.opts.Logger.Info("deployment back in rotation after a probe", "deployment", d.ID)
			continue
		}
		if pe.Local || ctx.Err() != nil {
			cool.Release(d.ID)
			continue
		}
		until := cool.Fail(d.ID, pe.Class, pe.RetryAfter)
		g.opts.Logger.Info("probe failed; cooling longer", "deployment", d.ID, "class", pe.Class, "until", until)
	}
}
