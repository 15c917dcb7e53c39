package spend

import (
	"unicode/utf8"

	"github.com/detour-gateway/detour/chat"
)

// The prompt-token estimate. A tokenizer per provider would be exact but
// large, and Detour must price a request before choosing its provider, so
// it uses the common rule of thumb for English text (about four characters
// per token, as OpenAI and Google document for their models), plus the
// framing each message and tool definition costs.
const (
	charsPerToken    = 4 // characters of text per token
	tokensPerMessage = 4 // role and separators around each message
	tokensPerTool    = 8 // framing of each tool definition
	tokensForReply   = 3 // the tokens that prime the assistant's reply
)

// EstimateTokens estimates the prompt tokens of req without a tokenizer
// and without the network: the characters (Unicode code points) of every
// message's text (Message.Text: a string content, or the text parts of a
// content array), name, reasoning content, tool call names and arguments
// and tool call IDs, of every tool definition's name, description and
// parameter schema, and of the response_format, divided by 4 and rounded
// up; plus 4 tokens per message, 8 per tool definition and 3 for the
// reply's priming.
//
// It is a rough estimate, meant for budgets and context-window checks, not
// for billing: the bill uses the provider's reported usage. It
// underestimates text in scripts that tokenize densely (Chinese, Japanese,
// Korean: about a token per character), and it does not count images,
// audio or files in content arrays. A nil request has 0 tokens.
func EstimateTokens(req *chat.Request) int {
	if req == nil {
		return 0
	}
	chars, framing := 0, tokensForReply
	for _, m := range req.Messages {
		framing += tokensPerMessage
		chars += utf8.RuneCountInString(m.Text()) + utf8.RuneCountInString(m.Name) +
			utf8.RuneCountInString(m.ReasoningContent) + utf8.RuneCountInString(m.ToolCallID)
		for _, tc := range m.ToolCalls {
			chars += utf8.RuneCountInString(tc.ID) + utf8.RuneCountInString(tc.Function.Name) +
				utf8.RuneCountInString(tc.Function.Arguments)
		}
	}
	for _, t := range req.Tools {
		framing += tokensPerTool
		if f := t.Function; f != nil {
			chars += utf8.RuneCountInString(f.Name) + utf8.RuneCountInString(f.Description) + utf8.RuneCount(f.Parameters)
		}
	}
	chars += utf8.RuneCount(req.ResponseFormat)
	return (chars+charsPerToken-1)/charsPerToken + framing
}

// EstimateCost returns the most a request with promptTokens prompt tokens
// and at most maxOutputTokens completion tokens can cost at p, in USD: no
// prompt token is assumed cached, and the completion is assumed to use all
// of maxOutputTokens (pass the request's max_tokens, or p.MaxOutputTokens
// when it sets none). The long-context price applies when promptTokens is
// above its threshold. Negative counts count as 0; the zero (unknown)
// Price gives 0, which callers must not take for "free".
func EstimateCost(p Price, promptTokens, maxOutputTokens int) float64 {
	promptTokens, maxOutputTokens = max(promptTokens, 0), max(maxOutputTokens, 0)
	in, _, out := p.rates(promptTokens)
	return float64(promptTokens)*in + float64(maxOutputTokens)*out
}
