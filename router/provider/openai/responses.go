package openai

// OpenAI's Responses API (POST /v1/responses) as a client dialect: what
// Codex CLI, the openai SDKs' responses.create and the Vercel AI SDK's
// default OpenAI provider send Detour. A request is decoded and checked by
// DecodeResponsesRequest and turned into the canonical chat.Request by
// ResponsesRequest.Chat; the canonical answer goes back as a Response
// (NewResponse) or as Responses stream events (ResponsesStreamEncoder, in
// responses_stream.go).
//
// What is translated, and what is not:
//
//   - input: a string is one user message. Items: messages (roles user,
//     system, developer, assistant; parts input_text, output_text, refusal,
//     input_image by URL, input_file by inline file_data), function_call
//     and custom_tool_call (consecutive calls, and a call after an
//     assistant message, make one assistant message with tool_calls; the
//     tool call's id is the call_id; a call's namespace and name become the
//     function name the model was given, see tools), function_call_output
//     and custom_tool_call_output (a tool message answering call_id), reasoning
//     (its text becomes the reasoning_content of the assistant message that
//     follows it, so a model that needs its reasoning back, as DeepSeek's
//     thinking mode does after a tool call, gets it) and item_reference
//     (resolved by ResponsesRequest.Resolve from responses Detour made).
//     Files and images by file_id, and items of built-in tools, cannot be
//     served: Detour keeps no files and runs no built-in tools.
//   - instructions become a system message before everything else; per the
//     API they are not carried over from the previous response.
//   - tools: function tools as they are; strict is passed on only when the
//     client sent it. (Omitted, the Responses API makes the schema strict;
//     chat upstreams keep it best-effort, which every upstream can serve.)
//     A namespace's tools become functions of their own, named namespace,
//     "__", name ("multi_agent_v1__spawn_agent"), or a shortened unique
//     name where that is too long for chat (64 characters) or taken.
//     Custom tools (free-form text input) become functions of one string
//     argument, input, their grammar told in the description. The model's
//     calls go back to the client as it named them: a function_call with
//     the namespace, or a custom_tool_call with the input. Built-in tools
//     (web_search, file_search, mcp, …, and any type Detour does not know)
//     are left out of the request and listed by DroppedTools: Detour runs
//     none, and the model can still answer without them, which is what a
//     client such as Codex CLI, which always sends web_search, needs.
//   - tool_choice (a function or custom tool, auto, none, required; one
//     forcing a left-out built-in tool, and allowed_tools, are refused),
//     text.format (response_format), text.verbosity,
//     reasoning.effort (reasoning_effort), max_output_tokens
//     (max_completion_tokens), temperature, top_p, parallel_tool_calls.
//   - store, previous_response_id, metadata, user, truncation, include,
//     reasoning.summary, prompt_cache_key, client_metadata, service_tier,
//     safety_identifier and stream_options are for Detour, OpenAI or the
//     client and are not sent upstream. background, conversation and
//     prompt are refused.

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/detour-gateway/detour/chat"
)

// RequestError says why a Responses request cannot be served: a member is
// missing, has the wrong type, or asks for what Detour cannot do. It is
// the client's fault; the server answers it with HTTP 400.
type RequestError struct {
	// Param names the member at fault the way the API does, such as
	// "input[2].content[0].file_id"; empty when the body as a whole is.
	Param string
	// Message says what is wrong and, where it helps, what to send instead.
	Message string
}

func (e *RequestError) Error() string { return e.Message }

func badParam(param, format string, args ...any) *RequestError {
	return &RequestError{Param: param, Message: fmt.Sprintf(format, args...)}
}

// ResponsesRequest is a decoded and checked request to create a response.
// The exported fields are the members the gateway reads and the response
// echoes; the input is kept translated, for Chat and InputMessages.
type ResponsesRequest struct {
	// Model is the model the client named: a model group.
	Model string
	// Instructions is the system message the client gave, nil if none.
	Instructions *string
	// Stream asks for the answer as server-sent events.
	Stream bool
	// Store says whether the response may be kept for a later request's
	// previous_response_id. The API's default is true.
	Store bool
	// PreviousResponseID names the response this one continues, "" if
	// none. The caller looks up that conversation and passes it to Chat.
	PreviousResponseID string
	// MaxOutputTokens caps the answer, reasoning included; nil if unset.
	MaxOutputTokens *int
	Temperature     *float64
	TopP            *float64
	// ParallelToolCalls is nil when the client did not say.
	ParallelToolCalls *bool
	// Tools are the tools member as sent, every tool of every type, for
	// the response to echo; nil if absent. What the model is offered is
	// in the request Chat makes; DroppedTools lists what it is not.
	Tools []json.RawMessage
	// ToolChoice is tool_choice as sent, nil if absent.
	ToolChoice json.RawMessage
	// Text is the text member (output format, verbosity), nil if absent.
	Text *TextConfig
	// Reasoning is the reasoning member, nil if absent.
	Reasoning *ReasoningConfig
	// Metadata is the client's metadata object as sent, nil if absent.
	Metadata json.RawMessage
	// User is the client's end-user id, "" if none.
	User string
	// Truncation is "auto" or "disabled" as sent, "" if absent.
	Truncation string

	items          []inputItem
	tools          []chat.Tool     // the tools the model is offered, in the chat shape
	names          *toolNames      // the client's tools behind the functions' names
	dropped        []string        // the types of the tools left out
	toolChoice     json.RawMessage // tool_choice in the chat shape
	responseFormat json.RawMessage // text.format as a chat response_format
}

// DroppedTools returns the types of the tools the request declared that
// the model is not offered, each once, in the order sent: built-in tools
// such as "web_search", which only OpenAI runs, and types Detour does not
// know. nil when every tool is offered. A server may tell the client, as
// the request is served without them.
func (r *ResponsesRequest) DroppedTools() []string {
	return r.dropped
}

// FunctionTool is a function the model may call, in the Responses shape
// (flat, without chat's nested "function" object).
type FunctionTool struct {
	// Type is "function".
	Type        string          `json:"type"`
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Parameters  json.RawMessage `json:"parameters,omitempty"`
	// Strict is nil when the client did not say.
	Strict *bool `json:"strict,omitempty"`
}

// TextConfig is the text member of a request and of a response.
type TextConfig struct {
	// Format is the output format object, such as {"type":"text"} or
	// {"type":"json_schema",…}, as the client sent it.
	Format json.RawMessage `json:"format"`
	// Verbosity is "low", "medium" or "high"; "" if unset.
	Verbosity string `json:"verbosity,omitempty"`
}

// ReasoningConfig is the reasoning member of a request and of a response;
// a nil field is null on the wire.
type ReasoningConfig struct {
	Effort  *string `json:"effort"`
	Summary *string `json:"summary"`
}

// responsesWire is the request body as the wire has it. Members that are
// polymorphic are kept raw and parsed on their own. Members not listed
// (include, prompt_cache_key, client_metadata, service_tier,
// safety_identifier, stream_options, …) are ignored.
type responsesWire struct {
	Model              string            `json:"model"`
	Input              json.RawMessage   `json:"input"`
	Instructions       *string           `json:"instructions"`
	Stream             *bool             `json:"stream"`
	Store              *bool             `json:"store"`
	PreviousResponseID *string           `json:"previous_response_id"`
	MaxOutputTokens    *int              `json:"max_output_tokens"`
	Temperature        *float64          `json:"temperature"`
	TopP               *float64          `json:"top_p"`
	ParallelToolCalls  *bool             `json:"parallel_tool_calls"`
	Tools              []json.RawMessage `json:"tools"`
	ToolChoice         json.RawMessage   `json:"tool_choice"`
	Text               json.RawMessage   `json:"text"`
	Reasoning          json.RawMessage   `json:"reasoning"`
	Metadata           json.RawMessage   `json:"metadata"`
	User               *string           `json:"user"`
	Truncation         *string           `json:"truncation"`
	Background         *bool             `json:"background"`
	Conversation       json.RawMessage   `json:"conversation"`
	Prompt             json.RawMessage   `json:"prompt"`
}

