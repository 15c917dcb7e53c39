package anthropic

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/detour-gateway/detour/chat"
)

// This file reads the Messages API as a client's dialect: Claude Code and
// the Anthropic SDKs post to Detour's /v1/messages, and DecodeRequest turns
// what they send into the canonical request (OpenAI's chat-completions
// shape) that every other adapter takes.
//
// The canonical request is what a deployment of another dialect receives.
// An Anthropic deployment receives the client's own bytes (Request.Native,
// set here), so prompt-cache markers, thinking signatures, server tools and
// members this code does not know reach it untouched. DecodeRequest
// therefore only puts into the canonical request what another provider can
// take:
//
//   - cache_control is dropped wherever it appears. OpenAI and Gemini cache
//     prompts on their own, and strict OpenAI-compatible services refuse the
//     member with a 400.
//   - thinking becomes the single extra member reasoning_effort; the object
//     itself is not kept, as the OpenAI adapter forwards extra members and
//     OpenAI refuses ones it does not know. top_k is kept as the extra
//     member top_k, which OpenAI-compatible services such as vLLM,
//     OpenRouter and Together honour.
//   - thinking blocks of assistant turns become reasoning_content; their
//     signatures and redacted_thinking blocks mean something only to
//     Anthropic and are dropped.
//   - Unknown top-level members are ignored.

// RequestError says why DecodeRequest could not turn a Messages API request
// into a canonical one, and which member is at fault, as a path into the
// body ("messages[2].content[0].source").
type RequestError struct {
	// Param is the path of the member at fault; "" for the whole body.
	Param string
	// Message says what is wrong, in the client's terms.
	Message string
	// Untranslatable is set when the request may well be valid for
	// Anthropic but has no canonical form: a server tool, a document by
	// URL, a block type this code does not know. Only an Anthropic
	// deployment, which receives the client's bytes unchanged, can serve
	// it. errors.Is(err, ErrUntranslatable) reports it.
	Untranslatable bool
}

// Error returns "param: message", or the message alone for the whole body.
func (e *RequestError) Error() string {
	if e.Param == "" {
		return e.Message
	}
	return e.Param + ": " + e.Message
}

// Is reports whether target is ErrUntranslatable and e is such an error.
func (e *RequestError) Is(target error) bool {
	return target == ErrUntranslatable && e.Untranslatable
}

// ErrUntranslatable matches, with errors.Is, a *RequestError about a request
// that has no canonical form but that Anthropic itself may accept.
var ErrUntranslatable = errors.New("the request has no canonical form; only an Anthropic deployment can serve it")

// DecodeRequest reads a Messages API request (POST /v1/messages) and
// returns its canonical form, with Native holding body (the server adds
// the anthropic-version and anthropic-beta headers). body is kept, not
// copied: it must not change afterwards.
//
// Translation:
//
//   - model, stream (which also asks for usage in the last chunk:
//     stream_options.include_usage), temperature, top_p, stop_sequences
//     (as stop) and metadata.user_id (as user) map one to one; max_tokens
//     becomes max_completion_tokens, whose meaning (thinking included) is
//     Anthropic's; top_k becomes the extra member top_k.
//   - system, a string or text blocks, becomes one system message per
//     block.
//   - A user message becomes, in order, one tool message per tool_result
//     block (tool_call_id is its tool_use_id; content its text, prefixed
//     with "Error: " when is_error is set) followed by one user message with
//     the other blocks. Images and documents inside a tool_result move to
//     that user message, first, as OpenAI takes images only from users; the
//     tool message says so.
//   - An assistant message becomes one assistant message: its text blocks
//     as content, its tool_use blocks as tool_calls (same id, input as the
//     JSON arguments), its thinking blocks as reasoning_content.
//   - Content that is a single text block becomes a string; several blocks
//     an array of parts. Images become image_url parts (base64 sources as
//     data: URLs); PDF documents file parts (a data: URL in file_data);
//     plain-text documents and documents of content blocks their text.
//   - tools with an input_schema become function tools; tool_choice auto,
//     any, tool and none become "auto", "required", a named function and
//     "none", and disable_parallel_tool_use the extra member
//     parallel_tool_calls: false. Without tools, tool_choice is dropped.
//   - thinking becomes the extra member reasoning_effort: "low" for a
//     budget_tokens under 4096, "medium" under 16384, "high" above; for
//     adaptive thinking, output_config.effort (xhigh and max as "high").
//   - A JSON schema output format (output_config.format, or the beta's
//     output_format) becomes a json_schema response_format.
//
// Errors are *RequestError. A request that is invalidParam (no model, no
// max_tokens, no messages, an unknown role, a block where it cannot be)
// gives a nil request. A request that is valid but untranslatable (see
// ErrUntranslatable) gives the request too, without the parts that have no
// canonical form: a caller may still send it, Native, to an Anthropic
// deployment, and to no other. Tool results are not checked against tool
// calls. DecodeRequest never panics.
func DecodeRequest(body []byte) (*chat.Request, error) {
	req, err := decodeMessages(body, true)
	if req != nil {
		req.Native = &chat.Native{Dialect: chat.DialectAnthropic, Body: body}
	}
	return req, err
}

