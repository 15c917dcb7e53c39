package anthropic_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/detour-gateway/detour/chat"
	"github.com/detour-gateway/detour/router/provider/anthropic"
	"github.com/detour-gateway/detour/router/provider/anthropic/anthropictest"
	"github.com/detour-gateway/detour/router/provider/providertest"
)

// inboundFixtures are Messages requests as clients send them, in
// testdata/inbound/<name>.json; <name>.canonical.json holds the canonical
// request DecodeRequest makes of each.
//
//   - claude_code: Claude Code's agent loop: system blocks with
//     cache_control, tools with input_schema, thinking with signatures,
//     parallel tool calls, an error result, images in a tool result and
//     beside results, redacted thinking.
//   - sdk: an SDK call with every sampling parameter, a forced tool and a
//     prefilled answer.
//   - documents: PDF, plain-text and content documents and an image URL.
var inboundFixtures = []string{"claude_code", "sdk", "documents"}

func readInbound(t *testing.T, name string) []byte {
	t.Helper()
	body, err := os.ReadFile(filepath.Join("testdata", "inbound", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	return body
}

func TestDecodeRequestGolden(t *testing.T) {
	for _, name := range inboundFixtures {
		t.Run(name, func(t *testing.T) {
			body := readInbound(t, name)
			req, err := anthropic.DecodeRequest(body)
			if err != nil {
				t.Fatal(err)
			}
			if req.Native == nil || req.Native.Dialect != chat.DialectAnthropic || !bytes.Equal(req.Native.Body, body) {
				t.Errorf("Native = %+v, want the client's body", req.Native)
			}
			got, err := json.Marshal(req)
			if err != nil {
				t.Fatal(err)
			}
			providertest.Golden(t, filepath.Join("testdata", "inbound", name+".canonical.json"), got)
			checkToolPairing(t, req.Messages)
			checkNothingLost(t, body, req)
			for _, banned := range []string{"cache_control", "signature", "EmwKAhgBEgy", `"thinking"`} {
				if bytes.Contains(got, []byte(banned)) {
					t.Errorf("canonical request holds %s, which only Anthropic takes:\n%s", banned, got)
				}
			}
		})
	}
}

// checkToolPairing checks OpenAI's rule for tool messages: the tool
// messages after an assistant message answer exactly its tool calls, in
// order, and no tool message stands anywhere else.
func checkToolPairing(t *testing.T, msgs []chat.Message) {
	t.Helper()
	for i := 0; i < len(msgs); i++ {
		m := msgs[i]
		if m.Role == "tool" {
			t.Errorf("messages[%d]: tool message %q follows no assistant tool call", i, m.ToolCallID)
			continue
		}
		if m.Role != "assistant" || len(m.ToolCalls) == 0 {
			continue
		}
		for _, call := range m.ToolCalls {
			i++
			if i >= len(msgs) || msgs[i].Role != "tool" {
				t.Errorf("tool call %s has no tool message right after its assistant message", call.ID)
				i--
				break
			}
			if msgs[i].ToolCallID != call.ID {
				t.Errorf("messages[%d] answers %q, want %q", i, msgs[i].ToolCallID, call.ID)
			}
		}
	}
}

// checkNothingLost checks that every text, thinking text, tool input and
// image of the client's request is found in the canonical one.
func checkNothingLost(t *testing.T, body []byte, req *chat.Request) {
	t.Helper()
	var have []string
	for _, m := range req.Messages {
		have = append(have, m.ReasoningContent)
		parts, err := m.Parts()
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range parts {
			have = append(have, p.Text)
			if p.ImageURL != nil {
				have = append(have, p.ImageURL.URL)
			}
			have = append(have, string(p.Extra["file"]))
		}
		for _, tc := range m.ToolCalls {
			have = append(have, tc.ID+" "+tc.Function.Name+" "+tc.Function.Arguments)
		}
	}
	found := func(s string) bool {
		for _, h := range have {
			if strings.Contains(h, s) {
				return true
			}
		}
		return false
	}
	var in struct {
		System   json.RawMessage `json:"system"`
		Messages []struct {
			Content json.RawMessage `json:"content"`
		} `json:"messages"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		t.Fatal(err)
	}
	var want []string
	var walk func(raw json.RawMessage)
	walk = func(raw json.RawMessage) {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			want = append(want, s)
			return
		}
		var blocks []map[string]json.RawMessage
		if json.Unmarshal(raw, &blocks) != nil {
			return
		}
		for _, b := range blocks {
			var typ, text, thinking, id, name string
			_ = json.Unmarshal(b["type"], &typ)
			_ = json.Unmarshal(b["text"], &text)
			_ = json.Unmarshal(b["thinking"], &thinking)
			_ = json.Unmarshal(b["id"], &id)
			_ = json.Unmarshal(b["name"], &name)
			switch typ {
			case "text":
				want = append(want, text)
			case "thinking":
				want = append(want, thinking)
			case "tool_use":
				var compact bytes.Buffer
				_ = json.Compact(&compact, b["input"])
				want = append(want, id+" "+name+" "+compact.String())
			case "tool_result":
				walk(b["content"])
			case "image", "document":
				var src struct{ Type, Data, URL string }
				_ = json.Unmarshal(b["source"], &src)
				want = append(want, src.Data, src.URL)
			}
		}
	}
	walk(in.System)
	for _, m := range in.Messages {
		walk(m.Content)
	}
	var sys []string
	for _, m := range req.Messages {
		if m.Role == "system" {
			sys = append(sys, m.Text())
		}
	}
	for _, s := range want {
		if s != "" && !found(s) && !slices.Contains(sys, s) {
			t.Errorf("lost in translation: %.80q", s)
		}
	}
}

// TestDecodeRequestClaudeCode checks the points of Claude Code's request
// the golden file could hide in its size.
func TestDecodeRequestClaudeCode(t *testing.T) {
	req, err := anthropic.DecodeRequest(readInbound(t, "claude_code"))
	if err != nil {
		t.Fatal(err)
	}
	var roles []string
	for _, m := range req.Messages {
		roles = append(roles, m.Role)
	}
	wantRoles := "system system user assistant tool assistant tool tool user assistant tool user assistant tool user"
	if got := strings.Join(roles, " "); got != wantRoles {
		t.Errorf("roles\n got %s\nwant %s", got, wantRoles)
	}
	m := req.Messages
	if got := m[3].ReasoningContent; !strings.HasPrefix(got, "The user wants the failing parser test fixed.") {
		t.Errorf("thinking became reasoning_content %q", got)
	}
	if got := m[3].Text(); got != "I'll run the tests first." {
		t.Errorf("assistant text %q", got)
	}
	if string(m[5].Content) != "null" || len(m[5].ToolCalls) != 2 {
		t.Errorf("parallel calls: content %s, %d calls", m[5].Content, len(m[5].ToolCalls))
	}
	if got := m[7].Text(); got != "Error: <tool_use_error>Path does not exist: /src/old</tool_use_error>" {
		t.Errorf("error result %q", got)
	}
	parts, _ := m[8].Parts()
	if len(parts) != 2 || parts[0].Type != "text" || parts[1].Type != "image_url" ||
		!strings.HasPrefix(parts[1].ImageURL.URL, "data:image/png;base64,iVBORw0KGgo") {
		t.Errorf("user message after the results: %s", m[8].Content)
	}
	if got := m[10].Text(); !strings.Contains(got, "attached to the next user message") {
		t.Errorf("a result holding only an image says %q", got)
	}
	if parts, _ := m[11].Parts(); len(parts) != 1 || parts[0].Type != "image_url" {
		t.Errorf("the result's image did not move to the next user message: %s", m[11].Content)
	}
	if m[12].ReasoningContent != "" || m[12].Text() != "The tokenizer drops the first character. Fixing it." {
		t.Errorf("redacted thinking: reasoning %q, text %q", m[12].ReasoningContent, m[12].Text())
	}
	if req.MaxCompletionTokens == nil || *req.MaxCompletionTokens != 32000 || req.MaxTokens != nil {
		t.Errorf("max tokens: completion %v, max_tokens %v", req.MaxCompletionTokens, req.MaxTokens)
	}
	if !req.Stream || req.StreamOptions == nil || !req.StreamOptions.IncludeUsage {
		t.Errorf("stream %v, options %+v: a stream must ask for usage", req.Stream, req.StreamOptions)
	}
	if got := string(req.Extra["reasoning_effort"]); got != `"high"` {
		t.Errorf("reasoning_effort %s, want \"high\" for a budget of 31999", got)
	}
	if len(req.Extra) != 1 {
		t.Errorf("extra members %v, want only reasoning_effort", req.Extra)
	}
	if !strings.HasPrefix(req.User, "user_5f1c0d9e") {
		t.Errorf("user %q", req.User)
	}
	if len(req.Tools) != 4 || req.Tools[3].Function.Name != "Edit" ||
		!bytes.Contains(req.Tools[3].Function.Parameters, []byte(`"additionalProperties": false`)) {
		t.Errorf("tools %+v", req.Tools)
	}
}

// inboundClient is an Anthropic client of the fake at base.
func inboundClient(base string) *anthropic.Client {
	return anthropic.New(anthropic.Options{BaseURL: base, Model: "claude-upstream",
		Key: func(context.Context) (string, error) { return "inbound-test-key", nil }})
}

// TestDecodeRequestRoundTrip sends each fixture to the fake Anthropic,
// which checks requests as the real API does: as the client's bytes
// (Native, proving the fixture real), then as the translation of the
// canonical request back into a Messages request. The translation must be
// accepted, and keep the conversation's turns and tool ids.
func TestDecodeRequestRoundTrip(t *testing.T) {
	for _, name := range inboundFixtures {
		t.Run(name, func(t *testing.T) {
			body := readInbound(t, name)
			req, err := anthropic.DecodeRequest(body)
			if err != nil {
				t.Fatal(err)
			}
			up := anthropictest.New(t)
			if _, err := inboundClient(up.URL).Chat(context.Background(), req); err != nil {
				t.Fatalf("the fixture itself: %v", err)
			}
			if name == "documents" {
				return // file parts have no Messages translation: Anthropic gets the client's bytes
			}
			req.Native = nil
			if _, err := inboundClient(up.URL).Chat(context.Background(), req); err != nil {
				t.Fatalf("the canonical request, translated back: %v", err)
			}
			if up.Count() != 2 {
				t.Fatalf("fake got %d requests, want 2", up.Count())
			}
			orig, back := messageShape(t, body), messageShape(t, up.Requests()[1].Raw)
			if orig.roles != back.roles {
				t.Errorf("turns\n got %s\nwant %s", back.roles, orig.roles)
			}
			if orig.toolUses != back.toolUses || orig.toolResults != back.toolResults {
				t.Errorf("tool ids\n got %s / %s\nwant %s / %s", back.toolUses, back.toolResults, orig.toolUses, orig.toolResults)
			}
		})
	}
}

type inboundShape struct{ roles, toolUses, toolResults string }

// messageShape sums up a Messages request: its roles, and its tool_use and
// tool_result ids, in order.
func messageShape(t *testing.T, body []byte) inboundShape {
	t.Helper()
	var in struct {
		Messages []struct {
			Role    string          `json:"role"`
			Content json.RawMessage `json:"content"`
		} `json:"messages"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		t.Fatal(err)
	}
	var roles, uses, results []string
	for _, m := range in.Messages {
		roles = append(roles, m.Role)
		var blocks []struct {
			Type      string `json:"type"`
			ID        string `json:"id"`
			ToolUseID string `json:"tool_use_id"`
		}
		_ = json.Unmarshal(m.Content, &blocks)
		for _, b := range blocks {
			switch b.Type {
			case "tool_use":
				uses = append(uses, b.ID)
			case "tool_result":
				results = append(results, b.ToolUseID)
			}
		}
	}
	return inboundShape{strings.Join(roles, " "), strings.Join(uses, " "), strings.Join(results, " ")}
}

func TestDecodeRequestErrors(t *testing.T) {
	const user = `{"role":"user","content":"hi"}`
	req := func(members string) string {
		return `{"model":"claude","max_tokens":100,` + members + `}`
	}
	msgs := func(list ...string) string { return req(`"messages":[` + strings.Join(list, ",") + `]`) }
	userBlocks := func(blocks string) string { return msgs(`{"role":"user","content":[` + blocks + `]}`) }
	assistantBlocks := func(blocks string) string {
		return msgs(user, `{"role":"assistant","content":[`+blocks+`]}`)
	}
	tools := func(list string) string { return req(`"messages":[` + user + `],"tools":[` + list + `]`) }
	const schema = `"input_schema":{"type":"object"}`
	for _, tt := range []struct {
		name, body, param string
		untranslatable    bool
	}{
		{"not JSON", `{"model":`, "", false},
		{"not an object", `[{"model":"claude"}]`, "", false},
		{"empty body", ``, "", false},
		{"no model", `{"max_tokens":10,"messages":[` + user + `]}`, "model", false},
		{"empty model", `{"model":"","max_tokens":10,"messages":[` + user + `]}`, "model", false},
		{"model not a string", `{"model":7,"max_tokens":10,"messages":[` + user + `]}`, "model", false},
		{"no max_tokens", `{"model":"claude","messages":[` + user + `]}`, "max_tokens", false},
		{"null max_tokens", `{"model":"claude","max_tokens":null,"messages":[` + user + `]}`, "max_tokens", false},
		{"max_tokens a string", `{"model":"claude","max_tokens":"10","messages":[` + user + `]}`, "max_tokens", false},
		{"max_tokens a fraction", `{"model":"claude","max_tokens":1.5,"messages":[` + user + `]}`, "max_tokens", false},
		{"max_tokens zero", `{"model":"claude","max_tokens":0,"messages":[` + user + `]}`, "max_tokens", false},
		{"no messages", req(`"stream":true`), "messages", false},
		{"empty messages", req(`"messages":[]`), "messages", false},
		{"messages an object", req(`"messages":{"role":"user"}`), "messages", false},
		{"message not an object", msgs(`"hi"`), "messages[0]", false},
		{"system role", msgs(`{"role":"system","content":"hi"}`), "messages[0].role", false},
		{"no role", msgs(`{"content":"hi"}`), "messages[0].role", false},
		{"role not a string", msgs(user, `{"role":5,"content":"hi"}`), "messages[1].role", false},
		{"no content", msgs(`{"role":"user"}`), "messages[0].content", false},
		{"content a number", msgs(`{"role":"user","content":5}`), "messages[0].content", false},
		{"block not an object", userBlocks(`"hi"`), "messages[0].content[0]", false},
		{"block without type", userBlocks(`{"text":"hi"}`), "messages[0].content[0].type", false},
		{"text not a string", userBlocks(`{"type":"text","text":5}`), "messages[0].content[0].text", false},
		{"tool_use from the user", userBlocks(`{"type":"tool_use","id":"t","name":"f","input":{}}`), "messages[0].content[0].type", false},
		{"thinking from the user", userBlocks(`{"type":"thinking","thinking":"x","signature":"s"}`), "messages[0].content[0].type", false},
		{"tool_result from the assistant", assistantBlocks(`{"type":"tool_result","tool_use_id":"t","content":"x"}`), "messages[1].content[0].type", false},
		{"image from the assistant", assistantBlocks(`{"type":"image","source":{"type":"url","url":"https://x/y.png"}}`), "messages[1].content[0].type", false},
		{"tool_use without id", assistantBlocks(`{"type":"tool_use","name":"f","input":{}}`), "messages[1].content[0].id", false},
		{"tool_use without name", assistantBlocks(`{"type":"tool_use","id":"t","input":{}}`), "messages[1].content[0].name", false},
		{"tool_use input an array", assistantBlocks(`{"type":"tool_use","id":"t","name":"f","input":[1]}`), "messages[1].content[0].input", false},
		{"tool_result without tool_use_id", userBlocks(`{"type":"tool_result","content":"x"}`), "messages[0].content[0].tool_use_id", false},
		{"tool_result content a number", userBlocks(`{"type":"tool_result","tool_use_id":"t","content":5}`), "messages[0].content[0].content", false},
		{"tool_result inside a tool_result", userBlocks(`{"type":"tool_result","tool_use_id":"t","content":[{"type":"tool_result","tool_use_id":"u"}]}`), "messages[0].content[0].content[0].type", false},
		{"is_error not a bool", userBlocks(`{"type":"tool_result","tool_use_id":"t","is_error":"yes"}`), "messages[0].content[0].is_error", false},
		{"image without source", userBlocks(`{"type":"image"}`), "messages[0].content[0].source", false},
		{"image without data", userBlocks(`{"type":"image","source":{"type":"base64","media_type":"image/png"}}`), "messages[0].content[0].source.data", false},
		{"image without media type", userBlocks(`{"type":"image","source":{"type":"base64","data":"AAAA"}}`), "messages[0].content[0].source.media_type", false},
		{"image URL empty", userBlocks(`{"type":"image","source":{"type":"url"}}`), "messages[0].content[0].source.url", false},
		{"document without source", userBlocks(`{"type":"document"}`), "messages[0].content[0].source", false},
		{"system block not text", req(`"system":[{"type":"image","source":{"type":"url","url":"https://x"}}],"messages":[` + user + `]`), "system[0].type", false},
		{"system a number", req(`"system":5,"messages":[` + user + `]`), "system", false},
		{"tool without name", tools(`{` + schema + `}`), "tools[0].name", false},
		{"tool without input_schema", tools(`{"name":"f"}`), "tools[0].input_schema", false},
		{"input_schema not an object", tools(`{"name":"f","input_schema":"object"}`), "tools[0].input_schema", false},
		{"tool not an object", tools(`"f"`), "tools[0]", false},
		{"tool_choice of no type", req(`"messages":[` + user + `],"tools":[{"name":"f",` + schema + `}],"tool_choice":{"type":"some"}`), "tool_choice.type", false},
		{"tool_choice tool without name", req(`"messages":[` + user + `],"tools":[{"name":"f",` + schema + `}],"tool_choice":{"type":"tool"}`), "tool_choice.name", false},
		{"thinking a string", req(`"messages":[` + user + `],"thinking":"on"`), "thinking", false},
		{"top_k a fraction", req(`"messages":[` + user + `],"top_k":1.5`), "top_k", false},
		{"output schema not an object", req(`"messages":[` + user + `],"output_config":{"format":{"type":"json_schema","schema":"x"}}`), "output_config.format.schema", false},

		{"web search server tool", tools(`{"name":"f",` + schema + `},{"type":"web_search_20250305","name":"web_search","max_uses":5}`), "tools[1].type", true},
		{"bash tool", tools(`{"type":"bash_20250124","name":"bash"}`), "tools[0].type", true},
		{"text editor tool", tools(`{"type":"text_editor_20250728","name":"str_replace_based_edit_tool"}`), "tools[0].type", true},
		{"image from the Files API", userBlocks(`{"type":"image","source":{"type":"file","file_id":"file_011"}}`), "messages[0].content[0].source.type", true},
		{"document by URL", userBlocks(`{"type":"document","source":{"type":"url","url":"https://x/a.pdf"}}`), "messages[0].content[0].source.type", true},
		{"search result block", userBlocks(`{"type":"search_result","source":"https://x","title":"t","content":[]}`), "messages[0].content[0].type", true},
		{"server tool use in a turn", assistantBlocks(`{"type":"server_tool_use","id":"srvtoolu_1","name":"web_search","input":{"query":"q"}}`), "messages[1].content[0].type", true},
		{"output format of another type", req(`"messages":[` + user + `],"output_format":{"type":"xml"}`), "output_format.type", true},
		{"unknown block in a tool result", userBlocks(`{"type":"tool_result","tool_use_id":"t","content":[{"type":"search_result"}]}`), "messages[0].content[0].content[0].type", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := anthropic.DecodeRequest([]byte(tt.body))
			var re *anthropic.RequestError
			if !errors.As(err, &re) {
				t.Fatalf("error %v (%T), want a *RequestError", err, err)
			}
			if re.Param != tt.param {
				t.Errorf("param %q, want %q (%v)", re.Param, tt.param, err)
			}
			if re.Message == "" || !strings.HasPrefix(err.Error(), tt.param) {
				t.Errorf("error %q", err)
			}
			if errors.Is(err, anthropic.ErrUntranslatable) != tt.untranslatable {
				t.Errorf("errors.Is(%v, ErrUntranslatable) = %v", err, !tt.untranslatable)
			}
			if tt.untranslatable {
				if got == nil || got.Native == nil || len(got.Messages) == 0 {
					t.Errorf("an untranslatable request gives no request to send to Anthropic: %+v", got)
				}
			} else if got != nil {
				t.Errorf("an invalid request gave %+v", got)
			}
		})
	}
}

// TestDecodeRequestKeepsTranslatableTools checks that a server tool is
// left out, and the request kept with the rest, for Anthropic deployments.
func TestDecodeRequestKeepsTranslatableTools(t *testing.T) {
	req, err := anthropic.DecodeRequest([]byte(`{"model":"claude","max_tokens":100,"messages":[{"role":"user","content":"news?"}],
		"tools":[{"type":"web_search_20250305","name":"web_search"},{"name":"f","input_schema":{"type":"object"}}],"tool_choice":{"type":"auto"}}`))
	if !errors.Is(err, anthropic.ErrUntranslatable) || !strings.Contains(err.Error(), "non-Anthropic deployment") {
		t.Fatalf("error %v", err)
	}
	if len(req.Tools) != 1 || req.Tools[0].Function.Name != "f" || string(req.ToolChoice) != `"auto"` {
		t.Errorf("tools %+v, tool_choice %s", req.Tools, req.ToolChoice)
	}
}

func TestCountTokensRequest(t *testing.T) {
	body := []byte(`{"model":"claude-sonnet-4-5","system":"Be brief.","messages":[{"role":"user","content":"Hello"}],
		"tools":[{"name":"f","input_schema":{"type":"object"}}]}`)
	req, err := anthropic.CountTokensRequest(body)
	if err != nil {
		t.Fatal(err)
	}
	if req.MaxCompletionTokens != nil || req.MaxTokens != nil || req.Native != nil {
		t.Errorf("max tokens %v %v, native %v", req.MaxCompletionTokens, req.MaxTokens, req.Native)
	}
	if len(req.Messages) != 2 || req.Messages[0].Text() != "Be brief." || len(req.Tools) != 1 {
		t.Errorf("request %+v", req)
	}
	var re *anthropic.RequestError
	if _, err := anthropic.DecodeRequest(body); !errors.As(err, &re) || re.Param != "max_tokens" {
		t.Errorf("DecodeRequest without max_tokens: %v", err)
	}
	if _, err := anthropic.CountTokensRequest([]byte(`{"model":"claude","messages":[]}`)); !errors.As(err, &re) || re.Param != "messages" {
		t.Errorf("CountTokensRequest without messages: %v", err)
	}
}

func TestDecodeRequestReasoningEffort(t *testing.T) {
	for _, tt := range []struct {
		name, members, want string
	}{
		{"no thinking", ``, ``},
		{"disabled", `,"thinking":{"type":"disabled"}`, ``},
		{"smallest budget", `,"thinking":{"type":"enabled","budget_tokens":1024}`, `"low"`},
		{"just under medium", `,"thinking":{"type":"enabled","budget_tokens":4095}`, `"low"`},
		{"medium", `,"thinking":{"type":"enabled","budget_tokens":4096}`, `"medium"`},
		{"just under high", `,"thinking":{"type":"enabled","budget_tokens":16383}`, `"medium"`},
		{"high", `,"thinking":{"type":"enabled","budget_tokens":16384}`, `"high"`},
		{"no budget", `,"thinking":{"type":"enabled"}`, ``},
		{"adaptive without effort", `,"thinking":{"type":"adaptive"}`, ``},
		{"adaptive low", `,"thinking":{"type":"adaptive"},"output_config":{"effort":"low"}`, `"low"`},
		{"adaptive max", `,"thinking":{"type":"adaptive"},"output_config":{"effort":"max"}`, `"high"`},
		{"effort wins over budget", `,"thinking":{"type":"enabled","budget_tokens":30000},"output_config":{"effort":"medium"}`, `"medium"`},
		{"effort of disabled thinking", `,"thinking":{"type":"disabled"},"output_config":{"effort":"high"}`, ``},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req, err := anthropic.DecodeRequest([]byte(`{"model":"claude","max_tokens":40000,"messages":[{"role":"user","content":"hi"}]` + tt.members + `}`))
			if err != nil {
				t.Fatal(err)
			}
			if got := string(req.Extra["reasoning_effort"]); got != tt.want {
				t.Errorf("reasoning_effort %s, want %s", got, tt.want)
			}
			if _, ok := req.Extra["thinking"]; ok {
				t.Error("the thinking object was kept: the OpenAI adapter would forward it")
			}
		})
	}
}

