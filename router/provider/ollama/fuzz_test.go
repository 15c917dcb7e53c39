package ollama_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"testing"

	"github.com/detour-gateway/detour/router/provider"
	"github.com/detour-gateway/detour/router/provider/ollama"
	"github.com/detour-gateway/detour/router/provider/providertest"
)

// fuzzClient answers every request with a 200 carrying body, through the
// real api client and no network.
func fuzzClient(body []byte) *ollama.Client {
	o := options("http://ollama.test:11434")
	o.HTTPClient = &http.Client{Transport: providertest.RoundTripFunc(func(r *http.Request) (*http.Response, error) {
		resp := ndjson(http.StatusOK, "")
		resp.Body = io.NopCloser(bytes.NewReader(body))
		return resp, nil
	})}
	return ollama.New(o)
}

// checkFailure asserts that err is a classified failure a client may see.
func checkFailure(t *testing.T, err error) {
	t.Helper()
	var pe *provider.Error
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v (%T), want *provider.Error", err, err)
	}
	if !slices.Contains(provider.Classes(), pe.Class) || pe.Message == "" || pe.Local {
		t.Fatalf("failure = %+v", pe)
	}
	if _, err := json.Marshal(pe.Message); err != nil {
		t.Fatalf("message does not encode: %v", err)
	}
}

// FuzzResponse feeds arbitrary bytes to the non-streamed answer parser.
func FuzzResponse(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		resp, err := fuzzClient(body).Chat(context.Background(), hello(false))
		if err != nil {
			checkFailure(t, err)
			return
		}
		if len(resp.Choices) != 1 || resp.Choices[0].Message.Role != "assistant" || resp.Usage == nil {
			t.Fatalf("response = %+v", resp)
		}
		for _, tc := range resp.Choices[0].Message.ToolCalls {
			if tc.ID == "" || tc.Type != "function" || !json.Valid([]byte(tc.Function.Arguments)) {
				t.Fatalf("tool call = %+v", tc)
			}
		}
		if _, err := json.Marshal(resp); err != nil {
			t.Fatalf("response does not encode: %v", err)
		}
	})
}

// FuzzStream feeds arbitrary bytes to the stream parser as a 200 NDJSON
// body.
func FuzzStream(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		s, err := fuzzClient(body).Stream(context.Background(), hello(true))
		if err != nil {
			checkFailure(t, err)
			return
		}
		defer s.Close()
		chunks, err := providertest.Collect(s)
		if err != nil {
			checkFailure(t, err)
		}
		for i, c := range chunks {
			if c.ID != chunks[0].ID || c.Object != "chat.completion.chunk" {
				t.Fatalf("chunk %d = %+v", i, c)
			}
			if i == 0 && (len(c.Choices) != 1 || c.Choices[0].Delta.Role != "assistant") {
				t.Fatalf("first chunk = %+v", c)
			}
			for _, ch := range c.Choices {
				for _, tc := range ch.Delta.ToolCalls {
					if tc.Index == nil || tc.Function.Arguments != "" && !json.Valid([]byte(tc.Function.Arguments)) {
						t.Fatalf("tool call delta = %+v", tc)
					}
				}
			}
			if _, err := json.Marshal(c); err != nil {
				t.Fatalf("chunk does not encode: %v", err)
			}
		}
		if err == nil {
			// A complete stream ends with its finish chunk and the usage.
			n := len(chunks)
			if n < 3 || chunks[n-2].Choices[0].FinishReason == "" || chunks[n-1].Usage == nil {
				t.Fatalf("stream ended without finish and usage: %d chunks", n)
			}
		}
	})
}
