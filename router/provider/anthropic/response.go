package anthropic

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/detour-gateway/detour/chat"
)

// Wire types of a Messages answer, with JSON tags exactly as the API has
// them. Fields that may be null or absent are pointers or zero values.
type (
	wireResponse struct {
		ID           string        `json:"id"`
		Type         string        `json:"type"` // "message"
		Role         string        `json:"role"`
		Model        string        `json:"model"`
		Content      []wireContent `json:"content"`
		StopReason   string        `json:"stop_reason"`
		StopSequence *string       `json:"stop_sequence"`
		Usage        wireUsage     `json:"usage"`
	}

	// wireContent is a content block of an answer: text, tool_use,
	// thinking, redacted_thinking or a kind this adapter ignores.
	wireContent struct {
		Type      string          `json:"type"`
		Text      string          `json:"text"`
		ID        string          `json:"id"`
		Name      string          `json:"name"`
		Input     json.RawMessage `json:"input"`
		Thinking  string          `json:"thinking"`
		Signature string          `json:"signature"`
	}

	// wireUsage counts tokens. In a stream, message_start carries the
	// first counts and message_delta cumulative updates of some of them,
	// so absent fields are nil.
	wireUsage struct {
		InputTokens              *int `json:"input_tokens"`
		OutputTokens             *int `json:"output_tokens"`
		CacheCreationInputTokens *int `json:"cache_creation_input_tokens"`
		CacheReadInputTokens     *int `json:"cache_read_input_tokens"`
	}
)

// update sets the counts u carries into dst.
func (dst *wireUsage) update(u *wireUsage) {
	if u == nil {
		return
	}
	for _, f := range [...]struct{ to, from **int }{
		{&dst.InputTokens, &u.InputTokens}, {&dst.OutputTokens, &u.OutputTokens},
		{&dst.CacheCreationInputTokens, &u.CacheCreationInputTokens}, {&dst.CacheReadInputTokens, &u.CacheReadInputTokens},
	} {
		if *f.from != nil {
			v := **f.from
			*f.to = &v
		}
	}
}

// chat returns the usage in OpenAI's terms: Anthropic's input_tokens
// exclude the tokens read from or written to the prompt cache, OpenAI's
// prompt_tokens include them.
func (u *wireUsage) chat() *chat.Usage {
	n := func(p *int) int {
		if p == nil {
			return 0
		}
		return *p
	}
	prompt := n(u.InputTokens) + n(u.CacheReadInputTokens) + n(u.CacheCreationInputTokens)
	completion := n(u.OutputTokens)
	return &chat.Usage{PromptTokens: prompt, CompletionTokens: completion, TotalTokens: prompt + completion,
		PromptTokensDetails: &chat.PromptTokensDetails{CachedTokens: n(u.CacheReadInputTokens), CacheWriteTokens: n(u.CacheCreationInputTokens)}}
}

// finishReason maps a stop_reason to OpenAI's finish_reason.
func finishReason(stop string) chat.FinishReason {
	switch stop {
	case "max_tokens", "model_context_window_exceeded":
		return "length"
	case "tool_use":
		return "tool_calls"
	case "refusal":
		return "content_filter"
	default: // end_turn, stop_sequence, pause_turn, and any newer reason
		return "stop"
	}
}

// chatID is the OpenAI-style id of the answer to Anthropic message id.
func chatID(id string) string {
	if id == "" {
		id = "anthropic"
	}
	return "chatcmpl-" + id
}

// toolArguments returns a tool_use input as a JSON text.
func toolArguments(input json.RawMessage) string {
	var b bytes.Buffer
	if json.Compact(&b, input) != nil || b.Len() == 0 || b.String() == "null" {
		return emptyObject
	}
	return b.String()
}

// decodeResponse translates a non-streamed answer. model is reported when
// the answer names none; created is its creation time in Unix seconds.
func decodeResponse(body []byte, model string, created int64) (*chat.Response, error) {
	var w wireResponse
	if err := json.Unmarshal(body, &w); err != nil {
		return nil, fmt.Errorf("decode answer: %w", err)
	}
	if w.Type != "message" {
		return nil, fmt.Errorf("decode answer: type %q, want message", w.Type)
	}
	if w.Model != "" {
		model = w.Model
	}
	var text, reasoning strings.Builder
	var calls []chat.ToolCall
	for _, b := range w.Content {
		switch b.Type {
		case "text":
			text.WriteString(b.Text)
		case "thinking":
			reasoning.WriteString(b.Thinking)
		case "tool_use":
			calls = append(calls, chat.ToolCall{ID: b.ID, Type: "function",
				Function: chat.FunctionCall{Name: b.Name, Arguments: toolArguments(b.Input)}})
		}
	}
	msg := chat.Message{Role: "assistant", Content: chat.TextContent(text.String()),
		ToolCalls: calls, ReasoningContent: reasoning.String()}
	if text.Len() == 0 && len(calls) > 0 {
		msg.Content = json.RawMessage("null")
	}
	return &chat.Response{
		ID: chatID(w.ID), Object: "chat.completion", Created: created, Model: model,
		Choices: []chat.Choice{{Index: 0, Message: msg, FinishReason: finishReason(w.StopReason)}},
		Usage:   w.Usage.chat(),
	}, nil
}
