package gemini

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
)

// Gemini's Schema (used for function parameters and responseSchema) is a
// subset of OpenAPI 3.0, and Google rejects a request naming any member it
// does not know ("Invalid JSON payload received. Unknown name
// \"additionalProperties\" … Cannot find field."). convertSchema turns a
// client's JSON Schema into that subset:
//
//   - kept as they are: type, title, description, nullable, properties,
//     required, items, anyOf, minItems, maxItems, minProperties,
//     maxProperties, minLength, maxLength, pattern, minimum, maximum,
//     default, example, propertyOrdering;
//   - type as an array ["string", "null"] becomes type "string" with
//     nullable: true (several non-null types become anyOf);
//   - $ref to "#/$defs/…" or "#/definitions/…" is replaced by the
//     definition it names (recursive definitions are cut off after
//     maxRefDepth levels), and $defs/definitions themselves are dropped;
//   - oneOf becomes anyOf; allOf with one member is merged into its parent;
//   - const with a string value becomes a one-value enum;
//   - enum is kept only when every value is a string (Gemini's enum is a
//     list of strings; a numeric enum leaves only its type, integer or
//     number); format only when Gemini knows it (enum, date-time, float,
//     double, int32, int64);
//   - a schema without a type gets the one its enum, const, properties or
//     items imply;
//   - required keeps only names listed in properties (Gemini rejects the
//     others with "property is not defined");
//   - everything else is dropped: additionalProperties, $schema, $id,
//     $comment, strict, allOf with several members, not,
//     patternProperties, dependentRequired, exclusiveMinimum,
//     exclusiveMaximum, multipleOf, uniqueItems, examples, contentEncoding,
//     contentMediaType, readOnly, writeOnly, deprecated, prefixItems, and
//     any key Gemini does not list.
//
// Dropping loosens the schema; Gemini then generates within what is left.

// maxRefDepth bounds how deep $refs are followed, for recursive schemas.
const maxRefDepth = 8

// maxRefExpansions bounds how many $refs are inlined in one schema, so a
// schema whose definitions refer to each other many times cannot blow up.
const maxRefExpansions = 1000

// schemaKeep lists the members kept unchanged.
var schemaKeep = map[string]bool{
	"title": true, "description": true, "nullable": true,
	"minItems": true, "maxItems": true, "minProperties": true, "maxProperties": true,
	"minLength": true, "maxLength": true, "pattern": true, "minimum": true, "maximum": true,
	"default": true, "example": true,
}

// schemaFormats lists the formats Gemini accepts.
var schemaFormats = map[string]bool{
	"enum": true, "date-time": true, "float": true, "double": true, "int32": true, "int64": true,
}

type schemaConverter struct {
	defs       map[string]any
	expansions int
}

// convertSchema parses a JSON Schema object and returns it in Gemini's
// subset. The error says what is wrong, for a message naming the field.
func convertSchema(raw json.RawMessage) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber() // keep numbers as written
	var root any
	if err := dec.Decode(&root); err != nil {
		return nil, fmt.Errorf("is not valid JSON")
	}
	obj, ok := root.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("must be a JSON Schema object")
	}
	sc := &schemaConverter{defs: map[string]any{}}
	for _, key := range []string{"$defs", "definitions"} {
		if defs, ok := obj[key].(map[string]any); ok {
			for name, d := range defs {
				sc.defs["#/"+key+"/"+name] = d
			}
		}
	}
	return sc.convert(obj, 0), nil
}

