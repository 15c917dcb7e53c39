package anthropictest

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// post sends body to the fake with the given headers and returns the
// status and body of the answer.
func post(t *testing.T, s *Server, header map[string]string, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL+"/v1/messages", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

var goodHeaders = map[string]string{"x-api-key": "test-key-not-real", "anthropic-version": "2023-06-01", "content-type": "application/json"}

// TestRejects checks the fake refuses what the real API refuses, with the
// real API's status and error body.
func TestRejects(t *testing.T) {
	const tool = `"tools":[{"name":"f","input_schema":{"type":"object"}}]`
	tests := []struct {
		name    string
		header  map[string]string
		body    string
		status  int
		errType string
		message string
	}{
		{"no x-api-key", map[string]string{"anthropic-version": "2023-06-01"},
			`{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`, 401, "authentication_error", "x-api-key header is required"},
		{"no anthropic-version", map[string]string{"x-api-key": "test-key-not-real"},
			`{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`, 400, "invalid_request_error", "anthropic-version: header is required"},
		{"no max_tokens", goodHeaders, `{"model":"m","messages":[{"role":"user","content":"hi"}]}`, 400, "invalid_request_error", "max_tokens: Field required"},
		{"system role", goodHeaders, `{"model":"m","max_tokens":5,"messages":[{"role":"system","content":"x"},{"role":"user","content":"hi"}]}`,
			400, "invalid_request_error", `messages: Unexpected role "system"`},
		{"first is assistant", goodHeaders, `{"model":"m","max_tokens":5,"messages":[{"role":"assistant","content":"x"},{"role":"user","content":"hi"}]}`,
			400, "invalid_request_error", `first message must use the "user" role`},
		{"two user messages", goodHeaders, `{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"a"},{"role":"user","content":"b"}]}`,
			400, "invalid_request_error", `roles must alternate between "user" and "assistant", but found multiple "user" roles in a row`},
		{"tool_use without result", goodHeaders, `{"model":"m","max_tokens":5,` + tool + `,"messages":[{"role":"user","content":"a"},
			{"role":"assistant","content":[{"type":"tool_use","id":"toolu_1","name":"f","input":{}},{"type":"tool_use","id":"toolu_2","name":"f","input":{}}]},
			{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"ok"}]}]}`,
			400, "invalid_request_error", "messages.1: `tool_use` ids were found without `tool_result` blocks immediately after: toolu_2. Each `tool_use` block must have a corresponding `tool_result` block in the next message."},
		{"tool_use last", goodHeaders, `{"model":"m","max_tokens":5,` + tool + `,"messages":[{"role":"user","content":"a"},
			{"role":"assistant","content":[{"type":"tool_use","id":"toolu_1","name":"f","input":{}}]}]}`,
			400, "invalid_request_error", "messages.1: `tool_use` ids were found without `tool_result` blocks immediately after: toolu_1."},
		{"tool_result without tool_use", goodHeaders, `{"model":"m","max_tokens":5,` + tool + `,"messages":[{"role":"user","content":"a"},{"role":"assistant","content":"b"},
			{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_9","content":"ok"}]}]}`,
			400, "invalid_request_error", "messages.2.content.0: unexpected `tool_use_id` found in `tool_result` blocks: toolu_9."},
		{"unknown field", goodHeaders, `{"model":"m","max_tokens":5,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}`,
			400, "invalid_request_error", "stream_options: Extra inputs are not permitted"},
		{"empty text block", goodHeaders, `{"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"text","text":""}]}]}`,
			400, "invalid_request_error", "text content blocks must be non-empty"},
		{"bad image type", goodHeaders, `{"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"image","source":{"type":"base64","media_type":"image/bmp","data":"AAAA"}}]}]}`,
			400, "invalid_request_error", "media_type"},
		{"temperature over 1", goodHeaders, `{"model":"m","max_tokens":5,"temperature":1.5,"messages":[{"role":"user","content":"hi"}]}`,
			400, "invalid_request_error", "temperature: range: 0..1"},
		{"tool input not object", goodHeaders, `{"model":"m","max_tokens":5,` + tool + `,"messages":[{"role":"user","content":"a"},
			{"role":"assistant","content":[{"type":"tool_use","id":"toolu_1","name":"f","input":"{}"}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1"}]}]}`,
			400, "invalid_request_error", "tool_use.input: Input should be a valid dictionary"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(t)
			status, body := post(t, s, tt.header, tt.body)
			var eb struct {
				Type  string `json:"type"`
				Error struct {
					Type    string `json:"type"`
					Message string `json:"message"`
				} `json:"error"`
				RequestID string `json:"request_id"`
			}
			if err := json.Unmarshal([]byte(body), &eb); err != nil {
				t.Fatalf("body %q: %v", body, err)
			}
			if status != tt.status || eb.Type != "error" || eb.Error.Type != tt.errType || !strings.Contains(eb.Error.Message, tt.message) || eb.RequestID == "" {
				t.Errorf("got %d %s; want %d %s %q", status, body, tt.status, tt.errType, tt.message)
			}
			if s.Count() != 1 {
				t.Errorf("Count = %d, want 1 (rejected requests are recorded)", s.Count())
			}
		})
	}
}

func TestAcceptsToolRoundTrip(t *testing.T) {
	s := New(t, Reply{Text: "done"})
	status, body := post(t, s, goodHeaders, `{"model":"m","max_tokens":50,"system":[{"type":"text","text":"sys"}],
		"tools":[{"name":"f","description":"d","input_schema":{"type":"object","properties":{}}}],"tool_choice":{"type":"auto","disable_parallel_tool_use":true},
		"messages":[{"role":"user","content":"a"},
		{"role":"assistant","content":[{"type":"text","text":"calling"},{"type":"tool_use","id":"toolu_1","name":"f","input":{"x":1}}]},
		{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":[{"type":"text","text":"42"}]},{"type":"text","text":"go on"}]}]}`)
	if status != 200 || !strings.Contains(body, `"text":"done"`) || !strings.Contains(body, `"stop_reason":"end_turn"`) {
		t.Errorf("got %d %s", status, body)
	}
}

// TestStreamWire checks the event names and order of a streamed answer.
func TestStreamWire(t *testing.T) {
	s := New(t, Reply{Thinking: "hm", Text: "a b", ToolCalls: []ToolCall{{Name: "f", Args: `{"x":1}`}}})
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/v1/messages", strings.NewReader(`{"model":"m","max_tokens":50,"stream":true,
		"tools":[{"name":"f","input_schema":{"type":"object"}}],"messages":[{"role":"user","content":"hi"}]}`))
	for k, v := range goodHeaders {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Errorf("content-type %q", ct)
	}
	var events []string
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if name, ok := strings.CutPrefix(sc.Text(), "event: "); ok {
			events = append(events, name)
		}
	}
	want := "message_start content_block_start ping content_block_delta content_block_delta content_block_stop " +
		"content_block_start content_block_delta content_block_delta content_block_stop " +
		"content_block_start content_block_delta content_block_delta content_block_stop message_delta message_stop"
	if got := strings.Join(events, " "); got != want {
		t.Errorf("events:\n%s\nwant:\n%s", got, want)
	}
}
