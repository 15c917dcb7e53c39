package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/detour-gateway/detour/app"
	"github.com/detour-gateway/detour/keystore"
)

// Keys of every shape Detour must keep to itself: with a known prefix
// (OpenAI, Anthropic, Gemini), and without one (Azure's 32 hex digits, a
// bare token of 24 letters and digits), which no pattern can recognise.
var leakKeys = map[string]string{
	"openai":    "sk-proj-FAKE-NOT-A-REAL-KEY-for-the-leak-test",
	"anthropic": "sk-ant-FAKE-NOT-A-REAL-KEY-for-the-leak-test-0000",
	"gemini":    "AIzaFAKE-NOT-A-REAL-KEY-leak-test-00",
	"azure":     "3f9c2a7be41d8065c7a9b3e2f1d04c86",
	"groq":      "Zq8wLmN3pR5tV7xY9aB1cD2e",
}

// leakyUpstream is a provider of the given wire format ("openai",
// "azure", "anthropic", "gemini") that echoes the key it was sent into
// every error, the way careless upstreams and proxies do. The upstream
// model name picks the behaviour: ok, echo401, echo400, echo500, garbage
// (an HTML error page), midstream (a stream that breaks after content).
func leakyUpstream(t *testing.T, wire string) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		key := r.Header.Get("X-Api-Key") + r.Header.Get("X-Goog-Api-Key") + r.Header.Get("Api-Key") +
			strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		model := modelOf(wire, r.URL.Path, body)
		stream := bytes.Contains(body, []byte(`"stream":true`)) || strings.Contains(r.URL.Path, "streamGenerateContent")
		if r.Method == http.MethodGet { // a key test's probe (GET /models)
			model = "echo401"
		}
		switch model {
		case "ok", "midstream":
			if stream {
				w.Header().Set("Content-Type", "text/event-stream")
				w.WriteHeader(http.StatusOK)
				io.WriteString(w, streamBody(wire, model == "midstream", key))
				return
			}
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, okBody(wire))
		case "garbage":
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadGateway)
			fmt.Fprintf(w, "<html><body><h1>502 Bad Gateway</h1><p>upstream rejected credential %s</p></body></html>", key)
		default:
			status := map[string]int{"echo401": 401, "echo400": 400, "echo500": 500}[model]
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			io.WriteString(w, errorBody(wire, status, "Incorrect API key provided: "+key+". You can find your API key in your account settings."))
		}
	}))
	t.Cleanup(s.Close)
	return s
}

// modelOf reads the upstream model name from a request of the wire format.
func modelOf(wire, path string, body []byte) string {
	switch wire {
	case "gemini": // /v1beta/models/{model}:generateContent
		m := path[strings.LastIndex(path, "/")+1:]
		m, _, _ = strings.Cut(m, ":")
		return m
	case "azure": // /openai/deployments/{model}/chat/completions
		rest := strings.TrimPrefix(path, "/openai/deployments/")
		m, _, _ := strings.Cut(rest, "/")
		return m
	}
	var req struct {
		Model string `json:"model"`
	}
	jsonUnmarshal(body, &req)
	return req.Model
}

func okBody(wire string) string {
	switch wire {
	case "anthropic":
		return `{"id":"msg_01","type":"message","role":"assistant","model":"ok","content":[{"type":"text","text":"fine"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":5,"output_tokens":1}}`
	case "gemini":
		return `{"candidates":[{"content":{"role":"model","parts":[{"text":"fine"}]},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":5,"candidatesTokenCount":1,"totalTokenCount":6},"modelVersion":"ok"}`
	}
	return `{"id":"chatcmpl-1","object":"chat.completion","created":1764547200,"model":"ok","choices":[{"index":0,"message":{"role":"assistant","content":"fine"},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":1,"total_tokens":6}}`
}

