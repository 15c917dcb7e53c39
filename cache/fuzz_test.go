package cache

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/detour-gateway/detour/chat"
)

// FuzzKey computes the cache key of arbitrary request bodies. It must never
// panic, and for a body that decodes (as the server decodes it) the key
// keeps the README's promises:
//   - it is deterministic: the same body gives the same key, decoded once
//     or twice;
//   - members in another order and other whitespace, at every level, give
//     the same key (the body is rewritten so, driven by seed);
//   - numbers spelled otherwise (1.5 as 1.50e0, 1 as 1.0) give the same key;
//   - the members left out of the key (model, stream, stream_options,
//     user, metadata, store, cache) do not change it, set or removed;
//   - a member that counts does: an extra member, one more message, another
//     group or namespace.
//
// Key fails only for a number outside float64's range in a member Detour
// does not model; when it fails for a body it fails for every spelling.
func FuzzKey(f *testing.F) {
	for _, s := range []string{
		`{"model":"g","messages":[{"role":"user","content":"hi"}],"temperature":0.5,"max_tokens":100}`,
		`{ "max_tokens" : 100, "temperature":0.5,
			"messages":[{"content":"hi","role":"user"}], "model":"g" }`,
		`{"model":"g","stream":true,"stream_options":{"include_usage":true},"user":"u1","metadata":{"a":"b"},"cache":{"ttl":5,"namespace":"n"},"store":true,"messages":[{"role":"user","content":"hi"}]}`,
		`{"model":"g","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":[{"type":"text","text":"What is this?"},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo=","detail":"high"}}]}],"top_k":4.0e1,"logit_bias":{"50256":-100,"1":2.5}}`,
		`{"model":"g","messages":[{"role":"user","content":"Weather?"},{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},{"role":"tool","tool_call_id":"call_1","content":"21C"}],"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}],"tool_choice":"auto","response_format":{"type":"json_object"},"seed":7,"stop":["\n\n","END"],"n":1,"top_p":1.0}`,
		`{"model":"g","messages":[],"x":{"b":[1,2.50,{"d":null,"c":true}],"a":-0},"y":123456789012345678901234567890,"z":1E-7}`,
		`{"model":"g","messages":[],"a":1,"a":2,"b":{"c":1,"c":{"d":2}}}`,
		// Member names match exactly at every level: "Name" is not "name".
		`{"model":"g","messages":[{"role":"assistant","tool_calls":[{"function":{"name":"a","Name":"b","arguments":"{}","x_fn":1}}]}]}`,
		`{"model":"g","messages":[{"role":"user","content":"\u003c\u00e9\ud83d\ude00 <>&\u2028","name":"a\"b\\c"}],"x\u0041":"\/"}`,
		"{\"model\":\"g\",\"messages\":[],\"x\xff\":\"\xfe\"}",
		`{"model":"g","messages":[],"x":1e400}`,
		`{"model":"g","messages":[],"temperature":1e0,"top_p":-0.0,"reasoning_effort":"low","thinking":{"type":"enabled","budget_tokens":1024}}`,
		`{"messages":null}`,
		`null`,
	} {
		f.Add([]byte(s), uint64(1))
	}
	f.Fuzz(func(t *testing.T, body []byte, seed uint64) {
		req, ok := decodeRequest(body)
		if !ok {
			return
		}
		const group, ns = "g", "team-a"
		key, keyErr := Key(group, ns, req)
		if k, err := Key(group, ns, req); k != key || (err == nil) != (keyErr == nil) {
			t.Fatalf("two keys of one request differ: %x, %v; %x, %v", key, keyErr, k, err)
		}
		again, _ := decodeRequest(body)
		if k, err := Key(group, ns, again); k != key || (err == nil) != (keyErr == nil) {
			t.Fatalf("keys of one body decoded twice differ: %x, %v; %x, %v", key, keyErr, k, err)
		}

		// Order, whitespace and number spelling.
		rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
		tree, err := parseTree(body)
		if err != nil {
			t.Fatalf("a body that decodes is not JSON: %v", err)
		}
		for _, v := range []struct {
			name    string
			numbers respell
			mayFail bool // integers written 1.0 no longer decode into int fields
		}{
			{"reordered", keepNumbers, false},
			{"reordered, fractions respelled", respellFractions, false},
			{"reordered, all numbers respelled", respellAll, true},
		} {
			var b bytes.Buffer
			tree.write(&b, rng, v.numbers)
			other, ok := decodeRequest(b.Bytes())
			if !ok {
				if v.mayFail {
					continue
				}
				t.Fatalf("%s body does not decode:\n%s\nfrom %q", v.name, b.Bytes(), body)
			}
			k, err := Key(group, ns, other)
			if (err == nil) != (keyErr == nil) || err == nil && k != key {
				t.Fatalf("%s body has another key (%v, %v):\n%s\nfrom %q", v.name, keyErr, err, b.Bytes(), body)
			}
		}
		if keyErr != nil {
			return
		}

		// Members left out of the key.
		out := *req
		out.Model, out.Stream, out.User = "other-model", !req.Stream, "someone"
		out.StreamOptions = &chat.StreamOptions{IncludeUsage: true}
		out.Extra = chat.Extra{"metadata": json.RawMessage(`{"k":"v"}`), "store": json.RawMessage(`true`), "cache": json.RawMessage(`{"ttl":5}`)}
		for k, v := range req.Extra {
			if !Excluded[k] {
				out.Extra[k] = v
			}
		}
		if k, err := Key(group, ns, &out); err != nil || k != key {
			t.Fatalf("setting members left out of the key changed it (%v)", err)
		}
		out.Model, out.Stream, out.User, out.StreamOptions = "", false, "", nil
		for k := range Excluded {
			delete(out.Extra, k)
		}
		if k, err := Key(group, ns, &out); err != nil || k != key {
			t.Fatalf("removing members left out of the key changed it (%v)", err)
		}

		// Members that count.
		if _, taken := req.Extra["x_fuzz_counts"]; !taken {
			more := *req
			more.Extra = chat.Extra{"x_fuzz_counts": json.RawMessage(`1`)}
			for k, v := range req.Extra {
				more.Extra[k] = v
			}
			if k, _ := Key(group, ns, &more); k == key {
				t.Fatal("an extra member did not change the key")
			}
		}
		more := *req
		more.Messages = append(slices.Clip(req.Messages), chat.Message{Role: "user", Content: chat.TextContent("again")})
		if k, _ := Key(group, ns, &more); k == key {
			t.Fatal("one more message did not change the key")
		}
		if k, _ := Key("h", ns, req); k == key {
			t.Fatal("another group has the same key")
		}
		if k, _ := Key(group, "", req); k == key {
			t.Fatal("another namespace has the same key")
		}
	})
}

