package gemini

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

// stream reads streamGenerateContent?alt=sse: server-sent events whose
// data is each a GenerateContentResponse carrying the next piece of every
// candidate. There is no [DONE]: the answer is complete when every
// candidate has carried a finishReason and the body ends. One event can
// give several OpenAI chunks (text, a tool call's header and arguments, the
// finish), so chunks wait in a queue.
type stream struct {
	c            *Client
	body         io.ReadCloser
	events       *sse.Reader
	includeUsage bool

	id      string // shared by every chunk; set from the first event
	created int64
	model   string

	cands  map[int]*candidateState
	usage  *usageMetadata // the latest usageMetadata; Gemini repeats it as it grows
	queue  []*chat.Chunk
	err    error // sticky failure
	done   bool  // the stream ended cleanly; io.EOF once the queue is empty
	closed sync.Once
}

// candidateState is what the stream knows of one candidate (one choice).
type candidateState struct {
	calls    int // tool calls so far, the index of the next
	finished bool
}

func (c *Client) newStream(body io.ReadCloser, includeUsage bool) *stream {
	return &stream{
		c: c, body: body, events: sse.NewReader(body), includeUsage: includeUsage,
		created: c.opts.Now().Unix(), cands: map[int]*candidateState{},
	}
}

// Recv returns the next chunk, io.EOF after the last, or a *provider.Error.
func (s *stream) Recv() (*chat.Chunk, error) {
	for {
		if len(s.queue) > 0 {
			ch := s.queue[0]
			s.queue[0] = nil
			s.queue = s.queue[1:]
			return ch, nil
		}
		if s.err != nil {
			return nil, s.err
		}
		if s.done {
			return nil, io.EOF
		}
		if err := s.read(); err != nil {
			s.err = err
		}
	}
}

// read reads one event and queues the chunks it gives.
func (s *stream) read() error {
	ev, err := s.events.Next()
	if err != nil {
		if errors.Is(err, io.EOF) && s.finished() {
			s.done = true
			if s.includeUsage {
				u := toUsage(s.usage)
				if u == nil {
					u = &chat.Usage{}
				}
				ch := s.chunk()
				ch.Choices = []chat.ChunkChoice{}
				ch.Usage = u
				s.queue = append(s.queue, ch)
			}
			return nil
		}
		return sse.ReadError(s.c.opts.Name, err)
	}
	data := bytes.TrimSpace(ev.Data)
	if len(data) == 0 {
		return nil
	}
	var gr generateResponse
	if err := json.Unmarshal(data, &gr); err != nil {
		return &provider.Error{Class: provider.ServerError, Status: http.StatusOK,
			Message: s.c.opts.Name + " sent a malformed stream event", Err: fmt.Errorf("decode stream event: %w", err)}
	}
	if gr.Error != nil {
		return midStreamError(s.c.opts.Name, gr.Error)
	}
	if len(gr.Candidates) == 0 && gr.PromptFeedback != nil && gr.PromptFeedback.BlockReason != "" {
		return s.c.blocked(gr.PromptFeedback.BlockReason)
	}
	if s.id == "" {
		s.id = s.c.responseID(gr.ResponseID)
		s.model = s.c.answeringModel(gr.ModelVersion)
	}
	if gr.UsageMetadata != nil {
		s.usage = gr.UsageMetadata
	}
	for _, cand := range gr.Candidates {
		s.candidate(cand)
	}
	return nil
}

// candidate queues the chunks for one candidate's piece of an event.
func (s *stream) candidate(cand candidate) {
	st := s.cands[cand.Index]
	if st == nil {
		st = &candidateState{}
		s.cands[cand.Index] = st
		s.push(cand.Index, chat.Delta{Role: "assistant"})
	}
	if st.finished {
		return // nothing follows a candidate's finish
	}
	if cand.Content != nil {
		for _, p := range cand.Content.Parts {
			switch {
			case p.FunctionCall != nil:
				i := st.calls
				st.calls++
				tc := s.c.toolCall(p)
				args := tc.Function.Arguments
				tc.Index = &i
				tc.Function.Arguments = ""
				s.push(cand.Index, chat.Delta{ToolCalls: []chat.ToolCall{tc}})
				j := i
				s.push(cand.Index, chat.Delta{ToolCalls: []chat.ToolCall{{Index: &j, Function: chat.FunctionCall{Arguments: args}}}})
			case p.Text == "":
				// a part carrying only a thought signature
			case p.Thought:
				s.push(cand.Index, chat.Delta{ReasoningContent: p.Text})
			default:
				s.push(cand.Index, chat.Delta{Content: p.Text})
			}
		}
	}
	if cand.FinishReason != "" {
		st.finished = true
		ch := s.chunk()
		ch.Choices = []chat.ChunkChoice{{Index: cand.Index, FinishReason: finishReason(cand.FinishReason, st.calls > 0)}}
		s.queue = append(s.queue, ch)
	}
}

func (s *stream) push(index int, d chat.Delta) {
	ch := s.chunk()
	ch.Choices = []chat.ChunkChoice{{Index: index, Delta: d}}
	s.queue = append(s.queue, ch)
}

func (s *stream) chunk() *chat.Chunk {
	return &chat.Chunk{ID: s.id, Object: "chat.completion.chunk", Created: s.created, Model: s.model}
}

// finished reports whether every candidate seen has finished.
func (s *stream) finished() bool {
	if len(s.cands) == 0 {
		return false
	}
	for _, st := range s.cands {
		if !st.finished {
			return false
		}
	}
	return true
}

// Close releases the connection. It is safe to call more than once.
func (s *stream) Close() error {
	var err error
	s.closed.Do(func() { err = s.body.Close() })
	return err
}
