package server

import (
	"encoding/csv"
	"encoding/json"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/detour-gateway/detour/redact"
	"github.com/detour-gateway/detour/requestlog"
	"github.com/detour-gateway/detour/router"
	"github.com/detour-gateway/detour/router/provider/mock"
)

var seedTime = time.Date(2025, 1, 31, 9, 0, 0, 0, time.UTC)

// seedLog opens a request log in a temporary directory and fills it with
// five requests a minute apart: an answer, a failover, a cache hit, a
// rate-limited failure and a stream cut after it started.
func seedLog(t *testing.T) *requestlog.Log {
	t.Helper()
	l, err := requestlog.Open(filepath.Join(t.TempDir(), "requests.db"), requestlog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	at := func(min int) time.Time { return seedTime.Add(time.Duration(min) * time.Minute) }
	cost := 0.00042
	for _, r := range []requestlog.Record{
		{ID: "ok", API: "chat", Time: at(0), Group: "main", Status: 200, Cache: "MISS", CostUSD: &cost,
			Attempts: []requestlog.Attempt{{Deployment: "main#0", Provider: "openai", Group: "main", Reason: "simple-shuffle", Status: 200, MS: 120}}},
		{ID: "failover", API: "chat", Time: at(1), Group: "main", Groups: []string{"main", "backup"}, Status: 200, Cache: "MISS",
			Attempts: []requestlog.Attempt{
				{Deployment: "main#0", Provider: "openai", Group: "main", Class: "server_error", Status: 503, MS: 40, Error: "The server is overloaded."},
				{Deployment: "backup#0", Provider: "openai", Group: "backup", Status: 200, MS: 90},
			}},
		{ID: "hit", API: "chat", Time: at(2), Group: "main", Status: 200, Cache: "HIT"},
		{ID: "limited", API: "messages", Time: at(3), Group: "other", Status: 429, Cache: "BYPASS",
			Attempts: []requestlog.Attempt{{Deployment: "other#0", Provider: "anthropic", Group: "other", Class: "rate_limited", Status: 429, MS: 15,
				Error: "Rate limit reached, please slow down"}}},
		{ID: "broken", API: "chat", Time: at(4), Group: "other", Stream: true, Status: 200, Error: "the stream broke after it started: connection reset",
			Attempts: []requestlog.Attempt{{Deployment: "other#0", Provider: "anthropic", Group: "other", Status: 200, MS: 300}}},
	} {
		l.Add(r)
	}
	if err := l.Flush(); err != nil {
		t.Fatal(err)
	}
	return l
}

// newLogServer serves the management API over log l.
func newLogServer(t *testing.T, l RequestLog) *httptest.Server {
	t.Helper()
	r, err := router.New([]router.Deployment{
		{ID: "mock-1", Group: "demo", Provider: "mock", Model: "demo", Client: mock.New(mock.Options{Model: "demo"})},
	}, router.Settings{}, router.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(New(Options{Router: func() *router.Router { return r }, RequestLog: l,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}))
	t.Cleanup(ts.Close)
	return ts
}

func getRequests(t *testing.T, ts *httptest.Server, query string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Get(ts.URL + "/api/v1/requests?" + query)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func TestRequestsFilter(t *testing.T) {
	ts := newLogServer(t, seedLog(t))
	tests := []struct {
		query string
		want  []string
	}{
		{"", []string{"broken", "limited", "hit", "failover", "ok"}}, // the latest 100
		{"limit=2", []string{"broken", "limited"}},
		{"group=main", []string{"hit", "failover", "ok"}},
		{"group=backup", []string{"failover"}}, // tried as a fallback
		{"deployment=other%230", []string{"broken", "limited"}},
		{"status=429", []string{"limited"}},
		{"status=2xx", []string{"broken", "hit", "failover", "ok"}},
		{"status=4XX", []string{"limited"}},
		{"status=5xx", []string{}},
		{"class=server_error", []string{"failover"}},
		{"cache=hit", []string{"hit"}},
		{"cache=none", []string{"broken"}},
		{"since=2025-01-31T09:03:00Z", []string{"broken", "limited"}},
		{"until=2025-01-31T09:01:00Z", []string{"ok"}},
		{"since=2025-01-31T10:01:00%2B01:00&until=2025-01-31T09:03:00.000Z", []string{"hit", "failover"}},
		{"q=OVERLOADED", []string{"failover"}},
		{"q=stream+broke", []string{"broken"}},
		{"group=main&status=2xx&cache=MISS&limit=1", []string{"failover"}},
		{"group=nowhere", []string{}},
	}
	for _, tt := range tests {
		name := tt.query
		if name == "" {
			name = "no filter"
		}
		t.Run(name, func(t *testing.T) {
			resp, b := getRequests(t, ts, tt.query)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d: %s", resp.StatusCode, b)
			}
			if cd := resp.Header.Get("Content-Disposition"); cd != "" {
				t.Errorf("the list is not a download, yet Content-Disposition %q", cd)
			}
			var list struct {
				Data []requestlog.Record `json:"data"`
			}
			if err := json.Unmarshal(b, &list); err != nil || list.Data == nil {
				t.Fatalf("answer %s: %v (data must be a list, [] when empty)", b, err)
			}
			if got := recordIDs(list.Data); !slices.Equal(got, tt.want) {
				t.Errorf("ids = %v, want %v", got, tt.want)
			}
		})
	}
}

func recordIDs(recs []requestlog.Record) []string {
	out := []string{}
	for _, r := range recs {
		out = append(out, r.ID)
	}
	return out
}

// TestRequestsExport downloads the filtered log in both formats and
// reads each back.
func TestRequestsExport(t *testing.T) {
	ts := newLogServer(t, seedLog(t))
	download := func(t *testing.T, query, ext, contentType string) []byte {
		t.Helper()
		resp, b := getRequests(t, ts, query)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d: %s", resp.StatusCode, b)
		}
		if ct := resp.Header.Get("Content-Type"); ct != contentType {
			t.Errorf("Content-Type = %q, want %q", ct, contentType)
		}
		disp, params, err := mime.ParseMediaType(resp.Header.Get("Content-Disposition"))
		if err != nil || disp != "attachment" || !strings.HasPrefix(params["filename"], "detour-requests-") || filepath.Ext(params["filename"]) != ext {
			t.Errorf("Content-Disposition = %q (%v), want an attachment detour-requests-…%s", resp.Header.Get("Content-Disposition"), err, ext)
		}
		return b
	}

	t.Run("csv", func(t *testing.T) {
		b := download(t, "format=csv&group=main", ".csv", "text/csv; charset=utf-8")
		rows, err := csv.NewReader(strings.NewReader(string(b))).ReadAll()
		if err != nil {
			t.Fatalf("the CSV does not parse back: %v\n%s", err, b)
		}
		header := rows[0]
		if len(rows) != 4 || header[0] != "id" {
			t.Fatalf("rows %v, want a header and 3 records", rows)
		}
		cell := func(row int, column string) string {
			i := slices.Index(header, column)
			if i < 0 {
				t.Fatalf("no column %q in %v", column, header)
			}
			return rows[row][i]
		}
		if got := []string{cell(1, "id"), cell(2, "id"), cell(3, "id")}; !slices.Equal(got, []string{"hit", "failover", "ok"}) {
			t.Errorf("ids %v, want hit, failover, ok", got)
		}
		for _, c := range []struct {
			row          int
			column, want string
		}{
			{2, "upstream_errors", "main#0: The server is overloaded."},
			{2, "deployment", "backup#0"},
			{2, "classes", "server_error"},
			{3, "cost_usd", "0.00042"},
			{3, "time", "2025-01-31T09:00:00Z"},
			{1, "cache", "HIT"},
		} {
			if got := cell(c.row, c.column); got != c.want {
				t.Errorf("row %d %s = %q, want %q", c.row, c.column, got, c.want)
			}
		}
	})

	t.Run("json", func(t *testing.T) {
		b := download(t, "format=json&status=4xx", ".json", "application/json")
		var got struct {
			Data []requestlog.Record `json:"data"`
		}
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("the JSON does not parse back: %v\n%s", err, b)
		}
		if len(got.Data) != 1 || got.Data[0].ID != "limited" || got.Data[0].Attempts[0].Error != "Rate limit reached, please slow down" {
			t.Errorf("records %+v, want limited with its upstream error", got.Data)
		}
	})

	t.Run("everything without a limit", func(t *testing.T) {
		var got struct {
			Data []requestlog.Record `json:"data"`
		}
		if err := json.Unmarshal(download(t, "format=json", ".json", "application/json"), &got); err != nil || len(got.Data) != 5 {
			t.Errorf("%d records (%v), want all 5", len(got.Data), err)
		}
	})
}

