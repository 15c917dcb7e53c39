package server

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/detour-gateway/detour/requestlog"
	"github.com/detour-gateway/detour/router"
	"github.com/detour-gateway/detour/router/provider/mock"
	"github.com/detour-gateway/detour/stats"
)

func TestStatsRequest(t *testing.T) {
	at := func(d, class string, status int) requestlog.Attempt {
		return requestlog.Attempt{Deployment: d, Class: class, Status: status, MS: 7}
	}
	tests := []struct {
		name           string
		rec            requestlog.Record
		failover, hit  bool
		status, nAttem int
	}{
		{"answered at once", requestlog.Record{Status: 200, Attempts: []requestlog.Attempt{at("a", "", 200)}}, false, false, 200, 1},
		{"retried on the same deployment", requestlog.Record{Status: 200, Attempts: []requestlog.Attempt{at("a", "timeout", 0), at("a", "", 200)}}, false, false, 200, 2},
		{"another deployment answered", requestlog.Record{Status: 200, Attempts: []requestlog.Attempt{at("a", "rate_limit", 429), at("b", "", 200)}}, true, false, 200, 2},
		{"the local tier after the cloud", requestlog.Record{Status: 200, Degraded: "ollama", Attempts: []requestlog.Attempt{at("a", "unreachable", 0), at("ollama-x", "", 200)}}, true, false, 200, 2},
		{"offline: the local tier alone", requestlog.Record{Status: 200, Degraded: "ollama", Attempts: []requestlog.Attempt{at("ollama-x", "", 200)}}, false, false, 200, 1},
		{"every attempt failed", requestlog.Record{Status: 503, Attempts: []requestlog.Attempt{at("a", "server_error", 503), at("b", "server_error", 503)}}, false, false, 503, 2},
		{"a cache hit", requestlog.Record{Status: 200, Cache: "HIT"}, false, true, 200, 0},
		{"a stream cut after it started", requestlog.Record{Status: 200, Error: "upstream reset", Attempts: []requestlog.Attempt{at("a", "", 200)}}, false, false, 502, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.rec.Time = time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
			got := StatsRequest(tt.rec)
			if got.Failover != tt.failover || got.CacheHit != tt.hit || got.Status != tt.status || len(got.Attempts) != tt.nAttem {
				t.Errorf("StatsRequest = %+v; want failover %v, hit %v, status %d, %d attempts", got, tt.failover, tt.hit, tt.status, tt.nAttem)
			}
			if !got.Time.Equal(tt.rec.Time) {
				t.Errorf("time %v, want the record's", got.Time)
			}
			for _, a := range got.Attempts {
				if a.Duration != 7*time.Millisecond {
					t.Errorf("attempt duration %v, want 7ms", a.Duration)
				}
			}
		})
	}
}

