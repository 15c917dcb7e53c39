package chat

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/detour-gateway/detour/jsonstring"
)

// Encoding the canonical types.
//
// Every translated request is encoded here (for an OpenAI-compatible
// upstream, and for its cache key), and a translated request is large: a
// Claude Code conversation of 100 KB is mostly tool results held as the
// content of tool messages. Encoded by encoding/json, each type handing a
// plain twin to json.Marshal and then merging its Extra members, every byte
// of that content was checked and copied once per level it is nested in
// (encoding/json compacts what each MarshalJSON returns), through
// reflection: 1.9 ms of the 2.3 ms a 100 KB translation took. The encoders
// below write each type straight into one buffer, in a single pass: strings
// are escaped once, JSON texts kept raw (content, parameters, Extra values)
// are checked and compacted once, by a scanner made for it.
//
// The output is byte for byte what encoding/json writes for the same value
// (the tests hold the encoders to that): members in the order of the
// struct's fields, omitempty as the tags say, then the Extra members the
// type does not model, sorted by name; strings and raw JSON texts escaped
// as json.Marshal escapes them (<, >, &, U+2028 and U+2029 as \u escapes;
// bytes that are not UTF-8 in a Go string as U+FFFD). So a MarshalJSON
// result is compact, valid JSON that json.Marshal would leave unchanged,
// and a caller may send it as it is.

// encoder appends JSON to buf. The first error (a raw JSON text that is
// not valid, a float that JSON cannot hold) is kept in err, and the
// encoding goes on without effect on the result, which is then dropped.
type encoder struct {
	buf []byte
	err error
}

// fail keeps err, about the member name, unless an error is kept already.
func (e *encoder) fail(name string, err error) {
	if e.err == nil {
		e.err = fmt.Errorf("encode %s: %w", name, err)
	}
}

// object is an object being written by an encoder: members counts the
// members written, to put commas between them.
type object struct {
	e       *encoder
	members int
}

// object opens an object.
func (e *encoder) object() object {
	e.buf = append(e.buf, '{')
	return object{e: e}
}

// key writes the member name key, given with its quotes and colon
// (`"model":`), and returns the encoder for its value.
func (o *object) key(key string) *encoder {
	if o.members > 0 {
		o.e.buf = append(o.e.buf, ',')
	}
	o.members++
	o.e.buf = append(o.e.buf, key...)
	return o.e
}

// close writes the members of extra that known does not model, in sorted
// order so the output is deterministic, and closes the object. Members the
// type models win over extras of the same name.
func (o *object) close(extra Extra, known fieldSet) {
	if len(extra) > 0 {
		o.extra(extra, known)
	}
	o.e.buf = append(o.e.buf, '}')
}

func (o *object) extra(extra Extra, known fieldSet) {
	keys := make([]string, 0, len(extra))
	for k := range extra {
		if _, modelled := known[k]; !modelled {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		if o.members > 0 {
			o.e.buf = append(o.e.buf, ',')
		}
		o.members++
		o.e.buf = append(appendString(o.e.buf, k), ':')
		o.e.raw(k, extra[k])
	}
}

// string writes s as a JSON string.
func (e *encoder) string(s string) { e.buf = appendString(e.buf, s) }

func (e *encoder) int(n int64) { e.buf = strconv.AppendInt(e.buf, n, 10) }

func (e *encoder) bool(b bool) { e.buf = strconv.AppendBool(e.buf, b) }

// float writes f as encoding/json writes a float of bits bits (32 or 64);
// NaN and the infinities, which JSON cannot hold, are an error about the
// member name.
func (e *encoder) float(name string, f float64, bits int) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		e.fail(name, &json.UnsupportedValueError{Value: reflect.ValueOf(f), Str: strconv.FormatFloat(f, 'g', -1, bits)})
		return
	}
	// encoding/json's choice of format: exponents only for very small
	// and very large numbers, written with at least two digits.
	format := byte('f')
	if abs := math.Abs(f); abs != 0 {
		if bits == 64 && (abs < 1e-6 || abs >= 1e21) || bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
			format = 'e'
		}
	}
	b := strconv.AppendFloat(e.buf, f, format, -1, bits)
	if format == 'e' {
		// Clean up e-09 to e-9.
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	e.buf = b
}

