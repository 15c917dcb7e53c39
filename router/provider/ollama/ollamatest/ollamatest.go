// Package ollamatest provides a fake Ollama server for tests. It speaks
// Ollama's native API as version 0.17.4 does, byte for byte: answers are
// Ollama's own api types encoded as its server encodes them (compact JSON;
// NDJSON lines with Content-Type application/x-ndjson when streaming;
// application/json; charset=utf-8 otherwise), and error bodies are
// {"error":"…"} with Ollama's statuses and words.
//
// Endpoints: HEAD and GET / ("Ollama is running"), GET /api/version, GET
// /api/tags, POST /api/chat (streamed and not; text, thinking, tool calls,
// done_reason, eval counts) and POST /api/embed. Requests are validated the
// way Ollama validates them: a body that does not decode is a 400 with the
// decoder's message, an empty model a 400 "model is required", a model the
// fake has not "pulled" a 404 (on /api/chat `model 'x' not found`, on
// /api/embed `model "x" not found, try pulling it first`, as 0.17.4 words
// them). Unknown paths get Ollama's (gin's) "404 page not found".
//
// The fake answers /api/chat and /api/embed with Replies in order and
// injects faults: error statuses, a slow first byte, a reset mid-body, a
// stall or a cut mid-stream, an error line mid-stream, malformed JSON.
package ollamatest

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ollama/ollama/api"

	"github.com/detour-gateway/detour/router/provider/providertest"
)

// Version is the Ollama version the fake imitates and reports.
const Version = "0.17.4"

// DefaultText is the answer's text when a Reply sets none.
const DefaultText = "Hello from the fake Ollama."

// DefaultModels are the models a new Server has pulled.
var DefaultModels = []string{"llama3.2:latest", "qwen3:8b", "llava:7b", "nomic-embed-text:latest"}

// Fault is a way for the fake to misbehave.
type Fault int

// Faults.
const (
	// NoFault answers normally.
	NoFault Fault = iota
	// ResetMidBody sends headers and part of the body (for a stream: no
	// line at all), then drops the connection.
	ResetMidBody
	// MalformedJSON answers 200 with half a JSON body, or, in a stream,
	// a first content line followed by a line that is not JSON.
	MalformedJSON
	// StallMidStream sends the first content line, then nothing until the
	// client gives up.
	StallMidStream
	// CutMidStream sends the first content line, then drops the
	// connection without the done: true line.
	CutMidStream
	// ErrorLineMidStream sends the first content line, then an
	// {"error":"…"} line inside the 200 stream and ends it, as Ollama does
	// when the model runner fails mid-answer.
	ErrorLineMidStream
)

// ToolCall is a call the fake's model makes.
type ToolCall struct {
	// ID is the call's id. Empty means one is minted as Ollama 0.17 does
	// ("call_" and 8 lowercase letters or digits), unless
	// Reply.NoToolCallIDs.
	ID string
	// Name is the function's name.
	Name string
	// Args is the arguments, a JSON object. Empty means {}.
	Args string
}

// Reply is what the fake does with one request to /api/chat or /api/embed.
type Reply struct {
	// Status, if not 0 or 200, answers with this status and Body.
	Status int
	// Body is the raw body of an error answer; empty means Ollama's
	// {"error":"…"} with the status text.
	Body string
	// Header is added to the answer.
	Header http.Header

	// Text is the answer's content. Empty means DefaultText, or, when the
	// conversation ends with a tool result, "The tool said: " and the
	// result, or, when the last message holds images, a description of
	// their count and size. An answer with ToolCalls has no default text.
	Text string
	// Thinking is streamed before the text, in the thinking field.
	Thinking string
	// ToolCalls are calls the model makes after its text.
	ToolCalls []ToolCall
	// NoToolCallIDs leaves minted tool-call ids out, as Ollama before
	// 0.12 did.
	NoToolCallIDs bool
	// StopReason is the done_reason: "stop" (default) or "length", as when
	// max tokens were hit. Independently of it, options.num_predict
	// shortens the text to that many words with done_reason "length", and
	// options.stop cuts it before the first stop sequence.
	StopReason string
	// Model is the model the answer names. Empty means the model as
	// requested, as Ollama answers.
	Model string
	// PromptTokens is the prompt_eval_count. 0 means one per word of the
	// request's messages (or inputs), plus 10 for the template.
	PromptTokens int
	// Embeddings are the vectors /api/embed answers. Nil means vectors of
	// 8 numbers derived from each input (normalised; cut to dimensions).
	Embeddings [][]float32
	// ErrorMessage is the text of the ErrorLineMidStream line. Empty means
	// "an error was encountered while running the model: unexpected EOF".
	ErrorMessage string

	// Delay holds back the answer's headers (a slow first byte). The
	// request's cancellation ends the wait.
	Delay time.Duration
	// Fault makes the answer misbehave.
	Fault Fault
}