// statsServer serves /api/v1/stats from rec, offline or not, with the
// local tier check lt (nil: none).
func statsServer(t *testing.T, rec *stats.Recorder, offline bool, lt LocalTierFunc) *httptest.Server {
	t.Helper()
	r, err := router.New([]router.Deployment{
		{ID: "mock-1", Group: "demo", Provider: "mock", Model: "demo", Client: mock.New(mock.Options{Model: "demo"})},
	}, router.Settings{}, router.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := New(Options{Router: func() *router.Router { return r }, Stats: rec, LocalTier: lt,
		Offline: func() bool { return offline }, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return ts
}

// getStats reads /api/v1/stats into a map, as the dashboard sees it.
func getStats(t *testing.T, ts *httptest.Server) map[string]any {
	t.Helper()
	resp, err := http.Get(ts.URL + "/api/v1/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /api/v1/stats: %d, %v", resp.StatusCode, err)
	}
	return body
}

// The status claims the local tier answers only when a check found it can.
func TestStatsStatusSaysWhatTheLocalTierCan(t *testing.T) {
	tier := func(st LocalTierState) LocalTierFunc {
		return func(context.Context) LocalTierState { return st }
	}
	tests := []struct {
		name        string
		offline     bool
		lt          LocalTierFunc
		status      string
		state       string   // local_tier.state; "" means no local_tier
		reason, not []string // in the reason, and never in it
	}{
		{"online", false, tier(LocalTierState{State: LocalTierNotRunning}), "online", "", nil, nil},
		{"offline, answering", true, tier(LocalTierState{State: LocalTierReady, Model: "llama3.2:latest"}),
			"offline", LocalTierReady, []string{"answers with llama3.2:latest"}, []string{"fails"}},
		{"offline, Ollama not running", true, tier(LocalTierState{State: LocalTierNotRunning, Message: "nothing answers at http://127.0.0.1:11434"}),
			"offline", LocalTierNotRunning, []string{"not running", "every request fails", "nothing answers at http://127.0.0.1:11434"}, []string{"answers with", "tier answers"}},
		{"offline, no model", true, tier(LocalTierState{State: LocalTierNoModel, Message: "run ollama pull llama3.2"}),
			"offline", LocalTierNoModel, []string{"no model", "every request fails", "ollama pull"}, []string{"tier answers"}},
		{"offline, Ollama failing", true, tier(LocalTierState{State: LocalTierFailing}),
			"offline", LocalTierFailing, []string{"Ollama is failing", "every request fails"}, []string{"tier answers"}},
		{"offline, no local tier", true, tier(LocalTierState{State: LocalTierDisabled}),
			"offline", LocalTierDisabled, []string{"detour.offline.enabled", "every request fails"}, []string{"tier answers"}},
		{"offline, nobody checks", true, nil, "offline", LocalTierUnknown, []string{"if Ollama runs"}, []string{"tier answers;", "answers with"}},
		{"offline, an empty answer", true, tier(LocalTierState{}), "offline", LocalTierUnknown, nil, []string{"tier answers;"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := getStats(t, statsServer(t, stats.New(nil), tt.offline, tt.lt))
			reason, _ := body["status_reason"].(string)
			if body["status"] != tt.status {
				t.Errorf("status %v (%s), want %s", body["status"], reason, tt.status)
			}
			lt, _ := body["local_tier"].(map[string]any)
			if got, _ := lt["state"].(string); got != tt.state {
				t.Errorf("local_tier %v, want state %q", body["local_tier"], tt.state)
			}
			for _, want := range tt.reason {
				if !strings.Contains(reason, want) {
					t.Errorf("reason %q lacks %q", reason, want)
				}
			}
			for _, bad := range tt.not {
				if strings.Contains(reason, bad) {
					t.Errorf("reason %q claims %q", reason, bad)
				}
			}
		})
	}
}

// Online, the local tier is not asked: a dashboard polling a healthy
// gateway costs Ollama nothing.
func TestStatsAsksTheLocalTierOnlyOffline(t *testing.T) {
	var asked atomic.Int32
	lt := func(context.Context) LocalTierState { asked.Add(1); return LocalTierState{State: LocalTierReady} }
	getStats(t, statsServer(t, stats.New(nil), false, lt))
	if n := asked.Load(); n != 0 {
		t.Errorf("online: the local tier was asked %d times, want 0", n)
	}
	getStats(t, statsServer(t, stats.New(nil), true, lt))
	if n := asked.Load(); n != 1 {
		t.Errorf("offline: the local tier was asked %d times, want 1", n)
	}
}

// A deployment that never answered shows no latency in the API: null,
// not 0 ms; one that answered shows its figure.
func TestStatsLatencyOnlyForAnswers(t *testing.T) {
	rec := stats.New(nil)
	rec.Record(stats.Request{Status: 200, Failover: true, Attempts: []stats.Attempt{
		{Deployment: "down", Class: "server_error", Duration: 3 * time.Millisecond},
		{Deployment: "up", Duration: 42 * time.Millisecond},
	}})
	deps, _ := getStats(t, statsServer(t, rec, false, nil))["deployments"].(map[string]any)
	down, _ := deps["down"].(map[string]any)
	up, _ := deps["up"].(map[string]any)
	for _, k := range []string{"p50_ms", "p95_ms"} {
		if v, ok := down[k]; !ok || v != nil {
			t.Errorf("down %s = %v (present %v), want null", k, v, ok)
		}
		if v := up[k]; v != 42.0 {
			t.Errorf("up %s = %v, want 42", k, v)
		}
	}
}