// raw writes the JSON text raw, the value of the member name, as
// json.Marshal writes a json.RawMessage: compacted and escaped. A nil raw
// is null.
func (e *encoder) raw(name string, raw json.RawMessage) {
	if raw == nil {
		e.buf = append(e.buf, "null"...)
		return
	}
	var err error
	if e.buf, err = appendCompact(e.buf, raw); err != nil {
		e.fail(name, err)
	}
}

// strings writes ss as an array of strings; nil is null.
func (e *encoder) strings(ss []string) {
	if ss == nil {
		e.buf = append(e.buf, "null"...)
		return
	}
	e.buf = append(e.buf, '[')
	for i, s := range ss {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		e.string(s)
	}
	e.buf = append(e.buf, ']')
}

// array writes s as an array, each element by write; nil is null.
func array[T any](e *encoder, s []T, write func(*encoder, *T)) {
	if s == nil {
		e.buf = append(e.buf, "null"...)
		return
	}
	e.buf = append(e.buf, '[')
	for i := range s {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		write(e, &s[i])
	}
	e.buf = append(e.buf, ']')
}

// finish returns what encode wrote, or its error, for a MarshalJSON method.
func finish[T any](v *T, sizeHint int, encode func(*encoder, *T)) ([]byte, error) {
	e := encoder{buf: make([]byte, 0, sizeHint)}
	encode(&e, v)
	if e.err != nil {
		return nil, e.err
	}
	return e.buf, nil
}

// The encoders of the types, one per type, each writing the members in the
// order of the struct's fields, with the tags' names and omitempty. A
// field added to a type must be added here too: TestEncodersMatchReflection
// fails until it is.

func encodeRequest(e *encoder, r *Request) {
	o := e.object()
	o.key(`"model":`).string(r.Model)
	array(o.key(`"messages":`), r.Messages, encodeMessage)
	if r.Stream {
		o.key(`"stream":`).bool(true)
	}
	if r.StreamOptions != nil {
		encodeStreamOptions(o.key(`"stream_options":`), r.StreamOptions)
	}
	if r.MaxTokens != nil {
		o.key(`"max_tokens":`).int(int64(*r.MaxTokens))
	}
	if r.MaxCompletionTokens != nil {
		o.key(`"max_completion_tokens":`).int(int64(*r.MaxCompletionTokens))
	}
	if r.Temperature != nil {
		o.key(`"temperature":`).float("temperature", *r.Temperature, 64)
	}
	if r.TopP != nil {
		o.key(`"top_p":`).float("top_p", *r.TopP, 64)
	}
	if r.N != nil {
		o.key(`"n":`).int(int64(*r.N))
	}
	if len(r.Stop) > 0 {
		o.key(`"stop":`).strings(r.Stop)
	}
	if r.Seed != nil {
		o.key(`"seed":`).int(*r.Seed)
	}
	if len(r.Tools) > 0 {
		array(o.key(`"tools":`), r.Tools, encodeTool)
	}
	if len(r.ToolChoice) > 0 {
		o.key(`"tool_choice":`).raw("tool_choice", r.ToolChoice)
	}
	if len(r.ResponseFormat) > 0 {
		o.key(`"response_format":`).raw("response_format", r.ResponseFormat)
	}
	if r.User != "" {
		o.key(`"user":`).string(r.User)
	}
	o.close(r.Extra, requestFields)
}

// requestSize estimates the length of r's encoding, for one allocation.
func requestSize(r *Request) int {
	n := 256 + len(r.Model)
	for i := range r.Messages {
		n += messageSize(&r.Messages[i])
	}
	for i := range r.Tools {
		if f := r.Tools[i].Function; f != nil {
			n += 64 + len(f.Name) + len(f.Description) + len(f.Parameters)
		}
	}
	for _, v := range r.Extra {
		n += 16 + len(v)
	}
	n += len(r.ToolChoice) + len(r.ResponseFormat)
	return n + n/16 // room for the escapes and the members' names not counted
}

