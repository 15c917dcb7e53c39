package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/shared"

	"github.com/detour-gateway/detour/router/provider/anthropic/anthropictest"
	"github.com/detour-gateway/detour/router/provider/gemini/geminitest"
	"github.com/detour-gateway/detour/router/provider/ollama/ollamatest"
	"github.com/detour-gateway/detour/router/provider/openai/openaitest"
)

// The conformance suite sends the same OpenAI requests, through the real
// gateway and the official OpenAI Go SDK, to every provider adapter, each
// behind a fake that speaks its provider's wire format, and checks that
// the answers mean the same thing in OpenAI's shape.

// canned is an answer every fake can give.
type canned struct {
	text      string
	toolCalls []cannedCall
	// lengthHit makes the answer stop at its token limit.
	lengthHit bool
}

type cannedCall struct{ name, args string }

// upstream starts one provider's fake answering replies in order and
// returns the model_list entry of a group "m" served by it.
type upstream struct {
	name  string
	start func(t *testing.T, replies ...canned) string
}

func entry(model, base string) string {
	return fmt.Sprintf("model_list:\n  - model_name: m\n    litellm_params: {model: %s, api_base: %q}\n", model, base)
}

var upstreams = []upstream{
	{"openai", func(t *testing.T, rs ...canned) string {
		return entry("openai/gpt-4o", openaitest.New(t, openaiReplies(rs)...).URL)
	}},
	{"azure", func(t *testing.T, rs ...canned) string {
		return entry("azure/my-gpt-4o", openaitest.New(t, openaiReplies(rs)...).Server.URL)
	}},
	{"anthropic", func(t *testing.T, rs ...canned) string {
		var replies []anthropictest.Reply
		for _, r := range rs {
			rep := anthropictest.Reply{Text: r.text}
			for _, c := range r.toolCalls {
				rep.ToolCalls = append(rep.ToolCalls, anthropictest.ToolCall{Name: c.name, Args: c.args})
			}
			if r.lengthHit {
				rep.StopReason = "max_tokens"
			}
			replies = append(replies, rep)
		}
		return entry("anthropic/claude-sonnet-4-5", anthropictest.New(t, replies...).URL)
	}},
	{"gemini", func(t *testing.T, rs ...canned) string {
		var replies []geminitest.Reply
		for _, r := range rs {
			rep := geminitest.Reply{Text: r.text, Gemini3: true}
			for _, c := range r.toolCalls {
				rep.ToolCalls = append(rep.ToolCalls, geminitest.ToolCall{Name: c.name, Args: c.args})
			}
			if r.lengthHit {
				rep.StopReason = "MAX_TOKENS"
			}
			replies = append(replies, rep)
		}
		return entry("gemini/gemini-3-pro-preview", geminitest.New(t, replies...).URL)
	}},
	{"ollama", func(t *testing.T, rs ...canned) string {
		var replies []ollamatest.Reply
		for _, r := range rs {
			rep := ollamatest.Reply{Text: r.text}
			for _, c := range r.toolCalls {
				rep.ToolCalls = append(rep.ToolCalls, ollamatest.ToolCall{Name: c.name, Args: c.args})
			}
			if r.lengthHit {
				rep.StopReason = "length"
			}
			replies = append(replies, rep)
		}
		return entry("ollama/llama3.2", ollamatest.New(t, replies...).URL)
	}},
}

func openaiReplies(rs []canned) []openaitest.Reply {
	var replies []openaitest.Reply
	for _, r := range rs {
		rep := openaitest.Reply{Text: r.text}
		for _, c := range r.toolCalls {
			rep.ToolCalls = append(rep.ToolCalls, openaitest.ToolCall{Name: c.name, Arguments: c.args})
		}
		if r.lengthHit {
			rep.FinishReason = "length"
		}
		replies = append(replies, rep)
	}
	return replies
}

var weatherTool = openai.ChatCompletionFunctionTool(shared.FunctionDefinitionParam{
	Name:        "get_weather",
	Description: openai.String("Current weather in a city"),
	Parameters: shared.FunctionParameters{
		"type":       "object",
		"properties": map[string]any{"city": map[string]any{"type": "string"}},
		"required":   []string{"city"},
	},
})

// A 1x1 PNG.
const pixel = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="

// answer is what a client made of one request, streamed or not.
type answer struct {
	text      string
	toolCalls []cannedCall
	ids       []string
	finish    string
	usage     openai.CompletionUsage
}

