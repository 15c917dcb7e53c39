package openai

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/detour-gateway/detour/chat"
	"github.com/detour-gateway/detour/jsonstring"
)

// Reading a Responses request body in one pass.
//
// Decoded by encoding/json, a request body is scanned again for every
// level kept raw: the body, input, each item, each item's output. A 100 KB
// Codex CLI conversation, mostly function_call_output items holding file
// contents, took 5 ms to decode that way. readResponsesBody reads the body
// and its input items in one pass instead, checking the text as strictly
// as encoding/json does.
//
// It is a fast path, not a second decoder: it takes only what it reads
// exactly as encoding/json would, and gives up (ok false) on anything
// else: a syntax error, a member of a wrong type, a number that does not
// fit, a member name that matches a field only without regard to case, an
// input item that is no object. The caller then decodes the body with
// encoding/json as before, which gives the error, in the client's terms.
// So every error a client can see still comes from one place.

// Names of the members each wire type reads, as the tags of responsesWire
// and wireItem have them.
var (
	wireFields = []string{"model", "input", "instructions", "stream", "store", "previous_response_id",
		"max_output_tokens", "temperature", "top_p", "parallel_tool_calls", "tools", "tool_choice", "text",
		"reasoning", "metadata", "user", "truncation", "background", "conversation", "prompt"}
	itemFields = []string{"type", "id", "role", "content", "call_id", "namespace", "name", "arguments",
		"input", "output", "summary"}
	textPartFields = []string{"type", "text"}
)

// readResponsesBody reads body into w as json.Unmarshal would, and, when
// input is an array, its items too (items is then not nil, even for no
// items). ok is false when the fast path gives up; see above.
func readResponsesBody(body []byte) (w responsesWire, items []wireItem, ok bool) {
	r := fastReader{data: body}
	if r.peek() != '{' {
		return w, nil, false
	}
	for more := r.open('{'); more; more = r.more('}') {
		switch r.field(wireFields) {
		case "model":
			r.readString(&w.Model)
		case "input":
			start := r.start()
			if r.peek() == '[' {
				items = r.readItems()
			} else {
				r.skip()
				items = nil
			}
			w.Input = r.since(start)
		case "instructions":
			readPointer(&r, &w.Instructions, r.readString)
		case "stream":
			readPointer(&r, &w.Stream, r.readBool)
		case "store":
			readPointer(&r, &w.Store, r.readBool)
		case "previous_response_id":
			readPointer(&r, &w.PreviousResponseID, r.readString)
		case "max_output_tokens":
			readPointer(&r, &w.MaxOutputTokens, r.readInt)
		case "temperature":
			readPointer(&r, &w.Temperature, r.readFloat)
		case "top_p":
			readPointer(&r, &w.TopP, r.readFloat)
		case "parallel_tool_calls":
			readPointer(&r, &w.ParallelToolCalls, r.readBool)
		case "tools":
			w.Tools = r.readRawArray()
		case "tool_choice":
			w.ToolChoice = r.raw()
		case "text":
			w.Text = r.raw()
		case "reasoning":
			w.Reasoning = r.raw()
		case "metadata":
			w.Metadata = r.raw()
		case "user":
			readPointer(&r, &w.User, r.readString)
		case "truncation":
			readPointer(&r, &w.Truncation, r.readString)
		case "background":
			readPointer(&r, &w.Background, r.readBool)
		case "conversation":
			w.Conversation = r.raw()
		case "prompt":
			w.Prompt = r.raw()
		default:
			r.skip()
		}
	}
	r.end()
	if r.failed {
		return responsesWire{}, nil, false
	}
	return w, items, true
}

