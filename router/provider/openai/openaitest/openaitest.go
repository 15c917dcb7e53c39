// Package openaitest provides a fake OpenAI server for tests: chat
// completions, embeddings and the Responses API (POST /v1/responses, see
// responses.go). It speaks the real wire format byte for byte (JSON
// bodies, SSE framing, error bodies and headers as OpenAI sends them) and
// injects faults: error statuses, Retry-After, resets mid-body, slow first
// bytes, stalls and cuts mid-stream, malformed JSON.
package openaitest

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/detour-gateway/detour/router/provider/providertest"
)

// Fault is a way for the fake to misbehave.
type Fault int

// Faults.
const (
	// NoFault answers normally.
	NoFault Fault = iota
	// ResetMidBody sends headers and part of the body, then drops the
	// connection.
	ResetMidBody
	// MalformedJSON answers 200 with a body (or a stream chunk) that is not
	// valid JSON.
	MalformedJSON
	// StallMidStream sends the first content chunk, then sends nothing
	// until the client gives up.
	StallMidStream
	// CutMidStream sends content chunks, then drops the connection without
	// [DONE].
	CutMidStream
	// ErrorEventMidStream sends content chunks, then an error event inside
	// the 200 stream, as OpenRouter and vLLM do; the Responses API's
	// stream ends with response.failed.
	ErrorEventMidStream
)

// Reply is what the fake does with one request.
type Reply struct {
	// Status, if not 0 or 200, answers with this status and Body.
	Status int
	// Body is the raw body of an error answer.
	Body string
	// Header is added to the answer.
	Header http.Header
	// Text is the answer's content. Empty means DefaultText, unless the
	// reply makes tool calls; then the content is null.
	Text string
	// ToolCalls are answered as tool_calls, finish_reason "tool_calls"
	// (function_call items from the Responses API).
	ToolCalls []ToolCall
	// FinishReason, if set, replaces the finish_reason ("length" simulates
	// a max_tokens hit; the Responses API answers it, and
	// "content_filter", as an incomplete response).
	FinishReason string
	// Delay holds back the answer's headers (a slow first byte). The
	// request's cancellation ends the wait.
	Delay time.Duration
	// Fault makes the answer misbehave.
	Fault Fault
}

// DefaultText is the answer's content when a Reply sets none.
const DefaultText = "Hello from the fake upstream."

// ToolCall is a function call the fake answers with.
type ToolCall struct {
	Name string
	// Arguments is the JSON text of the arguments.
	Arguments string
}

// answer is what one reply writes.
type answer struct {
	model, text  string
	toolCalls    []ToolCall
	finish       string
	includeUsage bool
	fault        Fault
}

// Request is a request the fake received.
type Request struct {
	Header http.Header
	Body   map[string]any
	Raw    []byte
	// Path and Query are the request URL's.
	Path, Query string
}

// Server is a fake OpenAI API. Its URL is the API base ("…/v1").
// SetReplies, Requests, Count and Disconnects come from its Script.
type Server struct {
	*httptest.Server
	providertest.Script[Reply, Request]
	// URL is the base URL to configure as api_base.
	URL string
}

// New starts a fake on 127.0.0.1 that answers with replies in order; the
// last reply repeats. With no replies it answers normally. It is closed at
// the test's end.
func New(t testing.TB, replies ...Reply) *Server {
	return NewAt(t, "127.0.0.1:0", replies...)
}

