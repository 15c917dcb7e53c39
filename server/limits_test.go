package server

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/detour-gateway/detour/router"
	"github.com/detour-gateway/detour/router/provider/mock"
)

// limitServer serves a Server with limits l on a real listener, the way
// the gateway does, and returns its address.
func limitServer(t *testing.T, l Limits) string {
	t.Helper()
	r, err := router.New([]router.Deployment{
		{ID: "mock-1", Group: "demo", Provider: "mock", Model: "demo",
			Client: mock.New(mock.Options{Model: "demo", Latency: 50 * time.Millisecond})},
	}, router.Settings{}, router.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := New(Options{Router: func() *router.Router { return r }, Limits: l, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := s.HTTPServer(log.New(io.Discard, "", 0))
	go hs.Serve(Listener(ln))
	t.Cleanup(func() { hs.Close() })
	return ln.Addr().String()
}

// dial opens a connection that gives up after 10 s, so a server that
// never answers fails the test instead of hanging it.
func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	t.Cleanup(func() { c.Close() })
	return c
}

// readAnswer reads one HTTP answer from c and decodes its OpenAI error.
func readAnswer(t *testing.T, c net.Conn) (*http.Response, errorResponse) {
	t.Helper()
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	defer resp.Body.Close()
	var e errorResponse
	if resp.StatusCode >= 400 {
		if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("error Content-Type %q, want application/json", ct)
		}
		if err := json.NewDecoder(resp.Body).Decode(&e); err != nil || e.Error.Message == "" {
			t.Errorf("the %d answer is not an OpenAI error: %v", resp.StatusCode, err)
		}
	}
	return resp, e
}

func requestHead(contentLength int) string {
	return fmt.Sprintf("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", contentLength)
}

func TestSlowBodyIsCut(t *testing.T) {
	addr := limitServer(t, Limits{BodyTimeout: 200 * time.Millisecond})
	c := dial(t, addr)
	io.WriteString(c, requestHead(len(chatBody))+chatBody[:5]) // and nothing more
	resp, e := readAnswer(t, c)
	if resp.StatusCode != http.StatusRequestTimeout || !strings.Contains(e.Error.Message, "did not arrive within 200ms") {
		t.Fatalf("got %d %q, want 408 naming the timeout", resp.StatusCode, e.Error.Message)
	}
	if _, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("the connection stays open after a 408: %v", err)
	}
}

func TestIdleConnectionIsClosed(t *testing.T) {
	addr := limitServer(t, Limits{IdleTimeout: 200 * time.Millisecond})
	c := dial(t, addr)
	io.WriteString(c, requestHead(len(chatBody))+chatBody)
	if resp, _ := readAnswer(t, c); resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	// Kept alive, then idle: the server must close it (the read ends with
	// EOF rather than the test's own 10 s deadline).
	if _, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("idle connection not closed by the server: %v", err)
	}
}

func TestHeaderHalfSentIsCut(t *testing.T) {
	addr := limitServer(t, Limits{ReadHeaderTimeout: 200 * time.Millisecond})
	c := dial(t, addr)
	io.WriteString(c, "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n") // no end of headers
	if _, err := io.ReadAll(c); err != nil {
		t.Errorf("a connection that never finishes its headers is not closed: %v", err)
	}
}

func TestInflightBytesBounded(t *testing.T) {
	addr := limitServer(t, Limits{MaxInflightBytes: 1 << 20, BodyTimeout: 5 * time.Second})
	// The first request declares 900 KiB and sends a little: its bytes
	// are held until it ends.
	hold := dial(t, addr)
	io.WriteString(hold, requestHead(900<<10)+"{")
	time.Sleep(50 * time.Millisecond) // let the server admit it (no assertion on time)
	c := dial(t, addr)
	io.WriteString(c, requestHead(900<<10))
	resp, e := readAnswer(t, c)
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" || e.Error.Code == nil || *e.Error.Code != "gateway_busy" {
		t.Fatalf("got %d Retry-After %q %v, want 503 gateway_busy with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"), e.Error.Message)
	}
	// A small request still fits.
	small := dial(t, addr)
	io.WriteString(small, requestHead(len(chatBody))+chatBody)
	if resp, _ := readAnswer(t, small); resp.StatusCode != http.StatusOK {
		t.Errorf("a small request beside the held one: %d", resp.StatusCode)
	}
	hold.Close()
}

func TestChunkedBodyCountsAgainstInflightBytes(t *testing.T) {
	addr := limitServer(t, Limits{MaxInflightBytes: 1 << 20})
	c := dial(t, addr)
	big := strings.Repeat("x", 2<<20)
	fmt.Fprintf(c, "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n", len(big), big)
	if resp, _ := readAnswer(t, c); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("a chunked body beyond the in-flight bytes: %d, want 503", resp.StatusCode)
	}
}

func TestDeclaredTooLarge(t *testing.T) {
	addr := limitServer(t, Limits{})
	c := dial(t, addr)
	io.WriteString(c, requestHead(DefaultMaxBodyBytes+1)) // no body sent: refused on the header alone
	if resp, e := readAnswer(t, c); resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(e.Error.Message, "max_body_bytes") {
		t.Errorf("got %d %q, want 413", resp.StatusCode, e.Error.Message)
	}
}

func TestHugeHeaderIsJSON(t *testing.T) {
	addr := limitServer(t, Limits{MaxHeaderBytes: 4096})
	c := dial(t, addr)
	fmt.Fprintf(c, "GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: %s\r\n\r\n", strings.Repeat("a", 64<<10))
	resp, e := readAnswer(t, c)
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge || !strings.Contains(e.Error.Message, "max_header_bytes") {
		t.Errorf("got %d %q, want 431 naming the setting", resp.StatusCode, e.Error.Message)
	}
}

func TestMalformedRequestIsJSON(t *testing.T) {
	addr := limitServer(t, Limits{})
	c := dial(t, addr)
	io.WriteString(c, "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: x\r\n\r\n")
	if resp, _ := readAnswer(t, c); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("got %d, want 400", resp.StatusCode)
	}
}

func TestConcurrencyCaps(t *testing.T) {
	tests := []struct {
		name    string
		limits  Limits
		stream  bool
		setting string
	}{
		{"requests", Limits{MaxRequests: 1, BodyTimeout: 5 * time.Second}, false, "max_requests"},
		{"streams", Limits{MaxStreams: 1}, true, "max_streams"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := limitServer(t, tt.limits)
			body := `{"model":"demo","stream":true,"messages":[{"role":"user","content":"hi"}]}`
			hold := dial(t, addr)
			if tt.stream {
				// A stream whose client never reads: it stays open for
				// the mock's latency, long enough to be seen.
				io.WriteString(hold, requestHead(len(body))+body)
			} else {
				io.WriteString(hold, requestHead(100)+"{") // held in its body
			}
			time.Sleep(20 * time.Millisecond)
			c := dial(t, addr)
			io.WriteString(c, requestHead(len(body))+body)
			resp, e := readAnswer(t, c)
			if resp.StatusCode == http.StatusOK && tt.stream {
				t.Skip("the held stream ended before the second began; the mock's latency is too short on this machine")
			}
			if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(e.Error.Message, tt.setting) || resp.Header.Get("Retry-After") != "1" {
				t.Errorf("got %d %q (Retry-After %q), want 503 naming %s", resp.StatusCode, e.Error.Message, resp.Header.Get("Retry-After"), tt.setting)
			}
		})
	}
}
