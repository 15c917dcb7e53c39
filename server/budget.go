package server

import (
	"net/http"

	"github.com/detour-gateway/detour/chat"
	"github.com/detour-gateway/detour/router"
	"github.com/detour-gateway/detour/spend"
)

// Budgets is the server's view of spending.
type Budgets interface {
	// Reserve reserves the estimated cost of req to group against the
	// budgets, and says whether it may go.
	Reserve(group string, req *chat.Request) (Ticket, spend.Verdict)
	// Limits returns the budgets in force.
	Limits() []spend.Budget
}

// Ticket is one request's reservation.
type Ticket interface {
	// Commit records what the request cost at d, from usage (nil:
	// unknown).
	Commit(d *router.Deployment, usage *chat.Usage)
	// Release gives back a reservation nothing was spent on. A no-op after
	// Commit.
	Release()
}

// noTicket is the ticket when spend is not tracked.
type noTicket struct{}

func (noTicket) Commit(*router.Deployment, *chat.Usage) {}
func (noTicket) Release()                               {}

// admit checks the request against the budgets: a spent hard budget is a
// 429 budget_exceeded, written here (ok false); a spent downgrade budget
// sends it to the group's fallbacks; 80 % of a budget adds the
// x-detour-budget-warning header.
func (s *Server) admit(w http.ResponseWriter, req *chat.Request, hints *router.Hints, ex *exchange) (Ticket, bool) {
	if s.opts.Budgets == nil {
		return noTicket{}, true
	}
	t, v := s.opts.Budgets.Reserve(req.Model, req)
	if t == nil {
		t = noTicket{}
	}
	if v.Warning {
		w.Header().Set("X-Detour-Budget-Warning", v.Message)
	}
	switch {
	case v.Allowed:
	case v.Action == spend.Downgrade:
		hints.Downgrade = true
	default:
		t.Release()
		e := &apiError{Status: http.StatusTooManyRequests, Body: errorDetail{Type: "budget_exceeded", Code: strPtr("budget_exceeded"),
			Message: v.Message + "; raise it in detour.budgets or wait for the next day or month"}}
		ex.status = e.Status
		writeError(w, e)
		return nil, false
	}
	return t, true
}
