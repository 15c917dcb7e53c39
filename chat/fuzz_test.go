package chat

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"testing"
)

// requestSeeds are chat-completion bodies as clients send them, and the
// edge cases of the decoder: unknown members at every level, members that
// differ from a modelled one only in case, duplicates, nulls, escapes,
// invalid UTF-8, numbers in every spelling, and bodies that must not decode.
var requestSeeds = []string{
	`{"model":"gpt-4o","messages":[{"role":"user","content":"Hello!"}]}`,
	`{"model":"main-llm","messages":[{"role":"system","content":"You are terse."},{"role":"developer","content":"Answer in French."},{"role":"user","content":"hi"}],"temperature":0.2,"top_p":1,"max_tokens":256,"n":1,"seed":42,"user":"u-1"}`,
	`{"model":"gpt-4o","stream":true,"stream_options":{"include_usage":true,"x_so":[1,2]},"messages":[{"role":"user","content":"count to 3"}],"stop":"END","max_completion_tokens":100}`,
	`{"model":"gpt-4o","messages":[{"role":"user","content":[{"type":"text","text":"What is in this image?"},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo=","detail":"low"}},{"type":"input_audio","input_audio":{"data":"AAAA","format":"wav"}}]}]}`,
	`{"model":"gpt-4o","messages":[{"role":"user","content":"Weather in Paris?"}],"tools":[{"type":"function","function":{"name":"get_weather","description":"Current weather","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]},"strict":true}}],"tool_choice":{"type":"function","function":{"name":"get_weather"}},"parallel_tool_calls":false}`,
	`{"model":"gpt-4o","messages":[{"role":"user","content":"Weather?"},{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},{"role":"tool","tool_call_id":"call_1","content":"{\"temp\":21}"}],"tool_choice":"auto"}`,
	`{"model":"o3","messages":[{"role":"user","content":"think"}],"reasoning_effort":"high","response_format":{"type":"json_schema","json_schema":{"name":"x","schema":{"type":"object"},"strict":true}},"logit_bias":{"50256":-100},"metadata":{"a":"b"},"store":false,"cache":{"ttl":600,"namespace":"team-a"}}`,
	`{"model":"claude","messages":[{"role":"assistant","content":"ok","reasoning_content":"hmm","name":"bot","x_msg":{"deep":[{"k":null}]}}],"thinking":{"type":"enabled","budget_tokens":1024},"top_k":40}`,
	`{"Model":"case","MESSAGES":[],"model":"m","messages":[]}`,
	`{"model":"m","messages":[{"role":"assistant","tool_calls":[{"index":0,"id":"c","type":"function","function":{"name":"f","arguments":"{}","x_fn":{"a":1}}}]}]}`,
	`{"model":"m","messages":[{"role":"assistant","tool_calls":[{"function":{"Name":"upper","name":"lower","ARGUMENTS":"{}"}}]}]}`,
	`{"model":"a","model":"b","messages":[{"role":"user","content":"x","content":"y"}],"x":1,"x":2}`,
	`{"model":"\u003chtml\u003e & \u2028 <b>","messages":[{"role":"user","content":"\ud83d\ude00 \u00e9 <>&"}],"x_html":"<script>&amp;</script>\u2029"}`,
	"{\"model\":\"bad\xff\xfeutf8\",\"messages\":[{\"role\":\"user\",\"content\":\"\xc3\x28\"}],\"x\xff\":\"\xed\xa0\x80\"}",
	`{"model":"m","messages":[],"temperature":1e0,"top_p":-0,"max_tokens":0,"seed":-9223372036854775808,"x_big":123456789012345678901234567890,"x_exp":1.5E-300,"x_neg":-0.0}`,
	`{"model":"m","messages":[null,{"role":null,"content":null,"tool_calls":null}],"stop":null,"tools":[null],"stream_options":null,"tool_choice":null,"response_format":null}`,
	`{"model":"m","messages":[],"stop":[],"tools":[],"stop":["a","b",""]}`,
	`{"model":"","messages":[{"role":"","content":""}],"stream":false,"user":""}`,
	` {  "model" : "spaced" ,
	  "messages" : [ { "role" : "user" , "content" : [ { "type" : "text" , "text" : "a" } ] } ] ,
	  "x" : { "b" : [ 1 , 2 , { } ] } } `,
	`{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"a"},{"TYPE":"text","Text":"b"},"loose",5,null]}]}`,
	`null`,
	`{}`,
	`{"":""}`,
	// Bodies the decoder must refuse.
	`[]`,
	`"model"`,
	`{"model":"m","messages":[],"stop":5}`,
	`{"model":"m","messages":[],"max_tokens":1.5}`,
	`{"model":"m","messages":[],"max_tokens":1e2}`,
	`{"model":"m","messages":[],"temperature":1e400}`,
	`{"model":"m","messages":{}}`,
	`{"model":"m","messages":[{"role":"user","tool_calls":[{"index":"0"}]}]}`,
	`{"model":"m","messages":[]`,
	`{"model":"m"} trailing`,
	``,
}

