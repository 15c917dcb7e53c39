package openai

// OpenAI's Responses API as an upstream serves it (Options.Responses). A
// request a client made in that API (chat.Request.Native, Dialect
// chat.DialectResponses) goes to POST BaseURL + "/responses" as the client
// wrote it, with only model and stream set, and the answer comes back
// twice: byte for byte, in chat.Response.Native or, for a stream, in each
// chunk's Native (the events since the previous chunk, framed as the API
// frames them), for the gateway to hand the client; and translated into
// the canonical chat shape, which spend, the cache, failover and the
// response store read.
//
// What the translation reads of a Response object, whole or streamed:
//
//   - message items: output_text parts are the content, refusal parts the
//     refusal (chat's refusal member);
//   - function_call items are tool calls: id is the call_id, the function
//     name the item's name. A call of a tool in a namespace keeps the
//     tool's own name and loses the namespace, which chat has no place
//     for; the client sees the upstream's own item, namespace and all;
//   - custom_tool_call items are tool calls whose arguments are
//     {"input": …}, the shape the client's custom tools take when Detour
//     translates them for a chat upstream (customArguments);
//   - reasoning items: the summary's text is the reasoning_content, parts
//     joined by a blank line;
//   - status incomplete for max_output_tokens is finish_reason length, for
//     content_filter content_filter; else tool_calls when there were
//     calls, stop when not;
//   - usage: input_tokens are prompt_tokens (cached_tokens their cached
//     part), output_tokens completion_tokens (reasoning_tokens their
//     reasoning part).
//
// Other items (the calls of built-in tools, reasoning's encrypted content)
// are in Native only. A response that failed (status failed in a 200
// answer, response.failed or an error event in a stream) is a
// *provider.Error, classified from its error code as Classify classifies
// an error body.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/detour-gateway/detour/chat"
	"github.com/detour-gateway/detour/router/provider"
	"github.com/detour-gateway/detour/router/provider/sse"
)

// native reports whether req goes to the upstream's Responses API: the
// client spoke that API, and the upstream serves it.
func (c *Client) native(req *chat.Request) bool {
	return c.responsesURL != "" && req.Native != nil && req.Native.Dialect == chat.DialectResponses
}

// chatResponses sends the client's own Responses request and returns the
// whole answer, translated, with the upstream's bytes in Native.
func (c *Client) chatResponses(ctx context.Context, req *chat.Request) (*chat.Response, error) {
	resp, err := c.sendResponses(ctx, req, false)
	if err != nil {
		return nil, err
	}
	body, perr := provider.ReadAnswer(resp, c.opts.Name, "answer")
	if perr != nil {
		return nil, perr
	}
	var w upstreamResponse
	if err := json.Unmarshal(body, &w); err != nil || (w.Output == nil && w.Status != "failed") {
		if err == nil {
			err = errors.New("no output")
		}
		return nil, &provider.Error{Class: provider.ServerError, Status: resp.StatusCode,
			Message: c.opts.Name + " sent a malformed answer", Err: fmt.Errorf("decode answer: %w", err)}
	}
	if w.Status == "failed" {
		return nil, w.Error.classify(c.opts.Name)
	}
	out, err := w.chat(c.opts.Model, c.opts.Now().Unix())
	if err != nil {
		return nil, &provider.Error{Class: provider.ServerError, Status: resp.StatusCode,
			Message: c.opts.Name + " sent a malformed answer", Err: err}
	}
	out.Native = &chat.Native{Dialect: chat.DialectResponses, Body: body}
	return out, nil
}

// streamResponses sends the client's own Responses request with stream
// true and returns once the upstream has answered with its headers.
func (c *Client) streamResponses(ctx context.Context, req *chat.Request) (provider.Stream, error) {
	resp, err := c.sendResponses(ctx, req, true)
	if err != nil {
		return nil, err
	}
	return &responsesStream{name: c.opts.Name, model: c.opts.Model, created: c.opts.Now().Unix(),
		includeUsage: req.StreamOptions != nil && req.StreamOptions.IncludeUsage,
		body:         resp.Body, events: sse.NewReader(resp.Body)}, nil
}