// streamBody is a whole stream; broken, it ends with the wire format's
// error event carrying the key after the first content.
func streamBody(wire string, broken bool, key string) string {
	msg := "stream aborted for credential " + key
	switch wire {
	case "anthropic":
		s := "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_01\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"ok\",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":5,\"output_tokens\":1}}}\n\n" +
			"event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n" +
			"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"fine\"}}\n\n"
		if broken {
			return s + "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"api_error\",\"message\":\"" + msg + "\"}}\n\n"
		}
		return s + "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n" +
			"event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":1}}\n\n" +
			"event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"
	case "gemini":
		s := "data: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"fine\"}]},\"index\":0}],\"modelVersion\":\"ok\"}\r\n\r\n"
		if broken {
			return s + "data: {\"error\":{\"code\":500,\"message\":\"" + msg + "\",\"status\":\"INTERNAL\"}}\r\n\r\n"
		}
		return s + "data: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"\"}]},\"finishReason\":\"STOP\",\"index\":0}],\"usageMetadata\":{\"promptTokenCount\":5,\"candidatesTokenCount\":1,\"totalTokenCount\":6},\"modelVersion\":\"ok\"}\r\n\r\n"
	}
	s := "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1764547200,\"model\":\"ok\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"fine\"},\"finish_reason\":null}]}\n\n"
	if broken {
		return s + "data: {\"error\":{\"message\":\"" + msg + "\",\"type\":\"server_error\",\"param\":null,\"code\":null}}\n\n"
	}
	return s + "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1764547200,\"model\":\"ok\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n" +
		"data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1764547200,\"model\":\"ok\",\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":1,\"total_tokens\":6}}\n\n" +
		"data: [DONE]\n\n"
}

func errorBody(wire string, status int, msg string) string {
	switch wire {
	case "anthropic":
		typ := map[int]string{400: "invalid_request_error", 401: "authentication_error", 500: "api_error"}[status]
		return fmt.Sprintf(`{"type":"error","error":{"type":%q,"message":%q},"request_id":"req_011"}`, typ, msg)
	case "gemini":
		st := map[int]string{400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 500: "INTERNAL"}[status]
		return fmt.Sprintf(`{"error":{"code":%d,"message":%q,"status":%q}}`, status, msg, st)
	}
	return fmt.Sprintf(`{"error":{"message":%q,"type":"invalid_request_error","param":null,"code":"invalid_api_key"}}`, msg)
}