func TestDecodeRequestToolChoice(t *testing.T) {
	const tool = `{"name":"get_weather","input_schema":{"type":"object"}}`
	for _, tt := range []struct {
		name, members, choice, parallel string
	}{
		{"auto", `"tools":[` + tool + `],"tool_choice":{"type":"auto"}`, `"auto"`, ``},
		{"any", `"tools":[` + tool + `],"tool_choice":{"type":"any"}`, `"required"`, ``},
		{"none", `"tools":[` + tool + `],"tool_choice":{"type":"none"}`, `"none"`, ``},
		{"tool", `"tools":[` + tool + `],"tool_choice":{"type":"tool","name":"get_weather"}`,
			`{"type":"function","function":{"name":"get_weather"}}`, ``},
		{"no parallel calls", `"tools":[` + tool + `],"tool_choice":{"type":"auto","disable_parallel_tool_use":true}`, `"auto"`, `false`},
		{"parallel calls allowed", `"tools":[` + tool + `],"tool_choice":{"type":"any","disable_parallel_tool_use":false}`, `"required"`, ``},
		{"without tools", `"tool_choice":{"type":"any","disable_parallel_tool_use":true}`, ``, ``},
		{"tools only", `"tools":[` + tool + `]`, ``, ``},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req, err := anthropic.DecodeRequest([]byte(`{"model":"claude","max_tokens":10,"messages":[{"role":"user","content":"hi"}],` + tt.members + `}`))
			if err != nil {
				t.Fatal(err)
			}
			if got := string(req.ToolChoice); got != tt.choice {
				t.Errorf("tool_choice %s, want %s", got, tt.choice)
			}
			if got := string(req.Extra["parallel_tool_calls"]); got != tt.parallel {
				t.Errorf("parallel_tool_calls %s, want %s", got, tt.parallel)
			}
		})
	}
}

