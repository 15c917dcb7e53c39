package gemini

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/detour-gateway/detour/chat"
	"github.com/detour-gateway/detour/router/provider"
)

// Thought signatures.
//
// Gemini 3 puts an opaque thoughtSignature on the first functionCall part
// of each step, and rejects the next request with 400 INVALID_ARGUMENT
// ("Function call is missing a thought_signature in functionCall parts")
// unless the signature comes back on that same part. Clients of an
// OpenAI-shaped API keep only what the tool call carries, so the adapter
// puts the signature on the tool call twice:
//
//   - in its Extra as "extra_content": {"google": {"thought_signature": …}},
//     the shape Google's own OpenAI-compatible endpoint uses, and
//   - in its id, as "<call id>__thought__<signature>", for clients that drop
//     unknown members but always echo the id. Google sends signatures as
//     standard base64 (proto3 JSON bytes: A–Z a–z 0–9 + / and = padding);
//     in the id they are written in the URL-safe alphabet without padding
//     (- for +, _ for /), so the id stays within [A-Za-z0-9_-] as other
//     providers (Anthropic's tool_use ids) require after a failover. The
//     separator is found by its first occurrence, and neither minted ids
//     ("call_" + hex) nor Gemini's contain it.
//
// On the way back the Extra wins, then the id. A tool call with no
// signature at all (it came from another provider, or from a model that
// gives none) gets the dummy signature Google documents for histories it
// did not produce, on the first call of the message, the only one Gemini
// validates: "You can set the following dummy signatures of either
// "context_engineering_is_the_way_to_go" or
// "skip_thought_signature_validator"" (FAQ of
// https://ai.google.dev/gemini-api/docs/thought-signatures; Vertex AI
// documents only the second, so that is the one used).
const (
	thoughtSeparator = "__thought__"
	dummySignature   = "skip_thought_signature_validator"
	// mintedPrefix starts the ids the adapter mints. OpenAI's ids start
	// with it too; neither is sent to Gemini, which never saw them.
	mintedPrefix = "call_"
)

// toolCallID is the id of a tool call with Gemini id (or minted id) id and
// thought signature sig. A signature that is not canonical standard base64
// stays out of the id; the Extra still carries it.
func toolCallID(id, sig string) string {
	if enc, ok := idSafe(sig); ok {
		return id + thoughtSeparator + enc
	}
	return id
}

// idSafe rewrites a standard base64 string in the URL-safe alphabet
// without padding.
func idSafe(sig string) (string, bool) {
	if sig == "" || len(sig)%4 != 0 {
		return "", false
	}
	body := strings.TrimRight(sig, "=")
	if len(sig)-len(body) > 2 {
		return "", false
	}
	var b strings.Builder
	b.Grow(len(body))
	for i := 0; i < len(body); i++ {
		switch ch := body[i]; {
		case ch >= 'A' && ch <= 'Z', ch >= 'a' && ch <= 'z', ch >= '0' && ch <= '9':
			b.WriteByte(ch)
		case ch == '+':
			b.WriteByte('-')
		case ch == '/':
			b.WriteByte('_')
		default:
			return "", false
		}
	}
	return b.String(), true
}

// splitToolCallID splits a tool call id into the call's own id and the
// thought signature it carries, in standard base64 as Gemini sent it.
func splitToolCallID(id string) (base, sig string) {
	base, enc, ok := strings.Cut(id, thoughtSeparator)
	if !ok || enc == "" {
		return id, ""
	}
	enc = strings.NewReplacer("-", "+", "_", "/").Replace(enc)
	if n := len(enc) % 4; n != 0 {
		enc += strings.Repeat("=", 4-n)
	}
	return base, enc
}

// splitToolCall returns a tool call's own id and its thought signature,
// from its Extra or else its id.
func splitToolCall(tc chat.ToolCall) (id, sig string) {
	id, sig = splitToolCallID(tc.ID)
	if s := extraSignature(tc.Extra); s != "" {
		sig = s
	}
	return id, sig
}

// extraSignature reads extra_content.google.thought_signature.
func extraSignature(extra chat.Extra) string {
	raw, ok := extra["extra_content"]
	if !ok {
		return ""
	}
	var ec struct {
		Google struct {
			ThoughtSignature string `json:"thought_signature"`
		} `json:"google"`
	}
	if json.Unmarshal(raw, &ec) != nil {
		return ""
	}
	return ec.Google.ThoughtSignature
}

// signatureExtra is a tool call's Extra carrying sig.
func signatureExtra(sig string) chat.Extra {
	b, _ := json.Marshal(map[string]map[string]string{"google": {"thought_signature": sig}})
	return chat.Extra{"extra_content": b}
}

// isGeminiID reports whether a tool call id (without signature) came from
// Gemini, so it goes back on the functionCall and functionResponse.
func isGeminiID(id string) bool {
	return id != "" && !strings.HasPrefix(id, mintedPrefix)
}

