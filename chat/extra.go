package chat

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
)

// Extra holds the JSON members of an object that its Go type does not
// model, keyed by member name. Detour keeps them so a request or a response
// passes through the gateway without losing a field OpenAI (or a compatible
// service) added after this code was written.
type Extra map[string]json.RawMessage

// fieldSet is the set of JSON member names a struct type models.
type fieldSet map[string]bool

// fieldsOf lists the JSON names of t's exported fields, as encoding/json
// would use them.
func fieldsOf(t reflect.Type) fieldSet {
	fs := fieldSet{}
	for f := range t.Fields() {
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch name {
		case "-":
			continue
		case "":
			name = f.Name
		}
		fs[name] = true
	}
	return fs
}

// decodeWithExtra decodes data into v (a pointer to a struct without custom
// JSON methods) and returns the members v does not model.
func decodeWithExtra(data []byte, v any, known fieldSet) (Extra, error) {
	if err := json.Unmarshal(data, v); err != nil {
		return nil, err
	}
	// A second pass over the raw members is the price of keeping unknown
	// fields; it is small next to a network round trip.
	var all map[string]json.RawMessage
	if err := json.Unmarshal(data, &all); err != nil {
		return nil, err
	}
	var extra Extra
	for k, raw := range all {
		if known[k] {
			continue
		}
		if extra == nil {
			extra = Extra{}
		}
		extra[k] = raw
	}
	return extra, nil
}

// encodeWithExtra encodes v (a struct without custom JSON methods) and
// appends extra's members, in sorted order so output is deterministic.
// Members v models win over extras of the same name.
func encodeWithExtra(v any, extra Extra, known fieldSet) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil || len(extra) == 0 {
		return b, err
	}
	keys := make([]string, 0, len(extra))
	for k := range extra {
		if !known[k] {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var buf bytes.Buffer
	buf.Grow(len(b) + 64*len(keys))
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
	return buf.Bytes(), nil
}
