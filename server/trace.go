package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/detour-gateway/detour/chat"
	"github.com/detour-gateway/detour/requestlog"
	"github.com/detour-gateway/detour/router/provider"
)

// RequestLog keeps decision traces; *requestlog.Log implements it.
type RequestLog interface {
	Add(requestlog.Record)
	Get(id string) (requestlog.Record, error)
	// Find returns up to n of the records f selects, newest first; n ≤ 0
	// means all of them.
	Find(f requestlog.Filter, n int) ([]requestlog.Record, error)
}

// record turns an exchange into its decision trace.
func (s *Server) record(ex *exchange) requestlog.Record {
	r := requestlog.Record{ID: ex.id, API: ex.api, Time: ex.start.UTC(), Group: ex.group, Stream: ex.stream, Status: ex.status,
		TotalMS: time.Since(ex.start).Milliseconds(), Cache: ex.cache, Tags: ex.tags, CostUSD: ex.cost}
	if s.opts.LogPrompts && ex.prompt != nil {
		r.Prompt, _ = json.Marshal(ex.prompt)
	}
	if s.opts.LogPrompts && ex.answer != nil {
		r.Answer = s.opts.Secrets.String(answerText(ex.answer))
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
			ra := requestlog.Attempt{Deployment: a.Deployment.ID, Provider: a.Deployment.Provider,
				Group: a.Deployment.Group, Reason: a.Reason, Class: string(a.Class), Status: a.Status, MS: a.Duration.Milliseconds()}
			if a.Err != nil {
				// The message a client would get (Err itself may name
				// upstream hosts), redacted like every answer.
				ra.Error = s.opts.Secrets.String(provider.AsError(a.Err).Message)
			}
			r.Attempts = append(r.Attempts, ra)
		}
	}
	return r
}

// answerText is the text of an answer's choices, one per line.
func answerText(resp *chat.Response) string {
	var b strings.Builder
	for i, c := range resp.Choices {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(c.Message.Text())
	}
	return b.String()
}

// requestQuery is what GET /api/v1/requests asks for.
type requestQuery struct {
	filter requestlog.Filter
	limit  int    // ≤ 0: every match
	format string // "" (the list), "json" or "csv" (downloads)
}

// requestList is the answer of GET /api/v1/requests.
type requestList struct {
	Data []requestlog.Record `json:"data"`
}

// requestParams are the parameters GET /api/v1/requests takes.
var requestParams = []string{"group", "deployment", "status", "class", "cache", "since", "until", "q", "limit", "format"}

// parseRequestQuery reads the filter, limit and format of GET
// /api/v1/requests. A bad or unknown parameter is a 400 naming it, so a
// typo never widens a filter silently.
func parseRequestQuery(q url.Values) (requestQuery, *apiError) {
	rq := requestQuery{format: q.Get("format")}
	for _, name := range slices.Sorted(maps.Keys(q)) { // sorted: the same query names the same parameter
		if !slices.Contains(requestParams, name) {
			return rq, invalidRequest(fmt.Sprintf("unknown parameter %q; the request log takes %s", name, strings.Join(requestParams, ", ")), name)
		}
		if len(q[name]) > 1 {
			return rq, invalidRequest(name+" is given more than once; a filter takes one value", name)
		}
	}
	f := &rq.filter
	f.Group, f.Deployment, f.Text = q.Get("group"), q.Get("deployment"), q.Get("q")
	if v := q.Get("status"); v != "" {
		var ok bool
		if f.MinStatus, f.MaxStatus, ok = parseStatus(v); !ok {
			return rq, invalidRequest("status must be an HTTP status (502) or a class of them (5xx)", "status")
		}
	}
	if v := q.Get("class"); v != "" {
		if !slices.Contains(provider.Classes(), provider.Class(v)) {
			return rq, invalidRequest(fmt.Sprintf("class must be one of %s", joinClasses()), "class")
		}
		f.Class = v
	}
	if v := q.Get("cache"); v != "" {
		switch c := strings.ToUpper(v); c {
		case cacheHit, cacheMiss, cacheBypass, cacheStale:
			f.Cache = c
		case strings.ToUpper(requestlog.NoCache):
			f.Cache = requestlog.NoCache
		default:
			return rq, invalidRequest("cache must be HIT, MISS, BYPASS, STALE or none", "cache")
		}
	}
	for _, p := range []struct {
		name string
		t    *time.Time
	}{{"since", &f.Since}, {"until", &f.Until}} {
		if v := q.Get(p.name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return rq, invalidRequest(p.name+" must be a time in RFC 3339 form, like 2025-01-31T09:00:00Z", p.name)
			}
			*p.t = t
		}
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Until.After(f.Since) {
		return rq, invalidRequest("until must be later than since", "until")
	}
	switch rq.format {
	case "":
		rq.limit = 100
	case "json", "csv":
		// A download is of everything that matches, unless limited.
	default:
		return rq, invalidRequest("format must be json or csv", "format")
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return rq, invalidRequest("limit must be a whole number from 1 to 1000", "limit")
		}
		rq.limit = n
	}
	return rq, nil
}

// parseStatus reads "502" as [502, 502] and "5xx" as [500, 599].
func parseStatus(v string) (lo, hi int, ok bool) {
	if len(v) == 3 && v[0] >= '1' && v[0] <= '5' && strings.EqualFold(v[1:], "xx") {
		lo = int(v[0]-'0') * 100
		return lo, lo + 99, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 100 || n > 599 {
		return 0, 0, false
	}
	return n, n, true
}

// joinClasses lists the error classes for an error message.
func joinClasses() string {
	var names []string
	for _, c := range provider.Classes() {
		names = append(names, string(c))
	}
	return strings.Join(names, ", ")
}

// requests serves GET /api/v1/requests: the traces the query selects,
// newest first (see parseRequestQuery), as {"data": [...]}, or with
// format=json or csv as a file to download.
func (s *Server) requests(w http.ResponseWriter, r *http.Request) {
	rq, apiErr := parseRequestQuery(r.URL.Query())
	if apiErr != nil {
		writeError(w, apiErr)
		return
	}
	recs, err := s.opts.RequestLog.Find(rq.filter, rq.limit)
	if err != nil {
		writeError(w, &apiError{Status: http.StatusInternalServerError, Body: errorDetail{Type: "server_error", Message: "the request log could not be read"}})
		return
	}
	if recs == nil {
		recs = []requestlog.Record{} // "data": [], not null
	}
	for i := range recs {
		recs[i] = withAttempts(recs[i])
	}
	if rq.format == "" {
		writeJSON(w, requestList{recs})
		return
	}
	// The export is built whole before the first byte: the log is bounded
	// (a few MB at most), and a failure can still be a clean 500.
	var b bytes.Buffer
	contentType := "text/csv; charset=utf-8"
	if rq.format == "csv" {
		err = requestlog.WriteCSV(&b, recs)
	} else {
		// The list's own shape, so one parser reads both.
		contentType = "application/json"
		err = json.NewEncoder(&b).Encode(requestList{recs})
	}
	if err != nil {
		writeError(w, &apiError{Status: http.StatusInternalServerError, Body: errorDetail{Type: "server_error", Message: "the export could not be written"}})
		return
	}
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="detour-requests-%s.%s"`, time.Now().UTC().Format("20060102T150405Z"), rq.format))
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(b.Len()))
	w.Write(b.Bytes())
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
