package anthropic_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/detour-gateway/detour/chat"
	"github.com/detour-gateway/detour/router/provider/anthropic"
	"github.com/detour-gateway/detour/router/provider/sse"
)

func outTextMessage(s string) chat.Message {
	return chat.Message{Role: "assistant", Content: chat.TextContent(s)}
}

func outCall(id, name, args string) chat.ToolCall {
	return chat.ToolCall{ID: id, Type: "function", Function: chat.FunctionCall{Name: name, Arguments: args}}
}

func outAnswer(id string, m chat.Message, finish chat.FinishReason, u *chat.Usage) *chat.Response {
	return &chat.Response{ID: id, Object: "chat.completion", Model: "gpt-4o-2024-08-06",
		Choices: []chat.Choice{{Message: m, FinishReason: finish}}, Usage: u}
}

func outUsage(prompt, completion, cached int) *chat.Usage {
	u := &chat.Usage{PromptTokens: prompt, CompletionTokens: completion, TotalTokens: prompt + completion}
	if cached > 0 {
		u.PromptTokensDetails = &chat.PromptTokensDetails{CachedTokens: cached}
	}
	return u
}

func TestEncodeResponse(t *testing.T) {
	withCacheWrite := outUsage(1000, 20, 800)
	withCacheWrite.Extra = chat.Extra{"cache_creation_input_tokens": json.RawMessage("150")}
	openRouterWrite := outUsage(500, 20, 100)
	openRouterWrite.PromptTokensDetails.CacheWriteTokens = 300
	toolMsg := chat.Message{Role: "assistant", Content: json.RawMessage("null"), ToolCalls: []chat.ToolCall{
		outCall("call_Ab12", "get_weather", `{"city": "Paris"}`),
		outCall("", "now_utc", ""),
		outCall("call.x/y", "broken", `{"city": "Ro`),
	}}
	refusal := chat.Message{Role: "assistant", Content: json.RawMessage("null"), Extra: chat.Extra{"refusal": json.RawMessage(`"I can't help with that."`)}}
	for _, tt := range []struct {
		name  string
		resp  *chat.Response
		model string
		want  string
	}{
		{"text", outAnswer("chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT", outTextMessage("Hello <there> & welcome."), "stop", outUsage(12, 5, 0)), "claude-sonnet-4-5",
			`{"id":"msg_B9MBs8CjcvOU2jLn4n570S5qMJKcT","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[{"type":"text","text":"Hello <there> & welcome."}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":12,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":5}}`},
		{"tool calls", outAnswer("chatcmpl-9", toolMsg, "tool_calls", outUsage(40, 30, 0)), "claude",
			`{"id":"msg_9","type":"message","role":"assistant","model":"claude","content":[` +
				`{"type":"tool_use","id":"call_Ab12","name":"get_weather","input":{"city":"Paris"}},` +
				`{"type":"tool_use","id":"toolu_9_1","name":"now_utc","input":{}},` +
				`{"type":"tool_use","id":"call_x_y","name":"broken","input":{}}],` +
				`"stop_reason":"tool_use","stop_sequence":null,"usage":{"input_tokens":40,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":30}}`},
		{"thinking and text", outAnswer("msg_01Kept", chat.Message{Role: "assistant", Content: chat.TextContent("Yes."), ReasoningContent: "17 has no divisor."}, "stop", outUsage(9, 40, 0)), "claude",
			`{"id":"msg_01Kept","type":"message","role":"assistant","model":"claude","content":[{"type":"thinking","thinking":"17 has no divisor.","signature":""},{"type":"text","text":"Yes."}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":9,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":40}}`},
		{"length", outAnswer("chatcmpl-msg_01Up", outTextMessage("one two"), "length", outUsage(3, 2, 0)), "claude",
			`{"id":"msg_01Up","type":"message","role":"assistant","model":"claude","content":[{"type":"text","text":"one two"}],"stop_reason":"max_tokens","stop_sequence":null,"usage":{"input_tokens":3,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":2}}`},
		{"text and a call, finish stop", outAnswer("x", chat.Message{Role: "assistant", Content: chat.TextContent("Checking."), ToolCalls: []chat.ToolCall{outCall("c1", "f", `{}`)}}, "stop", nil), "claude",
			`{"id":"msg_x","type":"message","role":"assistant","model":"claude","content":[{"type":"text","text":"Checking."},{"type":"tool_use","id":"c1","name":"f","input":{}}],"stop_reason":"tool_use","stop_sequence":null,"usage":{"input_tokens":0,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":0}}`},
		{"cache reads and writes", outAnswer("chatcmpl-c", outTextMessage("ok"), "stop", withCacheWrite), "claude",
			`{"id":"msg_c","type":"message","role":"assistant","model":"claude","content":[{"type":"text","text":"ok"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":50,"cache_creation_input_tokens":150,"cache_read_input_tokens":800,"output_tokens":20}}`},
		{"OpenRouter's cache writes", outAnswer("gen-1", outTextMessage("ok"), "stop", openRouterWrite), "claude",
			`{"id":"msg_gen-1","type":"message","role":"assistant","model":"claude","content":[{"type":"text","text":"ok"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":100,"cache_creation_input_tokens":300,"cache_read_input_tokens":100,"output_tokens":20}}`},
		{"refusal", outAnswer("r", refusal, "stop", nil), "claude",
			`{"id":"msg_r","type":"message","role":"assistant","model":"claude","content":[{"type":"text","text":"I can't help with that."}],"stop_reason":"refusal","stop_sequence":null,"usage":{"input_tokens":0,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":0}}`},
		{"content filter", outAnswer("f", chat.Message{Role: "assistant", Content: chat.TextContent("")}, "content_filter", nil), "claude",
			`{"id":"msg_f","type":"message","role":"assistant","model":"claude","content":[],"stop_reason":"refusal","stop_sequence":null,"usage":{"input_tokens":0,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":0}}`},
		{"no choices, no id, no model", &chat.Response{Model: "llama3.2"}, "",
			`{"id":"msg_detour","type":"message","role":"assistant","model":"llama3.2","content":[],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":0,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":0}}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := anthropic.EncodeResponse(tt.resp, tt.model)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestEncodeResponseNative(t *testing.T) {
	own := []byte(`{"id":"msg_01X","type":"message","content":[{"type":"thinking","thinking":"t","signature":"EqQB"}]}`)
	resp := outAnswer("chatcmpl-msg_01X", outTextMessage("other"), "stop", nil)
	resp.Native = &chat.Native{Dialect: chat.DialectAnthropic, Body: own}
	got, err := anthropic.EncodeResponse(resp, "claude")
	if err != nil || !bytes.Equal(got, own) {
		t.Errorf("got %s, %v; want Anthropic's own bytes", got, err)
	}
	if _, err := anthropic.EncodeResponse(nil, "claude"); err == nil {
		t.Error("no error for a nil answer")
	}
}

// TestEncodeResponseUsagePricesTheSame checks that the usage a client gets
// counts every prompt token once: input_tokens, cache reads and cache
// writes add up to prompt_tokens, so the conversation prices the same in
// both dialects.
func TestEncodeResponseUsagePricesTheSame(t *testing.T) {
	for _, tt := range []struct {
		prompt, cached, write int
	}{
		{0, 0, 0}, {100, 0, 0}, {100, 100, 0}, {100, 40, 60}, {1000, 800, 150},
		{100, 150, 0},  // more cached than prompt: clamped
		{100, 90, 50},  // reads and writes over the prompt: writes clamped
		{100, -5, -10}, // nonsense counts
	} {
		t.Run(fmt.Sprintf("%d-%d-%d", tt.prompt, tt.cached, tt.write), func(t *testing.T) {
			u := outUsage(tt.prompt, 7, 0)
			u.PromptTokensDetails = &chat.PromptTokensDetails{CachedTokens: tt.cached}
			u.Extra = chat.Extra{"cache_creation_input_tokens": json.RawMessage(fmt.Sprint(tt.write))}
			body, err := anthropic.EncodeResponse(outAnswer("a", outTextMessage("x"), "stop", u), "claude")
			if err != nil {
				t.Fatal(err)
			}
			var got struct {
				Usage struct {
					Input  int `json:"input_tokens"`
					Read   int `json:"cache_read_input_tokens"`
					Write  int `json:"cache_creation_input_tokens"`
					Output int `json:"output_tokens"`
				} `json:"usage"`
			}
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatal(err)
			}
			g := got.Usage
			if g.Input+g.Read+g.Write != tt.prompt || g.Input < 0 || g.Read < 0 || g.Write < 0 || g.Output != 7 {
				t.Errorf("usage %+v for prompt %d (cached %d, written %d)", g, tt.prompt, tt.cached, tt.write)
			}
			if tt.cached >= 0 && tt.cached <= tt.prompt && g.Read != tt.cached {
				t.Errorf("cache reads %d, want %d", g.Read, tt.cached)
			}
		})
	}
}

// servedUpstream serves body, once per request, as an Anthropic API would:
// JSON, or an event stream when stream is set.
func servedUpstream(t *testing.T, body []byte, stream bool) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if stream {
			w.Header().Set("Content-Type", "text/event-stream")
		} else {
			w.Header().Set("Content-Type", "application/json")
		}
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestEncodeResponseRoundTrip reads EncodeResponse's answers back with the
// adapter's own Messages reader: the canonical answer must come back.
func TestEncodeResponseRoundTrip(t *testing.T) {
	cached := outUsage(1200, 64, 1000)
	for _, tt := range []struct {
		name string
		resp *chat.Response
	}{
		{"text", outAnswer("chatcmpl-1", outTextMessage("Hello."), "stop", outUsage(10, 2, 0))},
		{"thinking and calls", outAnswer("chatcmpl-2", chat.Message{Role: "assistant", Content: chat.TextContent("Both."),
			ReasoningContent: "Two cities.", ToolCalls: []chat.ToolCall{outCall("call_1", "get_weather", `{"city":"Paris"}`), outCall("call_2", "get_weather", `{"city":"Rome"}`)}},
			"tool_calls", cached)},
		{"length", outAnswer("chatcmpl-3", outTextMessage("one two"), "length", outUsage(3, 2, 0))},
	} {
		t.Run(tt.name, func(t *testing.T) {
			body, err := anthropic.EncodeResponse(tt.resp, "claude")
			if err != nil {
				t.Fatal(err)
			}
			back, err := inboundClient(servedUpstream(t, body, false)).Chat(context.Background(), &chat.Request{Model: "claude",
				Messages: []chat.Message{{Role: "user", Content: chat.TextContent("hi")}}})
			if err != nil {
				t.Fatal(err)
			}
			compareCanonicalAnswers(t, back, tt.resp)
		})
	}
}

// compareCanonicalAnswers checks that got says what want says: text, reasoning,
// tool calls, finish reason and the prompt, cached and completion tokens.
func compareCanonicalAnswers(t *testing.T, got, want *chat.Response) {
	t.Helper()
	g, w := got.Choices[0], want.Choices[0]
	if g.Message.Text() != w.Message.Text() || g.Message.ReasoningContent != w.Message.ReasoningContent {
		t.Errorf("text %q reasoning %q, want %q %q", g.Message.Text(), g.Message.ReasoningContent, w.Message.Text(), w.Message.ReasoningContent)
	}
	if g.FinishReason != w.FinishReason {
		t.Errorf("finish %q, want %q", g.FinishReason, w.FinishReason)
	}
	if len(g.Message.ToolCalls) != len(w.Message.ToolCalls) {
		t.Fatalf("%d tool calls, want %d", len(g.Message.ToolCalls), len(w.Message.ToolCalls))
	}
	for i, c := range g.Message.ToolCalls {
		wc := w.Message.ToolCalls[i]
		if c.ID != wc.ID || c.Function.Name != wc.Function.Name || c.Function.Arguments != wc.Function.Arguments {
			t.Errorf("tool call %d: %+v, want %+v", i, c.Function, wc.Function)
		}
	}
	gu, wu := got.Usage, want.Usage
	cachedOf := func(u *chat.Usage) int {
		if u.PromptTokensDetails == nil {
			return 0
		}
		return u.PromptTokensDetails.CachedTokens
	}
	if gu.PromptTokens != wu.PromptTokens || gu.CompletionTokens != wu.CompletionTokens || cachedOf(gu) != cachedOf(wu) {
		t.Errorf("usage %+v (cached %d), want %+v (cached %d)", gu, cachedOf(gu), wu, cachedOf(wu))
	}
}

// ev frames one event as the encoder must write it.
func sseEvent(name, data string) string { return "event: " + name + "\ndata: " + data + "\n\n" }

const (
	outStartEvent = `{"type":"message_start","message":{"id":"msg_s1","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":0,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":0}}}`
	outStopEvent  = `{"type":"message_stop"}`
)

func outBlockStart(i int, block string) string {
	return sseEvent("content_block_start", fmt.Sprintf(`{"type":"content_block_start","index":%d,"content_block":%s}`, i, block))
}

func outBlockDelta(i int, delta string) string {
	return sseEvent("content_block_delta", fmt.Sprintf(`{"type":"content_block_delta","index":%d,"delta":%s}`, i, delta))
}

func outBlockStop(i int) string {
	return sseEvent("content_block_stop", fmt.Sprintf(`{"type":"content_block_stop","index":%d}`, i))
}

func outMessageDelta(stop, usage string) string {
	return sseEvent("message_delta", `{"type":"message_delta","delta":{"stop_reason":"`+stop+`","stop_sequence":null},"usage":`+usage+`}`)
}

// chunk is a chunk of stream s1 with one choice.
func outChunk(d chat.Delta, finish chat.FinishReason) *chat.Chunk {
	return &chat.Chunk{ID: "chatcmpl-s1", Object: "chat.completion.chunk", Model: "gpt-4o",
		Choices: []chat.ChunkChoice{{Delta: d, FinishReason: finish}}}
}

// outUsageChunk is the last chunk of a stream that asked for usage.
func outUsageChunk(u *chat.Usage) *chat.Chunk {
	return &chat.Chunk{ID: "chatcmpl-s1", Object: "chat.completion.chunk", Model: "gpt-4o", Choices: []chat.ChunkChoice{}, Usage: u}
}

func outToolDelta(index int, id, name, args string) chat.Delta {
	return chat.Delta{ToolCalls: []chat.ToolCall{{Index: &index, ID: id, Type: "function", Function: chat.FunctionCall{Name: name, Arguments: args}}}}
}

// outStreamCases are canonical chunk sequences with the exact bytes of the
// Messages stream each must become.
var outStreamCases = []struct {
	name   string
	chunks []*chat.Chunk
	want   string
}{
	{"text", []*chat.Chunk{
		outChunk(chat.Delta{Role: "assistant"}, ""),
		outChunk(chat.Delta{Content: "Hello"}, ""),
		outChunk(chat.Delta{Content: ", <world>"}, ""),
		outChunk(chat.Delta{}, "stop"),
		outUsageChunk(outUsage(25, 3, 0)),
	}, sseEvent("message_start", outStartEvent) +
		outBlockStart(0, `{"type":"text","text":""}`) +
		outBlockDelta(0, `{"type":"text_delta","text":"Hello"}`) +
		outBlockDelta(0, `{"type":"text_delta","text":", <world>"}`) +
		outBlockStop(0) +
		outMessageDelta("end_turn", `{"input_tokens":25,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":3}`) +
		sseEvent("message_stop", outStopEvent)},
	{"thinking then text", []*chat.Chunk{
		outChunk(chat.Delta{Role: "assistant", ReasoningContent: "Is 17 "}, ""),
		outChunk(chat.Delta{ReasoningContent: "prime? Yes."}, ""),
		outChunk(chat.Delta{Content: "Yes."}, ""),
		outChunk(chat.Delta{}, "length"),
	}, sseEvent("message_start", outStartEvent) +
		outBlockStart(0, `{"type":"thinking","thinking":"","signature":""}`) +
		outBlockDelta(0, `{"type":"thinking_delta","thinking":"Is 17 "}`) +
		outBlockDelta(0, `{"type":"thinking_delta","thinking":"prime? Yes."}`) +
		outBlockStop(0) +
		outBlockStart(1, `{"type":"text","text":""}`) +
		outBlockDelta(1, `{"type":"text_delta","text":"Yes."}`) +
		outBlockStop(1) +
		outMessageDelta("max_tokens", `{"output_tokens":0}`) +
		sseEvent("message_stop", outStopEvent)},
	{"two tool calls", []*chat.Chunk{
		outChunk(chat.Delta{Role: "assistant", Content: "Checking both."}, ""),
		outChunk(outToolDelta(0, "call_Pa", "get_weather", ""), ""),
		outChunk(outToolDelta(0, "", "", `{"ci`), ""),
		outChunk(outToolDelta(0, "", "", `ty":"Paris"}`), ""),
		outChunk(outToolDelta(1, "call_Ro", "get_weather", `{"city":`), ""),
		outChunk(outToolDelta(1, "", "", `"Rome"}`), ""),
		outChunk(chat.Delta{}, "tool_calls"),
		outUsageChunk(outUsage(1200, 48, 1000)),
	}, sseEvent("message_start", outStartEvent) +
		outBlockStart(0, `{"type":"text","text":""}`) +
		outBlockDelta(0, `{"type":"text_delta","text":"Checking both."}`) +
		outBlockStop(0) +
		outBlockStart(1, `{"type":"tool_use","id":"call_Pa","name":"get_weather","input":{}}`) +
		outBlockDelta(1, `{"type":"input_json_delta","partial_json":"{\"ci"}`) +
		outBlockDelta(1, `{"type":"input_json_delta","partial_json":"ty\":\"Paris\"}"}`) +
		outBlockStop(1) +
		outBlockStart(2, `{"type":"tool_use","id":"call_Ro","name":"get_weather","input":{}}`) +
		outBlockDelta(2, `{"type":"input_json_delta","partial_json":"{\"city\":"}`) +
		outBlockDelta(2, `{"type":"input_json_delta","partial_json":"\"Rome\"}"}`) +
		outBlockStop(2) +
		outMessageDelta("tool_use", `{"input_tokens":200,"cache_creation_input_tokens":0,"cache_read_input_tokens":1000,"output_tokens":48}`) +
		sseEvent("message_stop", outStopEvent)},
	{"call without arguments or id", []*chat.Chunk{
		outChunk(outToolDelta(0, "", "now_utc", ""), "tool_calls"),
	}, sseEvent("message_start", outStartEvent) +
		outBlockStart(0, `{"type":"tool_use","id":"toolu_s1_0","name":"now_utc","input":{}}`) +
		outBlockStop(0) +
		outMessageDelta("tool_use", `{"output_tokens":0}`) +
		sseEvent("message_stop", outStopEvent)},
	{"no chunks", nil, sseEvent("message_start", strings.Replace(outStartEvent, "msg_s1", "msg_detour", 1)) +
		outMessageDelta("end_turn", `{"output_tokens":0}`) +
		sseEvent("message_stop", outStopEvent)},
}

func TestStreamEncoder(t *testing.T) {
	for _, tt := range outStreamCases {
		t.Run(tt.name, func(t *testing.T) {
			e := anthropic.NewStreamEncoder("claude-sonnet-4-5")
			var got []byte
			for _, c := range tt.chunks {
				got = e.Chunk(got, c)
			}
			got = e.End(got)
			if string(got) != tt.want {
				t.Errorf("stream differs\n got:\n%s\nwant:\n%s", got, tt.want)
			}
			if again := e.End(nil); len(again) != 0 {
				t.Errorf("a second End wrote %q", again)
			}
			if after := e.Chunk(nil, outChunk(chat.Delta{Content: "late"}, "")); len(after) != 0 {
				t.Errorf("a chunk after End wrote %q", after)
			}
			checkMessagesGrammar(t, got)
		})
	}
}

func TestStreamEncoderFirstChunkUsage(t *testing.T) {
	c := outChunk(chat.Delta{Role: "assistant"}, "")
	c.Usage = outUsage(300, 0, 200)
	got := anthropic.NewStreamEncoder("m").Chunk(nil, c)
	want := sseEvent("message_start", `{"type":"message_start","message":{"id":"msg_s1","type":"message","role":"assistant","model":"m","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":100,"cache_creation_input_tokens":0,"cache_read_input_tokens":200,"output_tokens":0}}}`)
	if string(got) != want {
		t.Errorf("\n got %s\nwant %s", got, want)
	}
}

func TestStreamEncoderZeroValue(t *testing.T) {
	var e anthropic.StreamEncoder
	got := e.Chunk(nil, outChunk(outToolDelta(0, "call_1", "f", `{"a":1}`), "tool_calls"))
	got = e.End(got)
	if blocks := checkMessagesGrammar(t, got); blocks != "tool_use" {
		t.Errorf("blocks %q\n%s", blocks, got)
	}
}

func TestStreamEncoderErrorAndPing(t *testing.T) {
	e := anthropic.NewStreamEncoder("claude-sonnet-4-5")
	got := e.Chunk(nil, outChunk(chat.Delta{Content: "Hel"}, ""))
	got = e.Ping(got)
	got = e.Error(got, anthropic.ErrorType(529), `upstream "overloaded"`)
	got = e.End(got)
	got = e.Chunk(got, outChunk(chat.Delta{Content: "lo"}, ""))
	want := sseEvent("message_start", outStartEvent) +
		outBlockStart(0, `{"type":"text","text":""}`) +
		outBlockDelta(0, `{"type":"text_delta","text":"Hel"}`) +
		"event: ping\ndata: {\"type\": \"ping\"}\n\n" +
		sseEvent("error", `{"type":"error","error":{"type":"overloaded_error","message":"upstream \"overloaded\""}}`)
	if string(got) != want {
		t.Errorf("stream differs\n got:\n%s\nwant:\n%s", got, want)
	}
}

// TestStreamEncoderNative checks that Anthropic's own events pass through
// unchanged, and that the encoder then adds nothing.
func TestStreamEncoderNative(t *testing.T) {
	own := sseEvent("message_start", `{"type":"message_start","message":{"id":"msg_01X"}}`) + sseEvent("ping", `{"type": "ping"}`)
	last := sseEvent("message_delta", `{"type":"message_delta","delta":{"stop_reason":"end_turn"}}`) + sseEvent("message_stop", outStopEvent)
	e := anthropic.NewStreamEncoder("claude")
	c1 := outChunk(chat.Delta{Role: "assistant"}, "")
	c1.Native = []byte(own)
	c2 := outChunk(chat.Delta{}, "stop")
	c2.Native = []byte(last)
	got := e.Chunk(nil, c1)
	got = e.Chunk(got, c2)
	got = e.Chunk(got, outUsageChunk(outUsage(5, 1, 0))) // the adapter's own usage chunk: no events behind it
	got = e.End(got)
	if string(got) != own+last {
		t.Errorf("got\n%s\nwant\n%s", got, own+last)
	}
}

// TestStreamEncoderGrammar feeds unusual chunk sequences and checks the
// stream is still well formed.
func TestStreamEncoderGrammar(t *testing.T) {
	refusal := outChunk(chat.Delta{Extra: chat.Extra{"refusal": json.RawMessage(`"No."`)}}, "")
	for _, tt := range []struct {
		name   string
		chunks []*chat.Chunk
		blocks string // the kinds of the blocks written, in order
	}{
		{"text after a call", []*chat.Chunk{outChunk(outToolDelta(0, "c", "f", `{}`), ""), outChunk(chat.Delta{Content: "Done."}, "stop")}, "tool_use text"},
		{"thinking after text", []*chat.Chunk{outChunk(chat.Delta{Content: "a"}, ""), outChunk(chat.Delta{ReasoningContent: "b"}, ""), outChunk(chat.Delta{Content: "c"}, "")}, "text thinking text"},
		{"thinking and text in one chunk", []*chat.Chunk{outChunk(chat.Delta{ReasoningContent: "r", Content: "t"}, "stop")}, "thinking text"},
		{"late fragment of a closed call", []*chat.Chunk{outChunk(outToolDelta(0, "a", "f", `{"x":`), ""), outChunk(outToolDelta(1, "b", "g", `{}`), ""), outChunk(outToolDelta(0, "", "", `1}`), "")}, "tool_use tool_use"},
		{"calls without index", []*chat.Chunk{
			outChunk(chat.Delta{ToolCalls: []chat.ToolCall{{ID: "a", Function: chat.FunctionCall{Name: "f", Arguments: `{"x"`}}}}, ""),
			outChunk(chat.Delta{ToolCalls: []chat.ToolCall{{Function: chat.FunctionCall{Arguments: `:1}`}}}}, ""),
			outChunk(chat.Delta{ToolCalls: []chat.ToolCall{{ID: "b", Function: chat.FunctionCall{Name: "g", Arguments: `{}`}}}}, ""),
		}, "tool_use tool_use"},
		{"two calls in one chunk", []*chat.Chunk{outChunk(chat.Delta{ToolCalls: []chat.ToolCall{
			{Index: outIndex(0), ID: "a", Function: chat.FunctionCall{Name: "f", Arguments: `{}`}},
			{Index: outIndex(1), ID: "b", Function: chat.FunctionCall{Name: "g", Arguments: `{}`}}}}, "tool_calls")}, "tool_use tool_use"},
		{"refusal", []*chat.Chunk{refusal, outChunk(chat.Delta{}, "content_filter")}, "text"},
		{"other choices ignored", []*chat.Chunk{{ID: "x", Choices: []chat.ChunkChoice{{Index: 1, Delta: chat.Delta{Content: "no"}}, {Index: 0, Delta: chat.Delta{Content: "yes"}}}}}, "text"},
		{"empty deltas", []*chat.Chunk{outChunk(chat.Delta{}, ""), outChunk(chat.Delta{Role: "assistant"}, ""), nil}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := anthropic.NewStreamEncoder("m")
			var got []byte
			for _, c := range tt.chunks {
				got = e.Chunk(got, c)
			}
			got = e.End(got)
			if blocks := checkMessagesGrammar(t, got); blocks != tt.blocks {
				t.Errorf("blocks %q, want %q\n%s", blocks, tt.blocks, got)
			}
		})
	}
}

func outIndex(i int) *int { return &i }

// checkMessagesGrammar parses a Messages stream and checks it against the event
// grammar: message_start first; blocks started at indexes 0, 1, 2, … and
// stopped before the next starts; deltas only to the open block, of its
// kind; tool input fragments adding up to a JSON object; message_delta
// with no block open, then message_stop last; each event's name its data's
// type. It returns the kinds of the blocks, space separated.
func checkMessagesGrammar(t *testing.T, stream []byte) string {
	t.Helper()
	r := sse.NewReader(bytes.NewReader(stream))
	var kinds []string
	open := -1
	var input strings.Builder
	var names []string
	for {
		e, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("the stream does not parse: %v", err)
		}
		var data struct {
			Type         string `json:"type"`
			Index        *int   `json:"index"`
			ContentBlock *struct {
				Type  string          `json:"type"`
				Input json.RawMessage `json:"input"`
			} `json:"content_block"`
			Delta *struct {
				Type        string  `json:"type"`
				PartialJSON *string `json:"partial_json"`
				StopReason  *string `json:"stop_reason"`
			} `json:"delta"`
			Message *struct {
				ID string `json:"id"`
			} `json:"message"`
		}
		if err := json.Unmarshal(e.Data, &data); err != nil {
			t.Fatalf("event %s: data is not JSON: %s", e.Name, e.Data)
		}
		if data.Type != e.Name {
			t.Errorf("event %q carries type %q", e.Name, data.Type)
		}
		if e.Name == "ping" {
			continue
		}
		if len(names) == 0 && e.Name != "message_start" {
			t.Errorf("first event %s, want message_start", e.Name)
		}
		if n := len(names); n > 0 && names[n-1] == "message_stop" {
			t.Errorf("%s after message_stop", e.Name)
		}
		names = append(names, e.Name)
		switch e.Name {
		case "message_start":
			if len(names) != 1 || data.Message == nil || !strings.HasPrefix(data.Message.ID, "msg_") {
				t.Errorf("message_start %s", e.Data)
			}
		case "content_block_start":
			if open >= 0 {
				t.Errorf("block %d starts with block %d open", *data.Index, open)
			}
			if data.Index == nil || *data.Index != len(kinds) || data.ContentBlock == nil {
				t.Fatalf("block start %s, want index %d", e.Data, len(kinds))
			}
			open = *data.Index
			kinds = append(kinds, data.ContentBlock.Type)
			input.Reset()
		case "content_block_delta":
			if data.Index == nil || *data.Index != open || data.Delta == nil {
				t.Fatalf("delta %s with block %d open", e.Data, open)
			}
			want := map[string]string{"text": "text_delta", "thinking": "thinking_delta", "tool_use": "input_json_delta"}[kinds[open]]
			if data.Delta.Type != want {
				t.Errorf("%s in a %s block", data.Delta.Type, kinds[open])
			}
			if data.Delta.PartialJSON != nil {
				input.WriteString(*data.Delta.PartialJSON)
			}
		case "content_block_stop":
			if data.Index == nil || *data.Index != open {
				t.Fatalf("stop %s with block %d open", e.Data, open)
			}
			if kinds[open] == "tool_use" && input.Len() > 0 {
				var obj map[string]any
				if err := json.Unmarshal([]byte(input.String()), &obj); err != nil && !strings.Contains(t.Name(), "late_fragment") {
					t.Errorf("tool input %q is no JSON object", input.String())
				}
			}
			open = -1
		case "message_delta":
			if open >= 0 {
				t.Errorf("message_delta with block %d open", open)
			}
			if data.Delta == nil || data.Delta.StopReason == nil || *data.Delta.StopReason == "" {
				t.Errorf("message_delta without stop_reason: %s", e.Data)
			}
		case "message_stop":
			if n := len(names); n < 2 || names[n-2] != "message_delta" {
				t.Errorf("message_stop not right after message_delta: %v", names)
			}
		default:
			t.Errorf("unexpected event %s", e.Name)
		}
	}
	if len(names) == 0 || names[len(names)-1] != "message_stop" {
		t.Errorf("the stream does not end with message_stop: %v", names)
	}
	return strings.Join(kinds, " ")
}

// TestStreamEncoderRoundTrip reads the encoder's streams back with the
// adapter's own Messages stream reader: the answer assembled from its
// chunks must be the one assembled from the chunks encoded.
func TestStreamEncoderRoundTrip(t *testing.T) {
	for _, tt := range outStreamCases {
		if len(tt.chunks) == 0 {
			continue
		}
		t.Run(tt.name, func(t *testing.T) {
			e := anthropic.NewStreamEncoder("claude")
			var body []byte
			var want chat.Assembler
			for _, c := range tt.chunks {
				body = e.Chunk(body, c)
				want.Add(c)
			}
			body = e.End(body)
			s, err := inboundClient(servedUpstream(t, body, true)).Stream(context.Background(), &chat.Request{Model: "claude", Stream: true,
				StreamOptions: &chat.StreamOptions{IncludeUsage: true}, Messages: []chat.Message{{Role: "user", Content: chat.TextContent("hi")}}})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			var got chat.Assembler
			for {
				c, err := s.Recv()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				got.Add(c)
			}
			w := want.Response()
			if w.Usage == nil {
				w.Usage = outUsage(0, 0, 0) // the stream said nothing: Anthropic's zero counts come back
			}
			if len(w.Choices[0].Message.ToolCalls) > 0 && w.Choices[0].Message.ToolCalls[0].ID == "" {
				w.Choices[0].Message.ToolCalls[0].ID = "toolu_s1_0"
				w.Choices[0].Message.ToolCalls[0].Function.Arguments = "{}"
			}
			compareCanonicalAnswers(t, got.Response(), w)
		})
	}
}

func TestErrorType(t *testing.T) {
	for status, want := range map[int]string{
		400: "invalid_request_error", 401: "authentication_error", 402: "billing_error", 403: "permission_error",
		404: "not_found_error", 405: "invalid_request_error", 408: "invalid_request_error", 413: "request_too_large",
		422: "invalid_request_error", 429: "rate_limit_error", 500: "api_error", 502: "api_error",
		503: "overloaded_error", 504: "timeout_error", 529: "overloaded_error", 599: "api_error",
	} {
		if got := anthropic.ErrorType(status); got != want {
			t.Errorf("ErrorType(%d) = %q, want %q", status, got, want)
		}
	}
}

func TestEncodeError(t *testing.T) {
	for _, tt := range []struct {
		status  int
		message string
		want    string
	}{
		{400, "max_tokens: field required", `{"type":"error","error":{"type":"invalid_request_error","message":"max_tokens: field required"}}`},
		{429, `rate limited by "openai" <retry in 3s>`, `{"type":"error","error":{"type":"rate_limit_error","message":"rate limited by \"openai\" <retry in 3s>"}}`},
		{503, "no deployment can take the request now", `{"type":"error","error":{"type":"overloaded_error","message":"no deployment can take the request now"}}`},
	} {
		if got := anthropic.EncodeError(tt.status, tt.message); string(got) != tt.want {
			t.Errorf("EncodeError(%d, %q)\n got %s\nwant %s", tt.status, tt.message, got, tt.want)
		}
	}
}
