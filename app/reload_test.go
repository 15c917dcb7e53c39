package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/detour-gateway/detour/router/provider/openai/openaitest"
	"github.com/detour-gateway/detour/server"
)

// watched starts a gateway for the config file at path and watches it.
func watched(t *testing.T, path string) *gateway {
	t.Helper()
	yaml, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	gw := start(t, string(yaml))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	ready := make(chan struct{})
	go func() { done <- gw.gw.WatchConfig(ctx, path, func() { close(ready) }) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("WatchConfig: %v", err)
		}
	})
	<-ready
	return gw
}

// rewrite replaces the file at path by a rename, as editors save, and
// waits (bounded) until the gateway has taken it in, well or badly.
func rewrite(t *testing.T, gw *gateway, path, content string) server.ConfigState {
	t.Helper()
	before := gw.gw.ConfigState()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
		if st := gw.gw.ConfigState(); !st.LoadedAt.Equal(before.LoadedAt) || st.Error != before.Error {
			return st
		}
	}
	t.Fatal("the gateway did not take in the new file")
	return server.ConfigState{}
}

func mockConfig(version string) string {
	return fmt.Sprintf("model_list:\n  - model_name: m\n    litellm_params: {model: mock/m, mock_response: %q}\n", version)
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("GET %s: %v: %s", url, err, b)
	}
}

func TestReloadKeepsTheLastGoodConfig(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	os.WriteFile(path, []byte(mockConfig("v1")), 0o600)
	gw := watched(t, path)
	root := strings.TrimSuffix(gw.url, "/v1")

	st := rewrite(t, gw, path, mockConfig("v1")+"router_settings:\n  num_retries: lots\n")
	if st.Error == nil || len(st.Error.Problems) != 1 || st.Error.Problems[0].Line != 5 || st.Error.Problems[0].Key != "router_settings.num_retries" {
		t.Fatalf("state = %+v, want one problem at line 5", st.Error)
	}
	var health struct{ Status, Reason string }
	getJSON(t, root+"/health", &health)
	if health.Status != "degraded" || !strings.Contains(health.Reason, path+":5: router_settings.num_retries") {
		t.Errorf("/health = %+v", health)
	}
	var api server.ConfigState
	getJSON(t, root+"/api/v1/config", &api)
	if api.Error == nil || api.Path != path || api.Error.Problems[0].Line != 5 {
		t.Errorf("/api/v1/config = %+v", api)
	}
	if a := ask(t, gw, params("m"), false); a.text != "v1" {
		t.Errorf("answer %q, want v1 from the last good config", a.text)
	}
	if !strings.Contains(gw.logs.String(), "line=5") {
		t.Errorf("no log line naming line 5:\n%s", gw.logs.String())
	}

	st = rewrite(t, gw, path, mockConfig("v2"))
	getJSON(t, root+"/health", &health)
	if st.Error != nil || health.Status != "ok" {
		t.Errorf("after the fix: state %+v, health %+v", st.Error, health)
	}
	if a := ask(t, gw, params("m"), false); a.text != "v2" {
		t.Errorf("answer %q, want v2", a.text)
	}
}

func TestReloadKeepsCooldowns(t *testing.T) {
	broken := openaitest.New(t, openaitest.Status(500, openaitest.ServerBody))
	good := openaitest.New(t, openaitest.Reply{Text: "fine"})
	config := func(extra string) string {
		return fmt.Sprintf(`model_list:
  - model_name: m
    litellm_params: {model: openai/gpt-4o, api_base: %q, weight: 1000}
  - model_name: m
    litellm_params: {model: openai/gpt-4o-mini, api_base: %q, weight: 1}
%srouter_settings: {allowed_fails: 0, cooldown_time: 3600, num_retries: 1}
`, broken.URL, good.URL, extra)
	}
	entries := config("")
	path := filepath.Join(t.TempDir(), "config.yaml")
	os.WriteFile(path, []byte(entries), 0o600)
	gw := watched(t, path)
	ask(t, gw, params("m"), false) // the broken one fails once and cools for an hour
	if broken.Count() != 1 {
		t.Fatalf("broken deployment called %d times, want 1", broken.Count())
	}
	// A reload that adds a group and leaves both deployments as they were.
	if st := rewrite(t, gw, path, config("  - model_name: extra\n    litellm_params: {model: mock/x}\n")); st.Error != nil {
		t.Fatalf("reload: %+v", st.Error)
	}
	for range 3 {
		if a := ask(t, gw, params("m"), false); a.text != "fine" {
			t.Errorf("answer %q", a.text)
		}
	}
	if broken.Count() != 1 {
		t.Errorf("broken deployment called %d times after the reload: its cooldown was lost", broken.Count())
	}
}

// TestReloadUnderLoad reloads the config 50 times while clients send
// requests and streams: none fails, and every answer comes from a config
// that existed.
func TestReloadUnderLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	os.WriteFile(path, []byte(mockConfig("v0")), 0o600)
	gw := watched(t, path)
	const reloads = 50
	ctx, stop := context.WithCancel(context.Background())
	var (
		mu       sync.Mutex
		answers  = map[string]int{}
		failures []string
		wg       sync.WaitGroup
	)
	for i := range 4 {
		wg.Add(1)
		go func(stream bool) {
			defer wg.Done()
			for ctx.Err() == nil {
				text, err := askOnce(gw, stream)
				mu.Lock()
				if err != nil {
					failures = append(failures, err.Error())
				} else {
					answers[text]++
				}
				mu.Unlock()
			}
		}(i%2 == 1)
	}
	for v := 1; v <= reloads; v++ {
		if st := rewrite(t, gw, path, mockConfig(fmt.Sprintf("v%d", v))); st.Error != nil {
			t.Fatalf("reload %d: %+v", v, st.Error)
		}
	}
	stop()
	wg.Wait()
	if len(failures) > 0 {
		t.Errorf("%d requests failed, first: %s", len(failures), failures[0])
	}
	total := 0
	for text, n := range answers {
		var v int
		if _, err := fmt.Sscanf(text, "v%d", &v); err != nil || v < 0 || v > reloads {
			t.Errorf("%d answers %q came from no config that existed", n, text)
		}
		total += n
	}
	if total == 0 || len(answers) < 2 {
		t.Errorf("answers by version = %v: the load did not overlap the reloads", answers)
	}
}

// askOnce is ask without t, for client goroutines.
func askOnce(gw *gateway, stream bool) (string, error) {
	p := params("m")
	if !stream {
		c, err := gw.client.Chat.Completions.New(context.Background(), p, option.WithRequestTimeout(10*time.Second))
		if err != nil {
			return "", err
		}
		return c.Choices[0].Message.Content, nil
	}
	s := gw.client.Chat.Completions.NewStreaming(context.Background(), p, option.WithRequestTimeout(10*time.Second))
	var acc openai.ChatCompletionAccumulator
	for s.Next() {
		acc.AddChunk(s.Current())
	}
	if err := s.Err(); err != nil {
		return "", err
	}
	return acc.Choices[0].Message.Content, nil
}