func TestRequestsBadParameters(t *testing.T) {
	ts := newLogServer(t, seedLog(t))
	tests := []struct {
		query, param, msg string
	}{
		{"limit=0", "limit", "from 1 to 1000"},
		{"limit=1001", "limit", "from 1 to 1000"},
		{"limit=ten", "limit", "from 1 to 1000"},
		{"status=600", "status", "HTTP status"},
		{"status=6xx", "status", "HTTP status"},
		{"status=50x", "status", "HTTP status"},
		{"class=overloaded", "class", "server_error"},
		{"cache=maybe", "cache", "HIT, MISS"},
		{"since=yesterday", "since", "RFC 3339"},
		{"until=2025-01-31", "until", "RFC 3339"},
		{"since=2025-01-31T10:00:00Z&until=2025-01-31T09:00:00Z", "until", "later than since"},
		{"format=xml", "format", "json or csv"},
		{"statuss=500", "statuss", "unknown parameter"},
		{"status=500&status=502", "status", "more than once"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			resp, b := getRequests(t, ts, tt.query)
			var e errorResponse
			if err := json.Unmarshal(b, &e); err != nil {
				t.Fatalf("not the API's error shape: %s", b)
			}
			if resp.StatusCode != http.StatusBadRequest || e.Error.Type != "invalid_request_error" || deref(e.Error.Param) != tt.param ||
				!strings.Contains(e.Error.Message, tt.msg) {
				t.Errorf("got %d %s param %q, want 400 naming %q and saying %q", resp.StatusCode, e.Error.Message, deref(e.Error.Param), tt.param, tt.msg)
			}
		})
	}
}

