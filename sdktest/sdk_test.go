// Package sdktest drives a running Detour with the official clients that
// nobody here wrote: the @anthropic-ai/sdk, openai and AI SDK npm packages,
// unchanged, through Node's test runner.
package sdktest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/detour-gateway/detour/app"
	"github.com/detour-gateway/detour/config"
	"github.com/detour-gateway/detour/keystore"
	"github.com/detour-gateway/detour/router/provider/anthropic/anthropictest"
	"github.com/detour-gateway/detour/router/provider/openai/openaitest"
)

// TestOfficialClients starts Detour with fake Anthropic and OpenAI
// upstreams and runs the *.test.mjs files here against it. It needs Node
// and `npm ci` in this directory, so it runs when DETOUR_SDK=1 (make test
// sets it after installing them).
func TestOfficialClients(t *testing.T) {
	if os.Getenv("DETOUR_SDK") == "" {
		t.Skip("the SDK tests run with DETOUR_SDK=1 (make sdk-test sets it after npm ci in sdktest/)")
	}
	weather := `{"city":"Paris"}`
	claude := anthropictest.New(t)
	claudeTools := anthropictest.New(t,
		anthropictest.Reply{ToolCalls: []anthropictest.ToolCall{{Name: "get_weather", Args: weather}}},
		anthropictest.Reply{Text: "It is sunny in Paris."})
	claudeLimited := anthropictest.New(t, anthropictest.RateLimited("30"))
	gpt := openaitest.New(t)
	gptTools := openaitest.New(t,
		openaitest.Reply{ToolCalls: []openaitest.ToolCall{{Name: "get_weather", Arguments: weather}}},
		openaitest.Reply{Text: "It is sunny in Paris."})
	gptAITools := openaitest.New(t,
		openaitest.Reply{ToolCalls: []openaitest.ToolCall{{Name: "get_weather", Arguments: weather}}},
		openaitest.Reply{Text: "It is sunny in Paris."})
	claudeAITools := anthropictest.New(t,
		anthropictest.Reply{ToolCalls: []anthropictest.ToolCall{{Name: "get_weather", Args: weather}}},
		anthropictest.Reply{Text: "It is sunny in Paris."})
	claudeResponsesTools := anthropictest.New(t,
		anthropictest.Reply{ToolCalls: []anthropictest.ToolCall{{Name: "get_weather", Args: weather}}},
		anthropictest.Reply{Text: "It is sunny in Paris."})
	gptResponsesTools := openaitest.New(t,
		openaitest.Reply{ToolCalls: []openaitest.ToolCall{{Name: "get_weather", Arguments: weather}}},
		openaitest.Reply{Text: "It is sunny in Paris."})
	yaml := fmt.Sprintf(`model_list:
  - model_name: claude
    litellm_params: {model: anthropic/claude-sonnet-4-5, api_base: %s}
  - model_name: claude-tools
    litellm_params: {model: anthropic/claude-sonnet-4-5, api_base: %s}
  - model_name: claude-limited
    litellm_params: {model: anthropic/claude-sonnet-4-5, api_base: %s}
  - model_name: claude-via-openai
    litellm_params: {model: openai/gpt-4.1, api_base: %s}
  - model_name: "claude-*"
    litellm_params: {model: anthropic/claude-sonnet-4-5, api_base: %[1]s}
  - model_name: claude-via-openai-tools
    litellm_params: {model: openai/gpt-4.1, api_base: %[5]s}
  - model_name: gpt
    litellm_params: {model: openai/gpt-4.1, api_base: %[4]s}
  - model_name: gpt-tools
    litellm_params: {model: openai/gpt-4.1, api_base: %[6]s}
  - model_name: gpt-ai-tools
    litellm_params: {model: openai/gpt-4.1, api_base: %[7]s}
  - model_name: gpt-via-anthropic
    litellm_params: {model: anthropic/claude-sonnet-4-5, api_base: %[1]s}
  - model_name: gpt-via-anthropic-tools
    litellm_params: {model: anthropic/claude-sonnet-4-5, api_base: %[8]s}
  - model_name: gpt-via-anthropic-ai-tools
    litellm_params: {model: anthropic/claude-sonnet-4-5, api_base: %[9]s}
router_settings: {num_retries: 0}
`, claude.URL, claudeTools.URL, claudeLimited.URL, gpt.URL, gptTools.URL, gptResponsesTools.URL, gptAITools.URL, claudeResponsesTools.URL, claudeAITools.URL)
	url := startGateway(t, yaml)

	cmd := exec.Command("node", "--test", "--test-concurrency=1", "--test-reporter=spec")
	cmd.Dir = "."
	cmd.Env = append(os.Environ(), "DETOUR_URL="+url)
	out, err := cmd.CombinedOutput()
	t.Logf("node --test:\n%s", out)
	if err != nil {
		t.Fatalf("the SDK tests failed: %v", err)
	}
	// Each client reached the API it is meant to speak (the AI SDK's
	// default provider speaks Responses, not Chat Completions).
	resp, err := http.Get(url + "/api/v1/requests?limit=1000")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var log struct {
		Data []struct {
			API string `json:"api"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&log); err != nil {
		t.Fatal(err)
	}
	apis := map[string]int{}
	for _, r := range log.Data {
		apis[r.API]++
	}
	if apis["messages"] < 10 || apis["responses"] < 16 || apis["chat"] != 0 {
		t.Errorf("requests by API: %v; want every one on messages or responses", apis)
	}
	t.Logf("requests by API: %v", apis)
}

// startGateway runs a gateway for yaml on 127.0.0.1:0 until the test ends
// and returns its root URL. Every provider's key is a test key; the cache
// and the offline tier are off.
func startGateway(t *testing.T, yaml string) string {
	t.Helper()
	cfg, _, err := config.Parse([]byte(yaml))
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	dir := t.TempDir()
	cfg.Detour.Cache.Enabled = false
	cfg.Detour.Offline.Enabled = false
	cfg.Detour.RequestLog.Path = filepath.Join(dir, "requests.db")
	cfg.Detour.SpendPath = filepath.Join(dir, "spend.db")
	cfg.Detour.ResponsesPath = filepath.Join(dir, "responses.db")
	keys := keystore.NewMemory()
	for _, name := range []string{"openai", "anthropic"} {
		keys.Set(context.Background(), name, "sk-test-"+name)
	}
	gw, err := app.New(cfg, app.Options{Keys: keys, Getenv: func(string) string { return "" },
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- gw.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("the gateway did not stop")
		}
		gw.Close()
	})
	return "http://" + ln.Addr().String()
}
