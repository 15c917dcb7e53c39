package app_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/detour-gateway/detour/app"
	"github.com/detour-gateway/detour/router/provider/anthropic/anthropictest"
	"github.com/detour-gateway/detour/router/provider/ollama/ollamatest"
	"github.com/detour-gateway/detour/router/provider/openai/openaitest"
)

// claudeCodeTurns is a conversation in the shape Claude Code sends: system
// blocks with cache_control, tools, thinking with signatures, and a dozen
// tool_use / tool_result turns. Its tool ids are the client's.
func claudeCodeTurns(stream bool, turns int) string {
	var msgs []string
	msgs = append(msgs, `{"role":"user","content":[{"type":"text","text":"Fix the failing test in pkg/foo."}]}`)
	for i := range turns {
		id := fmt.Sprintf("toolu_01Client%02d", i)
		msgs = append(msgs,
			fmt.Sprintf(`{"role":"assistant","content":[{"type":"thinking","thinking":"Step %d: look at the file.","signature":"EqQBCkYIBxgCKkB%02dsig=="},{"type":"text","text":"Reading file %d."},{"type":"tool_use","id":%q,"name":"Read","input":{"file_path":"/src/pkg/foo/foo_%d.go"}}]}`, i, i, i, id, i),
			fmt.Sprintf(`{"role":"user","content":[{"type":"tool_result","tool_use_id":%q,"content":"package foo // file %d"}%s]}`, id, i,
				map[bool]string{true: `,{"type":"text","text":"<system-reminder>keep going</system-reminder>","cache_control":{"type":"ephemeral"}}`}[i == turns-1]))
	}
	return fmt.Sprintf(`{"model":"claude","max_tokens":32000,"stream":%t,`+
		`"system":[{"type":"text","text":"You are Claude Code, Anthropic's official CLI for Claude.","cache_control":{"type":"ephemeral"}},{"type":"text","text":"Environment: linux","cache_control":{"type":"ephemeral"}}],`+
		`"tools":[{"name":"Read","description":"Reads a file","input_schema":{"type":"object","properties":{"file_path":{"type":"string"}},"required":["file_path"]}},`+
		`{"name":"Bash","description":"Runs a command","input_schema":{"type":"object","properties":{"command":{"type":"string"}},"required":["command"]},"cache_control":{"type":"ephemeral"}}],`+
		`"metadata":{"user_id":"user_abc_account_x_session_y"},"thinking":{"type":"enabled","budget_tokens":1024},`+
		`"messages":[%s]}`, stream, strings.Join(msgs, ","))
}

// post sends body to path with the headers an Anthropic SDK sends.
func postMessages(t *testing.T, url, body string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("anthropic-version", "2023-06-01")
	req.Header.Set("anthropic-beta", "interleaved-thinking-2025-05-14")
	req.Header.Set("x-api-key", "client-side-key-unused")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// TestMessagesPassthrough sends a Claude-Code-shaped session to an
// Anthropic deployment: the upstream gets the client's bytes with only the
// model changed, and the client gets the upstream's bytes.
func TestMessagesPassthrough(t *testing.T) {
	up := anthropictest.New(t, anthropictest.Reply{Thinking: "Let me check.", Text: "The test is fixed.", CacheReadTokens: 900})
	s := serve(t, fmt.Sprintf("model_list:\n  - model_name: claude\n    litellm_params: {model: anthropic/claude-sonnet-4-5, api_base: %s}\n", up.URL), app.Options{}, false)
	for _, stream := range []bool{false, true} {
		t.Run(fmt.Sprintf("stream=%t", stream), func(t *testing.T) {
			body := claudeCodeTurns(stream, 12)
			resp, got := postMessages(t, s.url+"/messages", body)
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, got)
			}
			reqs := up.Requests()
			sent := reqs[len(reqs)-1]
			want := strings.Replace(body, `"model":"claude"`, `"model":"claude-sonnet-4-5"`, 1)
			if string(sent.Raw) != want {
				t.Errorf("the upstream did not get the client's bytes:\ngot  %.300s…\nwant %.300s…", sent.Raw, want)
			}
			if v := sent.Header.Get("anthropic-beta"); v != "interleaved-thinking-2025-05-14" {
				t.Errorf("anthropic-beta = %q, want the client's", v)
			}
			if resp.Header.Get("X-Detour-Provider") != "anthropic" {
				t.Errorf("x-detour-provider = %q", resp.Header.Get("X-Detour-Provider"))
			}
			if !stream {
				var m struct {
					Type    string `json:"type"`
					Content []struct {
						Type      string `json:"type"`
						Text      string `json:"text"`
						Signature *string
					} `json:"content"`
					Usage struct {
						CacheRead int `json:"cache_read_input_tokens"`
					} `json:"usage"`
				}
				if err := json.Unmarshal(got, &m); err != nil || m.Type != "message" || len(m.Content) != 2 || m.Content[0].Type != "thinking" ||
					m.Content[1].Text != "The test is fixed." || m.Usage.CacheRead != 900 {
					t.Errorf("answer = %s", got)
				}
				return
			}
			events := sseEvents(t, got)
			if events[0] != "message_start" || events[len(events)-1] != "message_stop" || !contains(events, "content_block_delta") {
				t.Errorf("events = %v", events)
			}
			if !bytes.Contains(got, []byte(`"signature_delta"`)) {
				t.Errorf("the thinking block's signature did not pass through:\n%s", got)
			}
		})
	}
}

