package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/detour-gateway/detour/app"
	"github.com/detour-gateway/detour/config"
	"github.com/detour-gateway/detour/router/provider/openai/openaitest"
)

// overloaded is OpenAI's 503 body.
const overloaded = `{"error":{"message":"The server is overloaded.","type":"server_error","param":null,"code":null}}`

// failoverConfig has a group whose only deployment fails and a fallback
// group that answers.
func failoverConfig(bad, good *openaitest.Server) string {
	return "model_list:\n" + priced(bad, "main", "gpt-4o") + priced(good, "backup", "gpt-4o-mini") +
		"router_settings: {num_retries: 0, fallbacks: [{main: [backup]}]}\n"
}

// apiCall sends a JSON request to the management API and decodes the
// answer into v (when not nil); it returns the status.
func apiCall(t *testing.T, method, url string, body any, v any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, url, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if v != nil {
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("%s %s: %v: %s", method, url, err, b)
		}
	}
	return resp.StatusCode
}

type statsAnswer struct {
	Version           uint64 `json:"version"`
	Endpoint          string `json:"endpoint"`
	Status            string `json:"status"`
	RequestsPerMinute int    `json:"requests_per_minute"`
	RequestsTotal     int    `json:"requests_total"`
	ErrorsTotal       int    `json:"errors_total"`
	FailoversTotal    int    `json:"failovers_total"`
	Failovers24h      int    `json:"failovers_24h"`
	Cache             struct {
		Enabled  bool    `json:"enabled"`
		Hits     int64   `json:"hits"`
		Misses   int64   `json:"misses"`
		HitRate  float64 `json:"hit_rate"`
		SavedUSD float64 `json:"saved_usd"`
		Entries  int64   `json:"entries"`
	} `json:"cache"`
	Series []struct {
		T         time.Time `json:"t"`
		Requests  int       `json:"requests"`
		Errors    int       `json:"errors"`
		Failovers int       `json:"failovers"`
		CacheHits int       `json:"cache_hits"`
	} `json:"series"`
	Deployments map[string]struct {
		Requests      int            `json:"requests"`
		Errors        int            `json:"errors"`
		ErrorsByClass map[string]int `json:"errors_by_class"`
		ErrorRate     float64        `json:"error_rate"`
	} `json:"deployments"`
}

