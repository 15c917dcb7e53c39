package openai

import (
	"encoding/json"
	"slices"
	"strings"

	"github.com/detour-gateway/detour/chat"
)

// ResponsesStreamEncoder writes a canonical stream as the Responses API's
// server-sent events ("event: NAME\ndata: JSON\n\n"), numbered by
// sequence_number from 0:
//
//	response.created, response.in_progress              Start
//	response.output_item.added … response.output_item.done   per item
//	response.completed or response.incomplete           End
//	response.failed, or error                           Failed, Error
//
// An item's events come between its output_item.added and its
// output_item.done: for a message, content_part.added, output_text.delta
// (refusal.delta for a refusal), output_text.done and content_part.done;
// for a function call, function_call_arguments.delta and .done; for a
// custom tool call, custom_tool_call_input.delta and .done, both when the
// call is whole (the input is a JSON string in the upstream's arguments,
// read once they are complete); for reasoning,
// reasoning_summary_part.added, reasoning_summary_text.delta, .done and
// reasoning_summary_part.done. Chat reasoning_content is sent as a
// reasoning summary, the kind of reasoning every Responses client shows
// and sends back.
//
// Items are added as the chunks bring them. A new kind of item closes the
// open ones; calls stay open beside each other until the end or until
// text or reasoning follows them, so a fragment of a call never arrives
// after that call's done event, however an upstream interleaves parallel
// calls. Only the first choice of a chunk is read: the Responses
// API has no n.
//
// The methods append to dst and return it, like strconv.Append*. After
// End, Failed or Error, nothing more is written. An encoder is not safe
// for concurrent use.
type ResponsesStreamEncoder struct {
	resp           *Response
	seq            int
	started, ended bool
	items          []*streamItem // every item, in output order
	message        *streamItem   // the open message item
	reasoning      *streamItem   // the open reasoning item
	calls          map[int]*streamItem
	finish         chat.FinishReason
	usage          *chat.Usage
	upstreamModel  string
	respID         string
}

// streamItem is one output item being streamed.
type streamItem struct {
	index int // output_index
	item  OutputItem
	open  bool
	// text is a message's output text, a reasoning summary or a call's
	// arguments (a custom tool call's too, its input in JSON); refusal a
	// message's refusal.
	text, refusal strings.Builder
	// textPart and refusalPart are the content_index of a message's
	// output_text and refusal parts, -1 before they are added.
	textPart, refusalPart int
}

// NewResponsesStreamEncoder returns an encoder for the stream of the
// response with the given id ("resp_…") and creation time (Unix seconds)
// to req.
func NewResponsesStreamEncoder(id string, createdAt int64, req *ResponsesRequest) *ResponsesStreamEncoder {
	return &ResponsesStreamEncoder{resp: responseShell(id, createdAt, req), respID: id, calls: map[int]*streamItem{}}
}

// Start writes response.created and response.in_progress: the response
// in progress, with no output yet. Chunk and End start the stream
// themselves if it was not started.
func (e *ResponsesStreamEncoder) Start(dst []byte) []byte {
	if e.started || e.ended {
		return dst
	}
	e.started = true
	dst = e.emit(dst, streamEvent{Type: "response.created", Response: e.snapshot()})
	return e.emit(dst, streamEvent{Type: "response.in_progress", Response: e.snapshot()})
}

// Chunk writes what the chunk adds to the answer.
func (e *ResponsesStreamEncoder) Chunk(dst []byte, c *chat.Chunk) []byte {
	if c == nil || e.ended {
		return dst
	}
	dst = e.Start(dst)
	if c.Model != "" {
		e.upstreamModel = c.Model
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
			dst = e.reasoningDelta(dst, d.ReasoningContent)
		}
		if d.Content != "" {
			dst = e.messageDelta(dst, d.Content, false)
		}
		if refusal := messageRefusal(d.Extra); refusal != "" {
			dst = e.messageDelta(dst, refusal, true)
		}
		for i, tc := range d.ToolCalls {
			idx := i
			if tc.Index != nil {
				idx = *tc.Index
			}
			dst = e.callDelta(dst, idx, tc)
		}
		if ch.FinishReason != "" {
			e.finish = ch.FinishReason
		}
	}
	return dst
}

