package anthropic

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/detour-gateway/detour/chat"
	"github.com/detour-gateway/detour/jsonstring"
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

// Wire types of a Messages request as a client sends it, as readRequest
// fills them in: what encoding/json would make of the body, with a member
// that takes a string or an array of blocks as an inContent. Each object
// that is checked on its own (the body, a message, a block, a tool) keeps
// the first of its members of a wrong type (bad), reported only when the
// translation gets to that object: errors come in the order the
// translation meets them, not in the order of the text.
type (
	inRequest struct {
		Model         *string
		MaxTokens     []byte // the member's JSON text; nil when absent
		System        inContent
		Messages      []inMessage // nil when absent or null
		Metadata      *wireMetadata
		StopSequences []string
		Stream        bool
		Temperature   *float64
		TopP          *float64
		TopK          *int
		Thinking      *inThinking
		OutputConfig  *inOutputConfig
		OutputFormat  *inOutputFormat // the structured-outputs beta's place for it
		Tools         []inTool        // nil when absent or null
		ToolChoice    *wireToolChoice

		// bad is the first member of a wrong type, the members of system,
		// messages and tools aside: those are checked one by one.
		bad *typeError
	}

	inMessage struct {
		IsObject bool // false for an element of messages that is no object
		Role     string
		Content  inContent
		bad      *typeError
	}

	// inContent is a member that holds a string or an array of content
	// blocks: a message's content, the system prompt, a tool result's
	// content, a content document's source.
	inContent struct {
		Kind   contentKind
		Text   jsonString // for contentString
		Blocks []inBlock  // for contentArray
	}

	// inBlock is a content block; each type sets its own members.
	inBlock struct {
		IsObject    bool // false for an element that is no object
		Type        string
		Text        jsonString
		Source      *inSource
		ID          string
		Name        string
		Input       []byte // of a tool_use: the member's JSON text; nil when absent
		InputSpaced bool   // Input has white space between its tokens
		ToolUseID   string
		Content     inContent // of a tool_result
		IsError     bool
		Thinking    string
		Title       string

		typeBad *typeError // a type member of a wrong type
		bad     *typeError // the first member of a wrong type
	}

	// inSource is where an image's or a document's bytes are.
	inSource struct {
		Type      string // base64, url, text, content or file
		MediaType string
		Data      string
		URL       string
		Content   inContent // of a content source
	}

	inTool struct {
		IsObject    bool   // false for an element of tools that is no object
		Type        string // "" or "custom"; else an Anthropic-defined tool
		Name        string
		Description string
		InputSchema []byte // the member's JSON text; nil when absent
		Strict      *bool
		bad         *typeError
	}

	inThinking struct {
		Type         string // enabled, adaptive or disabled
		BudgetTokens int
	}

	inOutputConfig struct {
		Effort string
		Format *inOutputFormat
	}

	// inOutputFormat asks for structured output.
	inOutputFormat struct {
		Type   string // json_schema
		Schema json.RawMessage
	}
)

// contentKind says what an inContent member is.
type contentKind uint8

const (
	contentAbsent contentKind = iota // absent, or null
	contentString                    // a string
	contentArray                     // an array
	contentOther                     // a number, true or false, or an object
)

// typeError is a member of the wrong type, as encoding/json reports one.
type typeError struct {
	field string // the member's path in its object: "text", "source.type"
	want  string // what it must be: "a string", "an object"
	got   string // what it is: "number", or "number 1.5" for one that does not fit
}

// in returns the error for e, of the object at param ("" for the body).
func (e *typeError) in(param string) *RequestError {
	p := e.field
	if param != "" {
		p = param + "." + e.field
	}
	return invalidParam(p, "must be %s, not %s", e.want, e.got)
}

// noteTypeError keeps in *bad the first member of a wrong type of an object.
func noteTypeError(bad **typeError, field, want, got string) {
	if *bad == nil {
		*bad = &typeError{field: field, want: want, got: got}
	}
}

// paramPath is the path of an element in the body, such as
// "messages[2].content[0]": the element index of the array name, inside
// the element up (nil at the top). It is put into words only for an error,
// so that the paths of the many blocks that have none cost nothing.
type paramPath struct {
	up    *paramPath
	name  string // "messages", or a member of up: ".content"
	index int
}

// String returns the path: "messages[2].content[0]".
func (p *paramPath) String() string {
	return string(p.appendTo(nil))
}

// member returns the path of a member of the element p, name starting
// with a dot (".source.type"); when p is nil, of the member name at the
// top.
func (p *paramPath) member(name string) string {
	if p == nil {
		return name
	}
	return string(append(p.appendTo(nil), name...))
}

func (p *paramPath) appendTo(b []byte) []byte {
	if p.up != nil {
		b = p.up.appendTo(b)
	}
	b = append(b, p.name...)
	b = append(b, '[')
	b = strconv.AppendInt(b, int64(p.index), 10)
	return append(b, ']')
}

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

// skip notes a part left out because it has no canonical form: the member
// (".type") of the element at, or at the top when at is nil.
func (d *inboundDecoder) skip(at *paramPath, member, format string, args ...any) {
	if d.untranslatable == nil {
		d.untranslatable = &RequestError{Param: at.member(member), Message: fmt.Sprintf(format, args...), Untranslatable: true}
	}
}

