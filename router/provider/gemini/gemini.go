// Package gemini is the adapter for Google's Gemini API (generateContent,
// streamGenerateContent and batchEmbedContents, v1beta). It translates the
// canonical OpenAI-shaped request to Gemini's contents/parts shape, Gemini's
// answers and server-sent events back to OpenAI-shaped responses and chunks,
// and Google's error bodies into provider error classes.
//
// Gemini has no tool-call ids and, from Gemini 3 on, requires the opaque
// thoughtSignature it puts on function calls to come back with them. The
// adapter mints ids and carries signatures through the client's
// conversation inside the tool call; see toolCallID.
package gemini

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/detour-gateway/detour/chat"
	"github.com/detour-gateway/detour/router/provider"
)

// DefaultBaseURL is the Gemini API's base URL.
const DefaultBaseURL = "https://generativelanguage.googleapis.com"

// maxEmbedBatch is the most requests batchEmbedContents takes at once.
const maxEmbedBatch = 100

// Options configure a Client.
type Options struct {
	// Name is the provider's name, used in messages. Empty means "gemini".
	Name string
	// BaseURL is the API base. Empty means DefaultBaseURL. The client posts
	// to BaseURL + "/v1beta/models/{Model}:generateContent" (and
	// ":streamGenerateContent?alt=sse", ":batchEmbedContents").
	BaseURL string
	// Model is the upstream model name ("gemini-2.5-flash"); a leading
	// "models/" is accepted and dropped.
	Model string
	// Key returns the API key, sent in the x-goog-api-key header (never in
	// the URL). Nil, or an empty key, sends no key.
	Key provider.KeyFunc
	// HTTPClient sends requests. Nil means http.DefaultClient. Timeouts
	// come from the request context, so the client needs none of its own.
	HTTPClient *http.Client
	// Now is the clock for Created and Retry-After dates. Nil means time.Now.
	Now func() time.Time
	// IncludeThoughts asks thinking models for summaries of their thoughts
	// (generationConfig.thinkingConfig.includeThoughts), returned as
	// reasoning_content. False (the default) sends nothing: models without
	// thinking reject the setting.
	IncludeThoughts bool
	// Rand is the randomness for the ids the adapter mints (answers and
	// tool calls Gemini gives no id). Nil means crypto/rand.Reader. It must
	// be safe for concurrent use.
	Rand io.Reader
}

// Client is a provider.Provider and provider.Embedder for one Gemini
// deployment. It is safe for concurrent use.
type Client struct {
	opts  Options
	model string // without "models/"
	base  string // BaseURL + "/v1beta/models/" + escaped model
}

