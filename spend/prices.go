package spend

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/detour-gateway/detour/chat"
)

// pricesJSON is the price table. Its format: a top-level "as_of" date
// (YYYY-MM-DD) and "unit" ("USD per token"), then per provider a "source"
// note and "models", each keyed by the model name as LiteLLM writes it
// after the provider prefix, with LiteLLM's field names:
// input_cost_per_token, output_cost_per_token, cache_read_input_token_cost
// (optional), max_input_tokens and max_output_tokens (optional), and an
// optional long_context block. A model whose price could not be confirmed
// is left out: it has no entry, never a zero price.
//
//go:embed prices.json
var pricesJSON []byte

// Price is a model's list price. The zero Price is an unknown price, not a
// free one: Lookup reports whether it found one.
type Price struct {
	// Input, Output and CachedInput are in USD per token: Input for prompt
	// tokens, CachedInput for prompt tokens the provider read from its
	// prompt cache, Output for completion tokens (reasoning tokens are
	// completion tokens). CachedInput 0 means the same as Input: the
	// provider gives no cache discount, or none is known.
	Input, Output, CachedInput float64
	// CacheWrite is in USD per token, for prompt tokens written to the
	// provider's prompt cache; 0 means the same as Input. Anthropic's
	// models, whose 5-minute cache writes cost 1.25 × input, get that
	// unless the table says otherwise.
	CacheWrite float64
	// MaxInputTokens is the context window and MaxOutputTokens the largest
	// completion, in tokens; 0 means unknown.
	MaxInputTokens, MaxOutputTokens int
	// LongContext is the price of requests with long prompts, for models
	// that charge more for them. Its zero value means one price for every
	// prompt length.
	LongContext LongContextPrice
}

// LongContextPrice is a higher price that applies to every token of a
// request (prompt, cached and completion) whose prompt is longer than
// AbovePromptTokens. Prompt length counts cached tokens, as providers do.
type LongContextPrice struct {
	// AbovePromptTokens is the prompt length above which this price
	// applies; 0 means there is no long-context price.
	AbovePromptTokens int
	// Input, Output and CachedInput are in USD per token, as in Price.
	// CachedInput 0 means the same as this Input: when a provider states
	// no cached long-context price, cached tokens are overestimated rather
	// than guessed.
	Input, Output, CachedInput float64
}

// rates returns the prices per token that apply to a request with a
// prompt of promptTokens tokens: input, cached input and output.
func (p Price) rates(promptTokens int) (in, cached, out float64) {
	in, cached, out = p.Input, p.CachedInput, p.Output
	if lc := p.LongContext; lc.AbovePromptTokens > 0 && promptTokens > lc.AbovePromptTokens {
		in, cached, out = lc.Input, lc.CachedInput, lc.Output
	}
	if cached == 0 {
		cached = in
	}
	return in, cached, out
}

// Cost returns what a request with usage u cost, in USD: its prompt tokens
// less the cached ones at Input, the cached ones (Usage's
// prompt_tokens_details.cached_tokens, at most the prompt tokens) at
// CachedInput, and its completion tokens at Output — all at the
// long-context price when the prompt is longer than its threshold. A nil
// usage costs 0; so does any usage at the zero (unknown) Price, which is
// why callers record an unknown price as unknown (Record.Known false)
// rather than as this 0.
func (p Price) Cost(u *chat.Usage) float64 {
	t := TokensOf(u)
	in, cachedRate, out := p.rates(t.Prompt())
	write := p.CacheWrite
	if write == 0 {
		write = in
	}
	// Reasoning tokens are output tokens, priced as such.
	return float64(t.Uncached)*in + float64(t.CacheRead)*cachedRate + float64(t.CacheWrite)*write + float64(t.Output)*out
}

// Tokens are a request's tokens in the five classes spend counts. Either
// usage convention gives the same Tokens: OpenAI's prompt_tokens include
// cache reads and writes, Anthropic's input_tokens do not (its adapter
// adds them back before they get here).
type Tokens struct {
	// Uncached prompt tokens, read at the input price.
	Uncached int
	// CacheRead prompt tokens came from the provider's prompt cache.
	CacheRead int
	// CacheWrite prompt tokens were written to it.
	CacheWrite int
	// Output tokens, reasoning included.
	Output int
	// Reasoning tokens are the part of Output spent on hidden reasoning.
	Reasoning int
}

// Prompt is every prompt token: uncached, read and written.
func (t Tokens) Prompt() int { return t.Uncached + t.CacheRead + t.CacheWrite }

