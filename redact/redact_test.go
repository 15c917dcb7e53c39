package redact

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
)

func TestSecrets(t *testing.T) {
	var s Secrets
	azure := "0123456789abcdef0123456789abcdef" // 32 hex digits, no known prefix
	token := "Tok3nWithoutAnyPrefix24x"
	s.Add(azure)
	s.Add(" " + token + "\n") // white space is not part of the key
	s.Add("short")            // below MinLen: ignored
	s.Add(azure)              // twice: once
	if s.Len() != 2 {
		t.Fatalf("Len = %d, want 2", s.Len())
	}
	tests := []struct {
		name, in, want string
	}{
		{"no secret", "upstream said no", "upstream said no"},
		{"azure key echoed", "Access denied due to invalid subscription key " + azure + ".", "Access denied due to invalid subscription key [redacted]."},
		{"bare token twice", token + "/" + token, "[redacted]/[redacted]"},
		{"inside JSON", `{"error":{"message":"key ` + token + ` rejected"}}`, `{"error":{"message":"key [redacted] rejected"}}`},
		{"short value kept", "short circuit", "short circuit"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := s.String(tt.in); got != tt.want {
				t.Errorf("String(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if got := string(s.Bytes([]byte(tt.in))); got != tt.want {
				t.Errorf("Bytes(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestSecretsLongestFirst(t *testing.T) {
	var s Secrets
	s.Add("abcdefgh")
	s.Add("abcdefgh-and-more") // contains the first
	if got := s.String("x abcdefgh-and-more y abcdefgh"); got != "x [redacted] y [redacted]" {
		t.Errorf("got %q", got)
	}
}

func TestNilAndEmptySecrets(t *testing.T) {
	var nilSet *Secrets
	if got := nilSet.String("sk-anything-at-all"); got != "sk-anything-at-all" {
		t.Errorf("nil set changed text: %q", got)
	}
	var empty Secrets
	b := []byte("unchanged")
	if got := empty.Bytes(b); &got[0] != &b[0] {
		t.Error("Bytes copied a text with no secret")
	}
}

func TestSecretsConcurrent(t *testing.T) {
	var s Secrets
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := strings.Repeat(string(rune('a'+i)), 12)
			s.Add(key)
			if got := s.String("k=" + key); got != "k=[redacted]" {
				t.Errorf("got %q", got)
			}
		}()
	}
	wg.Wait()
	if s.Len() != 8 {
		t.Errorf("Len = %d, want 8", s.Len())
	}
}

type stringer string

func (s stringer) String() string { return string(s) }

func TestHandler(t *testing.T) {
	var s Secrets
	key := "AZUREKEY0123456789abcdef01234567"
	s.Add(key)
	var buf bytes.Buffer
	log := slog.New(NewHandler(slog.NewTextHandler(&buf, nil), &s))
	log = log.With("upstream", "said "+key).WithGroup("g")
	log.Warn("request failed: "+key,
		"err", errors.New("401: "+key),
		"text", key,
		"bytes", []byte(key),
		"stringer", stringer(key),
		"any", map[string]string{"k": key},
		slog.Group("nested", "deep", key),
		"count", 3)
	out := buf.String()
	if strings.Contains(out, key) {
		t.Fatalf("the key reached the log:\n%s", out)
	}
	for _, want := range []string{"request failed: [redacted]", "err=\"401: [redacted]\"", "g.count=3", "g.nested.deep=[redacted]"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
}
