// Package router is Detour's engine. It holds the model groups and their
// deployments and, for each request, picks a deployment, sends the request,
// and on failure retries, cools the deployment, and falls back to other
// groups, deciding from the failure's class alone. It knows nothing of HTTP
// servers or windows.
package router

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/detour-gateway/detour/chat"
	"github.com/detour-gateway/detour/clock"
	"github.com/detour-gateway/detour/router/complexity"
	"github.com/detour-gateway/detour/router/cooldown"
	"github.com/detour-gateway/detour/router/provider"
	"github.com/detour-gateway/detour/spend"
)

// ErrUnknownGroup is returned for a request naming no configured model group.
var ErrUnknownGroup = errors.New("unknown model group")

// DefaultMaxCooldownWait is Settings.MaxCooldownWait when unset: 3 seconds.
const DefaultMaxCooldownWait = 3 * time.Second

// Deployment is one model at one provider with one key: the unit the router
// picks, retries and cools.
type Deployment struct {
	// ID is stable across restarts and reloads (see config).
	ID string
	// Group is the model group (model_name) it serves.
	Group string
	// Provider is the provider's name ("openai", "groq", "mock", …).
	Provider string
	// Model is the upstream model name.
	Model string
	// Weight, RPM and TPM weigh simple-shuffle; RPM and TPM are also the
	// limits of usage-based routing. 0 means unset.
	Weight, RPM, TPM int
	// Tags are the deployment's compliance tags ("eu", "hipaa").
	Tags []string
	// MaxInputTokens is the deployment's context window in tokens; 0 means
	// unknown (not checked).
	MaxInputTokens int
	// Order is the deployment's tier: a deployment of a higher order is
	// used only when every one of a lower order is unavailable. 0 (unset)
	// comes first.
	Order int
	// Timeout bounds one attempt, a whole stream included. Zero means only
	// the request's deadline applies.
	Timeout time.Duration
	// StreamTimeout bounds the wait for a stream's first content chunk.
	// Zero means Timeout.
	StreamTimeout time.Duration
	// Price is what the deployment charges (model_info, else Detour's
	// price table); zero when unknown.
	Price spend.Price
	// Host is the upstream "host:port" the deployment's requests go to;
	// while Options.Hosts has it out of reach the deployment is skipped.
	// Empty means none (the mock): never skipped.
	Host string
	// Client sends the requests.
	Client provider.Provider
	// Probe, if set, sends the deployment a real, minimal request of its
	// own kind (a one-token chat, an embedding of one word) to learn
	// whether it is back, while it is half-open; without it the next real
	// request is let through as the trial.
	Probe func(ctx context.Context) error
}

// Settings are the router_settings that shape routing.
type Settings struct {
	// NumRetries is how many times a group retries after its first
	// attempt, before falling back.
	NumRetries int
	// Cooldown decides when deployments leave rotation.
	Cooldown cooldown.Policy
	// Fallbacks maps a group to the groups tried, in order, when it fails.
	// The key "*" applies to every group.
	Fallbacks map[string][]string
	// ContextWindowFallbacks are tried, instead, when the request is too
	// long for the group (context_window_exceeded).
	ContextWindowFallbacks map[string][]string
	// ContentPolicyFallbacks are tried, instead, when the group's provider
	// refused the content (content_policy).
	ContentPolicyFallbacks map[string][]string
	// DefaultFallbacks apply to groups with no entry in Fallbacks.
	DefaultFallbacks []string
	// MaxFallbacks bounds how many fallback groups one request tries.
	// Zero means none.
	MaxFallbacks int
	// MaxCooldownWait bounds how long a request waits for a cooling
	// deployment to come back when it has nowhere else to go (no
	// fallback group, no local tier). Zero means DefaultMaxCooldownWait;
	// negative means never wait.
	MaxCooldownWait time.Duration
	// Timeout bounds a whole request, fallbacks included. Zero means 600 s.
	Timeout time.Duration
	// RetryBase is the first backoff before retrying a deployment already
	// tried in this request. Zero means 500 ms. It doubles per retry.
	RetryBase time.Duration
	// RetryMax caps the backoff. Zero means 30 s.
	RetryMax time.Duration
	// Aliases maps model names clients send to the groups that serve
	// them (LiteLLM's model_group_alias); nil means none.
	Aliases map[string]string
}