// readItems reads input, an array of items, each of which must be an
// object.
func (r *fastReader) readItems() []wireItem {
	items := []wireItem{}
	for more := r.open('['); more; more = r.more(']') {
		if r.peek() != '{' {
			r.fail() // encoding/json's path says which item is wrong
			return nil
		}
		items = append(items, wireItem{})
		it := &items[len(items)-1]
		for more := r.open('{'); more; more = r.more('}') {
			switch r.field(itemFields) {
			case "type":
				r.readString(&it.Type)
			case "id":
				r.readString(&it.ID)
			case "role":
				r.readString(&it.Role)
			case "content":
				it.Content = r.raw()
			case "call_id":
				r.readString(&it.CallID)
			case "namespace":
				r.readString(&it.Namespace)
			case "name":
				r.readString(&it.Name)
			case "arguments":
				r.readString(&it.Arguments)
			case "input":
				r.readString(&it.Input)
			case "output":
				it.Output = r.raw()
			case "summary":
				it.Summary = r.raw()
			default:
				r.skip()
			}
		}
	}
	return items
}

// readTextParts reads raw, an array of objects, as json.Unmarshal reads it
// into a []textPart; ok is false when the fast path gives up.
func readTextParts(raw []byte) (parts []textPart, ok bool) {
	r := fastReader{data: raw}
	if r.peek() != '[' {
		return nil, false
	}
	parts = []textPart{}
	for more := r.open('['); more; more = r.more(']') {
		if r.peek() != '{' {
			r.fail()
			break
		}
		parts = append(parts, textPart{})
		p := &parts[len(parts)-1]
		for more := r.open('{'); more; more = r.more('}') {
			switch r.field(textPartFields) {
			case "type":
				r.readString(&p.Type)
			case "text":
				r.readString(&p.Text)
			default:
				r.skip()
			}
		}
	}
	r.end()
	return parts, !r.failed
}

// readRawArray reads a []json.RawMessage member: null is nil, an array its
// elements' texts.
func (r *fastReader) readRawArray() []json.RawMessage {
	switch r.peek() {
	case 'n':
		r.skip()
		return nil
	case '[':
	default:
		r.fail()
		return nil
	}
	elems := []json.RawMessage{}
	for more := r.open('['); more; more = r.more(']') {
		elems = append(elems, r.raw())
	}
	return elems
}

// readPointer reads a member whose Go type is a pointer, as encoding/json
// does: null sets *dst to nil; another value is read by read into a new
// value (the last of repeated members wins either way).
func readPointer[T any](r *fastReader, dst **T, read func(*T)) {
	if r.peek() == 'n' {
		r.skip()
		*dst = nil
		return
	}
	v := new(T)
	read(v)
	*dst = v
}

// readString reads a string member; null leaves *dst as it is.
func (r *fastReader) readString(dst *string) {
	switch r.peek() {
	case '"':
		body, plain := r.stringBody()
		if plain {
			*dst = string(body)
		} else {
			*dst = jsonstring.Unquote(body)
		}
	case 'n':
		r.skip()
	default:
		r.fail()
	}
}

// readBool reads a true-or-false member; null leaves *dst as it is.
func (r *fastReader) readBool(dst *bool) {
	switch r.peek() {
	case 't', 'f':
		*dst = r.peek() == 't'
		r.skip()
	case 'n':
		r.skip()
	default:
		r.fail()
	}
}

// readInt reads an integer member; null leaves *dst as it is.
func (r *fastReader) readInt(dst *int) {
	switch c := r.peek(); {
	case c == 'n':
		r.skip()
	case c == '-' || '0' <= c && c <= '9':
		text := r.raw()
		n, err := strconv.ParseInt(string(text), 10, strconv.IntSize)
		if err != nil {
			r.fail() // a fraction, an exponent, or too large
			return
		}
		*dst = int(n)
	default:
		r.fail()
	}
}

// readFloat reads a number member; null leaves *dst as it is.
func (r *fastReader) readFloat(dst *float64) {
	switch c := r.peek(); {
	case c == 'n':
		r.skip()
	case c == '-' || '0' <= c && c <= '9':
		f, err := strconv.ParseFloat(string(r.raw()), 64)
		if err != nil {
			r.fail() // too large for a float64
			return
		}
		*dst = f
	default:
		r.fail()
	}
}