// NewAt is New listening on addr, such as an address that refused
// connections until now (a provider coming back).
func NewAt(t testing.TB, addr string, replies ...Reply) *Server {
	t.Helper()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen on %s: %v", addr, err)
	}
	s := &Server{}
	s.SetReplies(replies...)
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.Server.Listener.Close()
	s.Server.Listener = l
	s.Server.Start()
	s.URL = s.Server.URL + "/v1"
	t.Cleanup(s.Close)
	return s
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet && (r.URL.Path == "/v1/models" || r.URL.Path == "/openai/models") {
		// The model list answers with the next reply's status too, so a
		// test can make a probe fail or succeed.
		rep, _ := s.Next(Request{Header: r.Header.Clone(), Path: r.URL.Path, Query: r.URL.RawQuery})
		if rep.Status != 0 && rep.Status != http.StatusOK {
			writeJSON(w, rep.Status, nil, rep.Body)
			return
		}
		writeJSON(w, http.StatusOK, nil, `{"object":"list","data":[{"id":"gpt-4o","object":"model","created":1715367049,"owned_by":"system"}]}`)
		return
	}
	if r.Method != http.MethodPost {
		writeJSON(w, http.StatusNotFound, nil, notFoundBody)
		return
	}
	model, endpoint, ok := route(r)
	if !ok {
		writeJSON(w, http.StatusNotFound, nil, notFoundBody)
		return
	}
	raw, _ := io.ReadAll(r.Body)
	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil {
		writeJSON(w, http.StatusBadRequest, nil, `{"error":{"message":"We could not parse the JSON body of your request.","type":"invalid_request_error","param":null,"code":null}}`)
		return
	}
	if endpoint == "responses" {
		s.serveResponses(w, r, raw, body)
		return
	}
	if model == "" {
		model, _ = body["model"].(string)
	}
	rep, _ := s.Next(Request{Header: r.Header.Clone(), Body: body, Raw: raw, Path: r.URL.Path, Query: r.URL.RawQuery})
	if !s.Hold(r.Context(), rep.Delay) {
		return
	}
	for k, vs := range rep.Header {
		w.Header()[k] = vs
	}
	w.Header().Set("X-Request-Id", "req_"+strconv.Itoa(s.Count()))
	if rep.Status != 0 && rep.Status != http.StatusOK {
		writeJSON(w, rep.Status, nil, rep.Body)
		return
	}
	if endpoint == "embeddings" {
		writeEmbeddings(w, model, body["input"])
		return
	}
	a := answer{model: model, text: rep.Text, toolCalls: rep.ToolCalls, finish: rep.FinishReason, fault: rep.Fault}
	if a.text == "" && len(a.toolCalls) == 0 {
		a.text = DefaultText
	}
	if a.finish == "" {
		a.finish = "stop"
		if len(a.toolCalls) > 0 {
			a.finish = "tool_calls"
		}
	}
	if stream, _ := body["stream"].(bool); stream {
		if so, ok := body["stream_options"].(map[string]any); ok {
			a.includeUsage, _ = so["include_usage"].(bool)
		}
		if !writeStream(w, r, a) {
			s.ClientGone()
		}
		return
	}
	writeCompletion(w, a)
}

// route reads the endpoint ("chat", "embeddings" or "responses") from the
// path, as OpenAI serves it (/v1/chat/completions) or as Azure does
// (/openai/deployments/{deployment}/chat/completions?api-version=…, where
// the deployment names the model).
func route(r *http.Request) (model, endpoint string, ok bool) {
	switch r.URL.Path {
	case "/v1/chat/completions":
		return "", "chat", true
	case "/v1/embeddings":
		return "", "embeddings", true
	case "/v1/responses":
		return "", "responses", true
	}
	rest, found := strings.CutPrefix(r.URL.Path, "/openai/deployments/")
	if !found || r.URL.Query().Get("api-version") == "" || r.Header.Get("Api-Key") == "" {
		return "", "", false
	}
	deployment, op, _ := strings.Cut(rest, "/")
	switch op {
	case "chat/completions":
		return deployment, "chat", true
	case "embeddings":
		return deployment, "embeddings", true
	}
	return "", "", false
}