// Options are the router's injected dependencies.
type Options struct {
	// Clock times backoff and cooldowns. Nil means the real clock.
	Clock clock.Clock
	// Rand returns numbers in [0, 1) for shuffles and jitter; it must be
	// safe for concurrent use. Nil means math/rand/v2's Float64.
	Rand func() float64
	// Cooldowns is the cooldown state. Nil means a fresh Tracker. Pass the
	// previous router's Tracker on reload to keep the state.
	Cooldowns *cooldown.Tracker
	// Strategy picks among a group's deployments. Nil means SimpleShuffle
	// with Rand.
	Strategy Strategy
	// Stats are the live numbers strategies use. Nil means fresh ones;
	// pass the previous router's on reload.
	Stats *Stats
	// EstimateTokens estimates a request's prompt tokens for the
	// strategies. Nil means 0.
	EstimateTokens func(*chat.Request) int
	// Auto maps model groups served by a complexity router to it: each
	// request to such a group goes to the group its tier names.
	Auto map[string]*complexity.Router
	// Budget, if set, reserves each attempt's estimated cost before it is
	// sent and records what the answer cost.
	Budget Budget
	// Affinity is the session-affinity table. Nil means a fresh one; pass
	// the previous router's on reload.
	Affinity *Affinity
	// Degrade is the local last tier. Nil means none.
	Degrade *Degrade
	// Hosts tracks which upstream hosts are out of reach; pass the same
	// one on reload. Nil means reachability is not tracked: a deployment
	// that cannot be reached is cooled like any failing one.
	Hosts *Hosts
}

// Router routes chat requests. It is immutable once built and safe for
// concurrent use; a config reload builds a new one.
type Router struct {
	settings Settings
	groups   map[string][]*Deployment
	order    []string
	strategy Strategy
	clock    clock.Clock
	rand     func() float64
	cool     *cooldown.Tracker

	degradeTier *Degrade
	hosts       *Hosts
	stats       *Stats
	estimate    func(*chat.Request) int
	affinity    *Affinity
	auto        map[string]*complexity.Router
	budget      Budget
	// strategyName names the strategy in decision traces.
	strategyName string
}

// New builds a Router over deployments.
func New(deployments []Deployment, s Settings, o Options) (*Router, error) {
	if len(deployments) == 0 {
		return nil, errors.New("router: no deployments")
	}
	if s.Timeout <= 0 {
		s.Timeout = 600 * time.Second
	}
	if s.RetryBase <= 0 {
		s.RetryBase = 500 * time.Millisecond
	}
	if s.RetryMax <= 0 {
		s.RetryMax = 30 * time.Second
	}
	if s.MaxCooldownWait == 0 {
		s.MaxCooldownWait = DefaultMaxCooldownWait
	}
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	if o.Rand == nil {
		o.Rand = rand.Float64
	}
	if o.Cooldowns == nil {
		o.Cooldowns = cooldown.New(s.Cooldown, o.Clock)
	}
	if o.Stats == nil {
		o.Stats = NewStats(o.Clock)
	}
	if o.Affinity == nil {
		o.Affinity = NewAffinity(0)
	}
	if o.Strategy == nil {
		o.Strategy = SimpleShuffle{Rand: o.Rand}
	}
	r := &Router{settings: s, groups: map[string][]*Deployment{}, clock: o.Clock, rand: o.Rand,
		cool: o.Cooldowns, strategy: o.Strategy, degradeTier: o.Degrade, hosts: o.Hosts,
		stats: o.Stats, estimate: o.EstimateTokens, affinity: o.Affinity, auto: o.Auto,
		strategyName: strategyName(o.Strategy), budget: o.Budget}
	for i := range deployments {
		d := &deployments[i]
		if d.Client == nil {
			return nil, fmt.Errorf("router: deployment %s has no client", d.ID)
		}
		if _, ok := r.groups[d.Group]; !ok {
			r.order = append(r.order, d.Group)
		}
		r.groups[d.Group] = append(r.groups[d.Group], d)
	}
	for g := range o.Auto {
		if _, ok := r.groups[g]; !ok {
			r.order = append(r.order, g)
		}
	}
	for from, to := range s.Fallbacks {
		for _, g := range to {
			if _, ok := r.groups[g]; !ok {
				return nil, fmt.Errorf("router: fallback %s -> %s: %w", from, g, ErrUnknownGroup)
			}
		}
	}
	return r, nil
}