// sendResponses posts the client's Responses request with this
// deployment's model and the given stream, and returns a 200 response or
// the classified failure. Every other byte is the client's.
func (c *Client) sendResponses(ctx context.Context, req *chat.Request, streaming bool) (*http.Response, error) {
	model, _ := json.Marshal(c.opts.Model)
	body, err := chat.SetMember(req.Native.Body, "model", model)
	if err == nil {
		body, err = chat.SetMember(body, "stream", json.RawMessage(strconv.FormatBool(streaming)))
	}
	if err != nil {
		return nil, &provider.Error{Class: provider.BadRequest, Local: true, Message: "the request could not be forwarded", Err: err}
	}
	accept := "application/json"
	if streaming {
		accept = "text/event-stream"
	}
	return c.postBytes(ctx, c.responsesURL, body, accept)
}

// upstreamResponse is what this adapter reads of a Response object. The
// output is kept raw: items of types it does not read are skipped
// unparsed, whatever their members.
type upstreamResponse struct {
	ID string `json:"id"`
	// CreatedAt is in Unix seconds; a float, so a service writing one
	// does not break the answer.
	CreatedAt         float64            `json:"created_at"`
	Status            string             `json:"status"`
	Model             string             `json:"model"`
	Error             *upstreamError     `json:"error"`
	IncompleteDetails *IncompleteDetails `json:"incomplete_details"`
	Output            []json.RawMessage  `json:"output"`
	Usage             *ResponseUsage     `json:"usage"`
}

// upstreamError is a failed response's error, or a stream's error event:
// the API's {code, message}, code a string or null.
type upstreamError struct {
	Code    json.RawMessage `json:"code"`
	Message string          `json:"message"`
}

// upstreamItem is an output item of a type this adapter reads.
type upstreamItem struct {
	Type string `json:"type"`
	// A function or custom tool call's call_id and name.
	CallID string `json:"call_id"`
	Name   string `json:"name"`
	// A function call's arguments, a custom tool call's input.
	Arguments string `json:"arguments"`
	Input     string `json:"input"`
	// A message's content, reasoning's summary.
	Content []upstreamPart `json:"content"`
	Summary []upstreamPart `json:"summary"`
}

// upstreamPart is a part of a message's content or of reasoning's
// summary.
type upstreamPart struct {
	Type    string `json:"type"`
	Text    string `json:"text"`
	Refusal string `json:"refusal"`
}

// decodeUpstreamItem decodes an output item of a type this adapter reads; ok is
// false for any other type, which is not parsed further.
func decodeUpstreamItem(raw json.RawMessage) (it upstreamItem, ok bool, err error) {
	var head struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return it, false, err
	}
	switch head.Type {
	case "message", "reasoning", "function_call", "custom_tool_call":
	default:
		return it, false, nil
	}
	if err := json.Unmarshal(raw, &it); err != nil {
		return it, false, fmt.Errorf("%s item: %w", head.Type, err)
	}
	return it, true, nil
}

// toolCall is the canonical tool call of a call item.
func (it *upstreamItem) toolCall() chat.ToolCall {
	args := it.Arguments
	if it.Type == "custom_tool_call" {
		args = customArguments(it.Input)
	} else if args == "" {
		args = "{}" // chat clients expect a JSON text
	}
	return chat.ToolCall{ID: it.CallID, Type: "function", Function: chat.FunctionCall{Name: it.Name, Arguments: args}}
}

// reasoningSeparator joins the parts of reasoning summaries.
const reasoningSeparator = "\n\n"

