package gemini

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/detour-gateway/detour/router/provider"
)

// Classify sorts a non-200 answer from the Gemini API into an error class,
// from its status, headers and Google's error body
// ({"error":{"code","message","status","details":[…]}}). name is the
// provider's name, used in the client-facing message.
//
//   - 429 RESOURCE_EXHAUSTED is RateLimited, waiting RetryInfo.retryDelay
//     (else Retry-After, else the message's "Please retry in 17.6s"); but when a QuotaFailure names a per-day quota
//     ("…PerDay…") or a quota of 0 (the model is not in the account's
//     tier), waiting minutes will not help: QuotaExhausted.
//   - 401, 403 PERMISSION_DENIED and 400 API_KEY_INVALID ("API key not
//     valid") are Auth, in Detour's words: Google's messages can quote the
//     key. 400 FAILED_PRECONDITION ("User location is not supported",
//     "free tier is not available in your country") is Auth too: the
//     account cannot use this deployment, another may serve.
//   - 404 is NotFound.
//   - 504 DEADLINE_EXCEEDED is Timeout: Google's own deadline ran out, the
//     same fact as Detour's deadline running out; 408 likewise. Other 5xx
//     (500 INTERNAL, 503 UNAVAILABLE "model is overloaded") are ServerError.
//   - 400 saying the input exceeds the model's token limit is
//     ContextWindowExceeded; any other 4xx is BadRequest.
func Classify(name string, status int, header http.Header, body []byte, now time.Time) *provider.Error {
	var eb errorBody
	_ = json.Unmarshal(body, &eb) // a body that is not JSON classifies by status alone
	g := eb.Error
	if g == nil {
		g = &googleError{}
	}
	msg := provider.Sanitize(g.Message)
	if msg == "" {
		msg = fmt.Sprintf("%s answered HTTP %d", name, status)
	}
	lower := strings.ToLower(g.Message)
	reason := g.reason()
	e := &provider.Error{Status: status, Message: msg,
		Err: fmt.Errorf("%s: HTTP %d %s %s", name, status, g.Status, reason)}
	retryAfter := g.retryDelay()
	if retryAfter == 0 {
		retryAfter = provider.ParseRetryAfter(header.Get, now)
	}
	if retryAfter == 0 {
		retryAfter = retryInMessage(g.Message)
	}
	switch {
	case reason == "API_KEY_INVALID" || reason == "API_KEY_EXPIRED" || strings.Contains(lower, "api key not valid") ||
		strings.Contains(lower, "api key expired"):
		e.Class = provider.Auth
		e.Message = fmt.Sprintf("%s rejected Detour's API key (HTTP %d); check it with `detour keys set %s`", name, status, name)
	case status == http.StatusUnauthorized || status == http.StatusForbidden ||
		g.Status == "UNAUTHENTICATED" || g.Status == "PERMISSION_DENIED":
		e.Class = provider.Auth
		if strings.Contains(lower, "unregistered callers") {
			e.Message = fmt.Sprintf("%s needs an API key and none was sent; set one with `detour keys set %s`", name, name)
		} else {
			e.Message = fmt.Sprintf("%s rejected Detour's API key (HTTP %d); check it with `detour keys set %s`", name, status, name)
		}
	case status == http.StatusTooManyRequests || g.Status == "RESOURCE_EXHAUSTED":
		e.RetryAfter = retryAfter
		if g.quotaExhausted() || zeroLimit.MatchString(g.Message) {
			e.Class = provider.QuotaExhausted
			e.Message = name + " says the account is out of quota for this model: " + msg
		} else {
			e.Class = provider.RateLimited
		}
	case status == http.StatusNotFound || g.Status == "NOT_FOUND":
		e.Class = provider.NotFound
	case status == http.StatusRequestTimeout || status == http.StatusGatewayTimeout || g.Status == "DEADLINE_EXCEEDED":
		e.Class = provider.Timeout
	case status >= 500:
		e.Class = provider.ServerError
		e.RetryAfter = retryAfter
	case strings.Contains(lower, "exceeds the maximum number of tokens") ||
		strings.Contains(lower, "input token count") && strings.Contains(lower, "exceeds") ||
		strings.Contains(lower, "context window"):
		e.Class = provider.ContextWindowExceeded
	case g.Status == "FAILED_PRECONDITION":
		e.Class = provider.Auth
	default:
		e.Class = provider.BadRequest
	}
	return e
}

// reason is the ErrorInfo reason ("API_KEY_INVALID"), "" when none.
func (g *googleError) reason() string {
	for _, d := range g.Details {
		if strings.HasSuffix(d.Type, "google.rpc.ErrorInfo") && d.Reason != "" {
			return d.Reason
		}
	}
	return ""
}

// zeroLimit finds "limit: 0" in a quota message ("Quota exceeded for
// metric: …, limit: 0, model: gemini-2.5-pro"): the model is not in the
// account's tier at all.
var zeroLimit = regexp.MustCompile(`\blimit: 0\b`)

// maxRetryDelay bounds a RetryInfo delay, against a nonsense value.
const maxRetryDelay = 24 * time.Hour

// retryDelay is RetryInfo.retryDelay, a proto Duration ("17s", "0.5s",
// "1.000340s"); 0 when there is none.
func (g *googleError) retryDelay() time.Duration {
	for _, d := range g.Details {
		if !strings.HasSuffix(d.Type, "google.rpc.RetryInfo") || d.RetryDelay == "" {
			continue
		}
		v, err := time.ParseDuration(d.RetryDelay)
		if err != nil || v <= 0 {
			return 0
		}
		return min(v, maxRetryDelay)
	}
	return 0
}

// retryIn finds Google's "Please retry in 17.613709214s." in a message.
var retryIn = regexp.MustCompile(`(?i)please retry in ([0-9]+(?:\.[0-9]+)?(?:ms|s))\b`)

// retryInMessage is the wait a message asks for, 0 when it names none.
func retryInMessage(msg string) time.Duration {
	m := retryIn.FindStringSubmatch(msg)
	if m == nil {
		return 0
	}
	v, err := time.ParseDuration(m[1])
	if err != nil || v <= 0 {
		return 0
	}
	return min(v, maxRetryDelay)
}

// quotaExhausted reports whether a QuotaFailure names a quota that waiting
// a minute will not restore: a per-day one, or one of 0.
func (g *googleError) quotaExhausted() bool {
	for _, d := range g.Details {
		if !strings.HasSuffix(d.Type, "google.rpc.QuotaFailure") {
			continue
		}
		for _, v := range d.Violations {
			if strings.Contains(strings.ToLower(v.QuotaID), "perday") || v.QuotaValue == "0" {
				return true
			}
		}
	}
	return false
}

// midStreamError classifies an error Gemini sent in place of an answer,
// inside a 200 stream (or, rarely, a 200 body). Its code is the HTTP status
// it would have had.
func midStreamError(name string, g *googleError) *provider.Error {
	body, _ := json.Marshal(errorBody{Error: g})
	status := g.Code
	if status < 400 || status > 599 {
		status = http.StatusBadGateway
	}
	e := Classify(name, status, http.Header{}, body, time.Time{})
	e.Status = http.StatusOK
	return e
}
