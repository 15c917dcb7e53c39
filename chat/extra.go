package chat

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
)

// Extra holds the JSON members of an object that its Go type does not
// model, keyed by member name. Detour keeps them so a request or a response
// passes through the gateway without losing a field OpenAI (or a compatible
// service) added after this code was written.
type Extra map[string]json.RawMessage

// fieldSet maps the JSON member names a struct type models to the index
// of their field.
type fieldSet map[string]int

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
		fs[name] = f.Index[0]
	}
	return fs
}

// decodeWithExtra decodes the JSON object data into the struct v points to
// (a type without custom JSON methods) and returns the members it does not
// model. It reads data in one pass: members are split out first, then each
// known one is decoded into its field. Member names match exactly, as on
// the wire, not case-insensitively as encoding/json would.
func decodeWithExtra(data []byte, v any, known fieldSet) (Extra, error) {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(data, &members); err != nil {
		return nil, err
	}
	elem := reflect.ValueOf(v).Elem()
	var extra Extra
	for name, raw := range members {
		i, ok := known[name]
		if !ok {
			if extra == nil {
				extra = Extra{}
			}
			extra[name] = raw
			continue
		}
		if err := json.Unmarshal(raw, elem.Field(i).Addr().Interface()); err != nil {
			var te *json.UnmarshalTypeError
			if errors.As(err, &te) {
				// Keep the path to the member, as encoding/json would.
				te.Field = strings.TrimSuffix(name+"."+te.Field, ".")
			}
			return nil, err
		}
	}
	return extra, nil
}
