package chat

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
)

// Dialects of Native: the client APIs Detour speaks besides Chat
// Completions.
const (
	// DialectAnthropic is Anthropic's Messages API.
	DialectAnthropic = "anthropic"
	// DialectResponses is OpenAI's Responses API.
	DialectResponses = "responses"
)

// Native is a request or an answer in a dialect other than Chat
// Completions, carried beside its canonical form. When a request's
// deployment speaks the client's own dialect, its adapter sends Body with
// only the model replaced, and hands the upstream's answer back the same
// way: prompt-cache markers, thinking signatures, citations and members
// Detour does not know arrive byte for byte, which no round trip through
// the canonical type could promise.
type Native struct {
	// Dialect is DialectAnthropic or DialectResponses.
	Dialect string
	// Body is the JSON body.
	Body []byte
	// Header holds the client's headers that belong to the dialect
	// (anthropic-version, anthropic-beta), to pass on; nil for answers.
	Header map[string]string
	// Required is set when the request holds what only an upstream of
	// the same dialect can serve (Anthropic's server tools, say): no
	// other deployment may take it.
	Required bool
}

// SetMember returns the JSON object body with its top-level member key set
// to the JSON value v; every other byte of body is kept. A body whose key
// already holds v is returned as it is; a missing key is added at the end.
func SetMember(body []byte, key string, v json.RawMessage) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, fmt.Errorf("set %q: the body is not a JSON object", key)
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("set %q: %w", key, err)
		}
		name, _ := tok.(string)
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return nil, fmt.Errorf("set %q: %w", key, err)
		}
		if name != key {
			continue
		}
		if bytes.Equal(value, v) {
			return body, nil
		}
		end := int(dec.InputOffset())
		start := end - len(value)
		out := make([]byte, 0, len(body)-len(value)+len(v))
		return append(append(append(out, body[:start]...), v...), body[end:]...), nil
	}
	if _, err := dec.Token(); err != nil && err != io.EOF {
		return nil, fmt.Errorf("set %q: %w", key, err)
	}
	// Not there: insert before the closing brace.
	end := bytes.LastIndexByte(body, '}')
	member, _ := json.Marshal(key)
	sep := []byte(",")
	if len(bytes.TrimSpace(body[bytes.IndexByte(body, '{')+1:end])) == 0 {
		sep = nil
	}
	out := make([]byte, 0, len(body)+len(member)+len(v)+2)
	out = append(append(append(append(append(out, body[:end]...), sep...), member...), ':'), v...)
	return append(out, body[end:]...), nil
}