// CountTokensRequest reads a token-counting request (POST
// /v1/messages/count_tokens): a Messages request without max_tokens. It
// translates as DecodeRequest does, but sets no max_completion_tokens and
// no Native (the body is no Messages request to forward).
func CountTokensRequest(body []byte) (*chat.Request, error) {
	return decodeMessages(body, false)
}

// Wire types of a Messages request as a client sends it. Members that take
// more than one shape are kept raw and read by the decoder.
type (
	inRequest struct {
		Model         *string           `json:"model"`
		MaxTokens     json.RawMessage   `json:"max_tokens"`
		System        json.RawMessage   `json:"system"`
		Messages      []json.RawMessage `json:"messages"` // inMessage each
		Metadata      *wireMetadata     `json:"metadata"`
		StopSequences []string          `json:"stop_sequences"`
		Stream        bool              `json:"stream"`
		Temperature   *float64          `json:"temperature"`
		TopP          *float64          `json:"top_p"`
		TopK          *int              `json:"top_k"`
		Thinking      *inThinking       `json:"thinking"`
		OutputConfig  *inOutputConfig   `json:"output_config"`
		OutputFormat  *inOutputFormat   `json:"output_format"` // the structured-outputs beta's place for it
		Tools         []json.RawMessage `json:"tools"`         // inTool each
		ToolChoice    *wireToolChoice   `json:"tool_choice"`
	}

	inMessage struct {
		Role    string          `json:"role"`
		Content json.RawMessage `json:"content"` // a string or an array of blocks
	}

	// inBlock is a content block; each type sets its own members.
	inBlock struct {
		Type      string          `json:"type"`
		Text      string          `json:"text"`
		Source    *inSource       `json:"source"`
		ID        string          `json:"id"`
		Name      string          `json:"name"`
		Input     json.RawMessage `json:"input"`
		ToolUseID string          `json:"tool_use_id"`
		Content   json.RawMessage `json:"content"` // of a tool_result: a string or blocks
		IsError   bool            `json:"is_error"`
		Thinking  string          `json:"thinking"`
		Title     string          `json:"title"`
	}

	// inSource is where an image's or a document's bytes are.
	inSource struct {
		Type      string          `json:"type"` // base64, url, text, content or file
		MediaType string          `json:"media_type"`
		Data      string          `json:"data"`
		URL       string          `json:"url"`
		Content   json.RawMessage `json:"content"` // of a content source: a string or blocks
	}

	inTool struct {
		Type        string          `json:"type"` // "" or "custom"; else an Anthropic-defined tool
		Name        string          `json:"name"`
		Description string          `json:"description"`
		InputSchema json.RawMessage `json:"input_schema"`
		Strict      *bool           `json:"strict"`
	}

	inThinking struct {
		Type         string `json:"type"` // enabled, adaptive or disabled
		BudgetTokens int    `json:"budget_tokens"`
	}

	inOutputConfig struct {
		Effort string          `json:"effort"`
		Format *inOutputFormat `json:"format"`
	}

	// inOutputFormat asks for structured output.
	inOutputFormat struct {
		Type   string          `json:"type"` // json_schema
		Schema json.RawMessage `json:"schema"`
	}
)

