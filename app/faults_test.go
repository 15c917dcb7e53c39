package app_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/detour-gateway/detour/app"
	"github.com/detour-gateway/detour/keystore"
	"github.com/detour-gateway/detour/router/provider/ollama/ollamatest"
	"github.com/detour-gateway/detour/router/provider/openai/openaitest"
	"github.com/detour-gateway/detour/spend"
)

// Two groups: "dead" on two hosts that refuse connections, "live" on a
// healthy one, and Ollama behind both. The dead group's outage is its
// own: live is never degraded, dead answers from Ollama, and once its
// host is back the next requests go to it.
func TestOneGroupsOutageIsNotEveryonesOffline(t *testing.T) {
	deadA, deadB := openaitest.ClosedAddr(t), openaitest.ClosedAddr(t)
	live := openaitest.New(t, openaitest.Reply{Text: "from the live host"})
	llama := ollamatest.New(t, ollamatest.Reply{Text: "from Ollama"})
	gw := start(t, fmt.Sprintf(`model_list:
  - model_name: dead
    litellm_params: {model: openai/gpt-4o, api_base: "http://%s/v1"}
  - model_name: dead
    litellm_params: {model: openai/gpt-4o, api_base: "http://%s/v1"}
  - model_name: live
    litellm_params: {model: openai/gpt-4o, api_base: %q}
router_settings: {num_retries: 2}
detour:
  offline: {ollama_host: %q, model: llama3.2, probe_interval: 0.02}
`, deadA, deadB, live.URL, llama.URL))
	askGroup := func(group string) (string, http.Header) {
		t.Helper()
		var resp *http.Response
		c, err := gw.client.Chat.Completions.New(context.Background(), params(group), option.WithResponseInto(&resp))
		if err != nil {
			t.Fatalf("%s: %v", group, err)
		}
		return c.Choices[0].Message.Content, resp.Header
	}
	text, h := askGroup("dead")
	if text != "from Ollama" || h.Get("X-Detour-Attempts") != "3" {
		t.Fatalf("dead group: %q after %s attempts; want each host tried once, then Ollama", text, h.Get("X-Detour-Attempts"))
	}
	for range 3 {
		if text, h := askGroup("live"); text != "from the live host" || h.Get("X-Detour-Degraded") != "" {
			t.Fatalf("live group: %q, degraded %q; a healthy host must never be degraded", text, h.Get("X-Detour-Degraded"))
		}
	}
	if off, _ := gw.gw.Offline(); off {
		t.Error("offline, although the live host answers")
	}
	if text, h := askGroup("dead"); text != "from Ollama" || h.Get("X-Detour-Attempts") != "1" {
		t.Errorf("dead group again: %q after %s attempts; want Ollama at once", text, h.Get("X-Detour-Attempts"))
	}
	back := openaitest.NewAt(t, deadA, openaitest.Reply{Text: "from the host that came back"})
	deadline := time.Now().Add(5 * time.Second)
	for {
		if text, _ = askGroup("dead"); text != "from Ollama" || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if text != "from the host that came back" || back.Count() == 0 {
		t.Fatalf("after the host came back: %q", text)
	}
	for range 3 { // and it stays: no flip back to the local tier
		if text, _ := askGroup("dead"); text != "from the host that came back" {
			t.Fatalf("then: %q", text)
		}
	}
}

// Every status as documented: a prompt too long for every deployment is a
// 400 context_length_exceeded, tags no deployment carries a 404 naming
// the tag and the group asked for, and a missing key a 401 naming the key
// and the command that sets it.
func TestStatusesAsDocumented(t *testing.T) {
	up := openaitest.New(t)
	backup := openaitest.New(t)
	yaml := "model_list:\n" + deployment(up, "main", "gpt-4o", "      tags: [us]\n    model_info: {max_input_tokens: 50}\n") +
		deployment(backup, "backup", "gpt-4o-mini") + "router_settings: {fallbacks: [{main: [backup]}]}\n"
	gw := start(t, yaml)
	long := params("main")
	long.Messages = []openai.ChatCompletionMessageParamUnion{openai.UserMessage(strings.Repeat("many words ", 200))}
	long.Model = "main"
	_, err := gw.client.Chat.Completions.New(context.Background(), long)
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || apiErr.Code != "context_length_exceeded" {
		t.Errorf("too long: %v, want 400 context_length_exceeded", err)
	}
	_, err = gw.client.Chat.Completions.New(context.Background(), params("main"), option.WithHeader("X-Detour-Tags", "eu"))
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 404 || !strings.Contains(apiErr.Message, `"main"`) || !strings.Contains(apiErr.Message, "eu") {
		t.Errorf("unknown tag: %v, want 404 naming tag eu and group main", err)
	}
	if up.Count()+backup.Count() != 0 {
		t.Errorf("%d requests sent upstream", up.Count()+backup.Count())
	}

	// No key: the keychain is out of reach (no D-Bus), no variable is set,
	// and Ollama is not running either.
	cloud := openaitest.New(t)
	s := serve(t, "model_list:\n"+deployment(cloud, "main", "gpt-4o")+
		fmt.Sprintf("detour:\n  offline: {ollama_host: \"http://%s\"}\n", openaitest.ClosedAddr(t)), app.Options{Keys: downKeychain{}}, false)
	client := openai.NewClient(option.WithBaseURL(s.url), option.WithAPIKey("unused"), option.WithMaxRetries(0))
	_, err = client.Chat.Completions.New(context.Background(), params("main"))
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 401 || apiErr.Type != "authentication_error" ||
		!strings.Contains(apiErr.Message, "detour keys set openai") || !strings.Contains(apiErr.Message, "OPENAI_API_KEY") {
		t.Errorf("no key: %v, want a 401 naming the key and how to set it", err)
	}
	if cloud.Count() != 0 {
		t.Error("a request went upstream without a key")
	}
}

// downKeychain is a keychain that cannot be reached, as without D-Bus.
type downKeychain struct{}

func (downKeychain) Get(context.Context, string) (string, error) {
	return "", fmt.Errorf("%w: org.freedesktop.DBus.Error.ServiceUnknown: The name org.freedesktop.secrets was not provided", keystore.ErrUnavailable)
}
func (downKeychain) Set(context.Context, string, string) error { return keystore.ErrUnavailable }
func (downKeychain) Delete(context.Context, string) error      { return keystore.ErrUnavailable }

// Budgets hold on every path: a request a downgrade budget sends to the
// fallback group is charged there, and a fallback group's own block
// budget is never overspent by requests that reach it as a fallback.
func TestBudgetsHoldOnEveryPath(t *testing.T) {
	t.Run("downgraded answers are charged", func(t *testing.T) {
		dear := openaitest.New(t, openaitest.Reply{Text: "dear"})
		cheap := openaitest.New(t, openaitest.Reply{Text: "cheap"})
		gw := start(t, fmt.Sprintf("model_list:\n%s%srouter_settings: {fallbacks: [{main: [cheap]}]}\ndetour:\n  budgets: {groups: {main: {daily_usd: 0.0001, on_exceed: downgrade}}}\n",
			priced(dear, "main", "gpt-4o"), priced(cheap, "cheap", "gpt-4o-mini")))
		for range 2 {
			if a := ask(t, gw, params("main"), false); a.text != "cheap" {
				t.Fatalf("answer %q, want the fallback's", a.text)
			}
		}
		tot := spendTotals(t, gw)
		if cheap := tot.ByGroup["cheap"]; tot.TodayRequests != 2 || cheap.TodayRequests != 2 || cheap.TodayUSD <= 0 || !near(cheap.TodayUSD, tot.TodayUSD) {
			t.Errorf("ledger %+v after two downgraded answers, want both priced at the cheap group", tot)
		}
	})
	t.Run("a fallback's block budget holds", func(t *testing.T) {
		broken := openaitest.New(t, openaitest.Status(500, openaitest.ServerBody))
		backup := openaitest.New(t, openaitest.Reply{Text: "backup"})
		gw := start(t, fmt.Sprintf("model_list:\n%s%srouter_settings: {num_retries: 0, allowed_fails: 100, fallbacks: [{main: [backup]}]}\ndetour:\n  budgets: {groups: {backup: {daily_usd: 0.0002}}}\n",
			priced(broken, "main", "gpt-4o"), priced(backup, "backup", "gpt-4o-mini")))
		p := params("main")
		p.MaxTokens = openai.Int(3)
		answered, refused := 0, 0
		for range 10 {
			_, err := gw.client.Chat.Completions.New(context.Background(), p)
			var apiErr *openai.Error
			switch {
			case err == nil:
				answered++
			case errors.As(err, &apiErr) && apiErr.StatusCode == 429 && apiErr.Type == "budget_exceeded":
				refused++
			default:
				t.Fatalf("unexpected: %v", err)
			}
		}
		backupUSD := spendTotals(t, gw).ByGroup["backup"].TodayUSD
		if answered == 0 || refused == 0 || backupUSD > 0.0002+1e-12 {
			t.Errorf("%d answered, %d refused, backup spent $%v; want answers within its $0.0002, then 429s", answered, refused, backupUSD)
		}
	})
	t.Run("embeddings are charged", func(t *testing.T) {
		up := openaitest.New(t)
		gw := start(t, "model_list:\n"+deployment(up, "embed", "text-embedding-3-small",
			"    model_info: {input_cost_per_token: 0.0000001, output_cost_per_token: 0}\n"))
		if _, err := gw.client.Embeddings.New(context.Background(), openai.EmbeddingNewParams{
			Model: "embed", Input: openai.EmbeddingNewParamsInputUnion{OfString: openai.String("hello")}}); err != nil {
			t.Fatal(err)
		}
		if tot := spendTotals(t, gw); tot.TodayRequests != 1 || tot.TodayUSD <= 0 {
			t.Errorf("ledger %+v after one embedding, want it counted and priced", tot)
		}
	})
}

// A streamed answer's cost is on its row of the request log, as the
// ledger has it, and x-detour-cost reads as a person writes it.
func TestCostOnEveryRow(t *testing.T) {
	up := openaitest.New(t, openaitest.Reply{Text: "three word answer"})
	gw := start(t, "model_list:\n"+deployment(up, "main", "gpt-4o",
		"    model_info: {input_cost_per_token: 0.000008, output_cost_per_token: 0.00001}\n"))
	var resp *http.Response
	if _, err := gw.client.Chat.Completions.New(context.Background(), params("main"), option.WithResponseInto(&resp)); err != nil {
		t.Fatal(err)
	}
	// 9 × 8e-6 + 3 × 1e-5 = 0.000102 exactly on paper, 0.00010200000000000001 in float64.
	if got := resp.Header.Get("X-Detour-Cost"); got != "0.000102" {
		t.Errorf("x-detour-cost = %q, want 0.000102", got)
	}
	ask(t, gw, params("main"), true)
	recs, err := gw.gw.RequestLog().Recent(2)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if r.CostUSD == nil || !near(*r.CostUSD, 0.000102) {
			t.Errorf("stream=%v row cost = %v, want $0.000102", r.Stream, r.CostUSD)
		}
	}
}