// Groups returns the model group names in config order.
func (r *Router) Groups() []string { return slices.Clone(r.order) }

// Resolve returns the model group that serves a model name a client sent:
// the group of that name; else the group it is an alias of; else the
// wildcard group whose pattern matches it ("claude-*", "*"), the one with
// the longest pattern first. ok is false when none does.
func (r *Router) Resolve(name string) (group string, ok bool) {
	if _, ok := r.groups[name]; ok {
		return name, true
	}
	if g, ok := r.Aliases()[name]; ok {
		return g, true
	}
	best := ""
	for _, g := range r.order {
		if strings.Contains(g, "*") && len(g) > len(best) && matchWildcard(g, name) {
			best = g
		}
	}
	return best, best != ""
}

// Aliases returns the model group aliases.
func (r *Router) Aliases() map[string]string { return r.settings.Aliases }

// matchWildcard reports whether name matches pattern, in which each '*'
// stands for any run of characters, '/' included (LiteLLM's wildcard
// model names: "claude-*", "anthropic/*", "*").
func matchWildcard(pattern, name string) bool {
	parts := strings.Split(pattern, "*")
	if !strings.HasPrefix(name, parts[0]) {
		return false
	}
	name = name[len(parts[0]):]
	last := len(parts) - 1
	for _, p := range parts[1:last] {
		i := strings.Index(name, p)
		if i < 0 {
			return false
		}
		name = name[i+len(p):]
	}
	return strings.HasSuffix(name, parts[last]) && len(name) >= len(parts[last])
}

// Deployments returns every deployment, grouped in config order.
func (r *Router) Deployments() []*Deployment {
	var out []*Deployment
	for _, g := range r.order {
		out = append(out, r.groups[g]...)
	}
	return out
}

// strategyName names a strategy for decision traces.
func strategyName(s Strategy) string {
	switch s.(type) {
	case SimpleShuffle:
		return "simple-shuffle"
	case LeastBusy:
		return "least-busy"
	case CostBased:
		return "cost-based-routing"
	case LatencyBased:
		return "latency-based-routing"
	case UsageBased:
		return "usage-based-routing"
	}
	return fmt.Sprintf("%T", s)
}

// Affinity returns the router's session-affinity table.
func (r *Router) Affinity() *Affinity { return r.affinity }

// Stats returns the router's live numbers.
func (r *Router) Stats() *Stats { return r.stats }

// Cooldowns returns the router's cooldown state.
func (r *Router) Cooldowns() *cooldown.Tracker { return r.cool }

// Attempt is one upstream call made for a request.
type Attempt struct {
	Deployment *Deployment
	// Class is the failure's class, "" for the attempt that answered.
	Class provider.Class
	// Status is the upstream HTTP status: 200 for the answering attempt, 0
	// for a failure that received none.
	Status int
	// Duration is how long the attempt took (to the first content chunk
	// for streams).
	Duration time.Duration
	// Err is the failure, for logs.
	Err error
	// Reason says why this deployment was chosen: the strategy's name,
	// "session affinity", or "local tier".
	Reason string
}

