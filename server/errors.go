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

// classResponse maps an error class to the client's status, type and code.
// The table is in the README; keep them in step.
func classResponse(c provider.Class, upstreamStatus int) (status int, typ, code string) {
	switch c {
	case provider.RateLimited:
		return http.StatusTooManyRequests, "rate_limit_error", "rate_limit_exceeded"
	case provider.QuotaExhausted:
		return http.StatusTooManyRequests, "insufficient_quota", "insufficient_quota"
	case provider.Auth:
		return http.StatusUnauthorized, "authentication_error", "invalid_api_key"
	case provider.BadRequest:
		return http.StatusBadRequest, "invalid_request_error", ""
	case provider.ContextWindowExceeded:
		return http.StatusBadRequest, "invalid_request_error", "context_length_exceeded"
	case provider.ContentPolicy:
		return http.StatusBadRequest, "invalid_request_error", "content_policy_violation"
	case provider.NotFound:
		return http.StatusNotFound, "invalid_request_error", "model_not_found"
	case provider.Timeout:
		return http.StatusGatewayTimeout, "timeout_error", "upstream_timeout"
	case provider.Connection:
		return http.StatusBadGateway, "api_connection_error", "upstream_unreachable"
	}
	if upstreamStatus == http.StatusServiceUnavailable {
		return http.StatusServiceUnavailable, "server_error", "upstream_unavailable"
	}
	return http.StatusBadGateway, "server_error", "upstream_error"
}

// upstreamError turns a routing failure into the client's error. attempts
// is 0 when every deployment was cooling and none was called.
func upstreamError(pe *provider.Error, attempts int) *apiError {
	status, typ, code := classResponse(pe.Class, pe.Status)
	if attempts == 0 && pe.Class != provider.RateLimited && pe.Class != provider.QuotaExhausted {
		status, typ, code = http.StatusServiceUnavailable, "server_error", "no_deployment_available"
	}
	return &apiError{Status: status, RetryAfter: pe.RetryAfter,
		Body: errorDetail{Message: pe.Message, Type: typ, Code: strPtr(code)}}
}

func writeError(w http.ResponseWriter, e *apiError) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	if e.RetryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(int((e.RetryAfter+time.Second-1)/time.Second)))
	}
	w.WriteHeader(e.Status)
	json.NewEncoder(w).Encode(e)
}
