// Package anthropictest provides a fake Anthropic Messages API server for
// tests. It speaks the real wire format (JSON bodies, SSE events with
// event: names, error bodies and headers as Anthropic sends them), validates
// requests the way the real API rejects them (answering with the real error
// body), and injects faults: error statuses, retry-after, resets mid-body,
// slow first bytes, stalls, cuts and error events mid-stream, malformed JSON.
//
// Its answers follow the request: max_tokens truncates the text (one word is
// one token) with stop_reason max_tokens, a stop sequence found in the text
// cuts it with stop_reason stop_sequence, and tool calls end with tool_use.
package anthropictest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/detour-gateway/detour/router/provider/providertest"
)

// Fault is a way for the fake to misbehave.
type Fault int

// Faults.
const (
	// NoFault answers normally.
	NoFault Fault = iota
	// ResetMidBody sends headers and part of the body (no event at all in
	// a stream), then drops the connection.
	ResetMidBody
	// MalformedJSON answers 200 with a body (or, in a stream, an event
	// after message_start) that is not valid JSON.
	MalformedJSON
	// StallMidStream sends the first content delta, then nothing until the
	// client gives up.
	StallMidStream
	// CutMidStream sends the first content delta, then drops the
	// connection.
	CutMidStream
	// ErrorEventMidStream sends the first content delta, then an
	// overloaded_error event inside the 200 stream, as Anthropic does when
	// it runs out of capacity mid-answer.
	ErrorEventMidStream
	// EndWithoutStop sends the whole stream up to message_delta, then ends
	// it cleanly without message_stop.
	EndWithoutStop
	// ErrorEventBeforeContent answers 200 and message_start, then an
	// overloaded_error event before any content: the stream a gateway must
	// still fail over from.
	ErrorEventBeforeContent
)

// DefaultText is the answer's text when Reply.Text is empty and the reply
// makes no tool calls.
const DefaultText = "Hello from the fake upstream."

// ToolCall is a tool_use block the fake answers with.
type ToolCall struct {
	// ID is the tool_use id. Empty means "toolu_01Fake" and a number
	// counting the server's calls from 1, two digits.
	ID string
	// Name is the tool's name.
	Name string
	// Args is the input, a JSON object text. Empty means {}.
	Args string
}

// Reply is what the fake does with one request.
type Reply struct {
	// Status, if not 0 or 200, answers with this status and Body.
	Status int
	// Body is the raw body of an error answer.
	Body string
	// Header is added to the answer.
	Header http.Header
	// Text is the answer's text. Empty means DefaultText, unless the reply
	// makes tool calls; then there is no text block.
	Text string
	// Thinking, if set, is answered as a thinking block before the text.
	Thinking string
	// ToolCalls are answered as tool_use blocks after the text.
	ToolCalls []ToolCall
	// StopReason, if set, is the stop_reason answered, and the text is
	// sent whole (max_tokens and stop sequences are not applied). Use
	// "max_tokens" to simulate a limit hit.
	StopReason string
	// Model is the model reported. Empty means the request's.
	Model string
	// CacheReadTokens and CacheCreationTokens are reported in the usage
	// as cache_read_input_tokens and cache_creation_input_tokens.
	CacheReadTokens, CacheCreationTokens int
	// Delay holds back the answer's headers (a slow first byte). The
	// request's cancellation ends the wait.
	Delay time.Duration
	// Fault makes the answer misbehave.
	Fault Fault
}

// Request is a request the fake received.
type Request struct {
	Header http.Header
	// Body is the decoded JSON body; nil when it was not JSON.
	Body map[string]any
	Raw  []byte
}

// Server is a fake Anthropic API. Its URL is the API base (without /v1),
// to configure as api_base. SetReplies, Requests, Count and Disconnects
// come from its Script; Requests and Count include the requests it
// refused as invalid.
type Server struct {
	*httptest.Server
	providertest.Script[Reply, Request]
	// URL is the base URL to configure as api_base.
	URL string

	t        testing.TB
	mu       sync.Mutex
	toolUses int // tool_use ids handed out
}

// New starts a fake on 127.0.0.1 that answers valid requests with replies
// in order; the last reply repeats. With no replies it answers normally.
// Invalid requests are answered with Anthropic's 400 (or 401) and take no
// reply. It is closed at the test's end.
func New(t testing.TB, replies ...Reply) *Server {
	s := &Server{t: t}
	s.SetReplies(replies...)
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.Server.URL
	t.Cleanup(s.Close)
	return s
}

