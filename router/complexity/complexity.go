// Package complexity routes a chat request to a model group by how hard the
// request looks: the complexity router behind a deployment whose model is
// auto_router/complexity_router.
//
// A rule-based score over the request picks one of four tiers, SIMPLE,
// MEDIUM, COMPLEX or REASONING, and the config maps each tier to a model
// group. Scoring is deterministic, makes no network calls, compiles nothing
// per request and costs tens of microseconds on a 2 KB prompt (see
// BenchmarkClassify). Only decoding the messages' JSON text
// (chat.Message.Text) grows with the whole message, to about 0.7 ms for a
// 100 KB ask (BenchmarkClassifyLarge); the scan itself stops at 10 KB.
//
// # Following LiteLLM
//
// The config names and the tier semantics follow LiteLLM's complexity router,
// so an existing LiteLLM config keeps its meaning:
//
//   - docs.litellm.ai/docs/autorouter_sdk ("Autorouter SDK"): the deployment
//     shape, litellm_params.model: auto_router/complexity_router with
//     complexity_router_config.tiers {SIMPLE, MEDIUM, COMPLEX, REASONING} →
//     model group, and complexity_router_default_model.
//   - litellm/router_strategy/complexity_router/README.md in BerriAI/litellm
//     ("Complexity Router"): tier_boundaries simple_medium 0.15,
//     medium_complex 0.35, complex_reasoning 0.60 as the defaults of
//     [Thresholds]; token_thresholds simple 15 and complex 400 as the
//     defaults of [TokenThresholds]; the "reasoning override" (two or more
//     reasoning markers in the user's message promote to REASONING once the
//     score reaches simple_medium); and reasoning markers in the system
//     prompt never triggering that override.
//
// The dimensions and their weights are Detour's own (LiteLLM's weights are
// tuned for signals in [-1, 1]; here each dimension's contribution is in
// score units directly, so the decision trace reads as a plain sum).
//
// # What is read
//
// The current ask is the last "user" message whose text is not blank; every
// dimension except system and conversation reads only it. The "system" and
// "developer" messages feed the system dimension, at a quarter weight. Every
// other message (earlier turns, assistant and tool messages) only counts
// towards the conversation dimension. Text longer than 10 KB is scanned in
// its first 8 KB and its last 2 KB for keywords and patterns; its length is
// still measured in full.
//
// # Scoring
//
// Total is the sum of eight contributions, each named in Score.Dimensions.
// Keywords are matched case-insensitively on whole words, or whole phrases of
// up to three words separated by white space or hyphens ("step-by-step" is
// "step by step"; no phrase runs across other punctuation); each concept (a
// word and its variants, such as "prove"/"proof") counts once however often
// it appears. The word lists are in lexicon.go.
//
//	dimension     range          rule (examples)
//	length        -0.05 … 0.15   tokens ≈ characters/4 of the ask: below
//	                             TokenThresholds.Short (15) -0.05; from Short
//	                             to Long (400) rising linearly 0 → 0.10; above
//	                             Long rising on to 0.15 at 4×Long.
//	code          0 … 0.35       a ``` or ~~~ fence 0.12; a stack trace or
//	                             compiler output ("Traceback (most recent call
//	                             last)", "panic: ", "goroutine N [running]",
//	                             "\n\tat ", "Exception in thread", "error[E")
//	                             0.20; code words ("function", "def",
//	                             "return", "async", "null", "python", "bug",
//	                             "refactor", "api") 0.05 per concept, at most
//	                             0.15; code-like lines (ending in ; { or }, or
//	                             holding := == != && || => ::) 0.02 each, at
//	                             most 0.08.
//	reasoning     0 … 0.35       strong markers ("prove", "step by step",
//	                             "why", "derive", "analyze", "trade-offs",
//	                             "compare", "evaluate", "justify", "root
//	                             cause", "think through", "rigorous"): one
//	                             0.15, two 0.25, three or more 0.35; weak
//	                             markers ("explain", "describe", "how does",
//	                             "difference", "summarize", "walk me
//	                             through") 0.05 each, at most 0.10.
//	technical     0 … 0.20       0.05 per technical concept: algorithms
//	                             ("dynamic programming", "big-o"), math
//	                             ("theorem", "eigenvalue", "irrational"),
//	                             distributed systems ("consensus", "raft",
//	                             "sharding"), concurrency ("race condition",
//	                             "mutex"), security ("tls", "jwt", "sql
//	                             injection"), networking ("tcp", "quic"),
//	                             data and ML ("transformer", "postgres").
//	multi_step    0 … 0.15       two or more numbered or bulleted lines 0.04,
//	                             +0.02 per further line, at most 0.10; "first"
//	                             together with "then", "next", "finally" or
//	                             "after that" 0.05; several questions 0.03 per
//	                             "?" beyond the first, at most 0.06.
//	question      -0.10 or 0     -0.10 for a short single question (one "?",
//	                             at most 20 tokens, no fence or stack trace:
//	                             "what's the capital of France?") or a bare
//	                             greeting or acknowledgement (at most 5 words,
//	                             no "?": "hi", "thanks!", "ok, great").
//	system        0 … 0.10       a quarter of what code, reasoning and
//	                             technical would give the system and developer
//	                             messages together.
//	conversation  0 … 0.10       0.01 per message that is neither the ask nor
//	                             a system or developer message.
//
// The tier is SIMPLE below Thresholds.SimpleMedium, MEDIUM below
// MediumComplex, COMPLEX below ComplexReasoning and REASONING from there on,
// except that two or more distinct strong reasoning markers in the ask
// promote to REASONING once Total reaches SimpleMedium (the reasoning
// override; Score.ReasoningOverride says it happened).
package complexity

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/detour-gateway/detour/chat"
)

