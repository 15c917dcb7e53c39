package app_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/detour-gateway/detour/router/provider/ollama/ollamatest"
	"github.com/detour-gateway/detour/router/provider/openai/openaitest"
	"github.com/detour-gateway/detour/server"
)

// offlineConfig has two cloud groups at addresses that refuse connections,
// the second a fallback of the first, and the Ollama tier at ollamaURL.
func offlineConfig(cloudA, cloudB, ollamaURL, extra string) string {
	return fmt.Sprintf(`model_list:
  - model_name: main
    litellm_params: {model: openai/gpt-4o, api_base: "http://%s/v1"}
  - model_name: cheap
    litellm_params: {model: openai/gpt-4o-mini, api_base: "http://%s/v1"}
router_settings: {num_retries: 2, fallbacks: [{main: [cheap]}]}
detour:
  offline: {ollama_host: %q, probe_interval: 0.02%s}
`, cloudA, cloudB, ollamaURL, extra)
}

// chatWithHeaders sends a request for group main and returns the answer's
// text and headers.
func chatWithHeaders(t *testing.T, gw *gateway, stream bool) (string, http.Header) {
	t.Helper()
	var resp *http.Response
	p := steady("main") // temperature 0: an answer the cache may keep, for the stale tests
	if stream {
		s := gw.client.Chat.Completions.NewStreaming(context.Background(), p, option.WithResponseInto(&resp))
		var acc openai.ChatCompletionAccumulator
		for s.Next() {
			acc.AddChunk(s.Current())
		}
		if err := s.Err(); err != nil {
			t.Fatalf("stream: %v", err)
		}
		return acc.Choices[0].Message.Content, resp.Header
	}
	c, err := gw.client.Chat.Completions.New(context.Background(), p, option.WithResponseInto(&resp))
	if err != nil {
		t.Fatalf("chat: %v", err)
	}
	return c.Choices[0].Message.Content, resp.Header
}

