package app

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/detour-gateway/detour/config"
	"github.com/detour-gateway/detour/keystore"
	"github.com/detour-gateway/detour/router/provider/ollama/ollamatest"
	"github.com/detour-gateway/detour/router/provider/openai/openaitest"
	"github.com/detour-gateway/detour/server"
)

// testLocalState checks cfg with $OLLAMA_HOST set to env, at a time the
// test moves.
func testLocalState(cfg *config.Offline, env string, now *time.Time) *localState {
	getCfg := func() config.Offline { return *cfg }
	getenv := func(k string) string {
		if k == "OLLAMA_HOST" {
			return env
		}
		return ""
	}
	return newLocalState(getCfg, getenv, &http.Client{}, func() time.Time { return *now })
}

func TestLocalStateSaysWhatOllamaCan(t *testing.T) {
	closed := "http://" + openaitest.ClosedAddr(t)
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusInternalServerError)
		w.Write([]byte(`{"error":"something went wrong"}`))
	}))
	t.Cleanup(broken.Close)
	tests := []struct {
		name    string
		models  []string // what the fake Ollama has pulled
		cfg     config.Offline
		env     string // $OLLAMA_HOST; "fake" means the fake's URL
		state   string
		model   string
		message string // in the message; "" means no message
	}{
		{"the tier is off", nil, config.Offline{Enabled: false, OllamaHost: closed}, "", server.LocalTierDisabled, "", "detour.offline.enabled"},
		{"Ollama not running", nil, config.Offline{Enabled: true, OllamaHost: closed}, "", server.LocalTierNotRunning, "", "nothing answers at " + closed},
		{"Ollama answering errors", nil, config.Offline{Enabled: true, OllamaHost: broken.URL}, "", server.LocalTierFailing, "", "Ollama at " + broken.URL},
		{"no model pulled", []string{}, config.Offline{Enabled: true}, "fake", server.LocalTierNoModel, "", "ollama pull"},
		{"only an embedding model", []string{"nomic-embed-text"}, config.Offline{Enabled: true}, "fake", server.LocalTierNoModel, "", "no chat model"},
		{"the first chat model is picked", []string{"nomic-embed-text", "qwen3:8b", "llama3.2"}, config.Offline{Enabled: true}, "fake",
			server.LocalTierReady, "qwen3:8b", ""},
		{"the configured model, untagged", []string{"qwen3:8b", "llama3.2"}, config.Offline{Enabled: true, Model: "llama3.2"}, "fake",
			server.LocalTierReady, "llama3.2", ""},
		{"the configured model, not pulled", []string{"qwen3:8b"}, config.Offline{Enabled: true, Model: "mistral"}, "fake",
			server.LocalTierNoModel, "mistral", "ollama pull mistral"},
		{"a group's own model not pulled", []string{"llama3.2"}, config.Offline{Enabled: true, Map: map[string]string{"cheap": "phi4", "main": "llama3.2"}}, "fake",
			server.LocalTierReady, "llama3.2:latest", "phi4 (for cheap)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := ollamatest.New(t)
			if tt.models != nil {
				fake.SetModels(tt.models...)
			}
			env := tt.env
			if env == "fake" {
				env = fake.URL // the config names no host: $OLLAMA_HOST, as the tier reads it
			}
			now := time.Now()
			got := testLocalState(&tt.cfg, env, &now).State(context.Background())
			if got.State != tt.state || got.Model != tt.model {
				t.Errorf("State = %+v; want state %q, model %q", got, tt.state, tt.model)
			}
			if tt.message == "" && got.Message != "" || !strings.Contains(got.Message, tt.message) {
				t.Errorf("message %q, want one with %q", got.Message, tt.message)
			}
		})
	}
}

// countingOllama is an Ollama that has llama3.2 pulled and counts the
// reads of its list; hold, while set, keeps each read waiting until it
// is closed.
type countingOllama struct {
	*httptest.Server
	lists atomic.Int32
	hold  chan struct{}
}