// Tier is a complexity tier. The four tiers are ordered SIMPLE < MEDIUM <
// COMPLEX < REASONING, and their names are LiteLLM's, which are also the
// keys of complexity_router_config.tiers and the values of the x-detour-tier
// header.
type Tier string

// The tiers, cheapest first.
const (
	// Simple is for greetings, acknowledgements and short factual
	// questions.
	Simple Tier = "SIMPLE"
	// Medium is for ordinary requests: explanations, summaries, small
	// pieces of code.
	Medium Tier = "MEDIUM"
	// Complex is for technical, multi-part requests: debugging with a stack
	// trace, design questions.
	Complex Tier = "COMPLEX"
	// Reasoning is for proofs, derivations and careful step-by-step
	// analysis.
	Reasoning Tier = "REASONING"
)

// tiers lists the tiers in order; a tier's index is its rank.
var tiers = [...]Tier{Simple, Medium, Complex, Reasoning}

// rank returns the tier's position in tiers, or -1 for an unknown tier.
func (t Tier) rank() int {
	for i, u := range tiers {
		if t == u {
			return i
		}
	}
	return -1
}

// Errors New and ParseTier return, wrapped with what they were checking.
// Branch on them with errors.Is.
var (
	// ErrUnknownTier is a tier name other than SIMPLE, MEDIUM, COMPLEX and
	// REASONING.
	ErrUnknownTier = errors.New("unknown complexity tier (want SIMPLE, MEDIUM, COMPLEX or REASONING)")
	// ErrNoGroup is a config that maps no tier to a model group and has no
	// default, or that maps a tier to an empty group name.
	ErrNoGroup = errors.New("no model group")
	// ErrThresholds is a set of tier boundaries or token thresholds that is
	// not strictly increasing, or not finite.
	ErrThresholds = errors.New("thresholds must be finite and strictly increasing")
)

// ParseTier returns the tier named s. Case and surrounding white space are
// ignored, so "simple" is SIMPLE; any other name is ErrUnknownTier.
func ParseTier(s string) (Tier, error) {
	t := strings.TrimSpace(s)
	for _, u := range tiers {
		if strings.EqualFold(t, string(u)) {
			return u, nil
		}
	}
	return "", fmt.Errorf("tier %q: %w", s, ErrUnknownTier)
}

// Default tier boundaries and token thresholds: LiteLLM's defaults for
// tier_boundaries and token_thresholds.
const (
	// DefaultSimpleMedium is Thresholds.SimpleMedium when zero.
	DefaultSimpleMedium = 0.15
	// DefaultMediumComplex is Thresholds.MediumComplex when zero.
	DefaultMediumComplex = 0.35
	// DefaultComplexReasoning is Thresholds.ComplexReasoning when zero.
	DefaultComplexReasoning = 0.60
	// DefaultShortTokens is TokenThresholds.Short when zero.
	DefaultShortTokens = 15
	// DefaultLongTokens is TokenThresholds.Long when zero.
	DefaultLongTokens = 400
)

// Config configures a Router. It is complexity_router_config plus
// complexity_router_default_model of a LiteLLM deployment.
type Config struct {
	// Tiers maps a tier to the model group that serves it
	// (complexity_router_config.tiers). A tier left out borrows the group
	// of the nearest configured tier, see Router.Group. Keys are parsed
	// with ParseTier, so "simple" is accepted; a key that is no tier, or a
	// group that is "", is an error. Nil or empty is allowed when Default
	// is set.
	Tiers map[Tier]string
	// Default is the model group used when no tier has a group
	// (complexity_router_default_model, or
	// complexity_router_config.default_model). "" means none; then Tiers
	// must name at least one group.
	Default string
	// Thresholds are the score cut-offs between tiers
	// (complexity_router_config.tier_boundaries). A zero field takes its
	// default.
	Thresholds Thresholds
	// Tokens are the prompt lengths, in estimated tokens, the length
	// dimension bends at (complexity_router_config.token_thresholds). A
	// zero field takes its default.
	Tokens TokenThresholds
}