func TestStatsCountFailoversAndCacheHits(t *testing.T) {
	bad := openaitest.New(t, openaitest.Reply{Status: http.StatusServiceUnavailable, Body: overloaded})
	good := openaitest.New(t, openaitest.Reply{Text: "from the backup"})
	gw := startCached(t, failoverConfig(bad, good))
	root := strings.TrimSuffix(gw.url, "/v1")

	var before statsAnswer
	apiCall(t, "GET", root+"/api/v1/stats", nil, &before)

	// The long-poll wakes up on the first request.
	woke := make(chan statsAnswer)
	go func() {
		var s statsAnswer
		apiCall(t, "GET", root+"/api/v1/stats?wait="+strconv.FormatUint(before.Version, 10), nil, &s)
		woke <- s
	}()
	// Temperature 0 asks for the same answer each time: the cache keeps it
	// whatever its mode (deterministic, the default, or all).
	p := params("main")
	p.Temperature = openai.Float(0)
	ask(t, gw, p, false) // fails over to backup: a miss
	if err := gw.gw.Cache().Flush(); err != nil {
		t.Fatal(err)
	}
	ask(t, gw, p, false) // the same request: a cache hit
	if s := <-woke; s.Version == before.Version {
		t.Errorf("the long-poll answered with the version it waited on")
	}
	// A request that fails outright (an unknown model), for the error count.
	if _, err := gw.client.Chat.Completions.New(context.Background(), params("nope"), option.WithMaxRetries(0)); err == nil {
		t.Fatal("an unknown model was answered")
	}

	var s statsAnswer
	apiCall(t, "GET", root+"/api/v1/stats", nil, &s)
	if s.RequestsTotal != 3 || s.FailoversTotal != 1 || s.Failovers24h != 1 || s.RequestsPerMinute != 3 || s.ErrorsTotal != 1 {
		t.Errorf("totals = %+v; want 3 requests, 1 failover, 1 error", s)
	}
	if !s.Cache.Enabled || s.Cache.Hits != 1 || s.Cache.Misses != 1 || s.Cache.HitRate != 0.5 || s.Cache.SavedUSD <= 0 || s.Cache.Entries != 1 {
		t.Errorf("cache = %+v; want 1 hit, 1 miss, a saving", s.Cache)
	}
	if len(s.Series) != 60 {
		t.Fatalf("series of %d points, want 60", len(s.Series))
	}
	if p := s.Series[59]; p.Requests != 3 || p.Failovers != 1 || p.CacheHits != 1 || p.Errors != 1 {
		t.Errorf("current minute = %+v", p)
	}
	var badID, goodID string
	for _, d := range gw.gw.Router().Deployments() {
		if d.Group == "main" {
			badID = d.ID
		} else {
			goodID = d.ID
		}
	}
	if d := s.Deployments[badID]; d.Requests != 1 || d.Errors != 1 || d.ErrorsByClass["server_error"] != 1 || d.ErrorRate != 1 {
		t.Errorf("failing deployment = %+v", d)
	}
	if d := s.Deployments[goodID]; d.Requests != 1 || d.Errors != 0 {
		t.Errorf("answering deployment = %+v", d)
	}
	if !strings.HasPrefix(s.Endpoint, "http://127.0.0.1:") || !strings.HasSuffix(s.Endpoint, "/v1") || s.Status != "online" {
		t.Errorf("endpoint %q, status %q", s.Endpoint, s.Status)
	}

	// Clearing the cache empties it and the next request misses.
	var cleared struct {
		Removed int64 `json:"removed"`
	}
	if st := apiCall(t, "DELETE", root+"/api/v1/cache", struct{}{}, &cleared); st != 200 || cleared.Removed != 1 {
		t.Errorf("clear: %d %+v", st, cleared)
	}
	var info struct {
		Entries int64 `json:"entries"`
		Hits    int64 `json:"hits"`
	}
	apiCall(t, "GET", root+"/api/v1/cache", nil, &info)
	if info.Entries != 0 || info.Hits != 1 {
		t.Errorf("after clear: %+v; want no entries, the hit count kept", info)
	}
}

// TestStatsSurviveARestart: the chart and the failovers of the last day
// come back from the request log; the totals since start begin at zero.
func TestStatsSurviveARestart(t *testing.T) {
	bad := openaitest.New(t, openaitest.Reply{Status: http.StatusServiceUnavailable, Body: overloaded})
	good := openaitest.New(t)
	yaml := failoverConfig(bad, good) + "detour:\n  request_log: {path: " + filepath.Join(t.TempDir(), "requests.db") + "}\n"
	first := serve(t, yaml, app.Options{}, false)
	gw := &gateway{url: first.url, gw: first.gw}
	gw.client = openai.NewClient(option.WithBaseURL(first.url), option.WithAPIKey("unused"), option.WithMaxRetries(0))
	ask(t, gw, params("main"), false)
	if err := first.stop(); err != nil {
		t.Fatal(err)
	}

	second := serve(t, yaml, app.Options{}, false)
	var s statsAnswer
	apiCall(t, "GET", strings.TrimSuffix(second.url, "/v1")+"/api/v1/stats", nil, &s)
	if s.Failovers24h != 1 || s.FailoversTotal != 0 || s.RequestsTotal != 0 {
		t.Errorf("after a restart: failovers 24h %d, since start %d, requests since start %d; want 1, 0, 0", s.Failovers24h, s.FailoversTotal, s.RequestsTotal)
	}
	n := 0
	for _, p := range s.Series {
		n += p.Requests
	}
	if n != 1 {
		t.Errorf("the series holds %d requests after the restart, want 1", n)
	}
}

// settingsGateway serves yaml from a real file, as detour serve does.
func settingsGateway(t *testing.T, yaml string, withCache bool) (root, path string, gw *served) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o640); err != nil {
		t.Fatal(err)
	}
	s := serve(t, yaml, app.Options{}, withCache)
	// serve parsed the text; point the gateway at the file.
	cfg, _, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	// The file's own settings, with the test's temporary files.
	cfg.Detour.Cache.Path, cfg.Detour.SpendPath, cfg.Detour.RequestLog.Path = s.cfg.Detour.Cache.Path, s.cfg.Detour.SpendPath, s.cfg.Detour.RequestLog.Path
	if err := s.gw.Reload(cfg); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(s.url, "/v1"), path, s
}