func (s *Server) toolUseID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.toolUses++
	return fmt.Sprintf("toolu_01Fake%02d", s.toolUses)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost && r.URL.Path == "/v1/messages/count_tokens" {
		s.countTokens(w, r)
		return
	}
	if r.Method != http.MethodPost || r.URL.Path != "/v1/messages" {
		writeJSON(w, http.StatusNotFound, ErrorBody("not_found_error", "Not Found"))
		return
	}
	raw, _ := io.ReadAll(r.Body)
	var body map[string]any
	parseErr := json.Unmarshal(raw, &body)
	if parseErr != nil {
		body = nil
	}
	s.Record(Request{Header: r.Header.Clone(), Body: body, Raw: raw})
	switch v := r.Header.Get("anthropic-version"); {
	case r.Header.Get("x-api-key") == "":
		writeJSON(w, http.StatusUnauthorized, ErrorBody("authentication_error", "x-api-key header is required"))
		return
	case v == "":
		writeJSON(w, http.StatusBadRequest, ErrorBody("invalid_request_error", "anthropic-version: header is required"))
		return
	case !validVersion(v):
		writeJSON(w, http.StatusBadRequest, ErrorBody("invalid_request_error", fmt.Sprintf("anthropic-version: %q is not a valid version", v)))
		return
	}
	if parseErr != nil {
		writeJSON(w, http.StatusBadRequest, ErrorBody("invalid_request_error", "There was an issue with your request body: the body is not valid JSON"))
		return
	}
	if msg := validate(body); msg != "" {
		writeJSON(w, http.StatusBadRequest, ErrorBody("invalid_request_error", msg))
		return
	}
	rep, n := s.Take() // n numbers the message
	if !s.Hold(r.Context(), rep.Delay) {
		return
	}
	for k, vs := range rep.Header {
		w.Header()[k] = vs
	}
	if rep.Status != 0 && rep.Status != http.StatusOK {
		writeJSON(w, rep.Status, rep.Body)
		return
	}
	a := s.plan(body, rep, n)
	if stream, _ := body["stream"].(bool); stream {
		if !s.writeStream(w, r, a, rep.Fault) {
			s.ClientGone()
		}
		return
	}
	writeMessage(w, a, rep.Fault)
}

// countTokens answers POST /v1/messages/count_tokens as Anthropic does:
// the request without max_tokens, stream or sampling parameters, and
// {"input_tokens": N}, N counted as the messages endpoint counts them. It
// is recorded like a message request and takes no reply.
func (s *Server) countTokens(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	var body map[string]any
	if json.Unmarshal(raw, &body) != nil {
		body = nil
	}
	s.Record(Request{Header: r.Header.Clone(), Body: body, Raw: raw})
	switch {
	case r.Header.Get("x-api-key") == "":
		writeJSON(w, http.StatusUnauthorized, ErrorBody("authentication_error", "x-api-key header is required"))
		return
	case body == nil:
		writeJSON(w, http.StatusBadRequest, ErrorBody("invalid_request_error", "There was an issue with your request body: the body is not valid JSON"))
		return
	}
	if k := extra(body, set("model", "messages", "system", "tools", "tool_choice", "thinking", "mcp_servers")); k != "" {
		writeJSON(w, http.StatusBadRequest, ErrorBody("invalid_request_error", k+": Extra inputs are not permitted"))
		return
	}
	if msg := validateMessages(body["messages"]); msg != "" {
		writeJSON(w, http.StatusBadRequest, ErrorBody("invalid_request_error", msg))
		return
	}
	writeJSON(w, http.StatusOK, fmt.Sprintf(`{"input_tokens":%d}`, max(1, tokens(body["system"])+tokens(body["messages"]))))
}

// serverTool matches the types of Anthropic's server tools, which are
// versioned by date: web_search_20250305, code_execution_20250825 ….
var serverTool = regexp.MustCompile(`^(web_search|web_fetch|code_execution|bash|text_editor|computer|memory)_\d{8}$`)

// validVersion reports whether v names an API version: a date from
// 2023-01-01 on, as newer SDKs send newer ones (@anthropic-ai/sdk 1.17
// sends 2026-10-21).
func validVersion(v string) bool {
	t, err := time.Parse(time.DateOnly, v)
	return err == nil && !t.Before(time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC))
}

// requestID is the request-id every answer carries.
const requestID = "req_011CFakeRequest0000000001"

// writeJSON answers with a JSON body and Anthropic's headers.
func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.Header().Set("Request-Id", requestID)
	if w.Header().Get("X-Should-Retry") == "" {
		w.Header().Set("X-Should-Retry", strconv.FormatBool(status == 408 || status == 409 || status == 429 || status >= 500))
	}
	w.WriteHeader(status)
	io.WriteString(w, body)
}

// answer is what the fake will say to one request.
type answer struct {
	id, model    string
	thinking     string
	text         string
	tools        []toolUse
	stopReason   string
	stopSequence *string
	usage        usage
}

type toolUse struct {
	ID    string          `json:"id"`
	Name  string          `json:"name"`
	Input json.RawMessage `json:"input"`
	args  string          // as streamed
}

type cacheCreation struct {
	Ephemeral5m int `json:"ephemeral_5m_input_tokens"`
	Ephemeral1h int `json:"ephemeral_1h_input_tokens"`
}

