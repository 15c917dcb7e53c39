package ollama

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/ollama/ollama/api"

	"github.com/detour-gateway/detour/router/provider"
)

// missingModel finds the model in Ollama's "not found" messages:
// `model "x" not found, try pulling it first` (scheduler, /api/embed,
// older servers) and `model 'x' not found` (/api/chat since 0.12).
var missingModel = regexp.MustCompile(`model ["']([^"']+)["'] not found`)

// Classify sorts a non-2xx answer from Ollama into an error class, from its
// status, headers and body ({"error":"…"}, or text from a proxy). name is
// the provider's name, used in the client-facing message.
//
//   - 404 is NotFound; a missing model is named with the `ollama pull`
//     command that fixes it;
//   - 400 is BadRequest, or ContextWindowExceeded when the message is about
//     the context length;
//   - 429 is RateLimited (with Retry-After), or QuotaExhausted when
//     ollama.com says a usage limit is reached;
//   - 401 and 403 are Auth; 408 and 504 Timeout; 499 (Ollama's "request
//     canceled") Connection; other 5xx ServerError.
func Classify(name string, status int, header http.Header, body []byte, now time.Time) *provider.Error {
	var eb struct {
		Error string `json:"error"`
	}
	msg := string(body)
	if json.Unmarshal(body, &eb) == nil {
		msg = eb.Error
	}
	return classifyMessage(name, status, header, msg, now)
}

// classifyMessage classifies an error status with Ollama's message.
func classifyMessage(name string, status int, header http.Header, upstream string, now time.Time) *provider.Error {
	if header == nil {
		header = http.Header{}
	}
	msg := clientText(upstream)
	if msg == "" {
		msg = fmt.Sprintf("%s answered HTTP %d", name, status)
	}
	lower := strings.ToLower(upstream)
	e := &provider.Error{Status: status, Message: msg, Err: fmt.Errorf("%s: HTTP %d: %s", name, status, bounded(upstream))}
	switch {
	case status == http.StatusTooManyRequests && (strings.Contains(lower, "usage limit") || strings.Contains(lower, "quota")):
		e.Class = provider.QuotaExhausted
		e.Message = name + " says the account has reached its usage limit: " + msg
	case status == http.StatusTooManyRequests:
		e.Class = provider.RateLimited
		e.RetryAfter = provider.ParseRetryAfter(header.Get, now)
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		e.Class = provider.Auth
		// Our words: the upstream text may carry sign-in links.
		e.Message = fmt.Sprintf("%s refused the request as unauthorized (HTTP %d); if it needs an API key, set it with `detour keys set %s`", name, status, name)
	case status == http.StatusNotFound:
		e.Class = provider.NotFound
		if m := missingModel.FindStringSubmatch(upstream); m != nil {
			model := provider.Sanitize(m[1])
			e.Message = fmt.Sprintf("%s has no model %q; pull it on the Ollama host with `ollama pull %s`", name, model, model)
		} else {
			e.Message = fmt.Sprintf("%s answered HTTP 404 (%s); check the deployment's api_base", name, msg)
		}
	case status == http.StatusRequestTimeout || status == http.StatusGatewayTimeout:
		e.Class = provider.Timeout
	case status == 499:
		e.Class = provider.Connection
	case status >= 500:
		e.Class = provider.ServerError
		e.RetryAfter = provider.ParseRetryAfter(header.Get, now)
	case strings.Contains(lower, "context length") || strings.Contains(lower, "context window") ||
		strings.Contains(lower, "maximum context"):
		e.Class = provider.ContextWindowExceeded
	default:
		e.Class = provider.BadRequest
	}
	return e
}

// clientText prepares upstream text for a client: sanitized, valid UTF-8,
// one line; an HTML page (from a proxy) is no message at all.
func clientText(s string) string {
	s = strings.TrimSpace(strings.ToValidUTF8(s, "\uFFFD"))
	if strings.HasPrefix(s, "<") {
		return ""
	}
	s, _, _ = strings.Cut(s, "\n")
	return provider.Sanitize(s)
}