type settings struct {
	Path        string `json:"path"`
	Listen      string `json:"listen"`
	ListeningOn string `json:"listening_on"`
	Offline     struct {
		Enabled    bool   `json:"enabled"`
		OllamaHost string `json:"ollama_host"`
		Model      string `json:"model"`
	} `json:"offline"`
	Cache struct {
		Enabled    bool  `json:"enabled"`
		TTLSeconds int64 `json:"ttl_seconds"`
		MaxMB      int64 `json:"max_mb"`
	} `json:"cache"`
	Budgets []map[string]any `json:"budgets"`
}

func TestSettingsSaveThroughTheConfig(t *testing.T) {
	up := openaitest.New(t)
	yaml := "# my config\nmodel_list:\n" + priced(up, "main", "gpt-4o") + "detour:\n  listen: 127.0.0.1:4000 # keep this comment\n  cache: {enabled: false}\n"
	root, path, _ := settingsGateway(t, yaml, false)

	var s settings
	apiCall(t, "GET", root+"/api/v1/settings", nil, &s)
	if s.Path != path || s.Listen != "127.0.0.1:4000" || !strings.HasPrefix(s.ListeningOn, "127.0.0.1:") || len(s.Budgets) != 0 {
		t.Fatalf("settings = %+v", s)
	}

	t.Run("refused", func(t *testing.T) {
		for _, tc := range []struct {
			name, param string
			edit        func(m map[string]any)
		}{
			{"listen", "listen", func(m map[string]any) { m["listen"] = "nowhere" }},
			{"ttl", "cache.ttl_seconds", func(m map[string]any) { m["cache"].(map[string]any)["ttl_seconds"] = 0 }},
			{"scope", "budgets[0].scope", func(m map[string]any) {
				m["budgets"] = []any{map[string]any{"scope": "team", "name": "x", "daily_usd": 1, "on_exceed": "block"}}
			}},
			{"negative", "budgets[0].daily_usd", func(m map[string]any) {
				m["budgets"] = []any{map[string]any{"scope": "global", "daily_usd": -1, "on_exceed": "block"}}
			}},
			{"unknown group (the config's own check)", "budgets[1].name", func(m map[string]any) {
				m["budgets"] = []any{map[string]any{"scope": "global", "daily_usd": 1, "on_exceed": "block"},
					map[string]any{"scope": "group", "name": "no-such-group", "daily_usd": 1, "on_exceed": "block"}}
			}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				var m map[string]any
				apiCall(t, "GET", root+"/api/v1/settings", nil, &m)
				tc.edit(m)
				var e struct {
					Error struct {
						Message string  `json:"message"`
						Param   *string `json:"param"`
					} `json:"error"`
				}
				if st := apiCall(t, "PUT", root+"/api/v1/settings", m, &e); st != 400 || e.Error.Param == nil || *e.Error.Param != tc.param {
					t.Errorf("status %d, error %+v; want 400 about %s", st, e.Error, tc.param)
				}
				if got, _ := os.ReadFile(path); string(got) != yaml {
					t.Errorf("a refused save changed the file:\n%s", got)
				}
			})
		}
	})

	var m map[string]any
	apiCall(t, "GET", root+"/api/v1/settings", nil, &m)
	m["budgets"] = []any{map[string]any{"scope": "group", "name": "main", "daily_usd": 2.5, "monthly_usd": 0, "on_exceed": "downgrade"}}
	m["offline"] = map[string]any{"enabled": false, "ollama_host": "127.0.0.1:11999", "model": "qwen3"}
	m["listen"] = "127.0.0.1:4001"
	var saved struct {
		Settings        settings `json:"settings"`
		RestartRequired bool     `json:"restart_required"`
		Restart         []string `json:"restart"`
	}
	if st := apiCall(t, "PUT", root+"/api/v1/settings", m, &saved); st != 200 {
		t.Fatalf("save: %d %+v", st, saved)
	}
	if !saved.RestartRequired || len(saved.Restart) != 1 || saved.Restart[0] != "listen" {
		t.Errorf("restart = %v %v; want listen only", saved.RestartRequired, saved.Restart)
	}
	if s := saved.Settings; s.Listen != "127.0.0.1:4001" || s.Offline.Enabled || s.Offline.Model != "qwen3" || len(s.Budgets) != 1 {
		t.Errorf("saved settings = %+v", s)
	}
	file, _ := os.ReadFile(path)
	for _, want := range []string{"# my config", "# keep this comment", "listen: 127.0.0.1:4001", "groups:", "daily_usd: 2.5", "on_exceed: downgrade", "model: qwen3"} {
		if !strings.Contains(string(file), want) {
			t.Errorf("the file lacks %q:\n%s", want, file)
		}
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o640 {
		t.Errorf("the file's mode changed: %v %v", st.Mode(), err)
	}
	// Applied at once: the spend API reports the new budget.
	var sp struct {
		Budgets []struct {
			Scope, Name, Period, OnExceed string
			LimitUSD                      float64 `json:"limit_usd"`
		} `json:"budgets"`
	}
	apiCall(t, "GET", root+"/api/v1/spend", nil, &sp)
	if len(sp.Budgets) != 1 || sp.Budgets[0].Scope != "group" || sp.Budgets[0].Name != "main" || sp.Budgets[0].Period != "daily" || sp.Budgets[0].LimitUSD != 2.5 {
		t.Errorf("spend budgets = %+v", sp.Budgets)
	}
}