// fastReader reads a JSON text one value at a time, checking it as
// strictly as encoding/json does. Anything it cannot take sets failed and
// ends the reading: from then on every value reads as nothing and every
// object and array as empty.
//
// Objects and arrays are read in a loop, each member or element by a read
// or a skip:
//
//	for more := r.open('{'); more; more = r.more('}') {
//		switch r.field(names) { … }
//	}
type fastReader struct {
	data   []byte
	pos    int // of the next byte to read
	depth  int // of the objects and arrays open
	failed bool
}

// maxJSONDepth is how deep objects and arrays may nest, encoding/json's
// limit.
const maxJSONDepth = 10000

func (r *fastReader) fail() {
	r.failed = true
	r.pos = len(r.data)
}

// peek skips white space and returns the byte that comes next, or 0 at
// the end of the text.
func (r *fastReader) peek() byte {
	for ; r.pos < len(r.data); r.pos++ {
		switch c := r.data[r.pos]; c {
		case ' ', '\t', '\n', '\r':
		default:
			return c
		}
	}
	return 0
}

// start returns where the value that comes next starts, for since.
func (r *fastReader) start() int {
	r.peek()
	return r.pos
}

// since returns the text read from start on, as a json.RawMessage that
// cannot be appended to over the bytes after it.
func (r *fastReader) since(start int) json.RawMessage {
	if r.failed {
		return nil
	}
	return r.data[start:r.pos:r.pos]
}

// raw reads the value that comes next and returns its text.
func (r *fastReader) raw() json.RawMessage {
	start := r.start()
	r.skip()
	return r.since(start)
}

// end checks that nothing but white space follows the value read.
func (r *fastReader) end() {
	if r.peek(); r.pos < len(r.data) {
		r.fail()
	}
}

// open reads the bracket, '{' or '[', that must come next, and reports
// whether a member or an element follows it.
func (r *fastReader) open(bracket byte) bool {
	if r.peek() != bracket {
		r.fail()
		return false
	}
	r.pos++
	if r.depth++; r.depth >= maxJSONDepth { // at the limit, encoding/json decides
		r.fail()
		return false
	}
	return !r.closing(bracket + 2) // '}' and ']' are two past their openers
}

// more reads what follows a member or an element: a comma, and then it
// reports that another follows, or the closing bracket.
func (r *fastReader) more(bracket byte) bool {
	if r.peek() == ',' {
		r.pos++
		return true
	}
	if !r.closing(bracket) {
		r.fail()
	}
	return false
}

// closing reads bracket, '}' or ']', if it comes next.
func (r *fastReader) closing(bracket byte) bool {
	if r.peek() != bracket {
		return false
	}
	r.pos++
	r.depth--
	return true
}

// field reads the name of a member and the colon after it, and returns
// which of names it is; "" for none of them. A name that is none of them
// but that encoding/json might match to one (it matches names without
// regard to case, Unicode's folding included) ends the reading.
func (r *fastReader) field(names []string) string {
	if r.peek() != '"' {
		r.fail()
		return ""
	}
	name, plain := r.stringBody()
	if r.peek() != ':' {
		r.fail()
		return ""
	}
	r.pos++
	if len(names) == 0 {
		return ""
	}
	for _, n := range names {
		if string(name) == n {
			return n
		}
	}
	if !plain || !isASCII(name) {
		r.fail() // escaped, or beyond ASCII: left to encoding/json
		return ""
	}
	for _, n := range names {
		if strings.EqualFold(string(name), n) {
			r.fail()
			return ""
		}
	}
	return ""
}