// End closes the open items and writes response.completed with the whole
// response and its usage, or response.incomplete when the answer was cut
// short (finish reason length or content_filter).
func (e *ResponsesStreamEncoder) End(dst []byte) []byte {
	if e.ended {
		return dst
	}
	dst = e.Start(dst)
	incomplete := e.finish == "length" || e.finish == "content_filter"
	if incomplete && len(e.items) > 0 {
		if last := e.items[len(e.items)-1]; last.item.Type != "reasoning" {
			last.item.Status = "incomplete"
		}
	}
	dst = e.closeItems(dst, func(*streamItem) bool { return true })
	e.resp.finish(e.finish)
	e.resp.Usage = responseUsage(e.usage)
	if e.upstreamModel != "" {
		e.resp.Model = e.upstreamModel
	}
	typ := "response.completed"
	if e.resp.Status == "incomplete" {
		typ = "response.incomplete"
	}
	dst = e.emit(dst, streamEvent{Type: typ, Response: e.snapshot()})
	e.ended = true
	return dst
}

// Failed ends the stream with response.failed: the response with status
// failed, error {code, message} and the output so far, its open items
// incomplete. code is one of the API's, such as "server_error" or
// "rate_limit_exceeded".
func (e *ResponsesStreamEncoder) Failed(dst []byte, code, message string) []byte {
	if e.ended {
		return dst
	}
	dst = e.Start(dst)
	for _, it := range e.items {
		if it.open {
			it.item.Status = "incomplete"
			e.store(it)
		}
	}
	e.resp.Status = "failed"
	e.resp.Error = &ResponseError{Code: code, Message: message}
	if e.usage != nil {
		e.resp.Usage = responseUsage(e.usage)
	}
	dst = e.emit(dst, streamEvent{Type: "response.failed", Response: e.snapshot()})
	e.ended = true
	return dst
}

// Error ends the stream with a bare error event {code, message, param}, as
// the API sends for a failure outside a response; param "" is null.
func (e *ResponsesStreamEncoder) Error(dst []byte, code, message, param string) []byte {
	if e.ended {
		return dst
	}
	e.ended = true
	ev := errorEvent{Type: "error", SequenceNumber: e.seq, Code: code, Message: message}
	if param != "" {
		ev.Param = &param
	}
	e.seq++
	return appendEvent(dst, ev.Type, jsonOf(ev))
}

// Response returns the response as streamed so far; after End, the whole
// response, to store for a later previous_response_id.
func (e *ResponsesStreamEncoder) Response() *Response {
	return e.snapshot()
}

// reasoningDelta adds reasoning text, opening a reasoning item.
func (e *ResponsesStreamEncoder) reasoningDelta(dst []byte, delta string) []byte {
	it := e.reasoning
	if it == nil {
		dst = e.closeItems(dst, func(*streamItem) bool { return true })
		it, dst = e.add(dst, OutputItem{Type: "reasoning", Summary: []SummaryPart{}}, "rs")
		e.reasoning = it
		dst = e.emit(dst, streamEvent{Type: "response.reasoning_summary_part.added", ItemID: it.item.ID,
			OutputIndex: new(it.index), SummaryIndex: new(0), Part: SummaryPart{Type: "summary_text"}})
	}
	it.text.WriteString(delta)
	return e.emit(dst, streamEvent{Type: "response.reasoning_summary_text.delta", ItemID: it.item.ID,
		OutputIndex: new(it.index), SummaryIndex: new(0), Delta: &delta})
}

// messageDelta adds output text, or refusal text, opening a message item
// and its part.
func (e *ResponsesStreamEncoder) messageDelta(dst []byte, delta string, refusal bool) []byte {
	it := e.message
	if it == nil {
		dst = e.closeItems(dst, func(*streamItem) bool { return true })
		it, dst = e.add(dst, OutputItem{Type: "message", Status: "in_progress", Role: "assistant", Content: []ContentPart{}}, "msg")
		e.message = it
	}
	part, typ := &it.textPart, "response.output_text.delta"
	newPart := ContentPart{Type: "output_text"}
	if refusal {
		part, typ = &it.refusalPart, "response.refusal.delta"
		newPart = ContentPart{Type: "refusal"}
	}
	if *part < 0 {
		*part = max(it.textPart, it.refusalPart) + 1
		dst = e.emit(dst, streamEvent{Type: "response.content_part.added", ItemID: it.item.ID,
			OutputIndex: new(it.index), ContentIndex: new(*part), Part: newPart})
	}
	if refusal {
		it.refusal.WriteString(delta)
	} else {
		it.text.WriteString(delta)
	}
	return e.emit(dst, streamEvent{Type: typ, ItemID: it.item.ID, OutputIndex: new(it.index),
		ContentIndex: new(*part), Delta: &delta})
}