// DecodeResponsesRequest decodes and checks the body of POST /v1/responses.
// Every error it returns is a *RequestError.
//
// The request's raw members (Tools, ToolChoice, Metadata) and the texts of
// its input may share bytes with body, which must not change afterwards.
func DecodeResponsesRequest(body []byte) (*ResponsesRequest, error) {
	w, items, ok := readResponsesBody(body)
	if !ok {
		// Not for the fast path, maybe not valid: encoding/json says.
		items = nil
		if err := unmarshal(body, &w, ""); err != nil {
			return nil, err
		}
	}
	if w.Model == "" {
		return nil, badParam("model", "model is required: name a model group (GET /v1/models lists them)")
	}
	switch {
	case w.Background != nil && *w.Background:
		return nil, badParam("background", "background responses are not supported by Detour; leave background unset")
	case !isNull(w.Conversation):
		return nil, badParam("conversation", "conversations are not supported by Detour; use previous_response_id or send the conversation in input")
	case !isNull(w.Prompt):
		return nil, badParam("prompt", "prompt templates are not supported by Detour; send instructions and input instead")
	case w.MaxOutputTokens != nil && *w.MaxOutputTokens < 1:
		return nil, badParam("max_output_tokens", "max_output_tokens must be a positive integer, got %d", *w.MaxOutputTokens)
	case !isNull(w.Metadata) && !isObject(w.Metadata):
		return nil, badParam("metadata", "metadata must be an object of strings")
	}
	r := &ResponsesRequest{
		Model:             w.Model,
		Instructions:      w.Instructions,
		Stream:            w.Stream != nil && *w.Stream,
		Store:             w.Store == nil || *w.Store,
		MaxOutputTokens:   w.MaxOutputTokens,
		Temperature:       w.Temperature,
		TopP:              w.TopP,
		ParallelToolCalls: w.ParallelToolCalls,
	}
	if w.PreviousResponseID != nil {
		r.PreviousResponseID = *w.PreviousResponseID
	}
	if w.User != nil {
		r.User = *w.User
	}
	if w.Truncation != nil {
		r.Truncation = *w.Truncation
	}
	if !isNull(w.Metadata) {
		r.Metadata = w.Metadata
	}
	var err error
	r.Tools = w.Tools
	if r.tools, r.names, r.dropped, err = decodeTools(w.Tools); err != nil {
		return nil, err
	}
	if r.items, err = decodeInput(w.Input, items, r.names); err != nil {
		return nil, err
	}
	if !isNull(w.ToolChoice) {
		r.ToolChoice = w.ToolChoice
		if r.toolChoice, err = chatToolChoice(w.ToolChoice, r.names, len(r.tools) > 0, r.dropped); err != nil {
			return nil, err
		}
	}
	if !isNull(w.Text) {
		if r.Text, r.responseFormat, err = decodeText(w.Text); err != nil {
			return nil, err
		}
	}
	if !isNull(w.Reasoning) {
		if r.Reasoning, err = decodeReasoning(w.Reasoning); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// Chat builds the canonical request: the instructions as a system message,
// then history (the conversation up to the previous response, which the
// caller keeps; nil for none), then the input. A function_call_output must
// answer a function call made before it, in history or input. Every error
// is a *RequestError.
func (r *ResponsesRequest) Chat(history []chat.Message) (*chat.Request, error) {
	seen := map[string]bool{}
	for _, m := range history {
		for _, tc := range m.ToolCalls {
			seen[tc.ID] = true
		}
	}
	for _, it := range r.items {
		switch it.kind {
		case itemReference:
			return nil, badParam(fmt.Sprintf("input[%d].id", it.index),
				"item %q was not found: an item_reference must name an item of a response Detour made and stored", it.ref)
		case itemCall:
			seen[it.call.ID] = true
		case itemCallOutput:
			if !seen[it.msg.ToolCallID] {
				call := "function call"
				if it.wireType == "custom_tool_call_output" {
					call = "custom tool call"
				}
				return nil, badParam(fmt.Sprintf("input[%d].call_id", it.index),
					"no %s found for %s with call_id %q", call, it.wireType, it.msg.ToolCallID)
			}
		}
	}
	input := r.InputMessages()
	msgs := make([]chat.Message, 0, 1+len(history)+len(input))
	if r.Instructions != nil && *r.Instructions != "" {
		msgs = append(msgs, chat.Message{Role: "system", Content: chat.TextContent(*r.Instructions)})
	}
	msgs = append(msgs, history...)
	msgs = append(msgs, input...)
	if len(msgs) == 0 {
		return nil, badParam("input", "input is required: there is no message to answer")
	}
	req := &chat.Request{
		Model:               r.Model,
		Messages:            msgs,
		Stream:              r.Stream,
		MaxCompletionTokens: r.MaxOutputTokens,
		Temperature:         r.Temperature,
		TopP:                r.TopP,
		ResponseFormat:      r.responseFormat,
	}
	if r.Stream {
		// The completed event carries the usage, so ask for it.
		req.StreamOptions = &chat.StreamOptions{IncludeUsage: true}
	}
	extra := chat.Extra{}
	if len(r.tools) > 0 {
		// Chat APIs refuse tool_choice and parallel_tool_calls without tools.
		// Each request gets its own tools, for adapters that edit them.
		for _, t := range r.tools {
			def := *t.Function
			def.Parameters = slices.Clone(def.Parameters)
			req.Tools = append(req.Tools, chat.Tool{Type: t.Type, Function: &def})
		}
		req.ToolChoice = r.toolChoice
		if r.ParallelToolCalls != nil {
			extra["parallel_tool_calls"] = jsonOf(*r.ParallelToolCalls)
		}
	}
	if r.Reasoning != nil && r.Reasoning.Effort != nil {
		extra["reasoning_effort"] = jsonOf(*r.Reasoning.Effort)
	}
	if r.Text != nil && r.Text.Verbosity != "" {
		extra["verbosity"] = jsonOf(r.Text.Verbosity)
	}
	if len(extra) > 0 {
		req.Extra = extra
	}
	return req, nil
}

// InputMessages returns the request's input as canonical messages, without
// the instructions: what this turn adds to the conversation. A caller that
// stores conversations for previous_response_id stores history, then
// these, then the Response's Messages.
func (r *ResponsesRequest) InputMessages() []chat.Message {
	return assemble(r.items)
}

// References returns the ids the input's item_reference items name that
// Resolve has not yet resolved.
func (r *ResponsesRequest) References() []string {
	var ids []string
	for _, it := range r.items {
		if it.kind == itemReference {
			ids = append(ids, it.ref)
		}
	}
	return ids
}

// Resolve replaces each item_reference in the input with the item lookup
// finds for its id: an output item of a response Detour made earlier (see
// ItemResponseID). The Vercel AI SDK refers to earlier assistant messages
// this way unless told not to store. An id lookup does not find fails with
// a *RequestError, as at OpenAI.
func (r *ResponsesRequest) Resolve(lookup func(id string) (OutputItem, bool)) error {
	for i, it := range r.items {
		if it.kind != itemReference {
			continue
		}
		var item OutputItem
		ok := lookup != nil
		if ok {
			item, ok = lookup(it.ref)
		}
		if !ok {
			return badParam(fmt.Sprintf("input[%d].id", it.index), "item with id %q not found", it.ref)
		}
		resolved, perr := outputInputItem(item, it.index, r.names)
		if perr != nil {
			return perr
		}
		r.items[i] = resolved
	}
	return nil
}

// ItemResponseID returns the id of the response an output item id of
// Detour's belongs to: "msg_abc_0", "fc_abc_1", "ctc_abc_2" and "rs_abc_3"
// belong to "resp_abc". ok is false for an id Detour did not make.
func ItemResponseID(itemID string) (responseID string, ok bool) {
	prefix, rest, found := strings.Cut(itemID, "_")
	if !found || (prefix != "msg" && prefix != "fc" && prefix != "ctc" && prefix != "rs") {
		return "", false
	}
	i := strings.LastIndexByte(rest, '_')
	if i <= 0 {
		return "", false
	}
	return "resp_" + rest[:i], true
}

// itemKind is what an input item adds to a conversation.
type itemKind int

const (
	itemMessage    itemKind = iota // a message of any role
	itemCall                       // a function or custom tool call the model made
	itemCallOutput                 // a tool message answering a call
	itemReasoning                  // reasoning text for the next assistant message
	itemReference                  // an item_reference not yet resolved
)

// inputItem is one input item, translated.
type inputItem struct {
	index     int // its position in input, for error params
	kind      itemKind
	wireType  string        // the item's type as sent, for error messages
	msg       chat.Message  // itemMessage, itemCallOutput
	call      chat.ToolCall // itemCall
	reasoning string        // itemReasoning
	ref       string        // itemReference
}

// assemble makes the conversation of items: function calls join the
// assistant message before them (or make one), and reasoning goes to the
// next assistant message.
func assemble(items []inputItem) []chat.Message {
	var out []chat.Message
	if len(items) > 0 {
		out = make([]chat.Message, 0, len(items)) // at most one message an item
	}
	var reasoning []string // waiting for an assistant message
	assistant := -1        // index in out of the assistant message calls join
	takeReasoning := func(m *chat.Message) {
		if len(reasoning) == 0 {
			return
		}
		if m.ReasoningContent != "" {
			reasoning = append([]string{m.ReasoningContent}, reasoning...)
		}
		m.ReasoningContent = strings.Join(reasoning, "\n\n")
		reasoning = nil
	}
	for _, it := range items {
		switch it.kind {
		case itemMessage, itemCallOutput:
			m := it.msg
			assistant = -1
			if m.Role == "assistant" {
				takeReasoning(&m)
				assistant = len(out)
			} else {
				reasoning = nil // reasoning belongs to the assistant turn it preceded
			}
			out = append(out, m)
		case itemCall:
			if assistant < 0 {
				out = append(out, chat.Message{Role: "assistant", Content: json.RawMessage("null")})
				assistant = len(out) - 1
			}
			a := &out[assistant]
			takeReasoning(a)
			a.ToolCalls = append(a.ToolCalls, it.call)
		case itemReasoning:
			if it.reasoning != "" {
				reasoning = append(reasoning, it.reasoning)
			}
		}
	}
	return out
}

// wireItem is an input item as the wire has it; which members count
// depends on its type.
type wireItem struct {
	Type      string          `json:"type"`
	ID        string          `json:"id"`
	Role      string          `json:"role"`
	Content   json.RawMessage `json:"content"`
	CallID    string          `json:"call_id"`
	Namespace string          `json:"namespace"`
	Name      string          `json:"name"`
	Arguments string          `json:"arguments"`
	Input     string          `json:"input"` // a custom tool call's
	Output    json.RawMessage `json:"output"`
	Summary   json.RawMessage `json:"summary"`
}

// decodeInput reads input: absent, a string, or an array of items. read
// holds the items when readResponsesBody read them already (nil when it
// did not). names gives the function names of the tools calls name.
func decodeInput(raw json.RawMessage, read []wireItem, names *toolNames) ([]inputItem, error) {
	raw = trimSpace(raw)
	switch {
	case isNull(raw):
		return nil, nil
	case raw[0] == '"':
		content, err := stringContent(raw, "input")
		if err != nil {
			return nil, err
		}
		return []inputItem{{kind: itemMessage, msg: chat.Message{Role: "user", Content: content}}}, nil
	case raw[0] != '[':
		return nil, badParam("input", "input must be a string or an array of input items")
	}
	if read != nil {
		items := make([]inputItem, 0, len(read))
		for i, w := range read {
			it, err := translateItem(w, i, names)
			if err != nil {
				return nil, err
			}
			items = append(items, it)
		}
		return items, nil
	}
	var raws []json.RawMessage
	if err := unmarshal(raw, &raws, "input"); err != nil {
		return nil, err
	}
	items := make([]inputItem, 0, len(raws))
	for i, r := range raws {
		it, err := decodeItem(r, i, names)
		if err != nil {
			return nil, err
		}
		items = append(items, it)
	}
	return items, nil
}

// decodeItem decodes and translates input item i.
func decodeItem(raw json.RawMessage, i int, names *toolNames) (inputItem, error) {
	if !isObject(raw) {
		param := fmt.Sprintf("input[%d]", i)
		return inputItem{}, badParam(param, "%s must be an object", param)
	}
	var w wireItem
	if err := unmarshal(raw, &w, fmt.Sprintf("input[%d]", i)); err != nil {
		return inputItem{}, err
	}
	return translateItem(w, i, names)
}

// translateItem translates input item i, as the wire has it.
func translateItem(w wireItem, i int, names *toolNames) (inputItem, error) {
	param := fmt.Sprintf("input[%d]", i)
	it := inputItem{index: i, wireType: w.Type}
	switch w.Type {
	case "message", "":
		if w.Type == "" && w.Role == "" {
			return inputItem{}, badParam(param+".type", "%s has no type: give a type, or a role for a message", param)
		}
		m, err := decodeMessage(w, param)
		if err != nil {
			return inputItem{}, err
		}
		it.kind, it.msg = itemMessage, m
	case "function_call", "custom_tool_call":
		switch {
		case w.CallID == "":
			return inputItem{}, badParam(param+".call_id", "%s.call_id is required", param)
		case w.Name == "":
			return inputItem{}, badParam(param+".name", "%s.name is required", param)
		}
		args := w.Arguments
		if w.Type == "custom_tool_call" {
			args = customArguments(w.Input)
		}
		it.kind = itemCall
		it.call = chat.ToolCall{ID: w.CallID, Type: "function",
			Function: chat.FunctionCall{Name: names.function(w.Namespace, w.Name), Arguments: args}}
	case "function_call_output", "custom_tool_call_output":
		if w.CallID == "" {
			return inputItem{}, badParam(param+".call_id", "%s.call_id is required", param)
		}
		content, err := decodeToolOutput(w.Output, param+".output")
		if err != nil {
			return inputItem{}, err
		}
		it.kind = itemCallOutput
		it.msg = chat.Message{Role: "tool", ToolCallID: w.CallID, Content: content}
	case "reasoning":
		text, err := decodeReasoningText(w.Summary, w.Content, param)
		if err != nil {
			return inputItem{}, err
		}
		it.kind, it.reasoning = itemReasoning, text
	case "item_reference":
		if w.ID == "" {
			return inputItem{}, badParam(param+".id", "%s.id is required", param)
		}
		it.kind, it.ref = itemReference, w.ID
	default:
		return inputItem{}, badParam(param+".type", "input items of type %q are not supported by Detour, which runs no built-in tools; "+
			"send message, function_call, function_call_output, custom_tool_call, custom_tool_call_output, reasoning or item_reference items", w.Type)
	}
	return it, nil
}

// decodeMessage translates a message item.
func decodeMessage(w wireItem, param string) (chat.Message, error) {
	switch w.Role {
	case "user", "system", "developer", "assistant":
	case "":
		return chat.Message{}, badParam(param+".role", "%s.role is required", param)
	default:
		return chat.Message{}, badParam(param+".role", "%s.role must be user, system, developer or assistant, got %q", param, w.Role)
	}
	c := trimSpace(w.Content)
	switch {
	case isNull(c):
		return chat.Message{}, badParam(param+".content", "%s.content is required", param)
	case c[0] == '"':
		content, err := stringContent(c, param+".content")
		if err != nil {
			return chat.Message{}, err
		}
		return chat.Message{Role: w.Role, Content: content}, nil
	}
	parts, refusal, err := decodeParts(c, param+".content", w.Role == "user")
	if err != nil {
		return chat.Message{}, err
	}
	if w.Role == "assistant" {
		return assistantMessage(partsText(parts), refusal), nil
	}
	if refusal != "" {
		// Only the model refuses; from anyone else it is text.
		parts = append(parts, chat.Part{Type: "text", Text: refusal})
	}
	content, err := partsContent(parts)
	if err != nil {
		return chat.Message{}, badParam(param+".content", "%s.content: %v", param, err)
	}
	return chat.Message{Role: w.Role, Content: content}, nil
}

// assistantMessage is an assistant message of text and a refusal; with
// neither, its content is the empty string.
func assistantMessage(text, refusal string) chat.Message {
	m := chat.Message{Role: "assistant", Content: chat.TextContent(text)}
	if refusal != "" {
		if text == "" {
			m.Content = json.RawMessage("null")
		}
		m.Extra = chat.Extra{"refusal": jsonOf(refusal)}
	}
	return m
}

// wirePart is a content part as the wire has it.
type wirePart struct {
	Type     string          `json:"type"`
	Text     string          `json:"text"`
	Refusal  string          `json:"refusal"`
	ImageURL json.RawMessage `json:"image_url"`
	Detail   string          `json:"detail"`
	FileID   string          `json:"file_id"`
	FileData string          `json:"file_data"`
	FileURL  string          `json:"file_url"`
	Filename string          `json:"filename"`
}

// decodeParts translates a content array. media allows images and files.
// Refusal parts are gathered apart, as a chat message keeps them.
func decodeParts(raw json.RawMessage, param string, media bool) (parts []chat.Part, refusal string, err error) {
	if trimSpace(raw)[0] != '[' {
		return nil, "", badParam(param, "%s must be a string or an array of content parts", param)
	}
	var raws []json.RawMessage
	if err := unmarshal(raw, &raws, param); err != nil {
		return nil, "", err
	}
	for j, r := range raws {
		pp := fmt.Sprintf("%s[%d]", param, j)
		if !isObject(r) {
			return nil, "", badParam(pp, "%s must be an object", pp)
		}
		var p wirePart
		if err := unmarshal(r, &p, pp); err != nil {
			return nil, "", err
		}
		switch p.Type {
		case "input_text", "output_text":
			parts = append(parts, chat.Part{Type: "text", Text: p.Text})
		case "refusal":
			refusal += p.Refusal
		case "input_image":
			if !media {
				return nil, "", badParam(pp+".type", "%s: images are allowed only in user messages and function call outputs", pp)
			}
			part, err := imagePart(p, pp)
			if err != nil {
				return nil, "", err
			}
			parts = append(parts, part)
		case "input_file":
			if !media {
				return nil, "", badParam(pp+".type", "%s: files are allowed only in user messages and function call outputs", pp)
			}
			part, err := filePart(p, pp)
			if err != nil {
				return nil, "", err
			}
			parts = append(parts, part)
		case "":
			return nil, "", badParam(pp+".type", "%s.type is required", pp)
		default:
			return nil, "", badParam(pp+".type", "content parts of type %q are not supported; send input_text, output_text, input_image or input_file", p.Type)
		}
	}
	return parts, refusal, nil
}

// imagePart translates an input_image part. Its image_url is a string; an
// object {"url": …} as in chat is taken too.
func imagePart(p wirePart, param string) (chat.Part, error) {
	var url string
	if u := trimSpace(p.ImageURL); !isNull(u) {
		if u[0] == '{' {
			var o struct {
				URL    string `json:"url"`
				Detail string `json:"detail"`
			}
			if err := unmarshal(u, &o, param+".image_url"); err != nil {
				return chat.Part{}, err
			}
			url = o.URL
			if p.Detail == "" {
				p.Detail = o.Detail
			}
		} else if err := unmarshal(u, &url, param+".image_url"); err != nil {
			return chat.Part{}, err
		}
	}
	switch {
	case url != "":
		return chat.Part{Type: "image_url", ImageURL: &chat.ImageURL{URL: url, Detail: p.Detail}}, nil
	case p.FileID != "":
		return chat.Part{}, badParam(param+".file_id", "images by file_id are not supported: Detour keeps no files; send image_url as an https or data: URL")
	}
	return chat.Part{}, badParam(param+".image_url", "%s.image_url is required", param)
}

// filePart translates an input_file part with inline data into chat's
// file part.
func filePart(p wirePart, param string) (chat.Part, error) {
	switch {
	case p.FileID != "":
		return chat.Part{}, badParam(param+".file_id", "files by file_id are not supported: Detour keeps no files; send file_data")
	case p.FileURL != "":
		return chat.Part{}, badParam(param+".file_url", "files by file_url are not supported; send file_data")
	case p.FileData == "":
		return chat.Part{}, badParam(param+".file_data", "%s.file_data is required", param)
	}
	file := struct {
		FileData string `json:"file_data"`
		Filename string `json:"filename,omitempty"`
	}{p.FileData, p.Filename}
	return chat.Part{Type: "file", Extra: chat.Extra{"file": jsonOf(file)}}, nil
}

// partsText joins the text parts.
func partsText(parts []chat.Part) string {
	var b strings.Builder
	for _, p := range parts {
		if p.Type == "text" {
			b.WriteString(p.Text)
		}
	}
	return b.String()
}

// partsContent is the content of a chat message of parts: one text part
// is a string, which every upstream takes; anything else an array.
func partsContent(parts []chat.Part) (json.RawMessage, error) {
	switch {
	case len(parts) == 0:
		return chat.TextContent(""), nil
	case len(parts) == 1 && parts[0].Type == "text":
		return chat.TextContent(parts[0].Text), nil
	}
	return chat.MarshalParts(parts)
}

// decodeToolOutput translates a function_call_output's output: a string,
// or an array of input_text, input_image and input_file parts.
func decodeToolOutput(raw json.RawMessage, param string) (json.RawMessage, error) {
	raw = trimSpace(raw)
	switch {
	case isNull(raw):
		return nil, badParam(param, "%s is required", param)
	case raw[0] == '"':
		return stringContent(raw, param)
	}
	parts, refusal, err := decodeParts(raw, param, true)
	if err != nil {
		return nil, err
	}
	if refusal != "" {
		parts = append(parts, chat.Part{Type: "text", Text: refusal})
	}
	content, err := partsContent(parts)
	if err != nil {
		return nil, badParam(param, "%s: %v", param, err)
	}
	return content, nil
}

// decodeReasoningText is the text of a reasoning item: its reasoning_text
// content when it has some (the reasoning itself), else its summaries.
// Encrypted content is OpenAI's alone and is left out.
func decodeReasoningText(summary, content json.RawMessage, param string) (string, error) {
	read := func(raw json.RawMessage, member, want string) ([]string, error) {
		if isNull(raw) {
			return nil, nil
		}
		parts, ok := readTextParts(raw)
		if !ok {
			if err := unmarshal(raw, &parts, param+"."+member); err != nil {
				return nil, err
			}
		}
		var texts []string
		for _, p := range parts {
			if p.Type == want && p.Text != "" {
				texts = append(texts, p.Text)
			}
		}
		return texts, nil
	}
	texts, err := read(content, "content", "reasoning_text")
	if err != nil {
		return "", err
	}
	if len(texts) > 0 {
		return strings.Join(texts, ""), nil
	}
	texts, err = read(summary, "summary", "summary_text")
	if err != nil {
		return "", err
	}
	return strings.Join(texts, "\n\n"), nil
}

// textPart is an element of a reasoning item's summary or content.
type textPart struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// outputInputItem translates an output item of an earlier response, found
// for an item_reference, as if it had been sent in full. names gives the
// function names of the tools calls name.
func outputInputItem(item OutputItem, index int, names *toolNames) (inputItem, *RequestError) {
	it := inputItem{index: index, wireType: item.Type}
	switch item.Type {
	case "message":
		var text, refusal strings.Builder
		for _, p := range item.Content {
			text.WriteString(p.Text)
			refusal.WriteString(p.Refusal)
		}
		it.kind, it.msg = itemMessage, assistantMessage(text.String(), refusal.String())
	case "function_call", "custom_tool_call":
		args := item.Arguments
		if item.Type == "custom_tool_call" {
			args = customArguments(item.Input)
		}
		it.kind = itemCall
		it.call = chat.ToolCall{ID: item.CallID, Type: "function",
			Function: chat.FunctionCall{Name: names.function(item.Namespace, item.Name), Arguments: args}}
	case "reasoning":
		var texts []string
		for _, s := range item.Summary {
			if s.Text != "" {
				texts = append(texts, s.Text)
			}
		}
		it.kind, it.reasoning = itemReasoning, strings.Join(texts, "\n\n")
	default:
		return inputItem{}, badParam(fmt.Sprintf("input[%d].id", index), "item %q is of type %q, which Detour cannot take as input", item.ID, item.Type)
	}
	return it, nil
}

// maxFunctionName is the longest function name chat APIs take (OpenAI's
// limit; names are also limited to ASCII letters, digits, _ and -).
const maxFunctionName = 64

// clientTool is a tool as the client declared and calls it.
type clientTool struct {
	namespace string // "" for a tool outside any namespace
	name      string
	custom    bool // a custom tool, called with free-form text
}

// toolKey is a tool's namespace and name.
type toolKey struct{ namespace, name string }

// toolNames maps the function names the model is given to the client's
// tools, for the tools whose function is not simply theirs: a namespace's
// tools and custom tools. A nil *toolNames maps nothing.
type toolNames struct {
	client map[string]clientTool // function name → the client's tool
	flat   map[toolKey]string    // the client's tool → function name
}

// lookup returns the client's tool behind the function the model called;
// a function it does not know is a plain function of that name.
func (n *toolNames) lookup(function string) clientTool {
	if n != nil {
		if t, ok := n.client[function]; ok {
			return t
		}
	}
	return clientTool{name: function}
}

// function returns the function name of the client's tool namespace.name.
// A namespaced tool the request does not declare (the client's tools
// changed since the call) gets the name it would have if declared alone.
func (n *toolNames) function(namespace, name string) string {
	if n != nil {
		if f, ok := n.flat[toolKey{namespace, name}]; ok {
			return f
		}
	}
	if namespace == "" {
		return name
	}
	return uniqueFunctionName(toolKey{namespace, name}, nil)
}

// uniqueFunctionName names a namespaced tool's function: the namespace
// (without trailing underscores), "__" and the name, with every character
// chat does not allow made "_". When that is too long, or taken, it is cut
// and ends with "_" and eight hex digits of a hash of namespace and name,
// so that the same tools get the same names in every request.
func uniqueFunctionName(key toolKey, taken map[string]bool) string {
	base := validName(strings.TrimRight(key.namespace, "_") + "__" + key.name)
	if len(base) <= maxFunctionName && !taken[base] {
		return base
	}
	for i := 0; ; i++ {
		sum := sha256.Sum256(fmt.Appendf(nil, "%s\x00%s\x00%d", key.namespace, key.name, i))
		suffix := "_" + hex.EncodeToString(sum[:4])
		name := base[:min(len(base), maxFunctionName-len(suffix))] + suffix
		if !taken[name] {
			return name
		}
	}
}

// validName replaces the characters a chat function name cannot have
// with "_".
func validName(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			b[i] = '_'
		}
	}
	return string(b)
}