// Trace tells what routing did for one request.
type Trace struct {
	// Attempts are the upstream calls, in order.
	Attempts []Attempt
	// Groups are the model groups tried, the requested one first.
	Groups []string
	// Answered is the deployment that answered; nil when none did.
	Answered *Deployment
	// Upstream is the answering attempt's duration.
	Upstream time.Duration
	// Tier is the complexity tier chosen for a request to a complexity
	// router group ("SIMPLE" … "REASONING"); "" otherwise. Score says why.
	Tier  string
	Score complexity.Score
	// Degraded names the local tier that answered ("ollama"); "" when a
	// deployment of the requested group or a fallback answered.
	Degraded string
	// hold is the answering attempt's budget reservation.
	hold Hold
}

// Fallbacks returns how many fallback groups were tried.
func (t *Trace) Fallbacks() int { return max(len(t.Groups)-1, 0) }

// attemptFunc makes one upstream call to d and returns the answer's usage
// when it is known by then.
type attemptFunc func(ctx context.Context, d *Deployment) (*chat.Usage, error)

// routing is one request's routing job.
type routing struct {
	// req is the chat request; nil for embeddings.
	req    *chat.Request
	stream bool
	// tokens is the estimated prompt size.
	tokens int
	// size is what budgets are reserved for.
	size  Size
	call  attemptFunc
	hints Hints
}

// newRouting prepares the routing of req (nil for embeddings).
func (r *Router) newRouting(ctx context.Context, req *chat.Request, call attemptFunc) *routing {
	if req != nil && req.Native != nil && req.Native.Required {
		// Deployments of another dialect fail over, uncooled.
		dialect, inner := req.Native.Dialect, call
		call = func(ctx context.Context, d *Deployment) (*chat.Usage, error) {
			if !provider.Speaks(d.Provider, dialect) {
				return nil, &provider.Error{Class: provider.NotFound, Local: true, Message: fmt.Sprintf(
					"deployment %s (%s) cannot serve this request: it uses features only the %s API has", d.ID, d.Provider, dialect)}
			}
			return inner(ctx, d)
		}
	}
	rt := &routing{req: req, call: call, hints: hintsFrom(ctx)}
	if req != nil {
		rt.stream = req.Stream
		if r.estimate != nil {
			rt.tokens = r.estimate(req)
		}
		rt.size.PromptTokens = rt.tokens
		switch {
		case req.MaxCompletionTokens != nil:
			rt.size.MaxOutputTokens = *req.MaxCompletionTokens
		case req.MaxTokens != nil:
			rt.size.MaxOutputTokens = *req.MaxTokens
		}
	}
	return rt
}

// Chat routes a non-streamed request. req.Model names the model group.
// The error is an *provider.Error or wraps ErrUnknownGroup.
func (r *Router) Chat(ctx context.Context, req *chat.Request) (*chat.Response, *Trace, error) {
	ctx, cancel := context.WithTimeout(ctx, r.settings.Timeout)
	defer cancel()
	var resp *chat.Response
	tr, err := r.route(ctx, req.Model, r.newRouting(ctx, req, func(ctx context.Context, d *Deployment) (*chat.Usage, error) {
		ctx, cancel := attemptContext(ctx, d)
		defer cancel()
		out, err := d.Client.Chat(ctx, req)
		resp = out
		if err != nil {
			return nil, err
		}
		return out.Usage, nil
	}))
	if err != nil {
		return nil, tr, err
	}
	tr.hold.Commit(resp.Usage)
	return resp, tr, nil
}

// Embed routes an embeddings request like Chat. A deployment whose
// provider has no embeddings fails over without cooling.
func (r *Router) Embed(ctx context.Context, req *chat.EmbeddingRequest) (*chat.EmbeddingResponse, *Trace, error) {
	ctx, cancel := context.WithTimeout(ctx, r.settings.Timeout)
	defer cancel()
	var resp *chat.EmbeddingResponse
	rt := r.newRouting(ctx, nil, func(ctx context.Context, d *Deployment) (*chat.Usage, error) {
		e, ok := d.Client.(provider.Embedder)
		if !ok {
			return nil, &provider.Error{Class: provider.NotFound, Local: true,
				Message: fmt.Sprintf("deployment %s (%s) does not serve embeddings", d.ID, d.Provider)}
		}
		ctx, cancel := attemptContext(ctx, d)
		defer cancel()
		out, err := e.Embed(ctx, req)
		resp = out
		return nil, err
	})
	rt.size.PromptTokens = (len(req.Input) + 3) / 4 // about four bytes of text per token
	tr, err := r.route(ctx, req.Model, rt)
	if err != nil {
		return nil, tr, err
	}
	var usage *chat.Usage
	if resp.Usage != nil {
		usage = &chat.Usage{PromptTokens: resp.Usage.PromptTokens, TotalTokens: resp.Usage.TotalTokens}
	}
	tr.hold.Commit(usage)
	return resp, tr, nil
}

