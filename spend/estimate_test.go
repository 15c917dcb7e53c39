package spend

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/detour-gateway/detour/chat"
)

func TestEstimateTokens(t *testing.T) {
	msg := func(role, text string) chat.Message {
		return chat.Message{Role: role, Content: chat.TextContent(text)}
	}
	tests := []struct {
		name string
		req  *chat.Request
		want int
	}{
		{"nil", nil, 0},
		{"no messages: the reply's priming", &chat.Request{}, 3},
		{"one message", &chat.Request{Messages: []chat.Message{msg("user", strings.Repeat("a", 40))}}, 3 + 4 + 10},
		{"rounds up", &chat.Request{Messages: []chat.Message{msg("user", "hello")}}, 3 + 4 + 2},
		{"characters, not bytes", &chat.Request{Messages: []chat.Message{msg("user", "héllo wörld")}}, 3 + 4 + 3},
		{"text parts of a content array", &chat.Request{Messages: []chat.Message{{Role: "user",
			Content: json.RawMessage(`[{"type":"text","text":"abcd"},{"type":"image_url","image_url":{"url":"data:..."}},{"type":"text","text":"efgh"}]`)}}},
			3 + 4 + 2},
		{"tool calls and results", &chat.Request{Messages: []chat.Message{
			{Role: "assistant", ToolCalls: []chat.ToolCall{{ID: "call", Function: chat.FunctionCall{Name: "get", Arguments: `{"a":1}`}}}},
			{Role: "tool", ToolCallID: "call", Content: chat.TextContent("42")},
		}}, 3 + 2*4 + (4+3+7+4+2+3)/4},
		{"tool definitions", &chat.Request{Tools: []chat.Tool{{Type: "function", Function: &chat.FunctionDef{
			Name: "lookup", Description: "Looks it up", Parameters: json.RawMessage(`{"type":"object"}`)}}}},
			3 + 8 + (6+11+17+3)/4},
		{"response format", &chat.Request{ResponseFormat: json.RawMessage(`{"type":"json_object"}`)}, 3 + 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := EstimateTokens(tt.req); got != tt.want {
				t.Errorf("EstimateTokens = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestEstimateCost(t *testing.T) {
	p := Price{Input: perM(1), CachedInput: perM(0.1), Output: perM(4),
		LongContext: LongContextPrice{AbovePromptTokens: 100_000, Input: perM(2), Output: perM(6)}}
	tests := []struct {
		name           string
		prompt, maxOut int
		want           float64
	}{
		{"prompt and full output, no cache assumed", 1000, 500, 1000*perM(1) + 500*perM(4)},
		{"long prompt: long price", 200_000, 1000, 200_000*perM(2) + 1000*perM(6)},
		{"negative counts", -1, -1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := EstimateCost(p, tt.prompt, tt.maxOut); !near(got, tt.want) {
				t.Errorf("EstimateCost = %v, want %v", got, tt.want)
			}
		})
	}
	if got := EstimateCost(Price{}, 1000, 1000); got != 0 {
		t.Errorf("EstimateCost of an unknown price = %v", got)
	}
}
