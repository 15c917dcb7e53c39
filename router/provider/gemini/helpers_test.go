package gemini_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/detour-gateway/detour/chat"
	"github.com/detour-gateway/detour/router/provider"
	"github.com/detour-gateway/detour/router/provider/gemini"
	"github.com/detour-gateway/detour/router/provider/providertest"
)

const (
	fakeKey   = "test-key-not-real"
	testModel = "gemini-2.5-flash"
)

// fixedNow is the clock of every test client.
func fixedNow() time.Time { return time.Unix(1732345678, 0) }

func newClient(base string, edit ...func(*gemini.Options)) *gemini.Client {
	o := gemini.Options{
		BaseURL: base, Model: testModel,
		Key:  func(context.Context) (string, error) { return fakeKey, nil },
		Now:  fixedNow,
		Rand: &providertest.CountingReader{},
	}
	for _, e := range edit {
		e(&o)
	}
	return gemini.New(o)
}

// drain reads a stream to its end and returns its chunks and the error
// that ended it (io.EOF for a clean end).
func drain(t testing.TB, s provider.Stream) ([]*chat.Chunk, error) {
	t.Helper()
	defer s.Close()
	var chunks []*chat.Chunk
	for range 10000 {
		c, err := s.Recv()
		if err != nil {
			return chunks, err
		}
		chunks = append(chunks, c)
	}
	t.Fatal("stream did not end")
	return nil, nil
}

// assemble joins a stream's chunks into the message of choice 0, as a
// client would.
func assemble(chunks []*chat.Chunk) chat.Message {
	m := chat.Message{Role: "assistant"}
	var text, reasoning strings.Builder
	for _, c := range chunks {
		for _, ch := range c.Choices {
			if ch.Index != 0 {
				continue
			}
			text.WriteString(ch.Delta.Content)
			reasoning.WriteString(ch.Delta.ReasoningContent)
			for _, tc := range ch.Delta.ToolCalls {
				i := *tc.Index
				for len(m.ToolCalls) <= i {
					m.ToolCalls = append(m.ToolCalls, chat.ToolCall{Type: "function"})
				}
				dst := &m.ToolCalls[i]
				if tc.ID != "" {
					dst.ID = tc.ID
				}
				if tc.Function.Name != "" {
					dst.Function.Name = tc.Function.Name
				}
				dst.Function.Arguments += tc.Function.Arguments
				for k, v := range tc.Extra {
					if dst.Extra == nil {
						dst.Extra = chat.Extra{}
					}
					dst.Extra[k] = v
				}
			}
		}
	}
	if text.Len() > 0 || len(m.ToolCalls) == 0 {
		m.Content = chat.TextContent(text.String())
	}
	m.ReasoningContent = reasoning.String()
	return m
}

// asError returns err as a *provider.Error, failing the test otherwise.
func asError(t testing.TB, err error) *provider.Error {
	t.Helper()
	var pe *provider.Error
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v (%T), want *provider.Error", err, err)
	}
	return pe
}

// readAll is io.ReadAll for tests.
func readAll(t testing.TB, r io.Reader) []byte {
	t.Helper()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