// callDelta adds a fragment of tool call idx, opening its item.
func (e *ResponsesStreamEncoder) callDelta(dst []byte, idx int, tc chat.ToolCall) []byte {
	it := e.calls[idx]
	if it == nil {
		dst = e.closeItems(dst, func(it *streamItem) bool { return !isCall(it.item.Type) })
		it, dst = e.add(dst, callItem(e.respID, len(e.items), e.resp.names, tc.ID, tc.Function.Name, "", "in_progress"), "")
		e.calls[idx] = it
	} else if it.item.Name == "" && tc.Function.Name != "" {
		// A late name keeps the type the item was added with.
		t := e.resp.names.lookup(tc.Function.Name)
		it.item.Namespace, it.item.Name = t.namespace, t.name
	}
	if tc.Function.Arguments == "" {
		return dst
	}
	it.text.WriteString(tc.Function.Arguments)
	if it.item.Type != "function_call" {
		return dst // a custom tool call's input is sent whole, at its end
	}
	return e.emit(dst, streamEvent{Type: "response.function_call_arguments.delta", ItemID: it.item.ID,
		OutputIndex: new(it.index), Delta: &tc.Function.Arguments})
}

// isCall reports whether an item of type typ is a tool call.
func isCall(typ string) bool {
	return typ == "function_call" || typ == "custom_tool_call"
}

// add opens an item at the next output index and writes
// response.output_item.added. prefix makes its id; "" keeps item.ID.
func (e *ResponsesStreamEncoder) add(dst []byte, item OutputItem, prefix string) (*streamItem, []byte) {
	it := &streamItem{index: len(e.items), item: item, open: true, textPart: -1, refusalPart: -1}
	if prefix != "" {
		it.item.ID = itemID(prefix, e.respID, it.index)
	}
	e.items = append(e.items, it)
	e.store(it)
	return it, e.emit(dst, streamEvent{Type: "response.output_item.added", OutputIndex: new(it.index), Item: &it.item})
}

// closeItems closes the open items which, in output order, writing their
// done events.
func (e *ResponsesStreamEncoder) closeItems(dst []byte, which func(*streamItem) bool) []byte {
	for _, it := range e.items {
		if it.open && which(it) {
			dst = e.close(dst, it)
		}
	}
	return dst
}

// close writes the done events of an item: its text's, its parts', then
// response.output_item.done with the whole item.
func (e *ResponsesStreamEncoder) close(dst []byte, it *streamItem) []byte {
	it.open = false
	id, index := it.item.ID, new(it.index)
	if it.item.Status == "in_progress" {
		it.item.Status = "completed"
	}
	switch it.item.Type {
	case "reasoning":
		e.reasoning = nil
		text := it.text.String()
		dst = e.emit(dst, streamEvent{Type: "response.reasoning_summary_text.done", ItemID: id, OutputIndex: index,
			SummaryIndex: new(0), Text: &text})
		part := SummaryPart{Type: "summary_text", Text: text}
		dst = e.emit(dst, streamEvent{Type: "response.reasoning_summary_part.done", ItemID: id, OutputIndex: index,
			SummaryIndex: new(0), Part: part})
	case "message":
		e.message = nil
		for ci := range max(it.textPart, it.refusalPart) + 1 {
			if ci == it.textPart {
				text := it.text.String()
				dst = e.emit(dst, streamEvent{Type: "response.output_text.done", ItemID: id, OutputIndex: index,
					ContentIndex: new(ci), Text: &text})
				dst = e.emit(dst, streamEvent{Type: "response.content_part.done", ItemID: id, OutputIndex: index,
					ContentIndex: new(ci), Part: ContentPart{Type: "output_text", Text: text}})
			} else {
				refusal := it.refusal.String()
				dst = e.emit(dst, streamEvent{Type: "response.refusal.done", ItemID: id, OutputIndex: index,
					ContentIndex: new(ci), Refusal: &refusal})
				dst = e.emit(dst, streamEvent{Type: "response.content_part.done", ItemID: id, OutputIndex: index,
					ContentIndex: new(ci), Part: ContentPart{Type: "refusal", Refusal: refusal}})
			}
		}
	case "function_call", "custom_tool_call":
		for k, c := range e.calls {
			if c == it {
				delete(e.calls, k)
			}
		}
		args := it.text.String()
		if it.item.Type == "function_call" {
			dst = e.emit(dst, streamEvent{Type: "response.function_call_arguments.done", ItemID: id, OutputIndex: index,
				Arguments: &args})
			break
		}
		input := customInput(args)
		if input != "" {
			dst = e.emit(dst, streamEvent{Type: "response.custom_tool_call_input.delta", ItemID: id, OutputIndex: index,
				Delta: &input})
		}
		dst = e.emit(dst, streamEvent{Type: "response.custom_tool_call_input.done", ItemID: id, OutputIndex: index,
			Input: &input})
	}
	e.store(it)
	return e.emit(dst, streamEvent{Type: "response.output_item.done", OutputIndex: index, Item: &it.item})
}

