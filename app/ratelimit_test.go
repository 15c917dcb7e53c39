package app

import (
	"net/http"
	"testing"
)

func TestHeadroom(t *testing.T) {
	tests := []struct {
		name string
		h    http.Header
		want float64
		ok   bool
	}{
		{"none", http.Header{}, 1, false},
		{"openai requests and tokens", http.Header{"X-Ratelimit-Limit-Requests": {"500"}, "X-Ratelimit-Remaining-Requests": {"250"},
			"X-Ratelimit-Limit-Tokens": {"30000"}, "X-Ratelimit-Remaining-Tokens": {"3000"}}, 0.1, true},
		{"anthropic", http.Header{"Anthropic-Ratelimit-Requests-Limit": {"50"}, "Anthropic-Ratelimit-Requests-Remaining": {"40"},
			"Anthropic-Ratelimit-Output-Tokens-Limit": {"8000"}, "Anthropic-Ratelimit-Output-Tokens-Remaining": {"2000"}}, 0.25, true},
		{"garbage ignored", http.Header{"X-Ratelimit-Limit-Requests": {"lots"}, "X-Ratelimit-Remaining-Requests": {"5"}}, 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := headroom(tt.h)
			if got != tt.want || ok != tt.ok {
				t.Errorf("headroom = %v, %v; want %v, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}