// decodeResponse translates a generateContent answer.
func (c *Client) decodeResponse(raw []byte) (*chat.Response, error) {
	var gr generateResponse
	if err := json.Unmarshal(raw, &gr); err != nil {
		return nil, c.malformed(fmt.Errorf("decode answer: %w", err))
	}
	if gr.Error != nil {
		return nil, midStreamError(c.opts.Name, gr.Error)
	}
	if len(gr.Candidates) == 0 {
		if gr.PromptFeedback != nil && gr.PromptFeedback.BlockReason != "" {
			return nil, c.blocked(gr.PromptFeedback.BlockReason)
		}
		return nil, c.malformed(fmt.Errorf("decode answer: no candidates"))
	}
	out := &chat.Response{
		ID:      c.responseID(gr.ResponseID),
		Object:  "chat.completion",
		Created: c.opts.Now().Unix(),
		Model:   c.answeringModel(gr.ModelVersion),
		Choices: make([]chat.Choice, 0, len(gr.Candidates)),
		Usage:   toUsage(gr.UsageMetadata),
	}
	for _, cand := range gr.Candidates {
		var text, reasoning strings.Builder
		var calls []chat.ToolCall
		if cand.Content != nil {
			for _, p := range cand.Content.Parts {
				switch {
				case p.FunctionCall != nil:
					calls = append(calls, c.toolCall(p))
				case p.Thought:
					reasoning.WriteString(p.Text)
				default:
					text.WriteString(p.Text)
				}
			}
		}
		msg := chat.Message{Role: "assistant", ToolCalls: calls, ReasoningContent: reasoning.String()}
		if text.Len() == 0 && len(calls) > 0 {
			msg.Content = json.RawMessage("null")
		} else {
			msg.Content = chat.TextContent(text.String())
		}
		out.Choices = append(out.Choices, chat.Choice{
			Index:        cand.Index,
			Message:      msg,
			FinishReason: finishReason(cand.FinishReason, len(calls) > 0),
		})
	}
	return out, nil
}

// toolCall translates a functionCall part, minting an id when Gemini gave
// none and keeping its thought signature.
func (c *Client) toolCall(p part) chat.ToolCall {
	fc := p.FunctionCall
	id := fc.ID
	if id == "" {
		id = mintedPrefix + c.randomHex(12)
	}
	tc := chat.ToolCall{
		ID:       toolCallID(id, p.ThoughtSignature),
		Type:     "function",
		Function: chat.FunctionCall{Name: fc.Name, Arguments: argsText(fc.Args)},
	}
	if p.ThoughtSignature != "" {
		tc.Extra = signatureExtra(p.ThoughtSignature)
	}
	return tc
}

// argsText is a functionCall's args as OpenAI's arguments string.
func argsText(args json.RawMessage) string {
	args = bytes.TrimSpace(args)
	if len(args) == 0 || bytes.Equal(args, []byte("null")) {
		return "{}"
	}
	var b bytes.Buffer
	if json.Compact(&b, args) != nil {
		return string(args)
	}
	return b.String()
}

// finishReason maps Gemini's finishReason to OpenAI's. A turn that called
// functions ends with tool_calls unless it was cut short or filtered.
func finishReason(reason string, calls bool) chat.FinishReason {
	switch reason {
	case "MAX_TOKENS":
		return "length"
	case "SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY":
		return "content_filter"
	}
	if calls {
		return "tool_calls"
	}
	return "stop"
}

// toUsage translates usageMetadata; nil when Gemini sent none. Thinking
// tokens are billed as output, so they count as completion tokens, and as
// reasoning tokens in the details.
func toUsage(u *usageMetadata) *chat.Usage {
	if u == nil {
		return nil
	}
	completion := u.CandidatesTokenCount + u.ThoughtsTokenCount
	total := u.TotalTokenCount
	if total == 0 {
		total = u.PromptTokenCount + completion
	}
	return &chat.Usage{
		PromptTokens:            u.PromptTokenCount,
		CompletionTokens:        completion,
		TotalTokens:             total,
		PromptTokensDetails:     &chat.PromptTokensDetails{CachedTokens: u.CachedContentTokenCount},
		CompletionTokensDetails: &chat.CompletionTokensDetails{ReasoningTokens: u.ThoughtsTokenCount},
	}
}

// responseID is the answer's id: Gemini's responseId when it sent one.
func (c *Client) responseID(geminiID string) string {
	if geminiID != "" {
		return "chatcmpl-" + geminiID
	}
	return "chatcmpl-" + c.randomHex(12)
}

// answeringModel is the model Gemini says answered, else the configured one.
func (c *Client) answeringModel(version string) string {
	if version != "" {
		return version
	}
	return c.model
}

// blocked is the failure for a prompt Gemini refused to answer.
func (c *Client) blocked(reason string) *provider.Error {
	return &provider.Error{Class: provider.ContentPolicy, Status: http.StatusOK,
		Message: fmt.Sprintf("%s blocked the prompt (%s)", c.opts.Name, provider.Sanitize(reason)),
		Err:     fmt.Errorf("%s: promptFeedback.blockReason %s", c.opts.Name, reason)}
}
