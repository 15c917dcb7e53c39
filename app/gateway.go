// Package app is Detour's composition root: it wires config, keystore,
// provider adapters, router and HTTP API into a running gateway. The
// desktop shell and `detour serve` both start a Gateway.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/detour-gateway/detour/alerts"
	"github.com/detour-gateway/detour/autostart"
	"github.com/detour-gateway/detour/cache"
	"github.com/detour-gateway/detour/chat"
	"github.com/detour-gateway/detour/clock"
	"github.com/detour-gateway/detour/config"
	"github.com/detour-gateway/detour/config/watch"
	"github.com/detour-gateway/detour/frontend"
	"github.com/detour-gateway/detour/keystore"
	"github.com/detour-gateway/detour/localauth"
	"github.com/detour-gateway/detour/redact"
	"github.com/detour-gateway/detour/requestlog"
	"github.com/detour-gateway/detour/responsestore"
	"github.com/detour-gateway/detour/router"
	"github.com/detour-gateway/detour/router/chaos"
	"github.com/detour-gateway/detour/router/complexity"
	"github.com/detour-gateway/detour/router/cooldown"
	"github.com/detour-gateway/detour/router/provider"
	"github.com/detour-gateway/detour/router/provider/anthropic"
	"github.com/detour-gateway/detour/router/provider/gemini"
	"github.com/detour-gateway/detour/router/provider/mock"
	"github.com/detour-gateway/detour/router/provider/ollama"
	"github.com/detour-gateway/detour/router/provider/openai"
	"github.com/detour-gateway/detour/server"
	"github.com/detour-gateway/detour/spend"
	"github.com/detour-gateway/detour/stats"
)

// DefaultShutdownGrace is how long Serve lets in-flight requests and
// streams finish after it is told to stop: 30 seconds.
const DefaultShutdownGrace = 30 * time.Second

// Options are the Gateway's injected dependencies. The zero value is the
// production setup.
type Options struct {
	// Keys holds API keys. Nil means the OS keychain.
	Keys keystore.Store
	// Getenv reads environment variables for keys. Nil means os.Getenv.
	Getenv func(string) string
	// HTTPClient calls the providers. Nil means NewHTTPClient().
	HTTPClient *http.Client
	// Logger receives logs. Nil means slog.Default().
	Logger *slog.Logger
	// Clock times backoff and cooldowns. Nil means the real clock.
	Clock clock.Clock
	// Rand returns numbers in [0, 1), safe for concurrent use. Nil means
	// math/rand/v2.
	Rand func() float64
	// ShutdownGrace bounds graceful shutdown. 0 means DefaultShutdownGrace.
	ShutdownGrace time.Duration
	// Autostart is the start-on-login entry the dashboard's settings
	// toggle. Nil hides the toggle.
	Autostart autostart.Entry
	// Quit ends the desktop app. Non-nil means the dashboard is shown in
	// Detour's own window, which offers Quit; nil (detour serve) does not.
	Quit func()
	// Version is the build's version, shown in the dashboard.
	Version string
}

