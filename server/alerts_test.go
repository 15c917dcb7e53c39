package server

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/detour-gateway/detour/alerts"
	"github.com/detour-gateway/detour/clock"
	"github.com/detour-gateway/detour/requestlog"
	"github.com/detour-gateway/detour/router"
	"github.com/detour-gateway/detour/router/provider/mock"
)

func TestAlertsRoute(t *testing.T) {
	r, err := router.New([]router.Deployment{{ID: "mock-1", Group: "demo", Provider: "mock", Model: "demo",
		Client: mock.New(mock.Options{Model: "demo"})}}, router.Settings{}, router.Options{})
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFake(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	e := alerts.New(nil, alerts.Options{Clock: clk})
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	tests := []struct {
		name   string
		opts   Options
		status int
		firing []string
	}{
		{name: "served", opts: Options{Alerts: e.Snapshot}, status: http.StatusOK, firing: []string{"auth_failure:openai"}},
		{name: "not served without alerts", status: http.StatusNotFound},
	}
	e.Observe(requestlog.Record{Attempts: []requestlog.Attempt{{Deployment: "a", Provider: "openai", Class: "auth", Status: 401}}})
	e.Evaluate(clk.Now())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Router, tt.opts.Logger = func() *router.Router { return r }, logger
			ts := httptest.NewServer(New(tt.opts))
			defer ts.Close()
			resp, err := http.Get(ts.URL + "/api/v1/alerts")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.status)
			}
			if tt.status != http.StatusOK {
				return
			}
			var body struct {
				Firing  []alerts.Alert `json:"firing"`
				History []alerts.Alert `json:"history"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
				t.Fatal(err)
			}
			if len(body.Firing) != len(tt.firing) || body.Firing[0].ID != tt.firing[0] || body.Firing[0].State != alerts.Firing ||
				body.Firing[0].Fix != "detour keys set openai" || len(body.History) != 1 {
				t.Fatalf("answer %+v, want %v firing with its fix, and in the history", body, tt.firing)
			}
		})
	}
}