// Request is a request the fake received on /api/chat or /api/embed.
type Request struct {
	// Method and Path are the request line's ("POST", "/api/chat").
	Method string
	Path   string
	// Header is the request's headers.
	Header http.Header
	// Body is the JSON body decoded into maps, nil if it is not JSON.
	Body map[string]any
	// Raw is the body as sent.
	Raw []byte
}

// Server is a fake Ollama. Its URL is the base URL to configure.
// SetReplies, Requests, Count and Disconnects come from its Script;
// Requests and Count are of /api/chat and /api/embed only.
type Server struct {
	*httptest.Server
	providertest.Script[Reply, Request]
	// URL is the base URL, "http://127.0.0.1:PORT".
	URL string

	mu     sync.Mutex
	models []string
}

// New starts a fake on 127.0.0.1 that has pulled DefaultModels and answers
// with replies in order; the last reply repeats. With no replies it
// answers normally. A request Ollama would refuse (no body, no model, a
// model not pulled) is refused before it takes a reply, but is recorded.
// The fake is closed at the test's end.
func New(t testing.TB, replies ...Reply) *Server {
	s := &Server{models: append([]string(nil), DefaultModels...)}
	s.SetReplies(replies...)
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.Server.URL
	t.Cleanup(s.Close)
	return s
}

// SetModels replaces the models the fake has pulled. A name without a tag
// means ":latest".
func (s *Server) SetModels(names ...string) {
	s.mu.Lock()
	s.models = append([]string(nil), names...)
	s.mu.Unlock()
}

// canonical names a model as Ollama matches it: case-insensitive, without
// the default registry and namespace, with the default tag.
func canonical(name string) string {
	n := strings.ToLower(name)
	n = strings.TrimPrefix(n, "registry.ollama.ai/")
	n = strings.TrimPrefix(n, "library/")
	if i := strings.LastIndex(n, "/"); !strings.Contains(n[i+1:], ":") {
		n += ":latest"
	}
	return n
}

func (s *Server) pulled(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range s.models {
		if canonical(m) == canonical(name) {
			return true
		}
	}
	return false
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/" && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, "Ollama is running")
	case r.URL.Path == "/api/version" && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		writeJSON(w, http.StatusOK, map[string]string{"version": Version})
	case r.URL.Path == "/api/tags" && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		s.tags(w)
	case r.URL.Path == "/api/chat" && r.Method == http.MethodPost:
		s.chat(w, r)
	case r.URL.Path == "/api/embed" && r.Method == http.MethodPost:
		s.embed(w, r)
	default:
		// gin's answer for routes it does not have.
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, "404 page not found")
	}
}

func (s *Server) tags(w http.ResponseWriter) {
	s.mu.Lock()
	names := append([]string(nil), s.models...)
	s.mu.Unlock()
	list := api.ListResponse{Models: []api.ListModelResponse{}}
	modified := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for i, n := range names {
		if i := strings.LastIndex(n, "/"); !strings.Contains(n[i+1:], ":") {
			n += ":latest"
		}
		sum := sha256.Sum256([]byte(n))
		list.Models = append(list.Models, api.ListModelResponse{
			Name: n, Model: n, Size: 2019393189 + int64(i)*1000,
			Digest:     fmt.Sprintf("%x", sum),
			ModifiedAt: modified.Add(-time.Duration(i) * time.Hour),
			Details: api.ModelDetails{Format: "gguf", Family: "llama", Families: []string{"llama"},
				ParameterSize: "3.2B", QuantizationLevel: "Q4_K_M"},
		})
	}
	writeJSON(w, http.StatusOK, list)
}

// decode reads a request body as Ollama's gin binding does.
func decode(w http.ResponseWriter, raw []byte, v any) bool {
	if len(bytes.TrimSpace(raw)) == 0 {
		writeError(w, http.StatusBadRequest, "missing request body")
		return false
	}
	if err := json.NewDecoder(bytes.NewReader(raw)).Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return false
	}
	return true
}

