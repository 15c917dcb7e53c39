// Package anthropic is the adapter for Anthropic's Messages API
// (POST /v1/messages). It translates canonical (OpenAI-shaped) chat requests
// into Messages requests, and the answers, streamed or not, back into
// OpenAI-shaped responses and chunks. Anthropic serves no embeddings, so a
// Client is not a provider.Embedder.
//
// What is translated: system and developer messages (hoisted into the
// top-level system field), text and image content parts, tools, tool_choice,
// parallel_tool_calls, assistant tool calls and tool results, stop,
// temperature, top_p, user (as metadata.user_id) and max_tokens. From the
// request's extra members, top_k and thinking (Anthropic's own extended
// thinking object) are passed on; every other member the Messages API does
// not take (response_format, seed, logit_bias, reasoning_effort, …) is dropped.
// In particular response_format is not translated: a client asking for JSON
// must say so in its prompt.
//
// Anthropic's rules are met on the way: consecutive messages of one role
// are merged (Anthropic wants user and assistant to alternate), tool
// results lead their user message, text that is empty or only white space
// is left out, temperature is capped at Anthropic's maximum of 1, and
// max_tokens, which Anthropic requires, falls back to
// Options.MaxOutputTokens, then DefaultMaxTokens. A message's name and an
// assistant message's reasoning_content are not sent (Anthropic takes back
// thinking only with the signature OpenAI clients do not keep). Requests
// Anthropic cannot take at all (n > 1, audio or file parts, non-function
// tools, tool-call arguments that are not a JSON object) fail with a local
// provider.BadRequest naming the field, before anything is sent.
package anthropic

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/detour-gateway/detour/chat"
	"github.com/detour-gateway/detour/router/provider"
)

// DefaultBaseURL is the API base used when Options.BaseURL is empty.
const DefaultBaseURL = "https://api.anthropic.com"

// APIVersion is the value of the anthropic-version header sent with every
// request.
const APIVersion = "2023-06-01"

// DefaultMaxTokens is the max_tokens sent, in tokens, when neither the
// request (max_completion_tokens or max_tokens) nor Options.MaxOutputTokens
// gives one. The Messages API requires the field; 4096 is an answer length
// every Claude model supports.
const DefaultMaxTokens = 4096

// Options configure a Client.
type Options struct {
	// Name is the provider's name, used in messages. Empty means "anthropic".
	Name string
	// BaseURL is the API base. The client posts to BaseURL + "/v1/messages".
	// Empty means DefaultBaseURL.
	BaseURL string
	// Model is the upstream model name sent in every request
	// ("claude-sonnet-4-20250514").
	Model string
	// Key returns the API key, sent as the x-api-key header. Nil sends
	// none, which Anthropic refuses.
	Key provider.KeyFunc
	// MaxOutputTokens is the deployment's largest answer in tokens (its
	// model_info.max_output_tokens), sent as max_tokens when the request
	// sets no limit of its own. Zero means DefaultMaxTokens.
	MaxOutputTokens int
	// HTTPClient sends requests. Nil means http.DefaultClient. Timeouts
	// come from the request context, so the client needs none of its own.
	HTTPClient *http.Client
	// Now is the clock for Retry-After dates and the created time of
	// answers (Anthropic sends none). Nil means time.Now.
	Now func() time.Time
}

// Client is a provider.Provider for one Anthropic deployment. It is safe
// for concurrent use.
type Client struct {
	opts     Options
	endpoint string
}

