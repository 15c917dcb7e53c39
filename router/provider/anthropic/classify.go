package anthropic

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/detour-gateway/detour/router/provider"
)

// errorBody is Anthropic's error shape:
// {"type":"error","error":{"type":"rate_limit_error","message":"…"},"request_id":"req_…"}.
type errorBody struct {
	Type      string    `json:"type"`
	Error     wireError `json:"error"`
	RequestID string    `json:"request_id"`
}

type wireError struct {
	Type    string `json:"type"`
	Message string `json:"message"`
}

// errorStatus is the HTTP status Anthropic answers each error type with,
// used to classify an error event inside a 200 stream as the same failure
// before the stream would have been.
var errorStatus = map[string]int{
	"invalid_request_error": http.StatusBadRequest,
	"authentication_error":  http.StatusUnauthorized,
	"billing_error":         http.StatusPaymentRequired,
	"permission_error":      http.StatusForbidden,
	"not_found_error":       http.StatusNotFound,
	"request_too_large":     http.StatusRequestEntityTooLarge,
	"rate_limit_error":      http.StatusTooManyRequests,
	"api_error":             http.StatusInternalServerError,
	"timeout_error":         http.StatusGatewayTimeout,
	"overloaded_error":      529,
}

// Classify sorts a non-200 answer from the Messages API into an error
// class, from its status, headers and body. name is the provider's name,
// used in the client-facing message.
func Classify(name string, status int, header http.Header, body []byte, now time.Time) *provider.Error {
	var eb errorBody
	_ = json.Unmarshal(body, &eb) // a body that is not JSON classifies by status alone
	typ := eb.Error.Type
	msg := provider.Sanitize(eb.Error.Message)
	if msg == "" {
		msg = fmt.Sprintf("%s answered HTTP %d", name, status)
	}
	requestID := eb.RequestID
	if requestID == "" && header != nil {
		requestID = header.Get("Request-Id")
	}
	lower := strings.ToLower(eb.Error.Message)
	e := &provider.Error{Status: status, Message: msg,
		Err: fmt.Errorf("%s: HTTP %d %s (request-id %q)", name, status, typ, requestID)}
	retryAfter := func() time.Duration {
		if header == nil {
			return 0
		}
		return provider.ParseRetryAfter(header.Get, now)
	}
	switch {
	case typ == "billing_error" || strings.Contains(lower, "credit balance"):
		e.Class = provider.QuotaExhausted
		e.Message = name + " says the account is out of credit: " + msg
	case status == http.StatusTooManyRequests || typ == "rate_limit_error":
		e.Class = provider.RateLimited
		e.RetryAfter = retryAfter()
	case status == http.StatusUnauthorized || typ == "authentication_error":
		e.Class = provider.Auth
		// Auth messages may quote part of the key; say it in our words.
		e.Message = fmt.Sprintf("%s rejected Detour's API key (HTTP %d); check it with `detour keys set %s`", name, status, name)
	case status == http.StatusForbidden || typ == "permission_error":
		e.Class = provider.Auth
		e.Message = fmt.Sprintf("%s says Detour's API key may not do this (HTTP %d); check the key's workspace and model access", name, status)
	case status == http.StatusNotFound || typ == "not_found_error":
		e.Class = provider.NotFound
	case status == http.StatusRequestTimeout || status == http.StatusGatewayTimeout || typ == "timeout_error":
		e.Class = provider.Timeout
	case status >= 500 || typ == "api_error" || typ == "overloaded_error":
		// 529 overloaded_error included: retried, then failed over.
		e.Class = provider.ServerError
		e.RetryAfter = retryAfter()
	case status == http.StatusRequestEntityTooLarge || typ == "request_too_large":
		e.Class = provider.BadRequest
	case strings.Contains(lower, "prompt is too long") || strings.Contains(lower, "exceed context limit") ||
		strings.Contains(lower, "context window"):
		e.Class = provider.ContextWindowExceeded
	case strings.Contains(lower, "content filtering policy") || strings.Contains(lower, "usage policy"):
		e.Class = provider.ContentPolicy
	default:
		e.Class = provider.BadRequest
	}
	return e
}

// midStreamError classifies an error event inside a 200 stream as the HTTP
// answer with the same error type would be; an unknown or missing type is
// the upstream's failure.
func midStreamError(name string, we *wireError) *provider.Error {
	if we == nil {
		we = &wireError{}
	}
	status, ok := errorStatus[we.Type]
	if !ok {
		status = http.StatusBadGateway
	}
	body, _ := json.Marshal(errorBody{Type: "error", Error: *we})
	e := Classify(name, status, nil, body, time.Time{})
	e.Status = http.StatusOK
	return e
}