// replyStatus answers rep's error status, reporting whether it did.
func replyStatus(w http.ResponseWriter, rep Reply) bool {
	for k, vs := range rep.Header {
		w.Header()[k] = vs
	}
	if rep.Status == 0 || rep.Status == http.StatusOK {
		return false
	}
	body := rep.Body
	if body == "" {
		body = ErrorBody(strings.ToLower(http.StatusText(rep.Status)))
	}
	writeRaw(w, rep.Status, body)
	return true
}

func (s *Server) chat(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	var body map[string]any
	_ = json.Unmarshal(raw, &body)
	s.Record(Request{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body, Raw: raw})
	var req api.ChatRequest
	if !decode(w, raw, &req) {
		return
	}
	if req.Model == "" {
		writeError(w, http.StatusBadRequest, "model is required")
		return
	}
	if !s.pulled(req.Model) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("model '%s' not found", req.Model))
		return
	}
	rep, _ := s.Take()
	if !s.Hold(r.Context(), rep.Delay) || replyStatus(w, rep) {
		return
	}
	a := compose(&req, rep)
	if req.Stream == nil || *req.Stream {
		if !s.stream(w, r, a, rep) {
			s.ClientGone()
		}
		return
	}
	final := a.final()
	final.Message.Content = a.text
	final.Message.Thinking = a.thinking
	final.Message.ToolCalls = a.calls
	body2, _ := json.Marshal(final)
	switch rep.Fault {
	case MalformedJSON:
		writeRaw(w, http.StatusOK, string(body2[:len(body2)/2]))
	case ResetMidBody:
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		providertest.ResetMidBody(w, body2)
	default:
		writeRaw(w, http.StatusOK, string(body2))
	}
}

// composed is the answer the fake's model gives.
type composed struct {
	model          string
	thinking, text string
	pieces         []api.Message // what a stream sends before the done line
	calls          []api.ToolCall
	doneReason     string
	prompt, eval   int
}

func (a *composed) final() api.ChatResponse {
	return api.ChatResponse{
		Model:      a.model,
		CreatedAt:  time.Now().UTC(),
		Message:    api.Message{Role: "assistant"},
		Done:       true,
		DoneReason: a.doneReason,
		Metrics: api.Metrics{
			TotalDuration:      1234567 * time.Nanosecond,
			LoadDuration:       234567 * time.Nanosecond,
			PromptEvalCount:    a.prompt,
			PromptEvalDuration: 34567 * time.Nanosecond,
			EvalCount:          a.eval,
			EvalDuration:       567890 * time.Nanosecond,
		},
	}
}

// compose decides the answer to req: text cut by num_predict and stop,
// thinking, tool calls, counts.
func compose(req *api.ChatRequest, rep Reply) *composed {
	a := &composed{model: req.Model, doneReason: "stop", thinking: rep.Thinking}
	if rep.Model != "" {
		a.model = rep.Model
	}
	if rep.StopReason != "" {
		a.doneReason = rep.StopReason
	}
	text := rep.Text
	if text == "" && len(rep.ToolCalls) == 0 {
		text = defaultText(req.Messages)
	}
	if stops, ok := req.Options["stop"].([]any); ok {
		for _, st := range stops {
			if st, ok := st.(string); ok && st != "" {
				if i := strings.Index(text, st); i >= 0 {
					text = text[:i]
				}
			}
		}
	}
	words := providertest.Words(text)
	if n, ok := req.Options["num_predict"].(float64); ok && n > 0 && int(n) < len(words) {
		words = words[:int(n)]
		text = strings.Join(words, "")
		a.doneReason = "length"
	}
	a.text = text
	for _, w := range providertest.Words(rep.Thinking) {
		a.pieces = append(a.pieces, api.Message{Role: "assistant", Thinking: w})
	}
	for _, w := range words {
		a.pieces = append(a.pieces, api.Message{Role: "assistant", Content: w})
	}
	for i, tc := range rep.ToolCalls {
		args := api.NewToolCallFunctionArguments()
		if tc.Args != "" {
			if err := json.Unmarshal([]byte(tc.Args), &args); err != nil {
				panic(fmt.Sprintf("ollamatest: ToolCall %q: Args is not a JSON object: %v", tc.Name, err))
			}
		}
		id := tc.ID
		if id == "" && !rep.NoToolCallIDs {
			id = mintID(req, i)
		}
		a.calls = append(a.calls, api.ToolCall{ID: id, Function: api.ToolCallFunction{Index: i, Name: tc.Name, Arguments: args}})
	}
	if len(a.calls) > 0 {
		a.pieces = append(a.pieces, api.Message{Role: "assistant", ToolCalls: a.calls})
	}
	a.eval = len(providertest.Words(rep.Thinking)) + len(words) + 5*len(a.calls)
	a.prompt = rep.PromptTokens
	if a.prompt == 0 {
		a.prompt = 10
		for _, m := range req.Messages {
			a.prompt += len(strings.Fields(m.Content))
		}
	}
	return a
}

