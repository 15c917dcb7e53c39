package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"strconv"
	"sync"
	"time"
)

// Defaults of Limits, sized for a laptop: generous for one person's tools
// and agents, small enough that a misbehaving client cannot exhaust it.
const (
	// DefaultReadHeaderTimeout bounds reading a request's headers: 10 s.
	DefaultReadHeaderTimeout = 10 * time.Second
	// DefaultBodyTimeout bounds reading a request's body: 60 s.
	DefaultBodyTimeout = 60 * time.Second
	// DefaultWriteTimeout bounds one write to a client (an answer, or one
	// event of a stream): 60 s. A stream may last as long as its upstream
	// takes; a client that stops reading is cut after this.
	DefaultWriteTimeout = 60 * time.Second
	// DefaultIdleTimeout is how long a kept-alive connection may wait for
	// its next request: 60 s.
	DefaultIdleTimeout = 60 * time.Second
	// DefaultMaxHeaderBytes bounds a request's headers: 1 MiB.
	DefaultMaxHeaderBytes = 1 << 20
	// DefaultMaxInflightBytes bounds the request bodies held at once,
	// across all requests: 64 MiB.
	DefaultMaxInflightBytes = 64 << 20
	// DefaultMaxRequests bounds the model API requests served at once: 256.
	DefaultMaxRequests = 256
	// DefaultMaxStreams bounds the streams open at once: 128.
	DefaultMaxStreams = 128
)

// Limits bound what clients may take of the machine. A zero field takes
// its default.
type Limits struct {
	ReadHeaderTimeout time.Duration
	BodyTimeout       time.Duration
	WriteTimeout      time.Duration
	IdleTimeout       time.Duration
	MaxHeaderBytes    int
	MaxInflightBytes  int64
	MaxRequests       int
	MaxStreams        int
}

// withDefaults returns l with each zero field set to its default.
func (l Limits) withDefaults() Limits {
	set := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	set(&l.ReadHeaderTimeout, DefaultReadHeaderTimeout)
	set(&l.BodyTimeout, DefaultBodyTimeout)
	set(&l.WriteTimeout, DefaultWriteTimeout)
	set(&l.IdleTimeout, DefaultIdleTimeout)
	if l.MaxHeaderBytes <= 0 {
		l.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if l.MaxInflightBytes <= 0 {
		l.MaxInflightBytes = DefaultMaxInflightBytes
	}
	if l.MaxRequests <= 0 {
		l.MaxRequests = DefaultMaxRequests
	}
	if l.MaxStreams <= 0 {
		l.MaxStreams = DefaultMaxStreams
	}
	return l
}

// HTTPServer returns an http.Server that serves s with its limits:
// header and idle timeouts, the header size bound, and errors logged to
// errorLog. The body and write timeouts are set per request by s itself,
// since a server-wide ReadTimeout or WriteTimeout would cut long streams.
func (s *Server) HTTPServer(errorLog *log.Logger) *http.Server {
	l := s.opts.Limits
	return &http.Server{
		Handler:           s,
		ReadHeaderTimeout: l.ReadHeaderTimeout,
		IdleTimeout:       l.IdleTimeout,
		MaxHeaderBytes:    l.MaxHeaderBytes,
		ErrorLog:          errorLog,
	}
}

// byteBudget bounds the bytes of request bodies held at once.
type byteBudget struct {
	mu   sync.Mutex
	used int64
	max  int64
}

// take reserves n bytes; false when they do not fit.
func (b *byteBudget) take(n int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.used+n > b.max {
		return false
	}
	b.used += n
	return true
}

// inUse reports the bytes reserved now.
func (b *byteBudget) inUse() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}

// give returns n reserved bytes.
func (b *byteBudget) give(n int64) {
	b.mu.Lock()
	b.used -= n
	b.mu.Unlock()
}

// errBudget is a body read refused because the in-flight bytes are spent.
var errBudget = errors.New("too many request bytes in flight")

// meteredBody counts a request body against the byte budget as it is
// read, for bodies whose length is not known in advance (chunked).
type meteredBody struct {
	io.ReadCloser
	budget *byteBudget
	held   int64
}

func (m *meteredBody) Read(p []byte) (int, error) {
	n, err := m.ReadCloser.Read(p)
	if n > 0 {
		if !m.budget.take(int64(n)) {
			return 0, errBudget
		}
		m.held += int64(n)
	}
	return n, err
}

// release gives back what the body took of the budget.
func (m *meteredBody) release() { m.budget.give(m.held) }

// admitBody reserves r's body against the in-flight byte budget: its
// whole Content-Length at once, or as it is read when the length is
// unknown. The returned func gives the bytes back; an *apiError (413,
// 503) answers a body that cannot be admitted.
func (s *Server) admitBody(r *http.Request) (release func(), e *apiError) {
	switch n := r.ContentLength; {
	case n == 0 || r.Body == nil || r.Body == http.NoBody:
		return func() {}, nil
	case n > s.opts.MaxBodyBytes:
		return nil, tooLarge(s.opts.MaxBodyBytes)
	case n > 0:
		if !s.bodies.take(n) {
			return nil, busy("request bytes in flight", "max_inflight_bytes")
		}
		return func() { s.bodies.give(n); s.returnMemory(n) }, nil
	}
	m := &meteredBody{ReadCloser: r.Body, budget: &s.bodies}
	r.Body = m
	return func() { m.release(); s.returnMemory(m.held) }, nil
}