// store writes the item as it stands into the response's output: its
// text so far in its parts, summary, arguments or input.
func (e *ResponsesStreamEncoder) store(it *streamItem) {
	item := it.item
	switch item.Type {
	case "reasoning":
		if it.text.Len() > 0 || !it.open {
			item.Summary = []SummaryPart{{Type: "summary_text", Text: it.text.String()}}
		}
	case "message":
		item.Content = []ContentPart{}
		for ci := range max(it.textPart, it.refusalPart) + 1 {
			if ci == it.textPart {
				item.Content = append(item.Content, ContentPart{Type: "output_text", Text: it.text.String()})
			} else {
				item.Content = append(item.Content, ContentPart{Type: "refusal", Refusal: it.refusal.String()})
			}
		}
	case "function_call":
		item.Arguments = it.text.String()
	case "custom_tool_call":
		item.Input = customInput(it.text.String())
	}
	if !it.open {
		it.item = item // the done event carries the whole item
	}
	if it.index < len(e.resp.Output) {
		e.resp.Output[it.index] = item
	} else {
		e.resp.Output = append(e.resp.Output, item)
	}
}

// snapshot is a copy of the response as it stands.
func (e *ResponsesStreamEncoder) snapshot() *Response {
	for _, it := range e.items {
		if it.open {
			e.store(it)
		}
	}
	r := *e.resp
	r.Output = slices.Clone(e.resp.Output)
	if r.Output == nil {
		r.Output = []OutputItem{}
	}
	return &r
}

// emit writes one event, numbering it.
func (e *ResponsesStreamEncoder) emit(dst []byte, ev streamEvent) []byte {
	ev.SequenceNumber = e.seq
	data, err := json.Marshal(ev)
	if err != nil {
		// Only a caller-built request with broken raw JSON gets here.
		ev := errorEvent{Type: "error", SequenceNumber: e.seq, Code: "server_error", Message: "Detour could not encode a stream event"}
		data, ev.Type = jsonOf(ev), "error"
		e.ended = true
	}
	e.seq++
	return appendEvent(dst, ev.Type, data)
}

// appendEvent frames one server-sent event.
func appendEvent(dst []byte, name string, data []byte) []byte {
	dst = append(dst, "event: "...)
	dst = append(dst, name...)
	dst = append(dst, "\ndata: "...)
	dst = append(dst, data...)
	return append(dst, "\n\n"...)
}

// streamEvent is any event of a response stream; the members an event
// type does not have are left out.
type streamEvent struct {
	Type           string      `json:"type"`
	SequenceNumber int         `json:"sequence_number"`
	Response       *Response   `json:"response,omitempty"`
	ItemID         string      `json:"item_id,omitempty"`
	OutputIndex    *int        `json:"output_index,omitempty"`
	ContentIndex   *int        `json:"content_index,omitempty"`
	SummaryIndex   *int        `json:"summary_index,omitempty"`
	Item           *OutputItem `json:"item,omitempty"`
	Part           any         `json:"part,omitempty"` // ContentPart or SummaryPart
	Delta          *string     `json:"delta,omitempty"`
	Text           *string     `json:"text,omitempty"`
	Refusal        *string     `json:"refusal,omitempty"`
	Arguments      *string     `json:"arguments,omitempty"`
	Input          *string     `json:"input,omitempty"`
}

// errorEvent is the bare error event.
type errorEvent struct {
	Type           string  `json:"type"`
	SequenceNumber int     `json:"sequence_number"`
	Code           string  `json:"code"`
	Message        string  `json:"message"`
	Param          *string `json:"param"`
}
