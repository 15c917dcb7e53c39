package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/detour-gateway/detour/cache"
	"github.com/detour-gateway/detour/keystore"
)

// syncBuffer collects output written from several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type result struct {
	code           int
	stdout, stderr string
}

func runCLI(t *testing.T, keys keystore.Store, env map[string]string, stdin string, args ...string) result {
	t.Helper()
	var out, errOut syncBuffer
	c := &cli{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errOut, keys: keys,
		getenv: func(k string) string { return env[k] }}
	code := c.run(context.Background(), args)
	return result{code, out.String(), errOut.String()}
}

func writeConfig(t *testing.T, yaml string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

const fakeSecret = "fake-secret-value-42"

func TestCLI(t *testing.T) {
	good := writeConfig(t, "model_list:\n  - model_name: demo\n    litellm_params: {model: mock/demo}\n  - model_name: team\n    litellm_params: {model: gpt-4o, api_key: keychain/team-openai}\n")
	bad := writeConfig(t, "model_list:\n  - model_name: a\n    litellm_params:\n      model: gpt-4o\n      api_key: sk-literal-not-real-0000\n      weight: -1\n    colour: red\n")
	exposed := writeConfig(t, "model_list:\n  - model_name: demo\n    litellm_params: {model: mock/demo}\ndetour: {listen: 0.0.0.0:4000}\n")
	t.Setenv("DETOUR_CONFIG", good)
	tests := []struct {
		name      string
		stdin     string
		args      []string
		env       map[string]string
		preset    map[string]string
		code      int
		stdout    []string // substrings expected
		stderr    []string
		never     string // must appear in neither stream
		wantStore map[string]string
	}{
		{name: "version", args: []string{"version"}, stdout: []string{"detour dev"}},
		{name: "help", args: []string{"--help"}, stdout: []string{"detour serve [--config FILE]", "detour keys set NAME"}},
		{name: "unknown command", args: []string{"frobnicate"}, code: 2, stderr: []string{`unknown command "frobnicate"`}},
		{name: "serve bad flag", args: []string{"serve", "--nope"}, code: 2, stderr: []string{"flag provided but not defined: -nope", "Usage: detour serve"}},
		{name: "serve help", args: []string{"serve", "--help"}, stderr: []string{"Usage: detour serve", "-addr"}},
		{name: "keys no subcommand", args: []string{"keys"}, code: 2, stderr: []string{"set NAME, list or rm NAME"}},
		{name: "keys help", args: []string{"keys", "--help"}, stderr: []string{"keys set NAME | keys list | keys rm NAME"}},
		{name: "keys set", stdin: fakeSecret + "\n", args: []string{"keys", "set", "openai"}, stdout: []string{`stored key "openai"`},
			never: fakeSecret, wantStore: map[string]string{"openai": fakeSecret}},
		{name: "keys set empty", stdin: "\n", args: []string{"keys", "set", "openai"}, code: 1, stderr: []string{"no key given"}},
		{name: "keys set bad name", stdin: "x", args: []string{"keys", "set", "../etc"}, code: 2, stderr: []string{"invalid key name"}},
		{name: "keys set two names", args: []string{"keys", "set", "a", "b"}, code: 2, stderr: []string{"takes one NAME"}},
		{name: "keys list", args: []string{"keys", "list"}, preset: map[string]string{"openai": fakeSecret, "team-openai": fakeSecret},
			env: map[string]string{"GROQ_API_KEY": "x"}, never: fakeSecret,
			stdout: []string{"NAME", "openai", "team-openai", "$GROQ_API_KEY set", "$OPENAI_API_KEY not set"}},
		{name: "keys rm", args: []string{"keys", "rm", "openai"}, preset: map[string]string{"openai": fakeSecret},
			stdout: []string{`deleted key "openai"`}, wantStore: map[string]string{}},
		{name: "keys rm missing", args: []string{"keys", "rm", "openai"}, code: 1, stderr: []string{`no key named "openai"`}},
		{name: "config check ok", args: []string{"config", "check", good}, stdout: []string{"OK: 2 deployments in 2 model groups"}},
		{name: "config check default path", args: []string{"config", "check"}, stdout: []string{good + ": OK"}},
		{name: "config check errors", args: []string{"config", "check", bad}, code: 1, never: "sk-literal-not-real",
			stdout: []string{bad + ":5: error: model_list[0].litellm_params.api_key", bad + ":6: error: model_list[0].litellm_params.weight", bad + ":7: warning: model_list[0].colour"},
			stderr: []string{"has 2 error(s)"}},
		{name: "config check missing file", args: []string{"config", "check", "/nonexistent/detour.yaml"}, code: 1, stderr: []string{"/nonexistent/detour.yaml"}},
		{name: "config without check", args: []string{"config"}, code: 2, stderr: []string{"detour config check [FILE]"}},
		{name: "serve bad config", args: []string{"serve", "--config", bad}, code: 1, stderr: []string{"weight"}, never: "sk-literal-not-real"},
		{name: "serve on the network without auth", args: []string{"serve", "--config", good, "--addr", "0.0.0.0:0"}, code: 1,
			stderr: []string{"refusing to listen on 0.0.0.0:0", "detour.server.auth: true", "detour keys local add NAME"}},
		{name: "config listening on the network without auth", args: []string{"config", "check", exposed}, code: 1,
			stdout: []string{"detour.listen", "local auth is off"}},
		{name: "keys local add", args: []string{"keys", "local", "add", "laptop"}, stdout: []string{"dtr-"}, stderr: []string{`made local key "laptop"`, "shown only now"}},
		{name: "keys local add bad name", args: []string{"keys", "local", "add", "my laptop"}, code: 2, stderr: []string{"invalid local key name"}},
		{name: "keys local no subcommand", args: []string{"keys", "local"}, code: 2, stderr: []string{"add NAME, list or rm NAME"}},
		{name: "keys local list", args: []string{"keys", "local", "list"}, env: map[string]string{"DETOUR_API_KEY": "env-local-key"},
			preset: map[string]string{"detour-local-keys": `[{"name":"laptop","sha256":"` + strings.Repeat("ab", 32) + `","created":"2026-12-01T10:00:00Z"}]`},
			stdout: []string{"NAME", "laptop", "$DETOUR_API_KEY"}, never: "env-local-key"},
		{name: "keys local rm", args: []string{"keys", "local", "rm", "laptop"},
			preset: map[string]string{"detour-local-keys": `[{"name":"laptop","sha256":"` + strings.Repeat("ab", 32) + `","created":"2026-12-01T10:00:00Z"}]`},
			stdout: []string{`deleted local key "laptop"`}},
		{name: "keys local rm missing", args: []string{"keys", "local", "rm", "laptop"}, code: 1, stderr: []string{"no local key of that name"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keys := keystore.NewMemory()
			for k, v := range tt.preset {
				keys.Set(context.Background(), k, v)
			}
			r := runCLI(t, keys, tt.env, tt.stdin, tt.args...)
			if r.code != tt.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", r.code, tt.code, r.stdout, r.stderr)
			}
			for _, s := range tt.stdout {
				if !strings.Contains(r.stdout, s) {
					t.Errorf("stdout lacks %q:\n%s", s, r.stdout)
				}
			}
			for _, s := range tt.stderr {
				if !strings.Contains(r.stderr, s) {
					t.Errorf("stderr lacks %q:\n%s", s, r.stderr)
				}
			}
			if tt.never != "" && (strings.Contains(r.stdout, tt.never) || strings.Contains(r.stderr, tt.never)) {
				t.Errorf("output contains %q", tt.never)
			}
			for k, want := range tt.wantStore {
				if got, _ := keys.Get(context.Background(), k); got != want {
					t.Errorf("store[%s] = %q, want %q", k, got, want)
				}
			}
			if tt.wantStore != nil && len(tt.wantStore) == 0 {
				if _, err := keys.Get(context.Background(), "openai"); err == nil {
					t.Error("key still stored after rm")
				}
			}
		})
	}
}

