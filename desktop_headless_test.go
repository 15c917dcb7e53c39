//go:build !desktop

package main

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/detour-gateway/detour/keystore"
)

// TestDesktopHeadless runs `detour` with no command in a build without
// the window: it says so, serves, and a second launch exits 0 at once.
func TestDesktopHeadless(t *testing.T) {
	cfg := writeConfig(t, "model_list:\n  - model_name: demo\n    litellm_params: {model: mock/demo}\n")
	env := map[string]string{"XDG_RUNTIME_DIR": t.TempDir()}
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	var errOut syncBuffer
	c := &cli{stdin: strings.NewReader(""), stdout: &syncBuffer{}, stderr: &errOut, keys: keystore.NewMemory(),
		getenv: func(k string) string { return env[k] }}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, 1)
	go func() { done <- c.run(ctx, []string{"--config", cfg, "--addr", "127.0.0.1:0"}) }()

	dash := regexp.MustCompile(`dashboard: (http://127\.0\.0\.1:\d+)/ui/`)
	var base string
	for deadline := time.Now().Add(10 * time.Second); base == "" && time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if m := dash.FindStringSubmatch(errOut.String()); m != nil {
			base = m[1]
		}
	}
	if base == "" {
		t.Fatalf("no dashboard URL printed:\n%s", errOut.String())
	}
	if !strings.Contains(errOut.String(), "this build has no window") {
		t.Errorf("stderr does not say the build has no window:\n%s", errOut.String())
	}
	resp, err := http.Get(base + "/health")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("/health: %d", resp.StatusCode)
	}

	for _, args := range [][]string{{}, {"--hidden"}, {"--config", "/nonexistent"}} {
		second := runCLI(t, keystore.NewMemory(), env, "", args...)
		if second.code != 0 || !strings.Contains(second.stderr, "already running") {
			t.Errorf("second launch %q: exit %d, stderr %q; want 0, already running", args, second.code, second.stderr)
		}
	}
	if r := runCLI(t, keystore.NewMemory(), env, "", "--nope"); r.code != 2 {
		t.Errorf("bad flag: exit %d, want 2", r.code)
	}

	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit %d:\n%s", code, errOut.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("did not stop")
	}
}
