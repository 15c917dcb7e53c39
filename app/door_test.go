package app_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/detour-gateway/detour/app"
	"github.com/detour-gateway/detour/keystore"
	"github.com/detour-gateway/detour/localauth"
)

// TestLocalAuthWithTheSDK turns local auth on and drives the gateway with
// the official OpenAI SDK: a key from the keychain, $DETOUR_API_KEY and a
// LiteLLM master_key from the environment each get in; no key or a wrong
// one gets the SDK's typed 401.
func TestLocalAuthWithTheSDK(t *testing.T) {
	keys := keystore.NewMemory()
	made, err := localauth.Keys{Store: keys}.Add(context.Background(), "laptop")
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"DETOUR_API_KEY": "env-local-key-0001", "LITELLM_MASTER_KEY": "sk-master-from-env"}
	yaml := "model_list:\n  - model_name: demo\n    litellm_params: {model: mock/demo, mock_response: hi}\n" +
		"general_settings: {master_key: os.environ/LITELLM_MASTER_KEY}\n"
	s := serve(t, yaml, app.Options{Keys: keys, Getenv: func(k string) string { return env[k] }}, false)
	tests := []struct {
		name, key string
		ok        bool
	}{
		{"keychain key", made, true},
		{"environment key", "env-local-key-0001", true},
		{"master key", "sk-master-from-env", true},
		{"wrong key", "dtr-not-a-key", false},
		{"no key", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := []option.RequestOption{option.WithBaseURL(s.url), option.WithMaxRetries(0)}
			if tt.key != "" {
				opts = append(opts, option.WithAPIKey(tt.key))
			} else {
				opts = append(opts, option.WithHeaderDel("Authorization"))
			}
			c := openai.NewClient(opts...)
			_, err := c.Chat.Completions.New(context.Background(), params("demo"))
			if tt.ok {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var apiErr *openai.Error
			if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusUnauthorized || apiErr.Code != "invalid_api_key" {
				t.Fatalf("got %v, want the SDK's 401 invalid_api_key", err)
			}
		})
	}
	// The Anthropic SDKs' header works too.
	req, _ := http.NewRequest("POST", s.url+"/chat/completions", strings.NewReader(`{"model":"demo","messages":[{"role":"user","content":"x"}]}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("x-api-key", made)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("x-api-key: %d", resp.StatusCode)
	}
}

// TestLocalKeysAPI makes, lists and removes a local key through the
// dashboard's API; the key is shown once and removing it locks it out.
func TestLocalKeysAPI(t *testing.T) {
	s := serve(t, "model_list:\n  - model_name: demo\n    litellm_params: {model: mock/demo}\ndetour: {server: {auth: true}}\n",
		app.Options{Keys: keystore.NewMemory()}, false)
	root := strings.TrimSuffix(s.url, "/v1")
	call := func(method, path, body, key string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, root+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := call("POST", "/v1/chat/completions", `{"model":"demo","messages":[{"role":"user","content":"x"}]}`, "dtr-x"); code != 401 || !strings.Contains(body, "no local key exists yet") {
		t.Fatalf("before any key: %d %s", code, body)
	}
	code, body := call("POST", "/api/v1/local-keys", `{"name":"laptop"}`, "")
	if code != 200 {
		t.Fatalf("add: %d %s", code, body)
	}
	var made struct{ Name, Key, Source string }
	jsonUnmarshal([]byte(body), &made)
	if made.Name != "laptop" || !strings.HasPrefix(made.Key, "dtr-") || made.Source != "keychain" {
		t.Fatalf("add answered %s", body)
	}
	if code, body := call("POST", "/api/v1/local-keys", `{"name":"laptop"}`, ""); code != 409 {
		t.Errorf("adding a taken name: %d %s", code, body)
	}
	if code, body := call("GET", "/api/v1/local-keys", "", ""); code != 200 || !strings.Contains(body, `"auth":true`) || !strings.Contains(body, `"laptop"`) || strings.Contains(body, made.Key) {
		t.Errorf("list: %d %s", code, body)
	}
	if code, body := call("POST", "/v1/chat/completions", `{"model":"demo","messages":[{"role":"user","content":"x"}]}`, made.Key); code != 200 {
		t.Errorf("with the new key: %d %s", code, body)
	}
	if code, body := call("DELETE", "/api/v1/local-keys/laptop", "", ""); code != 200 {
		t.Fatalf("remove: %d %s", code, body)
	}
	if code, _ := call("POST", "/v1/chat/completions", `{"model":"demo","messages":[{"role":"user","content":"x"}]}`, made.Key); code != 401 {
		t.Errorf("a removed key still works: %d", code)
	}
	if code, _ := call("DELETE", "/api/v1/local-keys/laptop", "", ""); code != 404 {
		t.Errorf("removing twice: %d", code)
	}
}

// TestDeletedConfigReported deletes the config file under a running
// gateway: it keeps serving the last good config and says so, until the
// file is back.
func TestDeletedConfigReported(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	os.WriteFile(path, []byte(mockConfig("v1")), 0o600)
	gw := watched(t, path)
	root := strings.TrimSuffix(gw.url, "/v1")
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	var health struct{ Status, Reason string }
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if getJSON(t, root+"/health", &health); health.Status != "ok" {
			break
		}
	}
	if health.Status != "degraded" || !strings.Contains(health.Reason, "deleted") {
		t.Fatalf("/health after the delete = %+v", health)
	}
	var stats struct {
		Status       string `json:"status"`
		StatusReason string `json:"status_reason"`
	}
	getJSON(t, root+"/api/v1/stats", &stats)
	if stats.Status != "degraded" || !strings.Contains(stats.StatusReason, "deleted") {
		t.Errorf("the dashboard's status = %+v", stats)
	}
	if a := ask(t, gw, params("m"), false); a.text != "v1" {
		t.Errorf("answer %q, want v1 from the last good config", a.text)
	}
	if !strings.Contains(gw.logs.String(), "config file was deleted") {
		t.Errorf("no log line:\n%s", gw.logs.String())
	}
	rewrite(t, gw, path, mockConfig("v1"))
	if getJSON(t, root+"/health", &health); health.Status != "ok" {
		t.Errorf("/health after the file came back = %+v", health)
	}
}

// TestDoorOfTheRealGateway sends an attacker's probes to a running
// gateway: none reaches the upstream.
func TestDoorOfTheRealGateway(t *testing.T) {
	logs := &syncBuffer{}
	s := serve(t, "model_list:\n  - model_name: demo\n    litellm_params: {model: mock/demo}\n",
		app.Options{Logger: slog.New(slog.NewTextHandler(logs, nil))}, false)
	probes := []struct {
		name   string
		header map[string]string
		status int
	}{
		{"rebinding host", map[string]string{"Host": "evil.example.com", "Content-Type": "application/json"}, 403},
		{"foreign page", map[string]string{"Origin": "https://evil.example.com", "Content-Type": "application/json"}, 403},
		{"cross-site form", map[string]string{"Content-Type": "text/plain"}, 415},
	}
	for _, p := range probes {
		t.Run(p.name, func(t *testing.T) {
			req, _ := http.NewRequest("POST", s.url+"/chat/completions", strings.NewReader(`{"model":"demo","messages":[{"role":"user","content":"x"}]}`))
			for k, v := range p.header {
				req.Header.Set(k, v)
			}
			if h := p.header["Host"]; h != "" {
				req.Host = h
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != p.status || resp.Header.Get("X-Detour-Deployment") != "" {
				t.Errorf("%d (deployment %q), want %d and no upstream call", resp.StatusCode, resp.Header.Get("X-Detour-Deployment"), p.status)
			}
		})
	}
	if !strings.Contains(logs.String(), `host=evil.example.com`) {
		t.Errorf("the refused host is not logged:\n%s", logs.String())
	}
}