// messageSize estimates the length of m's encoding. Strings are counted
// with a little room for escapes.
func messageSize(m *Message) int {
	n := 48 + len(m.Role) + len(m.Content) + len(m.Name) + len(m.ToolCallID) + len(m.ReasoningContent)*9/8
	for i := range m.ToolCalls {
		f := &m.ToolCalls[i].Function
		n += 64 + len(m.ToolCalls[i].ID) + len(f.Name) + len(f.Arguments)*9/8
	}
	for _, v := range m.Extra {
		n += 16 + len(v)
	}
	return n
}

func encodeStreamOptions(e *encoder, s *StreamOptions) {
	o := e.object()
	if s.IncludeUsage {
		o.key(`"include_usage":`).bool(true)
	}
	o.close(s.Extra, streamOptionsFields)
}

func encodeMessage(e *encoder, m *Message) {
	o := e.object()
	o.key(`"role":`).string(m.Role)
	if len(m.Content) > 0 {
		o.key(`"content":`).raw("content", m.Content)
	}
	if m.Name != "" {
		o.key(`"name":`).string(m.Name)
	}
	if len(m.ToolCalls) > 0 {
		array(o.key(`"tool_calls":`), m.ToolCalls, encodeToolCall)
	}
	if m.ToolCallID != "" {
		o.key(`"tool_call_id":`).string(m.ToolCallID)
	}
	if m.ReasoningContent != "" {
		o.key(`"reasoning_content":`).string(m.ReasoningContent)
	}
	o.close(m.Extra, messageFields)
}

func encodeTool(e *encoder, t *Tool) {
	o := e.object()
	o.key(`"type":`).string(t.Type)
	if t.Function != nil {
		encodeFunctionDef(o.key(`"function":`), t.Function)
	}
	o.close(t.Extra, toolFields)
}

func encodeFunctionDef(e *encoder, f *FunctionDef) {
	o := e.object()
	o.key(`"name":`).string(f.Name)
	if f.Description != "" {
		o.key(`"description":`).string(f.Description)
	}
	if len(f.Parameters) > 0 {
		o.key(`"parameters":`).raw("parameters", f.Parameters)
	}
	if f.Strict != nil {
		o.key(`"strict":`).bool(*f.Strict)
	}
	o.close(f.Extra, functionDefFields)
}

func encodeToolCall(e *encoder, t *ToolCall) {
	o := e.object()
	if t.Index != nil {
		o.key(`"index":`).int(int64(*t.Index))
	}
	if t.ID != "" {
		o.key(`"id":`).string(t.ID)
	}
	if t.Type != "" {
		o.key(`"type":`).string(t.Type)
	}
	encodeFunctionCall(o.key(`"function":`), &t.Function)
	o.close(t.Extra, toolCallFields)
}

func encodeFunctionCall(e *encoder, f *FunctionCall) {
	o := e.object()
	if f.Name != "" {
		o.key(`"name":`).string(f.Name)
	}
	o.key(`"arguments":`).string(f.Arguments)
	o.close(f.Extra, functionCallFields)
}

func encodeResponse(e *encoder, r *Response) {
	o := e.object()
	o.key(`"id":`).string(r.ID)
	o.key(`"object":`).string(r.Object)
	o.key(`"created":`).int(r.Created)
	o.key(`"model":`).string(r.Model)
	array(o.key(`"choices":`), r.Choices, encodeChoice)
	if r.Usage != nil {
		encodeUsage(o.key(`"usage":`), r.Usage)
	}
	o.close(r.Extra, responseFields)
}

// responseSize estimates the length of r's encoding.
func responseSize(r *Response) int {
	n := 256 + len(r.ID) + len(r.Model)
	for i := range r.Choices {
		n += 64 + messageSize(&r.Choices[i].Message)
	}
	return n
}

func encodeChoice(e *encoder, c *Choice) {
	o := e.object()
	o.key(`"index":`).int(int64(c.Index))
	encodeMessage(o.key(`"message":`), &c.Message)
	o.key(`"finish_reason":`).finishReason(c.FinishReason)
	o.close(c.Extra, choiceFields)
}

