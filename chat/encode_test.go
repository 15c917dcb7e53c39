package chat

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// referenceEncode is how the types were encoded before encode.go: the
// plain twin v by encoding/json's reflection, extra's members appended in
// sorted order, and the whole compacted and escaped as json.Marshal does
// with what a MarshalJSON method returns. The encoders must give the same
// bytes, and the same failures.
func referenceEncode(v any, extra Extra, known fieldSet) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	if len(extra) > 0 {
		keys := make([]string, 0, len(extra))
		for k := range extra {
			if _, modelled := known[k]; !modelled {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		var buf bytes.Buffer
		buf.Write(b[:len(b)-1]) // drop '}'
		empty := len(b) == 2
		for _, k := range keys {
			if !empty {
				buf.WriteByte(',')
			}
			empty = false
			kb, _ := json.Marshal(k)
			buf.Write(kb)
			buf.WriteByte(':')
			buf.Write(extra[k])
		}
		buf.WriteByte('}')
		b = buf.Bytes()
	}
	return json.Marshal(json.RawMessage(b)) // compacted and escaped, or an error
}

// reference encodes v, a pointer to one of the types with an encoder, by
// referenceEncode.
func reference(v any) ([]byte, error) {
	switch v := v.(type) {
	case *Request:
		return referenceEncode(plainRequest(*v), v.Extra, requestFields)
	case *StreamOptions:
		return referenceEncode(plainStreamOptions(*v), v.Extra, streamOptionsFields)
	case *Message:
		return referenceEncode(plainMessage(*v), v.Extra, messageFields)
	case *Tool:
		return referenceEncode(plainTool(*v), v.Extra, toolFields)
	case *FunctionDef:
		return referenceEncode(plainFunctionDef(*v), v.Extra, functionDefFields)
	case *ToolCall:
		return referenceEncode(plainToolCall(*v), v.Extra, toolCallFields)
	case *FunctionCall:
		return referenceEncode(plainFunctionCall(*v), v.Extra, functionCallFields)
	case *Response:
		return referenceEncode(plainResponse(*v), v.Extra, responseFields)
	case *Choice:
		return referenceEncode(plainChoice(*v), v.Extra, choiceFields)
	case *Chunk:
		return referenceEncode(plainChunk(*v), v.Extra, chunkFields)
	case *ChunkChoice:
		return referenceEncode(plainChunkChoice(*v), v.Extra, chunkChoiceFields)
	case *Delta:
		return referenceEncode(plainDelta(*v), v.Extra, deltaFields)
	case *Usage:
		return referenceEncode(plainUsage(*v), v.Extra, usageFields)
	case *PromptTokensDetails:
		return referenceEncode(plainPromptTokensDetails(*v), v.Extra, promptTokensDetailsFields)
	case *CompletionTokensDetails:
		return referenceEncode(plainCompletionTokensDetails(*v), v.Extra, completionTokensDetailsFields)
	case *Part:
		return referenceEncode(plainPart(*v), v.Extra, partFields)
	case *EmbeddingRequest:
		return referenceEncode(plainEmbeddingRequest(*v), v.Extra, embeddingRequestFields)
	case *EmbeddingResponse:
		return referenceEncode(plainEmbeddingResponse(*v), v.Extra, embeddingResponseFields)
	}
	panic("no reference for " + reflect.TypeOf(v).String())
}

// encodedTypes are the types with an encoder in encode.go.
var encodedTypes = []any{
	&Request{}, &StreamOptions{}, &Message{}, &Tool{}, &FunctionDef{}, &ToolCall{}, &FunctionCall{},
	&Response{}, &Choice{}, &Chunk{}, &ChunkChoice{}, &Delta{}, &Usage{}, &PromptTokensDetails{},
	&CompletionTokensDetails{}, &Part{}, &EmbeddingRequest{}, &EmbeddingResponse{},
}

// Values the random filler picks from: what escaping, omitempty and
// number formatting make a difference for.
var (
	sampleStrings = []string{"", "", "a", "gpt-4o", "<b>&amp;</b>", "line\nbreak\ttab\r\b\f\x00\x1f\"q\"\\",
		"caf\u00e9 \U0001F600", "\u2028\u2029", "bad\xff\xfeutf8\xc3(", "\xed\xa0\x80", strings.Repeat("long text ", 40)}
	sampleRaw = []string{"", `null`, `"s<>&"`, `{}`, `[]`, `true`, `-0.5e+10`, ` { "a" : [ 1 , 2.50 , "x\u2028y" ] , "b" : { } } `,
		`{"type":"object","properties":{"city":{"type":"string"}}}`, "\"\xff\xe2\x80\xa8\"", `[{"type":"text","text":"hi"}]`}
	invalidRaw  = []string{"", " ", `{"a":}`, `[1,]`, `tru`, `01`, `"\q"`, `{} {}`, "\"\x01\""}
	sampleKeys  = []string{"x_a", "x_b", "<k>", "bad\xff", "model", "role", "type", "Model", "content", "index", "\u2028"}
	sampleFloat = []float64{0, 1, -1, 0.5, 1e-7, 1e21, 123456789.125, -2.5e-300, 3.4e38, 1.0 / 3}
)

// filler fills values with random contents from the samples above; with
// invalid set, raw JSON texts and floats may also be ones that do not
// encode.
type filler struct {
	rng     *rand.Rand
	invalid bool
}

func (f *filler) fill(v reflect.Value, depth int) {
	t := v.Type()
	switch {
	case t == rawType:
		if f.rng.IntN(4) == 0 {
			return // nil
		}
		s := sampleRaw[f.rng.IntN(len(sampleRaw))]
		if f.invalid && f.rng.IntN(8) == 0 {
			s = invalidRaw[f.rng.IntN(len(invalidRaw))]
		}
		v.SetBytes([]byte(s))
		return
	case t == reflect.TypeFor[Extra]():
		if f.rng.IntN(3) == 0 {
			return
		}
		m := Extra{}
		for range f.rng.IntN(4) {
			s := sampleRaw[1+f.rng.IntN(len(sampleRaw)-1)]
			if f.invalid && f.rng.IntN(8) == 0 {
				s = invalidRaw[f.rng.IntN(len(invalidRaw))]
			}
			m[sampleKeys[f.rng.IntN(len(sampleKeys))]] = json.RawMessage(s)
		}
		v.Set(reflect.ValueOf(m))
		return
	}
	switch t.Kind() {
	case reflect.String:
		v.SetString(sampleStrings[f.rng.IntN(len(sampleStrings))])
	case reflect.Bool:
		v.SetBool(f.rng.IntN(2) == 0)
	case reflect.Int, reflect.Int64:
		v.SetInt([]int64{0, 0, 1, -1, 42, math.MaxInt64, math.MinInt64}[f.rng.IntN(7)])
	case reflect.Float32, reflect.Float64:
		x := sampleFloat[f.rng.IntN(len(sampleFloat))]
		if f.invalid && f.rng.IntN(16) == 0 {
			x = []float64{math.NaN(), math.Inf(1), math.Inf(-1)}[f.rng.IntN(3)]
		}
		v.SetFloat(x)
	case reflect.Pointer:
		if depth > 4 || f.rng.IntN(3) == 0 {
			return
		}
		p := reflect.New(t.Elem())
		f.fill(p.Elem(), depth+1)
		v.Set(p)
	case reflect.Slice:
		switch f.rng.IntN(4) {
		case 0:
			return // nil
		case 1:
			v.Set(reflect.MakeSlice(t, 0, 0))
			return
		}
		if depth > 4 {
			return
		}
		n := 1 + f.rng.IntN(3)
		s := reflect.MakeSlice(t, n, n)
		for i := range n {
			f.fill(s.Index(i), depth+1)
		}
		v.Set(s)
	case reflect.Struct:
		for i := range t.NumField() {
			if sf := t.Field(i); sf.IsExported() && sf.Name != "Native" {
				f.fill(v.Field(i), depth+1)
			}
		}
	}
}

// TestEncodersMatchReflection holds each encoder to encoding/json: for
// random values of every type, MarshalJSON gives the bytes the reflection
// encoding gives (members, order, omitempty, escaping, numbers), fails when
// it fails, and gives what json.Marshal leaves as it is. A field added to a
// type without its encoder fails here.
func TestEncodersMatchReflection(t *testing.T) {
	for _, proto := range encodedTypes {
		typ := reflect.TypeOf(proto).Elem()
		t.Run(typ.Name(), func(t *testing.T) {
			for i := range 3000 {
				f := filler{rng: rand.New(rand.NewPCG(uint64(i), 1)), invalid: i%3 == 0}
				v := reflect.New(typ)
				f.fill(v.Elem(), 0)
				want, wantErr := reference(v.Interface())
				got, gotErr := v.Interface().(json.Marshaler).MarshalJSON()
				if (wantErr == nil) != (gotErr == nil) {
					t.Fatalf("%+v:\nerror %v, want %v", v.Elem(), gotErr, wantErr)
				}
				if wantErr != nil {
					continue
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("%+v:\n got %s\nwant %s", v.Elem(), got, want)
				}
				viaMarshal, err := json.Marshal(v.Interface())
				if err != nil || !bytes.Equal(viaMarshal, got) {
					t.Fatalf("json.Marshal changed the encoding (%v):\n got %s\nwant %s", err, viaMarshal, got)
				}
			}
		})
	}
}

// TestMarshalParts checks MarshalParts against json.Marshal.
func TestMarshalParts(t *testing.T) {
	for _, parts := range [][]Part{nil, {}, {{Type: "text", Text: "<a>"}},
		{{Type: "text", Text: "a"}, {Type: "image_url", ImageURL: &ImageURL{URL: "data:x", Detail: "low"}, Extra: Extra{"x": json.RawMessage(` 1 `)}}}} {
		want, _ := json.Marshal(parts)
		got, err := MarshalParts(parts)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("MarshalParts(%+v) = %s, %v; want %s", parts, got, err, want)
		}
	}
}

