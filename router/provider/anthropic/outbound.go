package anthropic

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/detour-gateway/detour/chat"
)

// This file writes the Messages API as a client's dialect: the answer to a
// client that posted to /v1/messages, whole (EncodeResponse), streamed
// (StreamEncoder) or failed (EncodeError), made from the canonical answer.
//
// Usage. OpenAI's prompt_tokens count every prompt token, those read from
// the prompt cache (prompt_tokens_details.cached_tokens) included;
// Anthropic's input_tokens count only the tokens neither read from nor
// written to the cache, which cache_read_input_tokens and
// cache_creation_input_tokens count. So
//
//	cache_read_input_tokens     = cached_tokens
//	cache_creation_input_tokens = the cache writes, where the answer says
//	input_tokens                = prompt_tokens − cache reads − cache writes
//
// and the three add up to prompt_tokens: the client prices the same
// conversation as Detour does. The canonical usage has no field for cache
// writes; they are read from the members OpenAI-compatible services put
// them in (usage.cache_creation_input_tokens, as LiteLLM and Portkey do;
// prompt_tokens_details.cache_write_tokens, as OpenRouter does), and are 0
// otherwise. Counts are clamped so that none is
// negative and reads plus writes never exceed prompt_tokens.
//
// Thinking. A Messages thinking block carries a signature, with which
// Anthropic checks that the thinking it is given back is its own. An answer
// from another provider has none, so thinking blocks are written with
// "signature": "": every Anthropic SDK declares the member as a required
// string, so an empty one decodes where a missing one may not (typed SDKs
// such as Java's, Swift's and PHP's). DecodeRequest drops signatures on the
// way back in, so other providers never see them. Anthropic itself would
// refuse the empty one should a later turn of the conversation, which
// carries the client's own bytes, be routed to it: thinking it never
// signed cannot go back to it in any form.

// EncodeResponse returns the Messages API answer for resp, the answer to a
// request for model (resp.Model when model is ""). When resp is Anthropic's
// own answer (resp.Native), its bytes are returned unchanged.
//
// The message id is resp.ID without a "chatcmpl-" prefix, with "msg_" in
// front unless it starts so already. Content is, in order, a thinking block
// for reasoning_content, a text block for the text (or the refusal), and a
// tool_use block per tool call, whose input is the parsed arguments ({} when
// they are not a JSON object, as after a cut-off answer). stop_reason is
// max_tokens for finish_reason length, refusal for content_filter,
// tool_use when there are tool calls, end_turn otherwise: a canonical
// answer does not say whether a stop sequence ended it.
func EncodeResponse(resp *chat.Response, model string) ([]byte, error) {
	if resp == nil {
		return nil, errors.New("encode answer: no answer")
	}
	if n := resp.Native; n != nil && n.Dialect == chat.DialectAnthropic && len(n.Body) > 0 {
		return n.Body, nil
	}
	if model == "" {
		model = resp.Model
	}
	out := outMessage{ID: answerID(resp.ID), Type: "message", Role: "assistant", Model: model, Content: []any{}}
	var m chat.Message
	var finish chat.FinishReason
	if c := answerChoice(resp.Choices); c != nil {
		m, finish = c.Message, c.FinishReason
	}
	if m.ReasoningContent != "" {
		out.Content = append(out.Content, outThinking{Type: "thinking", Thinking: m.ReasoningContent})
	}
	text := m.Text()
	if text == "" {
		if refusal, ok := jsonStringValue(m.Extra["refusal"]); ok && refusal != "" {
			text, finish = refusal, "content_filter"
		}
	}
	if text != "" {
		out.Content = append(out.Content, outText{Type: "text", Text: text})
	}
	for n, tc := range m.ToolCalls {
		out.Content = append(out.Content, outToolUse{Type: "tool_use", ID: toolUseID(tc.ID, out.ID, n),
			Name: tc.Function.Name, Input: toolUseInput(tc.Function.Arguments)})
	}
	stop := answerStopReason(finish, len(m.ToolCalls) > 0)
	out.StopReason = &stop
	out.Usage = answerUsage(resp.Usage)
	return appendClientJSON(nil, out), nil
}

// answerChoice is the choice of index 0, else the first; nil for none.
// A Messages answer has one.
func answerChoice(choices []chat.Choice) *chat.Choice {
	for i := range choices {
		if choices[i].Index == 0 {
			return &choices[i]
		}
	}
	if len(choices) > 0 {
		return &choices[0]
	}
	return nil
}

