package chat

import (
	"slices"
	"strings"
)

// Assembler adds up the chunks of a stream into the complete Response they
// make, as if the answer had not been streamed. The zero value is ready.
type Assembler struct {
	resp    Response
	started bool
	choices map[int]*choiceSum
}

// choiceSum gathers one choice's parts.
type choiceSum struct {
	role      string
	content   strings.Builder
	reasoning strings.Builder
	calls     map[int]*ToolCall
	args      map[int]*strings.Builder
	finish    FinishReason
}

// Add adds one chunk.
func (a *Assembler) Add(c *Chunk) {
	if !a.started {
		a.started = true
		a.resp = Response{ID: c.ID, Object: "chat.completion", Created: c.Created, Model: c.Model}
		for k, v := range c.Extra {
			if k != "obfuscation" { // per-chunk padding, meaningless in a whole answer
				if a.resp.Extra == nil {
					a.resp.Extra = Extra{}
				}
				a.resp.Extra[k] = v
			}
		}
		a.choices = map[int]*choiceSum{}
	}
	if c.Usage != nil {
		a.resp.Usage = c.Usage
	}
	for _, ch := range c.Choices {
		s := a.choices[ch.Index]
		if s == nil {
			s = &choiceSum{calls: map[int]*ToolCall{}, args: map[int]*strings.Builder{}}
			a.choices[ch.Index] = s
		}
		if ch.Delta.Role != "" {
			s.role = ch.Delta.Role
		}
		s.content.WriteString(ch.Delta.Content)
		s.reasoning.WriteString(ch.Delta.ReasoningContent)
		for i, tc := range ch.Delta.ToolCalls {
			idx := i
			if tc.Index != nil {
				idx = *tc.Index
			}
			call := s.calls[idx]
			if call == nil {
				call = &ToolCall{Type: "function"}
				s.calls[idx], s.args[idx] = call, &strings.Builder{}
			}
			if tc.ID != "" {
				call.ID = tc.ID
			}
			if tc.Type != "" {
				call.Type = tc.Type
			}
			if tc.Function.Name != "" {
				call.Function.Name = tc.Function.Name
			}
			if tc.Extra != nil {
				call.Extra = tc.Extra
			}
			if tc.Function.Extra != nil {
				call.Function.Extra = tc.Function.Extra
			}
			s.args[idx].WriteString(tc.Function.Arguments)
		}
		if ch.FinishReason != "" {
			s.finish = ch.FinishReason
		}
	}
}

// Response returns the answer the chunks so far add up to, choices in
// index order.
func (a *Assembler) Response() *Response {
	resp := a.resp
	resp.Choices = []Choice{}
	indexes := make([]int, 0, len(a.choices))
	for i := range a.choices {
		indexes = append(indexes, i)
	}
	slices.Sort(indexes)
	for _, i := range indexes {
		s := a.choices[i]
		m := Message{Role: s.role, ReasoningContent: s.reasoning.String()}
		if m.Role == "" {
			m.Role = "assistant"
		}
		callIdx := make([]int, 0, len(s.calls))
		for j := range s.calls {
			callIdx = append(callIdx, j)
		}
		slices.Sort(callIdx)
		for _, j := range callIdx {
			call := *s.calls[j]
			call.Function.Arguments = s.args[j].String()
			m.ToolCalls = append(m.ToolCalls, call)
		}
		switch {
		case s.content.Len() > 0 || len(m.ToolCalls) == 0:
			m.Content = TextContent(s.content.String())
		default:
			m.Content = []byte("null")
		}
		resp.Choices = append(resp.Choices, Choice{Index: i, Message: m, FinishReason: s.finish})
	}
	return &resp
}

// Chunks returns resp as the chunks of a stream, as OpenAI would send it:
// per choice a role chunk, the content and reasoning whole, one chunk per
// tool call, and a finish chunk; then, with includeUsage, a last chunk
// with the usage and no choices.
func Chunks(resp *Response, includeUsage bool) []*Chunk {
	mk := func(choices ...ChunkChoice) *Chunk {
		return &Chunk{ID: resp.ID, Object: "chat.completion.chunk", Created: resp.Created, Model: resp.Model,
			Choices: choices, Extra: resp.Extra}
	}
	var out []*Chunk
	for _, ch := range resp.Choices {
		out = append(out, mk(ChunkChoice{Index: ch.Index, Delta: Delta{Role: "assistant"}}))
		if r := ch.Message.ReasoningContent; r != "" {
			out = append(out, mk(ChunkChoice{Index: ch.Index, Delta: Delta{ReasoningContent: r}}))
		}
		if text := ch.Message.Text(); text != "" {
			out = append(out, mk(ChunkChoice{Index: ch.Index, Delta: Delta{Content: text}}))
		}
		for j, tc := range ch.Message.ToolCalls {
			tc.Index = &j
			out = append(out, mk(ChunkChoice{Index: ch.Index, Delta: Delta{ToolCalls: []ToolCall{tc}}}))
		}
		out = append(out, mk(ChunkChoice{Index: ch.Index, FinishReason: ch.FinishReason}))
	}
	if includeUsage && resp.Usage != nil {
		last := mk()
		last.Choices = []ChunkChoice{}
		last.Usage = resp.Usage
		out = append(out, last)
	}
	return out
}