// Budgets of extended thinking, in tokens, from which reasoning_effort is
// "medium" and "high".
const (
	mediumThinkingBudget = 4096
	highThinkingBudget   = 16384
)

// inboundDecoder builds one canonical request. It keeps the first
// untranslatable part it met and goes on without it; an invalidParam part ends
// the decoding.
type inboundDecoder struct {
	untranslatable *RequestError
}

func invalidParam(param, format string, args ...any) *RequestError {
	return &RequestError{Param: param, Message: fmt.Sprintf(format, args...)}
}

// skip notes a part left out because it has no canonical form.
func (d *inboundDecoder) skip(param, format string, args ...any) {
	if d.untranslatable == nil {
		d.untranslatable = &RequestError{Param: param, Message: fmt.Sprintf(format, args...), Untranslatable: true}
	}
}

// decodeMessages is DecodeRequest, and CountTokensRequest when
// requireMaxTokens is false.
func decodeMessages(body []byte, requireMaxTokens bool) (*chat.Request, error) {
	if t := bytes.TrimSpace(body); len(t) == 0 || t[0] != '{' {
		return nil, invalidParam("", "the request body must be a JSON object")
	}
	var in inRequest
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, requestJSONError("", err)
	}
	if in.Model == nil || *in.Model == "" {
		return nil, invalidParam("model", "field required")
	}
	req := &chat.Request{Model: *in.Model, Temperature: in.Temperature, TopP: in.TopP}
	if requireMaxTokens {
		n, rerr := requiredMaxTokens(in.MaxTokens)
		if rerr != nil {
			return nil, rerr
		}
		req.MaxCompletionTokens = &n
	}
	if in.Stream {
		req.Stream = true
		req.StreamOptions = &chat.StreamOptions{IncludeUsage: true}
	}
	if len(in.StopSequences) > 0 {
		req.Stop = chat.Stop(in.StopSequences)
	}
	if in.Metadata != nil {
		req.User = in.Metadata.UserID
	}
	if in.TopK != nil {
		setRequestExtra(req, "top_k", *in.TopK)
	}
	if effort := reasoningEffort(in.Thinking, in.OutputConfig); effort != "" {
		setRequestExtra(req, "reasoning_effort", effort)
	}

	var d inboundDecoder
	format, formatParam := in.OutputFormat, "output_format"
	if in.OutputConfig != nil && in.OutputConfig.Format != nil {
		format, formatParam = in.OutputConfig.Format, "output_config.format"
	}
	if format != nil {
		var rerr *RequestError
		if req.ResponseFormat, rerr = d.responseFormat(format, formatParam); rerr != nil {
			return nil, rerr
		}
	}
	system, rerr := d.system(in.System)
	if rerr != nil {
		return nil, rerr
	}
	if in.Messages == nil {
		return nil, invalidParam("messages", "field required")
	}
	if len(in.Messages) == 0 {
		return nil, invalidParam("messages", "at least one message is required")
	}
	req.Messages = system
	for i, raw := range in.Messages {
		p := fmt.Sprintf("messages[%d]", i)
		var m inMessage
		if rerr := decodeJSONObject(raw, &m, p, "a message"); rerr != nil {
			return nil, rerr
		}
		msgs, rerr := d.message(m, p)
		if rerr != nil {
			return nil, rerr
		}
		req.Messages = append(req.Messages, msgs...)
	}
	if req.Tools, rerr = d.tools(in.Tools); rerr != nil {
		return nil, rerr
	}
	if len(req.Tools) > 0 && in.ToolChoice != nil {
		choice, parallel, rerr := toolChoiceOf(in.ToolChoice)
		if rerr != nil {
			return nil, rerr
		}
		req.ToolChoice = choice
		if !parallel {
			setRequestExtra(req, "parallel_tool_calls", false)
		}
	}
	if d.untranslatable != nil {
		return req, d.untranslatable
	}
	return req, nil
}