// TestRequestLogKeepsUpstreamError: a failed attempt's record holds the
// upstream's error message, redacted of the keys Detour knows, both in
// the log itself and in the API's answer.
func TestRequestLogKeepsUpstreamError(t *testing.T) {
	r, err := router.New([]router.Deployment{
		{ID: "main#0", Group: "main", Provider: "mock", Model: "main", Client: mock.New(mock.Options{Model: "main", Status: 503})},
		{ID: "backup#0", Group: "backup", Provider: "mock", Model: "backup", Client: mock.New(mock.Options{Model: "backup"})},
	}, router.Settings{Fallbacks: map[string][]string{"main": {"backup"}}, MaxFallbacks: 1}, router.Options{})
	if err != nil {
		t.Fatal(err)
	}
	l, err := requestlog.Open(filepath.Join(t.TempDir(), "requests.db"), requestlog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	// The mock's error names its settings; call that a key to see it go.
	var secrets redact.Secrets
	secrets.Add("mock_status/mock_fail_rate")
	ts := httptest.NewServer(New(Options{Router: func() *router.Router { return r }, RequestLog: l, Secrets: &secrets,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}))
	defer ts.Close()

	resp, err := http.Post(ts.URL+"/v1/chat/completions", "application/json",
		strings.NewReader(`{"model":"main","messages":[{"role":"user","content":"hi"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	id := resp.Header.Get("X-Detour-Request-Id")
	if err := l.Flush(); err != nil {
		t.Fatal(err)
	}
	rec, err := l.Get(id)
	if err != nil || len(rec.Attempts) != 2 {
		t.Fatalf("record %+v, %v; want a failover of 2 attempts", rec, err)
	}
	failed, answered := rec.Attempts[0], rec.Attempts[1]
	if !strings.Contains(failed.Error, "mock failure: HTTP 503") || !strings.Contains(failed.Error, redact.Placeholder) ||
		strings.Contains(failed.Error, "mock_status") {
		t.Errorf("failed attempt's error %q: want the upstream's message, redacted", failed.Error)
	}
	if answered.Error != "" {
		t.Errorf("the answering attempt has an error: %q", answered.Error)
	}
	_, b := getRequests(t, ts, "q="+url.QueryEscape("mock failure"))
	if !strings.Contains(string(b), id) {
		t.Errorf("q= does not find the upstream's error text: %s", b)
	}
}
