package ollamatest_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/ollama/ollama/api"

	"github.com/detour-gateway/detour/router/provider/ollama/ollamatest"
)

// client is Ollama's own Go client pointed at the fake: the fake is right
// when the real client understands it.
func client(t *testing.T, s *ollamatest.Server) *api.Client {
	t.Helper()
	u, err := url.Parse(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	return api.NewClient(u, http.DefaultClient)
}

func TestGeneralEndpoints(t *testing.T) {
	s := ollamatest.New(t)
	c := client(t, s)
	ctx := context.Background()
	if err := c.Heartbeat(ctx); err != nil {
		t.Errorf("Heartbeat: %v", err)
	}
	if v, err := c.Version(ctx); err != nil || v != ollamatest.Version {
		t.Errorf("Version = %q, %v", v, err)
	}
	s.SetModels("llama3.2", "hf.co/org/Model-GGUF:Q4_K_M")
	list, err := c.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Models) != 2 || list.Models[0].Name != "llama3.2:latest" || list.Models[1].Model != "hf.co/org/Model-GGUF:Q4_K_M" ||
		list.Models[0].Digest == "" || list.Models[0].Details.Format != "gguf" {
		t.Errorf("List = %+v", list)
	}

	resp, err := http.Get(s.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "Ollama is running" || resp.Header.Get("Content-Type") != "text/plain; charset=utf-8" {
		t.Errorf("GET / = %q %q", body, resp.Header.Get("Content-Type"))
	}
	resp, err = http.Get(s.URL + "/v1/nothing")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 404 || string(body) != "404 page not found" {
		t.Errorf("unknown path = %d %q", resp.StatusCode, body)
	}
	if s.Count() != 0 {
		t.Errorf("Count = %d: only chat and embed requests count", s.Count())
	}
}

func TestChat(t *testing.T) {
	s := ollamatest.New(t,
		ollamatest.Reply{Text: "one two three", Thinking: "let me see"},
		ollamatest.Reply{Text: "Checking.", ToolCalls: []ollamatest.ToolCall{{Name: "get_weather", Args: `{"city":"Paris"}`}}},
	)
	c := client(t, s)
	stream := true
	var got []api.ChatResponse
	err := c.Chat(context.Background(), &api.ChatRequest{Model: "llama3.2", Stream: &stream,
		Messages: []api.Message{{Role: "user", Content: "count"}}}, func(r api.ChatResponse) error {
		got = append(got, r)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var text, thinking strings.Builder
	for _, r := range got {
		text.WriteString(r.Message.Content)
		thinking.WriteString(r.Message.Thinking)
		if r.Model != "llama3.2" || r.Message.Role != "assistant" || r.CreatedAt.IsZero() {
			t.Errorf("line = %+v", r)
		}
	}
	last := got[len(got)-1]
	if text.String() != "one two three" || thinking.String() != "let me see" || !last.Done || last.DoneReason != "stop" ||
		last.EvalCount != 6 || last.PromptEvalCount != 11 {
		t.Errorf("text %q thinking %q last %+v", text.String(), thinking.String(), last)
	}
	for _, r := range got[:len(got)-1] {
		if r.Done {
			t.Errorf("done before the last line: %+v", r)
		}
	}

	stream = false
	got = nil
	err = c.Chat(context.Background(), &api.ChatRequest{Model: "llama3.2", Stream: &stream,
		Messages: []api.Message{{Role: "user", Content: "weather?"}}}, func(r api.ChatResponse) error {
		got = append(got, r)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !got[0].Done || got[0].Message.Content != "Checking." || len(got[0].Message.ToolCalls) != 1 {
		t.Fatalf("non-streamed = %+v", got)
	}
	tc := got[0].Message.ToolCalls[0]
	if city, _ := tc.Function.Arguments.Get("city"); tc.Function.Name != "get_weather" || city != "Paris" || !strings.HasPrefix(tc.ID, "call_") || len(tc.ID) != 13 {
		t.Errorf("tool call = %+v", tc)
	}
	if r := s.Requests()[1]; r.Path != "/api/chat" || r.Body["stream"] != false {
		t.Errorf("recorded %+v", r)
	}
}

func TestChatWireFormat(t *testing.T) {
	s := ollamatest.New(t, ollamatest.Reply{Text: "hi"})
	for _, tt := range []struct {
		body, contentType string
		lines             int
	}{
		{`{"model":"llama3.2","messages":[{"role":"user","content":"x"}]}`, "application/x-ndjson", 2},
		{`{"model":"llama3.2","stream":false,"messages":[{"role":"user","content":"x"}]}`, "application/json; charset=utf-8", 1},
	} {
		resp, err := http.Post(s.URL+"/api/chat", "application/json", strings.NewReader(tt.body))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.Header.Get("Content-Type") != tt.contentType || len(strings.Split(strings.TrimSpace(string(b)), "\n")) != tt.lines {
			t.Errorf("%s: %s\n%s", tt.body, resp.Header.Get("Content-Type"), b)
		}
		var first map[string]any
		json.Unmarshal([]byte(strings.Split(string(b), "\n")[0]), &first)
		for _, k := range []string{"model", "created_at", "message", "done"} {
			if _, ok := first[k]; !ok {
				t.Errorf("%s missing from %s", k, b)
			}
		}
	}
}

func TestValidation(t *testing.T) {
	s := ollamatest.New(t)
	c := client(t, s)
	ctx := context.Background()
	noop := func(api.ChatResponse) error { return nil }
	tests := []struct {
		name   string
		call   func() error
		status int
		msg    string
	}{
		{"chat without model", func() error {
			return c.Chat(ctx, &api.ChatRequest{Messages: []api.Message{{Role: "user", Content: "x"}}}, noop)
		}, 400, "model is required"},
		{"chat with a model not pulled", func() error {
			return c.Chat(ctx, &api.ChatRequest{Model: "mistral", Messages: []api.Message{{Role: "user", Content: "x"}}}, noop)
		}, 404, "model 'mistral' not found"},
		{"embed with a model not pulled", func() error {
			_, err := c.Embed(ctx, &api.EmbedRequest{Model: "all-minilm", Input: "x"})
			return err
		}, 404, `model "all-minilm" not found, try pulling it first`},
		{"embed with numbers", func() error {
			_, err := c.Embed(ctx, &api.EmbedRequest{Model: "nomic-embed-text", Input: []int{1, 2}})
			return err
		}, 400, "invalid input type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var se api.StatusError
			if err := tt.call(); !errors.As(err, &se) || se.StatusCode != tt.status || se.ErrorMessage != tt.msg {
				t.Errorf("err = %#v, want %d %q", err, tt.status, tt.msg)
			}
		})
	}

	resp, err := http.Post(s.URL+"/api/chat", "application/json", strings.NewReader(""))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || string(b) != `{"error":"missing request body"}` {
		t.Errorf("empty body = %d %s", resp.StatusCode, b)
	}
}

func TestFaultsAndReplies(t *testing.T) {
	s := ollamatest.New(t)
	c := client(t, s)
	ctx := context.Background()
	chatWith := func(opts map[string]any) ([]api.ChatResponse, error) {
		var got []api.ChatResponse
		err := c.Chat(ctx, &api.ChatRequest{Model: "llama3.2", Messages: []api.Message{{Role: "user", Content: "x"}}, Options: opts},
			func(r api.ChatResponse) error { got = append(got, r); return nil })
		return got, err
	}
	chat := func() ([]api.ChatResponse, error) { return chatWith(nil) }
	text := func(got []api.ChatResponse) string {
		var b strings.Builder
		for _, r := range got {
			b.WriteString(r.Message.Content)
		}
		return b.String()
	}

	s.SetReplies(ollamatest.Reply{Text: "one two three four"})
	got, err := chatWith(map[string]any{"num_predict": 3})
	if err != nil || text(got) != "one two three " || got[len(got)-1].DoneReason != "length" || got[len(got)-1].EvalCount != 3 {
		t.Errorf("num_predict: %v %q %+v", err, text(got), got[len(got)-1])
	}
	got, err = chatWith(map[string]any{"num_predict": 3, "stop": []string{"two"}})
	if err != nil || text(got) != "one " || got[len(got)-1].DoneReason != "stop" {
		t.Errorf("stop: %v %q %+v", err, text(got), got[len(got)-1])
	}
	s.SetReplies(ollamatest.Reply{Text: "one two", StopReason: "length"})
	if got, err = chat(); err != nil || text(got) != "one two" || got[len(got)-1].DoneReason != "length" {
		t.Errorf("StopReason: %v %q %+v", err, text(got), got[len(got)-1])
	}

	s.SetReplies(ollamatest.Reply{Text: "one three", Fault: ollamatest.ErrorLineMidStream})
	if _, err := chat(); err == nil || err.Error() != "an error was encountered while running the model: unexpected EOF" {
		t.Errorf("error line: %v", err)
	}

	s.SetReplies(ollamatest.Busy())
	var se api.StatusError
	if _, err := chat(); !errors.As(err, &se) || se.StatusCode != 503 || se.ErrorMessage != ollamatest.BusyMessage {
		t.Errorf("busy: %#v", err)
	}

	s.SetReplies(ollamatest.Unauthorized())
	var ae api.AuthorizationError
	if _, err := chat(); !errors.As(err, &ae) || ae.StatusCode != 401 || ae.SigninURL == "" {
		t.Errorf("unauthorized: %#v", err)
	}
}
