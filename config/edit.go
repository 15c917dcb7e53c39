package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"go.yaml.in/yaml/v3"
)

// Edit is what the dashboard changes in the detour section. EditDetour
// writes the fields that are set (non-nil) and leaves every other key, and
// the comments, as they are.
type Edit struct {
	// Listen sets detour.listen.
	Listen *string
	// OfflineEnabled, OllamaHost and OllamaModel set detour.offline's
	// enabled, ollama_host and model; "" for the latter two removes the
	// key, so the default applies.
	OfflineEnabled          *bool
	OllamaHost, OllamaModel *string
	// CacheEnabled, CacheTTL and CacheMaxBytes set detour.cache's
	// enabled, ttl (whole seconds) and max_bytes.
	CacheEnabled  *bool
	CacheTTL      *time.Duration
	CacheMaxBytes *int64
	// Budgets replaces detour.budgets; an empty list removes it.
	Budgets *[]Budget
	// Auth sets detour.server.auth.
	Auth *bool
}

// ErrNotEditable is returned by EditDetour for a file whose shape it will
// not rewrite safely (several YAML documents, anchors or aliases where it
// would write); the user edits such a file by hand.
var ErrNotEditable = errors.New("the config file cannot be edited safely; edit it by hand")

// EditDetour returns the config file data with e written into its detour
// section. It does not validate: Parse the result for that. The file is
// re-emitted by the YAML library: comments stay, blank lines and the
// alignment of end-of-line comments do not.
func EditDetour(data []byte, e Edit) ([]byte, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read the config to edit it: %w", err)
	}
	var more yaml.Node
	if err := dec.Decode(&more); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: it holds more than one YAML document", ErrNotEditable)
	}
	if doc.Kind == 0 { // an empty file
		doc = yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{{Kind: yaml.MappingNode, Tag: "!!map"}}}
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, errors.New("the config file is not a YAML mapping")
	}
	w := editor{}
	detour := w.mappingAt(root, "detour")
	if e.Listen != nil {
		w.setScalar(detour, "listen", *e.Listen, "!!str")
	}
	if e.OfflineEnabled != nil || e.OllamaHost != nil || e.OllamaModel != nil {
		off := w.mappingAt(detour, "offline")
		if e.OfflineEnabled != nil {
			w.setScalar(off, "enabled", strconv.FormatBool(*e.OfflineEnabled), "")
		}
		w.setOrRemove(off, "ollama_host", e.OllamaHost)
		w.setOrRemove(off, "model", e.OllamaModel)
	}
	if e.CacheEnabled != nil || e.CacheTTL != nil || e.CacheMaxBytes != nil {
		c := w.mappingAt(detour, "cache")
		if e.CacheEnabled != nil {
			w.setScalar(c, "enabled", strconv.FormatBool(*e.CacheEnabled), "")
		}
		if e.CacheTTL != nil {
			w.setScalar(c, "ttl", strconv.FormatInt(int64(*e.CacheTTL/time.Second), 10), "")
		}
		if e.CacheMaxBytes != nil {
			w.setScalar(c, "max_bytes", strconv.FormatInt(*e.CacheMaxBytes, 10), "")
		}
	}
	if e.Auth != nil {
		w.setScalar(w.mappingAt(detour, "server"), "auth", strconv.FormatBool(*e.Auth), "")
	}
	if e.Budgets != nil {
		if b := budgetsNode(*e.Budgets); b != nil {
			w.set(detour, "budgets", b)
		} else {
			w.remove(detour, "budgets")
		}
	}
	if w.err != nil {
		return nil, w.err
	}
	var out bytes.Buffer
	enc := yaml.NewEncoder(&out)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, fmt.Errorf("write the edited config: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("write the edited config: %w", err)
	}
	return out.Bytes(), nil
}

// budgetsNode renders budgets as detour.budgets: the global limits at the
// top, providers: and groups: below; nil for none.
func budgetsNode(budgets []Budget) *yaml.Node {
	if len(budgets) == 0 {
		return nil
	}
	w := editor{} // fresh nodes: nothing to refuse
	top := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	limits := func(m *yaml.Node, b Budget) {
		if b.DailyUSD > 0 {
			w.setScalar(m, "daily_usd", strconv.FormatFloat(b.DailyUSD, 'f', -1, 64), "")
		}
		if b.MonthlyUSD > 0 {
			w.setScalar(m, "monthly_usd", strconv.FormatFloat(b.MonthlyUSD, 'f', -1, 64), "")
		}
		if b.OnExceed != "" {
			w.setScalar(m, "on_exceed", b.OnExceed, "!!str")
		}
	}
	for _, b := range budgets {
		switch b.Scope {
		case "global":
			limits(top, b)
		case "provider", "group":
			one := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
			limits(one, b)
			w.set(w.mappingAt(top, b.Scope+"s"), b.Name, one)
		}
	}
	return top
}

// editor changes a YAML tree, keeping the first error: it refuses to
// write through an alias or over an anchor, which would change other keys
// that share the node, or leave their aliases dangling.
type editor struct{ err error }

func (w *editor) refuse(key string, n *yaml.Node) bool {
	if w.err != nil {
		return true
	}
	switch {
	case n == nil:
		return false
	case n.Kind == yaml.AliasNode:
		w.err = fmt.Errorf("%w: %s is a YAML alias (*%s)", ErrNotEditable, key, n.Value)
	case n.Anchor != "":
		w.err = fmt.Errorf("%w: %s carries a YAML anchor (&%s) other keys may share", ErrNotEditable, key, n.Anchor)
	}
	return w.err != nil
}

// mappingAt returns the mapping under key in m, adding an empty one when
// the key is missing or null.
func (w *editor) mappingAt(m *yaml.Node, key string) *yaml.Node {
	v := get(m, key)
	if w.refuse(key, v) {
		return &yaml.Node{Kind: yaml.MappingNode} // discarded: w.err is set
	}
	if v != nil && !isNull(v) {
		if v.Kind != yaml.MappingNode {
			w.err = fmt.Errorf("%s in the config file is %s, not a mapping; fix it by hand first", key, describe(v))
			return &yaml.Node{Kind: yaml.MappingNode}
		}
		return v
	}
	v = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	w.set(m, key, v)
	return v
}

// get returns the value of key in mapping m, nil when absent.
func get(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// set puts v under key in mapping m: in place (keeping the comment on
// the old value's line) when the key exists, else at the end.
func (w *editor) set(m *yaml.Node, key string, v *yaml.Node) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			old := m.Content[i+1]
			if w.refuse(key, old) {
				return
			}
			if v.LineComment == "" {
				v.LineComment = old.LineComment
			}
			m.Content[i+1] = v
			return
		}
	}
	m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, v)
}

// setScalar sets key to a scalar. tag "" lets the value speak for
// itself (numbers, booleans); "!!str" quotes it when it would read as
// something else.
func (w *editor) setScalar(m *yaml.Node, key, value, tag string) {
	w.set(m, key, &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: value})
}

// setOrRemove sets key to *value, removes it when *value is "", and
// leaves it alone when value is nil.
func (w *editor) setOrRemove(m *yaml.Node, key string, value *string) {
	switch {
	case value == nil:
	case *value == "":
		w.remove(m, key)
	default:
		w.setScalar(m, key, *value, "!!str")
	}
}

// remove deletes key from mapping m.
func (w *editor) remove(m *yaml.Node, key string) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			if w.refuse(key, m.Content[i+1]) {
				return
			}
			m.Content = append(m.Content[:i], m.Content[i+2:]...)
			return
		}
	}
}