// mintID makes a tool-call id as Ollama does ("call_" and 8 lowercase
// letters or digits), derived from the request so answers are repeatable.
func mintID(req *api.ChatRequest, i int) string {
	const letters = "abcdefghijklmnopqrstuvwxyz0123456789"
	sum := sha256.Sum256(fmt.Appendf(nil, "%d %d", len(req.Messages), i))
	b := make([]byte, 8)
	for j := range b {
		b[j] = letters[int(sum[j])%len(letters)]
	}
	return "call_" + string(b)
}

func defaultText(msgs []api.Message) string {
	if len(msgs) == 0 {
		return DefaultText
	}
	last := msgs[len(msgs)-1]
	switch {
	case last.Role == "tool":
		return "The tool said: " + last.Content
	case len(last.Images) > 0:
		n := 0
		for _, img := range last.Images {
			n += len(img)
		}
		return fmt.Sprintf("I see %d image(s), %d bytes in all.", len(last.Images), n)
	}
	return DefaultText
}

// stream writes the answer as NDJSON; it returns false when the client
// left during a stall.
func (s *Server) stream(w http.ResponseWriter, r *http.Request, a *composed, rep Reply) bool {
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	if rep.Fault == ResetMidBody {
		rc.Flush()
		panic(http.ErrAbortHandler)
	}
	send := func(v any) {
		b, _ := json.Marshal(v)
		w.Write(append(b, '\n'))
		rc.Flush()
	}
	for i, m := range a.pieces {
		send(api.ChatResponse{Model: a.model, CreatedAt: time.Now().UTC(), Message: m})
		if i > 0 {
			continue
		}
		switch rep.Fault {
		case MalformedJSON:
			io.WriteString(w, `{"model":"`+a.model+`","created_at":"2026-03-01T12:00:00Z","message":{"role":"assis`+"\n")
			rc.Flush()
			return true
		case StallMidStream:
			<-r.Context().Done()
			return false
		case CutMidStream:
			panic(http.ErrAbortHandler)
		case ErrorLineMidStream:
			msg := rep.ErrorMessage
			if msg == "" {
				msg = "an error was encountered while running the model: unexpected EOF"
			}
			send(map[string]string{"error": msg})
			return true
		}
	}
	send(a.final())
	return true
}

func (s *Server) embed(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	var body map[string]any
	_ = json.Unmarshal(raw, &body)
	s.Record(Request{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body, Raw: raw})
	var req api.EmbedRequest
	if !decode(w, raw, &req) {
		return
	}
	var inputs []string
	switch in := req.Input.(type) {
	case string:
		if in != "" {
			inputs = append(inputs, in)
		}
	case []any:
		for _, v := range in {
			s, ok := v.(string)
			if !ok {
				writeError(w, http.StatusBadRequest, "invalid input type")
				return
			}
			inputs = append(inputs, s)
		}
	case nil:
	default:
		writeError(w, http.StatusBadRequest, "invalid input type")
		return
	}
	if req.Model == "" {
		writeError(w, http.StatusBadRequest, "model is required")
		return
	}
	if !s.pulled(req.Model) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("model %q not found, try pulling it first", req.Model))
		return
	}
	rep, _ := s.Take()
	if !s.Hold(r.Context(), rep.Delay) || replyStatus(w, rep) {
		return
	}
	resp := api.EmbedResponse{Model: req.Model, Embeddings: [][]float32{}}
	if len(inputs) > 0 {
		resp.TotalDuration = 1234567 * time.Nanosecond
		resp.LoadDuration = 234567 * time.Nanosecond
		resp.Embeddings = rep.Embeddings
		if resp.Embeddings == nil {
			for _, in := range inputs {
				resp.Embeddings = append(resp.Embeddings, vector(in, req.Dimensions))
			}
		}
		resp.PromptEvalCount = rep.PromptTokens
		if resp.PromptEvalCount == 0 {
			for _, in := range inputs {
				resp.PromptEvalCount += len(strings.Fields(in)) + 2
			}
		}
	}
	b, _ := json.Marshal(resp)
	switch rep.Fault {
	case MalformedJSON:
		writeRaw(w, http.StatusOK, string(b[:len(b)/2]))
	case ResetMidBody:
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		providertest.ResetMidBody(w, b)
	default:
		writeRaw(w, http.StatusOK, string(b))
	}
}

