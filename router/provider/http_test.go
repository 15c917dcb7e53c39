package provider

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestNewRequest(t *testing.T) {
	req, perr := NewRequest(context.Background(), "groq", "http://upstream.test/v1/chat/completions", []byte(`{}`), "text/event-stream")
	if perr != nil {
		t.Fatal(perr)
	}
	body, _ := io.ReadAll(req.Body)
	if req.Method != http.MethodPost || string(body) != "{}" ||
		req.Header.Get("Content-Type") != "application/json" || req.Header.Get("Accept") != "text/event-stream" {
		t.Errorf("request = %s %s %q %v", req.Method, req.URL, body, req.Header)
	}
	_, perr = NewRequest(context.Background(), "groq", "http://bad host/", nil, "application/json")
	if perr == nil || perr.Class != BadRequest || !perr.Local || perr.Message != "invalid api_base for groq" {
		t.Errorf("bad URL: %+v", perr)
	}
}

func TestSetKey(t *testing.T) {
	var got []string
	set := func(k string) { got = append(got, k) }
	keyOf := func(k string, err error) KeyFunc {
		return func(context.Context) (string, error) { return k, err }
	}
	ctx := context.Background()
	if perr := SetKey(ctx, nil, set); perr != nil || got != nil {
		t.Errorf("nil key: %v, set %q", perr, got)
	}
	if perr := SetKey(ctx, keyOf("", nil), set); perr != nil || got != nil {
		t.Errorf("empty key: %v, set %q", perr, got)
	}
	if perr := SetKey(ctx, keyOf("sk-1", nil), set); perr != nil || len(got) != 1 || got[0] != "sk-1" {
		t.Errorf("key: %v, set %q", perr, got)
	}
	missing := errors.New("no key for groq in the keychain")
	perr := SetKey(ctx, keyOf("", missing), set)
	if perr == nil || perr.Class != Auth || !perr.Local || perr.Message != missing.Error() || !errors.Is(perr, missing) || len(got) != 1 {
		t.Errorf("failing key: %+v, set %q", perr, got)
	}
}

func TestSend(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/ok" {
			io.WriteString(w, "answer")
			return
		}
		w.Header().Set("Retry-After", "3")
		w.WriteHeader(http.StatusTooManyRequests)
		io.WriteString(w, "slow down")
	}))
	defer up.Close()
	classify := func(status int, h http.Header, body []byte) *Error {
		return &Error{Class: RateLimited, Status: status, Message: h.Get("Retry-After") + " " + string(body)}
	}
	get := func(path string) *http.Request {
		req, err := http.NewRequest(http.MethodGet, up.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		return req
	}

	resp, err := Send(http.DefaultClient, get("/ok"), classify)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "answer" {
		t.Errorf("body = %q", body)
	}

	resp, err = Send(http.DefaultClient, get("/busy"), classify)
	if pe := AsError(err); resp != nil || pe.Class != RateLimited || pe.Status != http.StatusTooManyRequests || pe.Message != "3 slow down" {
		t.Errorf("429: resp %v, err %+v", resp, err)
	}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String()
	l.Close()
	req, _ := http.NewRequest(http.MethodGet, closed, nil)
	_, err = Send(http.DefaultClient, req, classify)
	if pe := AsError(err); pe.Class != Connection || !strings.Contains(pe.Message, "could not connect") {
		t.Errorf("refused: %+v", err)
	}
}

// failingBody yields some bytes, then a read error.
type failingBody struct {
	sent, closed bool
}

func (b *failingBody) Read(p []byte) (int, error) {
	if !b.sent {
		b.sent = true
		return copy(p, "{"), nil
	}
	return 0, errors.New("connection reset by peer")
}

func (b *failingBody) Close() error { b.closed = true; return nil }

func TestReadAnswer(t *testing.T) {
	ok := &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader(`{"id":"x"}`))}
	body, perr := ReadAnswer(ok, "groq", "answer")
	if perr != nil || string(body) != `{"id":"x"}` {
		t.Errorf("ReadAnswer = %q, %v", body, perr)
	}
	fb := &failingBody{}
	body, perr = ReadAnswer(&http.Response{StatusCode: 200, Body: fb}, "groq", "embeddings")
	if body != nil || perr == nil || perr.Class != Connection || perr.Local ||
		!strings.Contains(perr.Err.Error(), "read embeddings from groq: connection reset") {
		t.Errorf("failing body: %q, %+v", body, perr)
	}
	if !fb.closed {
		t.Error("body not closed")
	}
}