// FuzzRequest decodes arbitrary bytes as a chat-completion request body,
// as the server does. It must never panic, and a body that decodes must
// survive the gateway:
//   - it re-encodes, and the re-encoding decodes to a request that
//     re-encodes to the same bytes (round-trip stable);
//   - the re-encoding means what the body meant: every modelled field is
//     equal, JSON texts kept as written (content, tool_choice, extras) up to
//     insignificant whitespace and HTML escaping;
//   - every member the request does not model is passed on, with its
//     value, at every level (top level checked byte for byte);
//   - a message's Text and Parts read the same from both.
func FuzzRequest(f *testing.F) {
	for _, s := range requestSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var req Request
		if err := json.Unmarshal(body, &req); err != nil {
			return
		}
		enc, again := roundTrip(t, &req)
		checkSame(t, &req, again)
		checkExtrasKept(t, body, enc, requestFields)
		checkKept(t, body, enc)
		if len(again.Messages) != len(req.Messages) {
			t.Fatalf("%d messages, %d after the round trip", len(req.Messages), len(again.Messages))
		}
		for i, m := range req.Messages {
			m2 := again.Messages[i]
			if m.Text() != m2.Text() {
				t.Fatalf("messages[%d].Text() = %q, %q after the round trip", i, m.Text(), m2.Text())
			}
			p1, err1 := m.Parts()
			p2, err2 := m2.Parts()
			if (err1 == nil) != (err2 == nil) {
				t.Fatalf("messages[%d].Parts() errors %v, %v after the round trip", i, err1, err2)
			}
			normalise(reflect.ValueOf(&p1).Elem())
			normalise(reflect.ValueOf(&p2).Elem())
			if !reflect.DeepEqual(p1, p2) {
				t.Fatalf("messages[%d].Parts() = %+v, %+v after the round trip", i, p1, p2)
			}
			for _, p := range p1 {
				if p.ImageURL != nil {
					ParseDataURL(p.ImageURL.URL)
				}
			}
		}
	})
}