// New returns a Client for the deployment o describes.
func New(o Options) *Client {
	if o.Name == "" {
		o.Name = "gemini"
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
	if o.Rand == nil {
		o.Rand = rand.Reader
	}
	model := strings.TrimPrefix(o.Model, "models/")
	return &Client{
		opts:  o,
		model: model,
		base:  strings.TrimRight(o.BaseURL, "/") + "/v1beta/models/" + url.PathEscape(model),
	}
}

var (
	_ provider.Provider = (*Client)(nil)
	_ provider.Embedder = (*Client)(nil)
)

// Chat sends req to generateContent and returns the whole answer.
func (c *Client) Chat(ctx context.Context, req *chat.Request) (*chat.Response, error) {
	body, err := c.translate(req)
	if err != nil {
		return nil, err
	}
	resp, err := c.post(ctx, c.base+":generateContent", body, false)
	if err != nil {
		return nil, err
	}
	raw, perr := provider.ReadAnswer(resp, c.opts.Name, "answer")
	if perr != nil {
		return nil, perr
	}
	return c.decodeResponse(raw)
}

// Stream sends req to streamGenerateContent and returns once Gemini has
// answered with its headers.
func (c *Client) Stream(ctx context.Context, req *chat.Request) (provider.Stream, error) {
	body, err := c.translate(req)
	if err != nil {
		return nil, err
	}
	resp, err := c.post(ctx, c.base+":streamGenerateContent?alt=sse", body, true)
	if err != nil {
		return nil, err
	}
	return c.newStream(resp.Body, req.StreamOptions != nil && req.StreamOptions.IncludeUsage), nil
}

// Embed sends req's inputs to batchEmbedContents, at most 100 per call, and
// returns one vector per input in input order. Gemini reports no token
// usage for embeddings, so Usage is nil.
func (c *Client) Embed(ctx context.Context, req *chat.EmbeddingRequest) (*chat.EmbeddingResponse, error) {
	texts, err := req.Texts()
	if err != nil {
		return nil, &provider.Error{Class: provider.BadRequest, Local: true, Message: err.Error(), Err: err}
	}
	if req.Dimensions != nil && *req.Dimensions <= 0 {
		return nil, localBadRequest("dimensions must be a positive integer")
	}
	out := &chat.EmbeddingResponse{Object: "list", Data: make([]chat.Embedding, 0, len(texts)), Model: c.model}
	for start := 0; start < len(texts); start += maxEmbedBatch {
		batch := texts[start:min(start+maxEmbedBatch, len(texts))]
		breq := batchEmbedRequest{Requests: make([]embedRequest, len(batch))}
		for i, t := range batch {
			breq.Requests[i] = embedRequest{
				Model:                "models/" + c.model,
				Content:              content{Parts: []part{{Text: t}}},
				OutputDimensionality: req.Dimensions,
			}
		}
		body, err := json.Marshal(&breq)
		if err != nil {
			return nil, &provider.Error{Class: provider.BadRequest, Local: true, Message: "the request could not be encoded", Err: err}
		}
		resp, err := c.post(ctx, c.base+":batchEmbedContents", body, false)
		if err != nil {
			return nil, err
		}
		raw, perr := provider.ReadAnswer(resp, c.opts.Name, "embeddings")
		if perr != nil {
			return nil, perr
		}
		var br batchEmbedResponse
		if err := json.Unmarshal(raw, &br); err != nil || len(br.Embeddings) != len(batch) {
			if err == nil {
				err = fmt.Errorf("%d embeddings for %d inputs", len(br.Embeddings), len(batch))
			}
			return nil, c.malformed(fmt.Errorf("decode embeddings: %w", err))
		}
		for _, e := range br.Embeddings {
			vec := e.Values
			if vec == nil {
				vec = []float32{}
			}
			out.Data = append(out.Data, chat.Embedding{Object: "embedding", Index: len(out.Data), Embedding: vec})
		}
	}
	return out, nil
}

// post sends body and returns a 200 response, or the classified failure.
func (c *Client) post(ctx context.Context, endpoint string, body []byte, streaming bool) (*http.Response, error) {
	accept := "application/json"
	if streaming {
		accept = "text/event-stream"
	}
	hreq, perr := provider.NewRequest(ctx, c.opts.Name, endpoint, body, accept)
	if perr != nil {
		return nil, perr
	}
	if perr := provider.SetKey(ctx, c.opts.Key, func(key string) { hreq.Header.Set("x-goog-api-key", key) }); perr != nil {
		return nil, perr
	}
	return provider.Send(c.opts.HTTPClient, hreq, c.classify)
}

// classify is Classify for this client's provider, at the client's time.
func (c *Client) classify(status int, header http.Header, body []byte) *provider.Error {
	return Classify(c.opts.Name, status, header, body, c.opts.Now())
}

// malformed is the failure for a 200 answer Detour cannot read.
func (c *Client) malformed(err error) *provider.Error {
	return &provider.Error{Class: provider.ServerError, Status: http.StatusOK,
		Message: c.opts.Name + " sent a malformed answer", Err: err}
}

// randomHex returns 2n random hex digits from the client's Rand.
func (c *Client) randomHex(n int) string {
	b := make([]byte, n)
	if _, err := io.ReadFull(c.opts.Rand, b); err != nil {
		// crypto/rand does not fail; a broken test reader gives zeros.
		clear(b)
	}
	return hex.EncodeToString(b)
}

// localBadRequest is a failure of the client's request found before
// anything was sent.
func localBadRequest(format string, args ...any) *provider.Error {
	msg := fmt.Sprintf(format, args...)
	return &provider.Error{Class: provider.BadRequest, Local: true, Message: msg, Err: fmt.Errorf("translate request: %s", msg)}
}