// decodeJSONObject decodes raw, the JSON object at param, into v; what names
// the kind of object for the error when raw is no object.
func decodeJSONObject(raw json.RawMessage, v any, param, what string) *RequestError {
	if t := bytes.TrimSpace(raw); len(t) == 0 || t[0] != '{' {
		return invalidParam(param, "%s must be an object", what)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return requestJSONError(param, err)
	}
	return nil
}

// requestJSONError turns an encoding/json failure into a RequestError under
// param, naming the member a value of the wrong type was found in.
func requestJSONError(param string, err error) *RequestError {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		p := param
		if te.Field != "" {
			p = joinParamPath(param, te.Field)
		}
		want := "another type"
		if te.Type != nil {
			want = jsonKindName(te.Type.Kind().String())
		}
		return invalidParam(p, "must be %s, not %s", want, te.Value)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return invalidParam(param, "invalidParam JSON at byte %d: %v", se.Offset, se)
	}
	return invalidParam(param, "%v", err)
}

func joinParamPath(param, field string) string {
	if param == "" {
		return field
	}
	return param + "." + field
}

// jsonKindName names a Go kind as the JSON type a client must send.
func jsonKindName(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "slice", "array":
		return "an array"
	case "struct", "map":
		return "an object"
	case "float32", "float64":
		return "a number"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "an integer"
	}
	return "another type"
}

func setRequestExtra(req *chat.Request, key string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		return // ints, strings and bools always encode
	}
	if req.Extra == nil {
		req.Extra = chat.Extra{}
	}
	req.Extra[key] = b
}

// requiredMaxTokens reads the required max_tokens.
func requiredMaxTokens(raw json.RawMessage) (int, *RequestError) {
	if isJSONNull(raw) {
		return 0, invalidParam("max_tokens", "field required")
	}
	var n int
	if err := json.Unmarshal(raw, &n); err != nil {
		return 0, invalidParam("max_tokens", "must be an integer")
	}
	if n < 1 {
		return 0, invalidParam("max_tokens", "must be at least 1")
	}
	return n, nil
}

func isJSONNull(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) == 0 || string(t) == "null"
}

// reasoningEffort maps extended thinking to OpenAI's reasoning_effort; ""
// when thinking is off or says nothing of its size.
func reasoningEffort(t *inThinking, oc *inOutputConfig) string {
	if t != nil && t.Type == "disabled" {
		return ""
	}
	if oc != nil {
		switch oc.Effort {
		case "low", "medium":
			return oc.Effort
		case "high", "xhigh", "max":
			return "high"
		}
	}
	if t == nil || t.Type != "enabled" || t.BudgetTokens <= 0 {
		return ""
	}
	switch {
	case t.BudgetTokens < mediumThinkingBudget:
		return "low"
	case t.BudgetTokens < highThinkingBudget:
		return "medium"
	}
	return "high"
}

// responseFormat translates a structured-output format into OpenAI's
// response_format. The schema is not marked strict: OpenAI's strict mode
// asks more of a schema than Anthropic's.
func (d *inboundDecoder) responseFormat(f *inOutputFormat, param string) (json.RawMessage, *RequestError) {
	if f.Type != "json_schema" {
		d.skip(param+".type", "output format %q is not supported on a non-Anthropic deployment", f.Type)
		return nil, nil
	}
	if !isObject(f.Schema) {
		return nil, invalidParam(param+".schema", "must be a JSON Schema object")
	}
	type jsonSchema struct {
		Name   string          `json:"name"`
		Schema json.RawMessage `json:"schema"`
	}
	b, err := json.Marshal(struct {
		Type       string     `json:"type"`
		JSONSchema jsonSchema `json:"json_schema"`
	}{"json_schema", jsonSchema{"output", f.Schema}})
	if err != nil {
		return nil, invalidParam(param+".schema", "%v", err)
	}
	return b, nil
}