// chat translates the response into the canonical answer. model and
// created stand in for members the response lacks.
func (w *upstreamResponse) chat(model string, created int64) (*chat.Response, error) {
	var text, reasoning, refusal strings.Builder
	var calls []chat.ToolCall
	for i, raw := range w.Output {
		it, ok, err := decodeUpstreamItem(raw)
		if err != nil {
			return nil, fmt.Errorf("decode output[%d]: %w", i, err)
		}
		if !ok {
			continue
		}
		switch it.Type {
		case "message":
			for _, p := range it.Content {
				switch p.Type {
				case "output_text":
					text.WriteString(p.Text)
				case "refusal":
					refusal.WriteString(p.Refusal)
				}
			}
		case "reasoning":
			for _, p := range it.Summary {
				if p.Text == "" {
					continue
				}
				if reasoning.Len() > 0 {
					reasoning.WriteString(reasoningSeparator)
				}
				reasoning.WriteString(p.Text)
			}
		case "function_call", "custom_tool_call":
			calls = append(calls, it.toolCall())
		}
	}
	msg := chat.Message{Role: "assistant", Content: chat.TextContent(text.String()),
		ToolCalls: calls, ReasoningContent: reasoning.String()}
	if text.Len() == 0 && len(calls) > 0 {
		msg.Content = json.RawMessage("null")
	}
	if refusal.Len() > 0 {
		msg.Extra = chat.Extra{"refusal": jsonOf(refusal.String())}
	}
	if w.Model != "" {
		model = w.Model
	}
	if w.CreatedAt > 0 {
		created = int64(w.CreatedAt)
	}
	return &chat.Response{ID: chatID(w.ID), Object: "chat.completion", Created: created, Model: model,
		Choices: []chat.Choice{{Index: 0, Message: msg, FinishReason: finishReason(w.Status, w.IncompleteDetails, len(calls) > 0)}},
		Usage:   chatUsage(w.Usage)}, nil
}

// chatID is the canonical id of the response with the given id.
func chatID(id string) string {
	if id == "" {
		id = "responses"
	}
	return "chatcmpl-" + id
}

// finishReason is the canonical finish reason of a response that ended
// with status and incomplete details; calls says whether it made tool
// calls.
func finishReason(status string, incomplete *IncompleteDetails, calls bool) chat.FinishReason {
	if status == "incomplete" && incomplete != nil {
		switch incomplete.Reason {
		case "max_output_tokens":
			return "length"
		case "content_filter":
			return "content_filter"
		}
	}
	if calls {
		return "tool_calls"
	}
	return "stop"
}

// chatUsage is the canonical usage of a response's usage; nil for none.
func chatUsage(u *ResponseUsage) *chat.Usage {
	if u == nil {
		return nil
	}
	total := u.TotalTokens
	if total == 0 {
		total = u.InputTokens + u.OutputTokens
	}
	return &chat.Usage{PromptTokens: u.InputTokens, CompletionTokens: u.OutputTokens, TotalTokens: total,
		PromptTokensDetails:     &chat.PromptTokensDetails{CachedTokens: u.InputTokensDetails.CachedTokens},
		CompletionTokensDetails: &chat.CompletionTokensDetails{ReasoningTokens: u.OutputTokensDetails.ReasoningTokens}}
}

// classify sorts the error of a failed response (nil when the upstream
// gave none) into a class: Classify's, for an error body with the same
// code and message and the HTTP status the API answers that code with
// outside a response (failureStatus). The error's Status is 200, the
// answer's.
func (e *upstreamError) classify(name string) *provider.Error {
	var code, message string
	if e != nil {
		code, message = rawString(e.Code), e.Message
	}
	if message == "" {
		message = name + " could not complete the response"
	}
	var eb errorBody
	eb.Error.Message, eb.Error.Type, eb.Error.Code = message, code, jsonOf(code)
	pe := Classify(name, failureStatus(code), http.Header{}, jsonOf(eb), time.Time{})
	pe.Status = http.StatusOK
	pe.Err = fmt.Errorf("%s: the response failed: %s", name, code)
	return pe
}

// failureStatus is the HTTP status that goes with the error code of a
// failed response (or an error event): 429 for rate and quota limits, 400
// for faults of the request (invalid_prompt, the image errors, the
// policies, context_length_exceeded), 504 for vector_store_timeout, 500
// for server_error and none; 502, a server error, for codes this code
// does not know.
func failureStatus(code string) int {
	switch {
	case code == "rate_limit_exceeded" || code == "insufficient_quota":
		return http.StatusTooManyRequests
	case code == "" || code == "server_error":
		return http.StatusInternalServerError
	case code == "vector_store_timeout":
		return http.StatusGatewayTimeout
	case code == "context_length_exceeded" || code == "data_residency_mismatch" || strings.HasPrefix(code, "invalid_") ||
		strings.Contains(code, "image") || strings.HasSuffix(code, "_policy") || strings.HasSuffix(code, "_policy_violation"):
		return http.StatusBadRequest
	}
	return http.StatusBadGateway
}

