package server

import "net/http"

// alerts serves GET /api/v1/alerts: {"firing": [...], "history": [...]},
// both newest first.
func (s *Server) alerts(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, s.opts.Alerts())
}