// New returns a Client for the deployment o describes.
func New(o Options) *Client {
	if o.Name == "" {
		o.Name = "anthropic"
	}
	if o.BaseURL == "" {
		o.BaseURL = DefaultBaseURL
	}
	if o.HTTPClient == nil {
		o.HTTPClient = http.DefaultClient
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Client{opts: o, endpoint: strings.TrimRight(o.BaseURL, "/") + "/v1/messages"}
}

var _ provider.Provider = (*Client)(nil)

// Chat sends req and returns the whole answer.
func (c *Client) Chat(ctx context.Context, req *chat.Request) (*chat.Response, error) {
	resp, err := c.send(ctx, req, false)
	if err != nil {
		return nil, err
	}
	body, perr := provider.ReadAnswer(resp, c.opts.Name, "answer")
	if perr != nil {
		return nil, perr
	}
	out, err := decodeResponse(body, c.opts.Model, c.opts.Now().Unix())
	if err != nil {
		return nil, &provider.Error{Class: provider.ServerError, Status: resp.StatusCode,
			Message: c.opts.Name + " sent a malformed answer", Err: err}
	}
	if native(req) {
		out.Native = &chat.Native{Dialect: chat.DialectAnthropic, Body: body}
	}
	return out, nil
}

// native reports whether req came from a client speaking the Messages API:
// its own bytes go upstream, and the upstream's come back beside the
// translation.
func native(req *chat.Request) bool {
	return req.Native != nil && req.Native.Dialect == chat.DialectAnthropic
}

// Stream sends req with stream: true and returns once the upstream has
// answered with its headers.
func (c *Client) Stream(ctx context.Context, req *chat.Request) (provider.Stream, error) {
	resp, err := c.send(ctx, req, true)
	if err != nil {
		return nil, err
	}
	includeUsage := req.StreamOptions != nil && req.StreamOptions.IncludeUsage
	s := newStream(c.opts.Name, c.opts.Model, c.opts.Now().Unix(), includeUsage, resp.Body)
	s.keepNative = native(req)
	return s, nil
}

// send translates and posts req, and returns a 200 response or the
// classified failure.
func (c *Client) send(ctx context.Context, req *chat.Request, streaming bool) (*http.Response, error) {
	body, perr := c.body(req, streaming)
	if perr != nil {
		return nil, perr
	}
	accept := "application/json"
	if streaming {
		accept = "text/event-stream"
	}
	hreq, perr := provider.NewRequest(ctx, c.opts.Name, c.endpoint, body, accept)
	if perr != nil {
		return nil, perr
	}
	hreq.Header.Set("Anthropic-Version", APIVersion)
	if native(req) {
		for _, h := range []string{"Anthropic-Version", "Anthropic-Beta"} {
			if v := req.Native.Header[h]; v != "" {
				hreq.Header.Set(h, v)
			}
		}
	}
	if perr := provider.SetKey(ctx, c.opts.Key, func(key string) { hreq.Header.Set("X-Api-Key", key) }); perr != nil {
		return nil, perr
	}
	return provider.Send(c.opts.HTTPClient, hreq, c.classify)
}

// body is the Messages request for req: the client's own bytes with this
// deployment's model when the client spoke the Messages API, else the
// translation of the canonical request.
func (c *Client) body(req *chat.Request, streaming bool) ([]byte, *provider.Error) {
	if native(req) {
		model, _ := json.Marshal(c.opts.Model)
		body, err := chat.SetMember(req.Native.Body, "model", model)
		if err == nil {
			body, err = chat.SetMember(body, "stream", json.RawMessage(strconv.FormatBool(streaming)))
		}
		if err != nil {
			return nil, &provider.Error{Class: provider.BadRequest, Local: true, Message: "the request could not be forwarded", Err: err}
		}
		return body, nil
	}
	wire, perr := c.translate(req, streaming)
	if perr != nil {
		return nil, perr
	}
	body, err := json.Marshal(wire)
	if err != nil {
		return nil, &provider.Error{Class: provider.BadRequest, Local: true, Message: "the request could not be encoded", Err: err}
	}
	return body, nil
}

// classify is Classify for this client's provider, at the client's time.
func (c *Client) classify(status int, header http.Header, body []byte) *provider.Error {
	return Classify(c.opts.Name, status, header, body, c.opts.Now())
}

// CountTokens asks Anthropic's count_tokens endpoint how many input tokens
// req holds: the client's own body (with this deployment's model) when it
// spoke the Messages API, else the translation of the canonical request.
func (c *Client) CountTokens(ctx context.Context, req *chat.Request) (int, error) {
	var body []byte
	if native(req) {
		model, _ := json.Marshal(c.opts.Model)
		b, err := chat.SetMember(req.Native.Body, "model", model)
		if err != nil {
			return 0, &provider.Error{Class: provider.BadRequest, Local: true, Message: "the request could not be forwarded", Err: err}
		}
		body = b
	} else {
		wire, perr := c.translate(req, false)
		if perr != nil {
			return 0, perr
		}
		// count_tokens takes the request without max_tokens or stream.
		counted := struct {
			Model      string          `json:"model"`
			System     json.RawMessage `json:"system,omitempty"`
			Messages   json.RawMessage `json:"messages"`
			Tools      json.RawMessage `json:"tools,omitempty"`
			ToolChoice json.RawMessage `json:"tool_choice,omitempty"`
		}{Model: c.opts.Model}
		raw, _ := json.Marshal(wire)
		var m map[string]json.RawMessage
		json.Unmarshal(raw, &m)
		counted.System, counted.Messages, counted.Tools, counted.ToolChoice = m["system"], m["messages"], m["tools"], m["tool_choice"]
		body, _ = json.Marshal(counted)
	}
	hreq, perr := provider.NewRequest(ctx, c.opts.Name, c.endpoint+"/count_tokens", body, "application/json")
	if perr != nil {
		return 0, perr
	}
	hreq.Header.Set("Anthropic-Version", APIVersion)
	if native(req) {
		for _, h := range []string{"Anthropic-Version", "Anthropic-Beta"} {
			if v := req.Native.Header[h]; v != "" {
				hreq.Header.Set(h, v)
			}
		}
	}
	if perr := provider.SetKey(ctx, c.opts.Key, func(key string) { hreq.Header.Set("X-Api-Key", key) }); perr != nil {
		return 0, perr
	}
	resp, err := provider.Send(c.opts.HTTPClient, hreq, c.classify)
	if err != nil {
		return 0, err
	}
	answer, perr := provider.ReadAnswer(resp, c.opts.Name, "token count")
	if perr != nil {
		return 0, perr
	}
	var out struct {
		InputTokens *int `json:"input_tokens"`
	}
	if err := json.Unmarshal(answer, &out); err != nil || out.InputTokens == nil {
		return 0, &provider.Error{Class: provider.ServerError, Status: resp.StatusCode, Message: c.opts.Name + " sent a malformed token count", Err: err}
	}
	return *out.InputTokens, nil
}
