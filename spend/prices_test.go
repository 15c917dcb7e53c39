package spend

import (
	"strings"
	"testing"
	"time"

	"github.com/detour-gateway/detour/chat"
)

// perM converts USD per million tokens to USD per token.
func perM(x float64) float64 { return x / 1e6 }

// TestPricesFile checks the embedded table: it parses, it is dated, every
// provider the gateway prices has a source and models, and no price is 0.
func TestPricesFile(t *testing.T) {
	tab, err := parsePrices(pricesJSON)
	if err != nil {
		t.Fatalf("prices.json: %v", err)
	}
	if _, err := time.Parse(time.DateOnly, AsOf()); err != nil || AsOf() != tab.asOf {
		t.Errorf("AsOf() = %q", AsOf())
	}
	for _, prov := range []string{"openai", "anthropic", "gemini", "mistral", "deepseek", "groq", "xai"} {
		pp, ok := tab.providers[prov]
		if !ok || len(pp.byName) == 0 {
			t.Errorf("no prices for %s", prov)
			continue
		}
		if Source(prov) == "" || Source(strings.ToUpper(prov)) != Source(prov) {
			t.Errorf("Source(%q) = %q", prov, Source(prov))
		}
		for name, p := range pp.byName {
			if p.Input <= 0 || p.Output <= 0 || p.CachedInput < 0 || p.CachedInput > p.Input {
				t.Errorf("%s/%s: %+v", prov, name, p)
			}
			// Every entry must be found under its own name.
			if got, ok := Lookup(prov, name); !ok || got != p {
				t.Errorf("Lookup(%s, %s) = %+v, %v", prov, name, got, ok)
			}
		}
	}
	if Source("nope") != "" {
		t.Errorf("Source of an unknown provider = %q", Source("nope"))
	}
}

func TestLookup(t *testing.T) {
	tests := []struct {
		name            string
		provider, model string
		want            string // the table entry it should be priced as; "" = unknown
	}{
		{"exact", "openai", "gpt-4o", "gpt-4o"},
		{"dated snapshot", "openai", "gpt-4o-2024-08-06", "gpt-4o"},
		{"snapshot priced on its own wins", "openai", "gpt-4o-2024-05-13", "gpt-4o-2024-05-13"},
		{"longest prefix: mini is not 4o", "openai", "gpt-4o-mini-2024-07-18", "gpt-4o-mini"},
		{"4-digit snapshot", "openai", "gpt-4-0613", "gpt-4"},
		{"dotted version", "openai", "gpt-5.4-2026-03-05", "gpt-5.4"},
		{"anthropic 8-digit date", "anthropic", "claude-sonnet-4-5-20250929", "claude-sonnet-4-5"},
		{"anthropic family by date", "anthropic", "claude-opus-4-20250514", "claude-opus-4"},
		{"anthropic minor version is its own model", "anthropic", "claude-opus-4-1", "claude-opus-4-1"},
		{"-latest alias", "xai", "grok-4.3-latest", "grok-4.3"},
		{"provider prefix in the model", "openai", "openai/gpt-4o", "gpt-4o"},
		{"case and spaces", " OpenAI ", "GPT-4o-2024-11-20", "gpt-4o"},
		{"groq model with a slash", "groq", "openai/gpt-oss-120b", "openai/gpt-oss-120b"},
		{"groq with its prefix", "groq", "groq/llama-3.1-8b-instant", "llama-3.1-8b-instant"},
		{"gemini", "gemini", "gemini-2.5-flash", "gemini-2.5-flash"},
		{"flash-lite is not flash", "gemini", "gemini-2.5-flash-lite", "gemini-2.5-flash-lite"},
		{"unknown variant", "openai", "gpt-4o-audio-preview", ""},
		{"unknown suffix", "openai", "gpt-4-0125-preview", ""},
		{"unconfirmed model left out", "openai", "gpt-5.6-luna", ""},
		{"unknown model", "openai", "gpt-9", ""},
		{"not a prefix on a word boundary", "openai", "gpt-4oo", ""},
		{"5-digit suffix is no version", "openai", "gpt-4o-12345", ""},
		{"known model, wrong provider", "anthropic", "gpt-4o", ""},
		{"unknown provider", "openrouter", "gpt-4o", ""},
		{"empty", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Lookup(tt.provider, tt.model)
			if tt.want == "" {
				if ok || got != (Price{}) {
					t.Fatalf("Lookup(%q, %q) = %+v, %v; want unknown", tt.provider, tt.model, got, ok)
				}
				return
			}
			want := prices().providers[strings.ToLower(strings.TrimSpace(tt.provider))].byName[tt.want]
			if !ok || got != want {
				t.Fatalf("Lookup(%q, %q) = %+v, %v; want %s's %+v", tt.provider, tt.model, got, ok, tt.want, want)
			}
		})
	}
}

