package server

import (
	"net/http"
	"strconv"
	"time"
)

// ConfigState is the state of the config file: which one is in use, when
// it was loaded, and why the last reload failed, if it did.
type ConfigState struct {
	Path     string    `json:"path"`
	LoadedAt time.Time `json:"loaded_at"`
	// Error is nil while the file on disk is the config in use.
	Error *ConfigError `json:"error"`
}

// ConfigError says why the file on disk is not the config in use.
type ConfigError struct {
	Message  string          `json:"message"`
	Problems []ConfigProblem `json:"problems,omitempty"`
}

// ConfigProblem is one problem in the file, at its line.
type ConfigProblem struct {
	Line    int    `json:"line"`
	Key     string `json:"key"`
	Message string `json:"message"`
}

// health serves GET /health: "ok", or "degraded" with the reason while the
// config file has errors (told only to this machine). Both are 200: the
// gateway is up and serving.
func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	body := struct {
		Status string `json:"status"`
		Reason string `json:"reason,omitempty"`
	}{Status: "ok"}
	// Another machine learns whether Detour is up, not where its config
	// lives or what is wrong with it.
	if s.opts.Config != nil && loopbackHost(r.RemoteAddr) {
		if st := s.opts.Config(); st.Error != nil {
			body.Status, body.Reason = "degraded", st.Error.Message
			if p := st.Error.Problems; len(p) > 0 {
				body.Reason += "; first: " + st.Path + ":" + strconv.Itoa(p[0].Line) + ": " + p[0].Key + ": " + p[0].Message
			}
		}
	}
	writeJSON(w, body)
}

// configState serves GET /api/v1/config: the ConfigState.
func (s *Server) configState(w http.ResponseWriter, r *http.Request) {
	if s.opts.Config == nil {
		writeJSON(w, ConfigState{})
		return
	}
	writeJSON(w, s.opts.Config())
}
