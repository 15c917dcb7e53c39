package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// ErrUnknownDeployment is returned by Admin.SetChaos for an id no
// deployment has.
var ErrUnknownDeployment = errors.New("unknown deployment")

// Admin is what the /api/v1 endpoints manage, beside the config state.
type Admin interface {
	// Deployments returns every deployment's health.
	Deployments(ctx context.Context) Health
	// SetChaos switches deployment id's chaos mode ("down", "slow",
	// "rate_limited" or "off") for d (0: the default).
	SetChaos(id, mode string, d time.Duration) (ChaosState, error)
}

// Health is the gateway's view of its deployments and of the network.
type Health struct {
	Offline      bool       `json:"offline"`
	OfflineSince *time.Time `json:"offline_since,omitempty"`
	// LocalModel is the Ollama model the offline tier picked last from
	// Ollama's list; "" before it was needed or when the config names one.
	LocalModel  string             `json:"local_model,omitempty"`
	Deployments []DeploymentHealth `json:"deployments"`
}

// DeploymentHealth is one deployment's health.
type DeploymentHealth struct {
	ID       string `json:"id"`
	Group    string `json:"group"`
	Provider string `json:"provider"`
	Model    string `json:"model"`
	// State is healthy, cooling (until CoolingUntil), probing (the
	// cooldown ended; one probe or trial request decides), offline (the
	// machine is offline and the cloud is skipped), no_key or chaos.
	State        string      `json:"state"`
	CoolingUntil *time.Time  `json:"cooling_until,omitempty"`
	CoolingClass string      `json:"cooling_class,omitempty"`
	Chaos        *ChaosState `json:"chaos,omitempty"`
}

// ChaosState is an active chaos switch.
type ChaosState struct {
	Mode  string    `json:"mode"`
	Until time.Time `json:"until"`
}

// deployments serves GET /api/v1/deployments.
func (s *Server) deployments(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, s.opts.Admin.Deployments(r.Context()))
}

// chaos serves POST /api/v1/deployments/{id}/chaos with
// {"mode": "down" | "slow" | "rate_limited" | "off", "for_seconds": N}.
func (s *Server) chaos(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Mode       string  `json:"mode"`
		ForSeconds float64 `json:"for_seconds"`
	}
	if e := s.readJSON(w, r, &body); e != nil {
		writeError(w, e)
		return
	}
	if body.ForSeconds < 0 {
		writeError(w, invalidRequest("for_seconds must be ≥ 0", "for_seconds"))
		return
	}
	id := r.PathValue("id")
	st, err := s.opts.Admin.SetChaos(id, body.Mode, time.Duration(body.ForSeconds*float64(time.Second)))
	switch {
	case errors.Is(err, ErrUnknownDeployment):
		writeError(w, &apiError{Status: http.StatusNotFound, Body: errorDetail{Type: "invalid_request_error",
			Message: fmt.Sprintf("no deployment %q; GET /api/v1/deployments lists them", id)}})
	case err != nil:
		writeError(w, invalidRequest(err.Error(), "mode"))
	default:
		writeJSON(w, struct {
			Deployment string `json:"deployment"`
			ChaosState
		}{id, st})
	}
}

// guardAPI protects the management API (/api/) and the dashboard (/ui/)
// from other machines and other web pages: only a connection from this
// machine is served (a gateway listening on 0.0.0.0 serves /v1 to the
// network, never this), only a loopback Host (a DNS-rebinding page reaches
// us under its own name), a browser's Origin must be this
// very origin (so neither a remote page nor another local web app may
// call it), and a write must be JSON (Content-Type: application/json),
// which a cross-site form cannot send and a cross-origin fetch cannot send
// without the CORS preflight Detour never answers. Tools (curl, SDKs) send
// no Origin and pass.
func guardAPI(r *http.Request) *apiError {
	forbid := func(msg string) *apiError {
		return &apiError{Status: http.StatusForbidden, Body: errorDetail{Type: "invalid_request_error", Message: msg}}
	}
	if !loopbackHost(r.Host) || !loopbackHost(r.RemoteAddr) {
		return forbid("the management API answers only on a loopback address (127.0.0.1, localhost, ::1), to programs on this machine")
	}
	if origin := r.Header.Get("Origin"); origin != "" {
		u, err := url.Parse(origin)
		if err != nil || !strings.EqualFold(u.Host, r.Host) || u.Scheme != "http" && u.Scheme != "https" {
			return forbid("requests from other web origins may not use Detour's management API")
		}
	}
	return jsonWrites(r)
}

// jsonWrites refuses a write to the management API that is not JSON: the
// one kind of request a page of another origin can send without a CORS
// preflight.
func jsonWrites(r *http.Request) *apiError {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		if !isJSON(r.Header.Get("Content-Type")) {
			return &apiError{Status: http.StatusUnsupportedMediaType, Body: errorDetail{Type: "invalid_request_error",
				Message: "writes to the management API must be JSON (Content-Type: application/json)"}}
		}
	}
	return nil
}

// loopbackHost reports whether host (with or without a port) names this
// machine's loopback interface.
func loopbackHost(host string) bool {
	h := host
	if hh, _, err := net.SplitHostPort(host); err == nil {
		h = hh
	}
	h = strings.Trim(strings.ToLower(h), "[]")
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}