// Gateway is a configured Detour gateway.
type Gateway struct {
	opts   Options
	keys   *keystore.Resolver
	router atomic.Pointer[router.Router]
	api    *server.Server
	cache  *cache.Cache // nil when disabled or unavailable
	// requests holds the decision traces; nil when disabled or unavailable.
	requests *requestlog.Log
	// ledger records spend; nil when it cannot be opened. checker holds
	// the budgets of the config in use.
	ledger  *spend.Ledger
	checker atomic.Pointer[spend.Checker]
	hosts   *router.Hosts // which upstream hosts are out of reach; survives reloads
	chaos   *chaos.Switch // survives reloads
	// localModel is the Ollama model the offline tier last picked.
	localModel atomic.Value
	stop       context.CancelFunc // ends background work (the offline probe)
	// config is the config in use; configErr the last reload's failure.
	config    atomic.Pointer[config.Config]
	configErr atomic.Pointer[server.ConfigState]
	loadedAt  atomic.Int64 // unix nanos of the last successful (re)load
	// startCfg is the config the gateway started with: the settings read
	// only at start (listen, cache) are its.
	startCfg *config.Config
	// addr is the address Serve listens on; "" before.
	addr     atomic.Value
	stats    *stats.Recorder
	saveMu   sync.Mutex // one settings save at a time
	reloadMu sync.Mutex // one Reload at a time
	// applied is the revision of the file content last applied, "" when
	// unknown (at start, or a Reload of a config made in code). Guarded
	// by reloadMu.
	applied string
	// responses keeps the Responses API's stored answers; nil when it
	// could not be opened.
	responses *responsestore.Store
	// secrets are the key values to redact from everything that leaves.
	secrets *redact.Secrets
	// local checks local keys while local auth is on; nil while it is off.
	local atomic.Pointer[localauth.Checker]
	// alerts evaluates the alert rules.
	alerts *alerts.Engine
}

// New builds a Gateway from a loaded config.
func New(cfg *config.Config, o Options) (*Gateway, error) {
	if o.Keys == nil {
		o.Keys = keystore.Keyring{}
	}
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if o.HTTPClient == nil {
		o.HTTPClient = NewHTTPClient()
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	if o.Rand == nil {
		o.Rand = rand.Float64 // safe for concurrent use
	}
	if o.ShutdownGrace <= 0 {
		o.ShutdownGrace = DefaultShutdownGrace
	}
	// Every key the resolver hands out is removed, by value, from every
	// log line, error answer and request log record from then on.
	secrets := &redact.Secrets{}
	o.Logger = slog.New(redact.NewHandler(o.Logger.Handler(), secrets))
	g := &Gateway{opts: o, secrets: secrets, startCfg: cfg, stats: stats.New(o.Clock.Now),
		keys: &keystore.Resolver{Store: o.Keys, Getenv: o.Getenv, Now: o.Clock.Now, Found: secrets.Add}}
	g.config.Store(cfg)
	g.loadedAt.Store(time.Now().UnixNano())
	var bg context.Context
	bg, g.stop = context.WithCancel(context.Background())
	g.hosts = router.NewHosts(bg, nil, cfg.Detour.Offline.ProbeInterval, o.Logger)
	g.hosts.OnChange = g.stats.Changed // the dashboard's status and health follow at once
	g.chaos = chaos.New(o.Clock, o.Logger)
	if g.ledger = openLedger(cfg.Detour.SpendPath, o); g.ledger != nil {
		c, err := newChecker(cfg.Detour.Budgets, g.ledger)
		if err != nil {
			g.stop()
			g.ledger.Close()
			return nil, fmt.Errorf("budgets: %w", err)
		}
		g.checker.Store(c)
	}
	go g.probeLoop(bg, cfg.Detour.Offline.ProbeInterval)
	r, err := g.buildRouter(cfg, nil)
	if err != nil {
		g.stop()
		return nil, err
	}
	g.router.Store(r)
	g.hosts.SetCloud(cloudHosts(cfg, o.Getenv))
	g.cache = openCache(cfg.Detour.Cache, o)
	g.requests = openRequestLog(cfg.Detour.RequestLog, o)
	g.responses = openResponseStore(cfg.Detour.ResponsesPath, o)
	g.restoreStats()
	sopts := server.Options{Router: g.router.Load, Logger: o.Logger, MaxBodyBytes: cfg.Detour.MaxBodyBytes,
		Door: g.door(cfg), Limits: limits(cfg.Detour.Server), Secrets: secrets, LocalKeys: localKeys{g},
		Config: g.ConfigState, Admin: admin{g}, Keys: keys{g}, Stats: g.stats, Settings: settingsStore{g},
		App:       server.App{Version: o.Version, Desktop: o.Quit != nil, Autostart: o.Autostart, Quit: o.Quit},
		Listening: g.listening, Dashboard: frontend.Dist(),
		Offline: func() bool { off, _ := g.hosts.Offline(); return off }}
	sopts.LocalTier = g.localTierState()
	if g.cache != nil {
		sopts.Cache, sopts.CacheAdmin = g.cache, g.cache
		path, _ := CachePath(cfg.Detour.Cache)
		sopts.CacheInfo = func() server.CacheInfo {
			c := g.config.Load().Detour.Cache
			return server.CacheInfo{Path: path, TTL: c.TTL, MaxBytes: c.MaxBytes}
		}
	}
	if g.requests != nil {
		sopts.RequestLog, sopts.LogPrompts = g.requests, cfg.Detour.RequestLog.Prompts
	}
	if g.responses != nil {
		sopts.Responses = g.responses
	}
	if g.ledger != nil {
		sopts.Budgets = budgets{g}
		sopts.Spend = func() spend.Totals { return g.ledger.Totals(g.opts.Clock.Now()) }
	}
	g.withMetrics(&sopts)
	g.withAlerts(bg, &sopts)
	g.api = server.New(sopts)
	return g, nil
}

// CachePath returns where the response cache of c lives: c.Path, else
// <user cache dir>/detour/cache.db.
func CachePath(c config.Cache) (string, error) {
	if c.Path != "" {
		return c.Path, nil
	}
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("find the user cache directory: %w; set detour.cache.path", err)
	}
	return filepath.Join(dir, "detour", "cache.db"), nil
}

