package provider

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"
)

// Class is the kind of a provider failure. The set is closed: adapters
// classify every failure into one of these, once, and the router decides
// what to do from the class alone.
type Class string

// The error classes.
const (
	// RateLimited: the provider asked to slow down (HTTP 429). Retried,
	// honouring Retry-After; cools the deployment.
	RateLimited Class = "rate_limited"
	// QuotaExhausted: the account is out of credit or over a daily quota.
	// Never retried on the same deployment; cools it for a long time.
	QuotaExhausted Class = "quota_exhausted"
	// Auth: the key is missing, wrong or lacks permission. Fails over;
	// cools the deployment.
	Auth Class = "auth"
	// BadRequest: the request itself is wrong. Returned to the client as
	// is: another deployment would refuse it too.
	BadRequest Class = "bad_request"
	// ContextWindowExceeded: the prompt is too long for the model.
	// Returned to the client; never cools a deployment.
	ContextWindowExceeded Class = "context_window_exceeded"
	// ContentPolicy: the provider refused the content. Returned to the
	// client; never cools a deployment.
	ContentPolicy Class = "content_policy"
	// NotFound: the model or endpoint does not exist at the provider.
	// Fails over; cools the deployment.
	NotFound Class = "not_found"
	// Timeout: no answer in time. Retried; cools the deployment.
	Timeout Class = "timeout"
	// Connection: the provider could not be reached, or the connection
	// broke. Retried; cools the deployment.
	Connection Class = "connection"
	// ServerError: the provider failed (5xx, overloaded, a malformed
	// answer). Retried; cools the deployment.
	ServerError Class = "server_error"
)

// Classes lists every class, in documentation order.
func Classes() []Class {
	return []Class{RateLimited, QuotaExhausted, Auth, BadRequest, ContextWindowExceeded,
		ContentPolicy, NotFound, Timeout, Connection, ServerError}
}

// Cools reports whether failures of this class count towards putting a
// deployment into cooldown.
func (c Class) Cools() bool {
	switch c {
	case BadRequest, ContextWindowExceeded, ContentPolicy:
		return false
	}
	return true
}

// Retryable reports whether the same deployment may be tried again after
// this failure (after a backoff).
func (c Class) Retryable() bool {
	switch c {
	case RateLimited, Timeout, Connection, ServerError:
		return true
	}
	return false
}

// Final reports whether the failure is the request's own fault, so trying
// another deployment or group would not help and the client gets the error.
func (c Class) Final() bool { return !c.Cools() }

// Error is a classified provider failure.
type Error struct {
	Class Class
	// Status is the upstream HTTP status, 0 when none was received.
	Status int
	// RetryAfter is how long the provider asked to wait, 0 when it did not.
	RetryAfter time.Duration
	// Message is safe to show a client: it names no key, no upstream URL.
	Message string
	// Err is the underlying cause, for logs. It may name upstream hosts.
	Err error
	// Local is true when the failure happened before anything was sent,
	// such as a missing key. It says nothing of the provider's health, so
	// it never cools the deployment.
	Local bool
	// Unreachable is true when no connection could be made at all (DNS
	// failure, connection refused, no route): the provider, or the whole
	// network, is out of reach. Retrying at once would not help.
	Unreachable bool
}

func (e *Error) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("%s (upstream status %d): %s", e.Class, e.Status, e.Message)
	}
	return fmt.Sprintf("%s: %s", e.Class, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// AsError returns err as an *Error. An error that is not one is classified
// from its type: context deadlines are Timeout, network errors Connection,
// anything else ServerError.
func AsError(err error) *Error {
	var pe *Error
	if errors.As(err, &pe) {
		return pe
	}
	return TransportError(err)
}

// TransportError classifies an error from sending a request or reading an
// answer, where there is no HTTP status to go by: deadlines are Timeout,
// everything else (refused, unreachable, DNS, reset, cut short) Connection.
func TransportError(err error) *Error {
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() {
		return &Error{Class: Timeout, Message: "the provider did not answer in time", Err: err}
	}
	var opErr *net.OpError
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) || errors.As(err, &opErr) && opErr.Op == "dial" {
		return &Error{Class: Connection, Message: "could not connect to the provider", Err: err, Unreachable: true}
	}
	return &Error{Class: Connection, Message: "the connection to the provider broke", Err: err}
}

// ParseRetryAfter reads a provider's wait hint from response headers:
// retry-after-ms (milliseconds), then retry-after (seconds or an HTTP date,
// relative to now). It returns 0 when there is none.
func ParseRetryAfter(get func(string) string, now time.Time) time.Duration {
	if v := get("Retry-After-Ms"); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms > 0 {
			return time.Duration(ms * float64(time.Millisecond))
		}
	}
	v := get("Retry-After")
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil {
		if s <= 0 {
			return 0
		}
		return time.Duration(s * float64(time.Second))
	}
	if t, err := time.Parse(time.RFC1123, v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}