// bigBody is the size from which a request body's memory is handed back
// to the system once its request ends: 4 MiB.
const bigBody = 4 << 20

// returnMemory hands the memory of a big request back to the system once
// no other body is in flight, at most every few seconds: the copies a
// 30 MiB prompt leaves behind would otherwise keep the process at its peak
// size for minutes after a burst.
func (s *Server) returnMemory(n int64) {
	if n < bigBody || s.bodies.inUse() > 0 {
		return
	}
	now := time.Now().UnixNano()
	last := s.memoryReturned.Load()
	if now-last < int64(5*time.Second) || !s.memoryReturned.CompareAndSwap(last, now) {
		return
	}
	go debug.FreeOSMemory()
}

func tooLarge(limit int64) *apiError {
	return &apiError{Status: http.StatusRequestEntityTooLarge, Body: errorDetail{Type: "invalid_request_error", Code: strPtr("request_too_large"),
		Message: fmt.Sprintf("the request body is larger than %d bytes (detour.max_body_bytes)", limit)}}
}

// readBody reads r's body, of at most MaxBodyBytes, within BodyTimeout. A
// body sent too slowly gets 408 and its connection is closed.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, *apiError) {
	rc := http.NewResponseController(w)
	// Not an http.Server ReadTimeout: that one would also end the
	// background read that watches for the client going away, cancelling
	// long streams.
	rc.SetReadDeadline(time.Now().Add(s.opts.Limits.BodyTimeout))
	var body []byte
	var err error
	if n := r.ContentLength; n > 0 && n <= s.opts.MaxBodyBytes {
		// Known length: one buffer of exactly that size, not the doubling
		// of io.ReadAll.
		body = make([]byte, n)
		_, err = io.ReadFull(r.Body, body)
	} else {
		body, err = io.ReadAll(http.MaxBytesReader(w, r.Body, s.opts.MaxBodyBytes))
	}
	if err == nil {
		rc.SetReadDeadline(time.Time{})
		return body, nil
	}
	// The rest of a body that failed is not read: net/http would wait
	// for it to reuse the connection, which is closed instead.
	rc.SetReadDeadline(time.Now())
	w.Header().Set("Connection", "close")
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return nil, tooLarge(tooBig.Limit)
	case errors.Is(err, errBudget):
		return nil, busy("request bytes in flight", "max_inflight_bytes")
	case errors.Is(err, os.ErrDeadlineExceeded):
		return nil, &apiError{Status: http.StatusRequestTimeout, Body: errorDetail{Type: "invalid_request_error", Code: strPtr("request_timeout"),
			Message: fmt.Sprintf("the request body did not arrive within %s", s.opts.Limits.BodyTimeout)}}
	}
	return nil, invalidRequest("could not read the request body", "")
}

// Listener wraps ln so that the errors net/http answers before any
// handler runs (headers too large, a malformed request) come in OpenAI's
// JSON error shape rather than as plain text.
func Listener(ln net.Listener) net.Listener { return jsonErrorListener{ln} }

type jsonErrorListener struct{ net.Listener }

func (l jsonErrorListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &jsonErrorConn{Conn: c}, nil
}

// jsonErrorConn rewrites net/http's own error answers. net/http writes
// each of them straight to the connection in one Write, as
// "HTTP/1.1 431 Request Header Fields Too Large" + plainErrorHeaders +
// the status text, and closes it; no answer of a handler has that shape
// (handlers' answers carry a Date header, and come through a buffer).
type jsonErrorConn struct {
	net.Conn
}

// plainErrorHeaders are the headers net/http puts on its own errors.
const plainErrorHeaders = "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"

func (c *jsonErrorConn) Write(p []byte) (int, error) {
	if !bytes.HasPrefix(p, []byte("HTTP/1.1 4")) && !bytes.HasPrefix(p, []byte("HTTP/1.1 5")) {
		return c.Conn.Write(p)
	}
	statusLine, body, ok := bytes.Cut(p, []byte(plainErrorHeaders))
	if !ok {
		return c.Conn.Write(p)
	}
	code, err := strconv.Atoi(string(statusLine[len("HTTP/1.1 "):min(len(statusLine), len("HTTP/1.1 ")+3)]))
	if err != nil {
		return c.Conn.Write(p)
	}
	msg := string(body)
	if code == http.StatusRequestHeaderFieldsTooLarge {
		msg = "the request headers are too large (at most detour.server.max_header_bytes)"
	}
	var b bytes.Buffer
	e := apiError{Status: code, Body: errorDetail{Type: "invalid_request_error", Message: msg}}
	b.WriteString(string(statusLine))
	fmt.Fprintf(&b, "\r\nContent-Type: application/json\r\nConnection: close\r\n")
	js := e.encode()
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n", len(js))
	b.Write(js)
	if _, err := c.Conn.Write(b.Bytes()); err != nil {
		return 0, err
	}
	return len(p), nil
}