// Thresholds are the Total scores at which one tier gives way to the next.
// A score equal to a boundary takes the higher tier. After defaults they
// must be strictly increasing.
type Thresholds struct {
	// SimpleMedium is the lowest MEDIUM score (tier_boundaries.simple_medium);
	// zero means DefaultSimpleMedium, 0.15. It is also the least score the
	// reasoning override needs.
	SimpleMedium float64
	// MediumComplex is the lowest COMPLEX score
	// (tier_boundaries.medium_complex); zero means DefaultMediumComplex,
	// 0.35.
	MediumComplex float64
	// ComplexReasoning is the lowest REASONING score
	// (tier_boundaries.complex_reasoning); zero means
	// DefaultComplexReasoning, 0.60.
	ComplexReasoning float64
}

// TokenThresholds shape the length dimension. Lengths are estimated tokens,
// characters/4. After defaults, 0 < Short < Long.
type TokenThresholds struct {
	// Short is the length below which an ask counts as short and scores
	// -0.05 (token_thresholds.simple); zero means DefaultShortTokens, 15.
	Short int
	// Long is the length at which an ask counts as long and scores 0.10,
	// rising to 0.15 at 4×Long (token_thresholds.complex); zero means
	// DefaultLongTokens, 400.
	Long int
}

// Router classifies requests and picks their model group. It is immutable
// and safe for concurrent use.
type Router struct {
	// groups holds each tier's own group, by rank; "" = none.
	groups     [len(tiers)]string
	fallback   string
	boundaries [len(tiers) - 1]float64
	short      int
	long       int
}

// New validates c, applies its defaults and returns its Router. Every
// problem found is reported, joined: a key of Tiers that is no tier, an
// empty group, no group at all (ErrNoGroup), and thresholds that are not
// strictly increasing (ErrThresholds).
func New(c Config) (*Router, error) {
	r := &Router{fallback: c.Default}
	var errs []error
	for name, group := range c.Tiers {
		t, err := ParseTier(string(name))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if group == "" {
			errs = append(errs, fmt.Errorf("tier %s: %w", t, ErrNoGroup))
			continue
		}
		if prev := r.groups[t.rank()]; prev != "" && prev != group {
			errs = append(errs, fmt.Errorf("tier %s is given twice, as %q and %q", t, prev, group))
			continue
		}
		r.groups[t.rank()] = group
	}
	if c.Default == "" && len(c.Tiers) == 0 {
		errs = append(errs, fmt.Errorf("complexity router needs a tier or a default model group: %w", ErrNoGroup))
	}

	th := c.Thresholds
	r.boundaries = [...]float64{
		orDefault(th.SimpleMedium, DefaultSimpleMedium),
		orDefault(th.MediumComplex, DefaultMediumComplex),
		orDefault(th.ComplexReasoning, DefaultComplexReasoning),
	}
	for i, b := range r.boundaries {
		if math.IsNaN(b) || math.IsInf(b, 0) || i > 0 && b <= r.boundaries[i-1] {
			errs = append(errs, fmt.Errorf("tier boundaries %v: %w", r.boundaries, ErrThresholds))
			break
		}
	}

	r.short = c.Tokens.Short
	if r.short == 0 {
		r.short = DefaultShortTokens
	}
	r.long = c.Tokens.Long
	if r.long == 0 {
		r.long = DefaultLongTokens
	}
	if r.short < 0 || r.long <= r.short {
		errs = append(errs, fmt.Errorf("token thresholds short %d, long %d: %w", r.short, r.long, ErrThresholds))
	}

	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return r, nil
}

func orDefault(v, def float64) float64 {
	if v == 0 {
		return def
	}
	return v
}

// Route classifies req and returns the model group for its tier, with the
// score behind the choice.
func (r *Router) Route(req *chat.Request) (group string, s Score) {
	s = r.Classify(req)
	return r.Group(s.Tier), s
}

// Group returns the model group serving tier t: the tier's own group; else
// the nearest tier above it that has one (a harder request is better served
// by a stronger model than a weaker one); else the nearest tier below it;
// else Config.Default. An unknown tier gets Config.Default. The result is
// never "" for a known tier, since New refuses a config without any group.
func (r *Router) Group(t Tier) string {
	k := t.rank()
	if k < 0 {
		return r.fallback
	}
	for i := k; i < len(r.groups); i++ {
		if r.groups[i] != "" {
			return r.groups[i]
		}
	}
	for i := k - 1; i >= 0; i-- {
		if r.groups[i] != "" {
			return r.groups[i]
		}
	}
	return r.fallback
}

// tier maps a total score to its tier by the boundaries alone.
func (r *Router) tier(total float64) Tier {
	for i, b := range r.boundaries {
		if total < b {
			return tiers[i]
		}
	}
	return Reasoning
}
