package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/detour-gateway/detour/chat"
	"github.com/detour-gateway/detour/responsestore"
	"github.com/detour-gateway/detour/router/provider/openai"
)

// ResponseStore keeps stored Responses API answers;
// *responsestore.Store implements it.
type ResponseStore interface {
	Put(responsestore.Entry) error
	Get(id string) (responsestore.Entry, error)
	Delete(id string) error
}

// createResponse serves POST /v1/responses: OpenAI's Responses API, on the
// path every dialect shares. A request that continues an earlier response
// (previous_response_id, or items referenced by id) gets that conversation
// from the local store.
func (s *Server) createResponse(w http.ResponseWriter, r *http.Request) {
	ex := &exchange{id: s.opts.NewID(), start: time.Now(), api: "responses"}
	w.Header().Set("X-Detour-Request-Id", ex.id)
	defer s.logExchange(ex)
	rreq, history, req, e := s.decodeResponses(w, r)
	if e != nil {
		ex.status = e.Status
		writeError(w, e)
		return
	}
	if dropped := rreq.DroppedTools(); len(dropped) > 0 {
		// Built-in tools (web_search …) no upstream of Detour's runs.
		w.Header().Set("X-Detour-Dropped-Tools", strings.Join(dropped, ", "))
	}
	d := &responsesDialect{s: s, req: rreq, id: "resp_" + ex.id, created: time.Now().Unix(), history: history}
	s.serveModel(w, r, req, d, ex)
}

// decodeResponses reads a Responses request and builds its canonical form,
// prefixed with the stored conversation it continues (history).
func (s *Server) decodeResponses(w http.ResponseWriter, r *http.Request) (rreq *openai.ResponsesRequest, history []chat.Message, req *chat.Request, e *apiError) {
	body, e := s.readBody(w, r)
	if e != nil {
		return nil, nil, nil, e
	}
	rreq, err := openai.DecodeResponsesRequest(body)
	if err != nil {
		return nil, nil, nil, responsesError(err)
	}
	if id := rreq.PreviousResponseID; id != "" {
		entry, e := s.storedResponse(id, "previous_response_id")
		if e != nil {
			return nil, nil, nil, e
		}
		if err := json.Unmarshal(entry.Conversation, &history); err != nil {
			return nil, nil, nil, invalidRequest(fmt.Sprintf("the stored response %q could not be read", id), "previous_response_id")
		}
	}
	if refs := rreq.References(); len(refs) > 0 {
		err := rreq.Resolve(func(itemID string) (openai.OutputItem, bool) {
			respID, ok := openai.ItemResponseID(itemID)
			if !ok {
				return openai.OutputItem{}, false
			}
			entry, e := s.storedResponse(respID, "")
			if e != nil {
				return openai.OutputItem{}, false
			}
			var stored struct {
				Output []openai.OutputItem `json:"output"`
			}
			json.Unmarshal(entry.Response, &stored)
			for _, it := range stored.Output {
				if it.ID == itemID {
					return it, true
				}
			}
			return openai.OutputItem{}, false
		})
		if err != nil {
			return nil, nil, nil, responsesError(err)
		}
	}
	if req, err = rreq.Chat(history); err != nil {
		return nil, nil, nil, responsesError(err)
	}
	if rreq.PreviousResponseID == "" && len(rreq.References()) == 0 {
		// Nothing of it lives in Detour's store: an upstream that speaks
		// the Responses API may take the client's own bytes.
		req.Native = &chat.Native{Dialect: chat.DialectResponses, Body: body}
	}
	return rreq, history, req, nil
}