func TestSettingsCacheLimitsApplyAtOnce(t *testing.T) {
	root, _, _ := settingsGateway(t, "model_list:\n  - model_name: m\n    litellm_params: {model: mock/m}\n", true)
	var m map[string]any
	apiCall(t, "GET", root+"/api/v1/settings", nil, &m)
	m["cache"] = map[string]any{"enabled": true, "ttl_seconds": 120, "max_mb": 64}
	var saved struct {
		Restart []string `json:"restart"`
	}
	if st := apiCall(t, "PUT", root+"/api/v1/settings", m, &saved); st != 200 || len(saved.Restart) != 0 {
		t.Fatalf("save: %d, restart %v; want 200 and nothing waiting for a restart", st, saved.Restart)
	}
	var info struct {
		TTLSeconds int64 `json:"ttl_seconds"`
		MaxBytes   int64 `json:"max_bytes"`
	}
	apiCall(t, "GET", root+"/api/v1/cache", nil, &info)
	if info.TTLSeconds != 120 || info.MaxBytes != 64<<20 {
		t.Errorf("cache after the save = %+v; want ttl 120 s, 64 MiB", info)
	}
}

// TestSettingsSaveOnlyWhatChanged: a save writes the fields that differ
// and nothing else, and a save against a file changed since it was read
// is refused.
func TestSettingsSaveOnlyWhatChanged(t *testing.T) {
	yaml := "model_list:\n  - model_name: m\n    litellm_params: {model: mock/m}\n" +
		"detour:\n  cache: {max_bytes: 1000000000, ttl: 600}\n  budgets: # mine\n    daily_usd: 3 # three dollars\n"
	root, path, _ := settingsGateway(t, yaml, false)
	var m map[string]any
	apiCall(t, "GET", root+"/api/v1/settings", nil, &m)
	rev, _ := m["revision"].(string)
	if rev == "" {
		t.Fatalf("settings carry no revision: %v", m)
	}

	m["offline"].(map[string]any)["model"] = "qwen3"
	if st := apiCall(t, "PUT", root+"/api/v1/settings", m, nil); st != 200 {
		t.Fatalf("save: %d", st)
	}
	file, _ := os.ReadFile(path)
	for _, want := range []string{"max_bytes: 1000000000", "ttl: 600", "budgets: # mine", "daily_usd: 3 # three dollars", "model: qwen3"} {
		if !strings.Contains(string(file), want) {
			t.Errorf("after changing the model only, the file lacks %q:\n%s", want, file)
		}
	}
	if strings.Contains(string(file), "listen:") || strings.Contains(string(file), "enabled:") {
		t.Errorf("settings that were not changed were written:\n%s", file)
	}

	// The same revision again: the file has changed since, so 409.
	m["offline"].(map[string]any)["model"] = "llama3.2"
	var e struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	if st := apiCall(t, "PUT", root+"/api/v1/settings", m, &e); st != http.StatusConflict || e.Error.Code != "settings_conflict" {
		t.Errorf("a save against an old revision = %d %+v, want 409 settings_conflict", st, e)
	}
	if after, _ := os.ReadFile(path); string(after) != string(file) {
		t.Errorf("a refused save changed the file")
	}
}

