// Package provider defines what the router needs from an LLM provider: the
// Provider interface, the closed set of error classes every adapter sorts
// its failures into, and the table of known provider prefixes. Adapters for
// each wire format live in sub-packages.
package provider

import (
	"context"

	"github.com/detour-gateway/detour/chat"
)

// Provider sends canonical chat requests to one deployment: one model at one
// provider, with one key. Implementations translate the request to their
// wire format and the answer back, and return failures as *Error.
// They must be safe for concurrent use.
type Provider interface {
	// Chat sends req and returns the complete answer.
	Chat(ctx context.Context, req *chat.Request) (*chat.Response, error)
	// Stream sends req as a streamed request. It returns once the upstream
	// accepted the request (headers received); chunks are read with Recv.
	Stream(ctx context.Context, req *chat.Request) (Stream, error)
}

// Stream is an answer arriving in chunks.
type Stream interface {
	// Recv returns the next chunk, io.EOF after the last one, or an *Error.
	Recv() (*chat.Chunk, error)
	// Close releases the connection. It is safe to call more than once.
	Close() error
}

// Embedder is implemented by providers that serve embeddings.
type Embedder interface {
	// Embed returns one float vector per input, in input order.
	Embed(ctx context.Context, req *chat.EmbeddingRequest) (*chat.EmbeddingResponse, error)
}

// Prober is implemented by providers with a request that costs nothing,
// such as listing models. A cooling deployment is probed with it to learn
// whether it is back, without spending a real request.
type Prober interface {
	Probe(ctx context.Context) error
}

// KeyFunc returns the API key to send with a request. It is called for each
// request, so a key changed in the keychain takes effect without a restart;
// implementations cache.
type KeyFunc func(ctx context.Context) (string, error)