// finishReason writes f as its MarshalJSON does: null for "".
func (e *encoder) finishReason(f FinishReason) {
	if f == "" {
		e.buf = append(e.buf, "null"...)
		return
	}
	e.string(string(f))
}

func encodeChunk(e *encoder, c *Chunk) {
	o := e.object()
	o.key(`"id":`).string(c.ID)
	o.key(`"object":`).string(c.Object)
	o.key(`"created":`).int(c.Created)
	o.key(`"model":`).string(c.Model)
	array(o.key(`"choices":`), c.Choices, encodeChunkChoice)
	if c.Usage != nil {
		encodeUsage(o.key(`"usage":`), c.Usage)
	}
	o.close(c.Extra, chunkFields)
}

func encodeChunkChoice(e *encoder, c *ChunkChoice) {
	o := e.object()
	o.key(`"index":`).int(int64(c.Index))
	encodeDelta(o.key(`"delta":`), &c.Delta)
	o.key(`"finish_reason":`).finishReason(c.FinishReason)
	o.close(c.Extra, chunkChoiceFields)
}

func encodeDelta(e *encoder, d *Delta) {
	o := e.object()
	if d.Role != "" {
		o.key(`"role":`).string(d.Role)
	}
	if d.Content != "" {
		o.key(`"content":`).string(d.Content)
	}
	if d.ReasoningContent != "" {
		o.key(`"reasoning_content":`).string(d.ReasoningContent)
	}
	if len(d.ToolCalls) > 0 {
		array(o.key(`"tool_calls":`), d.ToolCalls, encodeToolCall)
	}
	o.close(d.Extra, deltaFields)
}

func encodeUsage(e *encoder, u *Usage) {
	o := e.object()
	o.key(`"prompt_tokens":`).int(int64(u.PromptTokens))
	o.key(`"completion_tokens":`).int(int64(u.CompletionTokens))
	o.key(`"total_tokens":`).int(int64(u.TotalTokens))
	if u.PromptTokensDetails != nil {
		encodePromptTokensDetails(o.key(`"prompt_tokens_details":`), u.PromptTokensDetails)
	}
	if u.CompletionTokensDetails != nil {
		encodeCompletionTokensDetails(o.key(`"completion_tokens_details":`), u.CompletionTokensDetails)
	}
	o.close(u.Extra, usageFields)
}

func encodePromptTokensDetails(e *encoder, p *PromptTokensDetails) {
	o := e.object()
	o.key(`"cached_tokens":`).int(int64(p.CachedTokens))
	if p.CacheWriteTokens != 0 {
		o.key(`"cache_write_tokens":`).int(int64(p.CacheWriteTokens))
	}
	o.close(p.Extra, promptTokensDetailsFields)
}

func encodeCompletionTokensDetails(e *encoder, c *CompletionTokensDetails) {
	o := e.object()
	o.key(`"reasoning_tokens":`).int(int64(c.ReasoningTokens))
	o.close(c.Extra, completionTokensDetailsFields)
}

func encodePart(e *encoder, p *Part) {
	o := e.object()
	o.key(`"type":`).string(p.Type)
	if p.Text != "" {
		o.key(`"text":`).string(p.Text)
	}
	if p.ImageURL != nil {
		u := p.ImageURL
		img := o.key(`"image_url":`).object()
		img.key(`"url":`).string(u.URL)
		if u.Detail != "" {
			img.key(`"detail":`).string(u.Detail)
		}
		img.close(nil, nil)
	}
	o.close(p.Extra, partFields)
}

// partsSize estimates the length of the encoding of parts.
func partsSize(parts []Part) int {
	n := 2
	for i := range parts {
		p := &parts[i]
		n += 32 + len(p.Type) + len(p.Text)*9/8
		if p.ImageURL != nil {
			n += 32 + len(p.ImageURL.URL) + len(p.ImageURL.Detail)
		}
		for _, v := range p.Extra {
			n += 16 + len(v)
		}
	}
	return n
}