// TestSettingsSaveIsNotReloadedTwice: the watcher sees the file a save
// wrote and leaves it (the save applied it already); a hand edit that
// later brings the same content back is applied.
func TestSettingsSaveIsNotReloadedTwice(t *testing.T) {
	root, path, s := settingsGateway(t, "model_list:\n  - model_name: m\n    litellm_params: {model: mock/m}\ndetour:\n  cache: {enabled: false}\n", false)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	ready := make(chan struct{})
	go func() { done <- s.gw.WatchConfig(ctx, path, func() { close(ready) }) }()
	t.Cleanup(func() { cancel(); <-done })
	<-ready

	var m map[string]any
	apiCall(t, "GET", root+"/api/v1/settings", nil, &m)
	m["offline"].(map[string]any)["model"] = "qwen3"
	if st := apiCall(t, "PUT", root+"/api/v1/settings", m, nil); st != 200 {
		t.Fatalf("save: %d", st)
	}
	saved := s.gw.ConfigState().LoadedAt
	time.Sleep(500 * time.Millisecond) // well past the watcher's 100 ms debounce
	if again := s.gw.ConfigState().LoadedAt; !again.Equal(saved) {
		t.Errorf("the watcher reloaded the file the save had applied already")
	}

	content, _ := os.ReadFile(path)
	// write puts data in the file and waits (bounded) for the reload.
	write := func(what string, data []byte) {
		t.Helper()
		before := s.gw.ConfigState().LoadedAt
		if err := os.WriteFile(path, data, 0o640); err != nil {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			if !s.gw.ConfigState().LoadedAt.Equal(before) {
				return
			}
		}
		t.Fatalf("%s was not reloaded", what)
	}
	write("a hand edit", append([]byte("# edited by hand\n"), content...))
	write("the saved content, written back by hand", content)
}

type fakeAutostart struct{ on atomic.Bool }

func (f *fakeAutostart) Supported() bool          { return true }
func (f *fakeAutostart) Enabled() (bool, error)   { return f.on.Load(), nil }
func (f *fakeAutostart) SetEnabled(on bool) error { f.on.Store(on); return nil }