func ask(t *testing.T, gw *gateway, p openai.ChatCompletionNewParams, stream bool) answer {
	t.Helper()
	var c openai.ChatCompletion
	if stream {
		p.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
		s := gw.client.Chat.Completions.NewStreaming(context.Background(), p)
		var acc openai.ChatCompletionAccumulator
		for s.Next() {
			acc.AddChunk(s.Current())
		}
		if err := s.Err(); err != nil {
			t.Fatalf("stream: %v", err)
		}
		c = acc.ChatCompletion
	} else {
		resp, err := gw.client.Chat.Completions.New(context.Background(), p)
		if err != nil {
			t.Fatalf("chat: %v", err)
		}
		c = *resp
	}
	if len(c.Choices) != 1 {
		t.Fatalf("got %d choices", len(c.Choices))
	}
	a := answer{text: c.Choices[0].Message.Content, finish: c.Choices[0].FinishReason, usage: c.Usage}
	for _, tc := range c.Choices[0].Message.ToolCalls {
		a.toolCalls = append(a.toolCalls, cannedCall{tc.Function.Name, tc.Function.Arguments})
		a.ids = append(a.ids, tc.ID)
	}
	return a
}

func sameJSON(a, b string) bool {
	var x, y any
	return json.Unmarshal([]byte(a), &x) == nil && json.Unmarshal([]byte(b), &y) == nil && reflect.DeepEqual(x, y)
}

func TestConformance(t *testing.T) {
	cases := []struct {
		name    string
		replies []canned
		// turns are the requests, in order; a turn may use the previous answer.
		turns      func(prev answer) openai.ChatCompletionNewParams
		twoTurns   bool
		wantText   string
		wantCalls  []cannedCall
		wantFinish string
	}{
		{name: "plain", replies: []canned{{text: "Hello there."}},
			turns: func(answer) openai.ChatCompletionNewParams {
				return openai.ChatCompletionNewParams{Messages: msgs(openai.UserMessage("Say hello"))}
			},
			wantText: "Hello there.", wantFinish: "stop"},
		{name: "system and multi-turn", replies: []canned{{text: "Paris, as I said."}},
			turns: func(answer) openai.ChatCompletionNewParams {
				return openai.ChatCompletionNewParams{Messages: msgs(openai.SystemMessage("Be brief."), openai.UserMessage("Capital of France?"),
					openai.AssistantMessage("Paris."), openai.UserMessage("Sure?"))}
			},
			wantText: "Paris, as I said.", wantFinish: "stop"},
		{name: "image", replies: []canned{{text: "A single pixel."}},
			turns: func(answer) openai.ChatCompletionNewParams {
				return openai.ChatCompletionNewParams{Messages: msgs(openai.UserMessage([]openai.ChatCompletionContentPartUnionParam{
					openai.TextContentPart("What is this?"),
					openai.ImageContentPart(openai.ChatCompletionContentPartImageImageURLParam{URL: pixel}),
				}))}
			},
			wantText: "A single pixel.", wantFinish: "stop"},
		{name: "stop", replies: []canned{{text: "One two"}},
			turns: func(answer) openai.ChatCompletionNewParams {
				return openai.ChatCompletionNewParams{Messages: msgs(openai.UserMessage("Count")),
					Stop: openai.ChatCompletionNewParamsStopUnion{OfStringArray: []string{"three"}}}
			},
			wantText: "One two", wantFinish: "stop"},
		{name: "max_tokens hit", replies: []canned{{text: "One two", lengthHit: true}},
			turns: func(answer) openai.ChatCompletionNewParams {
				return openai.ChatCompletionNewParams{Messages: msgs(openai.UserMessage("Count to ten")), MaxTokens: openai.Int(2)}
			},
			wantText: "One two", wantFinish: "length"},
		{name: "tool call", replies: []canned{{toolCalls: []cannedCall{{"get_weather", `{"city":"Paris"}`}}}},
			turns: func(answer) openai.ChatCompletionNewParams {
				return openai.ChatCompletionNewParams{Messages: msgs(openai.UserMessage("Weather in Paris?")),
					Tools: []openai.ChatCompletionToolUnionParam{weatherTool}}
			},
			wantCalls: []cannedCall{{"get_weather", `{"city":"Paris"}`}}, wantFinish: "tool_calls"},
		{name: "tool round trip", twoTurns: true,
			replies: []canned{{toolCalls: []cannedCall{{"get_weather", `{"city":"Paris"}`}}}, {text: "It is sunny in Paris."}},
			turns: func(prev answer) openai.ChatCompletionNewParams {
				m := msgs(openai.UserMessage("Weather in Paris?"))
				if prev.ids != nil {
					m = append(m, openai.ChatCompletionMessageParamUnion{OfAssistant: &openai.ChatCompletionAssistantMessageParam{
						ToolCalls: []openai.ChatCompletionMessageToolCallUnionParam{{OfFunction: &openai.ChatCompletionMessageFunctionToolCallParam{
							ID: prev.ids[0], Function: openai.ChatCompletionMessageFunctionToolCallFunctionParam{Name: prev.toolCalls[0].name, Arguments: prev.toolCalls[0].args},
						}}},
					}}, openai.ToolMessage(`{"sky":"clear","celsius":21}`, prev.ids[0]))
				}
				return openai.ChatCompletionNewParams{Messages: m, Tools: []openai.ChatCompletionToolUnionParam{weatherTool}}
			},
			wantText: "It is sunny in Paris.", wantFinish: "stop"},
	}
	for _, up := range upstreams {
		for _, tc := range cases {
			for _, stream := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/%s/stream=%v", up.name, tc.name, stream), func(t *testing.T) {
					gw := start(t, up.start(t, tc.replies...))
					p := tc.turns(answer{})
					p.Model = "m"
					got := ask(t, gw, p, stream)
					if tc.twoTurns {
						if len(got.toolCalls) != 1 || got.finish != "tool_calls" {
							t.Fatalf("first turn = %+v, want one tool call", got)
						}
						p = tc.turns(got)
						p.Model = "m"
						got = ask(t, gw, p, stream)
					}
					if got.text != tc.wantText || got.finish != tc.wantFinish {
						t.Errorf("text %q finish %q, want %q %q", got.text, got.finish, tc.wantText, tc.wantFinish)
					}
					if len(got.toolCalls) != len(tc.wantCalls) {
						t.Fatalf("tool calls = %+v, want %+v", got.toolCalls, tc.wantCalls)
					}
					for i, c := range got.toolCalls {
						if c.name != tc.wantCalls[i].name || !sameJSON(c.args, tc.wantCalls[i].args) || got.ids[i] == "" {
							t.Errorf("tool call %d = %+v (id %q), want %+v", i, c, got.ids[i], tc.wantCalls[i])
						}
					}
					if got.usage.PromptTokens == 0 || got.usage.CompletionTokens == 0 ||
						got.usage.TotalTokens != got.usage.PromptTokens+got.usage.CompletionTokens && !strings.Contains(up.name, "gemini") {
						t.Errorf("usage = %+v", got.usage)
					}
				})
			}
		}
	}
}