type usage struct {
	InputTokens              int           `json:"input_tokens"`
	CacheCreationInputTokens int           `json:"cache_creation_input_tokens"`
	CacheReadInputTokens     int           `json:"cache_read_input_tokens"`
	CacheCreation            cacheCreation `json:"cache_creation"`
	OutputTokens             int           `json:"output_tokens"`
	ServiceTier              string        `json:"service_tier"`
}

// plan works out the answer to a valid request.
func (s *Server) plan(body map[string]any, rep Reply, n int) answer {
	a := answer{id: fmt.Sprintf("msg_01Fake%04d", n), model: rep.Model, thinking: rep.Thinking, text: rep.Text}
	if a.model == "" {
		a.model, _ = body["model"].(string)
	}
	if a.text == "" && len(rep.ToolCalls) == 0 {
		a.text = DefaultText
	}
	for _, tc := range rep.ToolCalls {
		id := tc.ID
		if id == "" {
			id = s.toolUseID()
		}
		args := tc.Args
		if args == "" {
			args = "{}"
		}
		if !json.Valid([]byte(args)) {
			s.t.Errorf("anthropictest: Reply.ToolCalls[%s].Args is not JSON: %s", tc.Name, args)
			args = "{}"
		}
		var input bytes.Buffer
		_ = json.Compact(&input, []byte(args)) // valid, checked above
		a.tools = append(a.tools, toolUse{ID: id, Name: tc.Name, Input: input.Bytes(), args: args})
	}
	a.stopReason = rep.StopReason
	if a.stopReason == "" {
		a.stopReason = "end_turn"
		if len(a.tools) > 0 {
			a.stopReason = "tool_use"
		}
		cut := -1
		for _, seq := range stringList(body["stop_sequences"]) {
			if i := strings.Index(a.text, seq); seq != "" && i >= 0 && (cut < 0 || i < cut) {
				cut, a.stopSequence = i, &seq
			}
		}
		if cut >= 0 {
			a.text, a.tools, a.stopReason = a.text[:cut], nil, "stop_sequence"
		}
		if limit, ok := body["max_tokens"].(float64); ok {
			if words := providertest.Words(a.text); len(words) > int(limit) {
				cut := strings.TrimRight(strings.Join(words[:int(limit)], ""), " ")
				a.text, a.tools, a.stopReason, a.stopSequence = cut, nil, "max_tokens", nil
			}
		}
	}
	out := len(providertest.Words(a.text)) + len(providertest.Words(a.thinking))
	for _, t := range a.tools {
		out += (len(t.args) + 3) / 4
	}
	a.usage = usage{
		InputTokens:              max(1, tokens(body["system"])+tokens(body["messages"])),
		CacheCreationInputTokens: rep.CacheCreationTokens,
		CacheReadInputTokens:     rep.CacheReadTokens,
		CacheCreation:            cacheCreation{Ephemeral5m: rep.CacheCreationTokens},
		OutputTokens:             out,
		ServiceTier:              "standard",
	}
	return a
}

// tokens counts the words of the text in a request's system or messages.
func tokens(v any) int {
	switch x := v.(type) {
	case string:
		return len(providertest.Words(x))
	case []any:
		n := 0
		for _, e := range x {
			n += tokens(e)
		}
		return n
	case map[string]any:
		return tokens(x["text"]) + tokens(x["content"])
	}
	return 0
}