// TestDecodeRequestMessages checks how each shape of message content
// becomes canonical messages, in order.
func TestDecodeRequestMessages(t *testing.T) {
	const png = "iVBORw0KGgo="
	for _, tt := range []struct {
		name, messages string
		want           string // the canonical messages, as JSON
	}{
		{"string content", `{"role":"user","content":"hi"}`,
			`[{"role":"user","content":"hi"}]`},
		{"one text block", `{"role":"user","content":[{"type":"text","text":"hi","cache_control":{"type":"ephemeral"}}]}`,
			`[{"role":"user","content":"hi"}]`},
		{"two text blocks", `{"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":""},{"type":"text","text":"b"}]}`,
			`[{"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}]`},
		{"image by URL", `{"role":"user","content":[{"type":"image","source":{"type":"url","url":"https://x/c.jpg"}}]}`,
			`[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://x/c.jpg"}}]}]`},
		{"results then text", `{"role":"user","content":"q"},{"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"f","input":{"a":1}},{"type":"tool_use","id":"t2","name":"g","input":{}}]},
			{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":"one"},{"type":"tool_result","tool_use_id":"t2"},{"type":"text","text":"go on"}]}`,
			`[{"role":"user","content":"q"},
			  {"role":"assistant","content":null,"tool_calls":[{"id":"t1","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}},{"id":"t2","type":"function","function":{"name":"g","arguments":"{}"}}]},
			  {"role":"tool","content":"one","tool_call_id":"t1"},{"role":"tool","content":"","tool_call_id":"t2"},{"role":"user","content":"go on"}]`},
		{"results only", `{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}]}`,
			`[{"role":"tool","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}],"tool_call_id":"t1"}]`},
		{"error result without content", `{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","is_error":true}]}`,
			`[{"role":"tool","content":"Error","tool_call_id":"t1"}]`},
		{"error result already saying so", `{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","is_error":true,"content":"Error: no such file"}]}`,
			`[{"role":"tool","content":"Error: no such file","tool_call_id":"t1"}]`},
		{"images of a result move on", `{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":[{"type":"text","text":"shot"},{"type":"image","source":{"type":"base64","media_type":"image/png","data":"` + png + `"}}]},{"type":"text","text":"see?"}]}`,
			`[{"role":"tool","content":[{"type":"text","text":"shot"},{"type":"text","text":"[the tool's image is attached to the next user message]"}],"tool_call_id":"t1"},
			  {"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,` + png + `"}},{"type":"text","text":"see?"}]}]`},
		{"assistant text, thinking and a call", `{"role":"user","content":"q"},{"role":"assistant","content":[{"type":"thinking","thinking":"first","signature":"sig"},{"type":"redacted_thinking","data":"xx"},{"type":"thinking","thinking":"second","signature":"sig"},{"type":"text","text":"Calling."},{"type":"tool_use","id":"t1","name":"f","input":null}]}`,
			`[{"role":"user","content":"q"},{"role":"assistant","content":"Calling.","tool_calls":[{"id":"t1","type":"function","function":{"name":"f","arguments":"{}"}}],"reasoning_content":"first\n\nsecond"}]`},
		{"assistant string", `{"role":"user","content":"q"},{"role":"assistant","content":"Sure"}`,
			`[{"role":"user","content":"q"},{"role":"assistant","content":"Sure"}]`},
		{"empty assistant prefill", `{"role":"user","content":"q"},{"role":"assistant","content":[]}`,
			`[{"role":"user","content":"q"},{"role":"assistant","content":""}]`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req, err := anthropic.DecodeRequest([]byte(`{"model":"claude","max_tokens":10,"messages":[` + tt.messages + `]}`))
			if err != nil {
				t.Fatal(err)
			}
			got, err := json.Marshal(req.Messages)
			if err != nil {
				t.Fatal(err)
			}
			assertDialectJSON(t, got, tt.want)
		})
	}
}

