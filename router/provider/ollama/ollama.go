// Package ollama is the adapter for Ollama's native API (/api/chat,
// /api/embed), for a local Ollama and for ollama.com's hosted API. It talks
// through Ollama's own Go client, github.com/ollama/ollama/api, and
// translates between it and Detour's canonical OpenAI-shaped types.
//
// The api client reports a streamed answer through a callback; Stream turns
// that into a pull-based provider.Stream with one goroutine per stream,
// which ends when the answer does, when the request context ends, or when
// the stream is closed, whichever comes first.
//
// The api client keeps no HTTP status or headers of a failed answer other
// than in its errors, and drops read errors of a streamed body. The Client
// therefore wraps the http.Client's transport: the wrapper records each
// answer's status, headers and body read errors for the request in flight,
// tells Stream when the headers arrived, and adds the Authorization header.
//
// The api client signs requests with ~/.ollama/id_ed25519 when OLLAMA_AUTH
// is set in Detour's environment, or when the host is ollama.com; for
// ollama.com with an API key the adapter avoids that (see Client), but
// OLLAMA_AUTH should not be set for Detour.
package ollama

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ollama/ollama/api"

	"github.com/detour-gateway/detour/chat"
	"github.com/detour-gateway/detour/router/provider"
)

// DefaultBaseURL is the base URL used when Options.BaseURL is empty: a
// local Ollama on its default port.
const DefaultBaseURL = "http://127.0.0.1:11434"

// Options configure a Client.
type Options struct {
	// Name is the provider's name ("ollama", "ollama_chat"), used in
	// messages. Empty means "ollama".
	Name string
	// BaseURL is where Ollama listens, such as "http://127.0.0.1:11434".
	// OLLAMA_HOST-style values are accepted and normalised by ParseHost:
	// "127.0.0.1:11434", "0.0.0.0", ":11434", "ollama.com". Empty means
	// DefaultBaseURL. The client posts to BaseURL + "/api/chat".
	BaseURL string
	// Model is the Ollama model name sent in every request ("llama3.2",
	// "qwen3:8b").
	Model string
	// Key returns the API key. Nil, or an empty key, sends no
	// Authorization header: a local Ollama needs none. A non-empty key is
	// sent as "Authorization: Bearer KEY", as ollama.com's hosted API
	// expects, and only to BaseURL's host.
	Key provider.KeyFunc
	// HTTPClient sends requests. Nil means http.DefaultClient. Its
	// transport is wrapped, not replaced, so its dial and TLS timeouts
	// apply; request deadlines come from the request context.
	HTTPClient *http.Client
	// Now is the clock for the Created time of answers and for Retry-After
	// dates. Nil means time.Now.
	Now func() time.Time
	// NumCtx is the context size in tokens Ollama loads the model with
	// (options.num_ctx). 0 leaves Ollama's default (OLLAMA_CONTEXT_LENGTH,
	// or 4096 tokens).
	NumCtx int
	// Rand is the source of the random bytes in minted ids (answer ids,
	// tool-call ids when Ollama gives none). Nil means crypto/rand.Reader.
	// The Client serialises reads from it.
	Rand io.Reader
}

// Client is a provider.Provider and provider.Embedder for one Ollama
// deployment. It is safe for concurrent use.
type Client struct {
	opts    Options
	base    *url.URL // nil when baseErr is set
	baseErr error
	// plain talks to base. bearer is set for ollama.com only: it talks to a
	// stand-in host that the transport maps back to ollama.com, because
	// the api client signs requests to ollama.com with a key file
	// (~/.ollama/id_ed25519) and fails without one. With an API key that
	// signature is not needed, and the key goes in the Bearer header.
	plain  *api.Client
	bearer *api.Client

	randMu sync.Mutex
}

var (
	_ provider.Provider = (*Client)(nil)
	_ provider.Embedder = (*Client)(nil)
)

// bearerAlias is the stand-in host of Client.bearer. The .invalid top-level
// domain never resolves, so a request that escaped the transport's
// rewriting could not reach anyone.
const bearerAlias = "ollama-com.detour.invalid"