// storedResponse looks a stored response up; param names the request
// member that named it, for the 404.
func (s *Server) storedResponse(id, param string) (responsestore.Entry, *apiError) {
	if s.opts.Responses == nil {
		return responsestore.Entry{}, &apiError{Status: http.StatusNotFound, Body: errorDetail{Type: "invalid_request_error", Param: strPtr(param),
			Message: "this Detour keeps no responses (its response store could not be opened)"}}
	}
	entry, err := s.opts.Responses.Get(id)
	if errors.Is(err, responsestore.ErrNotFound) {
		return entry, &apiError{Status: http.StatusNotFound, Body: errorDetail{Type: "invalid_request_error", Param: strPtr(param),
			Message: fmt.Sprintf("Response with id '%s' not found (Detour keeps stored responses on this machine, the latest %d for %d days).", id, responsestore.DefaultKeep, int(responsestore.DefaultTTL/(24*time.Hour)))}}
	}
	if err != nil {
		return entry, &apiError{Status: http.StatusInternalServerError, Body: errorDetail{Type: "server_error", Message: "the response store could not be read"}}
	}
	return entry, nil
}

func responsesError(err error) *apiError {
	var re *openai.RequestError
	if errors.As(err, &re) {
		return invalidRequest(re.Message, re.Param)
	}
	return invalidRequest(err.Error(), "")
}

// responseByID serves GET and DELETE /v1/responses/{id}.
func (s *Server) responseByID(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		s.getResponse(w, r)
	case http.MethodDelete:
		s.deleteResponse(w, r)
	default:
		w.Header().Set("Allow", "GET, DELETE")
		writeError(w, &apiError{Status: http.StatusMethodNotAllowed, Body: errorDetail{Type: "invalid_request_error",
			Message: fmt.Sprintf("%s %s is not allowed; use GET or DELETE", r.Method, r.URL.Path)}})
	}
}

// getResponse serves GET /v1/responses/{id}.
func (s *Server) getResponse(w http.ResponseWriter, r *http.Request) {
	entry, e := s.storedResponse(r.PathValue("id"), "")
	if e != nil {
		writeError(w, e)
		return
	}
	writeBody(w, entry.Response)
}

// deleteResponse serves DELETE /v1/responses/{id}.
func (s *Server) deleteResponse(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if _, e := s.storedResponse(id, ""); e != nil {
		writeError(w, e)
		return
	}
	if err := s.opts.Responses.Delete(id); err != nil && !errors.Is(err, responsestore.ErrNotFound) {
		writeError(w, &apiError{Status: http.StatusInternalServerError, Body: errorDetail{Type: "server_error", Message: "the response could not be deleted"}})
		return
	}
	writeJSON(w, struct {
		ID      string `json:"id"`
		Object  string `json:"object"`
		Deleted bool   `json:"deleted"`
	}{id, "response.deleted", true})
}

// responsesDialect is OpenAI's Responses API for one request: its answer
// is a Response object, stored when the client asked.
type responsesDialect struct {
	s       *Server
	req     *openai.ResponsesRequest
	id      string
	created int64
	// history is the conversation the request continued (without its
	// own input), to store with the answer.
	history []chat.Message
}

func (d *responsesDialect) answer(w http.ResponseWriter, _ *chat.Request, body []byte, resp *chat.Response) int {
	if resp != nil && resp.Native != nil && resp.Native.Dialect == chat.DialectResponses {
		d.storeNative(resp.Native.Body, resp) // the upstream's own answer
		return writeBody(w, resp.Native.Body)
	}
	if resp == nil {
		resp = new(chat.Response)
		if err := resp.UnmarshalJSON(body); err != nil {
			e := &apiError{Status: http.StatusInternalServerError, Body: errorDetail{Type: "server_error", Message: "the answer could not be read"}}
			writeError(w, e)
			return e.Status
		}
	}
	out := openai.NewResponse(d.id, d.created, d.req, resp)
	if respJSON, err := json.Marshal(out); err == nil {
		d.put(d.id, respJSON, out.Messages())
	}
	return writeJSON(w, out)
}

// storeNative stores an upstream's own Response object, raw, under its own
// id, with the conversation read from its translation resp.
func (d *responsesDialect) storeNative(raw []byte, resp *chat.Response) {
	var head struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(raw, &head) != nil || head.ID == "" {
		return
	}
	var msgs []chat.Message
	if resp != nil && len(resp.Choices) > 0 {
		msgs = []chat.Message{resp.Choices[0].Message}
	}
	d.put(head.ID, raw, msgs)
}