// TestDecodeRequestParameters checks the top-level members.
func TestDecodeRequestParameters(t *testing.T) {
	req, err := anthropic.DecodeRequest([]byte(`{"model":"claude","max_tokens":512,"messages":[{"role":"user","content":"hi"}],
		"system":"Be kind.","temperature":0.3,"top_p":0.8,"top_k":20,"stop_sequences":["END"],"metadata":{"user_id":"u-1"},
		"service_tier":"auto","container":"c","context_management":{"edits":[]},"stream":false}`))
	if err != nil {
		t.Fatal(err)
	}
	got, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	assertDialectJSON(t, got, `{"model":"claude","messages":[{"role":"system","content":"Be kind."},{"role":"user","content":"hi"}],
		"max_completion_tokens":512,"temperature":0.3,"top_p":0.8,"stop":["END"],"user":"u-1","top_k":20}`)
}

func TestDecodeRequestOutputFormat(t *testing.T) {
	const schema = `{"type":"object","properties":{"answer":{"type":"string"}},"required":["answer"],"additionalProperties":false}`
	const want = `{"type":"json_schema","json_schema":{"name":"output","schema":` + schema + `}}`
	for _, tt := range []struct{ name, members string }{
		{"output_config", `"output_config":{"effort":"low","format":{"type":"json_schema","schema":` + schema + `}}`},
		{"beta output_format", `"output_format":{"type":"json_schema","schema":` + schema + `}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req, err := anthropic.DecodeRequest([]byte(`{"model":"claude","max_tokens":10,"messages":[{"role":"user","content":"hi"}],` + tt.members + `}`))
			if err != nil {
				t.Fatal(err)
			}
			assertDialectJSON(t, req.ResponseFormat, want)
		})
	}
}

// assertDialectJSON compares got with the JSON text want, structurally.
func assertDialectJSON(t *testing.T, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("got is not JSON: %v\n%s", err, got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("want is not JSON: %v\n%s", err, want)
	}
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(w)
	if !bytes.Equal(gb, wb) {
		t.Errorf("\n got %s\nwant %s", gb, wb)
	}
}

// FuzzDecodeRequest feeds arbitrary bodies to DecodeRequest and
// CountTokensRequest: they must never panic, fail only with a
// *RequestError, give a request that encodes whenever they give one, and
// refuse an object that is no valid JSON exactly when encoding/json does,
// with its error.
func FuzzDecodeRequest(f *testing.F) {
	for _, name := range inboundFixtures {
		body, err := os.ReadFile(filepath.Join("testdata", "inbound", name+".json"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(body)
	}
	f.Add([]byte(`{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","is_error":true,"content":[{"type":"image","source":{"type":"base64","media_type":"image/png","data":"x"}}]}]}]}`))
	f.Add([]byte(`{"model":"m","max_tokens":1,"messages":[{"role":"assistant","content":[{"type":"tool_use","id":"t","name":"n","input":{"a":[1,{"b":null}]}}]}],"tools":[{"type":"bash_20250124","name":"bash"}],"tool_choice":{"type":"tool","name":"n"}}`))
	f.Add([]byte(`{"model":"m","max_tokens":1,"system":[{"type":"text","text":""}],"messages":[{"role":"user","content":[{"type":"document","source":{"type":"content","content":"x"}}]}],"thinking":{"type":"enabled","budget_tokens":-1}}`))
	f.Add([]byte(`{"model":"m","messages":null}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, body []byte) {
		syntax := ""
		if t := bytes.TrimSpace(body); len(t) > 0 && t[0] == '{' {
			syntax = jsonSyntaxError(body)
		}
		for _, decode := range []func([]byte) (*chat.Request, error){anthropic.DecodeRequest, anthropic.CountTokensRequest} {
			req, err := decode(body)
			var re *anthropic.RequestError
			if syntax != "" && (!errors.As(err, &re) || re.Param != "" || re.Message != syntax) {
				t.Fatalf("error %v, want encoding/json's %q", err, syntax)
			}
			if err != nil {
				if !errors.As(err, &re) {
					t.Fatalf("error %v (%T) is not a *RequestError", err, err)
				}
				if syntax == "" && re.Param == "" && strings.HasPrefix(re.Message, "invalidParam JSON") {
					t.Fatalf("error %v for a body encoding/json reads", err)
				}
				if errors.Is(err, anthropic.ErrUntranslatable) != (req != nil) {
					t.Fatalf("error %v with request %v", err, req)
				}
				if req == nil {
					continue
				}
			}
			if req.Model == "" || len(req.Messages) == 0 {
				t.Fatalf("accepted a request without model or messages: %+v", req)
			}
			if _, err := json.Marshal(req); err != nil {
				t.Fatalf("the canonical request does not encode: %v", err)
			}
			for i, m := range req.Messages {
				// Content kept as the client's JSON must still be what
				// encoding/json makes of it: valid JSON, and UTF-8.
				if len(m.Content) > 0 && (!json.Valid(m.Content) || !utf8.Valid(m.Content)) {
					t.Fatalf("messages[%d].content %q is not valid JSON in UTF-8", i, m.Content)
				}
			}
		}
	})
}

// TestDecodeRequestKeepsTextsExact checks the texts DecodeRequest passes on
// as the client's JSON strings, in every place one may be: they read as
// encoding/json reads them, and those that other readers could read
// otherwise (bytes that are not UTF-8, half a surrogate pair) are encoded
// anew.
func TestDecodeRequestKeepsTextsExact(t *testing.T) {
	for _, text := range []string{
		`""`, `"plain"`, `"a\u00e9\ud83d\ude00\/\n\u0041 <b>&amp; \u2028"`, "\"caf\u00e9 \u2029 \xe2\x80\xa8\"",
		`"lone \ud800 high"`, `"lone \udc00 low"`, `"high then other \ud83d\u0041"`, `"pair at end \ud83d\ude00"`, `"\ud83d"`,
		"\"bad \xff\xfe utf8 \xc3(\"", "\"\xed\xa0\x80\"",
	} {
		var want string
		if err := json.Unmarshal([]byte(text), &want); err != nil {
			t.Fatalf("%s: %v", text, err)
		}
		body := `{"model":"claude","max_tokens":10,"system":` + text + `,"messages":[` +
			`{"role":"user","content":` + text + `},` +
			`{"role":"assistant","content":[{"type":"text","text":` + text + `}]},` +
			`{"role":"user","content":[{"type":"text","text":` + text + `}]},` +
			`{"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"f","input":{}},{"type":"tool_use","id":"t2","name":"f","input":{}}]},` +
			`{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":` + text + `},` +
			`{"type":"tool_result","tool_use_id":"t2","content":[{"type":"text","text":` + text + `}]}]}]}`
		req, err := anthropic.DecodeRequest([]byte(body))
		if err != nil {
			t.Fatalf("%s: %v", text, err)
		}
		enc, err := json.Marshal(req)
		if err != nil {
			t.Fatalf("%s: %v", text, err)
		}
		var again chat.Request
		if err := json.Unmarshal(enc, &again); err != nil {
			t.Fatalf("%s: %v", text, err)
		}
		for i, m := range again.Messages {
			if m.Role == "assistant" && len(m.ToolCalls) > 0 {
				continue
			}
			if want == "" && m.Role == "system" {
				t.Errorf("%s: an empty system prompt became a message", text)
			}
			if got := m.Text(); got != want {
				t.Errorf("%s: messages[%d] (%s) reads %q, want %q", text, i, m.Role, got, want)
			}
			if !utf8.Valid(req.Messages[i].Content) {
				t.Errorf("%s: messages[%d].content %q is not UTF-8", text, i, req.Messages[i].Content)
			}
			if strings.Contains(text, `\ud8`) && !strings.Contains(text, `\ude00`) && strings.Contains(string(req.Messages[i].Content), `\ud8`) {
				t.Errorf("%s: messages[%d].content %s keeps half a surrogate pair", text, i, req.Messages[i].Content)
			}
		}
	}
}

// jsonSyntaxError is the error DecodeRequest gives for body, an object of
// invalid JSON: encoding/json's; "" when body is valid JSON.
func jsonSyntaxError(body []byte) string {
	var v any
	var se *json.SyntaxError
	if err := json.Unmarshal(body, &v); errors.As(err, &se) {
		return fmt.Sprintf("invalidParam JSON at byte %d: %v", se.Offset, se)
	}
	return ""
}

// TestDecodeRequestSyntaxErrors checks that a body that is no valid JSON
// gets encoding/json's error, wherever the fault is, and that the nesting
// limit is encoding/json's.
func TestDecodeRequestSyntaxErrors(t *testing.T) {
	const head = `{"model":"claude","max_tokens":10,"messages":[{"role":"user","content":`
	for _, body := range []string{
		`{"model":`,
		`{"model":"claude",}`,
		`{"model" "claude"}`,
		`{"model":"claude"} x`,
		"{\"model\":\"claude\"}\x00",
		"\v{}",
		head + `"hi"}]`,
		head + `"a\qb"}]}`,
		head + `"a\u12G4"}]}`,
		head + "\"tab\there\"}]}",
		head + `[{"type":"text","text":"hi"},]}]}`,
		head + `[{"type":"tool_result","tool_use_id":"t","content":[{"type":"text","text":01}]}]}]}`,
		head + `"hi","x":-}]}`,
		head + `"hi","x":1.}]}`,
		head + `"hi","x":1e}]}`,
		head + `"hi","x":tru}]}`,
		head + `"hi","x":nul}]}`,
		head + `"hi"}],"tools":[{"name":"f","input_schema":{"type":"object",}}]}`,
		head + `"hi"}],"x":` + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + `}`,
	} {
		want := jsonSyntaxError([]byte(body))
		if want == "" {
			t.Fatalf("%.60q is valid JSON", body)
		}
		_, err := anthropic.DecodeRequest([]byte(body))
		var re *anthropic.RequestError
		if !errors.As(err, &re) || re.Param != "" || re.Message != want {
			t.Errorf("%.60q: error %v, want %q", body, err, want)
		}
	}
	deep := head + `"hi"}],"x":` + strings.Repeat("[", 9999) + strings.Repeat("]", 9999) + `}`
	if _, err := anthropic.DecodeRequest([]byte(deep)); err != nil {
		t.Errorf("nesting as deep as encoding/json allows: %v", err)
	}
}

// TestDecodeRequestReadsJSONAsEncodingJSON checks the rules of
// encoding/json that DecodeRequest's reader of JSON follows: member names
// matched to fields case-insensitively (with Unicode's folding) and after
// unescaping, strings decoded with bytes that are not UTF-8 and lone
// surrogates as U+FFFD, null leaving a value as it is but clearing a
// pointer, and the last of repeated members winning, a repeated object
// merged into the first.
func TestDecodeRequestReadsJSONAsEncodingJSON(t *testing.T) {
	const text = `"a\u00e9\ud83d\ude00\ud800b\/\n\u0041\udc00\ud83dz` + "\xff\xc3(é" + `"`
	var decoded string
	if err := json.Unmarshal([]byte(text), &decoded); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, body string
		check      func(t *testing.T, req *chat.Request)
	}{
		{"names in any case", `{"MODEL":"claude","Max_Tokens":10,"mod\u0065l":"opus","Messages":[{"ROLE":"user","CONTENT":"hi"}],"top_K":3,"ſtream":true}`,
			func(t *testing.T, req *chat.Request) {
				if req.Model != "opus" || *req.MaxCompletionTokens != 10 || req.Messages[0].Text() != "hi" ||
					string(req.Extra["top_k"]) != "3" || !req.Stream {
					t.Errorf("request %+v", req)
				}
			}},
		{"strings", `{"model":"claude","max_tokens":10,"messages":[{"role":"user","content":` + text + `}]}`,
			func(t *testing.T, req *chat.Request) {
				if got := req.Messages[0].Text(); got != decoded {
					t.Errorf("text %q, want %q", got, decoded)
				}
			}},
		{"repeated members", `{"model":"a","model":"claude","max_tokens":10,"messages":[{"role":"user","content":"x"}],
			"messages":[{"role":"user","content":[{"type":"text","text":"one"}],"content":"two"}],
			"thinking":{"type":"enabled"},"thinking":{"budget_tokens":5000},"temperature":0.5,"temperature":null,
			"stream":true,"stream":null}`,
			func(t *testing.T, req *chat.Request) {
				if req.Model != "claude" || len(req.Messages) != 1 || req.Messages[0].Text() != "two" ||
					string(req.Extra["reasoning_effort"]) != `"medium"` || req.Temperature != nil || !req.Stream {
					t.Errorf("request %+v", req)
				}
			}},
		{"tool input", `{"model":"claude","max_tokens":10,"messages":[{"role":"user","content":"q"},{"role":"assistant","content":[
			{"type":"tool_use","id":"t1","name":"f","input":{ "a" : [1, {"b":"x y"}] }},{"type":"tool_use","id":"t2","name":"f","input":{"a":"x y"}}]}]}`,
			func(t *testing.T, req *chat.Request) {
				calls := req.Messages[1].ToolCalls
				if calls[0].Function.Arguments != `{"a":[1,{"b":"x y"}]}` || calls[1].Function.Arguments != `{"a":"x y"}` {
					t.Errorf("arguments %q, %q", calls[0].Function.Arguments, calls[1].Function.Arguments)
				}
			}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req, err := anthropic.DecodeRequest([]byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, req)
		})
	}
}

// TestDecodeRequestErrorOrder checks that errors come in the order the
// translation meets them, whatever the order of the members: the body's
// own members, then model, max_tokens, system, messages one by one (each
// whole before its blocks), then tools.
func TestDecodeRequestErrorOrder(t *testing.T) {
	for _, tt := range []struct{ body, param string }{
		{`{"tools":[{"name":5}],"messages":[{"role":"user","content":[{"type":"text","text":5}]}],"model":"claude","max_tokens":10}`,
			"messages[0].content[0].text"},
		{`{"messages":[{"role":"user","content":[{"type":"text","text":5}]}],"model":"claude","max_tokens":10,"system":7}`, "system"},
		{`{"messages":[{"role":"user","content":[{"type":"text","text":5}]}],"max_tokens":0,"model":"claude"}`, "max_tokens"},
		{`{"messages":[{"role":"user","content":"x"}],"max_tokens":0,"top_k":1.5,"model":"claude"}`, "top_k"},
		{`{"messages":[{"content":[{"type":"text","text":5}],"role":"robot"}],"model":"claude","max_tokens":10}`, "messages[0].role"},
		{`{"messages":[{"role":"user","content":[{"type":"image","source":{"type":"url"}},{"text":"x","type":5}]}],"model":"claude","max_tokens":10}`,
			"messages[0].content[1].type"},
		{`{"messages":[{"role":"user","content":[{"type":"search_result","text":5}]},{"role":6}],"model":"claude","max_tokens":10}`, "messages[1].role"},
	} {
		_, err := anthropic.DecodeRequest([]byte(tt.body))
		var re *anthropic.RequestError
		if !errors.As(err, &re) || re.Param != tt.param {
			t.Errorf("%s: error %v, want one at %s", tt.body, err, tt.param)
		}
	}
}