// compactSeeds are JSON texts, valid and not, for the compactor.
var compactSeeds = []string{
	`{}`, ` [ ] `, `{"a":1,"b":[true,false,null],"c":{"d":"e"}}`, "\t{\n\"a\" :\r 1 }\n",
	`"<script>&amp;</script>"`, "\"\u2028\u2029\"", "\"\xe2\x80\"", "\"\xe2\x80\xa8\"", "\"\xff\xfe\"",
	`"\u003c\ud800\/\b\f\n\r\t\"\\"`, `-0`, `-0.0e+0`, `1E-7`, `123456789012345678901234567890`,
	`01`, `-`, `1.`, `1e`, `.5`, `+1`, `tru`, `nul`, `falsey`, `{"a"}`, `{"a":1,}`, `[1 2]`, `{,}`, `[,1]`,
	`"\q"`, `"\u12g4"`, "\"a\x1fb\"", `"unterminated`, `{} {}`, ``, ` `, `{"a":1}}`, `]`, `{1:2}`,
	strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth),
	strings.Repeat("[", maxDepth+1) + strings.Repeat("]", maxDepth+1),
	strings.Repeat(`{"a":`, maxDepth) + "1" + strings.Repeat("}", maxDepth),
	strings.Repeat(`{"a":`, maxDepth+1) + "1" + strings.Repeat("}", maxDepth+1),
}

