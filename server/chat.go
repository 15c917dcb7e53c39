package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/detour-gateway/detour/chat"
	"github.com/detour-gateway/detour/requestlog"
	"github.com/detour-gateway/detour/router"
	"github.com/detour-gateway/detour/router/provider"
	"github.com/detour-gateway/detour/spend"
	"github.com/detour-gateway/detour/stats"
)

// exchange is one request's record, filled in as it is served and logged
// once at the end.
type exchange struct {
	id     string
	api    string // chat, embeddings, messages or responses
	start  time.Time
	group  string
	stream bool
	status int
	cache  string // the x-detour-cache value, "" without a cache
	trace  *router.Trace
	err    error // a failure after the stream started
	tags   []string
	cost   *float64
	prompt []chat.Message
	answer *chat.Response // kept in the request log only with LogPrompts
}

// chatCompletions serves POST /v1/chat/completions: decode, then the
// path every dialect shares.
func (s *Server) chatCompletions(w http.ResponseWriter, r *http.Request) {
	ex := &exchange{id: s.opts.NewID(), start: time.Now(), api: "chat"}
	w.Header().Set("X-Detour-Request-Id", ex.id)
	defer s.logExchange(ex)
	req, apiErr := s.decodeRequest(w, r)
	if apiErr != nil {
		ex.status = apiErr.Status
		writeError(w, apiErr)
		return
	}
	s.serveModel(w, r, req, chatDialect{}, ex)
}

// serveModel serves a decoded request of any dialect: look in the cache,
// reserve its budget, route, answer in the dialect d, store.
func (s *Server) serveModel(w http.ResponseWriter, r *http.Request, req *chat.Request, d dialect, ex *exchange) {
	policy, apiErr := readCachePolicy(r.Header, req)
	var hints router.Hints
	if apiErr == nil {
		hints, apiErr = readHints(r.Header, req)
	}
	if apiErr != nil {
		ex.status = apiErr.Status
		writeError(w, apiErr)
		return
	}
	rt := s.opts.Router()
	if g, ok := rt.Resolve(req.Model); ok {
		req.Model = g // an alias or a wildcard group's name: budgets, cache and logs see the group
	}
	ex.group, ex.stream, ex.tags, ex.prompt = req.Model, req.Stream, hints.Tags, req.Messages
	if req.Stream {
		if !s.streams.enter() {
			ex.status = http.StatusServiceUnavailable
			writeError(w, busy("open streams", "max_streams"))
			return
		}
		defer s.streams.leave()
	}

	cu := s.useCache(rt, req, policy)
	if s.answerFromCache(w, req, d, cu, ex) {
		return
	}
	if !s.admit(w, req, &hints, ex) {
		return
	}
	ctx := router.WithHints(r.Context(), hints)
	if req.Stream {
		s.streamAnswer(w, r.WithContext(ctx), rt, req, d, ex, cu)
		return
	}
	resp, tr, err := rt.Chat(ctx, req)
	ex.trace = tr
	if err != nil {
		if s.serveStale(w, req, d, cu, err, ex) {
			return
		}
		ex.status = s.writeRouteError(w, req.Model, tr, err)
		return
	}
	if resp.Model == "" {
		resp.Model = tr.Answered.Model
	}
	setRouteHeaders(w.Header(), tr)
	if cost, ok := costOf(tr.Answered.Price, resp.Usage); ok {
		ex.cost = &cost
		w.Header().Set("X-Detour-Cost", formatUSD(cost))
	}
	body, err := json.Marshal(resp)
	if err != nil {
		ex.status = writeJSON(w, resp) // writes the encoding error
		return
	}
	s.store(cu, tr, resp, body) // before the answer, so a repeat right after it can hit
	ex.answer = resp
	ex.status = d.answer(w, req, body, resp)
}

