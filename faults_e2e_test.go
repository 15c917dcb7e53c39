package main

import (
	"bufio"
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

	"github.com/detour-gateway/detour/router/provider/ollama/ollamatest"
	"github.com/detour-gateway/detour/router/provider/openai/openaitest"
)

// TestBinaryOutageIsPerHost runs the real `detour serve` with two groups:
// "dead", whose two hosts refuse connections, and "live", whose host
// answers, with a fake Ollama as the local tier. The live group is never
// degraded; the dead one answers from Ollama within one round of refused
// connections, and at once after that; once its host is back, requests
// go to it again.
func TestBinaryOutageIsPerHost(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := filepath.Join(t.TempDir(), "detour")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	deadA, deadB := openaitest.ClosedAddr(t), openaitest.ClosedAddr(t)
	live := openaitest.New(t, openaitest.Reply{Text: "from the live host"})
	llama := ollamatest.New(t, ollamatest.Reply{Text: "from Ollama"})
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	os.WriteFile(cfg, fmt.Appendf(nil, `model_list:
  - model_name: dead
    litellm_params: {model: openai/gpt-4o, api_base: "http://%s/v1", api_key: os.environ/FAKE_UPSTREAM_KEY}
  - model_name: dead
    litellm_params: {model: openai/gpt-4o, api_base: "http://%s/v1", api_key: os.environ/FAKE_UPSTREAM_KEY}
  - model_name: live
    litellm_params: {model: openai/gpt-4o, api_base: %q, api_key: os.environ/FAKE_UPSTREAM_KEY}
router_settings: {num_retries: 2}
detour:
  spend_path: %[4]s/spend.db
  responses_path: %[4]s/responses.db
  cache: {path: %[4]s/cache.db}
  request_log: {path: %[4]s/requests.db}
  offline: {ollama_host: %[5]q, model: llama3.2, probe_interval: 0.05}
`, deadA, deadB, live.URL, dir, llama.URL), 0o600)
	cmd := exec.Command(bin, "serve", "--config", cfg, "--addr", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_CONFIG_HOME="+dir, "XDG_CACHE_HOME="+dir,
		"FAKE_UPSTREAM_KEY=sk-fake-upstream-key-for-tests")
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addrRE := regexp.MustCompile(`url=(http://127\.0\.0\.1:\d+/v1)`)
	lines := bufio.NewScanner(stderr)
	var base string
	for base == "" && lines.Scan() {
		if m := addrRE.FindStringSubmatch(lines.Text()); m != nil {
			base = m[1]
		}
	}
	if base == "" {
		t.Fatal("detour serve never said where it listens")
	}
	go io.Copy(io.Discard, stderr)

	ask := func(group string) (text string, h http.Header) {
		t.Helper()
		resp, err := http.Post(base+"/chat/completions", "application/json",
			strings.NewReader(`{"model":"`+group+`","messages":[{"role":"user","content":"hi"}]}`))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out struct {
			Choices []struct {
				Message struct{ Content string }
			}
		}
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 200 || len(out.Choices) != 1 {
			t.Fatalf("%s: status %d, %v", group, resp.StatusCode, err)
		}
		return out.Choices[0].Message.Content, resp.Header
	}

	if text, h := ask("dead"); text != "from Ollama" || h.Get("X-Detour-Attempts") != "3" {
		t.Fatalf("dead group: %q after %s attempts; want each refusing host once, then Ollama", text, h.Get("X-Detour-Attempts"))
	}
	for range 5 {
		if text, h := ask("live"); text != "from the live host" || h.Get("X-Detour-Degraded") != "" {
			t.Fatalf("live group: %q (degraded %q): a group whose host answers was degraded", text, h.Get("X-Detour-Degraded"))
		}
	}
	if text, h := ask("dead"); text != "from Ollama" || h.Get("X-Detour-Attempts") != "1" {
		t.Errorf("dead group again: %q after %s attempts; want Ollama at once", text, h.Get("X-Detour-Attempts"))
	}
	openaitest.NewAt(t, deadB, openaitest.Reply{Text: "from the host that came back"})
	text := ""
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if text, _ = ask("dead"); text != "from Ollama" {
			break
		}
	}
	if text != "from the host that came back" {
		t.Fatalf("after the host came back: %q", text)
	}
	for range 3 {
		if text, h := ask("dead"); text != "from the host that came back" || h.Get("X-Detour-Degraded") != "" {
			t.Fatalf("then: %q (degraded %q); want the host that came back", text, h.Get("X-Detour-Degraded"))
		}
	}
}