// offeredTool is a function or custom tool the model is offered, before
// its function is named.
type offeredTool struct {
	client clientTool
	def    chat.FunctionDef
}

// decodeTools reads the tools: the functions the model is offered (a
// namespace's tools and custom tools among them), the names that map
// them back to the client's tools, and the types of the tools left out.
func decodeTools(raws []json.RawMessage) (tools []chat.Tool, names *toolNames, dropped []string, err error) {
	var offered []offeredTool
	drop := func(typ string) {
		if !slices.Contains(dropped, typ) {
			dropped = append(dropped, typ)
		}
	}
	for i, raw := range raws {
		param := fmt.Sprintf("tools[%d]", i)
		typ, err := toolType(raw, param)
		if err != nil {
			return nil, nil, nil, err
		}
		switch typ {
		case "function", "custom":
			t, err := decodeTool(raw, typ, "", param)
			if err != nil {
				return nil, nil, nil, err
			}
			offered = append(offered, t)
		case "namespace":
			var ns struct {
				Name        string            `json:"name"`
				Description string            `json:"description"`
				Tools       []json.RawMessage `json:"tools"`
			}
			if err := unmarshal(raw, &ns, param); err != nil {
				return nil, nil, nil, err
			}
			if ns.Name == "" {
				return nil, nil, nil, badParam(param+".name", "%s.name is required", param)
			}
			first := true
			for j, raw := range ns.Tools {
				inner := fmt.Sprintf("%s.tools[%d]", param, j)
				typ, err := toolType(raw, inner)
				if err != nil {
					return nil, nil, nil, err
				}
				if typ != "function" && typ != "custom" {
					drop(typ)
					continue
				}
				t, err := decodeTool(raw, typ, ns.Name, inner)
				if err != nil {
					return nil, nil, nil, err
				}
				if first && ns.Description != "" {
					// Once per namespace: what it is for.
					t.def.Description = strings.TrimSpace(fmt.Sprintf("Namespace %s: %s\n\n%s", ns.Name, ns.Description, t.def.Description))
				}
				first = false
				offered = append(offered, t)
			}
		default:
			drop(typ)
		}
	}

	// Functions outside namespaces keep their names; a namespace's take
	// names none of those have.
	names = &toolNames{client: map[string]clientTool{}, flat: map[toolKey]string{}}
	taken := map[string]bool{}
	for _, t := range offered {
		if t.client.namespace == "" {
			taken[t.client.name] = true
		}
	}
	for _, t := range offered {
		key := toolKey{t.client.namespace, t.client.name}
		t.def.Name = t.client.name
		if key.namespace != "" {
			if _, dup := names.flat[key]; dup {
				continue // declared twice in its namespace: the first counts
			}
			t.def.Name = uniqueFunctionName(key, taken)
			taken[t.def.Name] = true
		}
		if key.namespace != "" || t.client.custom {
			names.client[t.def.Name] = t.client
			names.flat[key] = t.def.Name
		}
		tools = append(tools, chat.Tool{Type: "function", Function: &t.def})
	}
	return tools, names, dropped, nil
}

