package config

import (
	"math"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Limits that keep hostile YAML (self-referencing anchors, alias bombs) from
// hanging the loader.
const (
	// maxMergeDepth bounds nested "<<" merge keys.
	maxMergeDepth = 32
	// maxMerges bounds the "<<" merge keys expanded in one file.
	maxMerges = 10000
	// maxCanonNodes bounds the nodes visited to compute one deployment ID.
	maxCanonNodes = 10000
)

// pair is one key and its value in a YAML mapping.
type pair struct {
	key, value *yaml.Node
}

// resolve follows an alias to the node it names.
func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// isNull reports whether n is absent or an explicit null (`key:`, `~`,
// `null`). Detour treats a null setting as an omitted one, as LiteLLM does.
func isNull(n *yaml.Node) bool {
	n = resolve(n)
	return n == nil || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null")
}

// describe renders a value for an error message: scalars quoted as written,
// collections by kind.
func describe(n *yaml.Node) string {
	n = resolve(n)
	switch {
	case n == nil || n.Kind == 0:
		return "nothing"
	case n.Kind == yaml.MappingNode:
		return "a mapping"
	case n.Kind == yaml.SequenceNode:
		return "a list"
	case isNull(n):
		return "null"
	}
	return strconv.Quote(n.Value)
}

// line returns the line of n, following aliases to their anchor.
func line(n *yaml.Node) int {
	if n == nil {
		return 0
	}
	if n.Line == 0 {
		if r := resolve(n); r != nil {
			return r.Line
		}
	}
	return n.Line
}

// join extends a dotted key path.
func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// index extends a key path with a list index: "model_list[3]".
func index(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}

// scalarText returns a scalar's text as written; numbers and booleans count
// as text, so `model_name: 4` names group "4".
func scalarText(n *yaml.Node) (string, bool) {
	n = resolve(n)
	if n == nil || n.Kind != yaml.ScalarNode || isNull(n) {
		return "", false
	}
	return n.Value, true
}

// scalarNumber reads a finite number. Quoted numbers ("100") are accepted,
// as LiteLLM's pydantic models accept them.
func scalarNumber(n *yaml.Node) (float64, bool) {
	n = resolve(n)
	if n == nil || n.Kind != yaml.ScalarNode {
		return 0, false
	}
	var f float64
	switch n.ShortTag() {
	case "!!int", "!!float":
		if err := n.Decode(&f); err != nil {
			return 0, false
		}
	case "!!str":
		v, err := strconv.ParseFloat(strings.TrimSpace(n.Value), 64)
		if err != nil {
			return 0, false
		}
		f = v
	default:
		return 0, false
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// scalarWhole reads a whole number: an int, a float with no fraction
// (1e5), or such a number quoted.
func scalarWhole(n *yaml.Node) (int64, bool) {
	n = resolve(n)
	if n == nil || n.Kind != yaml.ScalarNode {
		return 0, false
	}
	if n.ShortTag() == "!!int" {
		var i int64
		if err := n.Decode(&i); err == nil {
			return i, true
		}
	}
	if n.ShortTag() == "!!str" {
		if i, err := strconv.ParseInt(strings.TrimSpace(n.Value), 10, 64); err == nil {
			return i, true
		}
	}
	f, ok := scalarNumber(n)
	if !ok || f != math.Trunc(f) || f < math.MinInt64 || f >= math.MaxInt64 {
		return 0, false
	}
	return int64(f), true
}

// canon appends a canonical encoding of n to b: mappings with keys sorted,
// scalars with their resolved tag, aliases followed. Two nodes that mean the
// same YAML value with keys in any order encode the same. It returns false
// when the node budget runs out (self-referencing anchors, alias bombs).
func canon(b *strings.Builder, n *yaml.Node, budget *int) bool {
	n = resolve(n)
	*budget--
	if *budget < 0 {
		return false
	}
	if n == nil {
		b.WriteString("~")
		return true
	}
	switch n.Kind {
	case yaml.ScalarNode:
		b.WriteString(strconv.Quote(n.ShortTag()))
		b.WriteByte(':')
		b.WriteString(strconv.Quote(n.Value))
	case yaml.SequenceNode:
		b.WriteByte('[')
		for _, c := range n.Content {
			if !canon(b, c, budget) {
				return false
			}
			b.WriteByte(',')
		}
		b.WriteByte(']')
	case yaml.MappingNode:
		entries := make([]string, 0, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			var e strings.Builder
			if !canon(&e, n.Content[i], budget) {
				return false
			}
			e.WriteByte('=')
			if !canon(&e, n.Content[i+1], budget) {
				return false
			}
			entries = append(entries, e.String())
		}
		slices.Sort(entries)
		b.WriteByte('{')
		for _, e := range entries {
			b.WriteString(e)
			b.WriteByte(',')
		}
		b.WriteByte('}')
	default:
		b.WriteString("?")
	}
	return true
}
