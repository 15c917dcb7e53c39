package sse

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/detour-gateway/detour/router/provider"
)

func TestReader(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []Event
		wantErr error
	}{
		{"openai", "data: {\"a\":1}\n\ndata: [DONE]\n\n", []Event{{Data: []byte(`{"a":1}`)}, {Data: []byte("[DONE]")}}, io.EOF},
		{"crlf and comments", ": keep-alive\r\n\r\nevent: message_start\r\ndata: {}\r\n\r\n", []Event{{Name: "message_start", Data: []byte("{}")}}, io.EOF},
		{"multi-line data", "data: a\ndata: b\nid: 7\nretry: 10\n\n", []Event{{Data: []byte("a\nb")}}, io.EOF},
		{"no space after colon", "data:x\n\n", []Event{{Data: []byte("x")}}, io.EOF},
		{"cut inside event", "data: {\"a\":1}\n\ndata: {\"b\"", []Event{{Data: []byte(`{"a":1}`)}}, io.ErrUnexpectedEOF},
		{"cut before blank line", "data: x\n", nil, io.ErrUnexpectedEOF},
		{"long line", "data: " + strings.Repeat("x", 100<<10) + "\n\n", []Event{{Data: []byte(strings.Repeat("x", 100<<10))}}, io.EOF},
		{"too large", "data: " + strings.Repeat("x", MaxEventBytes+1) + "\n\n", nil, ErrEventTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReader(strings.NewReader(tt.in))
			var got []Event
			var err error
			for {
				var ev Event
				ev, err = r.Next()
				if err != nil {
					break
				}
				got = append(got, ev)
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("final error = %v, want %v", err, tt.wantErr)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d events, want %d", len(got), len(tt.want))
			}
			for i := range got {
				if got[i].Name != tt.want[i].Name || string(got[i].Data) != string(tt.want[i].Data) {
					t.Errorf("event %d = %q %q, want %q %q", i, got[i].Name, got[i].Data, tt.want[i].Name, tt.want[i].Data)
				}
			}
		})
	}
}

func TestReadError(t *testing.T) {
	reset := errors.New("read event stream: connection reset by peer")
	tests := []struct {
		name    string
		err     error
		class   provider.Class
		status  int
		message string
	}{
		{"clean end", io.EOF, provider.Connection, 200, "the stream from groq ended before the answer was complete"},
		{"cut inside event", io.ErrUnexpectedEOF, provider.Connection, 200, "the stream from groq ended before the answer was complete"},
		{"too large", ErrEventTooLarge, provider.ServerError, 200, "groq sent an oversized stream event"},
		{"deadline", context.DeadlineExceeded, provider.Timeout, 0, "the provider did not answer in time"},
		{"reset", reset, provider.Connection, 0, "the connection to the provider broke"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := ReadError("groq", tt.err)
			if e.Class != tt.class || e.Status != tt.status || e.Message != tt.message || !errors.Is(e, tt.err) {
				t.Errorf("ReadError = %+v, want %s, status %d, %q", e, tt.class, tt.status, tt.message)
			}
		})
	}
}
