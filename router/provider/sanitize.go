package provider

import (
	"regexp"
	"strings"
)

// Patterns of secrets and infrastructure detail that must not reach a
// client through an upstream's error message. Never modified.
var (
	urlPattern = regexp.MustCompile(`(?i)\b(?:https?|wss?)://[^\s"'<>]+`)
	keyPattern = regexp.MustCompile(`\b(?:sk|pk|rk|gsk|xai|sess)[-_][A-Za-z0-9_*.\-]{6,}|\bAIza[0-9A-Za-z_\-]{10,}|\b[A-Za-z0-9_\-]{40,}\b`)
)

// maxMessage bounds an upstream message relayed to a client, in bytes.
const maxMessage = 600

// Sanitize prepares an upstream error message for a client: it removes
// URLs and anything shaped like an API key or token, and bounds its length.
func Sanitize(msg string) string {
	msg = urlPattern.ReplaceAllString(msg, "[url]")
	msg = keyPattern.ReplaceAllString(msg, "[redacted]")
	msg = strings.TrimSpace(msg)
	if len(msg) > maxMessage {
		msg = msg[:maxMessage] + "…"
	}
	return msg
}