// TestMessagesTranslated sends the same session to an OpenAI deployment:
// every tool id is paired, no turn lost, and the answer comes back in the
// Messages API's shape, whole and streamed.
func TestMessagesTranslated(t *testing.T) {
	up := openaitest.New(t, openaitest.Reply{Text: "Done via OpenAI."})
	s := serve(t, "model_list:\n"+deployment(up, "claude", "gpt-4.1"), app.Options{}, false)
	body := strings.Replace(claudeCodeTurns(false, 12), `"thinking":{"type":"enabled","budget_tokens":1024},`, "", 1)
	resp, got := postMessages(t, s.url+"/messages", body)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, got)
	}
	sent := up.Requests()[0].Body
	msgs := sent["messages"].([]any)
	calls, results := map[string]bool{}, map[string]bool{}
	for _, m := range msgs {
		mm := m.(map[string]any)
		for _, tc := range asList(mm["tool_calls"]) {
			calls[tc.(map[string]any)["id"].(string)] = true
		}
		if id, ok := mm["tool_call_id"].(string); ok {
			results[id] = true
		}
	}
	if len(calls) != 12 || len(results) != 12 {
		t.Errorf("%d tool calls and %d results reached OpenAI, want 12 each", len(calls), len(results))
	}
	for id := range calls {
		if !results[id] {
			t.Errorf("tool call %s has no result", id)
		}
	}
	var m struct {
		Type       string `json:"type"`
		Role       string `json:"role"`
		StopReason string `json:"stop_reason"`
		Content    []struct{ Type, Text string }
	}
	if err := json.Unmarshal(got, &m); err != nil || m.Type != "message" || m.Role != "assistant" || m.StopReason != "end_turn" ||
		len(m.Content) != 1 || m.Content[0].Text != "Done via OpenAI." {
		t.Errorf("answer = %s", got)
	}

	resp, got = postMessages(t, s.url+"/messages", strings.Replace(body, `"stream":false`, `"stream":true`, 1))
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("stream: %d %s", resp.StatusCode, got)
	}
	events := sseEvents(t, got)
	if events[0] != "message_start" || events[len(events)-1] != "message_stop" || !contains(events, "content_block_delta") || !contains(events, "message_delta") {
		t.Errorf("events = %v\n%s", events, got)
	}
}

// TestMessagesFailover: an Anthropic deployment that is overloaded (529),
// or says so in its stream before any content, fails over to the next;
// one that breaks after content ends the client's stream with an error
// event, never a clean-looking end.
func TestMessagesFailover(t *testing.T) {
	tests := []struct {
		name      string
		reply     anthropictest.Reply
		stream    bool
		failover  bool
		wantError bool
	}{
		{"529 before the answer", anthropictest.Overloaded(), false, true, false},
		{"529 before the stream", anthropictest.Overloaded(), true, true, false},
		{"error event before content", anthropictest.Reply{Fault: anthropictest.ErrorEventBeforeContent}, true, true, false},
		{"error event after content", anthropictest.Reply{Fault: anthropictest.ErrorEventMidStream}, true, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bad := anthropictest.New(t, tt.reply)
			good := openaitest.New(t, openaitest.Reply{Text: "From the backup."})
			s := serve(t, fmt.Sprintf("model_list:\n  - model_name: claude\n    litellm_params: {model: anthropic/claude-sonnet-4-5, api_base: %s, order: 1}\n", bad.URL)+
				deployment(good, "claude", "gpt-4.1", "      order: 2\n")+"router_settings: {num_retries: 1, allowed_fails: 0}\n", app.Options{}, false)
			resp, got := postMessages(t, s.url+"/messages", fmt.Sprintf(`{"model":"claude","max_tokens":100,"stream":%t,"messages":[{"role":"user","content":"hi"}]}`, tt.stream))
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, got)
			}
			if answered := resp.Header.Get("X-Detour-Provider"); (answered == "openai") != tt.failover {
				t.Errorf("answered by %s; failover wanted: %t", answered, tt.failover)
			}
			if tt.failover && !strings.Contains(string(got)+messagesText(got), "From the backup.") {
				t.Errorf("the backup's answer is missing:\n%s", got)
			}
			if tt.stream {
				events := sseEvents(t, got)
				last := events[len(events)-1]
				if tt.wantError && last != "error" || !tt.wantError && last != "message_stop" {
					t.Errorf("the stream ends with %q (events %v)", last, events)
				}
			}
		})
	}
}