// decodeRequest decodes body as the server does.
func decodeRequest(body []byte) (*chat.Request, bool) {
	var req chat.Request
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, false
	}
	return &req, true
}

// jsonTree is a JSON value with its strings and numbers as written, so it
// can be written again with only its order, spacing or number spelling
// changed.
type jsonTree struct {
	kind byte // '{', '[', or 's' for any other value (raw)
	raw  []byte
	// keys are an object's member names as written, the last of each name
	// only (as encoding/json keeps the last); vals are their values.
	keys [][]byte
	vals []*jsonTree
}

// parseTree parses valid JSON text.
func parseTree(b []byte) (*jsonTree, error) {
	p := &treeParser{b: b}
	t := p.value()
	p.space()
	if p.err == nil && p.i != len(p.b) {
		p.err = fmt.Errorf("text after the value at %d", p.i)
	}
	return t, p.err
}

type treeParser struct {
	b   []byte
	i   int
	err error
}

func (p *treeParser) space() {
	for p.i < len(p.b) && bytes.IndexByte([]byte(" \t\r\n"), p.b[p.i]) >= 0 {
		p.i++
	}
}

func (p *treeParser) value() *jsonTree {
	p.space()
	if p.err != nil || p.i >= len(p.b) {
		p.err = fmt.Errorf("value expected at %d", p.i)
		return nil
	}
	switch p.b[p.i] {
	case '{':
		p.i++
		t := &jsonTree{kind: '{'}
		seen := map[string]int{}
		for p.space(); p.err == nil && p.i < len(p.b) && p.b[p.i] != '}'; p.space() {
			if p.b[p.i] == ',' {
				p.i++
				p.space()
			}
			key := p.str()
			p.space()
			if p.err != nil || p.i >= len(p.b) || p.b[p.i] != ':' {
				p.err = fmt.Errorf("':' expected at %d", p.i)
				return nil
			}
			p.i++
			val := p.value()
			var name string
			json.Unmarshal(key, &name) // as encoding/json names map keys
			if j, dup := seen[name]; dup {
				t.keys[j], t.vals[j] = key, val
				continue
			}
			seen[name] = len(t.keys)
			t.keys, t.vals = append(t.keys, key), append(t.vals, val)
		}
		p.i++
		return t
	case '[':
		p.i++
		t := &jsonTree{kind: '['}
		for p.space(); p.err == nil && p.i < len(p.b) && p.b[p.i] != ']'; p.space() {
			if p.b[p.i] == ',' {
				p.i++
			}
			t.vals = append(t.vals, p.value())
		}
		p.i++
		return t
	case '"':
		return &jsonTree{kind: 's', raw: p.str()}
	}
	start := p.i
	for p.i < len(p.b) && bytes.IndexByte([]byte(" \t\r\n,]}"), p.b[p.i]) < 0 {
		p.i++
	}
	return &jsonTree{kind: 's', raw: p.b[start:p.i]}
}

