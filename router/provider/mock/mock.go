// Package mock is Detour's built-in provider for demos and for testing a
// fallback setup without spending money: it answers from its config, can be
// slow or fail on purpose, and makes no network calls.
package mock

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/detour-gateway/detour/chat"
	"github.com/detour-gateway/detour/clock"
	"github.com/detour-gateway/detour/router/provider"
	"github.com/detour-gateway/detour/router/provider/openai"
)

// DefaultResponse is the answer when Options.Response is empty.
const DefaultResponse = "This is a mock response from Detour."

// Options configure a Provider.
type Options struct {
	// Model is the name reported in answers ("demo" for "mock/demo").
	Model string
	// Response is the answer's text. Empty means DefaultResponse.
	Response string
	// Latency is the wait before answering (before the first chunk of a
	// stream). Zero answers at once.
	Latency time.Duration
	// Status, if not 0 or 200, makes every request fail as an
	// OpenAI-compatible provider answering this HTTP status would.
	Status int
	// FailRate is the probability, 0 to 1, that a request fails with Status
	// (or 500 when Status is unset).
	FailRate float64
	// Clock times Latency. Nil means the real clock.
	Clock clock.Clock
	// Rand draws for FailRate, returning values in [0, 1). Nil means never
	// fail by chance. It must be safe for concurrent use or only be used
	// from one goroutine at a time; Provider serialises calls to it.
	Rand func() float64
}

// Provider is a provider.Provider that answers from its Options.
type Provider struct {
	opts   Options
	randMu sync.Mutex
}

// New returns a mock Provider.
func New(o Options) *Provider {
	if o.Response == "" {
		o.Response = DefaultResponse
	}
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	return &Provider{opts: o}
}

var (
	_ provider.Provider = (*Provider)(nil)
	_ provider.Embedder = (*Provider)(nil)
)

// embeddingDims is the length of a mock embedding when the request sets no
// dimensions.
const embeddingDims = 8

// Embed returns a vector per input derived from a hash of its text: the
// same text always gets the same vector.
func (p *Provider) Embed(ctx context.Context, req *chat.EmbeddingRequest) (*chat.EmbeddingResponse, error) {
	texts, err := req.Texts()
	if err != nil {
		return nil, &provider.Error{Class: provider.BadRequest, Local: true, Message: err.Error()}
	}
	if err := p.begin(ctx); err != nil {
		return nil, err
	}
	dims := embeddingDims
	if req.Dimensions != nil && *req.Dimensions > 0 {
		dims = min(*req.Dimensions, 4096)
	}
	out := &chat.EmbeddingResponse{Object: "list", Model: p.opts.Model, Usage: &chat.EmbeddingUsage{}}
	for i, t := range texts {
		sum := sha256.Sum256([]byte(t))
		vec := make([]float32, dims)
		for j := range vec {
			vec[j] = float32(sum[j%len(sum)])/127.5 - 1
		}
		out.Data = append(out.Data, chat.Embedding{Object: "embedding", Index: i, Embedding: vec})
		out.Usage.PromptTokens += len(t)/4 + 1
	}
	out.Usage.TotalTokens = out.Usage.PromptTokens
	return out, nil
}

// Chat answers with the configured response.
func (p *Provider) Chat(ctx context.Context, req *chat.Request) (*chat.Response, error) {
	if err := p.begin(ctx); err != nil {
		return nil, err
	}
	return &chat.Response{
		ID: "chatcmpl-mock", Object: "chat.completion", Created: p.opts.Clock.Now().Unix(), Model: p.opts.Model,
		Choices: []chat.Choice{{Message: chat.Message{Role: "assistant", Content: chat.TextContent(p.opts.Response)}, FinishReason: "stop"}},
		Usage:   p.usage(req),
	}, nil
}

// Stream answers with the configured response, a word per chunk.
func (p *Provider) Stream(ctx context.Context, req *chat.Request) (provider.Stream, error) {
	if err := p.begin(ctx); err != nil {
		return nil, err
	}
	mk := func(d chat.Delta, finish chat.FinishReason) *chat.Chunk {
		return &chat.Chunk{ID: "chatcmpl-mock", Object: "chat.completion.chunk", Created: p.opts.Clock.Now().Unix(), Model: p.opts.Model,
			Choices: []chat.ChunkChoice{{Delta: d, FinishReason: finish}}}
	}
	chunks := []*chat.Chunk{mk(chat.Delta{Role: "assistant"}, "")}
	for _, w := range strings.SplitAfter(p.opts.Response, " ") {
		if w != "" {
			chunks = append(chunks, mk(chat.Delta{Content: w}, ""))
		}
	}
	chunks = append(chunks, mk(chat.Delta{}, "stop"))
	if req.StreamOptions != nil && req.StreamOptions.IncludeUsage {
		last := mk(chat.Delta{}, "")
		last.Choices = []chat.ChunkChoice{}
		last.Usage = p.usage(req)
		chunks = append(chunks, last)
	}
	return &stream{ctx: ctx, chunks: chunks}, nil
}

// begin waits out the latency and decides whether this request fails.
func (p *Provider) begin(ctx context.Context) error {
	if err := p.opts.Clock.Sleep(ctx, p.opts.Latency); err != nil {
		return provider.TransportError(err)
	}
	status := p.opts.Status
	if status == http.StatusOK {
		status = 0
	}
	fail := status != 0
	if p.opts.FailRate > 0 {
		fail = p.draw() < p.opts.FailRate
		if status == 0 {
			status = http.StatusInternalServerError
		}
	}
	if !fail {
		return nil
	}
	body := fmt.Sprintf(`{"error":{"message":"mock failure: HTTP %d as configured by mock_status/mock_fail_rate","type":"mock_error","param":null,"code":null}}`, status)
	return openai.Classify("mock", status, http.Header{}, []byte(body), p.opts.Clock.Now())
}

// draw returns a number in [0, 1) from Rand, or 1 when there is no Rand.
func (p *Provider) draw() float64 {
	if p.opts.Rand == nil {
		return 1
	}
	p.randMu.Lock()
	defer p.randMu.Unlock()
	return p.opts.Rand()
}

// usage estimates tokens at four characters each, the usual rule of thumb.
func (p *Provider) usage(req *chat.Request) *chat.Usage {
	prompt := 0
	for _, m := range req.Messages {
		prompt += len(m.Text())/4 + 1
	}
	completion := len(p.opts.Response)/4 + 1
	return &chat.Usage{PromptTokens: prompt, CompletionTokens: completion, TotalTokens: prompt + completion}
}

type stream struct {
	ctx    context.Context
	chunks []*chat.Chunk
}

func (s *stream) Recv() (*chat.Chunk, error) {
	if err := s.ctx.Err(); err != nil {
		return nil, provider.TransportError(err)
	}
	if len(s.chunks) == 0 {
		return nil, io.EOF
	}
	c := s.chunks[0]
	s.chunks = s.chunks[1:]
	return c, nil
}

func (s *stream) Close() error { return nil }