// toolType reads a tool's type, which is required.
func toolType(raw json.RawMessage, param string) (string, error) {
	if !isObject(raw) {
		return "", badParam(param, "%s must be an object", param)
	}
	var t struct {
		Type string `json:"type"`
	}
	if err := unmarshal(raw, &t, param); err != nil {
		return "", err
	}
	if t.Type == "" {
		return "", badParam(param+".type", "%s.type is required", param)
	}
	return t.Type, nil
}

// decodeTool reads a function or custom tool (typ) of the namespace ("" for
// none) into the function the model is offered, not yet named.
func decodeTool(raw json.RawMessage, typ, namespace, param string) (offeredTool, error) {
	if typ == "function" {
		var f FunctionTool
		if err := unmarshal(raw, &f, param); err != nil {
			return offeredTool{}, err
		}
		if f.Name == "" {
			return offeredTool{}, badParam(param+".name", "%s.name is required", param)
		}
		if isNull(f.Parameters) {
			f.Parameters = nil
		}
		return offeredTool{client: clientTool{namespace: namespace, name: f.Name},
			def: chat.FunctionDef{Description: f.Description, Parameters: f.Parameters, Strict: f.Strict}}, nil
	}
	var c struct {
		Name        string          `json:"name"`
		Description string          `json:"description"`
		Format      json.RawMessage `json:"format"`
	}
	if err := unmarshal(raw, &c, param); err != nil {
		return offeredTool{}, err
	}
	if c.Name == "" {
		return offeredTool{}, badParam(param+".name", "%s.name is required", param)
	}
	var format struct {
		Type       string `json:"type"`
		Syntax     string `json:"syntax"`
		Definition string `json:"definition"`
	}
	if !isNull(c.Format) {
		if !isObject(c.Format) {
			return offeredTool{}, badParam(param+".format", "%s.format must be an object", param)
		}
		if err := unmarshal(c.Format, &format, param+".format"); err != nil {
			return offeredTool{}, err
		}
	}
	desc := c.Description
	if desc != "" {
		desc += "\n\n"
	}
	desc += `This tool takes free-form text, not JSON: pass the whole text as the string argument "input".`
	if format.Type == "grammar" && format.Definition != "" {
		syntax := format.Syntax
		if syntax == "" {
			syntax = "formal"
		}
		desc += fmt.Sprintf(" The text must follow this %s grammar:\n%s", syntax, format.Definition)
	}
	return offeredTool{client: clientTool{namespace: namespace, name: c.Name, custom: true},
		def: chat.FunctionDef{Description: desc, Parameters: customParameters}}, nil
}