// put keeps a response and its conversation (what the request continued,
// its input, and the answer's messages), when the client asked.
func (d *responsesDialect) put(id string, respJSON []byte, answer []chat.Message) {
	if !d.req.Store || d.s.opts.Responses == nil {
		return
	}
	conv := append(append(append([]chat.Message{}, d.history...), d.req.InputMessages()...), answer...)
	convJSON, err := json.Marshal(conv)
	if err == nil {
		err = d.s.opts.Responses.Put(responsestore.Entry{ID: id, Response: respJSON, Conversation: convJSON})
	}
	if err != nil {
		d.s.opts.Logger.Warn("a response could not be stored; previous_response_id will not find it", "id", id, "err", err)
	}
}

func (d *responsesDialect) stream(s *Server, w http.ResponseWriter, _ *chat.Request) eventWriter {
	return &responsesEvents{d: d, sse: s.newSSE(w), enc: openai.NewResponsesStreamEncoder(d.id, d.created, d.req)}
}

// responsesEvents writes a stream as Responses API events: the upstream's
// own events when it spoke the Responses API (decided by the first chunk),
// else the translation of each chunk.
type responsesEvents struct {
	d   *responsesDialect
	sse *sseWriter
	enc *openai.ResponsesStreamEncoder
	buf []byte

	started bool
	native  bool
	whole   chat.Assembler  // a passed-through stream's answer, for the store
	final   json.RawMessage // its response.completed (or .incomplete) object
}

func (e *responsesEvents) start() { e.sse.start() }

func (e *responsesEvents) send(c *chat.Chunk) error {
	if !e.started {
		e.started, e.native = true, c.Native != nil
		if !e.native {
			e.buf = e.enc.Start(e.buf[:0])
		}
	}
	if e.native {
		e.whole.Add(c)
		if len(c.Native) == 0 {
			return nil // Detour's own chunk (usage); the events said it
		}
		if r := finalResponse(c.Native); r != nil {
			e.final = r
		}
		return e.sse.write(c.Native)
	}
	if e.buf = e.enc.Chunk(e.buf, c); len(e.buf) == 0 {
		return nil
	}
	err := e.sse.write(e.buf)
	e.buf = e.buf[:0]
	return err
}

func (e *responsesEvents) done() {
	if e.native {
		if e.final != nil {
			e.d.storeNative(e.final, e.whole.Response())
		}
		return
	}
	e.buf = e.enc.End(e.buf)
	if r := e.enc.Response(); r != nil {
		if respJSON, err := json.Marshal(r); err == nil {
			e.d.put(e.d.id, respJSON, r.Messages()) // before the last event, so a next turn right after it finds it
		}
	}
	e.sse.write(e.buf)
}

func (e *responsesEvents) fail(ae *apiError) {
	code := "server_error"
	if ae.Body.Code != nil {
		code = *ae.Body.Code
	}
	if e.native {
		// The upstream's response.created is out; a response.failed of
		// Detour's own would name another response. The bare error
		// event ends the stream for the SDKs all the same.
		e.sse.write(e.enc.Error(e.buf[:0], code, ae.Body.Message, ""))
		return
	}
	e.sse.write(e.enc.Failed(e.buf[:0], code, ae.Body.Message))
}

// finalResponse returns the Response object of a response.completed or
// response.incomplete event among events, nil when there is none.
func finalResponse(events []byte) json.RawMessage {
	for _, ev := range bytes.Split(events, []byte("\n\n")) {
		for _, line := range bytes.Split(ev, []byte("\n")) {
			data, ok := bytes.CutPrefix(line, []byte("data: "))
			if !ok || !bytes.Contains(data, []byte(`"response.`)) {
				continue
			}
			var v struct {
				Type     string          `json:"type"`
				Response json.RawMessage `json:"response"`
			}
			if json.Unmarshal(data, &v) == nil && (v.Type == "response.completed" || v.Type == "response.incomplete") {
				return v.Response
			}
		}
	}
	return nil
}