func spendTotals(t *testing.T, gw *gateway) spend.Totals {
	t.Helper()
	var tot spend.Totals
	getJSON(t, strings.TrimSuffix(gw.url, "/v1")+"/api/v1/spend", &tot)
	return tot
}

func near(a, b float64) bool { return a-b < 1e-12 && b-a < 1e-12 }

// The request log keeps prompt and answer text only when
// detour.request_log.prompts is on, streamed or not.
func TestRequestLogKeepsTextOnlyWhenAsked(t *testing.T) {
	for _, keep := range []bool{false, true} {
		up := openaitest.New(t, openaitest.Reply{Text: "three word answer"})
		gw := start(t, "model_list:\n"+deployment(up, "main", "gpt-4o")+
			fmt.Sprintf("detour:\n  request_log: {path: %q, prompts: %t}\n", t.TempDir()+"/requests.db", keep))
		ask(t, gw, params("main"), false)
		ask(t, gw, params("main"), true)
		recs, err := gw.gw.RequestLog().Recent(2)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			kept := strings.Contains(string(r.Prompt), "secret prompt text") && r.Answer == "three word answer"
			if kept != keep || !keep && (len(r.Prompt) != 0 || r.Answer != "") {
				t.Errorf("prompts %t, stream %t: prompt %q, answer %q", keep, r.Stream, r.Prompt, r.Answer)
			}
		}
	}
}
