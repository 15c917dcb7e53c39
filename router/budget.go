package router

import (
	"errors"

	"github.com/detour-gateway/detour/chat"
	"github.com/detour-gateway/detour/router/provider"
)

// ErrOverBudget is wrapped by the error of a request a budget refused.
var ErrOverBudget = errors.New("over budget")

// Budget is the money side of routing. The router reserves every attempt's
// estimated cost before sending it, at the deployment and group about to
// answer, and records what the answer cost; so budgets hold on every path
// a request takes: its own group, retries, fallback groups, downgrades,
// the local tier, and every endpoint.
type Budget interface {
	// Reserve holds the estimated cost of sending a request of size to d,
	// or refuses it with a *Refusal.
	Reserve(d *Deployment, size Size) (Hold, error)
}

// Size is what the router knows of a request's cost before sending it.
type Size struct {
	// PromptTokens is the estimated prompt size in tokens.
	PromptTokens int
	// MaxOutputTokens is the request's own limit on output tokens; 0 when
	// it sets none.
	MaxOutputTokens int
}

// Hold is one attempt's reservation. Exactly one of Commit and Release
// takes effect.
type Hold interface {
	// Commit records what the answer cost, from usage; nil usage records
	// an answer of unknown cost (a stream cut short).
	Commit(usage *chat.Usage)
	// Release gives the reservation back: nothing was spent.
	Release()
}

// Refusal is a Budget's no.
type Refusal struct {
	// Deployment is set when only the deployment's own budget (its
	// provider's) is spent: another deployment of the group may go.
	// Otherwise the whole group is over budget.
	Deployment bool
	// Message names the budget and how far it is spent.
	Message string
}

func (r *Refusal) Error() string { return r.Message }

// noHold is the Hold when no Budget is set.
type noHold struct{}

func (noHold) Commit(*chat.Usage) {}
func (noHold) Release()           {}

// reserve holds the cost of trying d for rt; a refusal comes back as a
// QuotaExhausted error that is Local: no provider is to blame.
func (r *Router) reserve(d *Deployment, rt *routing) (Hold, *Refusal) {
	if r.budget == nil {
		return noHold{}, nil
	}
	h, err := r.budget.Reserve(d, rt.size)
	if err != nil {
		if ref, ok := err.(*Refusal); ok {
			return nil, ref
		}
		return nil, &Refusal{Message: err.Error()}
	}
	if h == nil {
		h = noHold{}
	}
	return h, nil
}

// overBudget is the error for a group or deployment a budget refused.
func overBudget(ref *Refusal) *provider.Error {
	return &provider.Error{Class: provider.QuotaExhausted, Local: true, Err: ErrOverBudget,
		Message: ref.Message + "; raise it in detour.budgets or wait for the next day or month"}
}
