package app

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/detour-gateway/detour/config"
	"github.com/detour-gateway/detour/router/provider"
	"github.com/detour-gateway/detour/router/provider/ollama"
	"github.com/detour-gateway/detour/server"
)

// localStateTTL is how long a check of the local tier is reused: the
// dashboard polls the status about every 2 seconds while offline, and
// every open window does, so Ollama is asked at most once per TTL.
// 5 seconds: a freshly started Ollama shows up within that.
const localStateTTL = 5 * time.Second

// localStateTimeout bounds one check. A local Ollama lists its models in
// milliseconds; one that has not in 2 seconds cannot answer requests
// either, and the dashboard's poll must not hang on it.
const localStateTimeout = 2 * time.Second

// localState checks what the local tier of the config in use can do now:
// whether Ollama runs and has the model the tier would answer with. It
// asks Ollama's list of models (GET /api/tags), which sends nothing to a
// model and loads none. It is safe for concurrent use.
type localState struct {
	config  func() config.Offline
	getenv  func(string) string
	client  *http.Client
	now     func() time.Time
	ttl     time.Duration
	timeout time.Duration

	sem chan struct{} // held by the one check in flight

	mu    sync.Mutex
	valid bool
	cfg   config.Offline // the settings last checked
	at    time.Time      // when
	last  server.LocalTierState
}

// newLocalState returns a check of the local tier cfg describes, reading
// $OLLAMA_HOST through getenv as the tier does, asking Ollama through
// client and reading the time from now for its cache.
func newLocalState(cfg func() config.Offline, getenv func(string) string, client *http.Client, now func() time.Time) *localState {
	return &localState{config: cfg, getenv: getenv, client: client, now: now, ttl: localStateTTL, timeout: localStateTimeout,
		sem: make(chan struct{}, 1)}
}

// localTierState returns the check the dashboard's status reads while
// offline (server.Options.LocalTier), on the config in use. Its cache
// runs on the real clock, not Options.Clock: it spaces out real calls to
// a real Ollama, as localTier.pick does.
func (g *Gateway) localTierState() server.LocalTierFunc {
	cfg := func() config.Offline { return g.config.Load().Detour.Offline }
	return newLocalState(cfg, g.opts.Getenv, g.opts.HTTPClient, time.Now).State
}

// State reports what the local tier can do, from a check at most ttl
// old. Concurrent callers share one check; a caller whose ctx ends while
// another check runs is told the state is unknown.
func (l *localState) State(ctx context.Context) server.LocalTierState {
	cfg := l.config()
	if !cfg.Enabled {
		return server.LocalTierState{State: server.LocalTierDisabled,
			Message: "detour.offline.enabled is false: nothing answers while the cloud is out of reach"}
	}
	if st, ok := l.cached(cfg); ok {
		return st
	}
	select {
	case l.sem <- struct{}{}:
	case <-ctx.Done():
		return server.LocalTierState{State: server.LocalTierUnknown}
	}
	defer func() { <-l.sem }()
	if st, ok := l.cached(cfg); ok { // checked while this caller waited
		return st
	}
	// The check outlives a caller that gives up, so its answer is
	// cached for the next one instead of being thrown away.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), l.timeout)
	defer cancel()
	st := l.check(cctx, cfg)
	l.mu.Lock()
	l.valid, l.cfg, l.at, l.last = true, cfg, l.now(), st
	l.mu.Unlock()
	return st
}

// cached returns the last check if it is of cfg and younger than ttl.
func (l *localState) cached(cfg config.Offline) (server.LocalTierState, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.valid || !l.cfg.Equal(cfg) {
		return server.LocalTierState{}, false
	}
	if age := l.now().Sub(l.at); age < 0 || age >= l.ttl {
		return server.LocalTierState{}, false
	}
	return l.last, true
}

// check asks Ollama for its models and judges them against cfg the way
// the local tier chooses its model (see localTier.deployment).
func (l *localState) check(ctx context.Context, cfg config.Offline) server.LocalTierState {
	base := cfg.OllamaHost
	if base == "" {
		base = l.getenv("OLLAMA_HOST")
	}
	where := base
	if u, err := ollama.ParseHost(base); err == nil {
		where = u.String()
	}
	names, err := ollama.New(ollama.Options{Name: "ollama", BaseURL: base, HTTPClient: l.client}).List(ctx)
	if err != nil {
		return listFailed(err, where, l.timeout)
	}
	var st server.LocalTierState
	if cfg.Model != "" {
		if !pulled(names, cfg.Model) {
			return server.LocalTierState{State: server.LocalTierNoModel, Model: cfg.Model,
				Message: fmt.Sprintf("%s (detour.offline.model) is not pulled: run ollama pull %s", cfg.Model, cfg.Model)}
		}
		st = server.LocalTierState{State: server.LocalTierReady, Model: cfg.Model}
	} else {
		model := firstChatModel(names)
		if model == "" {
			return server.LocalTierState{State: server.LocalTierNoModel,
				Message: "Ollama has no chat model pulled: run ollama pull llama3.2, or set detour.offline.model"}
		}
		st = server.LocalTierState{State: server.LocalTierReady, Model: model}
	}
	// Groups with their own model fail while it is missing, though the
	// others are answered: say which.
	var missing []string
	for group, model := range cfg.Map {
		if !pulled(names, model) {
			missing = append(missing, fmt.Sprintf("%s (for %s)", model, group))
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		st.Message = "not pulled, so their groups fail: " + strings.Join(missing, ", ")
	}
	return st
}

// listFailed is the state when Ollama's list could not be read.
func listFailed(err error, where string, timeout time.Duration) server.LocalTierState {
	pe := provider.AsError(err)
	switch {
	case pe.Unreachable:
		return server.LocalTierState{State: server.LocalTierNotRunning,
			Message: fmt.Sprintf("nothing answers at %s: start Ollama (ollama serve), or set detour.offline.ollama_host", where)}
	case pe.Class == provider.Timeout:
		return server.LocalTierState{State: server.LocalTierFailing,
			Message: fmt.Sprintf("Ollama at %s did not list its models within %s", where, timeout)}
	case pe.Local:
		return server.LocalTierState{State: server.LocalTierFailing, Message: "detour.offline.ollama_host: " + pe.Message}
	default:
		return server.LocalTierState{State: server.LocalTierFailing, Message: fmt.Sprintf("Ollama at %s: %s", where, pe.Message)}
	}
}

// firstChatModel is the model the local tier picks when the config names
// none: the first in Ollama's list that is not an embedding model.
func firstChatModel(names []string) string {
	for _, n := range names {
		if !strings.Contains(strings.ToLower(n), "embed") {
			return n
		}
	}
	return ""
}

// pulled reports whether model is among names as Ollama matches a model
// name: case aside, without the default registry and namespace, and with
// ":latest" when no tag is given ("llama3.2" is "llama3.2:latest").
func pulled(names []string, model string) bool {
	want := canonicalModel(model)
	return slices.ContainsFunc(names, func(n string) bool { return canonicalModel(n) == want })
}

func canonicalModel(name string) string {
	n := strings.ToLower(strings.TrimSpace(name))
	n = strings.TrimPrefix(n, "registry.ollama.ai/")
	n = strings.TrimPrefix(n, "library/")
	if i := strings.LastIndex(n, "/"); !strings.Contains(n[i+1:], ":") {
		n += ":latest"
	}
	return n
}