// Wire types of a Messages answer as Detour writes it, members in the order
// Anthropic writes them.
type (
	outMessage struct {
		ID           string   `json:"id"`
		Type         string   `json:"type"` // "message"
		Role         string   `json:"role"` // "assistant"
		Model        string   `json:"model"`
		Content      []any    `json:"content"` // outThinking, outText and outToolUse
		StopReason   *string  `json:"stop_reason"`
		StopSequence *string  `json:"stop_sequence"` // always null
		Usage        outUsage `json:"usage"`
	}

	outText struct {
		Type string `json:"type"` // "text"
		Text string `json:"text"`
	}

	outThinking struct {
		Type      string `json:"type"` // "thinking"
		Thinking  string `json:"thinking"`
		Signature string `json:"signature"` // always "": see the top of this file
	}

	outToolUse struct {
		Type  string          `json:"type"` // "tool_use"
		ID    string          `json:"id"`
		Name  string          `json:"name"`
		Input json.RawMessage `json:"input"`
	}

	// outUsage counts tokens in Anthropic's terms. The cache counts are
	// nil, and left out, only in a message_delta event whose stream
	// carried no usage.
	outUsage struct {
		InputTokens              *int `json:"input_tokens,omitempty"`
		CacheCreationInputTokens *int `json:"cache_creation_input_tokens,omitempty"`
		CacheReadInputTokens     *int `json:"cache_read_input_tokens,omitempty"`
		OutputTokens             int  `json:"output_tokens"`
	}
)

// answerID is the Messages id of the canonical answer id.
func answerID(id string) string {
	id = anthropicIDChars(strings.TrimPrefix(id, "chatcmpl-"))
	switch {
	case id == "":
		return "msg_detour"
	case strings.HasPrefix(id, "msg_"):
		return id
	}
	return "msg_" + id
}

// toolUseID is the id of the n-th tool call of message msgID: the call's
// own id, or one made from the message's when it has none. Anthropic takes
// ids of letters, digits, '_' and '-'; other characters become '_', so a
// client can send the id back to an Anthropic deployment.
func toolUseID(id, msgID string, n int) string {
	if id = anthropicIDChars(id); id != "" {
		return id
	}
	return "toolu_" + strings.TrimPrefix(msgID, "msg_") + "_" + strconv.Itoa(n)
}

// anthropicIDChars replaces the characters an Anthropic id may not hold with '_'.
func anthropicIDChars(id string) string {
	ok := func(r rune) bool {
		return r == '_' || r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
	}
	if strings.IndexFunc(id, func(r rune) bool { return !ok(r) }) < 0 {
		return id
	}
	return strings.Map(func(r rune) rune {
		if ok(r) {
			return r
		}
		return '_'
	}, id)
}

// toolUseInput is a tool call's arguments as a tool_use input: the JSON object
// they hold, or {} when they hold none.
func toolUseInput(args string) json.RawMessage {
	if !isObject([]byte(args)) {
		return json.RawMessage(emptyObject)
	}
	var b bytes.Buffer
	if json.Compact(&b, []byte(args)) != nil {
		return json.RawMessage(emptyObject)
	}
	return b.Bytes()
}

// answerStopReason maps a finish_reason to a stop_reason.
func answerStopReason(f chat.FinishReason, toolCalls bool) string {
	switch f {
	case "length":
		return "max_tokens"
	case "content_filter":
		return "refusal"
	case "tool_calls", "function_call":
		return "tool_use"
	}
	if toolCalls {
		return "tool_use"
	}
	return "end_turn"
}

// answerUsage converts usage to Anthropic's terms (see the top of this
// file); nil counts nothing.
func answerUsage(u *chat.Usage) outUsage {
	var input, read, write, output int
	if u != nil {
		prompt := max(u.PromptTokens, 0)
		if d := u.PromptTokensDetails; d != nil {
			read = min(max(d.CachedTokens, 0), prompt)
		}
		write = min(max(cacheWriteTokens(u), 0), prompt-read)
		input = prompt - read - write
		output = max(u.CompletionTokens, 0)
	}
	return outUsage{InputTokens: &input, CacheCreationInputTokens: &write, CacheReadInputTokens: &read, OutputTokens: output}
}

// cacheWriteTokens reads the prompt tokens written to the provider's cache
// from the members OpenAI-compatible services report them in.
func cacheWriteTokens(u *chat.Usage) int {
	if d := u.PromptTokensDetails; d != nil && d.CacheWriteTokens > 0 {
		return d.CacheWriteTokens
	}
	var n int
	if raw, ok := u.Extra["cache_creation_input_tokens"]; ok && json.Unmarshal(raw, &n) == nil {
		return n
	}
	return 0
}