// TokensOf sorts u into the five classes; a nil usage is no tokens.
// Details larger than the count they break down are cut to it.
func TokensOf(u *chat.Usage) Tokens {
	if u == nil {
		return Tokens{}
	}
	prompt := max(u.PromptTokens, 0)
	var t Tokens
	if d := u.PromptTokensDetails; d != nil {
		t.CacheRead = min(max(d.CachedTokens, 0), prompt)
		t.CacheWrite = min(max(d.CacheWriteTokens, 0), prompt-t.CacheRead)
	}
	t.Uncached = prompt - t.CacheRead - t.CacheWrite
	t.Output = max(u.CompletionTokens, 0)
	if d := u.CompletionTokensDetails; d != nil {
		t.Reasoning = min(max(d.ReasoningTokens, 0), t.Output)
	}
	return t
}

// Lookup returns the list price of model at provider, and whether it is
// known. provider is the provider prefix of a LiteLLM model name
// ("openai", "anthropic", "gemini", "mistral", "deepseek", "groq", "xai")
// and model the rest ("gpt-4o", "claude-sonnet-4-5-20250929",
// "openai/gpt-oss-120b" at groq); a model that still carries its provider
// prefix ("openai/gpt-4o") is accepted too. Both are compared without
// regard to case.
//
// A model not in the table by its exact name takes the price of the
// longest table entry that it extends by a version suffix alone: "-latest",
// a date ("-2024-08-06", "-20250929") or a 3- or 4-digit snapshot number
// ("-001", "-0613", "-2411"). So "gpt-4o-2024-08-06" is priced as "gpt-4o"
// and "claude-haiku-4-5-20251001" as "claude-haiku-4-5", while
// "gpt-4o-mini" is never priced as "gpt-4o", nor "gpt-4o-audio-preview"
// at all. A snapshot priced unlike its base model is listed by its full
// name, and an exact entry always wins. Anything else is unknown: ok is
// false and the Price is zero.
func Lookup(provider, model string) (Price, bool) {
	t := prices()
	provider = strings.ToLower(strings.TrimSpace(provider))
	models, ok := t.providers[provider]
	if !ok {
		return Price{}, false
	}
	model = strings.ToLower(strings.TrimSpace(model))
	if rest, ok := strings.CutPrefix(model, provider); ok && strings.HasPrefix(rest, "/") {
		model = rest[1:]
	}
	if p, ok := models.byName[model]; ok {
		return p, true
	}
	for _, name := range models.longestFirst {
		if len(name) < len(model) && strings.HasPrefix(model, name) && isVersionSuffix(model[len(name):]) {
			return models.byName[name], true
		}
	}
	return Price{}, false
}

// isVersionSuffix reports whether s is "-" followed by "latest", 3, 4 or 8
// digits, or a YYYY-MM-DD date.
func isVersionSuffix(s string) bool {
	rest, ok := strings.CutPrefix(s, "-")
	if !ok {
		return false
	}
	if rest == "latest" {
		return true
	}
	digits := func(s string) bool {
		for _, c := range []byte(s) {
			if c < '0' || c > '9' {
				return false
			}
		}
		return s != ""
	}
	switch len(rest) {
	case 3, 4, 8:
		return digits(rest)
	case 10:
		return rest[4] == '-' && rest[7] == '-' && digits(rest[:4]) && digits(rest[5:7]) && digits(rest[8:])
	}
	return false
}

// AsOf returns the date (YYYY-MM-DD) on which the price table was last
// checked against its sources.
func AsOf() string { return prices().asOf }

// Source returns the price table's note on where the prices of provider
// come from, and "" for a provider it has no prices for.
func Source(provider string) string {
	return prices().providers[strings.ToLower(strings.TrimSpace(provider))].source
}

// priceTable is prices.json, parsed.
type priceTable struct {
	asOf      string
	providers map[string]providerPrices
}

type providerPrices struct {
	source       string
	byName       map[string]Price
	longestFirst []string // names in byName, longest first
}

// prices returns the embedded table, parsed on first use. The table is
// checked by the tests, so a broken one never ships; should one be built
// anyway, the first lookup panics with the reason.
var prices = sync.OnceValue(func() *priceTable {
	t, err := parsePrices(pricesJSON)
	if err != nil {
		panic("spend: embedded prices.json: " + err.Error())
	}
	return t
})