func isASCII(s []byte) bool {
	for _, c := range s {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// skip reads the value that comes next.
func (r *fastReader) skip() {
	switch r.peek() {
	case '{':
		for more := r.open('{'); more; more = r.more('}') {
			r.field(nil)
			r.skip()
		}
	case '[':
		for more := r.open('['); more; more = r.more(']') {
			r.skip()
		}
	case '"':
		r.stringBody()
	case 't':
		r.word("true")
	case 'f':
		r.word("false")
	case 'n':
		r.word("null")
	default:
		r.number()
	}
}

// word reads w, which must come next.
func (r *fastReader) word(w string) {
	if !bytes.HasPrefix(r.data[r.pos:], []byte(w)) {
		r.fail()
		return
	}
	r.pos += len(w)
}

// number reads a number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (r *fastReader) number() {
	d, i := r.data, r.pos
	if i < len(d) && d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case i < len(d) && '1' <= d[i] && d[i] <= '9':
		i = skipDigits(d, i+1)
	default:
		r.fail()
		return
	}
	if i < len(d) && d[i] == '.' {
		j := skipDigits(d, i+1)
		if j == i+1 {
			r.fail()
			return
		}
		i = j
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		j := skipDigits(d, i)
		if j == i {
			r.fail()
			return
		}
		i = j
	}
	r.pos = i
}

// skipDigits returns the index of the first byte from i on in d that is
// no digit.
func skipDigits(d []byte, i int) int {
	for i < len(d) && '0' <= d[i] && d[i] <= '9' {
		i++
	}
	return i
}

// plainByte marks the bytes a JSON string holds as they are: ASCII, but
// for control characters, the quote and the backslash.
var plainByte = func() (plain [256]bool) {
	for c := ' '; c < utf8.RuneSelf; c++ {
		plain[c] = c != '"' && c != '\\'
	}
	return plain
}()

// stringBody reads the string that comes next and returns the bytes
// between its quotes; plain reports that they are its value as they are,
// without escapes, and UTF-8 throughout.
func (r *fastReader) stringBody() (body []byte, plain bool) {
	d := r.data
	start := r.pos + 1 // past the quote
	plain = true
	for i := start; i < len(d); {
		c := d[i]
		switch {
		case plainByte[c]:
			i++
		case c == '"':
			r.pos = i + 1
			return d[start:i], plain
		case c == '\\':
			n := jsonstring.EscapeLen(d[i:])
			if n == 0 {
				r.fail()
				return nil, false
			}
			i += n
			plain = false
		case c < ' ':
			r.fail() // a control character
			return nil, false
		default:
			ch, size := utf8.DecodeRune(d[i:])
			if ch == utf8.RuneError && size == 1 {
				plain = false // not UTF-8: it becomes U+FFFD
			}
			i += size
		}
	}
	r.fail()
	return nil, false
}

// exactString reports whether raw, a valid JSON string, means the same to
// every JSON reader as to encoding/json: it is UTF-8 throughout and has no
// \u escape of half a surrogate pair without the other half (encoding/json
// reads both as U+FFFD; other readers may refuse them or keep them). Such
// a string can go upstream as the client wrote it, not decoded and escaped
// anew.
func exactString(raw []byte) bool {
	if !utf8.Valid(raw) {
		return false
	}
	for i := 0; ; {
		j := bytes.IndexByte(raw[i:], '\\')
		if j < 0 {
			return true
		}
		i += j
		if jsonstring.EscapeLen(raw[i:]) != 6 {
			i += 2 // one of \" \\ \/ \b \f \n \r \t, raw being valid
			continue
		}
		if ch := jsonstring.Hex4(raw[i+2:]); utf16.IsSurrogate(ch) {
			if ch >= 0xDC00 || jsonstring.EscapeLen(raw[i+6:]) != 6 || raw[i+7] != 'u' {
				return false
			}
			if low := jsonstring.Hex4(raw[i+8:]); low < 0xDC00 || low > 0xDFFF {
				return false
			}
			i += 6
		}
		i += 6
	}
}

// stringContent returns raw, a JSON string, as a chat message's content:
// raw itself when it means the same to every reader (exactString), else
// its value encoded anew. param names the member, for an error.
func stringContent(raw json.RawMessage, param string) (json.RawMessage, error) {
	if exactString(raw) {
		return raw, nil
	}
	var s string
	if err := unmarshal(raw, &s, param); err != nil {
		return nil, err
	}
	return chat.TextContent(s), nil
}
