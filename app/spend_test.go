package app_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/detour-gateway/detour/router/provider/openai/openaitest"
	"github.com/detour-gateway/detour/spend"
)

func priced(up *openaitest.Server, group, model string) string {
	return deployment(up, group, model) + "    model_info: {input_cost_per_token: 0.000002, output_cost_per_token: 0.00001}\n"
}

func TestStreamedSpendEqualsNonStreamed(t *testing.T) {
	up := openaitest.New(t, openaitest.Reply{Text: "three word answer"})
	gw := start(t, "model_list:\n"+priced(up, "main", "gpt-4o"))
	totals := func() spend.Totals {
		var tot spend.Totals
		getJSON(t, strings.TrimSuffix(gw.url, "/v1")+"/api/v1/spend", &tot)
		return tot
	}
	ask(t, gw, params("main"), false)
	first := totals().TodayUSD
	// The client asks for no usage; Detour asks upstream anyway and keeps
	// the usage chunk from the client.
	s := gw.client.Chat.Completions.NewStreaming(context.Background(), params("main"))
	var acc openai.ChatCompletionAccumulator
	for s.Next() {
		if len(s.Current().Choices) == 0 {
			t.Error("a usage-only chunk reached a client that did not ask for usage")
		}
		acc.AddChunk(s.Current())
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	if so, _ := up.Requests()[1].Body["stream_options"].(map[string]any); so["include_usage"] != true {
		t.Errorf("usage not asked of the upstream: %s", up.Requests()[1].Raw)
	}
	both := totals()
	// 9 prompt tokens × 2e-6 + 3 completion tokens × 1e-5 each time.
	if first == 0 || math.Abs(first-0.000048) > 1e-12 || math.Abs(both.TodayUSD-2*first) > 1e-12 || both.TodayRequests != 2 {
		t.Errorf("spend: %v after the JSON answer, %+v after the stream; want $0.000048 each", first, both)
	}
}

func TestBudgetBlocksBeforeSending(t *testing.T) {
	up := openaitest.New(t)
	gw := start(t, "model_list:\n"+priced(up, "main", "gpt-4o")+"detour:\n  budgets: {daily_usd: 0.0001}\n")
	_, err := gw.client.Chat.Completions.New(context.Background(), params("main"))
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 429 || apiErr.Type != "budget_exceeded" || !strings.Contains(apiErr.Message, "daily") {
		t.Fatalf("err = %v, want a 429 budget_exceeded naming the daily budget", err)
	}
	if up.Count() != 0 {
		t.Errorf("the request was sent although its estimate crosses the budget")
	}
}

func TestBudgetDowngrades(t *testing.T) {
	dear := openaitest.New(t, openaitest.Reply{Text: "dear"})
	cheap := openaitest.New(t, openaitest.Reply{Text: "cheap"})
	gw := start(t, fmt.Sprintf("model_list:\n%s%srouter_settings: {fallbacks: [{main: [cheap]}]}\ndetour:\n  budgets: {groups: {main: {daily_usd: 0.0001, on_exceed: downgrade}}}\n",
		priced(dear, "main", "gpt-4o"), deployment(cheap, "cheap", "gpt-4o-mini")))
	if a := ask(t, gw, params("main"), false); a.text != "cheap" || dear.Count() != 0 {
		t.Errorf("answer %q (%d calls to the dear group), want the cheaper fallback", a.text, dear.Count())
	}
}

// TestTagsUnderChaos: every eu deployment is switched down; an eu request
// gets an error, never an answer from a deployment outside the tag.
func TestTagsUnderChaos(t *testing.T) {
	us := openaitest.New(t, openaitest.Reply{Text: "from us"})
	eu := openaitest.New(t, openaitest.Reply{Text: "from eu"})
	gw := start(t, fmt.Sprintf(`model_list:
  - model_name: m
    litellm_params: {model: openai/gpt-4o, api_base: %q}
  - model_name: m
    litellm_params: {model: openai/gpt-4o, api_base: %q, tags: [eu]}
  - model_name: backup
    litellm_params: {model: openai/gpt-4o-mini, api_base: %q}
router_settings: {num_retries: 2, fallbacks: [{m: [backup]}]}
`, us.URL, eu.URL, us.URL))
	for _, d := range gw.cfg.Models {
		if len(d.Tags) > 0 {
			if _, err := gw.gw.Admin().SetChaos(d.ID, "down", 0); err != nil {
				t.Fatal(err)
			}
		}
	}
	_, err := gw.client.Chat.Completions.New(context.Background(), params("m"), option.WithHeader("X-Detour-Tags", "eu"))
	if err == nil {
		t.Fatal("answered an eu request with every eu deployment down")
	}
	if us.Count() != 0 || eu.Count() != 0 {
		t.Errorf("calls: us %d, eu %d; want none (eu is down by chaos, us is not eu)", us.Count(), eu.Count())
	}
}

// TestRateLimitHeadersLowerPriority: under usage-based routing, a
// deployment whose provider says it has 5 % of its requests left loses its
// turn before any 429.
func TestRateLimitHeadersLowerPriority(t *testing.T) {
	nearly := openaitest.New(t, openaitest.Reply{Text: "nearly out", Header: http.Header{
		"X-Ratelimit-Limit-Requests": {"100"}, "X-Ratelimit-Remaining-Requests": {"5"}}})
	roomy := openaitest.New(t, openaitest.Reply{Text: "roomy", Header: http.Header{
		"X-Ratelimit-Limit-Requests": {"100"}, "X-Ratelimit-Remaining-Requests": {"90"}}})
	gw := start(t, fmt.Sprintf(`model_list:
  - model_name: m
    litellm_params: {model: openai/gpt-4o, api_base: %q}
  - model_name: m
    litellm_params: {model: openai/gpt-4o, api_base: %q}
router_settings: {routing_strategy: usage-based-routing-v2}
`, nearly.URL, roomy.URL))
	if a := ask(t, gw, params("m"), false); a.text != "nearly out" {
		t.Fatalf("first answer %q: with no numbers yet, config order", a.text)
	}
	ask(t, gw, params("m"), false) // roomy reports its headroom too
	for range 3 {
		if a := ask(t, gw, params("m"), false); a.text != "roomy" {
			t.Errorf("answer %q, want the deployment with room left", a.text)
		}
	}
}

// TestBudgetUnderConcurrentRequests: many requests at once against a
// budget that fits a few: the reservations let through only what fits, the
// rest get 429, and the ledger never ends over the budget by more than one
// request's estimate.
func TestBudgetUnderConcurrentRequests(t *testing.T) {
	up := openaitest.New(t, openaitest.Reply{Text: "three word answer", Delay: 20 * time.Millisecond})
	const budget = 0.1
	gw := start(t, "model_list:\n"+priced(up, "main", "gpt-4o")+fmt.Sprintf("detour:\n  budgets: {daily_usd: %v}\n", budget))
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, refused := 0, 0
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := gw.client.Chat.Completions.New(context.Background(), params("main"))
			var apiErr *openai.Error
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
			case errors.As(err, &apiErr) && apiErr.Type == "budget_exceeded":
				refused++
			default:
				t.Errorf("unexpected error: %v", err)
			}
		}()
	}
	wg.Wait()
	var tot spend.Totals
	getJSON(t, strings.TrimSuffix(gw.url, "/v1")+"/api/v1/spend", &tot)
	// Each request is estimated at ~$0.041 (a quarter of gpt-4o's 16,384
	// output tokens at 1e-5): two fit at once, so most are refused while
	// the first ones are in flight.
	if ok == 0 || refused == 0 || tot.TodayUSD > budget || tot.TodayRequests != ok {
		t.Errorf("%d allowed, %d refused, $%v spent; want a few allowed, the rest refused, within $%v", ok, refused, tot.TodayUSD, budget)
	}
}