// openCache opens the response cache, or returns nil: a cache that cannot
// be opened (another Detour holds it, the disk is read-only) must not stop
// the gateway, which then runs without one and says why.
func openCache(c config.Cache, o Options) *cache.Cache {
	if !c.Enabled {
		return nil
	}
	path, err := CachePath(c)
	if err == nil {
		stale := c.StaleTTL
		if stale == 0 {
			stale = -1 // config's 0 keeps nothing stale; the cache's 0 means its default
		}
		var rc *cache.Cache
		rc, err = cache.Open(path, cache.Options{TTL: c.TTL, StaleTTL: stale, MaxBytes: c.MaxBytes, Mode: cache.Mode(c.Mode), Clock: o.Clock, Logger: o.Logger})
		if err == nil {
			return rc
		}
	}
	msg := "running without a response cache"
	if errors.Is(err, cache.ErrLocked) {
		msg += ": another Detour is using it"
	}
	o.Logger.Warn(msg, "path", path, "err", err)
	return nil
}

// Cache returns the response cache, nil when there is none.
func (g *Gateway) Cache() *cache.Cache { return g.cache }

// Close releases what the gateway holds: it writes out and closes the
// response cache. Call it after Serve returns.
func (g *Gateway) Close() error {
	g.stop()
	var errs []error
	if g.ledger != nil {
		errs = append(errs, g.ledger.Close())
	}
	if g.requests != nil {
		errs = append(errs, g.requests.Close())
	}
	if g.responses != nil {
		errs = append(errs, g.responses.Close())
	}
	if g.cache != nil {
		errs = append(errs, g.cache.Close())
	}
	return errors.Join(errs...)
}

// openRequestLog opens the decision-trace log, or returns nil (and says
// why): the gateway runs without one rather than not at all.
func openRequestLog(c config.RequestLog, o Options) *requestlog.Log {
	if !c.Enabled {
		return nil
	}
	path := c.Path
	if path == "" {
		dir, err := os.UserCacheDir()
		if err != nil {
			o.Logger.Warn("running without a request log", "err", err)
			return nil
		}
		path = filepath.Join(dir, "detour", "requests.db")
	}
	l, err := requestlog.Open(path, requestlog.Options{Keep: c.Keep, Logger: o.Logger})
	if err != nil {
		o.Logger.Warn("running without a request log", "path", path, "err", err)
		return nil
	}
	return l
}

