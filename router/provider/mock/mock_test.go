package mock

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/detour-gateway/detour/chat"
	"github.com/detour-gateway/detour/clock"
	"github.com/detour-gateway/detour/router/provider"
)

func req(stream bool) *chat.Request {
	return &chat.Request{Model: "demo", Stream: stream, StreamOptions: &chat.StreamOptions{IncludeUsage: true},
		Messages: []chat.Message{{Role: "user", Content: chat.TextContent("hello there")}}}
}

func TestMockAnswers(t *testing.T) {
	clk := clock.NewFake(time.Unix(0, 0))
	p := New(Options{Model: "demo", Response: "a b c", Latency: 250 * time.Millisecond, Clock: clk})
	resp, err := p.Chat(context.Background(), req(false))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Choices[0].Message.Text() != "a b c" || resp.Model != "demo" || resp.Usage == nil {
		t.Errorf("resp = %+v", resp)
	}
	if got := clk.Sleeps(); len(got) != 1 || got[0] != 250*time.Millisecond {
		t.Errorf("sleeps = %v, want [250ms]", got)
	}

	s, err := p.Stream(context.Background(), req(true))
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	n, usage := 0, false
	for {
		c, err := s.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
		for _, ch := range c.Choices {
			text.WriteString(ch.Delta.Content)
		}
		usage = usage || c.Usage != nil
	}
	if text.String() != "a b c" || n < 4 || !usage {
		t.Errorf("stream gave %q in %d chunks, usage %v", text.String(), n, usage)
	}
}

func TestMockFailures(t *testing.T) {
	tests := []struct {
		name   string
		opts   Options
		rand   float64
		class  provider.Class
		wantOK bool
	}{
		{"status 429", Options{Status: 429}, 0, provider.RateLimited, false},
		{"status 503", Options{Status: 503}, 0, provider.ServerError, false},
		{"status 401", Options{Status: 401}, 0, provider.Auth, false},
		{"fail rate hit", Options{FailRate: 0.5}, 0.2, provider.ServerError, false},
		{"fail rate miss", Options{FailRate: 0.5}, 0.7, "", true},
		{"fail rate with status", Options{FailRate: 0.5, Status: 429}, 0.1, provider.RateLimited, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Rand = func() float64 { return tt.rand }
			_, err := New(tt.opts).Chat(context.Background(), req(false))
			if tt.wantOK {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var pe *provider.Error
			if !errors.As(err, &pe) || pe.Class != tt.class {
				t.Errorf("err = %v, want class %s", err, tt.class)
			}
		})
	}
}