// checkCompact fails unless appendCompact gives what json.Marshal gives
// for src as a json.RawMessage, or fails when it does, with its error.
func checkCompact(t *testing.T, src []byte) {
	t.Helper()
	if src == nil {
		src = []byte{} // a nil json.RawMessage is null, not an empty text
	}
	want, wantErr := json.Marshal(json.RawMessage(src))
	got, gotErr := appendCompact([]byte("prefix"), src)
	if wantErr != nil {
		var me *json.MarshalerError
		if gotErr == nil || !errorsAs(wantErr, &me) || me.Err.Error() != gotErr.Error() {
			t.Fatalf("%.80q: error %v, want %v", src, gotErr, wantErr)
		}
		return
	}
	if gotErr != nil || string(got) != "prefix"+string(want) {
		t.Fatalf("%.80q: got %q, %v; want %q", src, got, gotErr, want)
	}
}

func errorsAs(err error, target **json.MarshalerError) bool {
	me, ok := err.(*json.MarshalerError)
	*target = me
	return ok
}

func TestAppendCompact(t *testing.T) {
	for _, s := range compactSeeds {
		checkCompact(t, []byte(s))
	}
}

// FuzzAppendCompact holds the compactor to encoding/json for any text.
func FuzzAppendCompact(f *testing.F) {
	for _, s := range compactSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		checkCompact(t, src)
	})
}

// FuzzAppendString holds the string encoder to json.Marshal.
func FuzzAppendString(f *testing.F) {
	for _, s := range sampleStrings {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := appendString(nil, s); !bytes.Equal(got, want) {
			t.Fatalf("%q: got %s, want %s", s, got, want)
		}
		if got := TextContent(s); !bytes.Equal(got, want) {
			t.Fatalf("TextContent(%q) = %s, want %s", s, got, want)
		}
	})
}

// BenchmarkMarshalRequest100KB encodes a canonical request of about 100
// KB, shaped as a translated Claude Code conversation: tool messages with
// file contents.
func BenchmarkMarshalRequest100KB(b *testing.B) {
	file := strings.Repeat("func f() { return nil } // some Go source <&>\n", 40)
	req := Request{Model: "gpt-4.1", Stream: true, StreamOptions: &StreamOptions{IncludeUsage: true},
		Tools: []Tool{{Type: "function", Function: &FunctionDef{Name: "Read", Parameters: json.RawMessage(`{"type":"object"}`)}}},
		Extra: Extra{"reasoning_effort": json.RawMessage(`"high"`)}}
	for i := 0; i < 55; i++ {
		req.Messages = append(req.Messages,
			Message{Role: "assistant", Content: json.RawMessage("null"), ReasoningContent: "Read the file.",
				ToolCalls: []ToolCall{{ID: "toolu_1", Type: "function", Function: FunctionCall{Name: "Read", Arguments: `{"file_path":"/src/f.go"}`}}}},
			Message{Role: "tool", ToolCallID: "toolu_1", Content: TextContent(file)})
	}
	size, _ := json.Marshal(req)
	b.SetBytes(int64(len(size)))
	b.Run("MarshalJSON", func(b *testing.B) {
		for range b.N {
			if _, err := req.MarshalJSON(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("json.Marshal", func(b *testing.B) {
		for range b.N {
			if _, err := json.Marshal(&req); err != nil {
				b.Fatal(err)
			}
		}
	})
}