// attemptContext bounds one non-streamed attempt by d.Timeout.
func attemptContext(ctx context.Context, d *Deployment) (context.Context, context.CancelFunc) {
	if d.Timeout > 0 {
		return context.WithTimeout(ctx, d.Timeout)
	}
	return ctx, func() {}
}

// route runs the request through its group and, on failure, its fallbacks,
// within ctx's deadline (the request timeout, set by the caller); then,
// when the cloud could not answer, through the local tier.
func (r *Router) route(ctx context.Context, group string, rt *routing) (*Trace, error) {
	tr := &Trace{hold: noHold{}}
	if cr, ok := r.auto[group]; ok {
		target, score := cr.Route(rt.req)
		tr.Tier, tr.Score, group = string(score.Tier), score, target
	}
	resolved, ok := r.Resolve(group)
	if !ok {
		return tr, fmt.Errorf("%w %q", ErrUnknownGroup, group)
	}
	group = resolved
	err := r.routeGroup(ctx, group, tr, rt, map[string]bool{})
	if err != nil && !finalErr(err) && ctx.Err() == nil && r.local(rt) {
		err = r.degrade(ctx, group, tr, rt, err)
	}
	if err != nil && ctx.Err() == context.DeadlineExceeded {
		err = &provider.Error{Class: provider.Timeout, Message: fmt.Sprintf(
			"no answer within the request timeout (%s); raise router_settings.timeout if the model needs longer", r.settings.Timeout)}
	}
	return tr, err
}

// local reports whether the local tier may answer rt: there is one, and
// the request asks for no tags (the local tier carries none).
func (r *Router) local(rt *routing) bool {
	return r.degradeTier != nil && len(rt.hints.Tags) == 0
}

// routeGroup tries group, then its fallbacks in order, each with its own
// retries and fallbacks, never visiting a group twice.
func (r *Router) routeGroup(ctx context.Context, group string, tr *Trace, rt *routing, visited map[string]bool) error {
	first := len(tr.Groups) == 0
	visited[group] = true
	tr.Groups = append(tr.Groups, group)
	if first && rt.hints.Downgrade {
		return r.fallBack(ctx, group, tr, rt, visited, &provider.Error{Class: provider.QuotaExhausted, Local: true,
			Message: fmt.Sprintf("the budget for model group %q is spent and no cheaper fallback answered", group)})
	}
	list := r.fallbackList(r.settings.Fallbacks, group, true)
	if first && rt.hints.Fallbacks != nil {
		list = rt.hints.Fallbacks
	}
	if rt.hints.DisableFallbacks {
		list = nil
	}
	next := r.unvisited(list, group, visited)
	// With a fallback group or the local tier to go to, a request never
	// waits for a cooling deployment.
	elsewhere := len(next) > 0 && tr.Fallbacks() < r.settings.MaxFallbacks || r.local(rt)
	err := r.tryGroup(ctx, group, tr, rt, elsewhere)
	if err == nil || ctx.Err() != nil {
		return err
	}
	if finalErr(err) {
		// The request's own fault, unless a typed fallback exists for it:
		// a group with a larger context window, or a laxer content policy.
		var typed map[string][]string
		switch provider.AsError(err).Class {
		case provider.ContextWindowExceeded:
			typed = r.settings.ContextWindowFallbacks
		case provider.ContentPolicy:
			typed = r.settings.ContentPolicyFallbacks
		}
		if typed == nil || rt.hints.DisableFallbacks {
			return err
		}
		next = r.unvisited(r.fallbackList(typed, group, false), group, visited)
	}
	ferr := r.tryFallbacks(ctx, next, tr, rt, visited, err)
	if first && errors.Is(err, errNoTags) && errors.Is(ferr, errNoTags) {
		return err // no group carries the tags: say so of the group asked for
	}
	return ferr
}

