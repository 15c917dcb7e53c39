package anthropic

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/detour-gateway/detour/chat"
	"github.com/detour-gateway/detour/spend"
)

// TestUsageConventionsPriceAlike: the same tokens reported in Anthropic's
// convention (input_tokens without cache reads and writes) and in OpenAI's
// (prompt_tokens with them, OpenRouter's cache_write_tokens) cost the same
// dollars, and sort into the same five classes.
func TestUsageConventionsPriceAlike(t *testing.T) {
	anthropicAnswer := `{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[{"type":"text","text":"ok"}],
		"stop_reason":"end_turn","stop_sequence":null,
		"usage":{"input_tokens":100,"cache_creation_input_tokens":200,"cache_read_input_tokens":1000,"output_tokens":50}}`
	fromAnthropic, err := decodeResponse([]byte(anthropicAnswer), "claude-sonnet-4-5", 0)
	if err != nil {
		t.Fatal(err)
	}
	var fromOpenAI chat.Usage
	openAIUsage := `{"prompt_tokens":1300,"completion_tokens":50,"total_tokens":1350,
		"prompt_tokens_details":{"cached_tokens":1000,"cache_write_tokens":200},"completion_tokens_details":{"reasoning_tokens":0}}`
	if err := json.Unmarshal([]byte(openAIUsage), &fromOpenAI); err != nil {
		t.Fatal(err)
	}
	want := spend.Tokens{Uncached: 100, CacheRead: 1000, CacheWrite: 200, Output: 50}
	for name, u := range map[string]*chat.Usage{"anthropic": fromAnthropic.Usage, "openai": &fromOpenAI} {
		if got := spend.TokensOf(u); got != want {
			t.Errorf("%s convention: tokens %+v, want %+v", name, got, want)
		}
	}
	price, ok := spend.Lookup("anthropic", "claude-sonnet-4-5")
	if !ok {
		t.Fatal("no price for claude-sonnet-4-5")
	}
	a, o := price.Cost(fromAnthropic.Usage), price.Cost(&fromOpenAI)
	manual := 100*price.Input + 1000*price.CachedInput + 200*1.25*price.Input + 50*price.Output
	if math.Abs(a-o) > 1e-12 || math.Abs(a-manual) > 1e-12 {
		t.Errorf("anthropic convention $%.8f, openai convention $%.8f, by hand $%.8f", a, o, manual)
	}
}
