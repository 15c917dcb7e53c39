package ollama_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/detour-gateway/detour/chat"
	"github.com/detour-gateway/detour/router/provider"
	"github.com/detour-gateway/detour/router/provider/ollama"
	"github.com/detour-gateway/detour/router/provider/ollama/ollamatest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// A 1×1 PNG.
const pixel = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="

var weatherTool = `{"type":"function","function":{"name":"get_weather","description":"Current weather in a city",
	"parameters":{"type":"object","properties":{"city":{"type":"string","description":"City name"},
	"unit":{"type":"string","enum":["celsius","fahrenheit"]}},"required":["city"]}}}`

// goldenCases are OpenAI-shaped requests, with what the fake answers. For
// each, testdata/requests/NAME.json holds the body the adapter sent to
// Ollama and testdata/responses/NAME.json what it made of the answer (a
// chat.completion, the list of chunks of a stream, or a local error).
var goldenCases = []struct {
	name    string
	request string
	replies []ollamatest.Reply
}{
	{"plain", `{"model":"local","messages":[{"role":"user","content":"Say hello."}],
		"temperature":0.2,"user":"u-42","logit_bias":{"50256":-100}}`,
		[]ollamatest.Reply{{Text: "Hello there."}}},
	{"system_multiturn", `{"model":"local","messages":[
		{"role":"system","content":"You are terse."},
		{"role":"developer","content":"Answer in English."},
		{"role":"user","content":"What is 2+2?"},
		{"role":"assistant","content":"4"},
		{"role":"user","content":[{"type":"text","text":"And 3+3?"},{"type":"text","text":"Just the number."}]}]}`,
		[]ollamatest.Reply{{Text: "6"}}},
	{"tools_call", `{"model":"local","messages":[{"role":"user","content":"Weather in Paris?"}],
		"tools":[` + weatherTool + `],"tool_choice":"auto"}`,
		[]ollamatest.Reply{{ToolCalls: []ollamatest.ToolCall{{Name: "get_weather", Args: `{"city":"Paris","unit":"celsius"}`}}}}},
	{"tools_result", `{"model":"local","messages":[{"role":"user","content":"Weather in Paris?"},
		{"role":"assistant","content":null,"tool_calls":[{"id":"call_k3j4h5g6","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\",\"unit\":\"celsius\"}"}}]},
		{"role":"tool","tool_call_id":"call_k3j4h5g6","content":"18°C, light rain"}],
		"tools":[` + weatherTool + `]}`,
		nil},
	{"image_data_url", `{"model":"local","messages":[{"role":"user","content":[
		{"type":"text","text":"What is in this image?"},
		{"type":"image_url","image_url":{"url":"data:image/png;base64,` + pixel + `","detail":"low"}}]}]}`,
		nil},
	{"image_http_url", `{"model":"local","messages":[{"role":"user","content":[
		{"type":"text","text":"What is in this image?"},
		{"type":"image_url","image_url":{"url":"https://example.test/cat.png"}}]}]}`,
		nil},
	{"stream_tools", `{"model":"local","stream":true,"messages":[{"role":"user","content":"Weather in Paris and Rome?"}],
		"tools":[` + weatherTool + `]}`,
		[]ollamatest.Reply{{Text: "Checking both.", ToolCalls: []ollamatest.ToolCall{
			{Name: "get_weather", Args: `{"city":"Paris"}`}, {Name: "get_weather", Args: `{"city":"Rome"}`}}}}},
	{"stream_include_usage", `{"model":"local","stream":true,"stream_options":{"include_usage":true},
		"messages":[{"role":"user","content":"Count to three."}]}`,
		[]ollamatest.Reply{{Text: "One, two, three."}}},
	{"stream_thinking", `{"model":"local","stream":true,"messages":[{"role":"user","content":"Is 7 prime?"}]}`,
		[]ollamatest.Reply{{Thinking: "7 has no divisors but 1 and 7.", Text: "Yes."}}},
	{"stream_length", `{"model":"local","stream":true,"max_completion_tokens":4,"messages":[{"role":"user","content":"Tell a story."}]}`,
		[]ollamatest.Reply{{Text: "Once upon a time there was a fox."}}},
	{"stop", `{"model":"local","messages":[{"role":"user","content":"Count to five."}],"stop":["four"],"seed":7}`,
		[]ollamatest.Reply{{Text: "one two three four five"}}},
	{"max_tokens_hit", `{"model":"local","messages":[{"role":"user","content":"Tell a story."}],"max_tokens":3}`,
		[]ollamatest.Reply{{Text: "Once upon a time there was a fox."}}},
	{"stop_reason_length", `{"model":"local","messages":[{"role":"user","content":"Tell a story."}]}`,
		[]ollamatest.Reply{{Text: "Once upon a", StopReason: "length"}}},
	{"thinking", `{"model":"local","messages":[{"role":"user","content":"Is 7 prime?"}],"top_p":0.9}`,
		[]ollamatest.Reply{{Thinking: "7 has no divisors but 1 and 7.", Text: "Yes."}}},
	{"json_schema", `{"model":"local","messages":[{"role":"user","content":"Name a city."}],
		"response_format":{"type":"json_schema","json_schema":{"name":"city","strict":true,
		"schema":{"type":"object","properties":{"name":{"type":"string"}},"required":["name"]}}}}`,
		[]ollamatest.Reply{{Text: `{"name":"Oslo"}`}}},
	{"legacy_tool_ids", `{"model":"local","messages":[{"role":"user","content":"Weather in Oslo?"}],"tools":[` + weatherTool + `]}`,
		[]ollamatest.Reply{{NoToolCallIDs: true, ToolCalls: []ollamatest.ToolCall{{Name: "get_weather", Args: `{"city":"Oslo"}`}}}}},
}