// streamAnswer routes a streamed request and relays its chunks as events
// of the dialect d. The status line waits until routing found an upstream
// with content, so a request that fails everywhere gets a real error
// status; a failure after that ends the stream with the dialect's error
// event. A stream that ends cleanly is assembled and stored in the cache.
// The router's Stream records its cost; the request log gets it too.
func (s *Server) streamAnswer(w http.ResponseWriter, r *http.Request, rt *router.Router, req *chat.Request, d dialect, ex *exchange, cu cacheUse) {
	out := d.stream(s, w, req) // reads what the client asked for before it changes
	// Ask for usage even when the client did not, so a stream is never
	// counted as $0; out keeps the usage from a client that did not ask.
	if req.StreamOptions == nil || !req.StreamOptions.IncludeUsage {
		so := chat.StreamOptions{IncludeUsage: true}
		if req.StreamOptions != nil {
			so.Extra = req.StreamOptions.Extra
		}
		req.StreamOptions = &so
	}
	stream, tr, err := rt.Stream(r.Context(), req)
	ex.trace = tr
	if err != nil {
		if s.serveStale(w, req, d, cu, err, ex) {
			return
		}
		ex.status = s.writeRouteError(w, req.Model, tr, err)
		return
	}
	defer stream.Close()
	setRouteHeaders(w.Header(), tr)
	out.start()
	ex.status = http.StatusOK
	var whole chat.Assembler
	var usage *chat.Usage
	for {
		c, err := stream.Recv()
		if err == io.EOF {
			if cost, ok := costOf(tr.Answered.Price, usage); ok {
				ex.cost = &cost // too late for a header: the log and the Requests page show it
			}
			full := whole.Response()
			s.store(cu, tr, full, nil) // before the end, so a repeat right after it can hit
			ex.answer = full
			out.done()
			return
		}
		if err != nil {
			ex.err = err
			pe := provider.AsError(err)
			e := upstreamError(pe, len(tr.Attempts))
			// Held-back error answers are redacted by response; an event
			// in a stream that already flows must be redacted here.
			e.Body.Message = s.opts.Secrets.String("the stream broke after it started: " + pe.Message)
			out.fail(e)
			return
		}
		if c.Model == "" {
			c.Model = tr.Answered.Model
		}
		whole.Add(c)
		if c.Usage != nil {
			usage = c.Usage
		}
		if err := out.send(c); err != nil {
			ex.err = fmt.Errorf("client went away: %w", err)
			return // Close cancels the upstream call
		}
	}
}

// formatUSD writes an amount of dollars for the x-detour-cost header:
// rounded to a millionth of a cent, so float sums read as people write
// them (0.000104, not 0.00010400000000000001).
func formatUSD(x float64) string {
	return strconv.FormatFloat(math.Round(x*1e8)/1e8, 'f', -1, 64)
}

// costOf prices usage at p; false when the price or the usage is unknown.
func costOf(p spend.Price, u *chat.Usage) (float64, bool) {
	if u == nil || p.Input == 0 && p.Output == 0 {
		return 0, false
	}
	return p.Cost(u), true
}

// sseWriter writes server-sent events, flushing each one. Each write gets
// timeout to reach the client.
type sseWriter struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	buf     []byte
	timeout time.Duration
}

// newSSE returns a writer of events to w; start writes the headers.
func (s *Server) newSSE(w http.ResponseWriter) *sseWriter {
	return &sseWriter{w: w, rc: http.NewResponseController(w), timeout: s.opts.Limits.WriteTimeout}
}

// start writes the headers of an event stream.
func (o *sseWriter) start() {
	h := o.w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	o.w.WriteHeader(http.StatusOK)
}

// send writes v as one "data:" event.
func (o *sseWriter) send(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	o.buf = append(append(append(o.buf[:0], "data: "...), b...), "\n\n"...)
	return o.write(o.buf)
}

// write writes events already framed, and flushes them.
func (o *sseWriter) write(b []byte) error {
	if o.timeout > 0 {
		o.rc.SetWriteDeadline(time.Now().Add(o.timeout))
	}
	if _, err := o.w.Write(b); err != nil {
		return err
	}
	return o.rc.Flush()
}

// done ends the stream as OpenAI does.
func (o *sseWriter) done() {
	o.write([]byte("data: [DONE]\n\n"))
}

// writeRouteError writes the client's error for a routing failure and
// returns its status.
func (s *Server) writeRouteError(w http.ResponseWriter, group string, tr *router.Trace, err error) int {
	if errors.Is(err, router.ErrUnknownGroup) {
		e := unknownModel(group, s.opts.Router().Groups())
		writeError(w, e)
		return e.Status
	}
	setRouteHeaders(w.Header(), tr)
	pe := provider.AsError(err)
	e := upstreamError(pe, len(tr.Attempts))
	if errors.Is(err, router.ErrOverBudget) {
		e.Body.Type, e.Body.Code = "budget_exceeded", strPtr("budget_exceeded")
	}
	if len(tr.Attempts) > 0 {
		e.Body.Message = fmt.Sprintf("%s (model group %q: %d attempts, %d fallback groups tried)",
			pe.Message, group, len(tr.Attempts), tr.Fallbacks())
	}
	writeError(w, e)
	return e.Status
}

