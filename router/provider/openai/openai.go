// Package openai is the adapter for OpenAI's chat-completions API and every
// service that speaks it (Groq, Mistral, DeepSeek, OpenRouter, Together,
// xAI, Fireworks, LM Studio, vLLM, …). Requests pass through with all their
// fields; only the model name is replaced by the deployment's.
//
// The package also speaks OpenAI's Responses API, both ways: as a client
// dialect (responses.go, responses_stream.go) and, for an upstream that
// serves it (Options.Responses), as what a Responses client's own request
// is sent to, its bytes unchanged but for model and stream, the upstream's
// answer handed back beside its canonical translation
// (upstream_responses.go).
package openai

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/detour-gateway/detour/chat"
	"github.com/detour-gateway/detour/router/provider"
	"github.com/detour-gateway/detour/router/provider/sse"
)

// Options configure a Client.
type Options struct {
	// Name is the provider's name ("openai", "groq", …), used in messages.
	Name string
	// BaseURL is the API base, such as "https://api.openai.com/v1".
	// The client posts to BaseURL + "/chat/completions".
	BaseURL string
	// Model is the upstream model name sent in every request.
	Model string
	// Key returns the API key. Nil sends no Authorization header.
	Key provider.KeyFunc
	// Organization, if set, is sent as the OpenAI-Organization header.
	Organization string
	// HTTPClient sends requests. Nil means http.DefaultClient. Timeouts
	// come from the request context, so the client needs none of its own.
	HTTPClient *http.Client
	// Now is the clock for Retry-After dates. Nil means time.Now.
	Now func() time.Time
	// NoStreamOptions leaves stream_options out of streamed requests, for
	// services that refuse the field (see provider.Spec).
	NoStreamOptions bool
	// Responses says that the upstream serves OpenAI's Responses API at
	// BaseURL + "/responses". Then a request a client made in that API
	// (chat.Request.Native with chat.DialectResponses) is sent there as
	// the client wrote it, with only model and stream set, and the
	// upstream's answer or events come back byte for byte in
	// chat.Response.Native or chat.Chunk.Native, beside their canonical
	// translation. Every other request still goes to /chat/completions.
	// False sends every request to /chat/completions, translated: what
	// services that do not serve the Responses API need. NewAzure ignores
	// it (Azure serves the API under another path).
	Responses bool
}

// Client is a provider.Provider and provider.Embedder for one
// OpenAI-compatible deployment.
type Client struct {
	opts Options
	// chatURL and embedURL are the endpoints posted to; modelsURL is the
	// model list, fetched to probe the deployment. responsesURL is the
	// Responses API's endpoint, "" when the upstream does not serve it.
	chatURL, embedURL, modelsURL, responsesURL string
	// setKey puts the key on a request: a bearer token, or Azure's api-key.
	setKey func(h http.Header, key string)
}

// New returns a Client for the deployment o describes.
func New(o Options) *Client {
	base := strings.TrimRight(o.BaseURL, "/")
	c := newClient(o, base+"/chat/completions", base+"/embeddings", base+"/models", bearer)
	if o.Responses {
		c.responsesURL = base + "/responses"
	}
	return c
}