// bounded shortens upstream text kept for logs.
func bounded(s string) string {
	const max = 2000
	if len(s) > max {
		return s[:max] + "…"
	}
	return s
}

// fail classifies an error from the api client. streaming says whether it
// ended a stream, for the wording of malformed answers.
func (c *Client) fail(ctx context.Context, tr *trace, err error, streaming bool) *provider.Error {
	var pe *provider.Error
	if errors.As(err, &pe) {
		return pe
	}
	var ae api.AuthorizationError
	if errors.As(err, &ae) {
		return classifyMessage(c.opts.Name, ae.StatusCode, tr.header(), "unauthorized", c.opts.Now())
	}
	var se api.StatusError
	if errors.As(err, &se) {
		return classifyMessage(c.opts.Name, se.StatusCode, tr.header(), se.ErrorMessage, c.opts.Now())
	}
	if rerr := tr.readError(); rerr != nil {
		// The connection broke; what the api client made of the rest of
		// the body (often a half line it could not parse) does not matter.
		if ctx.Err() != nil {
			return provider.TransportError(ctx.Err())
		}
		return broken(c.opts.Name, rerr, streaming)
	}
	if ctx.Err() != nil {
		return provider.TransportError(ctx.Err())
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return provider.TransportError(err)
	}
	if st := tr.statusCode(); st >= 200 && st < 300 {
		return midAnswer(c.opts.Name, tr, err, streaming)
	}
	return provider.TransportError(err)
}

// broken is a connection that broke while the answer was being read.
func broken(name string, err error, streaming bool) *provider.Error {
	e := provider.TransportError(err)
	if streaming && e.Class == provider.Connection {
		e.Status = http.StatusOK
		e.Message = "the stream from " + name + " ended before the answer was complete"
	}
	return e
}

// midAnswer classifies an error met in a 2xx answer. The api client
// reports an {"error":"…"} line as an error with that text, a line that is
// not JSON as an error with the line itself, and a line that does not fit
// Ollama's answer as a decoding error. An error line of the body, recorded
// by the transport, tells the first apart from the others: a malformed
// answer.
func midAnswer(name string, tr *trace, err error, streaming bool) *provider.Error {
	if msg, ok := tr.lastErrorLine(); ok && msg == err.Error() {
		text := clientText(msg)
		if text == "" {
			text = "no reason given"
		}
		return &provider.Error{Class: provider.ServerError, Status: tr.statusCode(),
			Message: name + " failed while answering: " + text, Err: fmt.Errorf("%s: error in answer: %s", name, bounded(msg))}
	}
	what := "answer"
	if streaming {
		what = "stream line"
	}
	return &provider.Error{Class: provider.ServerError, Status: tr.statusCode(),
		Message: name + " sent a malformed " + what, Err: fmt.Errorf("decode %s: %w", what, err)}
}

// incomplete classifies an answer that ended, without an error from the
// api client, before Ollama said done. seen says whether any message came.
func (c *Client) incomplete(ctx context.Context, tr *trace, seen, streaming bool) *provider.Error {
	if ctx.Err() != nil {
		return provider.TransportError(ctx.Err())
	}
	if rerr := tr.readError(); rerr != nil {
		return broken(c.opts.Name, rerr, streaming)
	}
	st := tr.statusCode()
	if st >= 400 {
		return Classify(c.opts.Name, st, tr.header(), nil, c.opts.Now())
	}
	if st != 0 && (st < 200 || st >= 300) {
		return &provider.Error{Class: provider.ServerError, Status: st,
			Message: fmt.Sprintf("%s answered HTTP %d", c.opts.Name, st), Err: fmt.Errorf("unexpected status %d", st)}
	}
	if !seen && !streaming {
		return &provider.Error{Class: provider.ServerError, Status: st,
			Message: c.opts.Name + " sent an empty answer", Err: errors.New("no message in the answer")}
	}
	msg := c.opts.Name + "'s answer ended before it was complete"
	if streaming {
		msg = "the stream from " + c.opts.Name + " ended before the answer was complete"
	}
	return &provider.Error{Class: provider.Connection, Status: st, Message: msg,
		Err: errors.New("the answer ended without done: true")}
}