// setRouteHeaders writes the x-detour-* headers that say how the request
// was routed.
func setRouteHeaders(h http.Header, tr *router.Trace) {
	if tr == nil {
		return
	}
	h.Set("X-Detour-Attempts", strconv.Itoa(len(tr.Attempts)))
	h.Set("X-Detour-Fallbacks", strconv.Itoa(tr.Fallbacks()))
	if tr.Tier != "" {
		h.Set("X-Detour-Tier", tr.Tier)
	}
	if tr.Degraded != "" {
		h.Set("X-Detour-Degraded", tr.Degraded)
	}
	if d := tr.Answered; d != nil {
		h.Set("X-Detour-Provider", d.Provider)
		h.Set("X-Detour-Deployment", d.ID)
		h.Set("X-Detour-Model-Group", d.Group)
		h.Set("X-Detour-Upstream-Ms", strconv.FormatInt(tr.Upstream.Milliseconds(), 10))
	}
}

// logExchange writes the request's one log line: no prompt text, no keys.
func (s *Server) logExchange(ex *exchange) {
	attrs := []slog.Attr{
		slog.String("id", ex.id),
		slog.String("api", ex.api),
		slog.String("group", ex.group),
		slog.Bool("stream", ex.stream),
		slog.Int("status", ex.status),
		slog.Int64("ms", time.Since(ex.start).Milliseconds()),
	}
	level := slog.LevelInfo
	if tr := ex.trace; tr != nil {
		attrs = append(attrs, slog.Int("fallbacks", tr.Fallbacks()), slog.String("attempts", formatAttempts(tr.Attempts)))
	}
	if ex.err != nil {
		attrs = append(attrs, slog.String("stream_error", ex.err.Error()))
		level = slog.LevelWarn
	}
	if ex.status >= 500 {
		level = slog.LevelWarn
	}
	s.opts.Logger.LogAttrs(context.Background(), level, "request", attrs...)
	if ex.group == "" || s.opts.RequestLog == nil && s.opts.Stats == nil && s.opts.Observe == nil {
		return
	}
	rec := s.record(ex)
	if s.opts.Observe != nil {
		s.opts.Observe(rec)
	}
	if s.opts.RequestLog != nil {
		s.opts.RequestLog.Add(rec)
	}
	if s.opts.Stats != nil {
		sr := StatsRequest(rec)
		sr.Time = time.Time{} // now, by the recorder's clock
		s.opts.Stats.Record(sr)
	}
}

// StatsRequest is what the dashboard counts of a request's trace. A
// failover is an answer from another deployment than the first one tried
// (a retry on the same one is not), the local tier included; a stream cut
// after it started counts as an error.
func StatsRequest(r requestlog.Record) stats.Request {
	sr := stats.Request{Time: r.Time, Status: r.Status, CacheHit: r.Cache == cacheHit}
	if r.Error != "" && sr.Status < 400 {
		sr.Status = http.StatusBadGateway
	}
	for _, a := range r.Attempts {
		sr.Attempts = append(sr.Attempts, stats.Attempt{Deployment: a.Deployment, Class: a.Class, Duration: time.Duration(a.MS) * time.Millisecond})
	}
	if n := len(r.Attempts); n > 0 && sr.Status < 400 {
		// The local tier is a deployment of its own: answering after a
		// cloud attempt is a failover, answering alone (the machine is
		// offline, the cloud skipped) is not.
		last := r.Attempts[n-1]
		sr.Failover = last.Class == "" && last.Deployment != r.Attempts[0].Deployment
	}
	return sr
}

// formatAttempts renders attempts as "deployment class status ms" joined by
// "; ", with "ok" as the class of the answering attempt.
func formatAttempts(as []router.Attempt) string {
	var b strings.Builder
	for i, a := range as {
		if i > 0 {
			b.WriteString("; ")
		}
		class := string(a.Class)
		if class == "" {
			class = "ok"
		}
		fmt.Fprintf(&b, "%s %s %d %dms", a.Deployment.ID, class, a.Status, a.Duration.Milliseconds())
	}
	return b.String()
}
