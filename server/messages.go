package server

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/detour-gateway/detour/chat"
	"github.com/detour-gateway/detour/router/provider"
	"github.com/detour-gateway/detour/router/provider/anthropic"
	"github.com/detour-gateway/detour/spend"
)

// messagesPath reports whether path is Anthropic's Messages API, whose
// errors come in Anthropic's shape.
func messagesPath(path string) bool {
	return strings.HasSuffix(path, "/messages") || strings.HasSuffix(path, "/messages/count_tokens")
}

// anthropicError writes e in Anthropic's error shape.
func anthropicError(e *apiError) []byte { return anthropic.EncodeError(e.Status, e.Body.Message) }

// nativeHeaders picks the client's headers that belong to its dialect.
func nativeHeaders(h http.Header, names ...string) map[string]string {
	var out map[string]string
	for _, n := range names {
		if v := h.Get(n); v != "" {
			if out == nil {
				out = map[string]string{}
			}
			out[n] = v
		}
	}
	return out
}

// decodeMessages reads a Messages API request into its canonical form,
// carrying the client's bytes for a deployment that speaks it.
func (s *Server) decodeMessages(w http.ResponseWriter, r *http.Request, decode func([]byte) (*chat.Request, error)) (*chat.Request, *apiError) {
	body, e := s.readBody(w, r)
	if e != nil {
		return nil, e
	}
	req, err := decode(body)
	// A request with parts no other API has (server tools, files) may
	// still go to an Anthropic deployment: Required keeps it to those.
	untranslatable := errors.Is(err, anthropic.ErrUntranslatable) && req != nil
	if err != nil && !untranslatable {
		var re *anthropic.RequestError
		if errors.As(err, &re) {
			return nil, invalidRequest(re.Message, re.Param)
		}
		return nil, invalidRequest(err.Error(), "")
	}
	req.Native = &chat.Native{Dialect: chat.DialectAnthropic, Body: body, Required: untranslatable,
		Header: nativeHeaders(r.Header, "Anthropic-Version", "Anthropic-Beta")}
	return req, nil
}

// messages serves POST /v1/messages: Anthropic's Messages API, streamed or
// not, through the same path as chat completions.
func (s *Server) messages(w http.ResponseWriter, r *http.Request) {
	ex := &exchange{id: s.opts.NewID(), start: time.Now(), api: "messages"}
	w.Header().Set("X-Detour-Request-Id", ex.id)
	w.Header().Set("Request-Id", ex.id)
	defer s.logExchange(ex)
	req, e := s.decodeMessages(w, r, anthropic.DecodeRequest)
	if e != nil {
		ex.status = e.Status
		writeError(w, e)
		return
	}
	s.serveModel(w, r, req, messagesDialect{}, ex)
}

// messagesDialect is Anthropic's Messages API.
type messagesDialect struct{}

func (messagesDialect) answer(w http.ResponseWriter, req *chat.Request, body []byte, resp *chat.Response) int {
	if resp != nil && resp.Native != nil && resp.Native.Dialect == chat.DialectAnthropic {
		return writeBody(w, resp.Native.Body) // the upstream's own answer
	}
	if resp == nil {
		resp = new(chat.Response)
		if err := resp.UnmarshalJSON(body); err != nil {
			e := &apiError{Status: http.StatusInternalServerError, Body: errorDetail{Type: "server_error", Message: "the answer could not be read"}}
			writeError(w, e)
			return e.Status
		}
	}
	out, err := anthropic.EncodeResponse(resp, resp.Model)
	if err != nil {
		e := &apiError{Status: http.StatusInternalServerError, Body: errorDetail{Type: "server_error", Message: "the answer could not be encoded"}}
		writeError(w, e)
		return e.Status
	}
	return writeBody(w, out)
}

func (messagesDialect) stream(s *Server, w http.ResponseWriter, req *chat.Request) eventWriter {
	return &messagesEvents{sse: s.newSSE(w), enc: anthropic.NewStreamEncoder("")}
}

// messagesEvents writes a stream as Messages API events: the upstream's
// own events when it spoke the Messages API, else the translation of each
// chunk (the encoder tells them apart).
type messagesEvents struct {
	sse *sseWriter
	enc *anthropic.StreamEncoder
	buf []byte
}

func (m *messagesEvents) start() { m.sse.start() }

func (m *messagesEvents) send(c *chat.Chunk) error {
	if m.buf = m.enc.Chunk(m.buf[:0], c); len(m.buf) == 0 {
		return nil
	}
	return m.sse.write(m.buf)
}

func (m *messagesEvents) done() {
	if m.buf = m.enc.End(m.buf[:0]); len(m.buf) > 0 {
		m.sse.write(m.buf)
	}
}

func (m *messagesEvents) fail(e *apiError) {
	m.sse.write(m.enc.Error(m.buf[:0], anthropic.ErrorType(e.Status), e.Body.Message))
}

// TokenCounter is a provider that counts a request's input tokens exactly,
// as Anthropic's count_tokens endpoint does.
type TokenCounter interface {
	CountTokens(ctx context.Context, req *chat.Request) (int, error)
}

// countTokens serves POST /v1/messages/count_tokens: exactly, from the
// group's first available deployment that can count (Anthropic's own
// endpoint); otherwise Detour's estimate, said so by
// x-detour-estimate: true.
func (s *Server) countTokens(w http.ResponseWriter, r *http.Request) {
	req, e := s.decodeMessages(w, r, anthropic.CountTokensRequest)
	if e != nil {
		writeError(w, e)
		return
	}
	rt := s.opts.Router()
	group, ok := rt.Resolve(req.Model)
	if !ok {
		writeError(w, unknownModel(req.Model, rt.Groups()))
		return
	}
	req.Model = group
	for _, d := range rt.Deployments() {
		counter, ok := tokenCounter(d.Client)
		if d.Group != req.Model || !ok || rt.Cooldowns().Cooling(d.ID) {
			continue
		}
		n, err := counter.CountTokens(r.Context(), req)
		if err != nil {
			s.opts.Logger.Debug("count_tokens failed; estimating", "deployment", d.ID, "err", provider.AsError(err).Message)
			break
		}
		w.Header().Set("X-Detour-Deployment", d.ID)
		writeJSON(w, struct {
			InputTokens int `json:"input_tokens"`
		}{n})
		return
	}
	w.Header().Set("X-Detour-Estimate", "true")
	writeJSON(w, struct {
		InputTokens int `json:"input_tokens"`
	}{spend.EstimateTokens(req)})
}

// tokenCounter finds a TokenCounter in p or the providers it wraps.
func tokenCounter(p provider.Provider) (TokenCounter, bool) {
	for {
		if tc, ok := p.(TokenCounter); ok {
			return tc, true
		}
		u, ok := p.(interface{ Unwrap() provider.Provider })
		if !ok {
			return nil, false
		}
		p = u.Unwrap()
	}
}