// writeEmbeddings answers an embeddings request with a small vector per
// input, derived from the input so that tests can tell them apart.
func writeEmbeddings(w http.ResponseWriter, model string, input any) {
	var texts []string
	switch in := input.(type) {
	case string:
		texts = []string{in}
	case []any:
		for _, v := range in {
			s, _ := v.(string)
			texts = append(texts, s)
		}
	}
	var data []string
	tokens := 0
	for i, t := range texts {
		tokens += len(providertest.Words(t))
		data = append(data, fmt.Sprintf(`{"object":"embedding","index":%d,"embedding":[%d.5,-0.25,%d]}`, i, len(t), i))
	}
	writeJSON(w, http.StatusOK, nil, fmt.Sprintf(`{"object":"list","data":[%s],"model":%q,"usage":{"prompt_tokens":%d,"total_tokens":%d}}`,
		strings.Join(data, ","), model, tokens, tokens))
}

func writeJSON(w http.ResponseWriter, status int, _ http.Header, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	io.WriteString(w, body)
}

const notFoundBody = `{"error":{"message":"Invalid URL","type":"invalid_request_error","param":null,"code":null}}`

// usageJSON counts a word of text, or four characters of tool-call
// arguments, as a token.
func usageJSON(a answer) string {
	c := outputTokens(a.text, a.toolCalls)
	return fmt.Sprintf(`{"prompt_tokens":9,"completion_tokens":%d,"total_tokens":%d,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}`, c, 9+c)
}

// outputTokens counts the tokens of an answer's text and tool calls.
func outputTokens(text string, calls []ToolCall) int {
	n := len(providertest.Words(text))
	for _, tc := range calls {
		n += len(tc.Arguments)/4 + 1
	}
	return n
}

// toolCallsJSON renders tool calls as a message's tool_calls array.
func toolCallsJSON(calls []ToolCall) string {
	var parts []string
	for i, c := range calls {
		args, _ := json.Marshal(c.Arguments)
		parts = append(parts, fmt.Sprintf(`{"id":"call_fake%d","type":"function","function":{"name":%q,"arguments":%s}}`, i, c.Name, args))
	}
	return "[" + strings.Join(parts, ",") + "]"
}

func writeCompletion(w http.ResponseWriter, a answer) {
	content := []byte("null")
	if a.text != "" {
		content, _ = json.Marshal(a.text)
	}
	toolCalls := ""
	if len(a.toolCalls) > 0 {
		toolCalls = `,
        "tool_calls": ` + toolCallsJSON(a.toolCalls)
	}
	body := fmt.Sprintf(`{
  "id": "chatcmpl-fake123",
  "object": "chat.completion",
  "created": 1732345678,
  "model": %q,
  "choices": [
    {
      "index": 0,
      "message": {
        "role": "assistant",
        "content": %s,
        "refusal": null,
        "annotations": []%s
      },
      "logprobs": null,
      "finish_reason": %q
    }
  ],
  "usage": %s,
  "service_tier": "default",
  "system_fingerprint": "fp_fake"
}
`, a.model, content, toolCalls, a.finish, usageJSON(a))
	switch a.fault {
	case MalformedJSON:
		writeJSON(w, http.StatusOK, nil, body[:len(body)/2])
	case ResetMidBody:
		w.Header().Set("Content-Type", "application/json")
		providertest.ResetMidBody(w, []byte(body))
	default:
		writeJSON(w, http.StatusOK, nil, body)
	}
}

