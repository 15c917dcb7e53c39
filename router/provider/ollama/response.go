package ollama

import (
	"context"
	"encoding/json"
	"io"
	"strings"
	"sync"

	"github.com/ollama/ollama/api"

	"github.com/detour-gateway/detour/chat"
	"github.com/detour-gateway/detour/router/provider"
)

// answer gathers the messages of a non-streamed answer. Ollama sends one
// with done: true; should a server stream anyway, the pieces are joined as
// Ollama joins them itself.
type answer struct {
	seen       bool // at least one message arrived
	done       bool
	model      string
	content    strings.Builder
	thinking   strings.Builder
	calls      []api.ToolCall
	doneReason string
	prompt     int
	completion int
}

func (a *answer) add(r api.ChatResponse) {
	if a.done {
		return
	}
	if !a.seen {
		a.seen, a.model = true, r.Model
	}
	a.content.WriteString(r.Message.Content)
	a.thinking.WriteString(r.Message.Thinking)
	a.calls = append(a.calls, r.Message.ToolCalls...)
	if r.Done {
		a.done, a.doneReason = true, r.DoneReason
		a.prompt, a.completion = r.PromptEvalCount, r.EvalCount
	}
}

func (c *Client) response(a *answer) *chat.Response {
	msg := chat.Message{Role: "assistant", ReasoningContent: a.thinking.String()}
	text := a.content.String()
	if len(a.calls) > 0 {
		msg.ToolCalls = make([]chat.ToolCall, len(a.calls))
		for i, tc := range a.calls {
			msg.ToolCalls[i] = c.toolCall(tc)
		}
	}
	if text == "" && len(a.calls) > 0 {
		msg.Content = json.RawMessage("null")
	} else {
		msg.Content = chat.TextContent(text)
	}
	return &chat.Response{
		ID:      c.newID("chatcmpl-"),
		Object:  "chat.completion",
		Created: c.opts.Now().Unix(),
		Model:   a.model,
		Choices: []chat.Choice{{Index: 0, Message: msg, FinishReason: finishReason(a.doneReason, len(a.calls) > 0)}},
		Usage:   usage(a.prompt, a.completion),
	}
}

// toolCall translates a call Ollama made: its arguments object becomes a
// JSON string, and a call without an id (Ollama before 0.12) gets one.
func (c *Client) toolCall(tc api.ToolCall) chat.ToolCall {
	id := tc.ID
	if id == "" {
		id = c.newID("call_")
	}
	args, err := json.Marshal(tc.Function.Arguments)
	if err != nil {
		args = []byte("{}") // arguments decoded from JSON always encode
	}
	return chat.ToolCall{ID: id, Type: "function", Function: chat.FunctionCall{Name: tc.Function.Name, Arguments: string(args)}}
}

// finishReason maps Ollama's done_reason: "length" is length; an answer
// with tool calls is tool_calls; anything else ("stop", or a reason a
// newer Ollama adds) is stop.
func finishReason(doneReason string, toolCalls bool) chat.FinishReason {
	switch {
	case doneReason == "length":
		return "length"
	case toolCalls:
		return "tool_calls"
	}
	return "stop"
}

func usage(prompt, completion int) *chat.Usage {
	return &chat.Usage{PromptTokens: prompt, CompletionTokens: completion, TotalTokens: prompt + completion}
}

// stream adapts the api client's callback to provider.Stream. One
// goroutine (run) calls the api client; its callback hands each message
// over msgs, and gives up as soon as ctx ends, so the goroutine never
// blocks on a reader that has gone. Close cancels ctx and waits for it.
type stream struct {
	c      *Client
	ctx    context.Context
	cancel context.CancelFunc
	tr     *trace
	msgs   chan api.ChatResponse
	done   chan struct{} // closed when run returns
	err    error         // run's result, read after done

	id           string
	created      int64
	includeUsage bool

	model     string
	started   bool // the role chunk was queued
	nextCall  int  // index of the next tool call
	sawCalls  bool
	finished  bool  // done: true was translated
	failure   error // the terminal error, returned again by later calls
	pending   []*chat.Chunk
	closeOnce sync.Once
}

func (s *stream) run(cl *api.Client, req *api.ChatRequest) {
	defer close(s.done)
	s.err = cl.Chat(s.ctx, req, func(r api.ChatResponse) error {
		select {
		case s.msgs <- r:
			return nil
		case <-s.ctx.Done():
			return s.ctx.Err()
		}
	})
}

// Recv returns the next chunk, io.EOF after the last, or a
// *provider.Error.
func (s *stream) Recv() (*chat.Chunk, error) {
	for {
		if len(s.pending) > 0 {
			ch := s.pending[0]
			s.pending = s.pending[1:]
			return ch, nil
		}
		if s.failure != nil {
			return nil, s.failure
		}
		if s.finished {
			// Ollama ends the body right after done: true, so the api
			// client returns on its own; Close or the request context
			// ends it should anything follow.
			return nil, io.EOF
		}
		select {
		case r := <-s.msgs:
			s.translate(r)
		case <-s.done:
			s.failure = s.end()
		case <-s.ctx.Done():
			s.failure = provider.TransportError(s.ctx.Err())
			s.cancel()
		}
	}
}

// end classifies the end of a stream that stopped before done: true.
func (s *stream) end() error {
	if s.err != nil {
		return s.c.fail(s.ctx, s.tr, s.err, true)
	}
	return s.c.incomplete(s.ctx, s.tr, true, true)
}

// translate turns one Ollama message into chunks, queued in pending.
func (s *stream) translate(r api.ChatResponse) {
	if s.finished {
		return
	}
	if !s.started {
		s.started, s.model = true, r.Model
		s.push(chat.Delta{Role: "assistant"}, "")
	}
	if r.Message.Content != "" || r.Message.Thinking != "" {
		s.push(chat.Delta{Content: r.Message.Content, ReasoningContent: r.Message.Thinking}, "")
	}
	for _, tc := range r.Message.ToolCalls {
		call := s.c.toolCall(tc)
		i, j := s.nextCall, s.nextCall
		s.nextCall++
		s.sawCalls = true
		s.push(chat.Delta{ToolCalls: []chat.ToolCall{{Index: &i, ID: call.ID, Type: "function",
			Function: chat.FunctionCall{Name: call.Function.Name}}}}, "")
		s.push(chat.Delta{ToolCalls: []chat.ToolCall{{Index: &j,
			Function: chat.FunctionCall{Arguments: call.Function.Arguments}}}}, "")
	}
	if !r.Done {
		return
	}
	s.finished = true
	s.push(chat.Delta{}, finishReason(r.DoneReason, s.sawCalls))
	if s.includeUsage {
		s.pending = append(s.pending, &chat.Chunk{ID: s.id, Object: "chat.completion.chunk", Created: s.created,
			Model: s.model, Choices: []chat.ChunkChoice{}, Usage: usage(r.PromptEvalCount, r.EvalCount)})
	}
}

func (s *stream) push(d chat.Delta, finish chat.FinishReason) {
	s.pending = append(s.pending, &chat.Chunk{ID: s.id, Object: "chat.completion.chunk", Created: s.created,
		Model: s.model, Choices: []chat.ChunkChoice{{Index: 0, Delta: d, FinishReason: finish}}})
}

// Close stops the request and waits until the api client has let go of
// the connection. It is safe to call more than once, and while another
// goroutine waits in Recv (which then fails).
func (s *stream) Close() error {
	s.closeOnce.Do(func() {
		s.cancel()
		<-s.done
	})
	return nil
}