// appendClientJSON appends v's JSON encoding without escaping <, > and &,
// as Anthropic writes it. v is one of this file's wire types, which always
// encode.
func appendClientJSON(dst []byte, v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return append(dst, emptyObject...)
	}
	return append(dst, bytes.TrimSuffix(b.Bytes(), []byte("\n"))...)
}

// StreamEncoder writes a canonical chunk stream as a Messages event
// stream, each event framed "event: NAME\ndata: JSON\n\n":
//
//	message_start
//	(content_block_start content_block_delta* content_block_stop)*
//	message_delta message_stop
//
// Reasoning becomes a thinking block, text a text block, each tool call a
// tool_use block whose arguments arrive as input_json_delta fragments. A
// change of kind closes the open block and starts the next, so blocks are
// never interleaved and their indexes run 0, 1, 2, …. Fragments of a tool
// call whose block is closed already, which no OpenAI-compatible service is
// known to send, are dropped: a block cannot be reopened.
//
// A chunk carrying Anthropic's own events (Chunk.Native, the upstream spoke
// the Messages API too) is written as those bytes, and from then on the
// encoder adds nothing of its own: chunks without Native bytes are skipped
// and End appends nothing, as the upstream's events are the whole stream.
//
// The zero StreamEncoder is ready for use, and names no model; it is not
// safe for concurrent use.
type StreamEncoder struct {
	model  string
	id     string
	native bool // the stream is Anthropic's own, passed through
	// started is set once message_start is written; ended once End or
	// Error was.
	started, ended bool
	next           int             // index of the next content block
	open           streamBlockKind // kind of the open block
	openTool       int             // canonical index of the tool call the open block streams
	openToolID     string          // and its id as the chunk gave it
	tools          map[int]bool    // indexes of the tool calls whose block was started
	nextTool       int             // one past the highest of them, for a call without index
	hadTool        bool            // a tool_use block was written: the stop reason is tool_use
	finish         chat.FinishReason
	usage          *chat.Usage // the last usage a chunk carried
}

// streamBlockKind is the kind of a content block being streamed.
type streamBlockKind int

const (
	streamBlockNone streamBlockKind = iota
	streamBlockText
	streamBlockThinking
	streamBlockToolUse
)

// NewStreamEncoder returns an encoder for the answer to a request for
// model; "" names the model of the first chunk, the one that answers.
func NewStreamEncoder(model string) *StreamEncoder {
	return &StreamEncoder{model: model}
}

// Chunk appends the events c causes to dst and returns the extended slice.
// The first call writes message_start, its id made from c.ID (as
// EncodeResponse makes it) and its input_tokens from c.Usage when the chunk
// carries it, else 0. Only choice 0 is read. A finish reason and usage are
// kept for End. After End or Error, Chunk appends nothing.
func (e *StreamEncoder) Chunk(dst []byte, c *chat.Chunk) []byte {
	if e.ended || c == nil {
		return dst
	}
	if len(c.Native) > 0 {
		e.native = true
		return append(dst, c.Native...)
	}
	if e.native {
		return dst
	}
	if !e.started {
		dst = e.start(dst, c)
	}
	if c.Usage != nil {
		e.usage = c.Usage
	}
	for _, ch := range c.Choices {
		if ch.Index != 0 {
			continue
		}
		d := ch.Delta
		if d.ReasoningContent != "" {
			dst = e.switchTo(dst, streamBlockThinking)
			dst = appendClientEvent(dst, "content_block_delta", outBlockDelta{Type: "content_block_delta", Index: e.next - 1,
				Delta: outThinkingDelta{Type: "thinking_delta", Thinking: d.ReasoningContent}})
		}
		text := d.Content
		if refusal, ok := jsonStringValue(d.Extra["refusal"]); ok {
			text += refusal
		}
		if text != "" {
			dst = e.switchTo(dst, streamBlockText)
			dst = appendClientEvent(dst, "content_block_delta", outBlockDelta{Type: "content_block_delta", Index: e.next - 1,
				Delta: outTextDelta{Type: "text_delta", Text: text}})
		}
		for _, tc := range d.ToolCalls {
			dst = e.toolCall(dst, tc)
		}
		if ch.FinishReason != "" {
			e.finish = ch.FinishReason
		}
	}
	return dst
}

