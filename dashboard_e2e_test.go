package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/detour-gateway/detour/frontend"
	"github.com/detour-gateway/detour/keystore"
	"github.com/detour-gateway/detour/router/provider/openai/openaitest"
)

// TestDashboardInBrowser drives the dashboard of a real `detour serve`
// in Chromium (frontend/e2e, Playwright): after real requests through
// fake providers (a failover, a cache hit) the page's numbers equal the
// API's, a key set on the Keys page lands in the keystore and is never
// shown again, and screenshots are saved under frontend/test-results.
// It needs the built dashboard, Node and /usr/bin/chromium, so it runs
// when DETOUR_E2E=1 (make test sets it after building them).
func TestDashboardInBrowser(t *testing.T) {
	if os.Getenv("DETOUR_E2E") == "" {
		t.Skip("the browser test runs with DETOUR_E2E=1 (make test does, after building the dashboard)")
	}
	if !frontend.Built() {
		t.Fatal("the dashboard is not built into this test binary: run make frontend first")
	}
	bad := openaitest.New(t, openaitest.Reply{Status: http.StatusServiceUnavailable,
		Body: `{"error":{"message":"The server is overloaded.","type":"server_error","param":null,"code":null}}`})
	good := openaitest.New(t, openaitest.Reply{Text: "Answered by the backup."})
	dir := t.TempDir()
	cfg := writeConfig(t, fmt.Sprintf(`model_list:
  - model_name: main
    litellm_params: {model: openai/gpt-4o, api_base: %s, api_key: keychain/main-key}
    model_info: {input_cost_per_token: 0.0000025, output_cost_per_token: 0.00001}
  - model_name: backup
    litellm_params: {model: openai/gpt-4o-mini, api_base: %s, api_key: keychain/backup-key}
    model_info: {input_cost_per_token: 0.00000015, output_cost_per_token: 0.0000006}
  - model_name: spare
    litellm_params: {model: openai/gpt-4.1, api_base: %[2]s, api_key: keychain/e2e-spare}
  - model_name: demo
    litellm_params: {model: mock/demo, mock_response: "Hello from the mock."}
router_settings: {num_retries: 0, fallbacks: [{main: [backup]}]}
detour:
  cache: {path: %[3]s/cache.db}
  spend_path: %[3]s/spend.db
  responses_path: %[3]s/responses.db
  request_log: {path: %[3]s/requests.db}
  offline: {enabled: false}
  budgets: {daily_usd: 5, monthly_usd: 50}
`, bad.URL, good.URL, dir))

	keys := keystore.NewMemory()
	for _, name := range []string{"main-key", "backup-key"} {
		keys.Set(context.Background(), name, "sk-upstream-"+name)
	}
	var errOut syncBuffer
	c := &cli{stdin: strings.NewReader(""), stdout: io.Discard, stderr: &errOut, keys: keys, getenv: func(string) string { return "" }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() { done <- c.run(ctx, []string{"serve", "--config", cfg, "--addr", "127.0.0.1:0"}) }()
	defer func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("serve exited %d:\n%s", code, errOut.String())
		}
	}()
	base := waitForURL(t, &errOut)
	root := strings.TrimSuffix(base, "/v1")

	// Real requests with the official SDK: a failover (main's only
	// deployment is overloaded), then the same request again, a cache hit.
	// Temperature 0 asks for the same answer each time, which the cache's
	// default (deterministic) mode keeps.
	client := openai.NewClient(option.WithBaseURL(base), option.WithAPIKey("unused"), option.WithMaxRetries(0))
	params := openai.ChatCompletionNewParams{Model: "main", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hello")},
		Temperature: openai.Float(0)}
	for i, want := range []string{"MISS", "HIT"} {
		var resp *http.Response
		if _, err := client.Chat.Completions.New(ctx, params, option.WithResponseInto(&resp)); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		if got := resp.Header.Get("X-Detour-Cache"); got != want {
			t.Fatalf("request %d: x-detour-cache %q, want %q", i, got, want)
		}
		// The cache writes in batches: wait until the answer is stored, so
		// the same request finds it.
		for deadline := time.Now().Add(5 * time.Second); i == 0 && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			var c struct {
				Entries int `json:"entries"`
			}
			if getJSONTo(t, root+"/api/v1/cache", &c); c.Entries == 1 {
				break
			}
		}
	}
	var st struct {
		Failovers24h int `json:"failovers_24h"`
		Cache        struct {
			Hits int `json:"hits"`
		} `json:"cache"`
	}
	getJSONTo(t, root+"/api/v1/stats", &st)
	if st.Failovers24h != 1 || st.Cache.Hits != 1 {
		t.Fatalf("before the browser: stats %+v, want 1 failover and 1 cache hit", st)
	}

	const keyValue = "sk-e2e-7d1f0c5b2a9e4d3c8b6a5f4e3d2c1b0a"
	out, _ := filepath.Abs(filepath.Join("frontend", "test-results"))
	cmd := exec.CommandContext(ctx, "npx", "vitest", "run", "--config", "vitest.e2e.config.ts")
	cmd.Dir = "frontend"
	cmd.Env = append(os.Environ(), "DETOUR_URL="+root, "DETOUR_E2E_KEY_NAME=e2e-spare", "DETOUR_E2E_KEY_VALUE="+keyValue,
		"DETOUR_E2E_OUT="+out, "DETOUR_E2E_MOCK_MODEL=demo")
	b, err := cmd.CombinedOutput()
	t.Logf("playwright:\n%s", b)
	if err != nil {
		t.Fatalf("the browser test failed: %v", err)
	}

	// The key set on the page is in the keystore, and nowhere in the API.
	if got, err := keys.Get(context.Background(), "e2e-spare"); err != nil || got != keyValue {
		t.Errorf("keystore[e2e-spare] = %q, %v; want the value typed on the Keys page", got, err)
	}
	for _, path := range []string{"/api/v1/keys", "/api/v1/settings", "/api/v1/deployments", "/api/v1/requests", "/api/v1/stats", "/api/v1/config", "/api/v1/app", "/api/v1/spend", "/ui/"} {
		if body := get(t, root+path); strings.Contains(body, keyValue) || strings.Contains(body, "sk-upstream") {
			t.Errorf("GET %s shows a key's value", path)
		}
	}
	if strings.Contains(errOut.String(), keyValue) {
		t.Errorf("the log shows the key's value")
	}
	// The Settings page saved into the config file, through its validation.
	if b, err := os.ReadFile(cfg); err != nil || !strings.Contains(string(b), "daily_usd: 7.5") || strings.Contains(string(b), "no-such-group") {
		t.Errorf("the config file after the Settings page (%v):\n%s", err, b)
	}
	shots, _ := filepath.Glob(filepath.Join(out, "*.png"))
	if len(shots) == 0 {
		t.Errorf("no screenshot saved under %s", out)
	}
}

func waitForURL(t *testing.T, log *syncBuffer) string {
	t.Helper()
	url := regexp.MustCompile(`url=(http://127\.0\.0\.1:\d+/v1)`)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if m := url.FindStringSubmatch(log.String()); m != nil {
			return m[1]
		}
	}
	t.Fatalf("serve never said where it listens:\n%s", log.String())
	return ""
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func getJSONTo(t *testing.T, url string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(get(t, url)), v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}