// openResponseStore opens the store of Responses API answers, or returns
// nil (and says why): the gateway runs without one rather than not at all.
func openResponseStore(path string, o Options) *responsestore.Store {
	if path == "" {
		dir, err := os.UserCacheDir()
		if err != nil {
			o.Logger.Warn("running without a response store (previous_response_id will find nothing)", "err", err)
			return nil
		}
		path = filepath.Join(dir, "detour", "responses.db")
	}
	s, err := responsestore.Open(path, responsestore.Options{Now: o.Clock.Now, Logger: o.Logger})
	if err != nil {
		o.Logger.Warn("running without a response store (previous_response_id will find nothing)", "path", path, "err", err)
		return nil
	}
	return s
}

// Handler returns the gateway's HTTP API and dashboard, as Serve serves
// them to the network: /api and /ui answer loopback hosts only and refuse
// foreign origins.
func (g *Gateway) Handler() http.Handler { return g.api }

// InProcessHandler returns the API for Detour's own desktop window, whose
// requests never cross the network: Wails hands them to Go in-process
// under its own scheme and host, so the browser guards of Handler do not
// apply (no other page can reach this handler).
func (g *Gateway) InProcessHandler() http.Handler { return g.api.InProcess() }

// restoreStats puts the last day of the request log back into the
// dashboard's numbers, so a restart does not blank the chart and the
// failovers of the last 24 hours (as far back as the log keeps).
func (g *Gateway) restoreStats() {
	if g.requests == nil {
		return
	}
	n := g.config.Load().Detour.RequestLog.Keep
	if n <= 0 {
		n = requestlog.DefaultKeep
	}
	recs, err := g.requests.Recent(n)
	if err != nil {
		g.opts.Logger.Warn("the dashboard's numbers start at zero: the request log could not be read", "err", err)
		return
	}
	since := g.opts.Clock.Now().Add(-stats.Window)
	for i := len(recs) - 1; i >= 0; i-- { // oldest first
		if recs[i].Time.After(since) {
			g.stats.Restore(server.StatsRequest(recs[i]))
		}
	}
}

// listening returns the address Serve listens on, "" before it does.
func (g *Gateway) listening() string {
	a, _ := g.addr.Load().(string)
	return a
}

// Router returns the router in use.
func (g *Gateway) Router() *router.Router { return g.router.Load() }