// customParameters is the schema of the function a custom tool becomes.
var customParameters = json.RawMessage(`{"type":"object","properties":{"input":{"type":"string",` +
	`"description":"The free-form text input of the tool."}},"required":["input"],"additionalProperties":false}`)

// customArguments are the arguments of the function a custom tool
// becomes, for a call with the given input. The input keeps its <, > and
// &, which a patch or a script is full of, as a model writes them.
func customArguments(input string) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(struct {
		Input string `json:"input"`
	}{input}) // a string always encodes
	return strings.TrimSuffix(b.String(), "\n")
}

// customInput is the input of a custom tool call from the arguments the
// model gave its function: the string argument input; arguments that are
// not that (a model that wrote the text itself) are the input as they are.
func customInput(arguments string) string {
	var a struct {
		Input *string `json:"input"`
	}
	if json.Unmarshal([]byte(arguments), &a) == nil && a.Input != nil {
		return *a.Input
	}
	return arguments
}

// chatToolChoice translates tool_choice: "auto", "none", "required", or
// {"type":"function"|"custom","name":…}, with a namespace when the tool
// has one. hasTools says whether the model is offered any tool; dropped
// are the types of the tools left out, which tool_choice cannot force.
func chatToolChoice(raw json.RawMessage, names *toolNames, hasTools bool, dropped []string) (json.RawMessage, error) {
	raw = trimSpace(raw)
	if raw[0] == '"' {
		var s string
		if err := unmarshal(raw, &s, "tool_choice"); err != nil {
			return nil, err
		}
		switch s {
		case "required":
			if !hasTools && len(dropped) > 0 {
				return nil, badParam("tool_choice", "tool_choice required cannot be served: the only tools sent (%s) are built-in tools, "+
					"which Detour does not run and leaves out; send function or custom tools, or choose auto or none", strings.Join(dropped, ", "))
			}
			fallthrough
		case "auto", "none":
			return jsonOf(s), nil
		}
		return nil, badParam("tool_choice", "tool_choice must be auto, none, required or a function, got %q", s)
	}
	if !isObject(raw) {
		return nil, badParam("tool_choice", "tool_choice must be a string or an object")
	}
	var o struct {
		Type      string `json:"type"`
		Namespace string `json:"namespace"`
		Name      string `json:"name"`
	}
	if err := unmarshal(raw, &o, "tool_choice"); err != nil {
		return nil, err
	}
	switch {
	case o.Type == "allowed_tools":
		return nil, badParam("tool_choice.type", "tool_choice of type %q is not supported; choose a function, or auto, none or required", o.Type)
	case o.Type != "function" && o.Type != "custom":
		return nil, badParam("tool_choice.type", "tool_choice of type %q forces a built-in tool, which Detour does not run "+
			"(it leaves such tools out of the request); choose a function or custom tool, or auto, none or required", o.Type)
	case o.Name == "":
		return nil, badParam("tool_choice.name", "tool_choice.name is required")
	}
	type function struct {
		Name string `json:"name"`
	}
	return jsonOf(struct {
		Type     string   `json:"type"`
		Function function `json:"function"`
	}{"function", function{names.function(o.Namespace, o.Name)}}), nil
}

