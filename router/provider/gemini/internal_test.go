package gemini

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/detour-gateway/detour/chat"
	"github.com/detour-gateway/detour/router/provider"
)

func TestConvertSchema(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"drops unknown keys", `{"$schema":"x","$id":"y","type":"object","additionalProperties":false,"properties":{"a":{"type":"string","format":"email","examples":["q"]}},"required":["a"],"strict":true}`,
			`{"properties":{"a":{"type":"string"}},"required":["a"],"type":"object"}`},
		{"type array", `{"type":["integer","null"]}`, `{"nullable":true,"type":"integer"}`},
		{"several types", `{"type":["integer","string"]}`, `{"anyOf":[{"type":"integer"},{"type":"string"}]}`},
		{"null type", `{"type":"null"}`, `{"nullable":true}`},
		{"oneOf", `{"oneOf":[{"type":"string"},{"type":"number","multipleOf":2}]}`, `{"anyOf":[{"type":"string"},{"type":"number"}]}`},
		{"allOf of one", `{"allOf":[{"type":"object","properties":{"a":{"type":"boolean"}}}],"description":"d"}`, `{"description":"d","properties":{"a":{"type":"boolean"}},"type":"object"}`},
		{"allOf of two dropped", `{"allOf":[{"type":"string"},{"minLength":1}]}`, `{}`},
		{"ref and definitions", `{"definitions":{"P":{"type":"string","description":"inner"}},"type":"object","properties":{"p":{"$ref":"#/definitions/P","description":"outer"}}}`,
			`{"properties":{"p":{"description":"outer","type":"string"}},"type":"object"}`},
		{"unknown ref", `{"type":"object","properties":{"p":{"$ref":"#/components/X"}}}`, `{"properties":{"p":{}},"type":"object"}`},
		{"const", `{"const":"on"}`, `{"enum":["on"],"type":"string"}`},
		{"numeric enum", `{"enum":[1.5,2]}`, `{"type":"number"}`},
		{"required filtered", `{"type":"object","properties":{"a":{"type":"string"}},"required":["a","b","a"],"propertyOrdering":["b","a"]}`,
			`{"properties":{"a":{"type":"string"}},"propertyOrdering":["a"],"required":["a"],"type":"object"}`},
		{"property true", `{"type":"object","properties":{"a":true}}`, `{"properties":{"a":{}},"type":"object"}`},
		{"implied types", `{"properties":{"xs":{"items":{"enum":["a"]}}}}`, `{"properties":{"xs":{"items":{"enum":["a"],"type":"string"},"type":"array"}},"type":"object"}`},
		{"numbers kept exact", `{"type":"number","minimum":0.1,"maximum":12345678901234567890}`, `{"maximum":12345678901234567890,"minimum":0.1,"type":"number"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := convertSchema(json.RawMessage(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			b, _ := json.Marshal(got)
			if string(b) != tt.want {
				t.Errorf("got  %s\nwant %s", b, tt.want)
			}
		})
	}
}

func TestConvertSchemaRecursionBounded(t *testing.T) {
	// A tree whose node refers to itself four times would inline 4^depth
	// copies without the bounds.
	in := `{"$defs":{"N":{"type":"object","properties":{"a":{"$ref":"#/$defs/N"},"b":{"$ref":"#/$defs/N"},"c":{"$ref":"#/$defs/N"},"d":{"$ref":"#/$defs/N"}}}},"$ref":"#/$defs/N"}`
	got, err := convertSchema(json.RawMessage(in))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(got)
	if len(b) > 1<<20 {
		t.Errorf("schema grew to %d bytes", len(b))
	}
	if !strings.Contains(string(b), `"properties":{"a":{`) {
		t.Errorf("recursive schema not inlined at all: %.200s", b)
	}
}

func TestConvertSchemaRejects(t *testing.T) {
	for _, in := range []string{`[1]`, `"s"`, `{`, `null`} {
		if _, err := convertSchema(json.RawMessage(in)); err == nil {
			t.Errorf("%s: no error", in)
		}
	}
}

func TestToolCallIDRoundTrip(t *testing.T) {
	tests := []struct {
		id, sig  string
		embedded bool
	}{
		{"call_ab", "+/+/ZmFrZS10aG91Z2h0LTE=", true},
		{"call_ab", "AAAA", true},
		{"fc_1", "ab+/cd==", true},
		{"x", "no-padding", false}, // not canonical base64: Extra only
		{"x", "a=b=", false},
		{"x", "", false},
	}
	for _, tt := range tests {
		id := toolCallID(tt.id, tt.sig)
		if strings.ContainsAny(id, "+/=") {
			t.Errorf("%q: id %q has characters outside [A-Za-z0-9_-]", tt.sig, id)
		}
		base, sig := splitToolCallID(id)
		if base != tt.id {
			t.Errorf("%q: base %q, want %q", tt.sig, base, tt.id)
		}
		if tt.embedded && sig != tt.sig || !tt.embedded && sig != "" {
			t.Errorf("%q: split signature %q (embedded %v)", tt.sig, sig, tt.embedded)
		}
	}
	// A client may send the signature verbatim after the separator, as
	// other gateways write it.
	if _, sig := splitToolCallID("call_1__thought__ab+/cd=="); sig != "ab+/cd==" {
		t.Errorf("verbatim signature read as %q", sig)
	}
	tc := chat.ToolCall{ID: "call_1__thought__AAAA", Extra: signatureExtra("BBBB")}
	if _, sig := splitToolCall(tc); sig != "BBBB" {
		t.Errorf("Extra does not win: %q", sig)
	}
}

func TestToolResultMatchesCallWithoutSignature(t *testing.T) {
	var req chat.Request
	body := `{"messages":[{"role":"user","content":"x"},
		{"role":"assistant","tool_calls":[{"id":"fc9__thought__AAAA","type":"function","function":{"name":"f","arguments":"{}"}}]},
		{"role":"tool","tool_call_id":"fc9","content":"{\"ok\":true}"}]}`
	if err := json.Unmarshal([]byte(body), &req); err != nil {
		t.Fatal(err)
	}
	contents, _, perr := buildContents(req.Messages)
	if perr != nil {
		t.Fatal(perr)
	}
	got, _ := json.Marshal(contents)
	want := `[{"role":"user","parts":[{"text":"x"}]},{"role":"model","parts":[{"thoughtSignature":"AAAA","functionCall":{"id":"fc9","name":"f","args":{}}}]},{"role":"user","parts":[{"functionResponse":{"id":"fc9","name":"f","response":{"ok":true}}}]}]`
	if string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// zeroRand is a Rand of zeros.
type zeroRand struct{}

func (zeroRand) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// fuzzClient is the client the fuzz targets parse with.
func fuzzClient() *Client {
	return New(Options{Model: "gemini-2.5-flash", Now: func() time.Time { return time.Unix(1, 0) }, Rand: zeroRand{}})
}

// FuzzResponse feeds arbitrary bytes to the non-streamed answer parser.
func FuzzResponse(f *testing.F) {
	f.Add([]byte(`{"candidates":[{"content":{"parts":[{"text":"hi"}],"role":"model"},"finishReason":"STOP"}]}`))
	c := fuzzClient()
	f.Fuzz(func(t *testing.T, data []byte) {
		resp, err := c.decodeResponse(data)
		if err != nil {
			var pe *provider.Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %T is not a *provider.Error", err)
			}
			return
		}
		if len(resp.Choices) == 0 {
			t.Fatal("answer without choices")
		}
		if _, err := json.Marshal(resp); err != nil {
			t.Fatalf("answer does not encode: %v", err)
		}
		for _, ch := range resp.Choices {
			for _, tc := range ch.Message.ToolCalls {
				if tc.ID == "" || tc.Type != "function" || !json.Valid([]byte(tc.Function.Arguments)) {
					t.Fatalf("bad tool call %+v", tc)
				}
			}
		}
	})
}

// FuzzStream feeds arbitrary bytes to the stream parser as a response body.
func FuzzStream(f *testing.F) {
	f.Add([]byte("data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"hi\"}]},\"finishReason\":\"STOP\"}]}\r\n\r\n"))
	c := fuzzClient()
	f.Fuzz(func(t *testing.T, data []byte) {
		s := c.newStream(io.NopCloser(bytes.NewReader(data)), true)
		defer s.Close()
		var chunks []*chat.Chunk
		for {
			ch, err := s.Recv()
			if err == io.EOF {
				break
			}
			if err != nil {
				var pe *provider.Error
				if !errors.As(err, &pe) {
					t.Fatalf("error %T is not a *provider.Error", err)
				}
				return
			}
			if _, err := json.Marshal(ch); err != nil {
				t.Fatalf("chunk does not encode: %v", err)
			}
			chunks = append(chunks, ch)
			if len(chunks) > 1<<20 {
				t.Fatal("stream does not end")
			}
		}
		// A clean end has a role chunk first and a usage chunk last.
		if len(chunks) < 2 || chunks[0].Choices[0].Delta.Role != "assistant" || chunks[len(chunks)-1].Usage == nil {
			t.Fatalf("clean end with chunks %d", len(chunks))
		}
		for _, ch := range chunks {
			if ch.ID != chunks[0].ID {
				t.Fatal("chunk ids differ")
			}
		}
		if !reflect.DeepEqual(chunks[len(chunks)-1].Choices, []chat.ChunkChoice{}) {
			t.Fatal("usage chunk has choices")
		}
	})
}