// TestSecretsNeverLeave drives a gateway with a key of each shape through
// answers, upstream errors that echo the key (401, 400, 500, an HTML page,
// a stream broken after content), the cache, the ledger, the request log
// (prompts kept) and the key test, then searches every byte Detour
// answered, logged or wrote to disk for the keys.
func TestSecretsNeverLeave(t *testing.T) {
	dir := t.TempDir()
	ups := map[string]*httptest.Server{}
	for _, wire := range []string{"openai", "azure", "anthropic", "gemini"} {
		ups[wire] = leakyUpstream(t, wire)
	}
	behaviours := []string{"ok", "echo401", "echo400", "echo500", "garbage", "midstream"}
	providers := []struct{ name, wire string }{
		{"openai", "openai"}, {"azure", "azure"}, {"anthropic", "anthropic"}, {"gemini", "gemini"}, {"groq", "openai"},
	}
	var yaml strings.Builder
	yaml.WriteString("model_list:\n")
	var groups []string
	for _, p := range providers {
		for _, b := range behaviours {
			g := p.name + "-" + b
			groups = append(groups, g)
			fmt.Fprintf(&yaml, "  - model_name: %s\n    litellm_params: {model: %s/%s, api_base: %q, api_key: keychain/leak-%s}\n",
				g, p.name, b, ups[p.wire].URL, p.name)
			if p.name == "azure" {
				yaml.WriteString("    model_info: {input_cost_per_token: 0.000001, output_cost_per_token: 0.000002}\n")
			}
		}
	}
	fmt.Fprintf(&yaml, "router_settings: {num_retries: 0}\ndetour:\n  spend_path: %q\n  cache: {path: %q}\n  request_log: {path: %q, prompts: true}\n  budgets: {daily_usd: 100}\n",
		filepath.Join(dir, "spend.db"), filepath.Join(dir, "cache.db"), filepath.Join(dir, "requests.db"))

	keys := keystore.NewMemory()
	for name, v := range leakKeys {
		if err := keys.Set(context.Background(), "leak-"+name, v); err != nil {
			t.Fatal(err)
		}
	}
	logs := &syncBuffer{}
	s := serve(t, yaml.String(), app.Options{Keys: keys, Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}, true)
	root := strings.TrimSuffix(s.url, "/v1")

	var answered bytes.Buffer // every answer, status line, headers and body
	do := func(method, path, body string) int {
		t.Helper()
		req, _ := http.NewRequest(method, root+path, strings.NewReader(body))
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer resp.Body.Close()
		dump, err := httputil.DumpResponse(resp, true)
		if err != nil {
			t.Fatalf("%s %s: read the answer: %v", method, path, err)
		}
		answered.Write(dump)
		return resp.StatusCode
	}
	for _, g := range groups {
		for _, stream := range []bool{false, true} {
			for range 2 { // the second of a good answer comes from the cache
				do("POST", "/v1/chat/completions", fmt.Sprintf(`{"model":%q,"stream":%t,"temperature":0,"messages":[{"role":"user","content":"hello"}]}`, g, stream))
			}
		}
	}
	if status := do("POST", "/v1/chat/completions", `{"model":"openai-ok","messages":[{"role":"user","content":"hello"}]}`); status != http.StatusOK {
		t.Fatalf("a good request answered %d", status)
	}
	for name := range leakKeys {
		do("POST", "/api/v1/keys/leak-"+name+"/test", "{}")
	}
	for _, path := range []string{"/api/v1/requests?limit=1000", "/api/v1/deployments", "/api/v1/keys", "/api/v1/local-keys", "/api/v1/stats",
		"/api/v1/spend", "/api/v1/settings", "/api/v1/config", "/api/v1/cache", "/api/v1/app", "/health", "/v1/models"} {
		do("GET", path, "")
	}
	var recent struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	resp, err := http.Get(root + "/api/v1/requests?limit=1000")
	if err != nil {
		t.Fatal(err)
	}
	jsonDecode(t, resp, &recent)
	if len(recent.Data) < len(groups) {
		t.Fatalf("the request log holds %d requests, want at least %d", len(recent.Data), len(groups))
	}
	for _, r := range recent.Data {
		do("GET", "/api/v1/requests/"+r.ID, "")
	}
	if err := s.stop(); err != nil { // flush and close every file
		t.Fatal(err)
	}

	sources := map[string][]byte{"the answers": answered.Bytes(), "the log": []byte(logs.String())}
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, rerr := os.ReadFile(path)
			if rerr != nil {
				t.Errorf("read %s: %v", path, rerr)
			}
			sources[path] = b
		}
		return nil
	})
	if len(sources) < 5 {
		t.Fatalf("searched only %d sources; the cache, ledger and request log files are missing", len(sources))
	}
	// The search must be able to fail: the upstreams did echo the keys.
	if !strings.Contains(logs.String(), "[redacted]") || !bytes.Contains(answered.Bytes(), []byte("[redacted]")) {
		t.Error("no [redacted] in the log or the answers: the upstreams' echoes never reached Detour, so this test proves nothing")
	}
	for where, b := range sources {
		for name, key := range leakKeys {
			if i := bytes.Index(b, []byte(key)); i >= 0 {
				t.Errorf("the %s key is in %s: …%s…", name, where, b[max(0, i-80):min(len(b), i+len(key)+20)])
			}
		}
	}
	t.Logf("searched %d bytes of answers, %d of logs and %d files", answered.Len(), len(logs.String()), len(sources)-2)
}

func jsonUnmarshal(b []byte, v any) { _ = json.Unmarshal(b, v) }

func jsonDecode(t *testing.T, resp *http.Response, v any) {
	t.Helper()
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("decode %s: %v", resp.Request.URL.Path, err)
	}
}
