package server

import (
	"testing"
	"time"

	"github.com/detour-gateway/detour/requestlog"
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
