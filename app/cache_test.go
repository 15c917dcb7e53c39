package app_test

import (
	"context"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/detour-gateway/detour/config"
	"github.com/detour-gateway/detour/router/provider/openai/openaitest"
)

// exchange sends p (streamed or not) and returns the answer and the
// x-detour-cache header.
func exchange(t *testing.T, gw *gateway, p openai.ChatCompletionNewParams, stream bool, opts ...option.RequestOption) (answer, string) {
	t.Helper()
	var resp *http.Response
	opts = append(opts, option.WithResponseInto(&resp))
	var c openai.ChatCompletion
	if stream {
		s := gw.client.Chat.Completions.NewStreaming(context.Background(), p, opts...)
		var acc openai.ChatCompletionAccumulator
		for s.Next() {
			acc.AddChunk(s.Current())
		}
		if err := s.Err(); err != nil {
			t.Fatalf("stream: %v", err)
		}
		c = acc.ChatCompletion
	} else {
		out, err := gw.client.Chat.Completions.New(context.Background(), p, opts...)
		if err != nil {
			t.Fatalf("chat: %v", err)
		}
		c = *out
	}
	a := answer{text: c.Choices[0].Message.Content, finish: c.Choices[0].FinishReason, usage: c.Usage}
	for _, tc := range c.Choices[0].Message.ToolCalls {
		a.toolCalls = append(a.toolCalls, cannedCall{tc.Function.Name, tc.Function.Arguments})
		a.ids = append(a.ids, tc.ID)
	}
	return a, resp.Header.Get("X-Detour-Cache")
}

// steady is params for a request that asks for the same answer each time
// (temperature 0): the requests the cache answers in its default mode.
func steady(model string) openai.ChatCompletionNewParams {
	p := params(model)
	p.Temperature = openai.Float(0)
	return p
}

// flush waits until the cache has written what it was given.
func flush(t *testing.T, gw *gateway) {
	t.Helper()
	if err := gw.gw.Cache().Flush(); err != nil {
		t.Fatal(err)
	}
}

func TestCacheHitsBothShapes(t *testing.T) {
	for _, tc := range []struct {
		name        string
		first, then bool // streamed?
		reply       openaitest.Reply
	}{
		{"json then json", false, false, openaitest.Reply{Text: "cached words"}},
		{"json then stream", false, true, openaitest.Reply{Text: "cached words"}},
		{"stream then json", true, false, openaitest.Reply{Text: "cached words"}},
		{"stream then stream", true, true, openaitest.Reply{Text: "cached words"}},
		{"tool calls, json then stream", false, true, openaitest.Reply{ToolCalls: []openaitest.ToolCall{{Name: "get_weather", Arguments: `{"city":"Paris"}`}}}},
		{"tool calls, stream then json", true, false, openaitest.Reply{ToolCalls: []openaitest.ToolCall{{Name: "get_weather", Arguments: `{"city":"Paris"}`}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			up := openaitest.New(t, tc.reply)
			gw := startCached(t, "model_list:\n"+deployment(up, "main-llm", "gpt-4o"))
			p := steady("main-llm")
			p.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
			if !tc.first {
				p.StreamOptions = openai.ChatCompletionStreamOptionsParam{}
			}
			miss, state := exchange(t, gw, p, tc.first)
			if state != "MISS" {
				t.Errorf("first x-detour-cache = %q, want MISS", state)
			}
			flush(t, gw)
			p.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
			hit, state := exchange(t, gw, p, tc.then)
			if state != "HIT" || up.Count() != 1 {
				t.Fatalf("second x-detour-cache = %q after %d upstream calls, want HIT after 1", state, up.Count())
			}
			if hit.text != miss.text || hit.finish != miss.finish || len(hit.toolCalls) != len(miss.toolCalls) {
				t.Errorf("hit %+v, want the same answer as %+v", hit, miss)
			}
			for i := range hit.toolCalls {
				if hit.toolCalls[i] != miss.toolCalls[i] || hit.ids[i] != miss.ids[i] {
					t.Errorf("tool call %d: hit %+v %s, want %+v %s", i, hit.toolCalls[i], hit.ids[i], miss.toolCalls[i], miss.ids[i])
				}
			}
			if hit.usage.TotalTokens == 0 {
				t.Error("a hit lost the usage")
			}
		})
	}
}

func TestCacheControls(t *testing.T) {
	tests := []struct {
		name      string
		opts      []option.RequestOption
		wantState string
		wantCalls int // upstream calls after the warm-up and this request
		stored    bool
	}{
		{"plain repeat", nil, "HIT", 1, true},
		{"Cache-Control no-cache", []option.RequestOption{option.WithHeader("Cache-Control", "no-cache")}, "BYPASS", 2, true},
		{"x-detour-cache bypass", []option.RequestOption{option.WithHeader("X-Detour-Cache", "bypass")}, "BYPASS", 2, true},
		{"body cache no-cache", []option.RequestOption{option.WithJSONSet("cache", map[string]any{"no-cache": true})}, "BYPASS", 2, true},
		{"namespace", []option.RequestOption{option.WithJSONSet("cache", map[string]any{"namespace": "team-b"})}, "MISS", 2, true},
		{"max-age passes", []option.RequestOption{option.WithHeader("Cache-Control", "max-age=3600")}, "HIT", 1, true},
		{"max-age too old", []option.RequestOption{option.WithHeader("Cache-Control", "max-age=30")}, "MISS", 2, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := openaitest.New(t)
			gw := startCached(t, "model_list:\n"+deployment(up, "main-llm", "gpt-4o"))
			exchange(t, gw, steady("main-llm"), false)
			flush(t, gw)
			gw.clock.Advance(time.Minute)
			_, state := exchange(t, gw, steady("main-llm"), false, tt.opts...)
			if state != tt.wantState || up.Count() != tt.wantCalls {
				t.Errorf("x-detour-cache %q after %d upstream calls, want %q after %d", state, up.Count(), tt.wantState, tt.wantCalls)
			}
			for _, r := range up.Requests() {
				if _, ok := r.Body["cache"]; ok {
					t.Errorf("the body's cache field reached the upstream: %s", r.Raw)
				}
			}
		})
	}
}

