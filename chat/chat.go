// Package chat defines the canonical chat-completion types that flow through
// Detour: the OpenAI chat-completions wire shape, with JSON tags exactly as
// the wire has them. Clients send a Request in this shape, every provider
// adapter translates to and from it, and the cache stores it.
//
// Members a type does not model are kept in its Extra field and written back
// on encoding, so requests and answers pass through without loss.
package chat

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
)

// Request is a chat-completion request (POST /v1/chat/completions).
type Request struct {
	Model               string          `json:"model"`
	Messages            []Message       `json:"messages"`
	Stream              bool            `json:"stream,omitempty"`
	StreamOptions       *StreamOptions  `json:"stream_options,omitempty"`
	MaxTokens           *int            `json:"max_tokens,omitempty"`
	MaxCompletionTokens *int            `json:"max_completion_tokens,omitempty"`
	Temperature         *float64        `json:"temperature,omitempty"`
	TopP                *float64        `json:"top_p,omitempty"`
	N                   *int            `json:"n,omitempty"`
	Stop                Stop            `json:"stop,omitempty"`
	Seed                *int64          `json:"seed,omitempty"`
	Tools               []Tool          `json:"tools,omitempty"`
	ToolChoice          json.RawMessage `json:"tool_choice,omitempty"`
	ResponseFormat      json.RawMessage `json:"response_format,omitempty"`
	User                string          `json:"user,omitempty"`

	Extra Extra `json:"-"`
	// Native is the request as the client sent it, when the client spoke
	// another dialect than Chat Completions; nil otherwise. An adapter
	// whose upstream speaks that dialect sends these bytes rather than a
	// translation (see Native).
	Native *Native `json:"-"`
}

// StreamOptions are the options of a streamed request.
type StreamOptions struct {
	// IncludeUsage asks for a last chunk carrying the usage of the whole answer.
	IncludeUsage bool `json:"include_usage,omitempty"`

	Extra Extra `json:"-"`
}

// Stop holds the stop sequences of a request. On the wire it is a string or
// an array of strings; it is always written as an array.
type Stop []string

