package server

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/detour-gateway/detour/requestlog"
)

// RequestLog keeps decision traces; *requestlog.Log implements it.
type RequestLog interface {
	Add(requestlog.Record)
	Get(id string) (requestlog.Record, error)
	Recent(n int) ([]requestlog.Record, error)
}

// record turns an exchange into its decision trace.
func (s *Server) record(ex *exchange) requestlog.Record {
	r := requestlog.Record{ID: ex.id, API: ex.api, Time: ex.start.UTC(), Group: ex.group, Stream: ex.stream, Status: ex.status,
		TotalMS: time.Since(ex.start).Milliseconds(), Cache: ex.cache, Tags: ex.tags, CostUSD: ex.cost}
	if s.opts.LogPrompts && ex.prompt != nil {
		r.Prompt, _ = json.Marshal(ex.prompt)
	}
	if ex.err != nil {
		r.Error = s.opts.Secrets.String(ex.err.Error())
	}
	if tr := ex.trace; tr != nil {
		r.Groups, r.Degraded, r.Tier = tr.Groups, tr.Degraded, tr.Tier
		if tr.Tier != "" {
			r.TierScore = tr.Score.Total
		}
		for _, a := range tr.Attempts {
			r.Attempts = append(r.Attempts, requestlog.Attempt{Deployment: a.Deployment.ID, Provider: a.Deployment.Provider,
				Group: a.Deployment.Group, Reason: a.Reason, Class: string(a.Class), Status: a.Status, MS: a.Duration.Milliseconds()})
		}
	}
	return r
}

// requests serves GET /api/v1/requests: the latest traces, newest first
// (?limit=N, default 100, at most 1000).
func (s *Server) requests(w http.ResponseWriter, r *http.Request) {
	n := 100
	if v := r.URL.Query().Get("limit"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 || n > 1000 {
			writeError(w, invalidRequest("limit must be a whole number from 1 to 1000", "limit"))
			return
		}
	}
	recs, err := s.opts.RequestLog.Recent(n)
	if err != nil {
		writeError(w, &apiError{Status: http.StatusInternalServerError, Body: errorDetail{Type: "server_error", Message: "the request log could not be read"}})
		return
	}
	for i := range recs {
		recs[i] = withAttempts(recs[i])
	}
	writeJSON(w, struct {
		Data []requestlog.Record `json:"data"`
	}{recs})
}

// request serves GET /api/v1/requests/{id}: one request's timeline.
func (s *Server) request(w http.ResponseWriter, r *http.Request) {
	rec, err := s.opts.RequestLog.Get(r.PathValue("id"))
	switch {
	case errors.Is(err, requestlog.ErrNotFound):
		writeError(w, &apiError{Status: http.StatusNotFound, Body: errorDetail{Type: "invalid_request_error",
			Message: "no such request in the log (it keeps the latest requests only)"}})
	case err != nil:
		writeError(w, &apiError{Status: http.StatusInternalServerError, Body: errorDetail{Type: "server_error", Message: "the request log could not be read"}})
	default:
		writeJSON(w, withAttempts(rec))
	}
}

// withAttempts makes a record without attempts (a cache hit, a refused
// request) say [] rather than null, as its type promises.
func withAttempts(r requestlog.Record) requestlog.Record {
	if r.Attempts == nil {
		r.Attempts = []requestlog.Attempt{}
	}
	return r
}