// system translates the system prompt into one system message per block.
func (d *inboundDecoder) system(raw json.RawMessage) ([]chat.Message, *RequestError) {
	if isJSONNull(raw) {
		return nil, nil
	}
	if s, ok := jsonStringValue(raw); ok {
		if s == "" {
			return nil, nil
		}
		return []chat.Message{{Role: "system", Content: chat.TextContent(s)}}, nil
	}
	blocks, rerr := inboundBlocks(raw, "system")
	if rerr != nil {
		return nil, rerr
	}
	var out []chat.Message
	for j, b := range blocks {
		if b.Type != "text" {
			return nil, invalidParam(fmt.Sprintf("system[%d].type", j), "the system prompt takes only text blocks, not %q", b.Type)
		}
		if b.Text != "" {
			out = append(out, chat.Message{Role: "system", Content: chat.TextContent(b.Text)})
		}
	}
	return out, nil
}

// jsonStringValue reads raw as a JSON string.
func jsonStringValue(raw json.RawMessage) (string, bool) {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 || t[0] != '"' {
		return "", false
	}
	var s string
	if json.Unmarshal(t, &s) != nil {
		return "", false
	}
	return s, true
}

// inboundBlockTypes are the content block types DecodeRequest reads.
var inboundBlockTypes = map[string]bool{"text": true, "image": true, "document": true, "tool_use": true,
	"tool_result": true, "thinking": true, "redacted_thinking": true}

// inboundBlocks reads raw, at param, as an array of content blocks.
func inboundBlocks(raw json.RawMessage, param string) ([]inBlock, *RequestError) {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 || t[0] != '[' {
		return nil, invalidParam(param, "must be a string or an array of content blocks")
	}
	var items []json.RawMessage
	if err := json.Unmarshal(t, &items); err != nil {
		return nil, requestJSONError(param, err)
	}
	blocks := make([]inBlock, len(items))
	for j, item := range items {
		p := fmt.Sprintf("%s[%d]", param, j)
		var head struct {
			Type string `json:"type"`
		}
		if rerr := decodeJSONObject(item, &head, p, "a content block"); rerr != nil {
			return nil, rerr
		}
		if head.Type == "" {
			return nil, invalidParam(p+".type", "field required")
		}
		if !inboundBlockTypes[head.Type] {
			// Its members may have shapes of their own; the type is
			// enough to say it has no canonical form.
			blocks[j].Type = head.Type
			continue
		}
		if rerr := decodeJSONObject(item, &blocks[j], p, "a content block"); rerr != nil {
			return nil, rerr
		}
	}
	return blocks, nil
}

// message translates one message at param into canonical messages.
func (d *inboundDecoder) message(m inMessage, param string) ([]chat.Message, *RequestError) {
	if m.Role != "user" && m.Role != "assistant" {
		return nil, invalidParam(param+".role", "must be \"user\" or \"assistant\", not %q", m.Role)
	}
	if isJSONNull(m.Content) {
		return nil, invalidParam(param+".content", "field required")
	}
	if s, ok := jsonStringValue(m.Content); ok {
		return []chat.Message{{Role: m.Role, Content: chat.TextContent(s)}}, nil
	}
	blocks, rerr := inboundBlocks(m.Content, param+".content")
	if rerr != nil {
		return nil, rerr
	}
	if m.Role == "assistant" {
		msg, rerr := d.assistant(blocks, param+".content")
		if rerr != nil {
			return nil, rerr
		}
		return []chat.Message{msg}, nil
	}
	return d.user(blocks, param+".content")
}