// writeStream streams the answer; it returns false when the client left
// during a stall.
func writeStream(w http.ResponseWriter, r *http.Request, a answer) bool {
	rc := http.NewResponseController(w)
	if a.fault == ResetMidBody {
		// Headers, then nothing: the connection drops before any event.
		w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		rc.Flush()
		panic(http.ErrAbortHandler)
	}
	w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	usage := ""
	if a.includeUsage {
		usage = `,"usage":null`
	}
	send := func(data string) {
		io.WriteString(w, "data: "+data+"\n\n")
		rc.Flush()
	}
	head := fmt.Sprintf(`{"id":"chatcmpl-fake123","object":"chat.completion.chunk","created":1732345678,"model":%q,"service_tier":"default","system_fingerprint":"fp_fake","choices":[`, a.model)
	send(head + `{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}]` + usage + `}`)
	if a.fault == MalformedJSON {
		send(head + `{"index":0,"delta":{"content":"Hel`)
		return true
	}
	for i, word := range providertest.Words(a.text) {
		content, _ := json.Marshal(word)
		send(head + `{"index":0,"delta":{"content":` + string(content) + `},"logprobs":null,"finish_reason":null}]` + usage + `}`)
		if i == 0 {
			switch a.fault {
			case StallMidStream:
				<-r.Context().Done()
				return false
			case CutMidStream:
				panic(http.ErrAbortHandler)
			case ErrorEventMidStream:
				send(`{"error":{"message":"The server had an error while processing your request. Sorry about that!","type":"server_error","param":null,"code":null}}`)
				return true
			}
		}
	}
	for i, c := range a.toolCalls {
		// The name in the first fragment, the arguments in two more, as
		// OpenAI streams them.
		send(head + fmt.Sprintf(`{"index":0,"delta":{"tool_calls":[{"index":%d,"id":"call_fake%d","type":"function","function":{"name":%q,"arguments":""}}]},"logprobs":null,"finish_reason":null}]`, i, i, c.Name) + usage + `}`)
		half := len(c.Arguments) / 2
		for _, piece := range []string{c.Arguments[:half], c.Arguments[half:]} {
			p, _ := json.Marshal(piece)
			send(head + fmt.Sprintf(`{"index":0,"delta":{"tool_calls":[{"index":%d,"function":{"arguments":%s}}]},"logprobs":null,"finish_reason":null}]`, i, p) + usage + `}`)
		}
	}
	send(head + fmt.Sprintf(`{"index":0,"delta":{},"logprobs":null,"finish_reason":%q}]`, a.finish) + usage + `}`)
	if a.includeUsage {
		send(head + `],"usage":` + usageJSON(a) + `}`)
	}
	send("[DONE]")
	return true
}

// Error bodies exactly as OpenAI sends them.
const (
	RateLimitBody = `{"error":{"message":"Rate limit reached for gpt-4o in organization org-fake on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in 20s. Visit https://platform.openai.com/account/rate-limits to learn more.","type":"requests","param":null,"code":"rate_limit_exceeded"}}`
	QuotaBody     = `{"error":{"message":"You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}`
	ServerBody    = `{"error":{"message":"The server had an error while processing your request. Sorry about that!","type":"server_error","param":null,"code":null}}`
	OverloadBody  = `{"error":{"message":"The engine is currently overloaded, please try again later","type":"server_error","param":null,"code":null}}`
	AuthBody      = `{"error":{"message":"Incorrect API key provided: sk-fake-***********************1234. You can find your API key at https://platform.openai.com/account/api-keys.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}`
	ContextBody   = `{"error":{"message":"This model's maximum context length is 128000 tokens. However, your messages resulted in 130542 tokens. Please reduce the length of the messages.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}`
	BadParamBody  = `{"error":{"message":"Invalid value for 'temperature': must be between 0 and 2.","type":"invalid_request_error","param":"temperature","code":"invalid_value"}}`
)

// RateLimited is a 429 asking to retry after retryAfter seconds, with
// OpenAI's rate-limit headers.
func RateLimited(retryAfter string) Reply {
	return Reply{Status: 429, Body: RateLimitBody, Header: http.Header{
		"Retry-After": {retryAfter}, "X-Ratelimit-Limit-Requests": {"3"},
		"X-Ratelimit-Remaining-Requests": {"0"}, "X-Ratelimit-Reset-Requests": {"20s"}}}
}

// Status is an error answer with the given status and body.
func Status(status int, body string) Reply { return Reply{Status: status, Body: body} }

// ClosedAddr returns a loopback address that refuses connections: a port
// that was listened on and closed. It is providertest.ClosedAddr, kept for
// the gateway tests that call it.
func ClosedAddr(t testing.TB) string {
	t.Helper()
	return providertest.ClosedAddr(t)
}