func TestCacheNoStore(t *testing.T) {
	up := openaitest.New(t)
	gw := startCached(t, "model_list:\n"+deployment(up, "main-llm", "gpt-4o"))
	exchange(t, gw, steady("main-llm"), false, option.WithHeader("Cache-Control", "no-store"))
	flush(t, gw)
	if _, state := exchange(t, gw, steady("main-llm"), false); state != "MISS" || up.Count() != 2 {
		t.Errorf("x-detour-cache %q after %d calls: a no-store answer was stored", state, up.Count())
	}
}

func TestCacheStoresOnlyCompleteAnswers(t *testing.T) {
	tests := []struct {
		name   string
		reply  openaitest.Reply
		stream bool
	}{
		{"content filter", openaitest.Reply{Text: "partial", FinishReason: "content_filter"}, false},
		{"cut stream", openaitest.Reply{Text: "one two three", Fault: openaitest.CutMidStream}, true},
		{"error event", openaitest.Reply{Text: "one two three", Fault: openaitest.ErrorEventMidStream}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := openaitest.New(t, tt.reply, openaitest.Reply{Text: "whole answer"})
			gw := startCached(t, "model_list:\n"+deployment(up, "main-llm", "gpt-4o")+"router_settings: {num_retries: 0}\n")
			if tt.stream {
				s := gw.client.Chat.Completions.NewStreaming(context.Background(), steady("main-llm"))
				for s.Next() {
				}
			} else {
				exchange(t, gw, steady("main-llm"), false)
			}
			flush(t, gw)
			a, state := exchange(t, gw, steady("main-llm"), false)
			if state != "MISS" || a.text != "whole answer" {
				t.Errorf("got %q (%s), want a fresh answer: the first one must not have been stored", a.text, state)
			}
		})
	}
}