// decodeText reads the text member and makes the chat response_format of
// its format.
func decodeText(raw json.RawMessage) (*TextConfig, json.RawMessage, error) {
	if !isObject(raw) {
		return nil, nil, badParam("text", "text must be an object")
	}
	var w struct {
		Format    json.RawMessage `json:"format"`
		Verbosity *string         `json:"verbosity"`
	}
	if err := unmarshal(raw, &w, "text"); err != nil {
		return nil, nil, err
	}
	t := &TextConfig{}
	if w.Verbosity != nil {
		t.Verbosity = *w.Verbosity
	}
	if isNull(w.Format) {
		return t, nil, nil
	}
	if !isObject(w.Format) {
		return nil, nil, badParam("text.format", "text.format must be an object")
	}
	t.Format = w.Format
	var f struct {
		Type        string          `json:"type"`
		Name        string          `json:"name"`
		Description string          `json:"description"`
		Schema      json.RawMessage `json:"schema"`
		Strict      *bool           `json:"strict"`
	}
	if err := unmarshal(w.Format, &f, "text.format"); err != nil {
		return nil, nil, err
	}
	switch f.Type {
	case "text":
		return t, nil, nil
	case "json_object":
		return t, json.RawMessage(`{"type":"json_object"}`), nil
	case "json_schema":
		switch {
		case f.Name == "":
			return nil, nil, badParam("text.format.name", "text.format.name is required for json_schema")
		case !isObject(f.Schema):
			return nil, nil, badParam("text.format.schema", "text.format.schema must be a JSON schema object")
		}
		type jsonSchema struct {
			Name        string          `json:"name"`
			Description string          `json:"description,omitempty"`
			Schema      json.RawMessage `json:"schema"`
			Strict      *bool           `json:"strict,omitempty"`
		}
		return t, jsonOf(struct {
			Type       string     `json:"type"`
			JSONSchema jsonSchema `json:"json_schema"`
		}{"json_schema", jsonSchema{f.Name, f.Description, f.Schema, f.Strict}}), nil
	}
	return nil, nil, badParam("text.format.type", "text.format.type must be text, json_object or json_schema, got %q", f.Type)
}

// decodeReasoning reads the reasoning member.
func decodeReasoning(raw json.RawMessage) (*ReasoningConfig, error) {
	if !isObject(raw) {
		return nil, badParam("reasoning", "reasoning must be an object")
	}
	var w struct {
		Effort          *string `json:"effort"`
		Summary         *string `json:"summary"`
		GenerateSummary *string `json:"generate_summary"` // the older name of summary
	}
	if err := unmarshal(raw, &w, "reasoning"); err != nil {
		return nil, err
	}
	rc := &ReasoningConfig{Effort: w.Effort, Summary: w.Summary}
	if rc.Summary == nil {
		rc.Summary = w.GenerateSummary
	}
	return rc, nil
}