// fallBack goes straight to group's fallbacks, as when its budget is spent.
func (r *Router) fallBack(ctx context.Context, group string, tr *Trace, rt *routing, visited map[string]bool, err error) error {
	return r.tryFallbacks(ctx, r.unvisited(r.fallbackList(r.settings.Fallbacks, group, true), group, visited), tr, rt, visited, err)
}

// tryFallbacks routes to each group of next in turn, each with its own
// retries and fallbacks, until one answers; err is the failure so far.
func (r *Router) tryFallbacks(ctx context.Context, next []string, tr *Trace, rt *routing, visited map[string]bool, err error) error {
	for _, fb := range next {
		if visited[fb] {
			continue // a nested fallback got there first
		}
		if tr.Fallbacks() >= r.settings.MaxFallbacks {
			break
		}
		ferr := r.routeGroup(ctx, fb, tr, rt, visited)
		if ferr == nil || finalErr(ferr) || ctx.Err() != nil {
			return ferr // a final error has had its own typed fallbacks
		}
		err = ferr
	}
	return err
}

// fallbackList returns group's entry in a fallbacks table, else the "*"
// entry, else (withDefault) default_fallbacks.
func (r *Router) fallbackList(table map[string][]string, group string, withDefault bool) []string {
	if l, ok := table[group]; ok {
		return l
	}
	if l, ok := table["*"]; ok {
		return l
	}
	if withDefault {
		return r.settings.DefaultFallbacks
	}
	return nil
}

// unvisited returns the groups of list that exist and were not visited.
func (r *Router) unvisited(list []string, group string, visited map[string]bool) []string {
	var out []string
	for _, g := range list {
		if _, ok := r.groups[g]; ok && !visited[g] && g != group {
			out = append(out, g)
		}
	}
	return out
}

func finalErr(err error) bool {
	var pe *provider.Error
	return errors.As(err, &pe) && pe.Class.Final()
}

