package router

import (
	"container/list"
	"context"
	"slices"
	"sync"
)

// Hints are what a request asks of routing beyond its model group.
type Hints struct {
	// Tags must all be carried by any deployment the request goes to,
	// fallbacks included: a compliance promise ("eu", "hipaa") that
	// failover never breaks.
	Tags []string
	// Session keeps a conversation on one deployment while it stays
	// healthy ("" for none): the user field or x-detour-session.
	Session string
	// Fallbacks, when not nil, replace the configured fallbacks of the
	// requested group for this request.
	Fallbacks []string
	// DisableFallbacks turns fallbacks off for this request.
	DisableFallbacks bool
	// Downgrade skips the requested group (its budget is spent) and goes
	// straight to its fallbacks, then the local tier.
	Downgrade bool
}

type hintsKey struct{}

// WithHints returns ctx carrying h for the routing of one request.
func WithHints(ctx context.Context, h Hints) context.Context {
	return context.WithValue(ctx, hintsKey{}, h)
}

func hintsFrom(ctx context.Context) Hints {
	h, _ := ctx.Value(hintsKey{}).(Hints)
	return h
}

// hasTags reports whether d carries every tag of want.
func hasTags(d *Deployment, want []string) bool {
	for _, t := range want {
		if !slices.Contains(d.Tags, t) {
			return false
		}
	}
	return true
}

// DefaultAffinitySize bounds the session-affinity table: 10,000 sessions.
const DefaultAffinitySize = 10000

// Affinity remembers which deployment served each session in each group,
// so a conversation does not hop providers mid-way. It is bounded: the
// least recently used session is forgotten first. Safe for concurrent use;
// it outlives config reloads.
type Affinity struct {
	size  int
	mu    sync.Mutex
	order *list.List // of affinityKey, most recent first
	m     map[affinityKey]*list.Element
}

type affinityKey struct{ session, group string }

type affinityEntry struct {
	key        affinityKey
	deployment string
}

// NewAffinity returns a table of at most size sessions (0: the default).
func NewAffinity(size int) *Affinity {
	if size <= 0 {
		size = DefaultAffinitySize
	}
	return &Affinity{size: size, order: list.New(), m: map[affinityKey]*list.Element{}}
}

// Get returns the deployment that last served session in group.
func (a *Affinity) Get(session, group string) (string, bool) {
	if a == nil || session == "" {
		return "", false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	e, ok := a.m[affinityKey{session, group}]
	if !ok {
		return "", false
	}
	a.order.MoveToFront(e)
	return e.Value.(*affinityEntry).deployment, true
}

// Set records that deployment served session in group.
func (a *Affinity) Set(session, group, deployment string) {
	if a == nil || session == "" {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	k := affinityKey{session, group}
	if e, ok := a.m[k]; ok {
		e.Value.(*affinityEntry).deployment = deployment
		a.order.MoveToFront(e)
		return
	}
	a.m[k] = a.order.PushFront(&affinityEntry{key: k, deployment: deployment})
	for a.order.Len() > a.size {
		last := a.order.Back()
		a.order.Remove(last)
		delete(a.m, last.Value.(*affinityEntry).key)
	}
}

// Len returns how many sessions the table holds.
func (a *Affinity) Len() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.order.Len()
}
