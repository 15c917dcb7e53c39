package openai

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// readSeeds are bodies for the fast reader: as clients send them, and the
// cases where it must give up or read exactly as encoding/json does.
var readSeeds = []string{
	`{"model":"m","input":"Hello"}`,
	`{"model":"m","input":[{"type":"function_call","call_id":"c","name":"f","arguments":"{\"a\":1}"},{"type":"function_call_output","call_id":"c","output":"ok"}]}`,
	`{"model":"m","input":[{"type":"reasoning","summary":[{"type":"summary_text","text":"t"},null,{"TYPE":"x"}],"content":[]}]}`,
	`{"model":"m","input":[],"tools":[],"tool_choice":null,"metadata":{"a":"b"},"stream":true,"store":null,"max_output_tokens":5,"temperature":0.5,"top_p":1e0}`,
	`{"model":"m","model":null,"instructions":"a","instructions":null,"stream":true,"stream":false,"input":[{"type":"message"}],"input":"x"}`,
	`{"Model":"m"}`, `{"mod\u0065l":"m"}`, `{"ſtream":true}`, `{"model":"m","x_unknown":{"Model":1,"ſ":[1,2]}}`,
	`{"model":5}`, `{"max_output_tokens":1.5}`, `{"max_output_tokens":1e2}`, `{"max_output_tokens":99999999999999999999}`,
	`{"temperature":1e400}`, `{"tools":{}}`, `{"input":[1]}`, `{"input":[null]}`, `{"input":[{"type":5}]}`,
	"{\"model\":\"bad\xff\",\"input\":[{\"type\":\"message\",\"role\":\"user\",\"content\":\"\\ud800 \xfe\"}]}",
	` { "model" : "spaced" , "input" : [ { "type" : "message" , "content" : [ ] } ] } `,
	`{"model":"m"} x`, `{"model":"m",}`, `{"model":"m"`, `[]`, `null`, ``, `{"a":01}`, `{"a":"\q"}`,
	`{"input":` + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + `}`,
}

// FuzzReadResponsesBody holds the fast reader to encoding/json: whenever it
// takes a body, what it reads is what json.Unmarshal reads, the body and
// each input item; and a body encoding/json refuses it never takes.
func FuzzReadResponsesBody(f *testing.F) {
	for _, s := range readSeeds {
		f.Add([]byte(s))
	}
	for _, name := range []string{"codex_request.json", "codex_request_turn2.json"} {
		if b, err := os.ReadFile(filepath.Join("testdata", "responses", name)); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		w, items, ok := readResponsesBody(body)
		var want responsesWire
		err := json.Unmarshal(body, &want)
		if !ok {
			return
		}
		if err != nil {
			t.Fatalf("took a body encoding/json refuses (%v): %q", err, body)
		}
		if !reflect.DeepEqual(w, want) {
			t.Fatalf("read %+v\nwant %+v", w, want)
		}
		if in := trimSpace(want.Input); len(in) == 0 || in[0] != '[' {
			if items != nil {
				t.Fatalf("items read from input %s, which is no array", in)
			}
			return
		}
		var raws []json.RawMessage
		if err := json.Unmarshal(want.Input, &raws); err != nil {
			t.Fatal(err)
		}
		if len(items) != len(raws) {
			t.Fatalf("%d items, want %d", len(items), len(raws))
		}
		for i, raw := range raws {
			var it wireItem
			if err := json.Unmarshal(raw, &it); err != nil || !isObject(raw) {
				t.Fatalf("took item %d that encoding/json refuses (%v): %s", i, err, raw)
			}
			if !reflect.DeepEqual(items[i], it) {
				t.Fatalf("item %d read %+v\nwant %+v", i, items[i], it)
			}
			if isNull(it.Summary) {
				continue
			}
			parts, ok := readTextParts(it.Summary)
			var wantParts []textPart
			err := json.Unmarshal(it.Summary, &wantParts)
			if ok && (err != nil || !reflect.DeepEqual(parts, wantParts)) {
				t.Fatalf("summary read %+v, want %+v (%v)", parts, wantParts, err)
			}
		}
	})
}

// TestExactString checks which JSON strings go upstream as the client
// wrote them: those every reader reads as encoding/json does.
func TestExactString(t *testing.T) {
	for _, tt := range []struct {
		raw  string
		want bool
	}{
		{`""`, true}, {`"plain"`, true}, {`"\n\t\"\\\/ \u00e9 \u0000"`, true}, {`"\ud83d\ude00"`, true},
		{`"\\ud800"`, true}, // an escaped backslash, then text
		{`"\ud800"`, false}, {`"\udc00"`, false}, {`"\ud83d\u0041"`, false}, {`"\ud83d\\ude00"`, false},
		{`"\ud83d"`, false}, {"\"\xff\"", false}, {"\"\xed\xa0\x80\"", false}, {"\"caf\xc3\xa9\"", true},
	} {
		if got := exactString([]byte(tt.raw)); got != tt.want {
			t.Errorf("exactString(%s) = %v, want %v", tt.raw, got, tt.want)
		}
	}
}

// TestReadResponsesBodyTakesClientBodies checks that the fast path takes
// what clients send, so that it is the path requests go.
func TestReadResponsesBodyTakesClientBodies(t *testing.T) {
	for _, name := range []string{"codex_request.json", "codex_request_turn2.json"} {
		body, err := os.ReadFile(filepath.Join("testdata", "responses", name))
		if err != nil {
			t.Fatal(err)
		}
		if _, items, ok := readResponsesBody(body); !ok || items == nil {
			t.Errorf("%s: the fast path gave up", name)
		}
	}
	for _, s := range []string{`{"Model":"m"}`, `{"mod\u0065l":"m"}`, `{"ſtream":true}`, `{"model":5}`, `{"max_output_tokens":1.5}`, `{"input":[1]}`} {
		if _, _, ok := readResponsesBody([]byte(s)); ok {
			t.Errorf("%s: the fast path took it; encoding/json must", s)
		}
	}
}