func encodeEmbeddingRequest(e *encoder, r *EmbeddingRequest) {
	o := e.object()
	o.key(`"model":`).string(r.Model)
	o.key(`"input":`).raw("input", r.Input)
	if r.EncodingFormat != "" {
		o.key(`"encoding_format":`).string(r.EncodingFormat)
	}
	if r.Dimensions != nil {
		o.key(`"dimensions":`).int(int64(*r.Dimensions))
	}
	if r.User != "" {
		o.key(`"user":`).string(r.User)
	}
	o.close(r.Extra, embeddingRequestFields)
}

func encodeEmbeddingResponse(e *encoder, r *EmbeddingResponse) {
	o := e.object()
	o.key(`"object":`).string(r.Object)
	array(o.key(`"data":`), r.Data, encodeEmbedding)
	o.key(`"model":`).string(r.Model)
	if r.Usage != nil {
		uo := o.key(`"usage":`).object()
		uo.key(`"prompt_tokens":`).int(int64(r.Usage.PromptTokens))
		uo.key(`"total_tokens":`).int(int64(r.Usage.TotalTokens))
		uo.close(nil, nil)
	}
	o.close(r.Extra, embeddingResponseFields)
}

func encodeEmbedding(e *encoder, v *Embedding) {
	o := e.object()
	o.key(`"object":`).string(v.Object)
	o.key(`"index":`).int(int64(v.Index))
	array(o.key(`"embedding":`), v.Embedding, func(e *encoder, f *float32) { e.float("embedding", float64(*f), 32) })
	o.close(nil, nil)
}

// Strings.