// tryGroup makes up to 1+NumRetries attempts within one group. A retry
// goes at once to a healthy deployment not yet tried; when none is left it
// backs off and retries one already tried. Deployments on a host out of
// reach are skipped. When every deployment left is cooling it returns, so
// the caller can fall back, unless it has nowhere else to go (elsewhere
// false): then it waits for the first to come back, if that is within
// MaxCooldownWait and the request's deadline. The wait stands in for the
// backoff.
func (r *Router) tryGroup(ctx context.Context, group string, tr *Trace, rt *routing, elsewhere bool) error {
	deployments, perr := r.eligible(group, rt)
	if perr != nil {
		return perr
	}
	tried := map[string]bool{}
	excluded := map[string]bool{} // failed in a way retrying cannot fix
	var last *provider.Error
	backoffs, waits := 0, 0
	waited := false
	for attempt := 0; attempt <= r.settings.NumRetries; {
		healthy, fresh, soonest := r.candidates(deployments, tried, excluded)
		if len(healthy) == 0 {
			wait := soonest.Sub(r.clock.Now())
			if elsewhere || soonest.IsZero() || waits > r.settings.NumRetries || wait > r.settings.MaxCooldownWait ||
				!r.fits(ctx, wait) || r.clock.Sleep(ctx, wait) != nil {
				return r.unavailable(group, deployments, last, wait)
			}
			waits++
			waited = true
			continue
		}
		pool := fresh
		if len(pool) == 0 {
			pool = healthy
			if !waited {
				delay := r.backoff(backoffs)
				backoffs++
				if !r.fits(ctx, delay) || r.clock.Sleep(ctx, delay) != nil {
					return last
				}
			}
		}
		waited = false
		reason := "session affinity"
		d := r.sticky(rt, group, pool)
		if d == nil {
			d, reason = r.strategy.Choose(Pick{Request: rt.req, Candidates: pool, Stats: r.stats, PromptTokens: rt.tokens}), r.strategyName
		}
		if !r.cool.Admit(d.ID) {
			excluded[d.ID] = true // half-open, and another request holds its one trial
			continue
		}
		hold, refused := r.reserve(d, rt)
		if refused != nil {
			r.cool.Release(d.ID)
			if !refused.Deployment {
				return overBudget(refused) // the group's budget, or the global one: its fallbacks may go
			}
			excluded[d.ID] = true // its provider's budget: another deployment may go
			last = overBudget(refused)
			continue
		}
		attempt++
		tried[d.ID] = true
		start := r.clock.Now()
		r.stats.begin(d.ID, rt.tokens)
		usage, err := rt.call(ctx, d)
		took := r.clock.Now().Sub(start)
		r.stats.end(d.ID, took, rt.stream, usage, err != nil && provider.AsError(err).Class == provider.Timeout)
		if err == nil {
			tr.Attempts = append(tr.Attempts, Attempt{Deployment: d, Status: 200, Duration: took, Reason: reason}) // answered: an HTTP 200 or its equivalent
			tr.Answered, tr.Upstream, tr.hold = d, took, hold
			r.cool.Succeed(d.ID)
			r.hosts.markUp(d.Host)
			r.affinity.Set(rt.hints.Session, group, d.ID)
			return nil
		}
		hold.Release()
		pe := provider.AsError(err)
		tr.Attempts = append(tr.Attempts, Attempt{Deployment: d, Class: pe.Class, Status: pe.Status, Duration: took, Err: err, Reason: reason})
		if pe.Status != 0 {
			r.hosts.markUp(d.Host) // it answered, if only with an error
		}
		if ctx.Err() != nil {
			r.cool.Release(d.ID)
			return pe // the client left or the request timed out: nothing to blame d for
		}
		last = pe
		if pe.Class.Final() {
			r.cool.Release(d.ID) // the request's fault says nothing of d's recovery
			return pe
		}
		switch {
		case pe.Local:
			r.cool.Release(d.ID)
		case pe.Unreachable && r.hosts != nil && d.Host != "":
			// The host, not the deployment: every deployment on it is
			// skipped until it answers, and none is cooled for it.
			r.cool.Release(d.ID)
			r.hosts.markDown(d.Host)
		default:
			r.cool.Fail(d.ID, pe.Class, pe.RetryAfter)
		}
		if !pe.Class.Retryable() || pe.Unreachable {
			excluded[d.ID] = true // nothing a quick retry would change
		}
	}
	return last
}

// errNoTags marks the error of a group none of whose deployments carries
// the tags a request asks for.
var errNoTags = errors.New("no deployment carries the tags")

// eligible returns the deployments of group that may take this request:
// those carrying every tag it asks for, and whose context window (when
// known) fits its estimated prompt. None carrying the tags is a NotFound,
// none large enough a ContextWindowExceeded (which context window
// fallbacks answer); both are Local: no deployment is to blame.
func (r *Router) eligible(group string, rt *routing) ([]*Deployment, *provider.Error) {
	all := r.groups[group]
	if len(rt.hints.Tags) == 0 && rt.tokens == 0 {
		return all, nil
	}
	var out []*Deployment
	tagged, window := 0, 0
	for _, d := range all {
		if !hasTags(d, rt.hints.Tags) {
			continue
		}
		tagged++
		if d.MaxInputTokens > 0 && rt.tokens > d.MaxInputTokens {
			window = max(window, d.MaxInputTokens)
			continue
		}
		out = append(out, d)
	}
	switch {
	case tagged == 0:
		return nil, &provider.Error{Class: provider.NotFound, Local: true, Err: errNoTags, Message: fmt.Sprintf(
			"no deployment of model group %q carries the tags %s the request asks for (x-detour-tags)", group, strings.Join(rt.hints.Tags, ", "))}
	case len(out) == 0:
		return nil, &provider.Error{Class: provider.ContextWindowExceeded, Local: true, Message: fmt.Sprintf(
			"the prompt (about %d tokens) is longer than any deployment of model group %q takes (at most %d); add context_window_fallbacks or shorten it",
			rt.tokens, group, window)}
	}
	return out, nil
}

