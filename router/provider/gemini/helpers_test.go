package gemini_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/detour-gateway/detour/chat"
	"github.com/detour-gateway/detour/router/provider"
	"github.com/detour-gateway/detour/router/provider/gemini"
)

const (
	fakeKey   = "test-key-not-real"
	testModel = "gemini-2.5-flash"
)

// fixedNow is the clock of every test client.
func fixedNow() time.Time { return time.Unix(1732345678, 0) }

// counterRand is a deterministic Rand: bytes 0, 1, 2, … in turn.
type counterRand struct {
	mu sync.Mutex
	n  byte
}

func (r *counterRand) Read(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range p {
		p[i] = r.n
		r.n++
	}
	return len(p), nil
}

func newClient(base string, edit ...func(*gemini.Options)) *gemini.Client {
	o := gemini.Options{
		BaseURL: base, Model: testModel,
		Key:  func(context.Context) (string, error) { return fakeKey, nil },
		Now:  fixedNow,
		Rand: &counterRand{},
	}
	for _, e := range edit {
		e(&o)
	}
	return gemini.New(o)
}

func parseRequest(t testing.TB, body string) *chat.Request {
	t.Helper()
	var r chat.Request
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatalf("test request: %v\n%s", err, body)
	}
	return &r
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

// compareGolden compares got (JSON) with the golden file structurally, or
// rewrites the file under -update.
func compareGolden(t *testing.T, file string, got []byte) {
	t.Helper()
	var gotV any
	if err := json.Unmarshal(got, &gotV); err != nil {
		t.Fatalf("%s: result is not JSON: %v\n%s", file, err, got)
	}
	pretty, _ := json.MarshalIndent(gotV, "", "  ")
	pretty = append(pretty, '\n')
	if *update {
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, pretty, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	var wantV any
	if err := json.Unmarshal(want, &wantV); err != nil {
		t.Fatalf("%s is not JSON: %v", file, err)
	}
	if !reflect.DeepEqual(gotV, wantV) {
		wantPretty, _ := json.MarshalIndent(wantV, "", "  ")
		t.Errorf("%s differs (-want +got):\n%s", file, lineDiff(string(wantPretty), string(pretty)))
	}
}

// lineDiff is a line diff of a and b from their longest common
// subsequence, with two lines of context around each change.
func lineDiff(a, b string) string {
	x := strings.Split(strings.TrimRight(a, "\n"), "\n")
	y := strings.Split(strings.TrimRight(b, "\n"), "\n")
	lcs := make([][]int, len(x)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(y)+1)
	}
	for i := len(x) - 1; i >= 0; i-- {
		for j := len(y) - 1; j >= 0; j-- {
			if x[i] == y[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	type line struct {
		op   byte
		text string
	}
	var lines []line
	i, j := 0, 0
	for i < len(x) || j < len(y) {
		switch {
		case i < len(x) && j < len(y) && x[i] == y[j]:
			lines = append(lines, line{' ', x[i]})
			i, j = i+1, j+1
		case j < len(y) && (i == len(x) || lcs[i][j+1] >= lcs[i+1][j]):
			lines = append(lines, line{'+', y[j]})
			j++
		default:
			lines = append(lines, line{'-', x[i]})
			i++
		}
	}
	var out bytes.Buffer
	lastShown := -1
	for k, l := range lines {
		near := false
		for d := -2; d <= 2; d++ {
			if n := k + d; n >= 0 && n < len(lines) && lines[n].op != ' ' {
				near = true
			}
		}
		if !near {
			continue
		}
		if lastShown >= 0 && k > lastShown+1 {
			out.WriteString("  …\n")
		}
		fmt.Fprintf(&out, "%c %s\n", l.op, l.text)
		lastShown = k
	}
	return out.String()
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