// New returns a Client for the deployment o describes. An invalid BaseURL
// is reported by every request, as a local BadRequest error.
func New(o Options) *Client {
	if o.Name == "" {
		o.Name = "ollama"
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
	c := &Client{opts: o}
	c.base, c.baseErr = ParseHost(o.BaseURL)
	if c.baseErr != nil {
		return c
	}
	next := o.HTTPClient.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	t := &transport{next: next, host: c.base.Host}
	hc := &http.Client{
		Transport:     t,
		CheckRedirect: o.HTTPClient.CheckRedirect,
		Jar:           o.HTTPClient.Jar,
		Timeout:       o.HTTPClient.Timeout,
	}
	c.plain = api.NewClient(c.base, hc)
	if c.base.Hostname() == "ollama.com" {
		t.alias = bearerAlias
		alias := *c.base
		alias.Host = bearerAlias
		c.bearer = api.NewClient(&alias, hc)
	}
	return c
}

// ParseHost normalises a base URL given the way OLLAMA_HOST may be, with
// the rules of Ollama's envconfig.Host, except that it reports errors
// instead of falling back to defaults:
//
//   - "" is DefaultBaseURL;
//   - without a scheme, the scheme is http and the port 11434
//     ("127.0.0.1" → "http://127.0.0.1:11434"), except that a bare
//     "ollama.com" is "https://ollama.com";
//   - with a scheme (http or https only), a missing port is the scheme's;
//   - an empty host is 127.0.0.1 (":11434"), and an unspecified address,
//     which a server binds to but a client cannot reach everywhere, is
//     loopback ("0.0.0.0" → 127.0.0.1, "::" → ::1);
//   - a path is kept ("https://proxy.example/ollama"), a trailing slash
//     dropped.
func ParseHost(s string) (*url.URL, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		s = DefaultBaseURL
	}
	scheme, rest, hasScheme := strings.Cut(s, "://")
	defaultPort := "11434"
	switch {
	case !hasScheme:
		scheme, rest = "http", s
		if strings.EqualFold(s, "ollama.com") {
			scheme, defaultPort = "https", ""
		}
	case strings.EqualFold(scheme, "http"), strings.EqualFold(scheme, "https"):
		scheme, defaultPort = strings.ToLower(scheme), ""
	default:
		return nil, fmt.Errorf("base URL %q: scheme %q is not http or https", s, scheme)
	}
	if strings.ContainsAny(rest, "?#@ ") {
		return nil, fmt.Errorf("base URL %q: only scheme, host, port and path are allowed", s)
	}
	hostport, path, _ := strings.Cut(rest, "/")
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		host, port = strings.Trim(hostport, "[]"), defaultPort
	}
	if host == "" {
		host = "127.0.0.1"
	}
	if ip := net.ParseIP(host); ip != nil {
		switch {
		case ip.IsUnspecified() && ip.To4() != nil:
			host = "127.0.0.1"
		case ip.IsUnspecified():
			host = "::1"
		default:
			host = ip.String()
		}
	}
	if port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("base URL %q: invalid port %q", s, port)
		}
		host = net.JoinHostPort(host, port)
	} else if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	u := &url.URL{Scheme: scheme, Host: host}
	if path = strings.Trim(path, "/"); path != "" {
		u.Path = "/" + path
	}
	if _, err := url.Parse(u.String()); err != nil {
		return nil, fmt.Errorf("base URL %q: %w", s, err)
	}
	return u, nil
}

// begin prepares one request: it checks the base URL, fetches the key,
// and returns the context carrying the request's trace and the api client
// to send it with.
func (c *Client) begin(ctx context.Context) (context.Context, *trace, *api.Client, *provider.Error) {
	if c.baseErr != nil {
		return nil, nil, nil, &provider.Error{Class: provider.BadRequest, Local: true,
			Message: "invalid api_base for " + c.opts.Name, Err: c.baseErr}
	}
	tr := &trace{headers: make(chan struct{})}
	if perr := provider.SetKey(ctx, c.opts.Key, func(key string) { tr.key = key }); perr != nil {
		return nil, nil, nil, perr
	}
	cl := c.plain
	if tr.key != "" && c.bearer != nil {
		cl = c.bearer
	}
	return context.WithValue(ctx, traceKey{}, tr), tr, cl, nil
}

// newID returns prefix followed by 24 random hex digits.
func (c *Client) newID(prefix string) string {
	var b [12]byte
	c.randMu.Lock()
	_, err := io.ReadFull(c.opts.Rand, b[:])
	c.randMu.Unlock()
	if err != nil {
		rand.Read(b[:]) // crypto/rand never fails
	}
	return prefix + hex.EncodeToString(b[:])
}

// Chat sends req with stream: false and returns the whole answer.
func (c *Client) Chat(ctx context.Context, req *chat.Request) (*chat.Response, error) {
	areq, perr := c.chatRequest(req, false)
	if perr != nil {
		return nil, perr
	}
	ctx, tr, cl, perr := c.begin(ctx)
	if perr != nil {
		return nil, perr
	}
	var a answer
	err := cl.Chat(ctx, areq, func(r api.ChatResponse) error {
		a.add(r)
		return nil
	})
	if err != nil {
		return nil, c.fail(ctx, tr, err, false)
	}
	if !a.done {
		return nil, c.incomplete(ctx, tr, a.seen, false)
	}
	return c.response(&a), nil
}