// rawString is a JSON string's value, or the JSON text of another value
// (a number); "" for null or nothing.
func rawString(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	if raw = trimSpace(raw); isNull(raw) {
		return ""
	}
	return string(raw)
}

// upstreamEvent is an event of a Responses stream that this adapter reads;
// each type sets its own members.
type upstreamEvent struct {
	Type         string            `json:"type"`
	Response     *upstreamResponse `json:"response"`
	OutputIndex  int               `json:"output_index"`
	SummaryIndex int               `json:"summary_index"`
	Item         json.RawMessage   `json:"item"`
	Delta        string            `json:"delta"`
	Arguments    string            `json:"arguments"`
	Input        string            `json:"input"`
}

// upstreamCall is a tool call being streamed.
type upstreamCall struct {
	output int  // its output_index
	index  int  // its index among the tool calls, in output order
	custom bool // a custom tool call, whose input is streamed inside {"input": …}
	sent   bool // arguments, or input, were sent
	closed bool // a custom call's arguments were closed
}

// responsesStream translates a Responses event stream into canonical
// chunks, keeping each event's bytes on the next chunk queued (Native).
// Events are read one at a time; one event gives zero, one or more chunks,
// queued in pending.
type responsesStream struct {
	name         string
	body         io.ReadCloser
	events       *sse.Reader
	includeUsage bool
	closeOnce    sync.Once
	closeErr     error

	id, model string
	created   int64
	started   bool            // response.created was seen
	calls     []*upstreamCall // in output order
	// reasoningPart is the output and summary index of the reasoning
	// summary part last streamed, reasoned whether there was one.
	reasoningPart [2]int
	reasoned      bool
	pending       []*chat.Chunk
	done          bool  // response.completed or .incomplete was seen
	err           error // the failure that ended the stream
	// native holds the events not yet given to a chunk, framed as they
	// came.
	native []byte
}

// Recv returns the next chunk, io.EOF after response.completed (or
// .incomplete), or the *provider.Error that ended the stream (again on
// every later call): response.failed or an error event, classified; a
// stream that ended before its end, Connection.
func (s *responsesStream) Recv() (*chat.Chunk, error) {
	for {
		if len(s.pending) > 0 {
			c := s.pending[0]
			s.pending = s.pending[1:]
			return c, nil
		}
		if s.err != nil {
			return nil, s.err
		}
		if s.done {
			return nil, io.EOF
		}
		ev, err := s.events.Next()
		if err != nil {
			s.err = sse.ReadError(s.name, err)
			continue
		}
		s.native = sse.AppendEvent(s.native, ev)
		queued := len(s.pending)
		if perr := s.handle(ev); perr != nil {
			s.err = perr
			continue
		}
		if len(s.pending) > queued {
			s.pending[queued].Native, s.native = s.native, nil
		}
	}
}

// Close releases the connection. It is safe to call more than once.
func (s *responsesStream) Close() error {
	s.closeOnce.Do(func() { s.closeErr = s.body.Close() })
	return s.closeErr
}