// Serve serves the API on ln until ctx is done, then stops accepting
// connections and lets requests in flight, streams included, finish for up
// to ShutdownGrace before closing them.
func (g *Gateway) Serve(ctx context.Context, ln net.Listener) error {
	g.addr.Store(ln.Addr().String())
	g.api.SetDoor(g.door(g.config.Load()), g.listening())
	srv := g.api.HTTPServer(slog.NewLogLogger(g.opts.Logger.Handler(), slog.LevelWarn))
	done := make(chan error, 1)
	go func() { done <- srv.Serve(server.Listener(ln)) }()
	select {
	case err := <-done:
		return fmt.Errorf("serve %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	g.opts.Logger.Info("shutting down: waiting for requests in flight", "grace", g.opts.ShutdownGrace)
	sctx, cancel := context.WithTimeout(context.Background(), g.opts.ShutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
		return fmt.Errorf("shutdown: requests still running after %s were cut: %w", g.opts.ShutdownGrace, err)
	}
	if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// buildRouter builds a router for cfg, keeping cooldown state from prev
// when there is one.
func (g *Gateway) buildRouter(cfg *config.Config, prev *router.Router) (*router.Router, error) {
	settings := router.Settings{
		NumRetries:       cfg.Router.NumRetries,
		Cooldown:         cooldown.Policy{AllowedFails: cfg.Router.AllowedFails, Duration: cfg.Router.CooldownTime},
		DefaultFallbacks: cfg.Router.DefaultFallbacks,
		MaxFallbacks:     cfg.Router.MaxFallbacks,
		Timeout:          cfg.Router.Timeout,
		Aliases:          cfg.Router.Aliases,
		MaxCooldownWait:  cfg.Detour.MaxCooldownWait,
	}
	if settings.MaxCooldownWait == 0 {
		settings.MaxCooldownWait = -1 // the config's 0 is "never wait"; the router's 0 its default
	}
	settings.Fallbacks = fallbackTable(cfg.Router.Fallbacks)
	settings.ContextWindowFallbacks = fallbackTable(cfg.Router.ContextWindowFallbacks)
	settings.ContentPolicyFallbacks = fallbackTable(cfg.Router.ContentPolicyFallbacks)
	deployments := make([]router.Deployment, 0, len(cfg.Models))
	auto := map[string]*complexity.Router{}
	for _, d := range cfg.Models {
		if d.Complexity != nil && d.Provider == "auto_router" {
			cr, err := newComplexityRouter(d.Complexity)
			if err != nil {
				return nil, fmt.Errorf("deployment %s (line %d): %w", d.ID, d.Line, err)
			}
			auto[d.Group] = cr
			continue
		}
		client, err := g.newProvider(d)
		if err != nil {
			return nil, fmt.Errorf("deployment %s (line %d): %w", d.ID, d.Line, err)
		}
		host, _ := deploymentHost(d, g.opts.Getenv)
		deployments = append(deployments, router.Deployment{
			Probe: g.probeFunc(d, client),
			ID:    d.ID, Group: d.Group, Provider: d.Provider, Model: d.UpstreamModel, Host: host,
			Weight: d.Weight, RPM: d.RPM, TPM: d.TPM, Order: d.Order, Tags: d.Tags, MaxInputTokens: priceOf(d).MaxInputTokens,
			Timeout: d.Timeout, StreamTimeout: d.StreamTimeout,
			Price:  priceOf(d),
			Client: client,
		})
	}
	strategy, err := router.NewStrategy(cfg.Router.RoutingStrategy, g.opts.Rand, cfg.Router.LowestLatencyBuffer)
	if err != nil {
		return nil, err
	}
	opts := router.Options{Clock: g.opts.Clock, Rand: g.opts.Rand, Strategy: strategy, EstimateTokens: spend.EstimateTokens,
		Auto: auto, Budget: routeBudget{g}, Hosts: g.hosts, Degrade: g.degradeOptions(cfg)}
	if prev != nil {
		opts.Stats = prev.Stats()
		opts.Affinity = prev.Affinity()
		opts.Cooldowns = prev.Cooldowns()
		opts.Cooldowns.SetPolicy(settings.Cooldown)
	}
	return router.New(deployments, settings, opts)
}

// newComplexityRouter builds the complexity router a deployment configures.
func newComplexityRouter(c *config.Complexity) (*complexity.Router, error) {
	tiers := map[complexity.Tier]string{}
	for t, g := range c.Tiers {
		tier, err := complexity.ParseTier(t)
		if err != nil {
			return nil, err
		}
		tiers[tier] = g
	}
	return complexity.New(complexity.Config{Tiers: tiers, Default: c.Default, Thresholds: complexity.Thresholds{
		SimpleMedium: c.SimpleMedium, MediumComplex: c.MediumComplex, ComplexReasoning: c.ComplexReasoning}})
}

// priceOf is a deployment's price: Detour's table, with model_info's
// prices and context window taking precedence where set.
func priceOf(d config.Deployment) spend.Price {
	p, _ := spend.Lookup(d.Provider, d.UpstreamModel)
	if d.Info.InputCostPerToken > 0 || d.Info.OutputCostPerToken > 0 {
		p.Input, p.Output, p.CachedInput, p.LongContext = d.Info.InputCostPerToken, d.Info.OutputCostPerToken, 0, spend.LongContextPrice{}
	}
	if d.Info.MaxInputTokens > 0 {
		p.MaxInputTokens = d.Info.MaxInputTokens
	}
	if d.Info.MaxOutputTokens > 0 {
		p.MaxOutputTokens = d.Info.MaxOutputTokens
	}
	return p
}

// fallbackTable turns config fallbacks into the router's group → groups map.
func fallbackTable(fs []config.Fallback) map[string][]string {
	t := map[string][]string{}
	for _, f := range fs {
		t[f.Group] = append(t[f.Group], f.To...)
	}
	return t
}

// newProvider builds the adapter for one deployment.
func (g *Gateway) newProvider(d config.Deployment) (provider.Provider, error) {
	spec, ok := provider.Lookup(d.Provider)
	if !ok {
		return nil, fmt.Errorf("unknown provider %q", d.Provider)
	}
	if spec.Wire == provider.WireMock {
		return g.chaos.Wrap(d.ID, mock.New(mock.Options{Model: d.UpstreamModel, Response: d.Mock.Response, Latency: d.Mock.Latency,
			Status: d.Mock.Status, FailRate: d.Mock.FailRate, Clock: g.opts.Clock, Rand: g.opts.Rand})), nil
	}
	base := baseURL(d, spec, g.opts.Getenv)
	if base == "" {
		return nil, fmt.Errorf("no api_base for %s: set it in the config or in $%s", d.Provider, spec.EnvBase)
	}
	key, src := g.keyFunc(d.Key)
	opts := openai.Options{Name: spec.Name, BaseURL: base, Model: d.UpstreamModel,
		Key: key, Organization: d.Organization, HTTPClient: g.clientFor(d.ID), NoStreamOptions: spec.NoStreamOptions,
		// OpenAI's own API serves Responses clients their own bytes; an
		// OpenAI-compatible server under openai/ may not have the endpoint.
		Responses: spec.Name == "openai" && sameHost(base, spec.BaseURL)}
	if d.ResponsesAPI != nil {
		opts.Responses = *d.ResponsesAPI
	}
	var client provider.Provider
	switch spec.Wire {
	case provider.WireOpenAI:
		client = openai.New(opts)
	case provider.WireAnthropic:
		client = anthropic.New(anthropic.Options{Name: spec.Name, BaseURL: base, Model: d.UpstreamModel,
			Key: key, MaxOutputTokens: d.Info.MaxOutputTokens, HTTPClient: g.clientFor(d.ID)})
	case provider.WireGemini:
		client = gemini.New(gemini.Options{Name: spec.Name, BaseURL: base, Model: d.UpstreamModel,
			Key: key, HTTPClient: g.clientFor(d.ID)})
	case provider.WireOllama:
		client = ollama.New(ollama.Options{Name: spec.Name, BaseURL: base, Model: d.UpstreamModel,
			Key: key, NumCtx: d.NumCtx, HTTPClient: g.clientFor(d.ID)})
	case provider.WireAzure:
		version := d.APIVersion
		if version == "" {
			version = g.opts.Getenv("AZURE_API_VERSION")
		}
		client = openai.NewAzure(opts, version)
	default:
		return nil, fmt.Errorf("provider %q has no adapter yet", d.Provider)
	}
	client = g.chaos.Wrap(d.ID, client)
	if key == nil {
		return client, nil
	}
	f := forgetOnAuth{Provider: client, forget: func() { g.keys.Forget(src) }}
	if e, ok := client.(provider.Embedder); ok {
		return forgetOnAuthEmbedder{f, e}, nil
	}
	return f, nil
}

// sameHost reports whether URLs a and b name the same host.
func sameHost(a, b string) bool {
	ua, err1 := url.Parse(a)
	ub, err2 := url.Parse(b)
	return err1 == nil && err2 == nil && strings.EqualFold(ua.Host, ub.Host)
}

// keyFunc returns how a deployment gets its key; nil when it sends none.
func (g *Gateway) keyFunc(ref config.KeyRef) (provider.KeyFunc, keystore.Source) {
	var src keystore.Source
	switch ref.Source {
	case config.KeyNone:
		return nil, src
	case config.KeyEnv:
		src.Env = ref.Name
	case config.KeyKeychain:
		src.Keychain = ref.Name
	case config.KeyDefault:
		src.Keychain, src.Env = ref.Name, ref.EnvFallback
	}
	return func(ctx context.Context) (string, error) { return g.keys.Key(ctx, src) }, src
}

// forgetOnAuth drops a cached key when the provider rejects it, so a key
// replaced in the keychain is used on the next request.
type forgetOnAuth struct {
	provider.Provider
	forget func()
}

// Unwrap returns the provider forgetOnAuth wraps.
func (f forgetOnAuth) Unwrap() provider.Provider { return f.Provider }

func (f forgetOnAuth) Chat(ctx context.Context, req *chat.Request) (*chat.Response, error) {
	resp, err := f.Provider.Chat(ctx, req)
	f.check(err)
	return resp, err
}

func (f forgetOnAuth) Stream(ctx context.Context, req *chat.Request) (provider.Stream, error) {
	s, err := f.Provider.Stream(ctx, req)
	f.check(err)
	return s, err
}

// forgetOnAuthEmbedder is forgetOnAuth for a provider with embeddings.
type forgetOnAuthEmbedder struct {
	forgetOnAuth
	embedder provider.Embedder
}

func (f forgetOnAuthEmbedder) Embed(ctx context.Context, req *chat.EmbeddingRequest) (*chat.EmbeddingResponse, error) {
	resp, err := f.embedder.Embed(ctx, req)
	f.check(err)
	return resp, err
}

func (f forgetOnAuth) check(err error) {
	var pe *provider.Error
	if errors.As(err, &pe) && pe.Class == provider.Auth {
		f.forget()
	}
}

// NewHTTPClient returns the client Detour calls providers with: proxy from
// the environment, HTTP/2, pooled connections, bounded dial and TLS
// handshake. It has no overall timeout: each request's context bounds it.
func NewHTTPClient() *http.Client {
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Client{Transport: &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}}
}

// Reload makes cfg the config in use: new requests route with it, while
// requests in flight finish on the router they started with. Cooldown
// state carries over for every deployment whose id did not change.
// Settings read only at start (detour.listen, max_body_bytes, and the
// cache's enabled, path and stale_ttl) keep their old values until a
// restart, with a warning; the cache's ttl, max_bytes and mode apply at
// once.
func (g *Gateway) Reload(cfg *config.Config) error { return g.reload(cfg, "") }

// reload is Reload of the file content whose revision is rev ("" when
// it did not come from the file).
func (g *Gateway) reload(cfg *config.Config, rev string) error {
	// One reload at a time: the watcher and a settings save may both
	// reload, and each compares against the config it replaces.
	g.reloadMu.Lock()
	defer g.reloadMu.Unlock()
	prev := g.config.Load()
	r, err := g.buildRouter(cfg, g.router.Load())
	if err != nil {
		return err
	}
	pc, nc := prev.Detour.Cache, cfg.Detour.Cache
	if limits(prev.Detour.Server) != limits(cfg.Detour.Server) {
		g.opts.Logger.Warn("config: detour.server's timeouts and limits take effect after a restart; its hosts, origins and auth apply now")
	}
	if prev.Detour.Listen != cfg.Detour.Listen || prev.Detour.MaxBodyBytes != cfg.Detour.MaxBodyBytes ||
		pc.Enabled != nc.Enabled || pc.Path != nc.Path || pc.StaleTTL != nc.StaleTTL {
		g.opts.Logger.Warn("config: the detour section changed; listen, max_body_bytes and cache enabled, path and stale_ttl take effect after a restart")
	}
	if g.cache != nil && (pc.TTL != nc.TTL || pc.MaxBytes != nc.MaxBytes) {
		g.cache.SetLimits(nc.TTL, nc.MaxBytes)
	}
	if g.cache != nil && pc.Mode != nc.Mode {
		g.cache.SetMode(cache.Mode(nc.Mode))
	}
	if g.ledger != nil {
		c, err := newChecker(cfg.Detour.Budgets, g.ledger)
		if err != nil {
			return fmt.Errorf("budgets: %w", err)
		}
		g.checker.Store(c)
	}
	g.router.Store(r)
	g.hosts.SetCloud(cloudHosts(cfg, g.opts.Getenv))
	g.config.Store(cfg)
	g.api.SetDoor(g.door(cfg), g.listening())
	g.configErr.Store(nil)
	g.loadedAt.Store(time.Now().UnixNano())
	g.applied = rev
	g.stats.Changed()
	return nil
}

// ConfigState tells which config is in use and why the last reload
// failed, if it did.
func (g *Gateway) ConfigState() server.ConfigState {
	if s := g.configErr.Load(); s != nil {
		return *s
	}
	return server.ConfigState{Path: g.config.Load().Path, LoadedAt: time.Unix(0, g.loadedAt.Load()).UTC()}
}

// WatchConfig reloads the config file at path whenever its content
// changes, until ctx is done. A file that does not parse leaves the last
// good config running; the problems, with their lines, go to the log,
// /health and /api/v1/config until a fixed file clears them. ready, if not
// nil, is called once the watch is in place.
func (g *Gateway) WatchConfig(ctx context.Context, path string, ready func()) error {
	current, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("watch the config: %w", err)
	}
	missing := func() {
		msg := "the config file was deleted; still running the last good config until the file is back"
		g.opts.Logger.Error(msg, "file", path)
		g.configErr.Store(&server.ConfigState{Path: path, LoadedAt: time.Unix(0, g.loadedAt.Load()).UTC(),
			Error: &server.ConfigError{Message: msg}})
		g.stats.Changed()
	}
	return watch.Run(ctx, path, current, watch.Options{Logger: g.opts.Logger, Ready: ready, Missing: missing}, func(content []byte) {
		g.reloadFrom(path, content)
	})
}

// reloadFrom parses content, the config file at path, and reloads it.
func (g *Gateway) reloadFrom(path string, content []byte) {
	rev := revision(content)
	g.reloadMu.Lock()
	inUse := rev == g.applied
	g.reloadMu.Unlock()
	if inUse {
		// The file holds the config in use: the dashboard's own save, or
		// a broken edit undone. Any error shown for the file is past.
		if g.configErr.Swap(nil) != nil {
			g.stats.Changed()
		}
		return
	}
	cfg, warnings, err := config.Parse(content)
	for _, w := range warnings {
		g.opts.Logger.Warn("config: "+w.Message, "file", path, "line", w.Line, "key", w.Key)
	}
	if err == nil {
		cfg.Path = path
		err = g.reload(cfg, rev)
	}
	if err == nil {
		g.opts.Logger.Info("config reloaded", "file", path, "model_groups", len(cfg.Groups()), "deployments", len(cfg.Models))
		return
	}
	state := server.ConfigState{Path: path, LoadedAt: time.Unix(0, g.loadedAt.Load()).UTC(),
		Error: &server.ConfigError{Message: "the config file has errors; still running the last good config: " + err.Error()}}
	var cerr *config.Error
	if errors.As(err, &cerr) {
		state.Error.Message = fmt.Sprintf("the config file has %d error(s); still running the last good config", len(cerr.Problems))
		for _, p := range cerr.Problems {
			state.Error.Problems = append(state.Error.Problems, server.ConfigProblem{Line: p.Line, Key: p.Key, Message: p.Message})
			g.opts.Logger.Error("config reload failed; still running the last good config", "file", path, "line", p.Line, "key", p.Key, "problem", p.Message)
		}
	} else {
		g.opts.Logger.Error("config reload failed; still running the last good config", "file", path, "err", err)
	}
	g.configErr.Store(&state)
	g.stats.Changed()
}

// RequestLog returns the decision-trace log, nil when there is none.
func (g *Gateway) RequestLog() *requestlog.Log { return g.requests }