// str reads a string token as written, quotes included.
func (p *treeParser) str() []byte {
	start := p.i
	if p.i >= len(p.b) || p.b[p.i] != '"' {
		p.err = fmt.Errorf("string expected at %d", p.i)
		return nil
	}
	for p.i++; p.i < len(p.b) && p.b[p.i] != '"'; p.i++ {
		if p.b[p.i] == '\\' {
			p.i++
		}
	}
	p.i++
	if p.i > len(p.b) {
		p.err = fmt.Errorf("string not ended")
		return nil
	}
	return p.b[start:p.i]
}

// respell says which numbers write spells otherwise.
type respell int

const (
	keepNumbers      respell = iota
	respellFractions         // numbers with a fraction or an exponent: only float fields and raw JSON hold them
	respellAll               // integers too, 1 as 1.0
)

// write writes t with its object members shuffled by rng and random
// whitespace between tokens; numbers are respelled as numbers says.
func (t *jsonTree) write(b *bytes.Buffer, rng *rand.Rand, numbers respell) {
	ws := func() {
		b.WriteString([]string{"", "", " ", "\n", "\t", "\r\n  "}[rng.IntN(6)])
	}
	ws()
	switch t.kind {
	case '{':
		b.WriteByte('{')
		for n, i := range rng.Perm(len(t.keys)) {
			if n > 0 {
				b.WriteByte(',')
			}
			ws()
			b.Write(t.keys[i])
			ws()
			b.WriteByte(':')
			t.vals[i].write(b, rng, numbers)
		}
		ws()
		b.WriteByte('}')
	case '[':
		b.WriteByte('[')
		for i, v := range t.vals {
			if i > 0 {
				b.WriteByte(',')
			}
			v.write(b, rng, numbers)
		}
		ws()
		b.WriteByte(']')
	default:
		b.Write(respellNumber(t.raw, numbers))
	}
	ws()
}

// respellNumber writes the number raw another way with the same value:
// 1.5 as 1.50e0, 2e5 as 2E+5, and, for respellAll, 7 as 7.0. Other values
// are returned as they are.
func respellNumber(raw []byte, numbers respell) []byte {
	if numbers == keepNumbers || len(raw) == 0 || raw[0] != '-' && (raw[0] < '0' || raw[0] > '9') {
		return raw
	}
	mant, exp := raw, []byte(nil)
	if i := bytes.IndexAny(raw, "eE"); i >= 0 {
		mant, exp = raw[:i], raw[i+1:]
	}
	hasFrac := bytes.IndexByte(mant, '.') >= 0
	if !hasFrac && exp == nil && numbers != respellAll {
		return raw
	}
	out := slices.Clone(mant)
	if hasFrac {
		out = append(out, '0')
	} else {
		out = append(out, ".0"...)
	}
	switch {
	case exp == nil:
		out = append(out, "e0"...)
	case exp[0] == '+' || exp[0] == '-':
		out = append(append(out, 'E'), exp...)
	default:
		out = append(append(out, "E+"...), exp...)
	}
	return out
}