func TestCacheServesStaleWhenEveryProviderFails(t *testing.T) {
	up := openaitest.New(t, openaitest.Reply{Text: "yesterday's answer"})
	gw := startCached(t, "model_list:\n"+deployment(up, "main-llm", "gpt-4o")+"router_settings: {num_retries: 0}\ndetour: {cache: {ttl: 60}}\n")
	exchange(t, gw, steady("main-llm"), false)
	flush(t, gw)
	gw.clock.Advance(2 * time.Minute) // past the TTL, within stale_ttl
	up.SetReplies(openaitest.Status(503, openaitest.OverloadBody))
	for _, stream := range []bool{false, true} {
		a, state := exchange(t, gw, steady("main-llm"), stream)
		if state != "STALE" || a.text != "yesterday's answer" {
			t.Errorf("stream=%v: got %q (%s), want the stale answer", stream, a.text, state)
		}
	}
	// A provider that answers again wins over the stale entry.
	up.SetReplies(openaitest.Reply{Text: "today's answer"})
	if a, state := exchange(t, gw, steady("main-llm"), false); state != "MISS" || a.text != "today's answer" {
		t.Errorf("got %q (%s), want a fresh answer", a.text, state)
	}
	// The client's own fault never falls back to a stale answer.
	gw.clock.Advance(2 * time.Minute)
	up.SetReplies(openaitest.Status(400, openaitest.BadParamBody))
	_, err := gw.client.Chat.Completions.New(context.Background(), steady("main-llm"))
	if err == nil || !strings.Contains(err.Error(), "400") {
		t.Errorf("err = %v, want the 400", err)
	}
}

func TestCacheHitSavesTheOriginalCost(t *testing.T) {
	up := openaitest.New(t, openaitest.Reply{Text: "three word answer"})
	gw := startCached(t, "model_list:\n"+deployment(up, "main-llm", "gpt-4o")+
		"    model_info: {input_cost_per_token: 0.000002, output_cost_per_token: 0.00001}\n")
	var resp *http.Response
	if _, err := gw.client.Chat.Completions.New(context.Background(), steady("main-llm"), option.WithResponseInto(&resp)); err != nil {
		t.Fatal(err)
	}
	// The fake counts 9 prompt tokens and a token a word: 9×2e-6 + 3×1e-5.
	const cost = 0.000048
	if got := resp.Header.Get("X-Detour-Cost"); got != "0.000048" {
		t.Errorf("x-detour-cost = %q, want %v", got, cost)
	}
	flush(t, gw)
	for range 2 {
		if _, err := gw.client.Chat.Completions.New(context.Background(), steady("main-llm"), option.WithResponseInto(&resp)); err != nil {
			t.Fatal(err)
		}
		if resp.Header.Get("X-Detour-Cache") != "HIT" || resp.Header.Get("X-Detour-Cost") != "0" {
			t.Errorf("hit headers cache=%q cost=%q, want HIT and 0", resp.Header.Get("X-Detour-Cache"), resp.Header.Get("X-Detour-Cost"))
		}
	}
	stats, err := gw.gw.Cache().Stats()
	if err != nil {
		t.Fatal(err)
	}
	if stats.Hits != 2 || stats.Misses != 1 || stats.Entries != 1 || math.Abs(stats.SavedUSD-2*cost) > 1e-12 {
		t.Errorf("stats = %+v, want 2 hits, 1 miss, 1 entry, $%v saved", stats, 2*cost)
	}
}

// reloadCache reloads gw with its config, the cache section changed by edit.
func reloadCache(t *testing.T, gw *gateway, edit func(*config.Cache)) {
	t.Helper()
	cfg := *gw.cfg
	edit(&cfg.Detour.Cache)
	if err := gw.gw.Reload(&cfg); err != nil {
		t.Fatal(err)
	}
}

