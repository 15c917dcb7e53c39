package complexity

import (
	"strings"
	"unicode/utf8"

	"github.com/detour-gateway/detour/chat"
)

// The names of the dimensions, the keys of Score.Dimensions. The package
// documentation gives each one's rule and range.
const (
	DimLength       = "length"
	DimCode         = "code"
	DimReasoning    = "reasoning"
	DimTechnical    = "technical"
	DimMultiStep    = "multi_step"
	DimQuestion     = "question"
	DimSystem       = "system"
	DimConversation = "conversation"
)

// Score is the outcome of classifying a request: the decision trace.
type Score struct {
	// Total is the complexity score, the sum of Dimensions. It runs from
	// -0.15 to 1.40.
	Total float64
	// Dimensions maps each dimension name (the Dim constants) to its
	// contribution to Total, in score units. Every dimension is present,
	// zero when it found nothing.
	Dimensions map[string]float64
	// Tier is the tier Total falls in, or REASONING when ReasoningOverride
	// is set.
	Tier Tier
	// ReasoningOverride says two or more strong reasoning markers in the
	// ask promoted the request to REASONING although Total alone would
	// have given a lower tier.
	ReasoningOverride bool
}

// Weights of the dimensions, in score units. The package documentation
// gives the same table with examples.
const (
	lengthShort     = -0.05 // an ask below TokenThresholds.Short
	lengthLong      = 0.10  // an ask at TokenThresholds.Long
	lengthMax       = 0.15  // an ask at 4×TokenThresholds.Long or more
	lengthSaturates = 4     // × TokenThresholds.Long

	codeFence       = 0.12
	codeTrace       = 0.20
	codeWord        = 0.05
	codeWordsMax    = 0.15
	codeLine        = 0.02
	codeLinesMax    = 0.08
	codeMax         = 0.35
	reasoningOne    = 0.15
	reasoningTwo    = 0.25
	reasoningThree  = 0.35
	explainWord     = 0.05
	explainMax      = 0.10
	reasoningMax    = 0.35
	technicalTerm   = 0.05
	technicalMax    = 0.20
	listFirstTwo    = 0.04
	listItem        = 0.02
	listMax         = 0.10
	sequence        = 0.05
	extraQuestion   = 0.03
	questionsMax    = 0.06
	multiStepMax    = 0.15
	simpleQuestion  = -0.10
	shortQuestion   = 20 // tokens, at most, of a short single question
	greetingWordMax = 5  // words, at most, of a bare greeting
	systemShare     = 0.25
	systemMax       = 0.10
	perMessage      = 0.01
	conversationMax = 0.10

	// reasoningOverrideMarkers distinct strong markers in the ask promote
	// it to REASONING.
	reasoningOverrideMarkers = 2
)

// Classify scores req; see the package documentation for what it reads
// and how each dimension scores. A nil request, or one without a user
// message, scores as an empty ask.
func (r *Router) Classify(req *chat.Request) Score {
	var ask, system signals
	askText, others := "", 0
	if req != nil {
		askAt := -1
		for i := len(req.Messages) - 1; i >= 0; i-- {
			if req.Messages[i].Role != "user" {
				continue
			}
			if t := req.Messages[i].Text(); strings.TrimSpace(t) != "" {
				askText, askAt = t, i
				break
			}
		}
		for i, m := range req.Messages {
			switch {
			case i == askAt:
			case m.Role == "system" || m.Role == "developer":
				system.scan(m.Text())
			default:
				others++
			}
		}
	}
	ask.scan(askText)
	tokens := estimateTokens(askText)

	d := [...]float64{
		r.lengthScore(tokens),
		codeScore(&ask),
		reasoningScore(&ask),
		technicalScore(&ask),
		multiStepScore(&ask),
		questionScore(&ask, tokens),
		min((codeScore(&system)+reasoningScore(&system)+technicalScore(&system))*systemShare, systemMax),
		min(float64(others)*perMessage, conversationMax),
	}
	s := Score{Dimensions: map[string]float64{
		DimLength:       d[0],
		DimCode:         d[1],
		DimReasoning:    d[2],
		DimTechnical:    d[3],
		DimMultiStep:    d[4],
		DimQuestion:     d[5],
		DimSystem:       d[6],
		DimConversation: d[7],
	}}
	for _, v := range d {
		s.Total += v
	}
	s.Tier = r.tier(s.Total)
	if s.Tier != Reasoning && ask.count(catReasoning) >= reasoningOverrideMarkers && s.Total >= r.boundaries[0] {
		s.Tier, s.ReasoningOverride = Reasoning, true
	}
	return s
}

// estimateTokens estimates the tokens of text as its characters / 4,
// rounded up. Past 64 KB it counts bytes instead of characters, which
// only matters for a TokenThresholds.Long above 4,000.
func estimateTokens(text string) int {
	n := len(text)
	if n <= 64<<10 {
		n = utf8.RuneCountInString(text)
	}
	return (n + 3) / 4
}

func (r *Router) lengthScore(tokens int) float64 {
	switch {
	case tokens < r.short:
		return lengthShort
	case tokens < r.long:
		return lengthLong * float64(tokens-r.short) / float64(r.long-r.short)
	default:
		over := float64(tokens-r.long) / float64((lengthSaturates-1)*r.long)
		if over >= 1 {
			return lengthMax
		}
		return lengthLong + (lengthMax-lengthLong)*over
	}
}

func codeScore(s *signals) float64 {
	v := 0.0
	if s.fence {
		v += codeFence
	}
	if s.trace {
		v += codeTrace
	}
	v += min(float64(s.count(catCode))*codeWord, codeWordsMax)
	v += min(float64(s.codeLines)*codeLine, codeLinesMax)
	return min(v, codeMax)
}

func reasoningScore(s *signals) float64 {
	v := 0.0
	switch n := s.count(catReasoning); {
	case n >= 3:
		v = reasoningThree
	case n == 2:
		v = reasoningTwo
	case n == 1:
		v = reasoningOne
	}
	v += min(float64(s.count(catExplain))*explainWord, explainMax)
	return min(v, reasoningMax)
}

func technicalScore(s *signals) float64 {
	return min(float64(s.count(catTechnical))*technicalTerm, technicalMax)
}

func multiStepScore(s *signals) float64 {
	v := 0.0
	if s.listItems >= 2 {
		v += min(listFirstTwo+float64(s.listItems-2)*listItem, listMax)
	}
	if s.count(catFirst) > 0 && s.count(catThen) > 0 {
		v += sequence
	}
	if s.questions > 1 {
		v += min(float64(s.questions-1)*extraQuestion, questionsMax)
	}
	return min(v, multiStepMax)
}

func questionScore(s *signals, tokens int) float64 {
	shortQ := s.questions == 1 && tokens <= shortQuestion && !s.fence && !s.trace
	greeting := s.questions == 0 && s.words <= greetingWordMax && s.count(catGreeting) > 0
	if shortQ || greeting {
		return simpleQuestion
	}
	return 0
}