// vector derives a normalised vector of 8 numbers from text, cut to dims
// (and normalised again) as Ollama cuts it.
func vector(text string, dims int) []float32 {
	sum := sha256.Sum256([]byte(text))
	v := make([]float32, 8)
	for i := range v {
		v[i] = float32(int16(binary.BigEndian.Uint16(sum[2*i:]))) / 32768
	}
	v = normalize(v)
	if dims > 0 && dims < len(v) {
		v = normalize(v[:dims])
	}
	return v
}

func normalize(v []float32) []float32 {
	var sum float64
	for _, x := range v {
		sum += float64(x) * float64(x)
	}
	n := float32(1 / math.Max(math.Sqrt(sum), 1e-12))
	for i := range v {
		v[i] *= n
	}
	return v
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	writeRaw(w, status, string(b))
}

// writeRaw answers as gin's c.JSON does.
func writeRaw(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeRaw(w, status, ErrorBody(msg))
}

// ErrorBody is Ollama's error body for msg: {"error":"…"}.
func ErrorBody(msg string) string {
	b, _ := json.Marshal(map[string]string{"error": msg})
	return string(b)
}

// Messages Ollama answers with.
const (
	// ContextLengthMessage is the runner's 400 when a prompt does not fit
	// and truncation is off.
	ContextLengthMessage = "the input length exceeds the context length"
	// BusyMessage is the 503 when too many requests wait for the model.
	BusyMessage = "server busy, please try again.  maximum pending requests exceeded"
	// RunnerFailedMessage is a 500 when the model runner died.
	RunnerFailedMessage = "llama runner process has terminated: exit status 2"
	// UsageLimitMessage is ollama.com's 429 when an account's usage limit
	// is reached.
	UsageLimitMessage = "you (detour-test) have reached your session usage limit, upgrade for higher limits: https://ollama.com/upgrade"
)

// Status is an error answer with the given status and raw body.
func Status(status int, body string) Reply { return Reply{Status: status, Body: body} }

// Error is an error answer with the given status and Ollama's body for msg.
func Error(status int, msg string) Reply { return Reply{Status: status, Body: ErrorBody(msg)} }

// ModelNotFound is the 404 for a model that was never pulled, as Ollama's
// scheduler (and /api/chat before 0.12) words it.
func ModelNotFound(model string) Reply {
	return Error(http.StatusNotFound, fmt.Sprintf("model %q not found, try pulling it first", model))
}

// NoToolSupport is the 400 for a request with tools to a model whose
// template has no tools.
func NoToolSupport(model string) Reply {
	return Error(http.StatusBadRequest, "registry.ollama.ai/library/"+canonical(model)+" does not support tools")
}

// ContextTooLong is the 400 for a prompt longer than the context.
func ContextTooLong() Reply { return Error(http.StatusBadRequest, ContextLengthMessage) }

// Busy is the 503 of a full request queue.
func Busy() Reply { return Error(http.StatusServiceUnavailable, BusyMessage) }

// RunnerFailed is the 500 of a crashed model runner.
func RunnerFailed() Reply { return Error(http.StatusInternalServerError, RunnerFailedMessage) }

// RateLimited is a 429 asking to retry after retryAfter seconds, as a
// rate-limiting proxy in front of Ollama answers.
func RateLimited(retryAfter string) Reply {
	return Reply{Status: http.StatusTooManyRequests, Body: ErrorBody("too many requests"),
		Header: http.Header{"Retry-After": {retryAfter}}}
}

// UsageLimit is ollama.com's 429 for an account out of its usage limit.
func UsageLimit() Reply { return Error(http.StatusTooManyRequests, UsageLimitMessage) }

// Unauthorized is the 401 of ollama.com (or a local Ollama relaying a
// cloud model) without valid credentials.
func Unauthorized() Reply {
	return Status(http.StatusUnauthorized, `{"error":"unauthorized","signin_url":"https://ollama.com/connect?name=detour-test&key=ZmFrZQ"}`)
}

// Forbidden is the 403 of a local Ollama whose cloud access is disabled.
func Forbidden() Reply {
	return Error(http.StatusForbidden, "remote model is unavailable: Ollama cloud is disabled")
}