// user translates a user message's blocks: its tool results first, as
// tool messages, then the rest as one user message.
func (d *inboundDecoder) user(blocks []inBlock, param string) ([]chat.Message, *RequestError) {
	var out []chat.Message
	var moved, parts []chat.Part
	for j, b := range blocks {
		p := fmt.Sprintf("%s[%d]", param, j)
		switch b.Type {
		case "tool_result":
			msg, media, rerr := d.toolResult(b, p)
			if rerr != nil {
				return nil, rerr
			}
			out = append(out, msg)
			moved = append(moved, media...)
		case "tool_use", "thinking", "redacted_thinking":
			return nil, invalidParam(p+".type", "%s blocks belong in assistant messages", b.Type)
		default:
			ps, rerr := d.parts(b, p)
			if rerr != nil {
				return nil, rerr
			}
			parts = append(parts, ps...)
		}
	}
	if all := append(moved, parts...); len(all) > 0 || len(out) == 0 {
		out = append(out, chat.Message{Role: "user", Content: contentOfParts(all)})
	}
	return out, nil
}

// toolResult translates a tool_result block into a tool message, and
// returns the images and documents it held apart, for the user message
// after it.
func (d *inboundDecoder) toolResult(b inBlock, param string) (chat.Message, []chat.Part, *RequestError) {
	msg := chat.Message{Role: "tool", ToolCallID: b.ToolUseID}
	if b.ToolUseID == "" {
		return msg, nil, invalidParam(param+".tool_use_id", "field required")
	}
	var texts, media []chat.Part
	switch s, isString := jsonStringValue(b.Content); {
	case isJSONNull(b.Content):
	case isString:
		texts = append(texts, chat.Part{Type: "text", Text: s})
	default:
		blocks, rerr := inboundBlocks(b.Content, param+".content")
		if rerr != nil {
			return msg, nil, rerr
		}
		for j, inner := range blocks {
			p := fmt.Sprintf("%s.content[%d]", param, j)
			if inner.Type == "tool_result" || inner.Type == "tool_use" || inner.Type == "thinking" || inner.Type == "redacted_thinking" {
				return msg, nil, invalidParam(p+".type", "a tool result cannot hold %s blocks", inner.Type)
			}
			ps, rerr := d.parts(inner, p)
			if rerr != nil {
				return msg, nil, rerr
			}
			for _, part := range ps {
				if part.Type == "text" {
					texts = append(texts, part)
				} else {
					media = append(media, part)
				}
			}
		}
	}
	if b.IsError {
		if len(texts) == 0 {
			texts = []chat.Part{{Type: "text", Text: "Error"}}
		} else if !strings.HasPrefix(strings.ToLower(texts[0].Text), "error") {
			texts[0].Text = "Error: " + texts[0].Text
		}
	}
	if len(media) > 0 {
		note := "[the tool's image is attached to the next user message]"
		if len(media) > 1 {
			note = fmt.Sprintf("[the tool's %d images and documents are attached to the next user message]", len(media))
		}
		texts = append(texts, chat.Part{Type: "text", Text: note})
	}
	msg.Content = contentOfParts(texts)
	return msg, media, nil
}

// parts translates a text, image or document block of user content.
func (d *inboundDecoder) parts(b inBlock, param string) ([]chat.Part, *RequestError) {
	switch b.Type {
	case "text":
		if b.Text == "" {
			return nil, nil // Anthropic refuses empty text blocks; nothing is lost
		}
		return []chat.Part{{Type: "text", Text: b.Text}}, nil
	case "image":
		return d.image(b.Source, param+".source")
	case "document":
		return d.document(b, param)
	case "tool_result", "tool_use", "thinking", "redacted_thinking":
		return nil, invalidParam(param+".type", "a %s block cannot be here", b.Type)
	}
	d.skip(param+".type", "content blocks of type %q are not supported on a non-Anthropic deployment", b.Type)
	return nil, nil
}

