package server

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/detour-gateway/detour/router/provider"
)

// apiError is OpenAI's error shape: {"error":{"message","type","param","code"}}.
type apiError struct {
	Status     int           `json:"-"`
	RetryAfter time.Duration `json:"-"`
	Body       errorDetail   `json:"error"`
}

type errorDetail struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    *string `json:"code"`
}

func strPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// invalidRequest is a 400 about the request itself; param names the field.
func invalidRequest(msg, param string) *apiError {
	return &apiError{Status: http.StatusBadRequest, Body: errorDetail{Message: msg, Type: "invalid_request_error", Param: strPtr(param)}}
}

// wireError is how an error class reaches a client.
type wireError struct {
	status    int
	typ, code string
}

// classWire maps each error class to the client's status, type and code.
// The table is in the README; keep them in step. Never modified.
var classWire = map[provider.Class]wireError{
	provider.RateLimited:           {http.StatusTooManyRequests, "rate_limit_error", "rate_limit_exceeded"},
	provider.QuotaExhausted:        {http.StatusTooManyRequests, "insufficient_quota", "insufficient_quota"},
	provider.Auth:                  {http.StatusUnauthorized, "authentication_error", "invalid_api_key"},
	provider.BadRequest:            {http.StatusBadRequest, "invalid_request_error", ""},
	provider.ContextWindowExceeded: {http.StatusBadRequest, "invalid_request_error", "context_length_exceeded"},
	provider.ContentPolicy:         {http.StatusBadRequest, "invalid_request_error", "content_policy_violation"},
	provider.NotFound:              {http.StatusNotFound, "invalid_request_error", "model_not_found"},
	provider.Timeout:               {http.StatusGatewayTimeout, "timeout_error", "upstream_timeout"},
	provider.Connection:            {http.StatusBadGateway, "api_connection_error", "upstream_unreachable"},
	provider.ServerError:           {http.StatusBadGateway, "server_error", "upstream_error"},
}

// upstreamError turns a routing failure into the client's error. attempts
// is 0 when no deployment was called.
func upstreamError(pe *provider.Error, attempts int) *apiError {
	w, ok := classWire[pe.Class]
	switch {
	case !ok:
		w = classWire[provider.ServerError]
	case pe.Class == provider.ServerError && pe.Status == http.StatusServiceUnavailable:
		w = wireError{http.StatusServiceUnavailable, "server_error", "upstream_unavailable"}
	}
	if attempts == 0 && !pe.Local && pe.Class != provider.QuotaExhausted {
		// Nothing was tried: every deployment cooling or out of reach.
		// Errors of Detour's own making (no key, no deployment with the
		// tags, a prompt too long for all) keep their class's status.
		w = wireError{http.StatusServiceUnavailable, "server_error", "no_deployment_available"}
	}
	return &apiError{Status: w.status, RetryAfter: pe.RetryAfter,
		Body: errorDetail{Message: pe.Message, Type: w.typ, Code: strPtr(w.code)}}
}

func writeError(w http.ResponseWriter, e *apiError) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	if e.RetryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(int((e.RetryAfter+time.Second-1)/time.Second)))
	}
	w.WriteHeader(e.Status)
	if shape := errorShapeOf(w); shape != nil {
		w.Write(shape(e))
		return
	}
	w.Write(e.encode())
}

// errorShapeOf returns how errors are written for the request w answers:
// nil for OpenAI's shape, or the shape of the client's dialect, which
// ServeHTTP set on the response.
func errorShapeOf(w http.ResponseWriter) func(*apiError) []byte {
	for {
		switch x := w.(type) {
		case *response:
			return x.errorShape
		case interface{ Unwrap() http.ResponseWriter }:
			w = x.Unwrap()
		default:
			return nil
		}
	}
}

// encode returns e as its JSON body, with a final newline.
func (e *apiError) encode() []byte {
	b, _ := json.Marshal(e) // plain strings and pointers to them: cannot fail
	return append(b, '\n')
}
