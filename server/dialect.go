package server

import (
	"net/http"

	"github.com/detour-gateway/detour/chat"
)

// dialect is one client API Detour speaks (Chat Completions, Anthropic
// Messages, OpenAI Responses): how its answers and streams are written.
// Requests are decoded by each endpoint into the canonical chat.Request;
// the path from there to the upstream and back is the same for all.
type dialect interface {
	// answer writes a complete answer: body is its canonical JSON, resp
	// the same decoded (nil when only body is at hand, as from the
	// cache). It returns the status written.
	answer(w http.ResponseWriter, req *chat.Request, body []byte, resp *chat.Response) int
	// stream returns the writer of req's stream to w, before req is
	// changed for routing (stream_options).
	stream(s *Server, w http.ResponseWriter, req *chat.Request) eventWriter
}

// eventWriter writes one stream in a dialect.
type eventWriter interface {
	// start writes the headers.
	start()
	// send writes what a canonical chunk says, or its native bytes when
	// the upstream spoke the client's dialect.
	send(c *chat.Chunk) error
	// done ends a stream that completed.
	done()
	// fail ends a stream that broke after it started with the dialect's
	// error event.
	fail(e *apiError)
}

// chatDialect is OpenAI's Chat Completions, the canonical shape itself.
type chatDialect struct{}

func (chatDialect) answer(w http.ResponseWriter, _ *chat.Request, body []byte, _ *chat.Response) int {
	return writeBody(w, body)
}

func (chatDialect) stream(s *Server, w http.ResponseWriter, req *chat.Request) eventWriter {
	return &chatEvents{sseWriter: s.newSSE(w), usage: req.StreamOptions != nil && req.StreamOptions.IncludeUsage}
}

// chatEvents writes chunks as Chat Completions events.
type chatEvents struct {
	*sseWriter
	usage bool // the client asked for the usage chunk
}

func (c *chatEvents) send(ch *chat.Chunk) error {
	if ch.Usage != nil && !c.usage {
		if len(ch.Choices) == 0 {
			return nil // the usage chunk the client did not ask for
		}
		cp := *ch
		cp.Usage = nil
		ch = &cp
	}
	return c.sseWriter.send(ch)
}

func (c *chatEvents) fail(e *apiError) { c.sseWriter.send(e) }