// TestMessagesErrors: the Messages API's own error shape and statuses.
func TestMessagesErrors(t *testing.T) {
	up := anthropictest.New(t, anthropictest.RateLimited("7"))
	s := serve(t, fmt.Sprintf("model_list:\n  - model_name: claude\n    litellm_params: {model: anthropic/claude-sonnet-4-5, api_base: %s}\nrouter_settings: {num_retries: 0}\n", up.URL), app.Options{}, false)
	tests := []struct {
		name, body string
		status     int
		typ        string
	}{
		{"unknown model", `{"model":"gpt-9","max_tokens":5,"messages":[{"role":"user","content":"x"}]}`, 404, "not_found_error"},
		{"no max_tokens", `{"model":"claude","messages":[{"role":"user","content":"x"}]}`, 400, "invalid_request_error"},
		{"not json", `{"model":`, 400, "invalid_request_error"},
		{"rate limited upstream", `{"model":"claude","max_tokens":5,"messages":[{"role":"user","content":"x"}]}`, 429, "rate_limit_error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, got := postMessages(t, s.url+"/messages", tt.body)
			var e struct {
				Type  string `json:"type"`
				Error struct{ Type, Message string }
			}
			if err := json.Unmarshal(got, &e); err != nil || resp.StatusCode != tt.status || e.Type != "error" || e.Error.Type != tt.typ || e.Error.Message == "" {
				t.Errorf("got %d %s, want %d with error type %s", resp.StatusCode, got, tt.status, tt.typ)
			}
		})
	}
}

// TestCountTokens: exact from an Anthropic deployment's own endpoint, an
// estimate (said so) otherwise.
func TestCountTokens(t *testing.T) {
	claude := anthropictest.New(t)
	gpt := openaitest.New(t)
	s := serve(t, fmt.Sprintf("model_list:\n  - model_name: claude\n    litellm_params: {model: anthropic/claude-sonnet-4-5, api_base: %s}\n", claude.URL)+
		deployment(gpt, "gpt", "gpt-4.1"), app.Options{}, false)
	body := `{"model":"%s","system":"You are terse.","messages":[{"role":"user","content":"one two three four"}]}`
	resp, got := postMessages(t, s.url+"/messages/count_tokens", fmt.Sprintf(body, "claude"))
	if resp.StatusCode != 200 || string(got) != `{"input_tokens":7}` || resp.Header.Get("X-Detour-Estimate") != "" {
		t.Errorf("exact count: %d %s (estimate header %q)", resp.StatusCode, got, resp.Header.Get("X-Detour-Estimate"))
	}
	if raw := string(claude.Requests()[0].Raw); raw != fmt.Sprintf(body, "claude-sonnet-4-5") {
		t.Errorf("count_tokens upstream got %s", raw)
	}
	resp, got = postMessages(t, s.url+"/messages/count_tokens", fmt.Sprintf(body, "gpt"))
	var n struct {
		InputTokens int `json:"input_tokens"`
	}
	if json.Unmarshal(got, &n); resp.StatusCode != 200 || n.InputTokens == 0 || resp.Header.Get("X-Detour-Estimate") != "true" {
		t.Errorf("estimate: %d %s (estimate header %q)", resp.StatusCode, got, resp.Header.Get("X-Detour-Estimate"))
	}
}

// messagesText joins the text deltas of a Messages API stream.
func messagesText(body []byte) string {
	var b strings.Builder
	for _, line := range strings.Split(string(body), "\n") {
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok {
			continue
		}
		var ev struct {
			Delta struct{ Type, Text string }
		}
		if json.Unmarshal([]byte(data), &ev) == nil && ev.Delta.Type == "text_delta" {
			b.WriteString(ev.Delta.Text)
		}
	}
	return b.String()
}