func TestGolden(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			up := ollamatest.New(t, tc.replies...)
			o := options(up.URL)
			if strings.Contains(tc.name, "image") {
				o.Model = "llava:7b"
			}
			c := ollama.New(o)
			req := parseRequest(t, tc.request)
			var result any
			if req.Stream {
				s, err := c.Stream(context.Background(), req)
				if err != nil {
					result = errorResult(t, err)
				} else {
					chunks, err := collect(s)
					s.Close()
					if err != nil {
						t.Fatal(err)
					}
					result = chunks
				}
			} else {
				resp, err := c.Chat(context.Background(), req)
				if err != nil {
					result = errorResult(t, err)
				} else {
					result = resp
				}
			}
			reqFile := filepath.Join("testdata", "requests", tc.name+".json")
			if reqs := up.Requests(); len(reqs) > 0 {
				compareGolden(t, reqFile, reqs[0].Raw)
			} else if _, err := os.Stat(reqFile); err == nil && !*update {
				t.Errorf("no request sent, but %s exists", reqFile)
			}
			out, err := json.Marshal(result)
			if err != nil {
				t.Fatal(err)
			}
			compareGolden(t, filepath.Join("testdata", "responses", tc.name+".json"), out)
		})
	}
}

func TestGoldenEmbeddings(t *testing.T) {
	up := ollamatest.New(t)
	o := options(up.URL)
	o.Model = "nomic-embed-text"
	o.NumCtx = 2048
	var req chat.EmbeddingRequest
	if err := json.Unmarshal([]byte(`{"model":"embed","input":["The sky is blue.","Grass is green."],"dimensions":4,"user":"u-1"}`), &req); err != nil {
		t.Fatal(err)
	}
	resp, err := ollama.New(o).Embed(context.Background(), &req)
	if err != nil {
		t.Fatal(err)
	}
	compareGolden(t, filepath.Join("testdata", "requests", "embed.json"), up.Requests()[0].Raw)
	out, _ := json.Marshal(resp)
	compareGolden(t, filepath.Join("testdata", "responses", "embed.json"), out)
}

// errorResult is how a failure is kept in a golden file.
func errorResult(t *testing.T, err error) any {
	var pe *provider.Error
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v, want *provider.Error", err)
	}
	return map[string]any{"error": map[string]any{"class": pe.Class, "status": pe.Status, "local": pe.Local, "message": pe.Message}}
}

// compareGolden compares got with the golden file structurally (both
// decoded), or rewrites the file with -update.
func compareGolden(t *testing.T, file string, got []byte) {
	t.Helper()
	gotPretty := indent(t, got)
	if *update {
		// Written in the order the adapter sent the members.
		var b bytes.Buffer
		if err := json.Indent(&b, got, "", "  "); err != nil {
			t.Fatal(err)
		}
		b.WriteByte('\n')
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run go test -run TestGolden -update to write it)", err)
	}
	wantPretty := indent(t, want)
	if !bytes.Equal(gotPretty, wantPretty) {
		t.Errorf("%s differs (-want +got):\n%s", file, lineDiff(string(wantPretty), string(gotPretty)))
	}
}

// indent decodes and re-encodes JSON, so member order and spacing do not
// matter in comparisons.
func indent(t *testing.T, b []byte) []byte {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, b)
	}
	out, _ := json.MarshalIndent(v, "", "  ")
	return append(out, '\n')
}

// lineDiff is a small longest-common-subsequence diff of two texts.
func lineDiff(a, b string) string {
	x, y := strings.Split(a, "\n"), strings.Split(b, "\n")
	lcs := make([][]int, len(x)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(y)+1)
	}
	for i := len(x) - 1; i >= 0; i-- {
		for j := len(y) - 1; j >= 0; j-- {
			if x[i] == y[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out strings.Builder
	i, j := 0, 0
	for i < len(x) || j < len(y) {
		switch {
		case i < len(x) && j < len(y) && x[i] == y[j]:
			fmt.Fprintf(&out, "  %s\n", x[i])
			i, j = i+1, j+1
		case i < len(x) && (j == len(y) || lcs[i+1][j] >= lcs[i][j+1]):
			fmt.Fprintf(&out, "- %s\n", x[i])
			i++
		default:
			fmt.Fprintf(&out, "+ %s\n", y[j])
			j++
		}
	}
	return out.String()
}