// TestLookupPrices pins a few prices, so that an edit of prices.json that
// changes them is deliberate.
func TestLookupPrices(t *testing.T) {
	tests := []struct {
		provider, model string
		in, cached, out float64 // USD per million tokens
		maxIn, maxOut   int
		longAbove       int
	}{
		{"openai", "gpt-4o", 2.5, 1.25, 10, 128000, 16384, 0},
		{"openai", "gpt-5.4", 2.5, 0.25, 15, 1050000, 128000, 272000},
		{"anthropic", "claude-sonnet-4-5", 3, 0.3, 15, 200000, 64000, 200000},
		{"anthropic", "claude-haiku-4-5", 1, 0.1, 5, 200000, 64000, 0},
		{"gemini", "gemini-2.5-pro", 1.25, 0.125, 10, 1048576, 65535, 200000},
		{"mistral", "mistral-large-latest", 0.5, 0, 1.5, 262144, 262144, 0},
		{"deepseek", "deepseek-v4-flash", 0.14, 0.0028, 0.28, 1000000, 0, 0},
		{"groq", "llama-3.3-70b-versatile", 0.59, 0, 0.79, 128000, 32768, 0},
		{"xai", "grok-4.5", 2, 0.5, 6, 500000, 500000, 200000},
	}
	for _, tt := range tests {
		p, ok := Lookup(tt.provider, tt.model)
		if !ok || !near(p.Input, perM(tt.in)) || !near(p.CachedInput, perM(tt.cached)) || !near(p.Output, perM(tt.out)) ||
			p.MaxInputTokens != tt.maxIn || p.MaxOutputTokens != tt.maxOut || p.LongContext.AbovePromptTokens != tt.longAbove {
			t.Errorf("Lookup(%s, %s) = %+v, %v", tt.provider, tt.model, p, ok)
		}
	}
}

func TestCost(t *testing.T) {
	flat := Price{Input: perM(2), CachedInput: perM(0.5), Output: perM(8)}
	noCache := Price{Input: perM(2), Output: perM(8)}
	long := Price{Input: perM(1), CachedInput: perM(0.1), Output: perM(10),
		LongContext: LongContextPrice{AbovePromptTokens: 1000, Input: perM(2), CachedInput: perM(0.2), Output: perM(15)}}
	longNoCached := long
	longNoCached.LongContext.CachedInput = 0
	usage := func(prompt, cached, completion int) *chat.Usage {
		u := &chat.Usage{PromptTokens: prompt, CompletionTokens: completion}
		if cached >= 0 {
			u.PromptTokensDetails = &chat.PromptTokensDetails{CachedTokens: cached}
		}
		return u
	}
	tests := []struct {
		name  string
		price Price
		usage *chat.Usage
		want  float64
	}{
		{"no cached tokens", flat, usage(1_000_000, -1, 1_000_000), 2 + 8},
		{"cached at the cached price", flat, usage(1_000_000, 400_000, 0), 0.6*2 + 0.4*0.5},
		{"cached without a discount", noCache, usage(1_000_000, 400_000, 0), 2},
		{"cached above prompt is clamped", flat, usage(100, 500, 0), 100 * perM(0.5)},
		{"negative counts are 0", flat, usage(-5, -5, -5), 0},
		{"nil usage", flat, nil, 0},
		{"unknown price", Price{}, usage(1000, 0, 1000), 0},
		{"at the threshold: base price", long, usage(1000, 100, 10), 900*perM(1) + 100*perM(0.1) + 10*perM(10)},
		{"above the threshold: every token at long", long, usage(1001, 101, 10), 900*perM(2) + 101*perM(0.2) + 10*perM(15)},
		{"long with no cached price: long input", longNoCached, usage(2000, 1000, 0), 2000 * perM(2)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.price.Cost(tt.usage); !near(got, tt.want) {
				t.Errorf("Cost = %.12f, want %.12f", got, tt.want)
			}
		})
	}
}

func TestParsePricesRejects(t *testing.T) {
	base := `{"as_of": "2026-01-02", "unit": "USD per token", "note": "", "providers": {"p": {"source": "s", "models": {%s}}}}`
	tests := []struct {
		name, models string
	}{
		{"zero price", `"m": {"input_cost_per_token": 0, "output_cost_per_token": 0.000001}`},
		{"missing output", `"m": {"input_cost_per_token": 0.000001}`},
		{"cached above input", `"m": {"input_cost_per_token": 0.000001, "output_cost_per_token": 0.000001, "cache_read_input_token_cost": 0.000002}`},
		{"negative limit", `"m": {"input_cost_per_token": 0.000001, "output_cost_per_token": 0.000001, "max_input_tokens": -1}`},
		{"unknown field", `"m": {"input_cost_per_token": 0.000001, "output_cost_per_token": 0.000001, "max_tokens": 5}`},
		{"upper-case name", `"M": {"input_cost_per_token": 0.000001, "output_cost_per_token": 0.000001}`},
		{"long context cheaper", `"m": {"input_cost_per_token": 0.000002, "output_cost_per_token": 0.000002, "long_context": {"above_prompt_tokens": 10, "input_cost_per_token": 0.000001, "output_cost_per_token": 0.000002}}`},
		{"no models", ``},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := parsePrices([]byte(strings.Replace(base, "%s", tt.models, 1))); err == nil {
				t.Errorf("parsePrices accepted %s", tt.models)
			}
		})
	}
	ok := strings.Replace(base, "%s", `"m": {"input_cost_per_token": 0.000001, "output_cost_per_token": 0.000002}`, 1)
	if _, err := parsePrices([]byte(ok)); err != nil {
		t.Errorf("parsePrices rejected a good table: %v", err)
	}
	for _, bad := range []string{
		strings.Replace(ok, "2026-01-02", "Jan 2", 1),
		strings.Replace(ok, "USD per token", "USD per 1M tokens", 1),
	} {
		if _, err := parsePrices([]byte(bad)); err == nil {
			t.Errorf("parsePrices accepted %s", bad)
		}
	}
}