// UnmarshalJSON accepts a string, an array of strings or null.
func (s *Stop) UnmarshalJSON(data []byte) error {
	switch {
	case bytes.Equal(data, []byte("null")):
		*s = nil
		return nil
	case len(data) > 0 && data[0] == '"':
		var one string
		if err := json.Unmarshal(data, &one); err != nil {
			return err
		}
		*s = Stop{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(data, &many); err != nil {
		return fmt.Errorf("stop must be a string or an array of strings")
	}
	*s = many
	return nil
}

// Message is one message of a conversation, in a request or an answer.
type Message struct {
	// Role is system, developer, user, assistant or tool.
	Role string `json:"role"`
	// Content is kept as it came: a JSON string, an array of content
	// parts, or null. Use Text to read it and TextContent to build it.
	Content          json.RawMessage `json:"content,omitempty"`
	Name             string          `json:"name,omitempty"`
	ToolCalls        []ToolCall      `json:"tool_calls,omitempty"`
	ToolCallID       string          `json:"tool_call_id,omitempty"`
	ReasoningContent string          `json:"reasoning_content,omitempty"`

	Extra Extra `json:"-"`
}

// TextContent encodes s as a message's content: a JSON string, as
// json.Marshal writes it.
func TextContent(s string) json.RawMessage {
	return appendString(make([]byte, 0, len(s)+len(s)/16+2), s)
}

// Text returns the message's text: the content string, or the text parts of
// a content array joined together. Null or missing content gives "".
func (m Message) Text() string {
	c := bytes.TrimSpace(m.Content)
	if len(c) == 0 {
		return ""
	}
	switch c[0] {
	case '"':
		var s string
		if json.Unmarshal(c, &s) == nil {
			return s
		}
	case '[':
		var parts []struct {
			Type string `json:"type"`
			Text string `json:"text"`
		}
		if json.Unmarshal(c, &parts) == nil {
			var b bytes.Buffer
			for _, p := range parts {
				if p.Type == "text" {
					b.WriteString(p.Text)
				}
			}
			return b.String()
		}
	}
	return ""
}

// Tool is a tool the model may call.
type Tool struct {
	// Type is "function".
	Type     string       `json:"type"`
	Function *FunctionDef `json:"function,omitempty"`

	Extra Extra `json:"-"`
}

// FunctionDef declares a function tool.
type FunctionDef struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Parameters  json.RawMessage `json:"parameters,omitempty"`
	Strict      *bool           `json:"strict,omitempty"`

	Extra Extra `json:"-"`
}

// ToolCall is a call the model made. In a stream, Index says which call a
// fragment belongs to, and Function.Arguments arrives in pieces.
type ToolCall struct {
	Index    *int         `json:"index,omitempty"`
	ID       string       `json:"id,omitempty"`
	Type     string       `json:"type,omitempty"`
	Function FunctionCall `json:"function"`

	Extra Extra `json:"-"`
}

// FunctionCall names the function called and its arguments, a JSON text.
type FunctionCall struct {
	Name      string `json:"name,omitempty"`
	Arguments string `json:"arguments"`

	Extra Extra `json:"-"`
}

// Response is a complete (non-streamed) chat completion.
type Response struct {
	ID      string   `json:"id"`
	Object  string   `json:"object"`
	Created int64    `json:"created"`
	Model   string   `json:"model"`
	Choices []Choice `json:"choices"`
	Usage   *Usage   `json:"usage,omitempty"`

	Extra Extra `json:"-"`
	// Native is the upstream's own answer, when it was asked in the
	// client's dialect (Request.Native); nil otherwise.
	Native *Native `json:"-"`
}

// Choice is one answer of a Response.
type Choice struct {
	Index        int          `json:"index"`
	Message      Message      `json:"message"`
	FinishReason FinishReason `json:"finish_reason"`

	Extra Extra `json:"-"`
}

// FinishReason says why generation stopped: stop, length, tool_calls,
// content_filter or function_call. The empty value encodes as null, as in
// the chunks of a stream before the last.
type FinishReason string

// MarshalJSON writes null for the empty reason.
func (f FinishReason) MarshalJSON() ([]byte, error) {
	if f == "" {
		return []byte("null"), nil
	}
	return json.Marshal(string(f))
}

// UnmarshalJSON reads a string or null.
func (f *FinishReason) UnmarshalJSON(data []byte) error {
	if bytes.Equal(data, []byte("null")) {
		*f = ""
		return nil
	}
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return err
	}
	*f = FinishReason(s)
	return nil
}

// Chunk is one event of a streamed chat completion.
type Chunk struct {
	ID      string        `json:"id"`
	Object  string        `json:"object"`
	Created int64         `json:"created"`
	Model   string        `json:"model"`
	Choices []ChunkChoice `json:"choices"`
	// Usage is set on the last chunk when the request asked for it with
	// stream_options.include_usage.
	Usage *Usage `json:"usage,omitempty"`

	Extra Extra `json:"-"`
	// Native holds the upstream's own stream events behind this chunk,
	// framed as they came, when the upstream was asked in the client's
	// dialect (Request.Native); nil otherwise.
	Native []byte `json:"-"`
}

// HasContent reports whether the chunk carries part of the answer (text,
// reasoning, a tool call, a refusal, a finish reason or usage), as opposed to
// a chunk that only announces the role. Detour holds a stream back until its
// first such chunk, so a stream can still fail over before it.
func (c *Chunk) HasContent() bool {
	if c.Usage != nil {
		return true
	}
	for _, ch := range c.Choices {
		d := ch.Delta
		if d.Content != "" || d.ReasoningContent != "" || len(d.ToolCalls) > 0 ||
			ch.FinishReason != "" || len(d.Extra["refusal"]) > 0 && string(d.Extra["refusal"]) != "null" {
			return true
		}
	}
	return false
}