func (sc *schemaConverter) convert(in map[string]any, depth int) map[string]any {
	if ref, ok := in["$ref"].(string); ok {
		if target, ok := sc.defs[ref].(map[string]any); ok && depth < maxRefDepth && sc.expansions < maxRefExpansions {
			sc.expansions++
			merged := make(map[string]any, len(target)+len(in))
			for k, v := range target {
				merged[k] = v
			}
			for k, v := range in { // siblings of $ref (a description) win
				if k != "$ref" {
					merged[k] = v
				}
			}
			return sc.convert(merged, depth+1)
		}
	}
	if all, ok := in["allOf"].([]any); ok && len(all) == 1 {
		if sub, ok := all[0].(map[string]any); ok {
			merged := make(map[string]any, len(in)+len(sub))
			for k, v := range sub {
				merged[k] = v
			}
			for k, v := range in {
				if k != "allOf" {
					merged[k] = v
				}
			}
			return sc.convert(merged, depth)
		}
	}
	out := map[string]any{}
	var anyOf []any
	for k, v := range in {
		switch k {
		case "type":
			sc.convertType(v, out, &anyOf)
		case "properties":
			if props, ok := v.(map[string]any); ok {
				conv := make(map[string]any, len(props))
				for name, p := range props {
					if ps, ok := p.(map[string]any); ok {
						conv[name] = sc.convert(ps, depth)
					} else {
						conv[name] = map[string]any{} // `true` or junk: anything goes
					}
				}
				out["properties"] = conv
			}
		case "items":
			if items, ok := v.(map[string]any); ok {
				out["items"] = sc.convert(items, depth)
			}
		case "anyOf", "oneOf":
			if list, ok := v.([]any); ok {
				for _, s := range list {
					if sub, ok := s.(map[string]any); ok {
						anyOf = append(anyOf, sc.convert(sub, depth))
					}
				}
			}
		case "enum":
			if list, ok := v.([]any); ok && len(list) > 0 && allStrings(list) {
				out["enum"] = list
			}
		case "const":
			if s, ok := v.(string); ok {
				if _, has := in["enum"]; !has {
					out["enum"] = []any{s}
				}
			}
		case "format":
			if s, ok := v.(string); ok && schemaFormats[s] {
				out["format"] = s
			}
		case "required", "propertyOrdering":
			// filtered below, once properties are known
		default:
			if schemaKeep[k] {
				out[k] = v
			}
		}
	}
	if len(anyOf) > 0 {
		out["anyOf"] = anyOf
	}
	if _, typed := out["type"]; !typed && len(anyOf) == 0 {
		if t := impliedType(in, out); t != "" {
			out["type"] = t
		}
	}
	props, _ := out["properties"].(map[string]any)
	for _, k := range []string{"required", "propertyOrdering"} {
		list, ok := in[k].([]any)
		if !ok {
			continue
		}
		var kept []any
		for _, n := range list {
			if s, ok := n.(string); ok && props[s] != nil && !slices.Contains(kept, any(s)) {
				kept = append(kept, s)
			}
		}
		if len(kept) > 0 {
			out[k] = kept
		}
	}
	return out
}

// convertType writes a JSON Schema type as Gemini's single type, nullable
// flag and, for several types, anyOf.
func (sc *schemaConverter) convertType(v any, out map[string]any, anyOf *[]any) {
	switch t := v.(type) {
	case string:
		if t == "null" {
			out["nullable"] = true
			return
		}
		out["type"] = t
	case []any:
		var types []string
		for _, x := range t {
			s, ok := x.(string)
			switch {
			case !ok:
			case s == "null":
				out["nullable"] = true
			default:
				types = append(types, s)
			}
		}
		switch len(types) {
		case 0:
		case 1:
			out["type"] = types[0]
		default:
			for _, s := range types {
				*anyOf = append(*anyOf, map[string]any{"type": s})
			}
		}
	}
}

// impliedType is the type a schema without one implies by its other
// members: a string enum or const is a string, numeric enum values are
// numbers, properties make an object and items an array.
func impliedType(in, out map[string]any) string {
	if _, ok := out["enum"]; ok {
		return "string"
	}
	if list, ok := in["enum"].([]any); ok && len(list) > 0 {
		t := "integer"
		for _, v := range list {
			n, ok := v.(json.Number)
			if !ok {
				return ""
			}
			if _, err := n.Int64(); err != nil {
				t = "number"
			}
		}
		return t
	}
	if _, ok := out["properties"]; ok {
		return "object"
	}
	if _, ok := out["items"]; ok {
		return "array"
	}
	return ""
}

func allStrings(list []any) bool {
	for _, v := range list {
		if _, ok := v.(string); !ok {
			return false
		}
	}
	return true
}

// isEmptyObject reports whether a converted schema describes an object
// without properties (or nothing at all).
func isEmptyObject(s map[string]any) bool {
	if t, ok := s["type"].(string); ok && t != "object" && t != "OBJECT" {
		return false
	}
	if _, ok := s["anyOf"]; ok {
		return false
	}
	props, _ := s["properties"].(map[string]any)
	return len(props) == 0
}