func TestServeWritesDefaultConfigAndServesDemo(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("DETOUR_CONFIG", "")
	t.Setenv("XDG_CONFIG_HOME", dir)
	t.Setenv("HOME", dir)
	var out, errOut syncBuffer
	c := &cli{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut, keys: keystore.NewMemory(), getenv: func(string) string { return "" }}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, 1)
	go func() { done <- c.run(ctx, []string{"serve", "--addr", "127.0.0.1:0"}) }()

	url := regexp.MustCompile(`url=(http://127\.0\.0\.1:\d+/v1)`)
	var base string
	for deadline := time.Now().Add(10 * time.Second); base == "" && time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if m := url.FindStringSubmatch(errOut.String()); m != nil {
			base = m[1]
		}
	}
	if base == "" {
		t.Fatalf("serve never said where it listens:\n%s", errOut.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "detour", "config.yaml")); err != nil {
		t.Errorf("default config not written: %v", err)
	}
	resp, err := http.Post(base+"/chat/completions", "application/json",
		strings.NewReader(`{"model":"demo","messages":[{"role":"user","content":"hi"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), "Hello from Detour") {
		t.Errorf("demo group answered %d %s", resp.StatusCode, b)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("serve exited %d:\n%s", code, errOut.String())
	}
}

func TestCacheCommand(t *testing.T) {
	dir := t.TempDir()
	cachePath := filepath.Join(dir, "cache.db")
	cfg := writeConfig(t, "model_list:\n  - model_name: demo\n    litellm_params: {model: mock/demo}\ndetour:\n  cache: {path: "+cachePath+"}\n")
	t.Setenv("DETOUR_CONFIG", cfg)

	c, err := cache.Open(cachePath, cache.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c.Put([32]byte{1}, []byte(`{"x":1}`), 0, 0.5)
	if _, err := c.Get([32]byte{9}, 0, false); err == nil {
		t.Fatal("unexpected hit")
	}
	c.RecordMiss()
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	// While another process holds the file, the command says so.
	if r := runCLI(t, keystore.NewMemory(), nil, "", "cache", "stats"); r.code != 1 || !strings.Contains(r.stderr, "in use by a running detour serve") {
		t.Errorf("locked: exit %d, stderr %q", r.code, r.stderr)
	}
	c.Close()

	r := runCLI(t, keystore.NewMemory(), nil, "", "cache", "stats")
	for _, want := range []string{"entries    1", "misses     1", cachePath} {
		if r.code != 0 || !strings.Contains(r.stdout, want) {
			t.Errorf("stats: exit %d, stdout lacks %q:\n%s%s", r.code, want, r.stdout, r.stderr)
		}
	}
	if r := runCLI(t, keystore.NewMemory(), nil, "", "cache", "clear"); r.code != 0 || !strings.Contains(r.stdout, "cleared") {
		t.Errorf("clear: exit %d %s%s", r.code, r.stdout, r.stderr)
	}
	if r := runCLI(t, keystore.NewMemory(), nil, "", "cache", "stats"); !strings.Contains(r.stdout, "entries    0") {
		t.Errorf("after clear:\n%s", r.stdout)
	}
	if r := runCLI(t, keystore.NewMemory(), nil, "", "cache", "purge"); r.code != 2 {
		t.Errorf("unknown subcommand: exit %d, want 2", r.code)
	}
}

// downKeychain is a keychain that cannot be reached.
type downKeychain struct{ *keystore.Memory }

func (downKeychain) Get(context.Context, string) (string, error) {
	return "", fmt.Errorf("keychain get: %w", keystore.ErrUnavailable)
}

func TestLocalKeyWithoutKeychain(t *testing.T) {
	r := runCLI(t, downKeychain{keystore.NewMemory()}, nil, "", "keys", "local", "add", "laptop")
	if r.code != 1 || !strings.Contains(r.stderr, "export DETOUR_API_KEY=") {
		t.Errorf("exit %d, stderr %q: want 1 and the environment variable to set instead", r.code, r.stderr)
	}
}