// End appends what ends the stream: the open block's content_block_stop,
// message_delta with the stop reason and usage (output_tokens, and
// input_tokens with the cache counts when the stream carried usage), and
// message_stop. It writes message_start first when no chunk came. A second
// call, or a call after Error, appends nothing.
func (e *StreamEncoder) End(dst []byte) []byte {
	if e.ended {
		return dst
	}
	e.ended = true
	if e.native {
		return dst
	}
	if !e.started {
		dst = e.start(dst, nil)
	}
	dst = e.closeBlock(dst)
	stop := answerStopReason(e.finish, e.hadTool)
	var usage outUsage
	if e.usage != nil {
		usage = answerUsage(e.usage)
	}
	dst = appendClientEvent(dst, "message_delta", outMessageDelta{Type: "message_delta",
		Delta: outStop{StopReason: stop}, Usage: usage})
	return appendClientEvent(dst, "message_stop", outEventType{Type: "message_stop"})
}

// Error appends an error event, which ends the stream: Chunk and End append
// nothing after it. errType is one of Anthropic's error types (see
// ErrorType).
func (e *StreamEncoder) Error(dst []byte, errType, message string) []byte {
	e.ended = true
	return appendClientEvent(dst, "error", errorEnvelope{Type: "error", Error: wireError{Type: errType, Message: message}})
}

// pingEventBytes is Anthropic's keep-alive event, byte for byte.
const pingEventBytes = "event: ping\ndata: {\"type\": \"ping\"}\n\n"

// Ping appends a ping event, which keeps an idle connection open; clients
// ignore it. It may be written at any point of the stream.
func (e *StreamEncoder) Ping(dst []byte) []byte {
	return append(dst, pingEventBytes...)
}

// start writes message_start.
func (e *StreamEncoder) start(dst []byte, c *chat.Chunk) []byte {
	e.started = true
	var usage outUsage
	zero := 0
	usage.InputTokens, usage.CacheCreationInputTokens, usage.CacheReadInputTokens = &zero, &zero, &zero
	var id string
	if c != nil {
		id = c.ID
		if c.Usage != nil {
			usage = answerUsage(c.Usage)
			usage.OutputTokens = 0
		}
	}
	e.id = answerID(id)
	model := e.model
	if model == "" && c != nil {
		model = c.Model // the model that answers, as EncodeResponse names it
	}
	return appendClientEvent(dst, "message_start", outMessageStart{Type: "message_start", Message: outMessage{
		ID: e.id, Type: "message", Role: "assistant", Model: model, Content: []any{}, Usage: usage}})
}

// switchTo makes a block of kind the open one, closing another first. A
// tool_use block is never switched to here: each call starts its own.
func (e *StreamEncoder) switchTo(dst []byte, kind streamBlockKind) []byte {
	if e.open == kind {
		return dst
	}
	dst = e.closeBlock(dst)
	var block any
	switch kind {
	case streamBlockThinking:
		block = outThinking{Type: "thinking"}
	default:
		block = outText{Type: "text"}
	}
	return e.startBlock(dst, kind, block)
}

func (e *StreamEncoder) startBlock(dst []byte, kind streamBlockKind, block any) []byte {
	dst = appendClientEvent(dst, "content_block_start", outBlockStart{Type: "content_block_start", Index: e.next, ContentBlock: block})
	e.open = kind
	e.next++
	return dst
}

func (e *StreamEncoder) closeBlock(dst []byte) []byte {
	if e.open == streamBlockNone {
		return dst
	}
	e.open = streamBlockNone
	return appendClientEvent(dst, "content_block_stop", outBlockStop{Type: "content_block_stop", Index: e.next - 1})
}

// toolCall writes a tool call fragment: a new tool_use block for a call
// not seen before, then its argument fragment.
func (e *StreamEncoder) toolCall(dst []byte, tc chat.ToolCall) []byte {
	idx := e.toolIndex(tc)
	if e.open != streamBlockToolUse || e.openTool != idx {
		if e.tools[idx] {
			return dst // its block is closed
		}
		dst = e.closeBlock(dst)
		if e.tools == nil {
			e.tools = map[int]bool{}
		}
		e.tools[idx] = true
		e.nextTool = max(e.nextTool, idx+1)
		e.hadTool = true
		e.openTool, e.openToolID = idx, tc.ID
		dst = e.startBlock(dst, streamBlockToolUse, outToolUse{Type: "tool_use", ID: toolUseID(tc.ID, e.id, idx),
			Name: tc.Function.Name, Input: json.RawMessage(emptyObject)})
	}
	if args := tc.Function.Arguments; args != "" {
		dst = appendClientEvent(dst, "content_block_delta", outBlockDelta{Type: "content_block_delta", Index: e.next - 1,
			Delta: outJSONDelta{Type: "input_json_delta", PartialJSON: args}})
	}
	return dst
}