// handle translates one event, queueing the chunks it gives.
func (s *responsesStream) handle(ev sse.Event) *provider.Error {
	data := bytes.TrimSpace(ev.Data)
	if len(data) == 0 || bytes.Equal(data, []byte("[DONE]")) {
		return nil
	}
	var head struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return s.malformed(fmt.Errorf("decode %s event: %w", ev.Name, err))
	}
	typ := head.Type
	if typ == "" {
		typ = ev.Name
	}
	switch typ {
	case "error":
		return streamError(s.name, data)
	case "response.created", "response.failed", "response.completed", "response.incomplete",
		"response.output_item.added", "response.output_item.done",
		"response.output_text.delta", "response.refusal.delta", "response.reasoning_summary_text.delta",
		"response.function_call_arguments.delta", "response.function_call_arguments.done",
		"response.custom_tool_call_input.delta", "response.custom_tool_call_input.done":
	default:
		return nil // response.in_progress, the done events of text and parts, built-in tools' events, types newer than this code
	}
	var e upstreamEvent
	if err := json.Unmarshal(data, &e); err != nil {
		return s.malformed(fmt.Errorf("decode %s event: %w", typ, err))
	}
	switch typ {
	case "response.failed":
		var re *upstreamError
		if e.Response != nil {
			re = e.Response.Error
		}
		return re.classify(s.name)
	case "response.created":
		if s.started {
			return nil
		}
		s.started = true
		if r := e.Response; r != nil {
			s.id = r.ID
			if r.Model != "" {
				s.model = r.Model
			}
			if r.CreatedAt > 0 {
				s.created = int64(r.CreatedAt)
			}
		}
		s.id = chatID(s.id)
		s.push(chat.Delta{Role: "assistant"}, "")
		return nil
	}
	if !s.started {
		return s.malformed(fmt.Errorf("%s event before response.created", typ))
	}
	switch typ {
	case "response.output_item.added":
		it, ok, err := decodeUpstreamItem(e.Item)
		if err != nil {
			return s.malformed(fmt.Errorf("decode %s event: %w", typ, err))
		}
		if ok && (it.Type == "function_call" || it.Type == "custom_tool_call") {
			s.startCall(e.OutputIndex, it)
		}
	case "response.output_text.delta":
		if e.Delta != "" {
			s.push(chat.Delta{Content: e.Delta}, "")
		}
	case "response.refusal.delta":
		if e.Delta != "" {
			s.push(chat.Delta{Extra: chat.Extra{"refusal": jsonOf(e.Delta)}}, "")
		}
	case "response.reasoning_summary_text.delta":
		if e.Delta == "" {
			return nil
		}
		part, text := [2]int{e.OutputIndex, e.SummaryIndex}, e.Delta
		if s.reasoned && part != s.reasoningPart {
			text = reasoningSeparator + text
		}
		s.reasoned, s.reasoningPart = true, part
		s.push(chat.Delta{ReasoningContent: text}, "")
	case "response.function_call_arguments.delta":
		if call := s.call(e.OutputIndex); call != nil && !call.custom && e.Delta != "" {
			call.sent = true
			s.pushArguments(call, e.Delta)
		}
	case "response.function_call_arguments.done":
		if call := s.call(e.OutputIndex); call != nil && !call.custom && !call.sent {
			s.sendArguments(call, e.Arguments)
		}
	case "response.custom_tool_call_input.delta":
		if call := s.call(e.OutputIndex); call != nil && call.custom && !call.closed && e.Delta != "" {
			call.sent = true
			s.pushArguments(call, jsonStringContent(e.Delta))
		}
	case "response.custom_tool_call_input.done":
		if call := s.call(e.OutputIndex); call != nil && call.custom {
			s.closeCustom(call, e.Input)
		}
	case "response.output_item.done":
		call := s.call(e.OutputIndex)
		if call == nil {
			return nil
		}
		it, _, err := decodeUpstreamItem(e.Item)
		if err != nil {
			return s.malformed(fmt.Errorf("decode %s event: %w", typ, err))
		}
		if call.custom {
			s.closeCustom(call, it.Input)
		} else if !call.sent {
			s.sendArguments(call, it.Arguments)
		}
	case "response.completed", "response.incomplete":
		s.finish(e.Response)
	}
	return nil
}

// startCall queues the first fragment of the tool call that output item
// it, at output index output, begins: its id, name and any arguments (a
// custom call's opening {"input":", and any input).
func (s *responsesStream) startCall(output int, it upstreamItem) {
	call := &upstreamCall{output: output, index: len(s.calls), custom: it.Type == "custom_tool_call"}
	s.calls = append(s.calls, call)
	args := it.Arguments
	call.sent = args != ""
	if call.custom {
		args = customArgumentsOpen + jsonStringContent(it.Input)
		call.sent = it.Input != ""
	}
	s.push(chat.Delta{ToolCalls: []chat.ToolCall{{Index: new(call.index), ID: it.CallID, Type: "function",
		Function: chat.FunctionCall{Name: it.Name, Arguments: args}}}}, "")
}