func TestAppEndpoints(t *testing.T) {
	mock := "model_list:\n  - model_name: m\n    litellm_params: {model: mock/m}\n"
	t.Run("headless", func(t *testing.T) {
		s := serve(t, mock, app.Options{Version: "v1.2.3"}, false)
		root := strings.TrimSuffix(s.url, "/v1")
		var a struct {
			Version   string `json:"version"`
			Desktop   bool   `json:"desktop"`
			Autostart struct{ Supported bool }
		}
		apiCall(t, "GET", root+"/api/v1/app", nil, &a)
		if a.Version != "v1.2.3" || a.Desktop || a.Autostart.Supported {
			t.Errorf("app = %+v", a)
		}
		if st := apiCall(t, "POST", root+"/api/v1/app/quit", struct{}{}, nil); st != 404 {
			t.Errorf("quit without a desktop = %d, want 404", st)
		}
	})
	t.Run("desktop", func(t *testing.T) {
		quit := make(chan struct{})
		auto := &fakeAutostart{}
		s := serve(t, mock, app.Options{Quit: func() { close(quit) }, Autostart: auto, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, false)
		root := strings.TrimSuffix(s.url, "/v1")
		var a struct {
			Desktop   bool `json:"desktop"`
			Autostart struct {
				Supported bool `json:"supported"`
				Enabled   bool `json:"enabled"`
			} `json:"autostart"`
		}
		if st := apiCall(t, "PUT", root+"/api/v1/app/autostart", map[string]bool{"enabled": true}, &a); st != 200 || !a.Desktop || !a.Autostart.Supported || !a.Autostart.Enabled || !auto.on.Load() {
			t.Errorf("autostart on: %d %+v", st, a)
		}
		if st := apiCall(t, "POST", root+"/api/v1/app/quit", struct{}{}, nil); st != http.StatusAccepted {
			t.Errorf("quit = %d, want 202", st)
		}
		<-quit
	})
}

func TestDashboardGuards(t *testing.T) {
	s := serve(t, "model_list:\n  - model_name: m\n    litellm_params: {model: mock/m}\n", app.Options{}, false)
	root := strings.TrimSuffix(s.url, "/v1")
	host := strings.TrimPrefix(root, "http://")
	tests := []struct {
		name, method, path, hostHeader, origin string
		want                                   int
	}{
		{"the page", "GET", "/ui/", "", "", 200},
		{"the root goes to the page", "GET", "/", "", "", http.StatusFound},
		{"the page under a foreign name", "GET", "/ui/", "evil.example:80", "", 403},
		{"the API under a foreign name", "GET", "/api/v1/stats", "evil.example", "", 403},
		{"the API from another local origin", "GET", "/api/v1/stats", "", "http://127.0.0.1:9", 403},
		{"a write from another local origin", "PUT", "/api/v1/settings", "", "http://localhost:5173", 403},
		{"the API from its own origin", "GET", "/api/v1/stats", "", "http://" + host, 200},
		{"a form-encoded write", "DELETE", "/api/v1/cache", "", "", http.StatusUnsupportedMediaType},
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, root+tt.path, strings.NewReader("a=b"))
			if tt.hostHeader != "" {
				req.Host = tt.hostHeader
			}
			if tt.origin != "" {
				req.Header.Set("Origin", tt.origin)
			}
			if tt.method != "GET" && tt.name != "a form-encoded write" {
				req.Header.Set("Content-Type", "application/json")
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("%s %s = %d, want %d", tt.method, tt.path, resp.StatusCode, tt.want)
			}
			if tt.path == "/ui/" && tt.want == 200 && !strings.Contains(resp.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
				t.Errorf("the page may be framed: CSP %q", resp.Header.Get("Content-Security-Policy"))
			}
		})
	}
	// In-process (the desktop window) the browser guards do not apply.
	req, _ := http.NewRequest("GET", "wails://wails/api/v1/stats", nil)
	req.Header.Set("Origin", "wails://wails")
	rec := httptest.NewRecorder()
	s.gw.InProcessHandler().ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Errorf("in-process stats = %d", rec.Code)
	}
	if !strings.Contains(rec.Body.String(), `"version"`) {
		t.Errorf("in-process stats answered %q", rec.Body.String())
	}
	// Writes must still be JSON.
	req, _ = http.NewRequest("POST", "wails://wails/api/v1/keys/openai/test", strings.NewReader("x"))
	req.Header.Set("Content-Type", "text/plain")
	rec = httptest.NewRecorder()
	s.gw.InProcessHandler().ServeHTTP(rec, req)
	if rec.Code != http.StatusUnsupportedMediaType {
		t.Errorf("an in-process text/plain write = %d, want 415", rec.Code)
	}
}

// TestSettingsAuth turns local auth on from the settings, and checks that
// a save that does not mention it (an older page) leaves it on.
func TestSettingsAuth(t *testing.T) {
	root, path, _ := settingsGateway(t, "model_list:\n  - model_name: m\n    litellm_params: {model: mock/m}\n", false)
	var m map[string]any
	apiCall(t, "GET", root+"/api/v1/settings", nil, &m)
	if m["auth"] != false {
		t.Fatalf("auth = %v, want false", m["auth"])
	}
	m["auth"] = true
	if st := apiCall(t, "PUT", root+"/api/v1/settings", m, nil); st != 200 {
		t.Fatalf("save: %d", st)
	}
	if file, _ := os.ReadFile(path); !strings.Contains(string(file), "auth: true") {
		t.Fatalf("the file lacks auth: true:\n%s", file)
	}
	resp, err := http.Post(root+"/v1/chat/completions", "application/json", strings.NewReader(`{"model":"m","messages":[{"role":"user","content":"x"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("after turning auth on, a request without a key: %d, want 401", resp.StatusCode)
	}
	apiCall(t, "GET", root+"/api/v1/settings", nil, &m)
	delete(m, "auth")
	m["cache"].(map[string]any)["ttl_seconds"] = 60
	if st := apiCall(t, "PUT", root+"/api/v1/settings", m, nil); st != 200 {
		t.Fatalf("save: %d", st)
	}
	if file, _ := os.ReadFile(path); !strings.Contains(string(file), "auth: true") {
		t.Errorf("a save without auth turned it off:\n%s", file)
	}
}