func msgs(m ...openai.ChatCompletionMessageParamUnion) []openai.ChatCompletionMessageParamUnion {
	return m
}

// TestFailoverAcrossFormats: one group of three deployments speaking three
// wire formats; the first two fail the way their providers do, and the
// client gets one clean OpenAI answer from the third.
func TestFailoverAcrossFormats(t *testing.T) {
	for _, stream := range []bool{false, true} {
		t.Run(fmt.Sprintf("stream=%v", stream), func(t *testing.T) {
			claude := anthropictest.New(t, anthropictest.Overloaded())
			gem := geminitest.New(t, geminitest.RateLimited("17s"))
			llama := ollamatest.New(t, ollamatest.Reply{Text: "Answered locally."})
			// Weights fix the order under the test's constant rand: Anthropic,
			// then Gemini, then Ollama.
			gw := start(t, fmt.Sprintf(`model_list:
  - model_name: m
    litellm_params: {model: anthropic/claude-sonnet-4-5, api_base: %q, weight: 100}
  - model_name: m
    litellm_params: {model: gemini/gemini-2.5-flash, api_base: %q, weight: 10}
  - model_name: m
    litellm_params: {model: ollama/llama3.2, api_base: %q, weight: 1}
router_settings: {num_retries: 2}
`, claude.URL, gem.URL, llama.URL))
			var resp *http.Response
			var text, finish string
			p := params("m")
			if stream {
				s := gw.client.Chat.Completions.NewStreaming(context.Background(), p, option.WithResponseInto(&resp))
				var acc openai.ChatCompletionAccumulator
				for s.Next() {
					acc.AddChunk(s.Current())
				}
				if err := s.Err(); err != nil {
					t.Fatal(err)
				}
				text, finish = acc.Choices[0].Message.Content, acc.Choices[0].FinishReason
			} else {
				c, err := gw.client.Chat.Completions.New(context.Background(), p, option.WithResponseInto(&resp))
				if err != nil {
					t.Fatal(err)
				}
				text, finish = c.Choices[0].Message.Content, c.Choices[0].FinishReason
			}
			if text != "Answered locally." || finish != "stop" {
				t.Errorf("got %q (%s), want Ollama's clean answer", text, finish)
			}
			if resp.Header.Get("X-Detour-Attempts") != "3" || resp.Header.Get("X-Detour-Provider") != "ollama" {
				t.Errorf("attempts %s provider %s, want 3 and ollama", resp.Header.Get("X-Detour-Attempts"), resp.Header.Get("X-Detour-Provider"))
			}
			if claude.Count() != 1 || gem.Count() != 1 || llama.Count() != 1 {
				t.Errorf("calls: anthropic %d, gemini %d, ollama %d; want one each", claude.Count(), gem.Count(), llama.Count())
			}
			logs := gw.requestLogs(t, 1)
			for _, class := range []string{"server_error 529", "rate_limited 429", "ok 200"} {
				if !strings.Contains(logs, class) {
					t.Errorf("log lacks %q:\n%s", class, logs)
				}
			}
		})
	}
}