// sticky returns the deployment that last served the request's session in
// group, when it is among pool (healthy, not yet tried); else nil.
func (r *Router) sticky(rt *routing, group string, pool []*Deployment) *Deployment {
	id, ok := r.affinity.Get(rt.hints.Session, group)
	if !ok {
		return nil
	}
	for _, d := range pool {
		if d.ID == id {
			return d
		}
	}
	return nil
}

// candidates splits a group's deployments into those in rotation and,
// among them, those not yet tried, keeping only the lowest order tier that
// has any; soonest is when the first cooling one returns (zero if none
// cools). Deployments on a host out of reach are in neither.
func (r *Router) candidates(ds []*Deployment, tried, excluded map[string]bool) (healthy, fresh []*Deployment, soonest time.Time) {
	for _, d := range ds {
		if excluded[d.ID] || !r.hosts.Reachable(d.Host) {
			continue
		}
		if until, _, cooling := r.cool.Until(d.ID); cooling {
			if soonest.IsZero() || until.Before(soonest) {
				soonest = until
			}
			continue
		}
		healthy = append(healthy, d)
	}
	lowest := math.MaxInt
	for _, d := range healthy {
		lowest = min(lowest, d.Order)
	}
	tier := healthy[:0:0]
	for _, d := range healthy {
		if d.Order == lowest {
			tier = append(tier, d)
			if !tried[d.ID] {
				fresh = append(fresh, d)
			}
		}
	}
	return tier, fresh, soonest
}

// backoff is the wait before retry n (from 0) of a deployment already
// tried: exponential from RetryBase with jitter (half fixed, half random),
// capped at RetryMax. A provider's Retry-After needs no case here: it cools
// the deployment, and tryGroup waits cooldowns out.
func (r *Router) backoff(n int) time.Duration {
	d := float64(r.settings.RetryBase) * math.Pow(2, float64(n))
	d = min(d, float64(r.settings.RetryMax))
	return time.Duration(d/2 + d/2*r.rand())
}

// fits reports whether waiting d leaves time before ctx's deadline.
// Deadlines are wall-clock (context timers), so this reads the real time,
// not the injected clock.
func (r *Router) fits(ctx context.Context, d time.Duration) bool {
	deadline, ok := ctx.Deadline()
	return !ok || time.Until(deadline) > d
}

// unavailable is the error for a group with no deployment left to try:
// the last failure, else why none was tried (every one cooling, or on a
// host out of reach), with a Retry-After of when the soonest returns.
func (r *Router) unavailable(group string, ds []*Deployment, last *provider.Error, wait time.Duration) *provider.Error {
	if last != nil {
		return last
	}
	class := provider.ServerError
	for _, d := range ds {
		if _, c, ok := r.cool.Until(d.ID); ok {
			class = c
			break
		}
	}
	var down []string
	for _, d := range ds {
		if !r.hosts.Reachable(d.Host) && !slices.Contains(down, d.Host) {
			down = append(down, d.Host)
		}
	}
	if wait <= 0 && len(down) > 0 {
		return &provider.Error{Class: provider.Connection, Unreachable: true, RetryAfter: r.hosts.interval, Message: fmt.Sprintf(
			"every deployment of model group %q is on a host Detour cannot reach (%s); it is checked again every %s",
			group, strings.Join(down, ", "), r.hosts.interval)}
	}
	return &provider.Error{Class: class, RetryAfter: max(wait, time.Second), Message: fmt.Sprintf(
		"every deployment of model group %q is cooling down after failures (%s); try again in %s or add a fallback group",
		group, class, max(wait, time.Second).Round(time.Second))}
}
