package server

import (
	"net/http"

	"github.com/detour-gateway/detour/chat"
	"github.com/detour-gateway/detour/router"
	"github.com/detour-gateway/detour/spend"
)

// Budgets is the server's view of spending. The router reserves and
// records each attempt's cost (router.Budget); the server only decides,
// before routing, what a spent budget of the requested group means.
type Budgets interface {
	// Check says whether a request to group may go as it is, by the
	// budgets and the spend so far.
	Check(group string, req *chat.Request) spend.Verdict
	// Limits returns the budgets in force.
	Limits() []spend.Budget
}

// admit checks the request against the budgets: a spent hard budget is a
// 429 budget_exceeded, written here (false); a spent downgrade budget
// sends it to the group's fallbacks, or the local tier; 80 % of a budget
// adds the x-detour-budget-warning header.
func (s *Server) admit(w http.ResponseWriter, req *chat.Request, hints *router.Hints, ex *exchange) bool {
	if s.opts.Budgets == nil {
		return true
	}
	v := s.opts.Budgets.Check(req.Model, req)
	if v.Warning {
		w.Header().Set("X-Detour-Budget-Warning", v.Message)
	}
	switch {
	case v.Allowed:
	case v.Action == spend.Downgrade:
		hints.Downgrade = true
	default:
		e := &apiError{Status: http.StatusTooManyRequests, Body: errorDetail{Type: "budget_exceeded", Code: strPtr("budget_exceeded"),
			Message: v.Message + "; raise it in detour.budgets or wait for the next day or month"}}
		ex.status = e.Status
		writeError(w, e)
		return false
	}
	return true
}