// image translates an image's source into an image_url part.
func (d *inboundDecoder) image(src *inSource, param string) ([]chat.Part, *RequestError) {
	if src == nil {
		return nil, invalidParam(param, "field required")
	}
	switch src.Type {
	case "base64":
		if src.MediaType == "" {
			return nil, invalidParam(param+".media_type", "field required")
		}
		if src.Data == "" {
			return nil, invalidParam(param+".data", "field required")
		}
		return []chat.Part{{Type: "image_url", ImageURL: &chat.ImageURL{URL: "data:" + src.MediaType + ";base64," + src.Data}}}, nil
	case "url":
		if src.URL == "" {
			return nil, invalidParam(param+".url", "field required")
		}
		return []chat.Part{{Type: "image_url", ImageURL: &chat.ImageURL{URL: src.URL}}}, nil
	case "":
		return nil, invalidParam(param+".type", "field required")
	}
	d.skip(param+".type", "image sources of type %q are not supported on a non-Anthropic deployment", src.Type)
	return nil, nil
}

// document translates a document block: a PDF into a file part, text into
// text parts.
func (d *inboundDecoder) document(b inBlock, param string) ([]chat.Part, *RequestError) {
	src := b.Source
	if src == nil {
		return nil, invalidParam(param+".source", "field required")
	}
	switch src.Type {
	case "base64":
		if src.Data == "" {
			return nil, invalidParam(param+".source.data", "field required")
		}
		media := src.MediaType
		if media == "" {
			media = "application/pdf"
		}
		name := b.Title
		if name == "" {
			name = "document.pdf"
		}
		file, err := json.Marshal(struct {
			Filename string `json:"filename"`
			FileData string `json:"file_data"`
		}{name, "data:" + media + ";base64," + src.Data})
		if err != nil {
			return nil, invalidParam(param, "%v", err)
		}
		return []chat.Part{{Type: "file", Extra: chat.Extra{"file": file}}}, nil
	case "text":
		if src.Data == "" {
			return nil, nil
		}
		return []chat.Part{{Type: "text", Text: src.Data}}, nil
	case "content":
		if s, ok := jsonStringValue(src.Content); ok {
			if s == "" {
				return nil, nil
			}
			return []chat.Part{{Type: "text", Text: s}}, nil
		}
		blocks, rerr := inboundBlocks(src.Content, param+".source.content")
		if rerr != nil {
			return nil, rerr
		}
		var out []chat.Part
		for j, inner := range blocks {
			p := fmt.Sprintf("%s.source.content[%d]", param, j)
			if inner.Type != "text" && inner.Type != "image" {
				return nil, invalidParam(p+".type", "a document's content takes only text and image blocks, not %q", inner.Type)
			}
			ps, rerr := d.parts(inner, p)
			if rerr != nil {
				return nil, rerr
			}
			out = append(out, ps...)
		}
		return out, nil
	case "":
		return nil, invalidParam(param+".source.type", "field required")
	}
	d.skip(param+".source.type", "document sources of type %q are not supported on a non-Anthropic deployment", src.Type)
	return nil, nil
}

// assistant translates an assistant message's blocks into one message.
func (d *inboundDecoder) assistant(blocks []inBlock, param string) (chat.Message, *RequestError) {
	msg := chat.Message{Role: "assistant"}
	var texts []chat.Part
	var thoughts []string
	for j, b := range blocks {
		p := fmt.Sprintf("%s[%d]", param, j)
		switch b.Type {
		case "text":
			if b.Text != "" {
				texts = append(texts, chat.Part{Type: "text", Text: b.Text})
			}
		case "thinking":
			if b.Thinking != "" {
				thoughts = append(thoughts, b.Thinking)
			}
		case "redacted_thinking":
			// Encrypted, for Anthropic alone.
		case "tool_use":
			call, rerr := toolCallOfBlock(b, p)
			if rerr != nil {
				return msg, rerr
			}
			msg.ToolCalls = append(msg.ToolCalls, call)
		case "image", "document", "tool_result":
			return msg, invalidParam(p+".type", "%s blocks belong in user messages", b.Type)
		default:
			d.skip(p+".type", "content blocks of type %q are not supported on a non-Anthropic deployment", b.Type)
		}
	}
	msg.ReasoningContent = strings.Join(thoughts, "\n\n")
	switch {
	case len(texts) == 0 && len(msg.ToolCalls) > 0:
		msg.Content = json.RawMessage("null")
	default:
		msg.Content = contentOfParts(texts)
	}
	return msg, nil
}

