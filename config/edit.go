package config

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"time"

	"go.yaml.in/yaml/v3"
)

// Edit is what the dashboard changes in the detour section. EditDetour
// writes these keys and leaves every other one, and the comments, as
// they are.
type Edit struct {
	// Listen is detour.listen.
	Listen string
	// Offline sets detour.offline's enabled, ollama_host and model ("" for
	// the latter two removes the key: the default applies).
	Offline Offline
	// Cache sets detour.cache's enabled, ttl and max_bytes.
	Cache Cache
	// Budgets replaces detour.budgets (none removes it).
	Budgets []Budget
}

// EditDetour returns the config file data with e written into its detour
// section. It does not validate: Parse the result for that.
func EditDetour(data []byte, e Edit) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("read the config to edit it: %w", err)
	}
	if doc.Kind == 0 { // an empty file
		doc = yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{{Kind: yaml.MappingNode, Tag: "!!map"}}}
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, errors.New("the config file is not a YAML mapping")
	}
	detour, err := mappingAt(root, "detour")
	if err != nil {
		return nil, err
	}
	setScalar(detour, "listen", e.Listen, "!!str")

	off, err := mappingAt(detour, "offline")
	if err != nil {
		return nil, err
	}
	setScalar(off, "enabled", strconv.FormatBool(e.Offline.Enabled), "")
	setOrRemove(off, "ollama_host", e.Offline.OllamaHost)
	setOrRemove(off, "model", e.Offline.Model)

	c, err := mappingAt(detour, "cache")
	if err != nil {
		return nil, err
	}
	setScalar(c, "enabled", strconv.FormatBool(e.Cache.Enabled), "")
	setScalar(c, "ttl", strconv.FormatInt(int64(e.Cache.TTL/time.Second), 10), "")
	setScalar(c, "max_bytes", strconv.FormatInt(e.Cache.MaxBytes, 10), "")

	if b := budgetsNode(e.Budgets); b != nil {
		set(detour, "budgets", b)
	} else {
		remove(detour, "budgets")
	}

	var out bytes.Buffer
	enc := yaml.NewEncoder(&out)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, fmt.Errorf("write the edited config: %w", err)
	}
	enc.Close()
	return out.Bytes(), nil
}

// budgetsNode renders budgets as detour.budgets: the global limits at the
// top, providers: and groups: below; nil for none.
func budgetsNode(budgets []Budget) *yaml.Node {
	if len(budgets) == 0 {
		return nil
	}
	top := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	limits := func(m *yaml.Node, b Budget) {
		if b.DailyUSD > 0 {
			setScalar(m, "daily_usd", strconv.FormatFloat(b.DailyUSD, 'f', -1, 64), "")
		}
		if b.MonthlyUSD > 0 {
			setScalar(m, "monthly_usd", strconv.FormatFloat(b.MonthlyUSD, 'f', -1, 64), "")
		}
		if b.OnExceed != "" {
			setScalar(m, "on_exceed", b.OnExceed, "!!str")
		}
	}
	for _, b := range budgets {
		switch b.Scope {
		case "global":
			limits(top, b)
		case "provider", "group":
			section, _ := mappingAt(top, b.Scope+"s")
			one := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
			limits(one, b)
			set(section, b.Name, one)
		}
	}
	return top
}

// mappingAt returns the mapping under key in m, adding an empty one when
// the key is missing or null.
func mappingAt(m *yaml.Node, key string) (*yaml.Node, error) {
	if v := get(m, key); v != nil && !isNull(v) {
		if v = resolve(v); v.Kind != yaml.MappingNode {
			return nil, fmt.Errorf("%s in the config file is %s, not a mapping; fix it by hand first", key, describe(v))
		}
		return v, nil
	}
	v := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	set(m, key, v)
	return v, nil
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
func set(m *yaml.Node, key string, v *yaml.Node) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			old := m.Content[i+1]
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
func setScalar(m *yaml.Node, key, value, tag string) {
	set(m, key, &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: value})
}

// setOrRemove sets key to a string, or removes it when value is "".
func setOrRemove(m *yaml.Node, key, value string) {
	if value == "" {
		remove(m, key)
		return
	}
	setScalar(m, key, value, "!!str")
}

// remove deletes key from mapping m.
func remove(m *yaml.Node, key string) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content = append(m.Content[:i], m.Content[i+2:]...)
			return
		}
	}
}