// htmlSafe marks the ASCII bytes a JSON string holds as they are, as
// json.Marshal writes strings: all but control characters, the quote, the
// backslash, and <, > and & (escaped so the JSON is safe inside HTML).
var htmlSafe = func() (safe [utf8.RuneSelf]bool) {
	for c := ' '; c < utf8.RuneSelf; c++ {
		safe[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return safe
}()

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string, escaped as json.Marshal escapes
// it (encoding/json's appendString with HTML escaping): bytes that are not
// UTF-8 become U+FFFD, U+2028 and U+2029 are escaped.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if htmlSafe[c] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '\\', '"':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// Raw JSON texts.

// appendCompact appends src, a JSON text, as json.Marshal writes a
// json.RawMessage: without insignificant white space, with <, >, &, U+2028
// and U+2029 escaped, and other bytes as they are. src that is not one
// valid JSON value is an error, encoding/json's.
//
// A scanner made for this checks and copies src in one pass, the bulk of a
// string at a time. Whatever it does not accept goes to encoding/json,
// which gives the error (or, should the scanner refuse a valid text, the
// same result, only slower): the fast path never needs to be more lenient
// than encoding/json, only right about what it accepts.
func appendCompact(dst, src []byte) ([]byte, error) {
	s := compactor{src: src, dst: dst}
	s.space()
	if s.value(0) {
		s.space()
		if s.pos == len(src) {
			return s.dst, nil
		}
	}
	var c bytes.Buffer
	if err := json.Compact(&c, src); err != nil {
		return dst, err
	}
	var h bytes.Buffer
	json.HTMLEscape(&h, c.Bytes())
	return append(dst, h.Bytes()...), nil
}

// maxDepth is how deep objects and arrays may nest, encoding/json's limit.
const maxDepth = 10000

// compactor checks and copies a JSON text; see appendCompact.
type compactor struct {
	src []byte
	pos int // of the next byte of src to read
	dst []byte
}

// space skips white space.
func (s *compactor) space() {
	for s.pos < len(s.src) {
		switch s.src[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// next skips white space and returns the byte that follows, or 0 at the
// end.
func (s *compactor) next() byte {
	s.space()
	if s.pos < len(s.src) {
		return s.src[s.pos]
	}
	return 0
}

// value copies the value that comes next, depth levels deep, and reports
// whether it is valid.
func (s *compactor) value(depth int) bool {
	switch c := s.next(); {
	case c == '"':
		return s.string()
	case c == '{':
		return s.object(depth + 1)
	case c == '[':
		return s.array(depth + 1)
	case c == 't':
		return s.word("true")
	case c == 'f':
		return s.word("false")
	case c == 'n':
		return s.word("null")
	case c == '-' || '0' <= c && c <= '9':
		return s.number()
	}
	return false
}

func (s *compactor) object(depth int) bool {
	if depth > maxDepth {
		return false
	}
	s.pos++
	s.dst = append(s.dst, '{')
	if s.next() == '}' {
		s.pos++
		s.dst = append(s.dst, '}')
		return true
	}
	for {
		if s.next() != '"' || !s.string() || s.next() != ':' {
			return false
		}
		s.pos++
		s.dst = append(s.dst, ':')
		if !s.value(depth) {
			return false
		}
		switch s.next() {
		case ',':
			s.pos++
			s.dst = append(s.dst, ',')
		case '}':
			s.pos++
			s.dst = append(s.dst, '}')
			return true
		default:
			return false
		}
	}
}

func (s *compactor) array(depth int) bool {
	if depth > maxDepth {
		return false
	}
	s.pos++
	s.dst = append(s.dst, '[')
	if s.next() == ']' {
		s.pos++
		s.dst = append(s.dst, ']')
		return true
	}
	for {
		if !s.value(depth) {
			return false
		}
		switch s.next() {
		case ',':
			s.pos++
			s.dst = append(s.dst, ',')
		case ']':
			s.pos++
			s.dst = append(s.dst, ']')
			return true
		default:
			return false
		}
	}
}

// word copies w, which must come next.
func (s *compactor) word(w string) bool {
	if !bytes.HasPrefix(s.src[s.pos:], []byte(w)) {
		return false
	}
	s.pos += len(w)
	s.dst = append(s.dst, w...)
	return true
}

// number copies a number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *compactor) number() bool {
	d, i := s.src, s.pos
	if d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case i < len(d) && '1' <= d[i] && d[i] <= '9':
		i = digits(d, i+1)
	default:
		return false
	}
	if i < len(d) && d[i] == '.' {
		if j := digits(d, i+1); j > i+1 {
			i = j
		} else {
			return false
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if j := digits(d, i); j > i {
			i = j
		} else {
			return false
		}
	}
	s.dst = append(s.dst, d[s.pos:i]...)
	s.pos = i
	return true
}

// digits returns the index of the first byte from i on in d that is no
// digit.
func digits(d []byte, i int) int {
	for i < len(d) && '0' <= d[i] && d[i] <= '9' {
		i++
	}
	return i
}

// stringPlain marks the bytes a string in a raw JSON text holds and that
// are copied as they are: not control characters, the quote, the
// backslash, <, > and &, nor 0xE2, with which U+2028 and U+2029 begin.
// Other bytes from 0x80 on are copied whether UTF-8 or not, as
// encoding/json's Compact does.
var stringPlain = func() (plain [256]bool) {
	for c := ' '; c < 256; c++ {
		plain[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' && c != 0xE2
	}
	return plain
}()

// string copies the string that comes next.
func (s *compactor) string() bool {
	d := s.src
	start := s.pos // the quote: copied with the first run
	for i := s.pos + 1; i < len(d); {
		c := d[i]
		if stringPlain[c] {
			i++
			continue
		}
		switch {
		case c == '"':
			s.dst = append(s.dst, d[start:i+1]...)
			s.pos = i + 1
			return true
		case c == '\\':
			n := jsonstring.EscapeLen(d[i:])
			if n == 0 {
				return false
			}
			i += n
		case c < ' ':
			return false
		case c == 0xE2:
			if i+2 < len(d) && d[i+1] == 0x80 && d[i+2]&^1 == 0xA8 {
				s.dst = append(s.dst, d[start:i]...)
				s.dst = append(s.dst, '\\', 'u', '2', '0', '2', hexDigits[d[i+2]&0xF])
				i += 3
				start = i
			} else {
				i++
			}
		default: // <, > or &
			s.dst = append(s.dst, d[start:i]...)
			s.dst = append(s.dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			i++
			start = i
		}
	}
	return false
}