// toolCallOfBlock translates a tool_use block.
func toolCallOfBlock(b inBlock, param string) (chat.ToolCall, *RequestError) {
	call := chat.ToolCall{ID: b.ID, Type: "function", Function: chat.FunctionCall{Name: b.Name, Arguments: emptyObject}}
	if b.ID == "" {
		return call, invalidParam(param+".id", "field required")
	}
	if b.Name == "" {
		return call, invalidParam(param+".name", "field required")
	}
	if !isJSONNull(b.Input) {
		if !isObject(b.Input) {
			return call, invalidParam(param+".input", "must be an object")
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, b.Input); err != nil {
			return call, invalidParam(param+".input", "must be an object")
		}
		call.Function.Arguments = compact.String()
	}
	return call, nil
}

// contentOfParts is a message's content: a string for one text part (or
// none), else the array of parts.
func contentOfParts(parts []chat.Part) json.RawMessage {
	switch {
	case len(parts) == 0:
		return chat.TextContent("")
	case len(parts) == 1 && parts[0].Type == "text":
		return chat.TextContent(parts[0].Text)
	}
	b, err := json.Marshal(parts)
	if err != nil {
		return chat.TextContent("") // parts are built here from strings: they encode
	}
	return b
}

// tools translates custom tools into function tools; Anthropic-defined
// tools (web_search_…, bash_…, text_editor_…, computer_…) are left out.
func (d *inboundDecoder) tools(in []json.RawMessage) ([]chat.Tool, *RequestError) {
	var out []chat.Tool
	for i, raw := range in {
		p := fmt.Sprintf("tools[%d]", i)
		var t inTool
		if rerr := decodeJSONObject(raw, &t, p, "a tool"); rerr != nil {
			return nil, rerr
		}
		if t.Type != "" && t.Type != "custom" {
			d.skip(p+".type", "tool type %q is an Anthropic server tool, not supported on a non-Anthropic deployment", t.Type)
			continue
		}
		if t.Name == "" {
			return nil, invalidParam(p+".name", "field required")
		}
		if isJSONNull(t.InputSchema) {
			return nil, invalidParam(p+".input_schema", "field required")
		}
		if !isObject(t.InputSchema) {
			return nil, invalidParam(p+".input_schema", "must be a JSON Schema object")
		}
		out = append(out, chat.Tool{Type: "function", Function: &chat.FunctionDef{
			Name: t.Name, Description: t.Description, Parameters: t.InputSchema, Strict: t.Strict}})
	}
	return out, nil
}

// toolChoiceOf maps tool_choice; parallel is false when the client turned
// parallel tool use off.
func toolChoiceOf(tc *wireToolChoice) (choice json.RawMessage, parallel bool, rerr *RequestError) {
	switch tc.Type {
	case "auto":
		choice = json.RawMessage(`"auto"`)
	case "any":
		choice = json.RawMessage(`"required"`)
	case "none":
		return json.RawMessage(`"none"`), true, nil
	case "tool":
		if tc.Name == "" {
			return nil, true, invalidParam("tool_choice.name", "field required")
		}
		type function struct {
			Name string `json:"name"`
		}
		b, err := json.Marshal(struct {
			Type     string   `json:"type"`
			Function function `json:"function"`
		}{"function", function{tc.Name}})
		if err != nil {
			return nil, true, invalidParam("tool_choice.name", "%v", err)
		}
		choice = b
	default:
		return nil, true, invalidParam("tool_choice.type", "must be \"auto\", \"any\", \"tool\" or \"none\", not %q", tc.Type)
	}
	return choice, !tc.DisableParallelToolUse, nil
}