// TestStreamFailsOverFromAnOverloadedEvent: Anthropic answers 200 and then
// an overloaded_error event before any content. Nothing reached the client
// yet, so Detour fails over and the client sees only the other answer.
func TestStreamFailsOverFromAnOverloadedEvent(t *testing.T) {
	claude := anthropictest.New(t, anthropictest.Reply{Fault: anthropictest.ErrorEventBeforeContent})
	backup := openaitest.New(t, openaitest.Reply{Text: "From the backup."})
	gw := start(t, fmt.Sprintf(`model_list:
  - model_name: m
    litellm_params: {model: anthropic/claude-sonnet-4-5, api_base: %q}
  - model_name: backup
    litellm_params: {model: openai/gpt-4o-mini, api_base: %q}
router_settings: {num_retries: 0, fallbacks: [{m: [backup]}]}
`, claude.URL, backup.URL))
	s := gw.client.Chat.Completions.NewStreaming(context.Background(), params("m"))
	var acc openai.ChatCompletionAccumulator
	for s.Next() {
		acc.AddChunk(s.Current())
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	if got := acc.Choices[0].Message.Content; got != "From the backup." || claude.Count() != 1 {
		t.Errorf("got %q after %d anthropic calls, want the backup's answer after one", got, claude.Count())
	}
}

// TestRoutingHints: tags from the header and from metadata.tags, per-request
// fallbacks and session affinity reach the router, and the fields no
// provider would accept never reach the upstream.
func TestRoutingHints(t *testing.T) {
	us := openaitest.New(t, openaitest.Reply{Text: "from us"})
	eu := openaitest.New(t, openaitest.Reply{Text: "from eu"})
	other := openaitest.New(t, openaitest.Reply{Text: "from other"})
	gw := start(t, fmt.Sprintf(`model_list:
  - model_name: m
    litellm_params: {model: openai/gpt-4o, api_base: %q, weight: 1000}
  - model_name: m
    litellm_params: {model: openai/gpt-4o, api_base: %q, weight: 1, tags: [eu]}
  - model_name: other
    litellm_params: {model: openai/gpt-4o-mini, api_base: %q}
`, us.URL, eu.URL, other.URL))
	ask := func(opts ...option.RequestOption) string {
		t.Helper()
		c, err := gw.client.Chat.Completions.New(context.Background(), params("m"), opts...)
		if err != nil {
			t.Fatal(err)
		}
		return c.Choices[0].Message.Content
	}
	if got := ask(option.WithHeader("X-Detour-Tags", "eu")); got != "from eu" {
		t.Errorf("header tags: %q", got)
	}
	if got := ask(option.WithJSONSet("metadata", map[string]any{"tags": []string{"eu"}, "team": "a"})); got != "from eu" {
		t.Errorf("metadata tags: %q", got)
	}
	if got := ask(); got != "from us" {
		t.Errorf("untagged: %q", got)
	}
	for _, r := range append(eu.Requests(), us.Requests()...) {
		if md, ok := r.Body["metadata"].(map[string]any); ok && md["tags"] != nil {
			t.Errorf("metadata.tags reached the upstream: %s", r.Raw)
		}
	}
	if md := eu.Requests()[1].Body["metadata"]; md == nil {
		t.Error("the rest of metadata was dropped")
	}
	if got := ask(option.WithJSONSet("fallbacks", []string{"other"}), option.WithJSONSet("disable_fallbacks", false)); got != "from us" {
		t.Errorf("with fallbacks in the body: %q", got)
	}
	for _, r := range append(us.Requests(), other.Requests()...) {
		if r.Body["fallbacks"] != nil || r.Body["disable_fallbacks"] != nil {
			t.Errorf("fallbacks reached the upstream: %s", r.Raw)
		}
	}
}

func TestComplexityRouter(t *testing.T) {
	gw := start(t, `model_list:
  - model_name: auto
    litellm_params:
      model: auto_router/complexity_router
      complexity_router_config:
        tiers: {SIMPLE: small, REASONING: deep}
      complexity_router_default_model: small
  - model_name: small
    litellm_params: {model: mock/small, mock_response: "small model"}
  - model_name: deep
    litellm_params: {model: mock/deep, mock_response: "deep model"}
`)
	for _, tt := range []struct{ prompt, tier, text string }{
		{"hi", "SIMPLE", "small model"},
		{"Prove that the square root of 2 is irrational, step by step, and justify every step rigorously.", "REASONING", "deep model"},
	} {
		var resp *http.Response
		p := params("auto")
		p.Messages = msgs(openai.UserMessage(tt.prompt))
		c, err := gw.client.Chat.Completions.New(context.Background(), p, option.WithResponseInto(&resp))
		if err != nil {
			t.Fatal(err)
		}
		if got := resp.Header.Get("X-Detour-Tier"); got != tt.tier || c.Choices[0].Message.Content != tt.text {
			t.Errorf("%q: tier %q answer %q, want %s and %q", tt.prompt, got, c.Choices[0].Message.Content, tt.tier, tt.text)
		}
	}
	var models struct {
		Data []struct{ ID string } `json:"data"`
	}
	getJSON(t, gw.url+"/models", &models)
	if len(models.Data) != 3 || !slices.ContainsFunc(models.Data, func(m struct{ ID string }) bool { return m.ID == "auto" }) {
		t.Errorf("/v1/models = %+v, want the auto group listed", models.Data)
	}
}

func TestDecisionTrace(t *testing.T) {
	broken := openaitest.New(t, openaitest.Status(500, openaitest.ServerBody))
	good := openaitest.New(t, openaitest.Reply{Text: "fine"})
	gw := start(t, "model_list:\n"+deployment(broken, "main-llm", "gpt-4o")+deployment(good, "cheap-llm", "gpt-4o-mini")+
		"router_settings:\n  num_retries: 0\n  routing_strategy: least-busy\n  fallbacks: [{main-llm: [cheap-llm]}]\n")
	var resp *http.Response
	if _, err := gw.client.Chat.Completions.New(context.Background(), params("main-llm"), option.WithResponseInto(&resp)); err != nil {
		t.Fatal(err)
	}
	gw.requestLogs(t, 1)
	if err := gw.gw.RequestLog().Flush(); err != nil {
		t.Fatal(err)
	}
	root := strings.TrimSuffix(gw.url, "/v1")
	var rec struct {
		ID       string
		Status   int
		Groups   []string
		Prompt   json.RawMessage
		Attempts []struct{ Deployment, Reason, Class string }
	}
	getJSON(t, root+"/api/v1/requests/"+resp.Header.Get("X-Detour-Request-Id"), &rec)
	if rec.Status != 200 || len(rec.Attempts) != 2 || rec.Attempts[0].Class != "server_error" || rec.Attempts[1].Reason != "least-busy" ||
		!slices.Equal(rec.Groups, []string{"main-llm", "cheap-llm"}) {
		t.Errorf("trace = %+v", rec)
	}
	if len(rec.Prompt) != 0 {
		t.Errorf("the prompt was kept although request_log.prompts is off: %s", rec.Prompt)
	}
	var list struct{ Data []struct{ ID string } }
	getJSON(t, root+"/api/v1/requests?limit=5", &list)
	if len(list.Data) != 1 || list.Data[0].ID != rec.ID {
		t.Errorf("recent = %+v", list.Data)
	}
}