// ChunkChoice is one answer's part in a Chunk.
type ChunkChoice struct {
	Index        int          `json:"index"`
	Delta        Delta        `json:"delta"`
	FinishReason FinishReason `json:"finish_reason"`

	Extra Extra `json:"-"`
}

// Delta is the part of a message a chunk adds.
type Delta struct {
	Role             string     `json:"role,omitempty"`
	Content          string     `json:"content,omitempty"`
	ReasoningContent string     `json:"reasoning_content,omitempty"`
	ToolCalls        []ToolCall `json:"tool_calls,omitempty"`

	Extra Extra `json:"-"`
}

// Usage counts the tokens of a request and its answer.
type Usage struct {
	PromptTokens            int                      `json:"prompt_tokens"`
	CompletionTokens        int                      `json:"completion_tokens"`
	TotalTokens             int                      `json:"total_tokens"`
	PromptTokensDetails     *PromptTokensDetails     `json:"prompt_tokens_details,omitempty"`
	CompletionTokensDetails *CompletionTokensDetails `json:"completion_tokens_details,omitempty"`

	Extra Extra `json:"-"`
}

// PromptTokensDetails breaks down the prompt tokens. Both kinds are part
// of the prompt tokens, as in OpenAI's convention (Anthropic's
// input_tokens leaves them out; its adapter adds them back).
type PromptTokensDetails struct {
	// CachedTokens were read from the provider's prompt cache.
	CachedTokens int `json:"cached_tokens"`
	// CacheWriteTokens were written to the provider's prompt cache, which
	// some providers (Anthropic) charge more for; OpenRouter's name.
	CacheWriteTokens int `json:"cache_write_tokens,omitempty"`

	Extra Extra `json:"-"`
}

// CompletionTokensDetails breaks down the completion tokens.
type CompletionTokensDetails struct {
	// ReasoningTokens were spent on hidden reasoning.
	ReasoningTokens int `json:"reasoning_tokens"`

	Extra Extra `json:"-"`
}

// The plain twins below carry the fields without the JSON methods, so the
// methods can hand them to encoding/json without recursing.
type (
	plainRequest                 Request
	plainStreamOptions           StreamOptions
	plainMessage                 Message
	plainTool                    Tool
	plainFunctionDef             FunctionDef
	plainToolCall                ToolCall
	plainFunctionCall            FunctionCall
	plainResponse                Response
	plainChoice                  Choice
	plainChunk                   Chunk
	plainChunkChoice             ChunkChoice
	plainDelta                   Delta
	plainUsage                   Usage
	plainPromptTokensDetails     PromptTokensDetails
	plainCompletionTokensDetails CompletionTokensDetails
)

// Known member names per type. Computed once; never modified.
var (
	requestFields                 = fieldsOf(reflect.TypeFor[plainRequest]())
	streamOptionsFields           = fieldsOf(reflect.TypeFor[plainStreamOptions]())
	messageFields                 = fieldsOf(reflect.TypeFor[plainMessage]())
	toolFields                    = fieldsOf(reflect.TypeFor[plainTool]())
	functionDefFields             = fieldsOf(reflect.TypeFor[plainFunctionDef]())
	toolCallFields                = fieldsOf(reflect.TypeFor[plainToolCall]())
	functionCallFields            = fieldsOf(reflect.TypeFor[plainFunctionCall]())
	responseFields                = fieldsOf(reflect.TypeFor[plainResponse]())
	choiceFields                  = fieldsOf(reflect.TypeFor[plainChoice]())
	chunkFields                   = fieldsOf(reflect.TypeFor[plainChunk]())
	chunkChoiceFields             = fieldsOf(reflect.TypeFor[plainChunkChoice]())
	deltaFields                   = fieldsOf(reflect.TypeFor[plainDelta]())
	usageFields                   = fieldsOf(reflect.TypeFor[plainUsage]())
	promptTokensDetailsFields     = fieldsOf(reflect.TypeFor[plainPromptTokensDetails]())
	completionTokensDetailsFields = fieldsOf(reflect.TypeFor[plainCompletionTokensDetails]())
)
