package complexity

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/detour-gateway/detour/chat"
)

// request builds a request from roles and texts: role, text, role, text, …
func request(roleText ...string) *chat.Request {
	req := &chat.Request{Model: "smart-router"}
	for i := 0; i+1 < len(roleText); i += 2 {
		req.Messages = append(req.Messages, chat.Message{Role: roleText[i], Content: chat.TextContent(roleText[i+1])})
	}
	return req
}

func user(text string) *chat.Request { return request("user", text) }

const goPanic = "My Go server crashes on every request with this:\n" +
	"```\n" +
	"panic: runtime error: invalid memory address or nil pointer dereference\n" +
	"[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x4a5b2c]\n\n" +
	"goroutine 18 [running]:\n" +
	"main.(*Server).handle(0x0, {0x6b1e40, 0xc0001a2000}, 0xc0001b6000)\n" +
	"\t/app/server.go:42 +0x2c\n" +
	"net/http.HandlerFunc.ServeHTTP(...)\n" +
	"```\n" +
	"Here is the handler:\n" +
	"```go\n" +
	"func (s *Server) handle(w http.ResponseWriter, r *http.Request) {\n" +
	"\tuser := s.users[r.URL.Query().Get(\"id\")]\n" +
	"\tfmt.Fprintf(w, \"hello %s\", user.Name)\n" +
	"}\n" +
	"```\n" +
	"How do I fix it?"

const pythonTraceback = "Fix this please:\n" +
	"Traceback (most recent call last):\n" +
	"  File \"app.py\", line 12, in <module>\n" +
	"    main()\n" +
	"  File \"app.py\", line 8, in main\n" +
	"    total = sum(prices) / len(prices)\n" +
	"ZeroDivisionError: division by zero\n" +
	"The function gets an empty list when the API returns no rows."

// classifyCases are the tier table; every case also checks that the
// dimensions sum to the total.
var classifyCases = []struct {
	name     string
	req      *chat.Request
	want     Tier
	atLeast  bool // want is a floor
	override bool
}{
	{name: "greeting", req: user("hi"), want: Simple},
	{name: "thanks", req: user("thanks!"), want: Simple},
	{name: "factual question", req: user("what's the capital of France?"), want: Simple},
	{name: "short why", req: user("Why is the sky blue?"), want: Simple},
	{name: "how-to", req: user("How do I boil an egg?"), want: Simple},
	{name: "creative one-liner", req: user("Write a haiku about autumn."), want: Simple},
	{name: "go panic with code", req: user(goPanic), want: Complex, atLeast: true},
	{name: "python traceback", req: user(pythonTraceback), want: Complex, atLeast: true},
	{name: "proof step by step", req: user("Prove that the square root of 2 is irrational, step by step."), want: Reasoning, override: true},
	{name: "litellm readme example", req: user("Think step by step: analyze the performance implications of implementing a distributed consensus algorithm for our microservices architecture."), want: Reasoning},
	{name: "explain tcp", req: user("Explain how TCP congestion control works and how it differs from what QUIC does."), want: Medium},
	{name: "explain http caching", req: user("Can you explain how HTTP caching works, and when I should use ETags versus Cache-Control headers?"), want: Medium},
	{name: "numbered task list", req: user("Set up the project:\n1. create a Postgres schema for users\n2. write the migration script\n3. add a REST endpoint\n4. cover it with unit tests"), want: Medium, atLeast: true},
	{
		name: "system markers do not override",
		req:  request("system", "You are a careful assistant. Think step by step, analyze trade-offs and justify every answer.", "user", "hi"),
		want: Simple,
	},
	{
		name: "the last user message is the ask",
		req:  request("user", "Prove Fermat's little theorem step by step and derive Euler's theorem from it.", "assistant", "Here is the proof …", "user", "thanks!"),
		want: Simple,
	},
	{
		name: "tool loop keeps the ask",
		req: request("user", "Prove that there are infinitely many primes, step by step, and justify each lemma.",
			"assistant", "", "tool", "{\"ok\":true}"),
		want:     Reasoning,
		override: true,
	},
	{name: "no request", req: nil, want: Simple},
	{name: "no user message", req: request("system", "You are terse."), want: Simple},
}