func stringList(v any) []string {
	var out []string
	list, _ := v.([]any)
	for _, e := range list {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// signature is the fake's thinking signature.
const signature = "EqQBCkYIBRgCKkBGYWtlIHNpZ25hdHVyZSBvZiB0aGUgdGhpbmtpbmcgYmxvY2s"

// message is a Messages answer, fields in the order Anthropic sends them.
type message struct {
	ID           string    `json:"id"`
	Type         string    `json:"type"`
	Role         string    `json:"role"`
	Model        string    `json:"model"`
	Content      []any     `json:"content"`
	StopReason   *string   `json:"stop_reason"`
	StopSequence *string   `json:"stop_sequence"`
	Usage        usage     `json:"usage"`
	Container    *struct{} `json:"container,omitempty"`
}

type textBlock struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

type thinkingBlock struct {
	Type      string `json:"type"`
	Thinking  string `json:"thinking"`
	Signature string `json:"signature"`
}

type toolUseBlock struct {
	Type string `json:"type"`
	toolUse
}

// Stream events and deltas, fields in the order Anthropic sends them.
type (
	messageStart struct {
		Type    string  `json:"type"`
		Message message `json:"message"`
	}
	blockStart struct {
		Type         string `json:"type"`
		Index        int    `json:"index"`
		ContentBlock any    `json:"content_block"`
	}
	blockDelta struct {
		Type  string `json:"type"`
		Index int    `json:"index"`
		Delta any    `json:"delta"`
	}
	messageDelta struct {
		Type  string `json:"type"`
		Delta struct {
			StopReason   string  `json:"stop_reason"`
			StopSequence *string `json:"stop_sequence"`
		} `json:"delta"`
		Usage struct {
			OutputTokens int `json:"output_tokens"`
		} `json:"usage"`
	}
	textDelta struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	thinkingDelta struct {
		Type     string `json:"type"`
		Thinking string `json:"thinking"`
	}
	signatureDelta struct {
		Type      string `json:"type"`
		Signature string `json:"signature"`
	}
	inputJSONDelta struct {
		Type        string `json:"type"`
		PartialJSON string `json:"partial_json"`
	}
)

func (a answer) message() message {
	m := message{ID: a.id, Type: "message", Role: "assistant", Model: a.model, Content: []any{},
		StopReason: &a.stopReason, StopSequence: a.stopSequence, Usage: a.usage}
	if a.thinking != "" {
		m.Content = append(m.Content, thinkingBlock{"thinking", a.thinking, signature})
	}
	if a.text != "" {
		m.Content = append(m.Content, textBlock{"text", a.text})
	}
	for _, t := range a.tools {
		m.Content = append(m.Content, toolUseBlock{"tool_use", t})
	}
	return m
}

// encode writes v as Anthropic does: no HTML escaping.
func encode(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // the fake's own types always encode
	return strings.TrimSuffix(b.String(), "\n")
}

func writeMessage(w http.ResponseWriter, a answer, fault Fault) {
	body := encode(a.message())
	switch fault {
	case MalformedJSON:
		writeJSON(w, http.StatusOK, body[:len(body)/2])
	case ResetMidBody:
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Request-Id", requestID)
		providertest.ResetMidBody(w, []byte(body))
	default:
		writeJSON(w, http.StatusOK, body)
	}
}

// OverloadedEvent is the data of the error event Anthropic sends inside a
// 200 stream when it is overloaded, spaced as Anthropic sends it.
const OverloadedEvent = `{"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}`

// writeStream streams the answer; it returns false when the client left
// during a stall.
func (s *Server) writeStream(w http.ResponseWriter, r *http.Request, a answer, fault Fault) bool {
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("Request-Id", requestID)
	w.WriteHeader(http.StatusOK)
	rc.Flush()
	if fault == ResetMidBody {
		panic(http.ErrAbortHandler) // headers, then the connection drops
	}
	send := func(event, data string) {
		io.WriteString(w, "event: "+event+"\ndata: "+data+"\n\n")
		rc.Flush()
	}
	start := a.message()
	start.Content, start.StopReason, start.StopSequence = []any{}, nil, nil
	start.Usage.OutputTokens = 1
	send("message_start", encode(messageStart{"message_start", start}))
	if fault == ErrorEventBeforeContent {
		send("ping", `{"type": "ping"}`)
		send("error", OverloadedEvent)
		return true
	}
	if fault == MalformedJSON {
		send("content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"text_de`)
		return true
	}
	faulted := false
	// delta sends a content_block_delta; after the first one, a fault
	// that strikes mid-stream strikes. It returns false to stop.
	delta := func(index int, d any) (goOn, clientStayed bool) {
		send("content_block_delta", encode(blockDelta{"content_block_delta", index, d}))
		if faulted {
			return true, true
		}
		faulted = true
		switch fault {
		case StallMidStream:
			<-r.Context().Done()
			return false, false
		case CutMidStream:
			panic(http.ErrAbortHandler)
		case ErrorEventMidStream:
			send("error", OverloadedEvent)
			return false, true
		}
		return true, true
	}
	index := 0
	block := func(b any) {
		send("content_block_start", encode(blockStart{"content_block_start", index, b}))
		if index == 0 {
			send("ping", `{"type": "ping"}`)
		}
	}
	stop := func() {
		send("content_block_stop", fmt.Sprintf(`{"type":"content_block_stop","index":%d}`, index))
		index++
	}
	if a.thinking != "" {
		block(thinkingBlock{"thinking", "", ""})
		for _, word := range providertest.Words(a.thinking) {
			if ok, stayed := delta(index, thinkingDelta{"thinking_delta", word}); !ok {
				return stayed
			}
		}
		if ok, stayed := delta(index, signatureDelta{"signature_delta", signature}); !ok {
			return stayed
		}
		stop()
	}
	if a.text != "" {
		block(textBlock{"text", ""})
		for _, word := range providertest.Words(a.text) {
			if ok, stayed := delta(index, textDelta{"text_delta", word}); !ok {
				return stayed
			}
		}
		stop()
	}
	for _, t := range a.tools {
		block(toolUseBlock{"tool_use", toolUse{ID: t.ID, Name: t.Name, Input: json.RawMessage("{}")}})
		// Anthropic streams an empty input as one empty fragment.
		frags := []string{""}
		if string(t.Input) != "{}" {
			frags = append(frags, pieces(t.args, 12)...)
		}
		for _, piece := range frags {
			if ok, stayed := delta(index, inputJSONDelta{"input_json_delta", piece}); !ok {
				return stayed
			}
		}
		stop()
	}
	md := messageDelta{Type: "message_delta"}
	md.Delta.StopReason, md.Delta.StopSequence = a.stopReason, a.stopSequence
	md.Usage.OutputTokens = a.usage.OutputTokens
	send("message_delta", encode(md))
	if fault == EndWithoutStop {
		return true
	}
	send("message_stop", `{"type":"message_stop"}`)
	return true
}

// pieces splits s into pieces of about n bytes, on rune boundaries.
func pieces(s string, n int) []string {
	var out []string
	for len(s) > 0 {
		i := min(n, len(s))
		for i < len(s) && !utf8.RuneStart(s[i]) {
			i++
		}
		out = append(out, s[:i])
		s = s[i:]
	}
	return out
}

// Request validation, as the Messages API does it.

var (
	topLevel = set("model", "messages", "max_tokens", "system", "metadata", "stop_sequences", "stream",
		"temperature", "top_p", "top_k", "tools", "tool_choice", "thinking", "service_tier", "container",
		"mcp_servers", "context_management")
	toolNamePattern = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,128}$`)
	imageMediaTypes = set("image/jpeg", "image/png", "image/gif", "image/webp")
	blockKeys       = map[string]map[string]bool{
		"text":              set("type", "text", "cache_control", "citations"),
		"image":             set("type", "source", "cache_control"),
		"document":          set("type", "source", "cache_control", "title", "context", "citations"),
		"tool_use":          set("type", "id", "name", "input", "cache_control"),
		"tool_result":       set("type", "tool_use_id", "content", "is_error", "cache_control"),
		"thinking":          set("type", "thinking", "signature"),
		"redacted_thinking": set("type", "data"),
	}
	userBlocks      = set("text", "image", "document", "tool_result")
	assistantBlocks = set("text", "tool_use", "thinking", "redacted_thinking")
)

func set(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// extra returns the first member of obj not in allowed, in sorted order.
func extra(obj map[string]any, allowed map[string]bool) string {
	var found string
	for k := range obj {
		if !allowed[k] && (found == "" || k < found) {
			found = k
		}
	}
	return found
}

func isInt(v any) bool {
	f, ok := v.(float64)
	return ok && f == float64(int64(f))
}

// validate returns the message of the 400 the real API would answer body
// with, or "" when it would accept it.
func validate(body map[string]any) string {
	if k := extra(body, topLevel); k != "" {
		return k + ": Extra inputs are not permitted"
	}
	if m, _ := body["model"].(string); m == "" {
		return "model: Field required"
	}
	mt, ok := body["max_tokens"]
	switch {
	case !ok:
		return "max_tokens: Field required"
	case !isInt(mt):
		return "max_tokens: Input should be a valid integer"
	case mt.(float64) < 1:
		return "max_tokens: Input should be greater than or equal to 1"
	}
	for _, f := range []string{"temperature", "top_p"} {
		if v, ok := body[f]; ok {
			if x, isNum := v.(float64); !isNum || x < 0 || x > 1 {
				return f + ": range: 0..1"
			}
		}
	}
	if v, ok := body["top_k"]; ok && (!isInt(v) || v.(float64) < 0) {
		return "top_k: Input should be a valid integer"
	}
	if v, ok := body["stop_sequences"]; ok {
		list, isList := v.([]any)
		if !isList || len(stringList(v)) != len(list) {
			return "stop_sequences: Input should be a valid list of strings"
		}
	}
	if v, ok := body["metadata"]; ok {
		md, isObj := v.(map[string]any)
		if !isObj {
			return "metadata: Input should be a valid dictionary"
		}
		if k := extra(md, set("user_id")); k != "" {
			return "metadata." + k + ": Extra inputs are not permitted"
		}
	}
	if msg := validateSystem(body["system"]); msg != "" {
		return msg
	}
	if msg := validateTools(body); msg != "" {
		return msg
	}
	if v, ok := body["thinking"]; ok {
		th, _ := v.(map[string]any)
		switch th["type"] {
		case "disabled":
		case "enabled":
			if b, _ := th["budget_tokens"].(float64); !isInt(th["budget_tokens"]) || b < 1024 {
				return "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024"
			}
			if th["budget_tokens"].(float64) >= mt.(float64) {
				return "`max_tokens` must be greater than `thinking.budget_tokens`. Please consult our documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking#max-tokens-and-context-window-size"
			}
		default:
			return "thinking: Input tag found using 'type' does not match any of the expected tags: 'enabled', 'disabled'"
		}
	}
	return validateMessages(body["messages"])
}

func validateSystem(v any) string {
	switch s := v.(type) {
	case nil, string:
		return ""
	case []any:
		for i, e := range s {
			b, _ := e.(map[string]any)
			if b["type"] != "text" {
				return fmt.Sprintf("system.%d.type: Input should be 'text'", i)
			}
			if msg := validateBlock(b, fmt.Sprintf("system.%d", i)); msg != "" {
				return msg
			}
		}
		return ""
	}
	return "system: Input should be a valid string"
}

func validateTools(body map[string]any) string {
	v, ok := body["tools"]
	if !ok {
		if _, hasChoice := body["tool_choice"]; hasChoice {
			return "tool_choice: tool_choice may only be specified while providing tools"
		}
		return ""
	}
	tools, _ := v.([]any)
	if tools == nil {
		return "tools: Input should be a valid list"
	}
	names := map[string]bool{}
	for i, e := range tools {
		t, _ := e.(map[string]any)
		if t == nil {
			return fmt.Sprintf("tools.%d: Input should be a valid dictionary", i)
		}
		if typ, _ := t["type"].(string); serverTool.MatchString(typ) {
			// A server tool (web search, code execution …): Anthropic
			// runs it; its options are its own.
			if name, _ := t["name"].(string); name == "" {
				return fmt.Sprintf("tools.%d.%s.name: Field required", i, typ)
			}
			continue
		}
		if k := extra(t, set("name", "description", "input_schema", "cache_control", "type")); k != "" {
			return fmt.Sprintf("tools.%d.custom.%s: Extra inputs are not permitted", i, k)
		}
		name, _ := t["name"].(string)
		if !toolNamePattern.MatchString(name) {
			return fmt.Sprintf("tools.%d.custom.name: String should match pattern '^[a-zA-Z0-9_-]{1,128}$'", i)
		}
		if names[name] {
			return "tools: Tool names must be unique."
		}
		names[name] = true
		schema, isObj := t["input_schema"].(map[string]any)
		switch {
		case t["input_schema"] == nil:
			return fmt.Sprintf("tools.%d.custom.input_schema: Field required", i)
		case !isObj:
			return fmt.Sprintf("tools.%d.custom.input_schema: Input should be a valid dictionary", i)
		case schema["type"] != "object":
			return fmt.Sprintf("tools.%d.custom.input_schema.type: Input should be 'object'", i)
		}
	}
	if v, ok := body["tool_choice"]; ok {
		tc, _ := v.(map[string]any)
		if tc == nil {
			return "tool_choice: Input should be a valid dictionary"
		}
		switch tc["type"] {
		case "auto", "any":
			if k := extra(tc, set("type", "disable_parallel_tool_use")); k != "" {
				return fmt.Sprintf("tool_choice.%s.%s: Extra inputs are not permitted", tc["type"], k)
			}
		case "none":
			if k := extra(tc, set("type")); k != "" {
				return "tool_choice.none." + k + ": Extra inputs are not permitted"
			}
		case "tool":
			if k := extra(tc, set("type", "name", "disable_parallel_tool_use")); k != "" {
				return "tool_choice.tool." + k + ": Extra inputs are not permitted"
			}
			if name, _ := tc["name"].(string); name == "" {
				return "tool_choice.tool.name: Field required"
			}
		default:
			return "tool_choice: Input tag found using 'type' does not match any of the expected tags: 'auto', 'any', 'tool', 'none'"
		}
	}
	return ""
}

func validateMessages(v any) string {
	msgs, _ := v.([]any)
	switch {
	case v == nil:
		return "messages: Field required"
	case msgs == nil:
		return "messages: Input should be a valid list"
	case len(msgs) == 0:
		return "messages: at least one message is required"
	}
	var prevRole string
	var pending []string // tool_use ids of the previous message awaiting results
	pendingAt := -1
	for i, e := range msgs {
		m, _ := e.(map[string]any)
		if m == nil {
			return fmt.Sprintf("messages.%d: Input should be a valid dictionary", i)
		}
		if k := extra(m, set("role", "content")); k != "" {
			return fmt.Sprintf("messages.%d.%s: Extra inputs are not permitted", i, k)
		}
		role, _ := m["role"].(string)
		switch role {
		case "user", "assistant":
		case "system":
			return `messages: Unexpected role "system". The Messages API accepts a top-level ` + "`system`" + ` parameter, not "system" as an input message role.`
		default:
			return fmt.Sprintf("messages.%d.role: Input should be 'user' or 'assistant'", i)
		}
		if i == 0 && role != "user" {
			return `messages: first message must use the "user" role`
		}
		if role == prevRole {
			return fmt.Sprintf(`messages: roles must alternate between "user" and "assistant", but found multiple %q roles in a row`, role)
		}
		prevRole = role
		blocks, msg := messageBlocks(m["content"], i, role, i == len(msgs)-1)
		if msg != "" {
			return msg
		}
		results := map[string]bool{}
		var uses []string
		for j, b := range blocks {
			switch b["type"] {
			case "tool_result":
				id, _ := b["tool_use_id"].(string)
				if !contains(pending, id) {
					return fmt.Sprintf("messages.%d.content.%d: unexpected `tool_use_id` found in `tool_result` blocks: %s. Each `tool_result` block must have a corresponding `tool_use` block in the previous message.", i, j, id)
				}
				results[id] = true
			case "tool_use":
				id, _ := b["id"].(string)
				uses = append(uses, id)
			}
		}
		if msg := missingResults(pending, results, pendingAt); msg != "" {
			return msg
		}
		pending, pendingAt = uses, i
	}
	return missingResults(pending, nil, pendingAt)
}

// missingResults is the error for tool_use ids of message at without a
// tool_result in the message after it.
func missingResults(uses []string, results map[string]bool, at int) string {
	var missing []string
	for _, id := range uses {
		if !results[id] {
			missing = append(missing, id)
		}
	}
	if len(missing) == 0 {
		return ""
	}
	return fmt.Sprintf("messages.%d: `tool_use` ids were found without `tool_result` blocks immediately after: %s. Each `tool_use` block must have a corresponding `tool_result` block in the next message.", at, strings.Join(missing, ", "))
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// messageBlocks validates message i's content and returns its blocks (a
// string content is one text block).
func messageBlocks(v any, i int, role string, last bool) ([]map[string]any, string) {
	empty := fmt.Sprintf("messages.%d: all messages must have non-empty content except for the optional final assistant message", i)
	switch c := v.(type) {
	case string:
		if c == "" && !(last && role == "assistant") {
			return nil, empty
		}
		return []map[string]any{{"type": "text", "text": c}}, ""
	case []any:
		if len(c) == 0 && !(last && role == "assistant") {
			return nil, empty
		}
		var blocks []map[string]any
		allowed := userBlocks
		if role == "assistant" {
			allowed = assistantBlocks
		}
		for j, e := range c {
			b, _ := e.(map[string]any)
			path := fmt.Sprintf("messages.%d.content.%d", i, j)
			if b == nil {
				return nil, path + ": Input should be a valid dictionary"
			}
			typ, _ := b["type"].(string)
			if !allowed[typ] {
				return nil, fmt.Sprintf("%s.type: Input tag '%s' found using 'type' does not match any of the expected tags for %s messages", path, typ, role)
			}
			if msg := validateBlock(b, path); msg != "" {
				return nil, msg
			}
			blocks = append(blocks, b)
		}
		return blocks, ""
	case nil:
		return nil, fmt.Sprintf("messages.%d.content: Field required", i)
	}
	return nil, fmt.Sprintf("messages.%d.content: Input should be a valid list", i)
}

// validateBlock checks one content block at path.
func validateBlock(b map[string]any, path string) string {
	typ, _ := b["type"].(string)
	if k := extra(b, blockKeys[typ]); k != "" {
		return fmt.Sprintf("%s.%s.%s: Extra inputs are not permitted", path, typ, k)
	}
	switch typ {
	case "text":
		text, ok := b["text"].(string)
		switch {
		case !ok:
			return path + ".text.text: Field required"
		case text == "":
			return "messages: text content blocks must be non-empty"
		case strings.TrimSpace(text) == "":
			return "messages: text content blocks must contain non-whitespace text"
		}
	case "image":
		src, _ := b["source"].(map[string]any)
		switch src["type"] {
		case "base64":
			mt, _ := src["media_type"].(string)
			if !imageMediaTypes[mt] {
				return path + ".image.source.base64.media_type: Input should be 'image/jpeg', 'image/png', 'image/gif' or 'image/webp'"
			}
			data, _ := src["data"].(string)
			if _, err := base64.StdEncoding.DecodeString(data); err != nil || data == "" {
				return path + ".image.source.base64.data: The image data is not valid base64"
			}
		case "url":
			u, _ := src["url"].(string)
			if !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
				return path + ".image.source.url.url: Input should be a valid URL"
			}
		default:
			return path + ".image.source: Input tag found using 'type' does not match any of the expected tags: 'base64', 'url'"
		}
	case "tool_use":
		if id, _ := b["id"].(string); id == "" {
			return path + ".tool_use.id: Field required"
		}
		if name, _ := b["name"].(string); name == "" {
			return path + ".tool_use.name: Field required"
		}
		if _, ok := b["input"].(map[string]any); !ok {
			return path + ".tool_use.input: Input should be a valid dictionary"
		}
	case "tool_result":
		if id, _ := b["tool_use_id"].(string); id == "" {
			return path + ".tool_result.tool_use_id: Field required"
		}
		switch c := b["content"].(type) {
		case nil, string:
		case []any:
			for k, e := range c {
				inner, _ := e.(map[string]any)
				if t := inner["type"]; t != "text" && t != "image" {
					return fmt.Sprintf("%s.tool_result.content.%d.type: Input should be 'text' or 'image'", path, k)
				}
				if msg := validateBlock(inner, fmt.Sprintf("%s.content.%d", path, k)); msg != "" {
					return msg
				}
			}
		default:
			return path + ".tool_result.content: Input should be a valid string or list"
		}
	}
	return ""
}

// Error bodies exactly as Anthropic sends them.
const (
	RateLimitBody      = `{"type":"error","error":{"type":"rate_limit_error","message":"This request would exceed the rate limit for your organization (00000000-fake-0000-0000-000000000000) of 50 input tokens per minute. For details, refer to: https://docs.claude.com/en/api/rate-limits. You can see the response headers for current usage. Please reduce the prompt length or the maximum tokens requested, or try again later. You may also contact sales at https://www.anthropic.com/contact-sales to discuss your options for a rate limit increase."},"request_id":"req_011CFakeRequest0000000001"}`
	OverloadedBody     = `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":"req_011CFakeRequest0000000001"}`
	APIErrorBody       = `{"type":"error","error":{"type":"api_error","message":"Internal server error"},"request_id":"req_011CFakeRequest0000000001"}`
	AuthBody           = `{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"},"request_id":"req_011CFakeRequest0000000001"}`
	PermissionBody     = `{"type":"error","error":{"type":"permission_error","message":"Your API key does not have permission to use the specified resource."},"request_id":"req_011CFakeRequest0000000001"}`
	PromptTooLongBody  = `{"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 208310 tokens > 200000 maximum"},"request_id":"req_011CFakeRequest0000000001"}`
	CreditTooLowBody   = `{"type":"error","error":{"type":"invalid_request_error","message":"Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits."},"request_id":"req_011CFakeRequest0000000001"}`
	RequestTooBigBody  = `{"type":"error","error":{"type":"request_too_large","message":"Request exceeds the maximum allowed number of bytes."},"request_id":"req_011CFakeRequest0000000001"}`
	BadTemperatureBody = `{"type":"error","error":{"type":"invalid_request_error","message":"temperature: range: 0..1"},"request_id":"req_011CFakeRequest0000000001"}`
	TimeoutBody        = `{"type":"error","error":{"type":"timeout_error","message":"Request timed out"},"request_id":"req_011CFakeRequest0000000001"}`
)

// ErrorBody is an Anthropic error body with the given error type and
// message.
func ErrorBody(errType, message string) string {
	type apiError struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	}
	return encode(struct {
		Type      string   `json:"type"`
		Error     apiError `json:"error"`
		RequestID string   `json:"request_id"`
	}{"error", apiError{errType, message}, requestID})
}

// RateLimited is a 429 asking to retry after retryAfter seconds, with
// Anthropic's rate-limit headers.
func RateLimited(retryAfter string) Reply {
	return Reply{Status: http.StatusTooManyRequests, Body: RateLimitBody, Header: http.Header{
		"Retry-After":                            {retryAfter},
		"Anthropic-Ratelimit-Requests-Limit":     {"50"},
		"Anthropic-Ratelimit-Requests-Remaining": {"0"},
		"Anthropic-Ratelimit-Requests-Reset":     {"2025-01-01T00:00:20Z"},
		"X-Should-Retry":                         {"true"},
	}}
}

// Overloaded is Anthropic's 529 overloaded_error.
func Overloaded() Reply { return Reply{Status: 529, Body: OverloadedBody} }

// ServerError is Anthropic's 500 api_error.
func ServerError() Reply { return Reply{Status: http.StatusInternalServerError, Body: APIErrorBody} }

// Unauthorized is the 401 for a key Anthropic does not know.
func Unauthorized() Reply { return Reply{Status: http.StatusUnauthorized, Body: AuthBody} }

// Forbidden is the 403 for a key without access to the model.
func Forbidden() Reply { return Reply{Status: http.StatusForbidden, Body: PermissionBody} }

// NotFound is the 404 for an unknown model.
func NotFound(model string) Reply {
	return Reply{Status: http.StatusNotFound, Body: ErrorBody("not_found_error", "model: "+model)}
}

// PromptTooLong is the 400 for a prompt over the model's context window.
func PromptTooLong() Reply { return Reply{Status: http.StatusBadRequest, Body: PromptTooLongBody} }

// CreditTooLow is the 400 Anthropic answers when the account is out of credit.
func CreditTooLow() Reply { return Reply{Status: http.StatusBadRequest, Body: CreditTooLowBody} }

// TooLarge is the 413 for a request over Anthropic's size limit.
func TooLarge() Reply {
	return Reply{Status: http.StatusRequestEntityTooLarge, Body: RequestTooBigBody}
}

// Status is an error answer with the given status and body.
func Status(status int, body string) Reply { return Reply{Status: status, Body: body} }