// FuzzEmbeddingRequest is FuzzRequest for an embeddings request body; Texts
// reads the same input from both.
func FuzzEmbeddingRequest(f *testing.F) {
	for _, s := range []string{
		`{"model":"text-embedding-3-small","input":"The food was delicious."}`,
		`{"model":"emb","input":["ab","cde",""],"encoding_format":"base64","dimensions":256,"user":"u"}`,
		`{"model":"emb","input":[[1,2,3],[4]],"encoding_format":"float"}`,
		`{"model":"emb","input":[],"dimensions":null,"x_provider":{"truncate":"END"}}`,
		`{"model":"emb","input":null}`,
		`{"model":"emb"}`,
		`{"model":"emb","input":"a","input":["b"],"Input":"c"}`,
		"{\"model\":\"emb\",\"input\":\"\xff<&>\u2028\"}",
		`{"model":"emb","input":  [ "a" ,  "b" ] }`,
		`{"model":"emb","input":"x","dimensions":1.5}`,
		`null`,
		`[]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var req EmbeddingRequest
		if err := json.Unmarshal(body, &req); err != nil {
			return
		}
		enc, again := roundTrip(t, &req)
		checkSame(t, &req, again)
		checkExtrasKept(t, body, enc, embeddingRequestFields)
		checkKept(t, body, enc)
		t1, err1 := req.Texts()
		t2, err2 := again.Texts()
		if (err1 == nil) != (err2 == nil) || !reflect.DeepEqual(t1, t2) {
			t.Fatalf("Texts() = %q, %v; after the round trip %q, %v", t1, err1, t2, err2)
		}
	})
}

// roundTrip encodes v, decodes that, and encodes again; the two encodings
// must be equal. It returns the first encoding and its decoding.
func roundTrip[T any](t *testing.T, v *T) (enc []byte, again *T) {
	t.Helper()
	enc, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("decoded body does not encode: %v", err)
	}
	again = new(T)
	if err := json.Unmarshal(enc, again); err != nil {
		t.Fatalf("re-encoding does not decode: %v\n%s", err, enc)
	}
	reenc, err := json.Marshal(again)
	if err != nil {
		t.Fatalf("second decoding does not encode: %v", err)
	}
	if !bytes.Equal(enc, reenc) {
		t.Fatalf("round trip not stable:\n first %s\nsecond %s", enc, reenc)
	}
	return enc, again
}

// checkSame fails unless a and b (pointers to the same type) hold the same
// request once JSON texts are compacted and empty slices are nil, the
// differences encoding may make without changing the meaning.
func checkSame(t *testing.T, a, b any) {
	t.Helper()
	na, nb := reflect.New(reflect.TypeOf(a).Elem()), reflect.New(reflect.TypeOf(b).Elem())
	na.Elem().Set(reflect.ValueOf(a).Elem())
	nb.Elem().Set(reflect.ValueOf(b).Elem())
	normalise(na.Elem())
	normalise(nb.Elem())
	if !reflect.DeepEqual(na.Interface(), nb.Interface()) {
		t.Fatalf("round trip changed the request:\nbefore %+v\n after %+v", na.Elem(), nb.Elem())
	}
}

var rawType = reflect.TypeFor[json.RawMessage]()

// normalise rewrites v in place, recursively: every json.RawMessage
// (fields, Extra values) compacted and HTML-escaped as json.Marshal writes
// it, a JSON null the same as an absent member (a nil RawMessage without
// omitempty, such as EmbeddingRequest.Input, encodes as null), and every
// empty slice or map nil. Slices and maps are copied before
// they are changed, so values shared with the original are not.
func normalise(v reflect.Value) {
	switch {
	case v.Type() == rawType:
		raw := canonicalRaw(v.Bytes())
		if string(raw) == "null" {
			raw = nil
		}
		v.SetBytes(raw)
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			c := reflect.New(v.Type().Elem())
			c.Elem().Set(v.Elem())
			normalise(c.Elem())
			v.Set(c)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				normalise(v.Field(i))
			}
		}
	case reflect.Slice:
		if v.Len() == 0 {
			v.SetZero()
			return
		}
		c := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		reflect.Copy(c, v)
		for i := range c.Len() {
			normalise(c.Index(i))
		}
		v.Set(c)
	case reflect.Map:
		if v.Len() == 0 {
			v.SetZero()
			return
		}
		c := reflect.MakeMapWithSize(v.Type(), v.Len())
		for it := v.MapRange(); it.Next(); {
			e := reflect.New(v.Type().Elem()).Elem()
			e.Set(it.Value())
			normalise(e)
			c.SetMapIndex(it.Key(), e)
		}
		v.Set(c)
	}
}

// canonicalRaw is the JSON text raw as json.Marshal writes a
// json.RawMessage: compacted, with <, >, &, U+2028 and U+2029 escaped.
func canonicalRaw(raw []byte) []byte {
	var c, h bytes.Buffer
	if err := json.Compact(&c, raw); err != nil {
		return raw
	}
	json.HTMLEscape(&h, c.Bytes())
	return h.Bytes()
}

// checkExtrasKept fails unless every top-level member of body that known
// does not model is in enc with the same value, byte for byte once
// compacted as json.Marshal writes it.
func checkExtrasKept(t *testing.T, body, enc []byte, known fieldSet) {
	t.Helper()
	var in, out map[string]json.RawMessage
	if err := json.Unmarshal(body, &in); err != nil {
		t.Fatalf("body decoded as a request but not as an object: %v", err)
	}
	if err := json.Unmarshal(enc, &out); err != nil {
		t.Fatalf("encoding is not an object: %v", err)
	}
	for name, raw := range in {
		if _, modelled := known[name]; modelled {
			continue
		}
		got, ok := out[name]
		if !ok {
			t.Fatalf("member %q lost:\nbody %q\n enc %s", name, body, enc)
		}
		if want := canonicalRaw(raw); !bytes.Equal(got, want) {
			t.Fatalf("member %q = %s after the round trip, want %s", name, got, want)
		}
	}
}

// checkKept fails unless enc, the encoding of the request decoded from
// body, holds every member of body at every level, with the same value:
// the same string, the same number (spelling aside: a typed field writes
// 1e0 as 1), arrays of the same length. Allowed differences are those of
// the decoder's documented shape: a member that is null, false, "" or [] may
// be left out (omitempty), a null may become a zero value, and stop given as
// a string is written as an array of it.
func checkKept(t *testing.T, body, enc []byte) {
	t.Helper()
	in, out := decodeAny(t, body), decodeAny(t, enc)
	if msg := kept(in, out, ""); msg != "" {
		t.Fatalf("%s\nbody %q\n enc %s", msg, body, enc)
	}
}

func decodeAny(t *testing.T, b []byte) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode %q: %v", b, err)
	}
	return v
}

// kept returns "" when out carries everything in, else what it lost.
func kept(in, out any, path string) string {
	switch in := in.(type) {
	case nil:
		return ""
	case map[string]any:
		o, ok := out.(map[string]any)
		if !ok {
			return fmt.Sprintf("%s: object became %T", path, out)
		}
		for k, v := range in {
			ov, ok := o[k]
			if !ok {
				if isEmpty(v) {
					continue
				}
				return fmt.Sprintf("%s: member %q lost", path, k)
			}
			if msg := kept(v, ov, path+"."+k); msg != "" {
				return msg
			}
		}
		return ""
	case []any:
		o, ok := out.([]any)
		if !ok || len(o) != len(in) {
			return fmt.Sprintf("%s: array of %d became %v", path, len(in), out)
		}
		for i := range in {
			if msg := kept(in[i], o[i], fmt.Sprintf("%s[%d]", path, i)); msg != "" {
				return msg
			}
		}
		return ""
	case json.Number:
		o, ok := out.(json.Number)
		if !ok {
			return fmt.Sprintf("%s: number became %v", path, out)
		}
		if in == o {
			return ""
		}
		a, errA := strconv.ParseFloat(string(in), 64)
		b, errB := strconv.ParseFloat(string(o), 64)
		if errA != nil || errB != nil || a != b {
			return fmt.Sprintf("%s: number %s became %s", path, in, o)
		}
		return ""
	case string:
		if o, ok := out.([]any); ok && path == ".stop" && len(o) == 1 && o[0] == in {
			return ""
		}
	}
	if in != out {
		return fmt.Sprintf("%s: %v became %v", path, in, out)
	}
	return ""
}

// isEmpty reports whether v may be left out by omitempty.
func isEmpty(v any) bool {
	switch v := v.(type) {
	case nil:
		return true
	case bool:
		return !v
	case string:
		return v == ""
	case []any:
		return len(v) == 0
	}
	return false
}
