package server

import (
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
	if resp == nil {
		resp = new(chat.Response)
		if err := resp.UnmarshalJSON(body); err != nil {
			e := &apiError{Status: http.StatusInternalServerError, Body: errorDetail{Type: "server_error", Message: "the answer could not be read"}}
			writeError(w, e)
			return e.Status
		}
	}
	out := openai.NewResponse(d.id, d.created, d.req, resp)
	d.store(out)
	return writeJSON(w, out)
}

// store keeps the response and its conversation, when the client asked.
func (d *responsesDialect) store(out *openai.Response) {
	if !d.req.Store || d.s.opts.Responses == nil {
		return
	}
	conv := append(append(append([]chat.Message{}, d.history...), d.req.InputMessages()...), out.Messages()...)
	respJSON, err1 := json.Marshal(out)
	convJSON, err2 := json.Marshal(conv)
	err := errors.Join(err1, err2)
	if err == nil {
		err = d.s.opts.Responses.Put(responsestore.Entry{ID: d.id, Response: respJSON, Conversation: convJSON})
	}
	if err != nil {
		d.s.opts.Logger.Warn("a response could not be stored; previous_response_id will not find it", "id", d.id, "err", err)
	}
}

func (d *responsesDialect) stream(s *Server, w http.ResponseWriter, _ *chat.Request) eventWriter {
	return &responsesEvents{d: d, sse: s.newSSE(w), enc: openai.NewResponsesStreamEncoder(d.id, d.created, d.req)}
}

// responsesEvents writes a stream as Responses API events.
type responsesEvents struct {
	d   *responsesDialect
	sse *sseWriter
	enc *openai.ResponsesStreamEncoder
	buf []byte
}

func (e *responsesEvents) start() {
	e.sse.start()
	e.sse.write(e.enc.Start(e.buf[:0]))
}

func (e *responsesEvents) send(c *chat.Chunk) error {
	if e.buf = e.enc.Chunk(e.buf[:0], c); len(e.buf) == 0 {
		return nil
	}
	return e.sse.write(e.buf)
}

func (e *responsesEvents) done() {
	e.buf = e.enc.End(e.buf[:0])
	e.d.store(e.enc.Response()) // before the last event, so a next turn right after it finds it
	e.sse.write(e.buf)
}

func (e *responsesEvents) fail(ae *apiError) {
	code := "server_error"
	if ae.Body.Code != nil {
		code = *ae.Body.Code
	}
	e.sse.write(e.enc.Failed(e.buf[:0], code, ae.Body.Message))
}