func TestOfflineAnswersFromOllamaAndComesBack(t *testing.T) {
	cloudA, cloudB := openaitest.ClosedAddr(t), openaitest.ClosedAddr(t)
	llama := ollamatest.New(t, ollamatest.Reply{Text: "Answered by the local model."})
	gw := start(t, offlineConfig(cloudA, cloudB, llama.URL, ", model: llama3.2"))

	text, h := chatWithHeaders(t, gw, false)
	if text != "Answered by the local model." || h.Get("X-Detour-Degraded") != "ollama" || h.Get("X-Detour-Provider") != "ollama" {
		t.Fatalf("first request: %q, degraded %q, provider %q", text, h.Get("X-Detour-Degraded"), h.Get("X-Detour-Provider"))
	}
	if h.Get("X-Detour-Attempts") != "3" { // main, then cheap, both refused once, then Ollama
		t.Errorf("first request attempts = %s, want 3", h.Get("X-Detour-Attempts"))
	}
	var health server.Health
	getJSON(t, strings.TrimSuffix(gw.url, "/v1")+"/api/v1/deployments", &health)
	if !health.Offline || health.Deployments[0].State != "offline" {
		t.Errorf("health = %+v, want offline", health)
	}
	// Offline now: straight to Ollama, no cloud attempt, stream or not.
	for _, stream := range []bool{false, true} {
		text, h := chatWithHeaders(t, gw, stream)
		if text != "Answered by the local model." || h.Get("X-Detour-Attempts") != "1" || h.Get("X-Detour-Degraded") != "ollama" {
			t.Errorf("stream=%v while offline: %q, attempts %s, degraded %q", stream, text, h.Get("X-Detour-Attempts"), h.Get("X-Detour-Degraded"))
		}
	}
	// The cloud comes back: within the probe interval traffic returns to it.
	openaitest.NewAt(t, cloudA, openaitest.Reply{Text: "Back in the cloud."})
	deadline := time.Now().Add(5 * time.Second)
	for {
		text, h = chatWithHeaders(t, gw, false)
		if h.Get("X-Detour-Degraded") == "" || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if text != "Back in the cloud." || h.Get("X-Detour-Provider") != "openai" {
		t.Errorf("after the cloud came back: %q from %q", text, h.Get("X-Detour-Provider"))
	}
}

func TestOfflinePicksALocalModel(t *testing.T) {
	llama := ollamatest.New(t) // has llama3.2, qwen3:8b, llava:7b and nomic-embed-text pulled
	gw := start(t, offlineConfig(openaitest.ClosedAddr(t), openaitest.ClosedAddr(t), llama.URL, ", map: {cheap: qwen3:8b}"))
	chatWithHeaders(t, gw, false)
	got := llama.Requests()
	if len(got) == 0 {
		t.Fatal("Ollama was not asked")
	}
	if m := got[len(got)-1].Body["model"]; m != "llama3.2:latest" {
		t.Errorf("model = %v, want the first chat model of Ollama's list", m)
	}
	var health server.Health
	getJSON(t, strings.TrimSuffix(gw.url, "/v1")+"/api/v1/deployments", &health)
	if health.LocalModel != "llama3.2:latest" {
		t.Errorf("health local_model = %q, want the picked model", health.LocalModel)
	}
}

func TestOfflineEverythingDown(t *testing.T) {
	cloudA, cloudB, ollamaAddr := openaitest.ClosedAddr(t), openaitest.ClosedAddr(t), openaitest.ClosedAddr(t)
	gw := start(t, offlineConfig(cloudA, cloudB, "http://"+ollamaAddr, ""))
	_, err := gw.client.Chat.Completions.New(context.Background(), params("main"))
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 503 {
		t.Fatalf("err = %v, want a 503", err)
	}
	for _, want := range []string{"ollama serve", "ollama pull", "offline"} {
		if !strings.Contains(apiErr.Message, want) {
			t.Errorf("message lacks %q: %s", want, apiErr.Message)
		}
	}
	for _, leak := range []string{cloudA, cloudB, "api.openai.com"} {
		if strings.Contains(apiErr.RawJSON(), leak) {
			t.Errorf("message leaks %q: %s", leak, apiErr.RawJSON())
		}
	}
}

func TestOfflineStaleCacheWhenOllamaIsDownToo(t *testing.T) {
	cloud := openaitest.New(t, openaitest.Reply{Text: "An answer from yesterday."})
	ollamaAddr := openaitest.ClosedAddr(t)
	yaml := fmt.Sprintf(`model_list:
  - model_name: main
    litellm_params: {model: openai/gpt-4o, api_base: %q}
router_settings: {num_retries: 0}
detour:
  offline: {ollama_host: "http://%s", probe_interval: 0.02}
  cache: {ttl: 60}
`, cloud.URL, ollamaAddr)
	gw := startCached(t, yaml)
	chatWithHeaders(t, gw, false)
	flush(t, gw)
	gw.clock.Advance(time.Hour)
	cloud.Close() // the provider goes away, and Ollama is not running either
	for _, stream := range []bool{false, true} {
		text, h := chatWithHeaders(t, gw, stream)
		if text != "An answer from yesterday." || h.Get("X-Detour-Cache") != "STALE" {
			t.Errorf("stream=%v: %q (cache %q), want the stale answer", stream, text, h.Get("X-Detour-Cache"))
		}
	}
}

func TestChaosSwitch(t *testing.T) {
	a := openaitest.New(t, openaitest.Reply{Text: "from a"})
	b := openaitest.New(t, openaitest.Reply{Text: "from b"})
	gw := start(t, fmt.Sprintf(`model_list:
  - model_name: main
    litellm_params: {model: openai/gpt-4o, api_base: %q, weight: 1000}
  - model_name: main
    litellm_params: {model: openai/gpt-4o-mini, api_base: %q, weight: 1}
router_settings: {num_retries: 1, allowed_fails: 100}
`, a.URL, b.URL))
	root := strings.TrimSuffix(gw.url, "/v1")
	idA := gw.cfg.Models[0].ID
	post := func(id, body string, header ...string) (*http.Response, string) {
		req, _ := http.NewRequest("POST", root+"/api/v1/deployments/"+id+"/chaos", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}

	for _, tt := range []struct {
		mode     string
		wantText string
		wantA    int // calls a receives
	}{
		{"down", "from b", 0},
		{"rate_limited", "from b", 0},
		{"off", "from a", 1},
	} {
		t.Run(tt.mode, func(t *testing.T) {
			gw.clock.Advance(10 * time.Second) // past the Retry-After a rate_limited chaos asked for
			if resp, body := post(idA, `{"mode":"`+tt.mode+`","for_seconds":60}`); resp.StatusCode != 200 || !strings.Contains(body, tt.mode) {
				t.Fatalf("set %s: %d %s", tt.mode, resp.StatusCode, body)
			}
			before := a.Count()
			if text, _ := chatWithHeaders(t, gw, false); text != tt.wantText || a.Count()-before != tt.wantA {
				t.Errorf("answer %q with %d calls to a, want %q and %d", text, a.Count()-before, tt.wantText, tt.wantA)
			}
		})
	}
	t.Run("visible in health, then expires", func(t *testing.T) {
		post(idA, `{"mode":"down","for_seconds":30}`)
		var health server.Health
		getJSON(t, root+"/api/v1/deployments", &health)
		if d := health.Deployments[0]; d.State != "chaos" || d.Chaos == nil || d.Chaos.Mode != "down" {
			t.Errorf("health = %+v", d)
		}
		gw.clock.Advance(31 * time.Second)
		if text, _ := chatWithHeaders(t, gw, false); text != "from a" {
			t.Errorf("after expiry: %q, want a back", text)
		}
		getJSON(t, root+"/api/v1/deployments", &health)
		if d := health.Deployments[0]; d.State == "chaos" {
			t.Errorf("chaos still shown after expiry: %+v", d)
		}
	})
	t.Run("bad requests", func(t *testing.T) {
		if resp, _ := post(idA, `{"mode":"explode"}`); resp.StatusCode != 400 {
			t.Errorf("bad mode: %d", resp.StatusCode)
		}
		if resp, _ := post("no-such-id", `{"mode":"down"}`); resp.StatusCode != 404 {
			t.Errorf("unknown id: %d", resp.StatusCode)
		}
		if resp, _ := post(idA, `{"mode":"down"}`, "Origin", "https://evil.example"); resp.StatusCode != 403 {
			t.Errorf("foreign origin: %d", resp.StatusCode)
		}
	})
}

func TestProbeBringsACooledDeploymentBack(t *testing.T) {
	up := openaitest.New(t, openaitest.Status(500, openaitest.ServerBody))
	gw := start(t, fmt.Sprintf(`model_list:
  - model_name: main
    litellm_params: {model: openai/gpt-4o, api_base: %q}
router_settings: {num_retries: 0, allowed_fails: 0, cooldown_time: 10}
`, up.URL))
	root := strings.TrimSuffix(gw.url, "/v1")
	state := func() string {
		var h server.Health
		getJSON(t, root+"/api/v1/deployments", &h)
		return h.Deployments[0].State
	}
	gw.client.Chat.Completions.New(context.Background(), params("main")) // fails: cools for 10 s
	if s := state(); s != "cooling" {
		t.Fatalf("state = %s, want cooling", s)
	}
	gw.clock.Advance(10 * time.Second)
	if s := state(); s != "probing" {
		t.Fatalf("state = %s, want probing once the cooldown ends", s)
	}
	// The probe is a real one-token chat, and it fails: it cools again,
	// for twice as long. (It used to be GET /models, which a deployment
	// whose chat always fails still answers, and was put back each time.)
	up.SetReplies(openaitest.Status(503, openaitest.OverloadBody))
	calls := up.Count()
	gw.gw.ProbeDeployments(context.Background())
	if s := state(); s != "cooling" {
		t.Fatalf("after a failed probe: state = %s, want cooling", s)
	}
	probe := up.Requests()[calls]
	if probe.Path != "/v1/chat/completions" || probe.Body["max_tokens"] != float64(1) {
		t.Errorf("probe = %s %s, want a chat completion with max_tokens 1", probe.Path, probe.Raw)
	}
	gw.clock.Advance(10 * time.Second)
	if s := state(); s != "cooling" {
		t.Fatalf("10 s after a failed probe: state = %s, want still cooling (the cooldown doubled)", s)
	}
	gw.clock.Advance(10 * time.Second)
	up.SetReplies(openaitest.Reply{Text: "recovered"})
	calls = up.Count()
	gw.gw.ProbeDeployments(context.Background())
	if s := state(); s != "healthy" || up.Count() != calls+1 {
		t.Fatalf("after a good probe: state = %s (%d requests), want healthy after one", s, up.Count()-calls)
	}
	// The probe passed, but the deployment's history stands until a real
	// request answers: a real failure now cools it at once, for 40 s.
	up.SetReplies(openaitest.Status(500, openaitest.ServerBody))
	gw.client.Chat.Completions.New(context.Background(), params("main"))
	var h server.Health
	getJSON(t, root+"/api/v1/deployments", &h)
	if d := h.Deployments[0]; d.State != "cooling" || d.CoolingUntil == nil || d.CoolingUntil.Sub(gw.clock.Now()) != 40*time.Second {
		t.Fatalf("a real failure after a passed probe: %+v, want cooling for 40 s", d)
	}
	gw.clock.Advance(40 * time.Second)
	up.SetReplies(openaitest.Reply{Text: "recovered"})
	gw.gw.ProbeDeployments(context.Background())
	if text, _ := chatWithHeaders(t, gw, false); text != "recovered" {
		t.Errorf("answer %q", text)
	}
}

func TestKeysAPI(t *testing.T) {
	up := openaitest.New(t)
	gw := start(t, "model_list:\n"+deployment(up, "main", "gpt-4o"))
	root := strings.TrimSuffix(gw.url, "/v1")
	const newKey = "fake-replacement-key-9c1e"
	do := func(method, path, body string) (int, string) {
		req, _ := http.NewRequest(method, root+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	code, body := do("GET", "/api/v1/keys", "")
	if code != 200 || !strings.Contains(body, `"name":"openai","keychain":"set"`) || strings.Contains(body, upstreamKey) {
		t.Fatalf("list: %d %s", code, body)
	}
	code, body = do("PUT", "/api/v1/keys/openai", `{"value":"`+newKey+`"}`)
	if code != 200 || strings.Contains(body, newKey) {
		t.Fatalf("set: %d %s (the value must never come back)", code, body)
	}
	ask(t, gw, params("main"), false)
	if got := up.Requests()[len(up.Requests())-1].Header.Get("Authorization"); got != "Bearer "+newKey {
		t.Errorf("the next request used %q, want the new key at once", got)
	}
	code, body = do("POST", "/api/v1/keys/openai/test", "")
	if code != 200 || !strings.Contains(body, `"ok":true`) {
		t.Errorf("test: %d %s", code, body)
	}
	if code, _ = do("DELETE", "/api/v1/keys/openai", ""); code != 200 {
		t.Errorf("delete: %d", code)
	}
	if code, _ = do("DELETE", "/api/v1/keys/openai", ""); code != 404 {
		t.Errorf("delete twice: %d, want 404", code)
	}
	if code, _ = do("PUT", "/api/v1/keys/..%2Fetc", `{"value":"x"}`); code != 400 && code != 404 {
		t.Errorf("bad name: %d", code)
	}
}