func TestClassifyTiers(t *testing.T) {
	r := mustNew(t, Config{Default: "default"})
	for _, tc := range classifyCases {
		t.Run(tc.name, func(t *testing.T) {
			s := r.Classify(tc.req)
			ok := s.Tier == tc.want
			if tc.atLeast {
				ok = s.Tier.rank() >= tc.want.rank()
			}
			if !ok {
				t.Errorf("tier %s, want %s (at least: %v); total %.3f, dimensions %v", s.Tier, tc.want, tc.atLeast, s.Total, s.Dimensions)
			}
			if s.ReasoningOverride != tc.override {
				t.Errorf("ReasoningOverride %v, want %v; total %.3f, dimensions %v", s.ReasoningOverride, tc.override, s.Total, s.Dimensions)
			}
		})
	}
}

func TestDimensionsSumToTotal(t *testing.T) {
	r := mustNew(t, Config{Default: "default"})
	names := []string{DimLength, DimCode, DimReasoning, DimTechnical, DimMultiStep, DimQuestion, DimSystem, DimConversation}
	for _, tc := range classifyCases {
		t.Run(tc.name, func(t *testing.T) {
			s := r.Classify(tc.req)
			if len(s.Dimensions) != len(names) {
				t.Errorf("%d dimensions %v, want %v", len(s.Dimensions), s.Dimensions, names)
			}
			sum := 0.0
			for _, n := range names {
				v, ok := s.Dimensions[n]
				if !ok {
					t.Errorf("dimension %q missing", n)
				}
				sum += v
			}
			if math.Abs(sum-s.Total) > 1e-9 {
				t.Errorf("dimensions sum to %v, Total is %v", sum, s.Total)
			}
			if s.Total < -0.15-1e-9 || s.Total > 1.40+1e-9 {
				t.Errorf("Total %v outside [-0.15, 1.40]", s.Total)
			}
		})
	}
}

func TestSystemAndConversationWeigh(t *testing.T) {
	r := mustNew(t, Config{Default: "default"})
	plain := r.Classify(user("Explain how TCP congestion control works."))
	withSystem := r.Classify(request(
		"system", "You are a senior engineer reviewing distributed systems code: consensus, sharding, race conditions. Analyze trade-offs rigorously.",
		"user", "Explain how TCP congestion control works."))
	if got := withSystem.Dimensions[DimSystem]; got <= 0 || got > systemMax {
		t.Errorf("system dimension %v, want in (0, %v]", got, systemMax)
	}
	if withSystem.Total <= plain.Total {
		t.Errorf("a technical system prompt did not raise the score: %v vs %v", withSystem.Total, plain.Total)
	}

	var turns []string
	for range 30 {
		turns = append(turns, "user", "go on", "assistant", "…")
	}
	long := r.Classify(request(append(turns, "user", "Explain how TCP congestion control works.")...))
	if got := long.Dimensions[DimConversation]; got != conversationMax {
		t.Errorf("conversation dimension after 60 messages %v, want the cap %v", got, conversationMax)
	}
	three := r.Classify(request("user", "a", "assistant", "b", "user", "c", "assistant", "d"))
	if got := three.Dimensions[DimConversation]; math.Abs(got-0.03) > 1e-9 {
		t.Errorf("conversation dimension with 3 other messages %v, want 0.03", got)
	}
}

func TestContentParts(t *testing.T) {
	r := mustNew(t, Config{Default: "default"})
	parts, _ := json.Marshal([]map[string]any{
		{"type": "text", "text": "Prove that the square root of 2 is irrational, "},
		{"type": "image_url", "image_url": map[string]string{"url": "data:image/png;base64,AAAA"}},
		{"type": "text", "text": "step by step."},
	})
	s := r.Classify(&chat.Request{Messages: []chat.Message{{Role: "user", Content: parts}}})
	if s.Tier != Reasoning {
		t.Errorf("tier %s, want REASONING; dimensions %v", s.Tier, s.Dimensions)
	}
}