// TestCacheAnswersOnlyWhatMayRepeat: by default a request that samples
// (temperature 0.9, or none) goes upstream every time — a "regenerate"
// gets a new answer — while temperature 0 or a seed is answered from the
// cache; detour.cache.mode all and off change that.
func TestCacheAnswersOnlyWhatMayRepeat(t *testing.T) {
	withTemperature := func(v float64) openai.ChatCompletionNewParams {
		p := params("main-llm")
		p.Temperature = openai.Float(v)
		return p
	}
	withSeed := params("main-llm")
	withSeed.Temperature, withSeed.Seed = openai.Float(0.9), openai.Int(42)
	tests := []struct {
		name   string
		mode   string // detour.cache.mode; "" leaves it unset
		p      openai.ChatCompletionNewParams
		opts   []option.RequestOption
		states [2]string
	}{
		{"default, temperature 0.9", "", withTemperature(0.9), nil, [2]string{"BYPASS", "BYPASS"}},
		{"default, no temperature", "", params("main-llm"), nil, [2]string{"BYPASS", "BYPASS"}},
		{"default, temperature 0", "", withTemperature(0), nil, [2]string{"MISS", "HIT"}},
		{"default, a seed", "", withSeed, nil, [2]string{"MISS", "HIT"}},
		{"default, temperature 0.9 asking with a body ttl", "", withTemperature(0.9),
			[]option.RequestOption{option.WithJSONSet("cache", map[string]any{"ttl": 600})}, [2]string{"MISS", "HIT"}},
		{"deterministic, temperature 0.9", "deterministic", withTemperature(0.9), nil, [2]string{"BYPASS", "BYPASS"}},
		{"all, temperature 0.9", "all", withTemperature(0.9), nil, [2]string{"MISS", "HIT"}},
		{"off, temperature 0", "off", withTemperature(0), nil, [2]string{"BYPASS", "BYPASS"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := openaitest.New(t, openaitest.Reply{Text: "first poem"}, openaitest.Reply{Text: "second poem"})
			yaml := "model_list:\n" + deployment(up, "main-llm", "gpt-4o")
			if tt.mode != "" {
				yaml += "detour: {cache: {mode: " + tt.mode + "}}\n"
			}
			gw := startCached(t, yaml)
			first, s1 := exchange(t, gw, tt.p, false, tt.opts...)
			flush(t, gw)
			second, s2 := exchange(t, gw, tt.p, false, tt.opts...)
			if [2]string{s1, s2} != tt.states {
				t.Errorf("x-detour-cache %q then %q, want %q then %q", s1, s2, tt.states[0], tt.states[1])
			}
			wantCalls, wantSecond := 2, "second poem"
			if tt.states[1] == "HIT" {
				wantCalls, wantSecond = 1, "first poem"
			}
			if up.Count() != wantCalls || first.text != "first poem" || second.text != wantSecond {
				t.Errorf("%d upstream calls, answers %q then %q; want %d, %q then %q",
					up.Count(), first.text, second.text, wantCalls, "first poem", wantSecond)
			}
		})
	}
}

// TestCacheModeReloads: detour.cache.mode changed by a reload applies to
// the next request, without a restart.
func TestCacheModeReloads(t *testing.T) {
	up := openaitest.New(t)
	gw := startCached(t, "model_list:\n"+deployment(up, "main-llm", "gpt-4o"))
	hot := params("main-llm")
	hot.Temperature = openai.Float(0.9)
	if _, state := exchange(t, gw, hot, false); state != "BYPASS" {
		t.Fatalf("default mode: x-detour-cache %q, want BYPASS", state)
	}
	reloadCache(t, gw, func(c *config.Cache) { c.Mode = config.CacheAll })
	exchange(t, gw, hot, false)
	flush(t, gw)
	if _, state := exchange(t, gw, hot, false); state != "HIT" {
		t.Errorf("after a reload to all: x-detour-cache %q, want HIT", state)
	}
	reloadCache(t, gw, func(c *config.Cache) { c.Mode = config.CacheOff })
	if _, state := exchange(t, gw, hot, false); state != "BYPASS" {
		t.Errorf("after a reload to off: x-detour-cache %q, want BYPASS", state)
	}
	if up.Count() != 3 {
		t.Errorf("%d upstream calls, want 3", up.Count())
	}
}

// TestCacheTTLReloadAppliesToStoredEntries: lowering detour.cache.ttl stops
// older entries being served at once, not at their old expiry.
func TestCacheTTLReloadAppliesToStoredEntries(t *testing.T) {
	up := openaitest.New(t, openaitest.Reply{Text: "old answer"}, openaitest.Reply{Text: "new answer"})
	gw := startCached(t, "model_list:\n"+deployment(up, "main-llm", "gpt-4o")+"detour: {cache: {ttl: 3600}}\n")
	exchange(t, gw, steady("main-llm"), false)
	flush(t, gw)
	gw.clock.Advance(2 * time.Minute)
	if a, state := exchange(t, gw, steady("main-llm"), false); state != "HIT" || a.text != "old answer" {
		t.Fatalf("2 minutes into a 1h TTL: %q (%s), want the cached answer", a.text, state)
	}
	reloadCache(t, gw, func(c *config.Cache) { c.TTL = time.Minute })
	if a, state := exchange(t, gw, steady("main-llm"), false); state != "MISS" || a.text != "new answer" {
		t.Errorf("after lowering the TTL to 1 minute: %q (%s), want a new answer, MISS", a.text, state)
	}
}