// unmarshal decodes data into v, turning a failure into a *RequestError
// about param (the member data is; "" for the body).
func unmarshal(data []byte, v any, param string) error {
	err := json.Unmarshal(data, v)
	if err == nil {
		return nil
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		p := param
		if te.Field != "" {
			p = strings.TrimPrefix(param+"."+te.Field, ".")
		}
		if p == "" {
			return badParam("", "the request body must be a JSON object")
		}
		return badParam(p, "%s must be of type %s, got JSON %s", p, jsonType(te.Type.Kind().String()), te.Value)
	}
	if param == "" {
		return badParam("", "the request body is not valid JSON: %v", err)
	}
	return badParam(param, "%s: %v", param, err)
}

// jsonType names a Go kind as JSON does.
func jsonType(kind string) string {
	switch kind {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "slice", "array":
		return "array"
	case "struct", "map":
		return "object"
	case "float32", "float64":
		return "number"
	}
	if strings.Contains(kind, "int") {
		return "integer"
	}
	return kind
}

func trimSpace(raw json.RawMessage) json.RawMessage {
	return bytes.TrimSpace(raw) // a subslice: no copy of a long text
}

// isNull reports whether raw is absent or JSON null.
func isNull(raw json.RawMessage) bool {
	raw = trimSpace(raw)
	return len(raw) == 0 || string(raw) == "null"
}

// isObject reports whether raw is a JSON object.
func isObject(raw json.RawMessage) bool {
	raw = trimSpace(raw)
	return len(raw) > 0 && raw[0] == '{'
}

// jsonOf encodes v, a value that always encodes.
func jsonOf(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}

// Response is the response object of the Responses API, as POST
// /v1/responses answers and as its stream's first and last events carry.
// Its members are those the API returns; null ones are nil pointers.
// (output_text is a convenience of the SDKs, not on the wire.)
type Response struct {
	ID        string `json:"id"`
	Object    string `json:"object"` // "response"
	CreatedAt int64  `json:"created_at"`
	// Status is completed, incomplete, in_progress or failed.
	Status             string             `json:"status"`
	Background         bool               `json:"background"`
	Error              *ResponseError     `json:"error"`
	IncompleteDetails  *IncompleteDetails `json:"incomplete_details"`
	Instructions       *string            `json:"instructions"`
	MaxOutputTokens    *int               `json:"max_output_tokens"`
	Model              string             `json:"model"`
	Output             []OutputItem       `json:"output"`
	ParallelToolCalls  bool               `json:"parallel_tool_calls"`
	PreviousResponseID *string            `json:"previous_response_id"`
	Reasoning          ReasoningConfig    `json:"reasoning"`
	Store              bool               `json:"store"`
	Temperature        float64            `json:"temperature"`
	Text               TextConfig         `json:"text"`
	ToolChoice         json.RawMessage    `json:"tool_choice"`
	// Tools are the request's tools as it sent them.
	Tools      []json.RawMessage `json:"tools"`
	TopP       float64           `json:"top_p"`
	Truncation string            `json:"truncation"`
	// Usage is nil until the response is complete.
	Usage    *ResponseUsage  `json:"usage"`
	User     *string         `json:"user"`
	Metadata json.RawMessage `json:"metadata"`

	// names are the request's tools behind the functions' names, for
	// Messages; nil for a response decoded from JSON.
	names *toolNames
}

// ResponseError is why a response failed.
type ResponseError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// IncompleteDetails says why a response is incomplete: "max_output_tokens"
// or "content_filter".
type IncompleteDetails struct {
	Reason string `json:"reason"`
}

// ResponseUsage counts the tokens of a response.
type ResponseUsage struct {
	InputTokens         int                 `json:"input_tokens"`
	InputTokensDetails  InputTokensDetails  `json:"input_tokens_details"`
	OutputTokens        int                 `json:"output_tokens"`
	OutputTokensDetails OutputTokensDetails `json:"output_tokens_details"`
	TotalTokens         int                 `json:"total_tokens"`
}

// InputTokensDetails breaks down the input tokens.
type InputTokensDetails struct {
	// CachedTokens were read from the provider's prompt cache.
	CachedTokens int `json:"cached_tokens"`
}

// OutputTokensDetails breaks down the output tokens.
type OutputTokensDetails struct {
	// ReasoningTokens were spent on reasoning.
	ReasoningTokens int `json:"reasoning_tokens"`
}

// OutputItem is one item of a response's output: a message, a function
// call, a custom tool call or reasoning, by Type. It is encoded with the
// members of its type only; it decodes from any of them.
type OutputItem struct {
	ID   string `json:"id"`
	Type string `json:"type"` // message, function_call, custom_tool_call or reasoning
	// Status is in_progress, completed or incomplete (not for reasoning).
	Status string `json:"status,omitempty"`

	// A message's role ("assistant") and content.
	Role    string        `json:"role,omitempty"`
	Content []ContentPart `json:"content,omitempty"`

	// A function or custom tool call's call_id, which the output answering
	// it names, the namespace of the tool ("" for a tool outside any) and
	// the tool's name, as the client declared them.
	CallID    string `json:"call_id,omitempty"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name,omitempty"`
	// A function call's arguments, a JSON text.
	Arguments string `json:"arguments,omitempty"`
	// A custom tool call's input, free-form text.
	Input string `json:"input,omitempty"`

	// Reasoning's summary.
	Summary []SummaryPart `json:"summary,omitempty"`
}

// MarshalJSON writes the members of the item's type, each always present
// as the API does, but a call's namespace only when it has one.
func (o OutputItem) MarshalJSON() ([]byte, error) {
	switch o.Type {
	case "message":
		content := o.Content
		if content == nil {
			content = []ContentPart{}
		}
		return json.Marshal(struct {
			ID      string        `json:"id"`
			Type    string        `json:"type"`
			Status  string        `json:"status"`
			Role    string        `json:"role"`
			Content []ContentPart `json:"content"`
		}{o.ID, o.Type, o.Status, o.Role, content})
	case "function_call":
		return json.Marshal(struct {
			ID        string `json:"id"`
			Type      string `json:"type"`
			Status    string `json:"status"`
			CallID    string `json:"call_id"`
			Namespace string `json:"namespace,omitempty"`
			Name      string `json:"name"`
			Arguments string `json:"arguments"`
		}{o.ID, o.Type, o.Status, o.CallID, o.Namespace, o.Name, o.Arguments})
	case "custom_tool_call":
		return json.Marshal(struct {
			ID        string `json:"id"`
			Type      string `json:"type"`
			Status    string `json:"status"`
			CallID    string `json:"call_id"`
			Namespace string `json:"namespace,omitempty"`
			Name      string `json:"name"`
			Input     string `json:"input"`
		}{o.ID, o.Type, o.Status, o.CallID, o.Namespace, o.Name, o.Input})
	case "reasoning":
		summary := o.Summary
		if summary == nil {
			summary = []SummaryPart{}
		}
		return json.Marshal(struct {
			ID      string        `json:"id"`
			Type    string        `json:"type"`
			Summary []SummaryPart `json:"summary"`
		}{o.ID, o.Type, summary})
	}
	type plain OutputItem // without this method
	return json.Marshal(plain(o))
}

// ContentPart is a part of an output message: output_text or refusal.
type ContentPart struct {
	Type string `json:"type"`
	// Text of an output_text part.
	Text string `json:"text,omitempty"`
	// Annotations of an output_text part; Detour makes none.
	Annotations []json.RawMessage `json:"annotations,omitempty"`
	// Refusal of a refusal part.
	Refusal string `json:"refusal,omitempty"`
}