func TestLength(t *testing.T) {
	r := mustNew(t, Config{Default: "default"})
	for _, tc := range []struct {
		tokens int
		want   float64
	}{
		{0, -0.05}, {14, -0.05}, {15, 0}, {400, 0.10}, {1000, 0.125}, {1600, 0.15}, {100000, 0.15},
	} {
		if got := r.lengthScore(tc.tokens); math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("lengthScore(%d) = %v, want %v", tc.tokens, got, tc.want)
		}
	}
	if got := estimateTokens("héllo wörld"); got != 3 { // 11 characters
		t.Errorf("estimateTokens counts bytes, not characters: %d", got)
	}
}

func TestScanWords(t *testing.T) {
	for _, tc := range []struct {
		text string
		cat  category
		want int
	}{
		{"Walk me through it STEP BY STEP.", catReasoning, 1},
		{"go step-by-step", catReasoning, 1},
		{"one step. By step we go", catReasoning, 0}, // no phrase across punctuation
		{"prove it; the proof and proofs", catReasoning, 1},
		{"why? why! why.", catReasoning, 1},
		{"the trade-offs and the tradeoffs", catReasoning, 1},
		{"a B-Tree, a red black tree", catTechnical, 1},
		{"Cache-Control and TLS", catTechnical, 2},
		{"what's wrong", catReasoning, 0},
		{"analysing_data", catReasoning, 0}, // one identifier, not a word
		{"a " + strings.Repeat("x", 100) + " proof", catReasoning, 1},
		{"first do this, then that", catFirst, 1},
		{"first do this, then that", catThen, 1},
	} {
		var s signals
		s.scan(tc.text)
		if got := s.count(tc.cat); got != tc.want {
			t.Errorf("%q: %d concepts of category %d, want %d", tc.text, got, tc.cat, tc.want)
		}
	}
}

func TestScanLinesAndPatterns(t *testing.T) {
	var s signals
	s.scan(goPanic)
	if !s.fence || !s.trace {
		t.Errorf("go panic: fence %v, trace %v; want both", s.fence, s.trace)
	}
	if s.codeLines < 2 {
		t.Errorf("go panic: %d code lines, want at least 2", s.codeLines)
	}
	var l signals
	l.scan("Plan:\n1. parse\n2) check\n  - build\n* ship\n2023. was a year\n10.5 is a number")
	if l.listItems != 4 {
		t.Errorf("%d list items, want 4", l.listItems)
	}
}

func TestLongTextIsScannedAtBothEnds(t *testing.T) {
	r := mustNew(t, Config{Default: "default"})
	middle := strings.Repeat("lorem ipsum dolor sit amet ", 4000) // ~108 KB
	s := r.Classify(user("Prove it step by step.\n" + middle + "\nthen derive the bound and justify it"))
	if s.Tier != Reasoning {
		t.Errorf("tier %s, want REASONING; dimensions %v", s.Tier, s.Dimensions)
	}
	if s.Dimensions[DimLength] != lengthMax {
		t.Errorf("length %v, want the cap %v", s.Dimensions[DimLength], lengthMax)
	}
	hidden := r.Classify(user(middle + "prove step by step" + middle))
	if hidden.Dimensions[DimReasoning] != 0 {
		t.Errorf("markers in the unscanned middle counted: %v", hidden.Dimensions)
	}
}