// decodeMessages is DecodeRequest, and CountTokensRequest when
// requireMaxTokens is false.
func decodeMessages(body []byte, requireMaxTokens bool) (*chat.Request, error) {
	if t := bytes.TrimSpace(body); len(t) == 0 || t[0] != '{' {
		return nil, invalidParam("", "the request body must be a JSON object")
	}
	in, rerr := readRequest(body)
	if rerr != nil {
		return nil, rerr
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
	system, rerr := d.system(&in.System)
	if rerr != nil {
		return nil, rerr
	}
	if in.Messages == nil {
		return nil, invalidParam("messages", "field required")
	}
	if len(in.Messages) == 0 {
		return nil, invalidParam("messages", "at least one message is required")
	}
	req.Messages = append(make([]chat.Message, 0, len(system)+len(in.Messages)), system...)
	for i := range in.Messages {
		at := paramPath{name: "messages", index: i}
		if req.Messages, rerr = d.message(req.Messages, &in.Messages[i], &at); rerr != nil {
			return nil, rerr
		}
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

// readRequest reads body, a JSON object, into an inRequest. A syntax error
// anywhere in body, and then a top-level member of a wrong type, is the
// error: encoding/json's, in the client's terms.
func readRequest(body []byte) (*inRequest, *RequestError) {
	r := jsonReader{data: body}
	in := new(inRequest)
	r.readRequest(in)
	r.end()
	if r.failed {
		return nil, syntaxError(body)
	}
	if in.bad != nil {
		return nil, in.bad.in("")
	}
	return in, nil
}

// syntaxError is the error for body, which is not valid JSON, with
// encoding/json's word for what is wrong and where.
func syntaxError(body []byte) *RequestError {
	var v struct{}
	err := json.Unmarshal(body, &v)
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return invalidParam("", "invalidParam JSON at byte %d: %v", se.Offset, se)
	}
	if err != nil {
		return invalidParam("", "%v", err)
	}
	return invalidParam("", "the request body is not valid JSON") // encoding/json and jsonReader disagree
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

// requiredMaxTokens reads the required max_tokens from its JSON text.
func requiredMaxTokens(raw []byte) (int, *RequestError) {
	if raw == nil || string(raw) == "null" {
		return 0, invalidParam("max_tokens", "field required")
	}
	n, err := strconv.ParseInt(string(raw), 10, strconv.IntSize) // as encoding/json reads an int
	if err != nil {
		return 0, invalidParam("max_tokens", "must be an integer")
	}
	if n < 1 {
		return 0, invalidParam("max_tokens", "must be at least 1")
	}
	return int(n), nil
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
		d.skip(nil, param+".type", "output format %q is not supported on a non-Anthropic deployment", f.Type)
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
func (d *inboundDecoder) system(c *inContent) ([]chat.Message, *RequestError) {
	switch c.Kind {
	case contentAbsent:
		return nil, nil
	case contentString:
		if c.Text.empty() {
			return nil, nil
		}
		return []chat.Message{{Role: "system", Content: c.Text.content()}}, nil
	}
	blocks, rerr := blocksOf(c, nil, "system")
	if rerr != nil {
		return nil, rerr
	}
	var out []chat.Message
	for j := range blocks {
		b := &blocks[j]
		if b.Type != "text" {
			at := paramPath{name: "system", index: j}
			return nil, invalidParam(at.member(".type"), "the system prompt takes only text blocks, not %q", b.Type)
		}
		if !b.Text.empty() {
			out = append(out, chat.Message{Role: "system", Content: b.Text.content()})
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

// knownBlockType reports whether DecodeRequest reads content blocks of
// type t.
func knownBlockType(t string) bool {
	switch t {
	case "text", "image", "document", "tool_use", "tool_result", "thinking", "redacted_thinking":
		return true
	}
	return false
}

// blocksOf returns the blocks of c, the member name of the element up,
// which must be an array of content blocks. A block that is no object, has
// no type, or has a member of a wrong type is an error; a block of a type
// DecodeRequest does not read only needs its type.
func blocksOf(c *inContent, up *paramPath, name string) ([]inBlock, *RequestError) {
	if c.Kind != contentArray {
		return nil, invalidParam(up.member(name), "must be a string or an array of content blocks")
	}
	for j := range c.Blocks {
		b := &c.Blocks[j]
		at := paramPath{up: up, name: name, index: j}
		switch {
		case !b.IsObject:
			return nil, invalidParam(at.String(), "a content block must be an object")
		case b.typeBad != nil:
			return nil, b.typeBad.in(at.String())
		case b.Type == "":
			return nil, invalidParam(at.member(".type"), "field required")
		case knownBlockType(b.Type) && b.bad != nil:
			// Members of a block of another type may have shapes of
			// their own; the type is enough to say it has no canonical
			// form.
			return nil, b.bad.in(at.String())
		}
	}
	return c.Blocks, nil
}

// message translates one message, at, into canonical messages appended to
// out.
func (d *inboundDecoder) message(out []chat.Message, m *inMessage, at *paramPath) ([]chat.Message, *RequestError) {
	if !m.IsObject {
		return nil, invalidParam(at.String(), "a message must be an object")
	}
	if m.bad != nil {
		return nil, m.bad.in(at.String())
	}
	if m.Role != "user" && m.Role != "assistant" {
		return nil, invalidParam(at.member(".role"), "must be \"user\" or \"assistant\", not %q", m.Role)
	}
	switch m.Content.Kind {
	case contentAbsent:
		return nil, invalidParam(at.member(".content"), "field required")
	case contentString:
		return append(out, chat.Message{Role: m.Role, Content: m.Content.Text.content()}), nil
	}
	blocks, rerr := blocksOf(&m.Content, at, ".content")
	if rerr != nil {
		return nil, rerr
	}
	if m.Role == "assistant" {
		msg, rerr := d.assistant(blocks, at)
		if rerr != nil {
			return nil, rerr
		}
		return append(out, msg), nil
	}
	return d.user(out, blocks, at)
}

// user translates the blocks of a user message, msg, into messages
// appended to out: its tool results first, as tool messages, then the rest
// as one user message.
func (d *inboundDecoder) user(out []chat.Message, blocks []inBlock, msg *paramPath) ([]chat.Message, *RequestError) {
	if len(blocks) == 1 && blocks[0].Type == "text" {
		// What the loop below makes of it, without decoding the text.
		return append(out, chat.Message{Role: "user", Content: blocks[0].Text.content()}), nil
	}
	var moved, parts []chat.Part
	results := 0
	for j := range blocks {
		b := &blocks[j]
		at := paramPath{up: msg, name: ".content", index: j}
		switch b.Type {
		case "tool_result":
			result, media, rerr := d.toolResult(b, &at)
			if rerr != nil {
				return nil, rerr
			}
			out = append(out, result)
			results++
			moved = append(moved, media...)
		case "tool_use", "thinking", "redacted_thinking":
			return nil, invalidParam(at.member(".type"), "%s blocks belong in assistant messages", b.Type)
		default:
			var rerr *RequestError
			if parts, rerr = d.appendParts(parts, b, &at); rerr != nil {
				return nil, rerr
			}
		}
	}
	if all := append(moved, parts...); len(all) > 0 || results == 0 {
		out = append(out, chat.Message{Role: "user", Content: contentOfParts(all)})
	}
	return out, nil
}

// toolResult translates a tool_result block, at, into a tool message, and
// returns the images and documents it held apart, for the user message
// after it.
func (d *inboundDecoder) toolResult(b *inBlock, at *paramPath) (chat.Message, []chat.Part, *RequestError) {
	msg := chat.Message{Role: "tool", ToolCallID: b.ToolUseID}
	if b.ToolUseID == "" {
		return msg, nil, invalidParam(at.member(".tool_use_id"), "field required")
	}
	var texts, media []chat.Part
	switch b.Content.Kind {
	case contentAbsent:
	case contentString:
		if !b.IsError {
			msg.Content = b.Content.Text.content() // what contentOfParts makes of the one text
			return msg, nil, nil
		}
		texts = append(texts, chat.Part{Type: "text", Text: b.Content.Text.String()})
	default:
		blocks, rerr := blocksOf(&b.Content, at, ".content")
		if rerr != nil {
			return msg, nil, rerr
		}
		if !b.IsError && len(blocks) == 1 && blocks[0].Type == "text" {
			// What the loop below makes of it, without decoding the text.
			msg.Content = blocks[0].Text.content()
			return msg, nil, nil
		}
		var ps []chat.Part
		for k := range blocks {
			inner := &blocks[k]
			innerAt := paramPath{up: at, name: ".content", index: k}
			switch inner.Type {
			case "tool_result", "tool_use", "thinking", "redacted_thinking":
				return msg, nil, invalidParam(innerAt.member(".type"), "a tool result cannot hold %s blocks", inner.Type)
			}
			if ps, rerr = d.appendParts(ps[:0], inner, &innerAt); rerr != nil {
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

// appendParts translates a text, image or document block of user content,
// at, into parts appended to out.
func (d *inboundDecoder) appendParts(out []chat.Part, b *inBlock, at *paramPath) ([]chat.Part, *RequestError) {
	switch b.Type {
	case "text":
		if b.Text.empty() {
			return out, nil // Anthropic refuses empty text blocks; nothing is lost
		}
		return append(out, chat.Part{Type: "text", Text: b.Text.String()}), nil
	case "image":
		return d.image(out, b.Source, at)
	case "document":
		return d.document(out, b, at)
	case "tool_result", "tool_use", "thinking", "redacted_thinking":
		return nil, invalidParam(at.member(".type"), "a %s block cannot be here", b.Type)
	}
	d.skip(at, ".type", "content blocks of type %q are not supported on a non-Anthropic deployment", b.Type)
	return out, nil
}

// image translates the source of an image block, at, into an image_url
// part appended to out.
func (d *inboundDecoder) image(out []chat.Part, src *inSource, at *paramPath) ([]chat.Part, *RequestError) {
	if src == nil {
		return nil, invalidParam(at.member(".source"), "field required")
	}
	switch src.Type {
	case "base64":
		if src.MediaType == "" {
			return nil, invalidParam(at.member(".source.media_type"), "field required")
		}
		if src.Data == "" {
			return nil, invalidParam(at.member(".source.data"), "field required")
		}
		return append(out, chat.Part{Type: "image_url", ImageURL: &chat.ImageURL{URL: "data:" + src.MediaType + ";base64," + src.Data}}), nil
	case "url":
		if src.URL == "" {
			return nil, invalidParam(at.member(".source.url"), "field required")
		}
		return append(out, chat.Part{Type: "image_url", ImageURL: &chat.ImageURL{URL: src.URL}}), nil
	case "":
		return nil, invalidParam(at.member(".source.type"), "field required")
	}
	d.skip(at, ".source.type", "image sources of type %q are not supported on a non-Anthropic deployment", src.Type)
	return out, nil
}

// document translates a document block, at, into parts appended to out: a
// PDF into a file part, text into text parts.
func (d *inboundDecoder) document(out []chat.Part, b *inBlock, at *paramPath) ([]chat.Part, *RequestError) {
	src := b.Source
	if src == nil {
		return nil, invalidParam(at.member(".source"), "field required")
	}
	switch src.Type {
	case "base64":
		if src.Data == "" {
			return nil, invalidParam(at.member(".source.data"), "field required")
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
			return nil, invalidParam(at.String(), "%v", err)
		}
		return append(out, chat.Part{Type: "file", Extra: chat.Extra{"file": file}}), nil
	case "text":
		if src.Data == "" {
			return out, nil
		}
		return append(out, chat.Part{Type: "text", Text: src.Data}), nil
	case "content":
		return d.documentContent(out, &src.Content, at)
	case "":
		return nil, invalidParam(at.member(".source.type"), "field required")
	}
	d.skip(at, ".source.type", "document sources of type %q are not supported on a non-Anthropic deployment", src.Type)
	return out, nil
}

// documentContent translates the content of a document's content source,
// the document at, into parts appended to out.
func (d *inboundDecoder) documentContent(out []chat.Part, c *inContent, at *paramPath) ([]chat.Part, *RequestError) {
	if c.Kind == contentString {
		if c.Text.empty() {
			return out, nil
		}
		return append(out, chat.Part{Type: "text", Text: c.Text.String()}), nil
	}
	blocks, rerr := blocksOf(c, at, ".source.content")
	if rerr != nil {
		return nil, rerr
	}
	for j := range blocks {
		inner := &blocks[j]
		innerAt := paramPath{up: at, name: ".source.content", index: j}
		switch inner.Type {
		case "text":
			if !inner.Text.empty() {
				out = append(out, chat.Part{Type: "text", Text: inner.Text.String()})
			}
		case "image":
			// Not by appendParts: a path built in a recursion would
			// have to be on the heap.
			if out, rerr = d.image(out, inner.Source, &innerAt); rerr != nil {
				return nil, rerr
			}
		default:
			return nil, invalidParam(innerAt.member(".type"), "a document's content takes only text and image blocks, not %q", inner.Type)
		}
	}
	return out, nil
}

// assistant translates the blocks of an assistant message, msg, into one
// message.
func (d *inboundDecoder) assistant(blocks []inBlock, msg *paramPath) (chat.Message, *RequestError) {
	out := chat.Message{Role: "assistant"}
	var texts []jsonString
	var thoughts []string
	for j := range blocks {
		b := &blocks[j]
		at := paramPath{up: msg, name: ".content", index: j}
		switch b.Type {
		case "text":
			if !b.Text.empty() {
				texts = append(texts, b.Text)
			}
		case "thinking":
			if b.Thinking != "" {
				thoughts = append(thoughts, b.Thinking)
			}
		case "redacted_thinking":
			// Encrypted, for Anthropic alone.
		case "tool_use":
			call, rerr := toolCallOfBlock(b, &at)
			if rerr != nil {
				return out, rerr
			}
			out.ToolCalls = append(out.ToolCalls, call)
		case "image", "document", "tool_result":
			return out, invalidParam(at.member(".type"), "%s blocks belong in user messages", b.Type)
		default:
			d.skip(&at, ".type", "content blocks of type %q are not supported on a non-Anthropic deployment", b.Type)
		}
	}
	out.ReasoningContent = strings.Join(thoughts, "\n\n")
	switch {
	case len(texts) == 0 && len(out.ToolCalls) > 0:
		out.Content = json.RawMessage("null")
	case len(texts) == 1:
		out.Content = texts[0].content() // what contentOfParts makes of the one text
	default:
		parts := make([]chat.Part, len(texts))
		for i, t := range texts {
			parts[i] = chat.Part{Type: "text", Text: t.String()}
		}
		out.Content = contentOfParts(parts)
	}
	return out, nil
}

// toolCallOfBlock translates a tool_use block, at.
func toolCallOfBlock(b *inBlock, at *paramPath) (chat.ToolCall, *RequestError) {
	call := chat.ToolCall{ID: b.ID, Type: "function", Function: chat.FunctionCall{Name: b.Name, Arguments: emptyObject}}
	if b.ID == "" {
		return call, invalidParam(at.member(".id"), "field required")
	}
	if b.Name == "" {
		return call, invalidParam(at.member(".name"), "field required")
	}
	if b.Input == nil || string(b.Input) == "null" {
		return call, nil
	}
	if b.Input[0] != '{' {
		return call, invalidParam(at.member(".input"), "must be an object")
	}
	if !b.InputSpaced {
		call.Function.Arguments = string(b.Input) // compact already
		return call, nil
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, b.Input); err != nil {
		return call, invalidParam(at.member(".input"), "must be an object")
	}
	call.Function.Arguments = compact.String()
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
	b, err := chat.MarshalParts(parts)
	if err != nil {
		return chat.TextContent("") // parts are built here from strings: they encode
	}
	return b
}

// tools translates custom tools into function tools; Anthropic-defined
// tools (web_search_…, bash_…, text_editor_…, computer_…) are left out.
func (d *inboundDecoder) tools(in []inTool) ([]chat.Tool, *RequestError) {
	var out []chat.Tool
	for i := range in {
		t := &in[i]
		at := paramPath{name: "tools", index: i}
		if !t.IsObject {
			return nil, invalidParam(at.String(), "a tool must be an object")
		}
		if t.bad != nil {
			return nil, t.bad.in(at.String())
		}
		if t.Type != "" && t.Type != "custom" {
			d.skip(&at, ".type", "tool type %q is an Anthropic server tool, not supported on a non-Anthropic deployment", t.Type)
			continue
		}
		if t.Name == "" {
			return nil, invalidParam(at.member(".name"), "field required")
		}
		if t.InputSchema == nil || string(t.InputSchema) == "null" {
			return nil, invalidParam(at.member(".input_schema"), "field required")
		}
		if t.InputSchema[0] != '{' {
			return nil, invalidParam(at.member(".input_schema"), "must be a JSON Schema object")
		}
		out = append(out, chat.Tool{Type: "function", Function: &chat.FunctionDef{
			Name: t.Name, Description: t.Description, Parameters: bytes.Clone(t.InputSchema), Strict: t.Strict}})
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

// Reading the body.
//
// The body is read in one pass by jsonReader, a reader of JSON text made
// for it. encoding/json checks and scans the text anew for every level kept
// raw or read by an UnmarshalJSON method, and the content of a Messages
// request nests deep and takes two shapes: a tool result's text is in a
// block, in a message's content, in messages. Read that way, a 100 KB
// Claude Code conversation took 1.9 ms to unmarshal, before any
// translation; jsonReader reads and checks each byte once.
//
// It follows the rules of encoding/json, which the tests hold it to: it
// accepts and refuses the same texts, matches members to fields as it does
// (the same name, else the same name under Unicode case folding), decodes
// strings as it does, lets null leave a value as it is but clear a pointer
// or a slice, and lets the last of repeated members win (a repeated object
// is read into the same Go value). A body that is no valid JSON gets
// encoding/json's own error.

// Names of the members each wire type reads.
var (
	requestFields      = []string{"model", "max_tokens", "system", "messages", "metadata", "stop_sequences", "stream", "temperature", "top_p", "top_k", "thinking", "output_config", "output_format", "tools", "tool_choice"}
	messageFields      = []string{"role", "content"}
	blockFields        = []string{"type", "text", "source", "id", "name", "input", "tool_use_id", "content", "is_error", "thinking", "title"}
	sourceFields       = []string{"type", "media_type", "data", "url", "content"}
	toolFields         = []string{"type", "name", "description", "input_schema", "strict"}
	thinkingFields     = []string{"type", "budget_tokens"}
	outputConfigFields = []string{"effort", "format"}
	outputFormatFields = []string{"type", "schema"}
	metadataFields     = []string{"user_id"}
	toolChoiceFields   = []string{"type", "name", "disable_parallel_tool_use"}
)

// readRequest reads the body, an object, into in.
func (r *jsonReader) readRequest(in *inRequest) {
	bad := &in.bad
	for ok := r.open('{'); ok; ok = r.more('}') {
		switch r.field(requestFields) {
		case "model":
			readPointer(r, &in.Model, func(s *string) { r.readString(s, bad, "model") })
		case "max_tokens":
			in.MaxTokens, _ = r.raw()
		case "system":
			r.readContent(&in.System)
		case "messages":
			readSlice(r, &in.Messages, bad, "messages", r.readMessage)
		case "metadata":
			readPointer(r, &in.Metadata, func(m *wireMetadata) { r.readMetadata(m, bad) })
		case "stop_sequences":
			readSlice(r, &in.StopSequences, bad, "stop_sequences", func(s *string) { r.readString(s, bad, "stop_sequences") })
		case "stream":
			r.readBool(&in.Stream, bad, "stream")
		case "temperature":
			readPointer(r, &in.Temperature, func(f *float64) { r.readFloat(f, bad, "temperature") })
		case "top_p":
			readPointer(r, &in.TopP, func(f *float64) { r.readFloat(f, bad, "top_p") })
		case "top_k":
			readPointer(r, &in.TopK, func(n *int) { r.readInt(n, bad, "top_k") })
		case "thinking":
			readPointer(r, &in.Thinking, func(t *inThinking) { r.readThinking(t, bad) })
		case "output_config":
			readPointer(r, &in.OutputConfig, func(c *inOutputConfig) { r.readOutputConfig(c, bad) })
		case "output_format":
			readPointer(r, &in.OutputFormat, func(f *inOutputFormat) { r.readOutputFormat(f, bad, "output_format") })
		case "tools":
			readSlice(r, &in.Tools, bad, "tools", r.readTool)
		case "tool_choice":
			readPointer(r, &in.ToolChoice, func(tc *wireToolChoice) { r.readToolChoice(tc, bad) })
		default:
			r.skip()
		}
	}
}

// readMessage reads an element of messages. Like the json.RawMessage each
// element used to be, it replaces what m held.
func (r *jsonReader) readMessage(m *inMessage) {
	*m = inMessage{}
	if r.peek() != '{' {
		r.skip()
		return
	}
	m.IsObject = true
	for ok := r.open('{'); ok; ok = r.more('}') {
		switch r.field(messageFields) {
		case "role":
			r.readString(&m.Role, &m.bad, "role")
		case "content":
			r.readContent(&m.Content)
		default:
			r.skip()
		}
	}
}

// readContent reads a member that is a string or an array of blocks.
func (r *jsonReader) readContent(c *inContent) {
	switch r.peek() {
	case '"':
		*c = inContent{Kind: contentString, Text: r.jsonStr()}
	case '[':
		*c = inContent{Kind: contentArray, Blocks: r.readBlocks()}
	case 'n':
		r.skip()
		*c = inContent{}
	default:
		r.skip()
		*c = inContent{Kind: contentOther}
	}
}

// readBlocks reads an array of content blocks.
func (r *jsonReader) readBlocks() []inBlock {
	blocks := []inBlock{}
	for ok := r.open('['); ok; ok = r.more(']') {
		blocks = append(blocks, inBlock{})
		r.readBlock(&blocks[len(blocks)-1])
	}
	return blocks
}

// readBlock reads a content block, whatever its type.
func (r *jsonReader) readBlock(b *inBlock) {
	if r.peek() != '{' {
		r.skip()
		return
	}
	b.IsObject = true
	for ok := r.open('{'); ok; ok = r.more('}') {
		switch r.field(blockFields) {
		case "type":
			r.readString(&b.Type, &b.typeBad, "type")
			if b.bad == nil {
				b.bad = b.typeBad
			}
		case "text":
			r.readJSONString(&b.Text, &b.bad, "text")
		case "source":
			readPointer(r, &b.Source, func(s *inSource) { r.readSource(s, &b.bad) })
		case "id":
			r.readString(&b.ID, &b.bad, "id")
		case "name":
			r.readString(&b.Name, &b.bad, "name")
		case "input":
			b.Input, b.InputSpaced = r.raw()
		case "tool_use_id":
			r.readString(&b.ToolUseID, &b.bad, "tool_use_id")
		case "content":
			r.readContent(&b.Content)
		case "is_error":
			r.readBool(&b.IsError, &b.bad, "is_error")
		case "thinking":
			r.readString(&b.Thinking, &b.bad, "thinking")
		case "title":
			r.readString(&b.Title, &b.bad, "title")
		default:
			r.skip()
		}
	}
}

// readSource reads the source of an image or a document; a member of a
// wrong type is noted in the block's bad.
func (r *jsonReader) readSource(s *inSource, bad **typeError) {
	for ok := r.object(bad, "source"); ok; ok = r.more('}') {
		switch r.field(sourceFields) {
		case "type":
			r.readString(&s.Type, bad, "source.type")
		case "media_type":
			r.readString(&s.MediaType, bad, "source.media_type")
		case "data":
			r.readString(&s.Data, bad, "source.data")
		case "url":
			r.readString(&s.URL, bad, "source.url")
		case "content":
			r.readContent(&s.Content)
		default:
			r.skip()
		}
	}
}

// readTool reads an element of tools. Like the json.RawMessage each
// element used to be, it replaces what t held.
func (r *jsonReader) readTool(t *inTool) {
	*t = inTool{}
	if r.peek() != '{' {
		r.skip()
		return
	}
	t.IsObject = true
	for ok := r.open('{'); ok; ok = r.more('}') {
		switch r.field(toolFields) {
		case "type":
			r.readString(&t.Type, &t.bad, "type")
		case "name":
			r.readString(&t.Name, &t.bad, "name")
		case "description":
			r.readString(&t.Description, &t.bad, "description")
		case "input_schema":
			t.InputSchema, _ = r.raw()
		case "strict":
			readPointer(r, &t.Strict, func(b *bool) { r.readBool(b, &t.bad, "strict") })
		default:
			r.skip()
		}
	}
}

func (r *jsonReader) readThinking(t *inThinking, bad **typeError) {
	for ok := r.object(bad, "thinking"); ok; ok = r.more('}') {
		switch r.field(thinkingFields) {
		case "type":
			r.readString(&t.Type, bad, "thinking.type")
		case "budget_tokens":
			r.readInt(&t.BudgetTokens, bad, "thinking.budget_tokens")
		default:
			r.skip()
		}
	}
}

func (r *jsonReader) readOutputConfig(c *inOutputConfig, bad **typeError) {
	for ok := r.object(bad, "output_config"); ok; ok = r.more('}') {
		switch r.field(outputConfigFields) {
		case "effort":
			r.readString(&c.Effort, bad, "output_config.effort")
		case "format":
			readPointer(r, &c.Format, func(f *inOutputFormat) { r.readOutputFormat(f, bad, "output_config.format") })
		default:
			r.skip()
		}
	}
}

// readOutputFormat reads an output format, the member at path.
func (r *jsonReader) readOutputFormat(f *inOutputFormat, bad **typeError, path string) {
	for ok := r.object(bad, path); ok; ok = r.more('}') {
		switch r.field(outputFormatFields) {
		case "type":
			r.readString(&f.Type, bad, path+".type")
		case "schema":
			f.Schema, _ = r.raw()
		default:
			r.skip()
		}
	}
}

func (r *jsonReader) readMetadata(m *wireMetadata, bad **typeError) {
	for ok := r.object(bad, "metadata"); ok; ok = r.more('}') {
		switch r.field(metadataFields) {
		case "user_id":
			r.readString(&m.UserID, bad, "metadata.user_id")
		default:
			r.skip()
		}
	}
}

func (r *jsonReader) readToolChoice(tc *wireToolChoice, bad **typeError) {
	for ok := r.object(bad, "tool_choice"); ok; ok = r.more('}') {
		switch r.field(toolChoiceFields) {
		case "type":
			r.readString(&tc.Type, bad, "tool_choice.type")
		case "name":
			r.readString(&tc.Name, bad, "tool_choice.name")
		case "disable_parallel_tool_use":
			r.readBool(&tc.DisableParallelToolUse, bad, "tool_choice.disable_parallel_tool_use")
		default:
			r.skip()
		}
	}
}

// Reading members into Go values as encoding/json does. A member of a
// wrong type is skipped and noted in bad, under the path field.

// readString reads a string member.
func (r *jsonReader) readString(dst *string, bad **typeError, field string) {
	switch c := r.peek(); c {
	case '"':
		*dst = r.str()
	case 'n':
		r.skip()
	default:
		noteTypeError(bad, field, "a string", jsonKind(c))
		r.skip()
	}
}

// readJSONString reads a string member, leaving it undecoded.
func (r *jsonReader) readJSONString(dst *jsonString, bad **typeError, field string) {
	switch c := r.peek(); c {
	case '"':
		*dst = r.jsonStr()
	case 'n':
		r.skip()
	default:
		noteTypeError(bad, field, "a string", jsonKind(c))
		r.skip()
	}
}

// readBool reads a true-or-false member.
func (r *jsonReader) readBool(dst *bool, bad **typeError, field string) {
	switch c := r.peek(); c {
	case 't', 'f':
		*dst = c == 't'
		r.skip()
	case 'n':
		r.skip()
	default:
		noteTypeError(bad, field, "true or false", jsonKind(c))
		r.skip()
	}
}

// readInt reads an integer member.
func (r *jsonReader) readInt(dst *int, bad **typeError, field string) {
	if c := r.peek(); !isNumberStart(c) {
		if c != 'n' {
			noteTypeError(bad, field, "an integer", jsonKind(c))
		}
		r.skip()
		return
	}
	text := r.literal()
	n, err := strconv.ParseInt(string(text), 10, strconv.IntSize)
	if err != nil {
		noteTypeError(bad, field, "an integer", "number "+string(text))
		return
	}
	*dst = int(n)
}

// readFloat reads a number member.
func (r *jsonReader) readFloat(dst *float64, bad **typeError, field string) {
	if c := r.peek(); !isNumberStart(c) {
		if c != 'n' {
			noteTypeError(bad, field, "a number", jsonKind(c))
		}
		r.skip()
		return
	}
	text := r.literal()
	f, err := strconv.ParseFloat(string(text), 64)
	if err != nil {
		noteTypeError(bad, field, "a number", "number "+string(text))
		return
	}
	*dst = f
}

// object begins reading a member that must be an object, for a loop over
// its members with more('}'): it reports whether a member follows. Another
// value (null aside, which leaves the Go value as it is) is skipped and
// noted in bad.
func (r *jsonReader) object(bad **typeError, field string) bool {
	switch c := r.peek(); c {
	case '{':
		return r.open('{')
	case 'n':
	default:
		noteTypeError(bad, field, "an object", jsonKind(c))
	}
	r.skip()
	return false
}

// readPointer reads a member whose Go type is a pointer: null sets *dst to
// nil; another value is read by read into *dst, allocated first if nil.
func readPointer[T any](r *jsonReader, dst **T, read func(*T)) {
	if r.peek() == 'n' {
		r.skip()
		*dst = nil
		return
	}
	if *dst == nil {
		*dst = new(T)
	}
	read(*dst)
}

// readSlice reads an array member into a slice, each element by read: null
// sets *dst to nil; an array of n elements leaves n in *dst, its elements
// read into those *dst held already (as encoding/json reuses them); another
// value is skipped and noted in bad.
func readSlice[T any](r *jsonReader, dst *[]T, bad **typeError, field string, read func(*T)) {
	switch c := r.peek(); c {
	case '[':
	case 'n':
		r.skip()
		*dst = nil
		return
	default:
		noteTypeError(bad, field, "an array", jsonKind(c))
		r.skip()
		return
	}
	s, n := *dst, 0
	for ok := r.open('['); ok; ok = r.more(']') {
		if n == cap(s) {
			s = slices.Grow(s, 1)
		}
		if n >= len(s) {
			s = s[:n+1]
		}
		read(&s[n])
		n++
	}
	if n == 0 {
		s = []T{}
	}
	*dst = s[:n]
}

// jsonKind names the JSON type of a value that starts with c, as
// encoding/json's errors do.
func jsonKind(c byte) string {
	switch c {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "bool"
	}
	return "number"
}

func isNumberStart(c byte) bool {
	return c == '-' || '0' <= c && c <= '9'
}

// jsonReader reads a JSON text one value at a time, checking it as
// strictly as encoding/json does. A syntax error stops it: failed is set,
// and from then on every value reads as nothing and every object and array
// as empty, so that the decoding ends without more checks.
//
// Objects and arrays are read in a loop, each member's value or each
// element by a read or a skip:
//
//	for ok := r.open('{'); ok; ok = r.more('}') {
//		switch r.field(names) { … }
//	}
type jsonReader struct {
	data   []byte
	pos    int // of the next byte to read
	depth  int // of the objects and arrays open
	spaced bool
	failed bool
}

// maxJSONDepth is how deep objects and arrays may nest, encoding/json's
// limit.
const maxJSONDepth = 10000

func (r *jsonReader) fail() {
	r.failed = true
	r.pos = len(r.data)
}

// peek skips white space and returns the byte that comes next: the first
// of a value ('{', '[', '"', 't', 'f', 'n', '-' or a digit) or of a
// separator; 0 at the end of the text (a byte no value starts with
// either).
func (r *jsonReader) peek() byte {
	for i := r.pos; i < len(r.data); i++ {
		switch c := r.data[i]; c {
		case ' ', '\t', '\n', '\r':
		default:
			if i > r.pos {
				r.spaced = true
				r.pos = i
			}
			return c
		}
	}
	r.pos = len(r.data)
	return 0
}

// end checks that nothing but white space follows the value read.
func (r *jsonReader) end() {
	r.peek()
	if r.pos < len(r.data) {
		r.fail()
	}
}

// open reads the bracket, '{' or '[', that must come next, and reports
// whether a member or an element follows it.
func (r *jsonReader) open(bracket byte) bool {
	if r.peek() != bracket {
		r.fail()
		return false
	}
	r.pos++
	r.depth++
	if r.depth > maxJSONDepth {
		r.fail()
		return false
	}
	return !r.closing(bracket + 2) // '}' and ']' are two past their openers
}

// more reads what follows a member or an element: a comma, and then it
// reports that another follows, or the closing bracket.
func (r *jsonReader) more(bracket byte) bool {
	if r.peek() == ',' {
		r.pos++
		return true
	}
	if !r.closing(bracket) {
		r.fail()
	}
	return false
}

// closing reads bracket, '}' or ']', if it comes next.
func (r *jsonReader) closing(bracket byte) bool {
	if r.peek() != bracket {
		return false
	}
	r.pos++
	r.depth--
	return true
}

// field reads the name of a member and the colon after it, and returns
// which of names it is, matched as encoding/json matches members to struct
// fields; "" for none of them.
func (r *jsonReader) field(names []string) string {
	if r.peek() != '"' {
		r.fail()
		return ""
	}
	name, plain, _ := r.stringBody()
	if r.peek() != ':' {
		r.fail()
		return ""
	}
	r.pos++
	if !plain {
		name = []byte(jsonstring.Unquote(name))
	}
	return matchField(name, names)
}

// matchField returns the one of names that name is: the same bytes, else
// the same under Unicode case folding (bytes.EqualFold, which is how
// encoding/json compares names); "" for none.
func matchField(name []byte, names []string) string {
	for _, n := range names {
		if string(name) == n {
			return n
		}
	}
	for _, n := range names {
		if bytes.EqualFold(name, []byte(n)) {
			return n
		}
	}
	return ""
}

// skip reads the value that comes next.
func (r *jsonReader) skip() {
	switch r.peek() {
	case '{':
		for ok := r.open('{'); ok; ok = r.more('}') {
			r.field(nil)
			r.skip()
		}
	case '[':
		for ok := r.open('['); ok; ok = r.more(']') {
			r.skip()
		}
	case '"':
		r.stringBody()
	default:
		r.literal()
	}
}

// raw reads the value that comes next and returns its text, and whether
// there is white space between its tokens.
func (r *jsonReader) raw() (text []byte, spaced bool) {
	r.peek()
	start := r.pos
	r.spaced = false
	r.skip()
	return r.data[start:r.pos], r.spaced
}

// literal reads the number, true, false or null that comes next and
// returns its text.
func (r *jsonReader) literal() []byte {
	c := r.peek()
	start := r.pos
	switch c {
	case 't':
		r.word("true")
	case 'f':
		r.word("false")
	case 'n':
		r.word("null")
	default:
		r.number()
	}
	return r.data[start:r.pos]
}

// word reads w, which must come next.
func (r *jsonReader) word(w string) {
	if !bytes.HasPrefix(r.data[r.pos:], []byte(w)) {
		r.fail()
		return
	}
	r.pos += len(w)
}

// number reads a number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (r *jsonReader) number() {
	d, i := r.data, r.pos
	if i < len(d) && d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case i < len(d) && '1' <= d[i] && d[i] <= '9':
		i = skipDigits(d, i+1)
	default:
		r.fail()
		return
	}
	if i < len(d) && d[i] == '.' {
		if i+1 >= len(d) || !isDigit(d[i+1]) {
			r.fail()
			return
		}
		i = skipDigits(d, i+1)
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if i >= len(d) || !isDigit(d[i]) {
			r.fail()
			return
		}
		i = skipDigits(d, i)
	}
	r.pos = i
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// skipDigits returns the index of the first byte from i on in d that is
// no digit.
func skipDigits(d []byte, i int) int {
	for i < len(d) && isDigit(d[i]) {
		i++
	}
	return i
}

// str reads the string that comes next and returns it, decoded as
// encoding/json decodes strings.
func (r *jsonReader) str() string {
	body, plain, _ := r.stringBody()
	if plain {
		return string(body)
	}
	return jsonstring.Unquote(body)
}

// jsonStr reads the string that comes next and returns it undecoded.
func (r *jsonReader) jsonStr() jsonString {
	start := r.pos
	_, plain, exact := r.stringBody()
	if r.failed {
		return jsonString{}
	}
	return jsonString{raw: r.data[start:r.pos:r.pos], plain: plain, exact: exact}
}

// jsonString is a string of the body, read but not decoded: most texts of
// a request go into the canonical one as the JSON strings they came as
// (content), never decoded, nor escaped anew; the few that are needed as
// Go strings are decoded then (String).
type jsonString struct {
	raw   []byte // the JSON text, quotes included; nil for a string absent or null
	plain bool   // the bytes between the quotes are the value as they are
	exact bool   // raw means the same to any JSON reader as to encoding/json (see stringBody)
}

// String returns the string's value, decoded as encoding/json decodes
// strings.
func (s jsonString) String() string {
	if len(s.raw) < 2 {
		return ""
	}
	body := s.raw[1 : len(s.raw)-1]
	if s.plain {
		return string(body)
	}
	return jsonstring.Unquote(body)
}

// empty reports whether the string is "" (or absent): every escape and
// every byte stands for at least one character.
func (s jsonString) empty() bool { return len(s.raw) <= 2 }

// content returns the string as a canonical message's content: the JSON
// text as the client sent it when it means the same to every reader, else
// the value encoded anew (chat.TextContent), which is what it means to
// encoding/json. The text shares its bytes with the body, as Native does.
func (s jsonString) content() json.RawMessage {
	if s.exact && len(s.raw) >= 2 {
		return s.raw
	}
	return chat.TextContent(s.String())
}

// plainByte marks the bytes a JSON string holds as they are: ASCII, but
// for control characters, the quote and the backslash.
var plainByte = func() (plain [256]bool) {
	for c := ' '; c < utf8.RuneSelf; c++ {
		plain[c] = c != '"' && c != '\\'
	}
	return plain
}()

// stringBody reads the string that comes next and returns the bytes
// between its quotes; plain reports that they are its value as they are,
// without escapes, and UTF-8 throughout. exact reports that the string
// means the same to every JSON reader as to encoding/json: it is UTF-8
// throughout and has no \u escape of half a surrogate pair without the
// other half, both of which encoding/json reads as U+FFFD and other readers
// may refuse or keep.
func (r *jsonReader) stringBody() (body []byte, plain, exact bool) {
	d := r.data
	start := r.pos + 1 // past the quote
	plain, exact = true, true
	for i := start; i < len(d); {
		c := d[i]
		switch {
		case plainByte[c]:
			i++
		case c == '"':
			r.pos = i + 1
			return d[start:i], plain, exact
		case c == '\\':
			n := jsonstring.EscapeLen(d[i:])
			if n == 0 {
				r.fail()
				return nil, false, false
			}
			if n == 6 && exact {
				if ch := jsonstring.Hex4(d[i+2:]); utf16.IsSurrogate(ch) {
					if ch < 0xDC00 && jsonstring.EscapeLen(d[i+6:]) == 6 && d[i+7] == 'u' {
						if low := jsonstring.Hex4(d[i+8:]); 0xDC00 <= low && low <= 0xDFFF {
							n = 12 // a pair
						}
					}
					exact = n == 12
				}
			}
			i += n
			plain = false
		case c < ' ':
			r.fail() // a control character
			return nil, false, false
		default:
			ch, size := utf8.DecodeRune(d[i:])
			if ch == utf8.RuneError && size == 1 {
				plain, exact = false, false // not UTF-8: it becomes U+FFFD
			}
			i += size
		}
	}
	r.fail()
	return nil, false, false
}