// sseEvents returns the event names of an SSE body in order.
func sseEvents(t *testing.T, body []byte) []string {
	t.Helper()
	var names []string
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if name, ok := strings.CutPrefix(sc.Text(), "event: "); ok {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		t.Fatalf("no events in:\n%s", body)
	}
	return names
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

// TestMessagesAnthropicOnly: a request with a server tool (web search),
// which no other API has, goes only to the group's Anthropic deployment.
func TestMessagesAnthropicOnly(t *testing.T) {
	gpt := openaitest.New(t)
	claude := anthropictest.New(t, anthropictest.Reply{Text: "Searched."})
	s := serve(t, "model_list:\n"+deployment(gpt, "claude", "gpt-4.1", "      order: 1\n")+
		fmt.Sprintf("  - model_name: claude\n    litellm_params: {model: anthropic/claude-sonnet-4-5, api_base: %s, order: 2}\n", claude.URL)+
		"router_settings: {num_retries: 2}\n", app.Options{}, false)
	resp, got := postMessages(t, s.url+"/messages", `{"model":"claude","max_tokens":100,"tools":[{"type":"web_search_20250305","name":"web_search","max_uses":3}],"messages":[{"role":"user","content":"news?"}]}`)
	if resp.StatusCode != 200 || resp.Header.Get("X-Detour-Provider") != "anthropic" {
		t.Fatalf("%d from %q: %s", resp.StatusCode, resp.Header.Get("X-Detour-Provider"), got)
	}
	if n := gpt.Count(); n != 0 {
		t.Errorf("the OpenAI deployment got %d requests it cannot serve", n)
	}
}

// TestClaudeCodeModelNames: one wildcard group takes every model name
// Claude Code sends on its own (dated names, haiku for background work),
// and an alias names a group another way; /v1/models lists the aliases.
func TestClaudeCodeModelNames(t *testing.T) {
	up := anthropictest.New(t)
	s := serve(t, fmt.Sprintf("model_list:\n  - model_name: \"claude-*\"\n    litellm_params: {model: anthropic/claude-sonnet-4-5, api_base: %s}\n", up.URL)+
		"router_settings:\n  model_group_alias: {sonnet: \"claude-*\"}\n", app.Options{}, false)
	for _, name := range []string{"claude-sonnet-4-5-20250929", "claude-haiku-4-5", "claude-opus-4-1-20250805", "sonnet"} {
		resp, got := postMessages(t, s.url+"/messages", fmt.Sprintf(`{"model":%q,"max_tokens":50,"messages":[{"role":"user","content":"hi"}]}`, name))
		if resp.StatusCode != 200 || resp.Header.Get("X-Detour-Model-Group") != "claude-*" {
			t.Errorf("%s: %d (group %q) %s", name, resp.StatusCode, resp.Header.Get("X-Detour-Model-Group"), got)
		}
	}
	if resp, got := postMessages(t, s.url+"/messages", `{"model":"gpt-4o","max_tokens":50,"messages":[{"role":"user","content":"hi"}]}`); resp.StatusCode != 404 {
		t.Errorf("a name no group matches: %d %s", resp.StatusCode, got)
	}
	resp, err := http.Get(s.url + "/models")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `"id":"claude-*"`) || !strings.Contains(string(body), `"id":"sonnet"`) {
		t.Errorf("/v1/models = %s", body)
	}
}

// TestMessagesOffline: Claude Code's session with its Anthropic host out
// of reach is answered by the local Ollama tier, in the Messages shape,
// streamed or not, with tool ids and turns translated like any other
// deployment's.
func TestMessagesOffline(t *testing.T) {
	llama := ollamatest.New(t, ollamatest.Reply{Text: "Answered locally."})
	s := serve(t, fmt.Sprintf(`model_list:
  - model_name: claude
    litellm_params: {model: anthropic/claude-sonnet-4-5, api_base: "http://%s"}
detour:
  offline: {ollama_host: %q, model: llama3.2}
`, openaitest.ClosedAddr(t), llama.URL), app.Options{}, false)
	for _, stream := range []bool{false, true} {
		t.Run(fmt.Sprintf("stream=%t", stream), func(t *testing.T) {
			resp, body := postMessages(t, s.url+"/messages", claudeCodeTurns(stream, 3))
			if resp.StatusCode != 200 || resp.Header.Get("X-Detour-Degraded") != "ollama" {
				t.Fatalf("status %d, degraded %q: %s", resp.StatusCode, resp.Header.Get("X-Detour-Degraded"), body)
			}
			if !stream {
				var m struct {
					Type    string
					Content []struct{ Type, Text string }
				}
				if err := json.Unmarshal(body, &m); err != nil || m.Type != "message" || len(m.Content) == 0 || m.Content[0].Text != "Answered locally." {
					t.Errorf("answer %s (%v), want an Anthropic message with Ollama's text", body, err)
				}
				return
			}
			if ev := sseEvents(t, body); ev[0] != "message_start" || ev[len(ev)-1] != "message_stop" || messagesText(body) != "Answered locally." {
				t.Errorf("events %v, text %q", ev, messagesText(body))
			}
		})
	}
	var roles []string
	for _, m := range llama.Requests()[len(llama.Requests())-1].Body["messages"].([]any) {
		roles = append(roles, m.(map[string]any)["role"].(string))
	}
	want := "system system user assistant tool assistant tool assistant tool user" // each system block its own message
	if strings.Join(roles, " ") != want {
		t.Errorf("Ollama got the roles %v, want %s", roles, want)
	}
}