func TestRouteFallback(t *testing.T) {
	sparse := mustNew(t, Config{Tiers: map[Tier]string{Simple: "small", Complex: "large"}, Default: "default"})
	only := mustNew(t, Config{Default: "default"})
	top := mustNew(t, Config{Tiers: map[Tier]string{"reasoning": "frontier"}})
	for _, tc := range []struct {
		name string
		r    *Router
		tier Tier
		want string
	}{
		{"own group", sparse, Simple, "small"},
		{"upward first", sparse, Medium, "large"},
		{"own group above", sparse, Complex, "large"},
		{"downward when nothing above", sparse, Reasoning, "large"},
		{"default when no tier", only, Medium, "default"},
		{"unknown tier gets default", sparse, Tier("HARD"), "default"},
		{"all tiers borrow downward", top, Simple, "frontier"},
		{"lower-case key", top, Reasoning, "frontier"},
	} {
		if got := tc.r.Group(tc.tier); got != tc.want {
			t.Errorf("%s: Group(%s) = %q, want %q", tc.name, tc.tier, got, tc.want)
		}
	}

	full := mustNew(t, Config{Tiers: map[Tier]string{Simple: "s", Medium: "m", Complex: "c", Reasoning: "r"}})
	for req, want := range map[*chat.Request]string{
		user("hi"): "s",
		user("Explain how TCP congestion control works and how it differs from what QUIC does."): "m",
		user(goPanic): "c",
		user("Prove that the square root of 2 is irrational, step by step."): "r",
	} {
		group, s := full.Route(req)
		if group != want {
			t.Errorf("Route(%.30q) = %q (tier %s), want %q", req.Messages[0].Content, group, s.Tier, want)
		}
	}
}

func TestThresholds(t *testing.T) {
	strict := mustNew(t, Config{Default: "d", Thresholds: Thresholds{SimpleMedium: 0.30, MediumComplex: 0.70, ComplexReasoning: 0.90}})
	tcp := user("Explain how TCP congestion control works and how it differs from what QUIC does.")
	if s := strict.Classify(tcp); s.Tier != Simple {
		t.Errorf("raised boundaries: tier %s at %.3f, want SIMPLE", s.Tier, s.Total)
	}
	lenient := mustNew(t, Config{Default: "d", Thresholds: Thresholds{SimpleMedium: -1, MediumComplex: -0.5, ComplexReasoning: 0.1}})
	if s := lenient.Classify(user("hi")); s.Tier != Complex {
		t.Errorf("lowered boundaries: tier %s at %.3f, want COMPLEX", s.Tier, s.Total)
	}
	// The override needs the score to reach simple_medium.
	high := mustNew(t, Config{Default: "d", Thresholds: Thresholds{SimpleMedium: 0.5, MediumComplex: 0.7, ComplexReasoning: 0.9}})
	if s := high.Classify(user("Prove that the square root of 2 is irrational, step by step.")); s.Tier == Reasoning || s.ReasoningOverride {
		t.Errorf("override below simple_medium: tier %s at %.3f", s.Tier, s.Total)
	}
}

func TestNewErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    Config
		want error
	}{
		{"nothing", Config{}, ErrNoGroup},
		{"empty tiers", Config{Tiers: map[Tier]string{}}, ErrNoGroup},
		{"unknown tier", Config{Tiers: map[Tier]string{"HARD": "big"}}, ErrUnknownTier},
		{"empty group", Config{Tiers: map[Tier]string{Simple: ""}, Default: "d"}, ErrNoGroup},
		{"boundaries out of order", Config{Default: "d", Thresholds: Thresholds{SimpleMedium: 0.5}}, ErrThresholds},
		{"boundary NaN", Config{Default: "d", Thresholds: Thresholds{ComplexReasoning: math.NaN()}}, ErrThresholds},
		{"boundary inf", Config{Default: "d", Thresholds: Thresholds{ComplexReasoning: math.Inf(1)}}, ErrThresholds},
		{"tokens out of order", Config{Default: "d", Tokens: TokenThresholds{Short: 500}}, ErrThresholds},
		{"negative tokens", Config{Default: "d", Tokens: TokenThresholds{Short: -1}}, ErrThresholds},
	} {
		r, err := New(tc.c)
		if !errors.Is(err, tc.want) || r != nil {
			t.Errorf("%s: New = %v, %v; want error %v", tc.name, r, err, tc.want)
		}
	}

	_, err := New(Config{Tiers: map[Tier]string{"simple": "a", "SIMPLE": "b"}})
	if err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("the same tier twice: %v", err)
	}
	_, err = New(Config{Tiers: map[Tier]string{"HARD": "x", Medium: ""}, Thresholds: Thresholds{SimpleMedium: 0.9}})
	for _, want := range []error{ErrUnknownTier, ErrNoGroup, ErrThresholds} {
		if !errors.Is(err, want) {
			t.Errorf("every problem is reported: %v lacks %v", err, want)
		}
	}
	if _, err := New(Config{Tiers: map[Tier]string{"simple": "a", "SIMPLE": "a"}}); err != nil {
		t.Errorf("the same tier twice with the same group: %v", err)
	}
}