// MarshalJSON writes the members of the part's type, each always present.
func (p ContentPart) MarshalJSON() ([]byte, error) {
	if p.Type == "refusal" {
		return json.Marshal(struct {
			Type    string `json:"type"`
			Refusal string `json:"refusal"`
		}{p.Type, p.Refusal})
	}
	annotations := p.Annotations
	if annotations == nil {
		annotations = []json.RawMessage{}
	}
	return json.Marshal(struct {
		Type        string            `json:"type"`
		Annotations []json.RawMessage `json:"annotations"`
		Text        string            `json:"text"`
	}{p.Type, annotations, p.Text})
}

// SummaryPart is a part of a reasoning item's summary.
type SummaryPart struct {
	Type string `json:"type"` // "summary_text"
	Text string `json:"text"`
}

// NewResponse makes the response object of a canonical answer to req,
// with the given id and creation time (Unix seconds). The id is "resp_"
// and a unique part; the output items' ids are made from that part (see
// ItemResponseID). The model is the one that answered. The output
// is a reasoning item if the answer has reasoning, a message if it has text
// or a refusal, and a function_call item per tool call (custom_tool_call
// for a call of a custom tool), in this order.
func NewResponse(id string, createdAt int64, req *ResponsesRequest, resp *chat.Response) *Response {
	r := responseShell(id, createdAt, req)
	var msg chat.Message
	var finish chat.FinishReason
	if resp != nil {
		if resp.Model != "" {
			r.Model = resp.Model
		}
		for _, ch := range resp.Choices {
			if ch.Index == 0 {
				msg, finish = ch.Message, ch.FinishReason
				break
			}
		}
		r.Usage = responseUsage(resp.Usage)
	} else {
		r.Usage = responseUsage(nil)
	}
	if msg.ReasoningContent != "" {
		r.Output = append(r.Output, OutputItem{ID: itemID("rs", id, len(r.Output)), Type: "reasoning",
			Summary: []SummaryPart{{Type: "summary_text", Text: msg.ReasoningContent}}})
	}
	text, refusal := msg.Text(), messageRefusal(msg.Extra)
	if text != "" || refusal != "" {
		item := OutputItem{ID: itemID("msg", id, len(r.Output)), Type: "message", Status: "completed", Role: "assistant"}
		if text != "" {
			item.Content = append(item.Content, ContentPart{Type: "output_text", Text: text})
		}
		if refusal != "" {
			item.Content = append(item.Content, ContentPart{Type: "refusal", Refusal: refusal})
		}
		r.Output = append(r.Output, item)
	}
	for _, tc := range msg.ToolCalls {
		r.Output = append(r.Output, callItem(id, len(r.Output), r.names, tc.ID, tc.Function.Name, tc.Function.Arguments, "completed"))
	}
	r.finish(finish)
	return r
}

// Messages returns what this response adds to a conversation: one
// assistant message with its text, reasoning and tool calls; none when the
// output has neither text nor calls. It is what the output's items make
// when a client sends them back as input.
func (r *Response) Messages() []chat.Message {
	if r == nil {
		return nil
	}
	items := make([]inputItem, 0, len(r.Output))
	for i, o := range r.Output {
		if it, err := outputInputItem(o, i, r.names); err == nil {
			items = append(items, it)
		}
	}
	return assemble(items)
}

// responseShell is the response to req before its output: in progress,
// with the request's parameters echoed and the API's defaults for those
// the client left out.
func responseShell(id string, createdAt int64, req *ResponsesRequest) *Response {
	if req == nil {
		req = &ResponsesRequest{Store: true}
	}
	r := &Response{
		ID: id, Object: "response", CreatedAt: createdAt, Status: "in_progress",
		Instructions: req.Instructions, MaxOutputTokens: req.MaxOutputTokens, Model: req.Model,
		Output: []OutputItem{}, ParallelToolCalls: true, Store: req.Store, Temperature: 1,
		Text: TextConfig{Format: json.RawMessage(`{"type":"text"}`)}, ToolChoice: json.RawMessage(`"auto"`),
		Tools: []json.RawMessage{}, TopP: 1, Truncation: "disabled", Metadata: json.RawMessage("{}"),
		names: req.names,
	}
	if req.PreviousResponseID != "" {
		r.PreviousResponseID = &req.PreviousResponseID
	}
	if req.ParallelToolCalls != nil {
		r.ParallelToolCalls = *req.ParallelToolCalls
	}
	if req.Reasoning != nil {
		r.Reasoning = *req.Reasoning
	}
	if req.Temperature != nil {
		r.Temperature = *req.Temperature
	}
	if req.Text != nil {
		r.Text.Verbosity = req.Text.Verbosity
		if req.Text.Format != nil {
			r.Text.Format = req.Text.Format
		}
	}
	if req.ToolChoice != nil {
		r.ToolChoice = req.ToolChoice
	}
	if req.Tools != nil {
		r.Tools = req.Tools
	}
	if req.TopP != nil {
		r.TopP = *req.TopP
	}
	if req.Truncation != "" {
		r.Truncation = req.Truncation
	}
	if req.User != "" {
		r.User = &req.User
	}
	if req.Metadata != nil {
		r.Metadata = req.Metadata
	}
	return r
}

// finish sets the status the finish reason gives: incomplete for an answer
// cut short (and then its last item too), else completed.
func (r *Response) finish(reason chat.FinishReason) {
	r.Status = "completed"
	switch reason {
	case "length":
		r.IncompleteDetails = &IncompleteDetails{Reason: "max_output_tokens"}
	case "content_filter":
		r.IncompleteDetails = &IncompleteDetails{Reason: "content_filter"}
	default:
		return
	}
	r.Status = "incomplete"
	if n := len(r.Output); n > 0 && r.Output[n-1].Type != "reasoning" {
		r.Output[n-1].Status = "incomplete"
	}
}

// responseUsage converts the canonical usage; unknown usage counts zero,
// as the SDKs expect the member.
func responseUsage(u *chat.Usage) *ResponseUsage {
	if u == nil {
		return &ResponseUsage{}
	}
	out := &ResponseUsage{InputTokens: u.PromptTokens, OutputTokens: u.CompletionTokens, TotalTokens: u.TotalTokens}
	if u.PromptTokensDetails != nil {
		out.InputTokensDetails.CachedTokens = u.PromptTokensDetails.CachedTokens
	}
	if u.CompletionTokensDetails != nil {
		out.OutputTokensDetails.ReasoningTokens = u.CompletionTokensDetails.ReasoningTokens
	}
	if out.TotalTokens == 0 {
		out.TotalTokens = out.InputTokens + out.OutputTokens
	}
	return out
}

// callItem is the output item of the model's call of function with
// arguments: a function_call, or a custom_tool_call when the function is
// a custom tool's, named as the client declared the tool (names). A call
// the upstream gave no id gets one, for the output answering it to name.
func callItem(respID string, index int, names *toolNames, callID, function, arguments, status string) OutputItem {
	if callID == "" {
		callID = itemID("call", respID, index)
	}
	t := names.lookup(function)
	if t.custom {
		return OutputItem{ID: itemID("ctc", respID, index), Type: "custom_tool_call", Status: status,
			CallID: callID, Namespace: t.namespace, Name: t.name, Input: customInput(arguments)}
	}
	return OutputItem{ID: itemID("fc", respID, index), Type: "function_call", Status: status,
		CallID: callID, Namespace: t.namespace, Name: t.name, Arguments: arguments}
}

// itemID is the id of output item index of response respID: the item's
// prefix, the response id's random part, the index. ItemResponseID reads
// it back.
func itemID(prefix, respID string, index int) string {
	return fmt.Sprintf("%s_%s_%d", prefix, strings.TrimPrefix(respID, "resp_"), index)
}

// messageRefusal is the refusal a chat message or delta carries in its
// extra members, "" if none.
func messageRefusal(extra chat.Extra) string {
	var s string
	if raw, ok := extra["refusal"]; ok && json.Unmarshal(raw, &s) == nil {
		return s
	}
	return ""
}