func newClient(o Options, chatURL, embedURL, modelsURL string, setKey func(http.Header, string)) *Client {
	if o.HTTPClient == nil {
		o.HTTPClient = http.DefaultClient
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Client{opts: o, chatURL: chatURL, embedURL: embedURL, modelsURL: modelsURL, setKey: setKey}
}

func bearer(h http.Header, key string) { h.Set("Authorization", "Bearer "+key) }

var (
	_ provider.Provider = (*Client)(nil)
	_ provider.Embedder = (*Client)(nil)
	_ provider.Prober   = (*Client)(nil)
)

// Probe lists the models (GET /models), which costs nothing, to learn
// whether the deployment answers again.
func (c *Client) Probe(ctx context.Context) error {
	hreq, err := http.NewRequestWithContext(ctx, http.MethodGet, c.modelsURL, nil)
	if err != nil {
		return &provider.Error{Class: provider.BadRequest, Local: true, Message: "invalid api_base for " + c.opts.Name, Err: err}
	}
	if perr := provider.SetKey(ctx, c.opts.Key, func(key string) { c.setKey(hreq.Header, key) }); perr != nil {
		return perr
	}
	resp, err := provider.Send(c.opts.HTTPClient, hreq, func(status int, h http.Header, body []byte) *provider.Error {
		return Classify(c.opts.Name, status, h, body, c.opts.Now())
	})
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}

// Chat sends req and returns the whole answer.
func (c *Client) Chat(ctx context.Context, req *chat.Request) (*chat.Response, error) {
	if c.native(req) {
		return c.chatResponses(ctx, req)
	}
	resp, err := c.send(ctx, req, false)
	if err != nil {
		return nil, err
	}
	body, perr := provider.ReadAnswer(resp, c.opts.Name, "answer")
	if perr != nil {
		return nil, perr
	}
	var out chat.Response
	if err := json.Unmarshal(body, &out); err != nil || out.Choices == nil {
		return nil, &provider.Error{Class: provider.ServerError, Status: resp.StatusCode,
			Message: c.opts.Name + " sent a malformed answer", Err: fmt.Errorf("decode answer: %v", err)}
	}
	return &out, nil
}

// Stream sends req with stream: true and returns once the upstream has
// answered with its headers.
func (c *Client) Stream(ctx context.Context, req *chat.Request) (provider.Stream, error) {
	if c.native(req) {
		return c.streamResponses(ctx, req)
	}
	resp, err := c.send(ctx, req, true)
	if err != nil {
		return nil, err
	}
	return &stream{name: c.opts.Name, body: resp.Body, events: sse.NewReader(resp.Body)}, nil
}

// send posts req and returns a 200 response, or the classified failure.
func (c *Client) send(ctx context.Context, req *chat.Request, streaming bool) (*http.Response, error) {
	out := *req
	out.Model = c.opts.Model
	out.Stream = streaming
	if !streaming || c.opts.NoStreamOptions {
		out.StreamOptions = nil
	}
	accept := "application/json"
	if streaming {
		accept = "text/event-stream"
	}
	return c.post(ctx, c.chatURL, &out, accept)
}

// post sends body as JSON to url and returns a 200 response, or the
// classified failure.
func (c *Client) post(ctx context.Context, url string, body any, accept string) (*http.Response, error) {
	var b []byte
	var err error
	if m, ok := body.(json.Marshaler); ok {
		// The chat types write compact, valid JSON themselves; json.Marshal
		// would check and compact all of it again (~0.5 ms per 100 KB).
		b, err = m.MarshalJSON()
	} else {
		b, err = json.Marshal(body)
	}
	if err != nil {
		return nil, &provider.Error{Class: provider.BadRequest, Local: true, Message: "the request could not be encoded", Err: err}
	}
	return c.postBytes(ctx, url, b, accept)
}

// postBytes sends body, a JSON document, to url with the key and
// organization headers, and returns a 200 response or the classified
// failure.
func (c *Client) postBytes(ctx context.Context, url string, body []byte, accept string) (*http.Response, error) {
	hreq, perr := provider.NewRequest(ctx, c.opts.Name, url, body, accept)
	if perr != nil {
		return nil, perr
	}
	if perr := provider.SetKey(ctx, c.opts.Key, func(key string) { c.setKey(hreq.Header, key) }); perr != nil {
		return nil, perr
	}
	if c.opts.Organization != "" {
		hreq.Header.Set("OpenAI-Organization", c.opts.Organization)
	}
	return provider.Send(c.opts.HTTPClient, hreq, c.classify)
}

// classify is Classify for this client's provider, at the client's time.
func (c *Client) classify(status int, header http.Header, body []byte) *provider.Error {
	return Classify(c.opts.Name, status, header, body, c.opts.Now())
}

// Embed returns embeddings from the /embeddings endpoint. It always asks for
// floats: the server encodes base64 for clients that want it.
func (c *Client) Embed(ctx context.Context, req *chat.EmbeddingRequest) (*chat.EmbeddingResponse, error) {
	out := *req
	out.Model = c.opts.Model
	out.EncodingFormat = "float"
	resp, err := c.post(ctx, c.embedURL, &out, "application/json")
	if err != nil {
		return nil, err
	}
	body, perr := provider.ReadAnswer(resp, c.opts.Name, "embeddings")
	if perr != nil {
		return nil, perr
	}
	var er chat.EmbeddingResponse
	if err := json.Unmarshal(body, &er); err != nil || er.Data == nil {
		return nil, &provider.Error{Class: provider.ServerError, Status: resp.StatusCode,
			Message: c.opts.Name + " sent malformed embeddings", Err: fmt.Errorf("decode embeddings: %v", err)}
	}
	return &er, nil
}

// stream reads an OpenAI chat-completion event stream.
type stream struct {
	name     string
	body     io.ReadCloser
	events   *sse.Reader
	finished bool // a chunk with a finish_reason was seen
	done     bool
}

func (s *stream) Recv() (*chat.Chunk, error) {
	if s.done {
		return nil, io.EOF
	}
	for {
		ev, err := s.events.Next()
		if err != nil {
			return nil, s.fail(err)
		}
		data := bytes.TrimSpace(ev.Data)
		if len(data) == 0 {
			continue
		}
		if bytes.Equal(data, []byte("[DONE]")) {
			s.done = true
			return nil, io.EOF
		}
		if ev.Name == "error" || bytes.HasPrefix(data, []byte(`{"error"`)) {
			// Some services (OpenRouter, vLLM) report failures inside a 200 stream.
			return nil, midStreamError(s.name, data)
		}
		var c chat.Chunk
		if err := json.Unmarshal(data, &c); err != nil {
			return nil, &provider.Error{Class: provider.ServerError, Status: http.StatusOK,
				Message: s.name + " sent a malformed stream chunk", Err: fmt.Errorf("decode chunk: %w", err)}
		}
		for _, ch := range c.Choices {
			if ch.FinishReason != "" {
				s.finished = true
			}
		}
		return &c, nil
	}
}

// fail turns a read error into the stream's end or a classified failure.
func (s *stream) fail(err error) error {
	if errors.Is(err, io.EOF) && s.finished {
		// Some compatible servers end without [DONE] after the last chunk.
		s.done = true
		return io.EOF
	}
	return sse.ReadError(s.name, err)
}

func (s *stream) Close() error { return s.body.Close() }

// errorBody is OpenAI's error shape. Code is a string for OpenAI, a number
// for some compatible services.
type errorBody struct {
	Error struct {
		Message string          `json:"message"`
		Type    string          `json:"type"`
		Param   json.RawMessage `json:"param"`
		Code    json.RawMessage `json:"code"`
	} `json:"error"`
}

func (e *errorBody) code() string {
	var s string
	if json.Unmarshal(e.Error.Code, &s) == nil {
		return s
	}
	return strings.Trim(string(e.Error.Code), `"`)
}

// Classify sorts a non-200 answer from an OpenAI-compatible API into an
// error class, from its status, headers and body. name is the provider's
// name, used in the client-facing message.
func Classify(name string, status int, header http.Header, body []byte, now time.Time) *provider.Error {
	var eb errorBody
	_ = json.Unmarshal(body, &eb) // a body that is not JSON classifies by status alone
	code, typ := eb.code(), eb.Error.Type
	msg := provider.Sanitize(eb.Error.Message)
	if msg == "" {
		msg = fmt.Sprintf("%s answered HTTP %d", name, status)
	}
	lower := strings.ToLower(eb.Error.Message)
	e := &provider.Error{Status: status, Message: msg, Err: fmt.Errorf("%s: HTTP %d %s %s", name, status, typ, code)}
	switch {
	case code == "insufficient_quota" || typ == "insufficient_quota" || strings.Contains(lower, "exceeded your current quota"):
		e.Class = provider.QuotaExhausted
		e.Message = name + " says the account is out of quota or credit: " + msg
	case status == http.StatusTooManyRequests:
		e.Class = provider.RateLimited
		e.RetryAfter = provider.ParseRetryAfter(header.Get, now)
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		e.Class = provider.Auth
		// Auth messages often quote part of the key; say it in our words.
		e.Message = fmt.Sprintf("%s rejected Detour's API key (HTTP %d); check it with `detour keys set %s`", name, status, name)
	case status == http.StatusNotFound:
		e.Class = provider.NotFound
	case status == http.StatusRequestTimeout || status == http.StatusGatewayTimeout:
		e.Class = provider.Timeout
	case status >= 500:
		e.Class = provider.ServerError
		e.RetryAfter = provider.ParseRetryAfter(header.Get, now)
	case code == "context_length_exceeded" || strings.Contains(lower, "context length") ||
		strings.Contains(lower, "context window") || strings.Contains(lower, "maximum context") ||
		strings.Contains(lower, "too many tokens"):
		e.Class = provider.ContextWindowExceeded
	case code == "content_policy_violation" || code == "content_filter" || strings.HasSuffix(code, "_policy") ||
		strings.HasSuffix(code, "_policy_violation") || strings.Contains(lower, "content management policy") ||
		strings.Contains(lower, "content policy") || strings.Contains(lower, "usage policy") || strings.Contains(lower, "safety system"):
		// The _policy codes are the Responses API's (bio_policy,
		// misalignment_policy_violation, image_content_policy_violation);
		// "usage policy" is what its invalid_prompt says of a flagged prompt.
		e.Class = provider.ContentPolicy
	default:
		e.Class = provider.BadRequest
	}
	return e
}

// midStreamError classifies an error event inside a 200 stream.
func midStreamError(name string, data []byte) *provider.Error {
	var eb errorBody
	_ = json.Unmarshal(data, &eb)
	status := http.StatusBadGateway
	var n int
	if json.Unmarshal(eb.Error.Code, &n) == nil && n >= 400 && n <= 599 {
		status = n // OpenRouter puts the HTTP status in code
	}
	e := Classify(name, status, http.Header{}, data, time.Time{})
	e.Status = http.StatusOK
	return e
}