// Stream sends req with stream: true and returns once Ollama has answered
// with its headers. A failure before that (an error status, no connection)
// is returned here, not by Recv.
func (c *Client) Stream(ctx context.Context, req *chat.Request) (provider.Stream, error) {
	areq, perr := c.chatRequest(req, true)
	if perr != nil {
		return nil, perr
	}
	ctx, tr, cl, perr := c.begin(ctx)
	if perr != nil {
		return nil, perr
	}
	sctx, cancel := context.WithCancel(ctx)
	s := &stream{
		c:            c,
		ctx:          sctx,
		cancel:       cancel,
		tr:           tr,
		msgs:         make(chan api.ChatResponse),
		done:         make(chan struct{}),
		id:           c.newID("chatcmpl-"),
		created:      c.opts.Now().Unix(),
		includeUsage: req.StreamOptions != nil && req.StreamOptions.IncludeUsage,
	}
	go s.run(cl, areq)
	select {
	case <-tr.headers:
		return s, nil
	case <-s.done:
		// The api client returned before a 2xx answer arrived: an error
		// status, a refused connection, or an answer that ended at once.
		if s.err != nil {
			defer cancel()
			return nil, c.fail(sctx, tr, s.err, true)
		}
		if st := tr.statusCode(); st >= 400 {
			cancel()
			return nil, Classify(c.opts.Name, st, tr.header(), nil, c.opts.Now())
		}
		return s, nil
	case <-ctx.Done():
		s.Close()
		return nil, provider.TransportError(ctx.Err())
	}
}

// Embed returns one vector per input, from /api/embed. Inputs must be
// strings; Ollama truncates inputs longer than the model's context (its
// default), and Dimensions, if set, shortens the vectors.
func (c *Client) Embed(ctx context.Context, req *chat.EmbeddingRequest) (*chat.EmbeddingResponse, error) {
	texts, err := req.Texts()
	if err != nil {
		return nil, badRequest(err.Error())
	}
	for i, t := range texts {
		if t == "" {
			return nil, badRequest(fmt.Sprintf("input[%d] must not be empty", i))
		}
	}
	ereq := &api.EmbedRequest{Model: c.opts.Model, Input: texts}
	if in := strings.TrimSpace(string(req.Input)); strings.HasPrefix(in, `"`) {
		ereq.Input = texts[0]
	}
	if req.Dimensions != nil {
		if *req.Dimensions < 1 {
			return nil, badRequest("dimensions must be at least 1")
		}
		ereq.Dimensions = *req.Dimensions
	}
	if c.opts.NumCtx > 0 {
		ereq.Options = map[string]any{"num_ctx": c.opts.NumCtx}
	}
	ctx, tr, cl, perr := c.begin(ctx)
	if perr != nil {
		return nil, perr
	}
	resp, err := cl.Embed(ctx, ereq)
	if err != nil {
		return nil, c.fail(ctx, tr, err, false)
	}
	if len(resp.Embeddings) != len(texts) {
		return nil, &provider.Error{Class: provider.ServerError, Status: tr.statusCode(),
			Message: c.opts.Name + " sent a malformed embeddings answer",
			Err:     fmt.Errorf("%d embeddings for %d inputs", len(resp.Embeddings), len(texts))}
	}
	out := &chat.EmbeddingResponse{Object: "list", Model: resp.Model, Data: make([]chat.Embedding, len(texts)),
		Usage: &chat.EmbeddingUsage{PromptTokens: resp.PromptEvalCount, TotalTokens: resp.PromptEvalCount}}
	for i, v := range resp.Embeddings {
		if v == nil {
			v = []float32{}
		}
		out.Data[i] = chat.Embedding{Object: "embedding", Index: i, Embedding: v}
	}
	return out, nil
}

// List returns the names of the models Ollama has pulled (/api/tags),
// such as "llama3.2:latest", most recently changed first.
func (c *Client) List(ctx context.Context) ([]string, error) {
	ctx, tr, cl, perr := c.begin(ctx)
	if perr != nil {
		return nil, perr
	}
	resp, err := cl.List(ctx)
	if err != nil {
		return nil, c.fail(ctx, tr, err, false)
	}
	names := make([]string, 0, len(resp.Models))
	for _, m := range resp.Models {
		names = append(names, m.Name)
	}
	return names, nil
}

