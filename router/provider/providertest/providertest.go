package providertest

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/detour-gateway/detour/chat"
	"github.com/detour-gateway/detour/router/provider"
)

// ClosedAddr returns a loopback address that refuses connections: a port
// that was listened on and closed.
func ClosedAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// Words splits text after each space into the pieces a fake streams, one
// per chunk, event or line, and counts as tokens: one word, with the space
// after it, is one token.
func Words(text string) []string {
	var out []string
	for _, w := range strings.SplitAfter(text, " ") {
		if w != "" {
			out = append(out, w)
		}
	}
	return out
}

// ResetMidBody answers 200 with a Content-Length announcing all of body
// but sends only its first half, then drops the connection: the fault of
// an upstream that breaks mid-answer. The caller sets any other headers
// first. It does not return: it panics with http.ErrAbortHandler, which
// the server recovers from.
func ResetMidBody(w http.ResponseWriter, body []byte) {
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	w.Write(body[:len(body)/2])
	http.NewResponseController(w).Flush()
	panic(http.ErrAbortHandler) // drop the connection mid-body
}

// RoundTripFunc is an http.RoundTripper made of a function, for an
// http.Client whose answers a test writes itself.
type RoundTripFunc func(*http.Request) (*http.Response, error)

// RoundTrip calls f.
func (f RoundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// ParseRequest decodes a chat request written as JSON in a test, failing
// the test when it does not decode.
func ParseRequest(t testing.TB, body string) *chat.Request {
	t.Helper()
	var r chat.Request
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatalf("test request: %v\n%s", err, body)
	}
	return &r
}

// Collect reads s to its end and returns its chunks and the error that
// ended it: nil when it was io.EOF.
func Collect(s provider.Stream) ([]*chat.Chunk, error) {
	var chunks []*chat.Chunk
	for {
		c, err := s.Recv()
		if err == io.EOF {
			return chunks, nil
		}
		if err != nil {
			return chunks, err
		}
		chunks = append(chunks, c)
	}
}

// CountingReader is a deterministic source for an adapter's Rand: it
// yields the bytes 0, 1, 2, … in turn (wrapping after 255), so minted ids
// repeat from run to run. Its zero value starts at 0; it is safe for
// concurrent use.
type CountingReader struct {
	mu sync.Mutex
	n  byte
}

// Read fills p with the next len(p) bytes of the count. It never fails.
func (r *CountingReader) Read(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range p {
		p[i] = r.n
		r.n++
	}
	return len(p), nil
}