func newCountingOllama(t *testing.T, hold chan struct{}) *countingOllama {
	o := &countingOllama{hold: hold}
	o.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/tags" {
			http.NotFound(w, r)
			return
		}
		o.lists.Add(1)
		if o.hold != nil {
			select {
			case <-o.hold:
			case <-r.Context().Done():
				return
			}
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"models":[{"name":"llama3.2:latest","model":"llama3.2:latest"}]}`))
	}))
	t.Cleanup(o.Close)
	return o
}

// The dashboard polls every 2 s from every window: Ollama is asked once
// per TTL, again when the settings change.
func TestLocalStateAsksOllamaOncePerTTL(t *testing.T) {
	o := newCountingOllama(t, nil)
	cfg := config.Offline{Enabled: true, OllamaHost: o.URL}
	now := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	l := testLocalState(&cfg, "", &now)
	ask := func(wantLists int32) {
		t.Helper()
		if st := l.State(context.Background()); st.State != server.LocalTierReady {
			t.Fatalf("State = %+v, want ready", st)
		}
		if n := o.lists.Load(); n != wantLists {
			t.Errorf("Ollama's list read %d times, want %d", n, wantLists)
		}
	}
	ask(1)
	ask(1)
	now = now.Add(localStateTTL - time.Millisecond)
	ask(1)
	now = now.Add(time.Millisecond)
	ask(2)
	cfg.Model = "llama3.2" // a saved setting is checked at once
	ask(3)
	ask(3)
}

// Callers at once share one check, and a check that hangs ends at the
// timeout with a state that says so.
func TestLocalStateBoundsAndSharesTheCheck(t *testing.T) {
	hold := make(chan struct{})
	o := newCountingOllama(t, hold)
	cfg := config.Offline{Enabled: true, OllamaHost: o.URL}
	now := time.Now()
	l := testLocalState(&cfg, "", &now)
	l.timeout = 50 * time.Millisecond

	var wg sync.WaitGroup
	states := make([]server.LocalTierState, 8)
	for i := range states {
		wg.Go(func() { states[i] = l.State(context.Background()) })
	}
	wg.Wait()
	close(hold)
	if n := o.lists.Load(); n != 1 {
		t.Errorf("Ollama's list read %d times by %d callers at once, want 1", n, len(states))
	}
	for _, st := range states {
		if st.State != server.LocalTierFailing || !strings.Contains(st.Message, "did not list its models within") {
			t.Errorf("State = %+v, want failing: it did not answer in time", st)
		}
	}

	// A caller that gives up while another check runs is not held.
	now = now.Add(localStateTTL)
	l.sem <- struct{}{} // a check in flight
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if st := l.State(ctx); st.State != server.LocalTierUnknown {
		t.Errorf("State with a done context while a check runs = %+v, want unknown", st)
	}
	<-l.sem
}

// The gateway's check follows the config in use: a reload that turns the
// tier off, or names another host, applies to the next check.
func TestGatewayLocalTierStateFollowsTheConfig(t *testing.T) {
	fake := ollamatest.New(t)
	dir := t.TempDir()
	parse := func(offline string) *config.Config {
		t.Helper()
		cfg, _, err := config.Parse([]byte(`model_list:
  - model_name: demo
    litellm_params: {model: mock/demo, mock_response: "hi"}
detour:
  cache: {enabled: false}
  spend_path: ` + dir + `/spend.db
  responses_path: ` + dir + `/responses.db
  request_log: {path: ` + dir + `/requests.db}
  offline: ` + offline + `
`))
		if err != nil {
			t.Fatalf("config: %v", err)
		}
		return cfg
	}
	g, err := New(parse(`{ollama_host: "`+fake.URL+`", model: llama3.2}`), Options{Keys: keystore.NewMemory(), Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	check := g.localTierState()
	if st := check(context.Background()); st.State != server.LocalTierReady || st.Model != "llama3.2" {
		t.Errorf("State = %+v, want ready with llama3.2", st)
	}
	if err := g.Reload(parse(`{enabled: false}`)); err != nil {
		t.Fatal(err)
	}
	if st := check(context.Background()); st.State != server.LocalTierDisabled {
		t.Errorf("after turning the tier off: State = %+v, want disabled", st)
	}
}