// Ping reports whether Ollama answers (HEAD /). It returns nil when it
// does, and a *provider.Error when it does not.
func (c *Client) Ping(ctx context.Context) error {
	ctx, tr, cl, perr := c.begin(ctx)
	if perr != nil {
		return perr
	}
	if err := cl.Heartbeat(ctx); err != nil {
		return c.fail(ctx, tr, err, false)
	}
	return nil
}

// Probe checks that Ollama is up (Ping), to learn whether a cooling
// deployment is back.
func (c *Client) Probe(ctx context.Context) error { return c.Ping(ctx) }

// badRequest is a failure of the client's request found before sending.
func badRequest(msg string) *provider.Error {
	return &provider.Error{Class: provider.BadRequest, Local: true, Message: msg}
}

// traceKey keys a request's *trace in its context.
type traceKey struct{}

// trace is what the transport learns about one request: the key to send,
// and the answer's status, headers and body read error.
type trace struct {
	key     string
	headers chan struct{} // closed when a 2xx answer's headers arrived
	once    sync.Once

	mu        sync.Mutex
	status    int
	hdr       http.Header
	readErr   error
	errorLine errorLines
}

func (t *trace) answered(resp *http.Response) {
	t.mu.Lock()
	t.status, t.hdr = resp.StatusCode, resp.Header
	t.mu.Unlock()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		t.once.Do(func() { close(t.headers) })
	}
}

func (t *trace) statusCode() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.status
}

func (t *trace) header() http.Header {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.hdr == nil {
		return http.Header{}
	}
	return t.hdr
}

func (t *trace) readError() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.readErr
}

// lastErrorLine returns the message of the body's last {"error":"…"} line,
// and whether there was one.
func (t *trace) lastErrorLine() (string, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var eb struct {
		Error *string `json:"error"`
	}
	if len(t.errorLine.last) == 0 || json.Unmarshal(t.errorLine.last, &eb) != nil || eb.Error == nil {
		return "", false
	}
	return *eb.Error, true
}

// transport wraps the configured transport for the api client.
type transport struct {
	next  http.RoundTripper
	host  string // the base URL's host[:port]
	alias string // stand-in host mapped to host, "" for none
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	tr, _ := req.Context().Value(traceKey{}).(*trace)
	out := req.Clone(req.Context()) // a RoundTripper must not change its request
	if t.alias != "" && out.URL.Host == t.alias {
		out.URL.Host, out.Host = t.host, ""
	}
	if tr != nil && tr.key != "" && out.URL.Host == t.host {
		// Only to the configured host: a redirect elsewhere gets no key.
		out.Header.Set("Authorization", "Bearer "+tr.key)
	}
	resp, err := t.next.RoundTrip(out)
	if err != nil || tr == nil {
		return resp, err
	}
	tr.answered(resp)
	resp.Body = &tracedBody{ReadCloser: resp.Body, tr: tr}
	return resp, nil
}

// tracedBody records the first read error other than io.EOF: the api
// client's line scanner drops it, and it tells a cut connection from a
// clean end. It also keeps the last {"error":…} line, which the api client
// reports as a bare error indistinguishable from a line it could not
// parse.
type tracedBody struct {
	io.ReadCloser
	tr *trace
}

func (b *tracedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.tr.mu.Lock()
	b.tr.errorLine.write(p[:n])
	if err == io.EOF {
		b.tr.errorLine.end()
	} else if err != nil && b.tr.readErr == nil {
		b.tr.readErr = err
	}
	b.tr.mu.Unlock()
	return n, err
}

// errorLines watches a body for lines that begin with {"error": and keeps
// the last one, up to maxErrorLine bytes.
type errorLines struct {
	cur  []byte // the current line, while it may be an error line
	skip bool   // the current line is not one
	last []byte // the last complete error line
}

const (
	errorPrefix  = `{"error":`
	maxErrorLine = 64 << 10
)

func (e *errorLines) write(p []byte) {
	for len(p) > 0 {
		part, rest, newline := bytes.Cut(p, []byte("\n"))
		if !e.skip {
			e.cur = append(e.cur, part...)
			n := min(len(e.cur), len(errorPrefix))
			if string(e.cur[:n]) != errorPrefix[:n] || len(e.cur) > maxErrorLine {
				e.skip, e.cur = true, e.cur[:0]
			}
		}
		if !newline {
			return
		}
		e.end()
		p = rest
	}
}

// end completes the current line.
func (e *errorLines) end() {
	if !e.skip && len(e.cur) >= len(errorPrefix) {
		e.last = append(e.last[:0], e.cur...)
	}
	e.cur, e.skip = e.cur[:0], false
}