// The shape of prices.json.
type (
	priceFile struct {
		AsOf      string                  `json:"as_of"`
		Unit      string                  `json:"unit"`
		Note      string                  `json:"note"`
		Providers map[string]providerFile `json:"providers"`
	}
	providerFile struct {
		Source string               `json:"source"`
		Models map[string]modelFile `json:"models"`
	}
	modelFile struct {
		Input           *float64         `json:"input_cost_per_token"`
		Output          *float64         `json:"output_cost_per_token"`
		CachedInput     *float64         `json:"cache_read_input_token_cost"`
		CacheWrite      *float64         `json:"cache_creation_input_token_cost"`
		MaxInputTokens  int              `json:"max_input_tokens"`
		MaxOutputTokens int              `json:"max_output_tokens"`
		LongContext     *longContextFile `json:"long_context"`
	}
	longContextFile struct {
		AbovePromptTokens int      `json:"above_prompt_tokens"`
		Input             *float64 `json:"input_cost_per_token"`
		Output            *float64 `json:"output_cost_per_token"`
		CachedInput       *float64 `json:"cache_read_input_token_cost"`
	}
)

// parsePrices parses and checks a price table. Every listed model must
// have a positive, finite input and output price: an unknown price is an
// absent entry, never a zero.
func parsePrices(data []byte) (*priceTable, error) {
	var f priceFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, err
	}
	if _, err := time.Parse(time.DateOnly, f.AsOf); err != nil {
		return nil, fmt.Errorf("as_of %q is not a YYYY-MM-DD date", f.AsOf)
	}
	if f.Unit != "USD per token" {
		return nil, fmt.Errorf("unit %q, want \"USD per token\"", f.Unit)
	}
	if len(f.Providers) == 0 {
		return nil, errors.New("no providers")
	}
	t := &priceTable{asOf: f.AsOf, providers: map[string]providerPrices{}}
	for prov, pf := range f.Providers {
		if prov != strings.ToLower(prov) || strings.TrimSpace(pf.Source) == "" || len(pf.Models) == 0 {
			return nil, fmt.Errorf("provider %q: want a lower-case name, a source and models", prov)
		}
		pp := providerPrices{source: pf.Source, byName: map[string]Price{}}
		for name, m := range pf.Models {
			p, err := m.price()
			if err != nil {
				return nil, fmt.Errorf("%s/%s: %w", prov, name, err)
			}
			if prov == "anthropic" && p.CacheWrite == 0 {
				p.CacheWrite = 1.25 * p.Input // Anthropic's 5-minute cache write
			}
			if name == "" || name != strings.ToLower(strings.TrimSpace(name)) || strings.HasPrefix(name, prov+"/") {
				return nil, fmt.Errorf("%s/%s: model names are lower case, trimmed, without the provider prefix", prov, name)
			}
			pp.byName[name] = p
			pp.longestFirst = append(pp.longestFirst, name)
		}
		slices.SortFunc(pp.longestFirst, func(a, b string) int {
			if len(a) != len(b) {
				return len(b) - len(a)
			}
			return strings.Compare(a, b)
		})
		t.providers[prov] = pp
	}
	return t, nil
}

func (m modelFile) price() (Price, error) {
	in, out, cached, err := rateTriple(m.Input, m.Output, m.CachedInput)
	if err != nil {
		return Price{}, err
	}
	if m.MaxInputTokens < 0 || m.MaxOutputTokens < 0 {
		return Price{}, errors.New("negative token limit")
	}
	p := Price{Input: in, Output: out, CachedInput: cached, MaxInputTokens: m.MaxInputTokens, MaxOutputTokens: m.MaxOutputTokens}
	if w := m.CacheWrite; w != nil {
		if *w <= 0 || math.IsInf(*w, 0) {
			return Price{}, errors.New("cache_creation_input_token_cost must be positive")
		}
		p.CacheWrite = *w
	}
	if lc := m.LongContext; lc != nil {
		lin, lout, lcached, err := rateTriple(lc.Input, lc.Output, lc.CachedInput)
		if err != nil {
			return Price{}, fmt.Errorf("long_context: %w", err)
		}
		if lc.AbovePromptTokens <= 0 || lin < in || lout < out {
			return Price{}, errors.New("long_context: want above_prompt_tokens > 0 and prices at least the base ones")
		}
		p.LongContext = LongContextPrice{AbovePromptTokens: lc.AbovePromptTokens, Input: lin, Output: lout, CachedInput: lcached}
	}
	return p, nil
}

// rateTriple checks a set of per-token prices: input and output present,
// positive and finite; cached input, if present, positive and at most the
// input price.
func rateTriple(in, out, cached *float64) (float64, float64, float64, error) {
	ok := func(p *float64) bool { return p != nil && *p > 0 && !math.IsInf(*p, 0) }
	if !ok(in) || !ok(out) {
		return 0, 0, 0, errors.New("want positive input_cost_per_token and output_cost_per_token (leave an unknown price out)")
	}
	var c float64
	if cached != nil {
		if !ok(cached) || *cached > *in {
			return 0, 0, 0, errors.New("cache_read_input_token_cost must be positive and at most input_cost_per_token")
		}
		c = *cached
	}
	return *in, *out, c, nil
}