func TestParseTier(t *testing.T) {
	for in, want := range map[string]Tier{"SIMPLE": Simple, "medium": Medium, " Complex ": Complex, "REASONING": Reasoning} {
		if got, err := ParseTier(in); got != want || err != nil {
			t.Errorf("ParseTier(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "HARD", "SIMPLEST"} {
		if _, err := ParseTier(in); !errors.Is(err, ErrUnknownTier) {
			t.Errorf("ParseTier(%q) error %v, want ErrUnknownTier", in, err)
		}
	}
}

func TestClassifyAllocs(t *testing.T) {
	r := mustNew(t, Config{Default: "default"})
	req := benchRequest()
	allocs := testing.AllocsPerRun(100, func() { r.Classify(req) })
	// Text() decodes each message's JSON content; the Dimensions map is
	// the only other allocation.
	if allocs > 12 {
		t.Errorf("%v allocations per Classify, want at most 12", allocs)
	}
}

func mustNew(t *testing.T, c Config) *Router {
	t.Helper()
	r, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// benchPrompt is a ~2 KB ask mixing prose, a stack trace and code.
var benchPrompt = "I'm running a Go service behind a load balancer and it started crashing after we added a cache in front of Postgres. " +
	"Here is what I see in the logs under load, roughly once a minute:\n\n" + goPanic + "\n\n" +
	"Some context: the users map is filled by a background goroutine that refreshes it every 30 seconds from the database, " +
	"and the handler reads it without a mutex. I suspect a race condition, but the panic says nil pointer, which confuses me. " +
	"What I have tried so far:\n1. running with -race, which reports a data race on s.users\n2. adding a nil check, which hides the panic but returns empty names\n" +
	"3. wrapping the refresh in a sync.RWMutex, which made latency worse\n\n" +
	"Questions: why does the map read return a nil *User instead of a zero value? What is the idiomatic way to swap the whole map atomically? " +
	"And could you compare atomic.Pointer against an RWMutex here, with the trade-offs for throughput and tail latency? " +
	"Please keep the answer focused on Go 1.22 or newer, and show the corrected handler and refresher code. " +
	"For what it's worth, the service runs three replicas on Kubernetes, each with its own in-process copy of the map, " +
	"and traffic peaks at about two thousand requests per second, so I would rather not add a network hop per request."

func benchRequest() *chat.Request {
	return request(
		"system", "You are a senior Go engineer. Answer precisely, with code when it helps.",
		"user", "Our service keeps crashing.",
		"assistant", "Can you share the stack trace and the handler?",
		"user", benchPrompt,
	)
}

func BenchmarkClassify(b *testing.B) {
	r, err := New(Config{Tiers: map[Tier]string{Simple: "s", Medium: "m", Complex: "c", Reasoning: "r"}})
	if err != nil {
		b.Fatal(err)
	}
	req := benchRequest()
	b.SetBytes(int64(len(benchPrompt)))
	b.ReportAllocs()
	for b.Loop() {
		r.Classify(req)
	}
}

// BenchmarkClassifyLarge classifies a 100 KB pasted log: scanning stops
// at 8 KB + 2 KB, so the cost stays bounded.
func BenchmarkClassifyLarge(b *testing.B) {
	r, err := New(Config{Default: "d"})
	if err != nil {
		b.Fatal(err)
	}
	req := user(strings.Repeat("2024-05-01T12:00:00Z INFO request served in 12ms path=/api/users status=200\n", 1350) + "Why is p99 latency so high?")
	b.ReportAllocs()
	for b.Loop() {
		r.Classify(req)
	}
}