// customArgumentsOpen and customArgumentsClose surround the input of a
// custom tool call, JSON-escaped, in the arguments customArguments makes.
const (
	customArgumentsOpen  = `{"input":"`
	customArgumentsClose = `"}`
)

// jsonStringContent is s escaped as the inside of a JSON string, exactly
// as customArguments escapes it, so that the pieces of a streamed input
// add up to the arguments of the whole.
func jsonStringContent(s string) string {
	a := customArguments(s)
	return a[len(customArgumentsOpen) : len(a)-len(customArgumentsClose)]
}

// call is the tool call at output index output, nil if none.
func (s *responsesStream) call(output int) *upstreamCall {
	for _, c := range s.calls {
		if c.output == output {
			return c
		}
	}
	return nil
}

// pushArguments queues a fragment of a call's arguments.
func (s *responsesStream) pushArguments(call *upstreamCall, args string) {
	s.push(chat.Delta{ToolCalls: []chat.ToolCall{{Index: new(call.index), Function: chat.FunctionCall{Arguments: args}}}}, "")
}

// sendArguments queues a function call's arguments whole, for a call whose
// arguments came in its done event only: "{}" for none, the JSON text
// chat clients expect.
func (s *responsesStream) sendArguments(call *upstreamCall, args string) {
	if args == "" {
		args = "{}"
	}
	call.sent = true
	s.pushArguments(call, args)
}

// closeCustom queues the end of a custom tool call's arguments, with its
// input when none was streamed; once.
func (s *responsesStream) closeCustom(call *upstreamCall, input string) {
	if call.closed {
		return
	}
	args := customArgumentsClose
	if !call.sent {
		args = jsonStringContent(input) + args
	}
	call.sent, call.closed = true, true
	s.pushArguments(call, args)
}

// finish queues the end of the answer that r, the response of
// response.completed or .incomplete, concludes: the arguments of any call
// left open, the finish chunk and, when asked, the usage chunk.
func (s *responsesStream) finish(r *upstreamResponse) {
	s.done = true
	if r == nil {
		r = &upstreamResponse{}
	}
	for _, call := range s.calls {
		if call.custom {
			s.closeCustom(call, "")
		} else if !call.sent {
			s.sendArguments(call, "")
		}
	}
	s.push(chat.Delta{}, finishReason(r.Status, r.IncompleteDetails, len(s.calls) > 0))
	if s.includeUsage {
		usage := chatUsage(r.Usage)
		if usage == nil {
			usage = &chat.Usage{}
		}
		s.pending = append(s.pending, &chat.Chunk{ID: s.id, Object: "chat.completion.chunk", Created: s.created,
			Model: s.model, Choices: []chat.ChunkChoice{}, Usage: usage})
	}
}

// push queues a chunk with one choice.
func (s *responsesStream) push(d chat.Delta, finish chat.FinishReason) {
	s.pending = append(s.pending, &chat.Chunk{ID: s.id, Object: "chat.completion.chunk", Created: s.created, Model: s.model,
		Choices: []chat.ChunkChoice{{Index: 0, Delta: d, FinishReason: finish}}})
}

func (s *responsesStream) malformed(err error) *provider.Error {
	return &provider.Error{Class: provider.ServerError, Status: http.StatusOK,
		Message: s.name + " sent a malformed stream event", Err: err}
}

// streamError classifies a stream's error event: {"type":"error", "code",
// "message", "param"} as the API documents it, or with the error nested
// ({"type":"error","error":{"type","code","message"}}) as some services
// send it.
func streamError(name string, data []byte) *provider.Error {
	var ev struct {
		errorBody
		upstreamError
	}
	_ = json.Unmarshal(data, &ev)
	e := ev.upstreamError
	if rawString(e.Code) == "" && e.Message == "" {
		code := ev.errorBody.code()
		if code == "" {
			code = ev.Error.Type
		}
		e = upstreamError{Code: jsonOf(code), Message: ev.Error.Message}
	}
	return e.classify(name)
}
