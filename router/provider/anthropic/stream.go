package anthropic

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"

	"github.com/detour-gateway/detour/chat"
	"github.com/detour-gateway/detour/router/provider"
	"github.com/detour-gateway/detour/router/provider/sse"
)

// wireEvent is one event of a Messages stream. Each event type sets its own
// fields; Delta holds both content_block_delta's and message_delta's.
type wireEvent struct {
	Type         string        `json:"type"`
	Message      *wireResponse `json:"message"`
	Index        int           `json:"index"`
	ContentBlock *wireContent  `json:"content_block"`
	Delta        *wireDelta    `json:"delta"`
	Usage        *wireUsage    `json:"usage"`
	Error        *wireError    `json:"error"`
}

type wireDelta struct {
	Type        string `json:"type"` // text_delta, input_json_delta, thinking_delta, signature_delta, …
	Text        string `json:"text"`
	PartialJSON string `json:"partial_json"`
	Thinking    string `json:"thinking"`
	StopReason  string `json:"stop_reason"`
}

// toolBlock is a tool_use content block being streamed.
type toolBlock struct {
	index   int  // the tool call's index in OpenAI's terms
	hasArgs bool // an argument fragment was sent
}

// stream translates a Messages event stream into OpenAI chunks. Events are
// read one at a time; one event gives zero, one or two chunks, queued in
// pending.
type stream struct {
	name         string
	body         io.ReadCloser
	events       *sse.Reader
	includeUsage bool
	closeOnce    sync.Once
	closeErr     error

	id, model string
	created   int64
	started   bool               // message_start was seen
	tools     map[int]*toolBlock // by content block index
	nextTool  int
	finish    chat.FinishReason
	usage     wireUsage
	pending   []*chat.Chunk
	done      bool  // message_stop was seen
	err       error // the failure that ended the stream
	// keepNative keeps each event's bytes, framed as they came, on the
	// next chunk queued (Chunk.Native): the client speaks the Messages
	// API too. native holds the events not yet given to a chunk.
	keepNative bool
	native     []byte
}

func newStream(name, model string, created int64, includeUsage bool, body io.ReadCloser) *stream {
	return &stream{name: name, model: model, created: created, includeUsage: includeUsage,
		body: body, events: sse.NewReader(body), tools: map[int]*toolBlock{}}
}

// Recv returns the next chunk, io.EOF after message_stop, or the
// *provider.Error that ended the stream (again on every later call).
func (s *stream) Recv() (*chat.Chunk, error) {
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
			s.err = sse.ReadError(s.name, err) // the stream ended, or broke, before message_stop
			continue
		}
		if s.keepNative {
			s.native = sse.AppendEvent(s.native, ev)
		}
		queued := len(s.pending)
		if perr := s.handle(ev); perr != nil {
			s.err = perr
			continue
		}
		if s.keepNative && len(s.pending) > queued {
			s.pending[queued].Native, s.native = s.native, nil
		}
	}
}

// Close releases the connection. It is safe to call more than once.
func (s *stream) Close() error {
	s.closeOnce.Do(func() { s.closeErr = s.body.Close() })
	return s.closeErr
}

// handle translates one event, queueing the chunks it gives.
func (s *stream) handle(ev sse.Event) *provider.Error {
	data := bytes.TrimSpace(ev.Data)
	if len(data) == 0 {
		return nil
	}
	var e wireEvent
	if err := json.Unmarshal(data, &e); err != nil {
		return s.malformed(fmt.Errorf("decode %s event: %w", ev.Name, err))
	}
	typ := e.Type
	if typ == "" {
		typ = ev.Name
	}
	switch typ {
	case "error":
		return midStreamError(s.name, e.Error)
	case "message_start":
		if s.started {
			return nil
		}
		s.started = true
		if e.Message != nil {
			s.id = e.Message.ID
			if e.Message.Model != "" {
				s.model = e.Message.Model
			}
			s.usage.update(&e.Message.Usage)
		}
		s.id = chatID(s.id)
		s.push(chat.Delta{Role: "assistant"}, "")
		return nil
	case "content_block_start", "content_block_delta", "content_block_stop", "message_delta", "message_stop":
		if !s.started {
			return s.malformed(fmt.Errorf("%s event before message_start", typ))
		}
	default:
		return nil // ping, and event types newer than this code
	}
	switch typ {
	case "content_block_start":
		b := e.ContentBlock
		if b == nil {
			return s.malformed(errors.New("content_block_start without content_block"))
		}
		switch b.Type {
		case "text":
			if b.Text != "" {
				s.push(chat.Delta{Content: b.Text}, "")
			}
		case "thinking":
			if b.Thinking != "" {
				s.push(chat.Delta{ReasoningContent: b.Thinking}, "")
			}
		case "tool_use":
			t := &toolBlock{index: s.nextTool}
			s.nextTool++
			s.tools[e.Index] = t
			s.push(chat.Delta{ToolCalls: []chat.ToolCall{{Index: intPtr(t.index), ID: b.ID, Type: "function",
				Function: chat.FunctionCall{Name: b.Name}}}}, "")
		}
	case "content_block_delta":
		d := e.Delta
		if d == nil {
			return s.malformed(errors.New("content_block_delta without delta"))
		}
		switch d.Type {
		case "text_delta":
			if d.Text != "" {
				s.push(chat.Delta{Content: d.Text}, "")
			}
		case "thinking_delta":
			if d.Thinking != "" {
				s.push(chat.Delta{ReasoningContent: d.Thinking}, "")
			}
		case "input_json_delta":
			if t := s.tools[e.Index]; t != nil && d.PartialJSON != "" {
				t.hasArgs = true
				s.push(chat.Delta{ToolCalls: []chat.ToolCall{{Index: intPtr(t.index),
					Function: chat.FunctionCall{Arguments: d.PartialJSON}}}}, "")
			}
		}
	case "content_block_stop":
		if t := s.tools[e.Index]; t != nil && !t.hasArgs {
			// A call without arguments: OpenAI clients expect a JSON text.
			t.hasArgs = true
			s.push(chat.Delta{ToolCalls: []chat.ToolCall{{Index: intPtr(t.index),
				Function: chat.FunctionCall{Arguments: emptyObject}}}}, "")
		}
	case "message_delta":
		if e.Delta != nil && e.Delta.StopReason != "" {
			s.finish = finishReason(e.Delta.StopReason)
		}
		s.usage.update(e.Usage)
	case "message_stop":
		s.done = true
		finish := s.finish
		if finish == "" {
			finish = "stop"
		}
		s.push(chat.Delta{}, finish)
		if s.includeUsage {
			s.pending = append(s.pending, &chat.Chunk{ID: s.id, Object: "chat.completion.chunk", Created: s.created,
				Model: s.model, Choices: []chat.ChunkChoice{}, Usage: s.usage.chat()})
		}
	}
	return nil
}

// push queues a chunk with one choice.
func (s *stream) push(d chat.Delta, finish chat.FinishReason) {
	s.pending = append(s.pending, &chat.Chunk{ID: s.id, Object: "chat.completion.chunk", Created: s.created, Model: s.model,
		Choices: []chat.ChunkChoice{{Index: 0, Delta: d, FinishReason: finish}}})
}

func (s *stream) malformed(err error) *provider.Error {
	return &provider.Error{Class: provider.ServerError, Status: http.StatusOK,
		Message: s.name + " sent a malformed stream event", Err: err}
}

func intPtr(i int) *int { return &i }