// toolIndex is the canonical index of the call a fragment belongs to. A
// fragment without one continues the open call, or starts the next one
// when it names a new id.
func (e *StreamEncoder) toolIndex(tc chat.ToolCall) int {
	switch {
	case tc.Index != nil:
		return *tc.Index
	case e.open == streamBlockToolUse && (tc.ID == "" || tc.ID == e.openToolID):
		return e.openTool
	}
	return e.nextTool
}

// Wire types of stream events.
type (
	outEventType struct {
		Type string `json:"type"`
	}

	outMessageStart struct {
		Type    string     `json:"type"` // "message_start"
		Message outMessage `json:"message"`
	}

	outBlockStart struct {
		Type         string `json:"type"` // "content_block_start"
		Index        int    `json:"index"`
		ContentBlock any    `json:"content_block"`
	}

	outBlockDelta struct {
		Type  string `json:"type"` // "content_block_delta"
		Index int    `json:"index"`
		Delta any    `json:"delta"`
	}

	outTextDelta struct {
		Type string `json:"type"` // "text_delta"
		Text string `json:"text"`
	}

	outThinkingDelta struct {
		Type     string `json:"type"` // "thinking_delta"
		Thinking string `json:"thinking"`
	}

	outJSONDelta struct {
		Type        string `json:"type"` // "input_json_delta"
		PartialJSON string `json:"partial_json"`
	}

	outBlockStop struct {
		Type  string `json:"type"` // "content_block_stop"
		Index int    `json:"index"`
	}

	outMessageDelta struct {
		Type  string   `json:"type"` // "message_delta"
		Delta outStop  `json:"delta"`
		Usage outUsage `json:"usage"`
	}

	outStop struct {
		StopReason   string  `json:"stop_reason"`
		StopSequence *string `json:"stop_sequence"` // always null
	}

	// errorEnvelope is Anthropic's error shape, in a body or an event:
	// {"type":"error","error":{"type":…,"message":…}}.
	errorEnvelope struct {
		Type  string    `json:"type"` // "error"
		Error wireError `json:"error"`
	}
)

// appendClientEvent appends one event named name with v as its data.
func appendClientEvent(dst []byte, name string, v any) []byte {
	dst = append(append(append(dst, "event: "...), name...), "\ndata: "...)
	return append(appendClientJSON(dst, v), "\n\n"...)
}

// ErrorType is Anthropic's error type for an HTTP status:
//
//	400 invalid_request_error   413 request_too_large
//	401 authentication_error    429 rate_limit_error
//	402 billing_error           500 api_error
//	403 permission_error        503 overloaded_error
//	404 not_found_error         504 timeout_error
//	                            529 overloaded_error
//
// Other 4xx statuses are invalid_request_error, as Anthropic documents, and
// other 5xx statuses api_error. 503 is overloaded_error because Detour
// answers 503 when no deployment can take the request now (every one
// cooling down or unavailable): a passing lack of capacity, which is what
// overloaded_error tells an Anthropic client, and what Claude Code retries.
func ErrorType(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "invalid_request_error"
	case http.StatusUnauthorized:
		return "authentication_error"
	case http.StatusPaymentRequired:
		return "billing_error"
	case http.StatusForbidden:
		return "permission_error"
	case http.StatusNotFound:
		return "not_found_error"
	case http.StatusRequestEntityTooLarge:
		return "request_too_large"
	case http.StatusTooManyRequests:
		return "rate_limit_error"
	case http.StatusServiceUnavailable, statusOverloaded:
		return "overloaded_error"
	case http.StatusGatewayTimeout:
		return "timeout_error"
	}
	if status >= 500 {
		return "api_error"
	}
	return "invalid_request_error"
}

// statusOverloaded is Anthropic's own status for overloaded_error.
const statusOverloaded = 529

// EncodeError returns the Messages API error body for status and message:
// {"type":"error","error":{"type":…,"message":…}}. message reaches the
// client as it is; it must reveal nothing of Detour's upstreams.
func EncodeError(status int, message string) []byte {
	return appendClientJSON(nil, errorEnvelope{Type: "error", Error: wireError{Type: ErrorType(status), Message: message}})
}
