package config

import (
	"bytes"
	"errors"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// fuzzSecret marks the literal keys of the seeds. No message of the parser
// contains it unless the config put it somewhere other than a key.
const fuzzSecret = "FUZZSECRET"

// FuzzParse parses arbitrary bytes as a config file. It must never panic,
// and:
//   - it returns either a Config with at least one deployment and no error,
//     or no Config and an *Error with at least one problem, each with a
//     message, ordered by line;
//   - it is deterministic: parsing the bytes again gives the same problems,
//     warnings and deployment IDs;
//   - no problem or warning repeats a key: when the seeds' marker
//     (fuzzSecret) appears only in the values of api_key (in litellm_params)
//     and master_key (in general_settings), no message or key path contains
//     it. A config that also puts the marker elsewhere (a group name, a map
//     key, an anchor name, an alias of the key) may see it echoed there, so
//     those are not checked.
func FuzzParse(f *testing.F) {
	const key = "sk-" + fuzzSecret + "-0123456789abcdefABCDEF"
	for _, s := range []string{
		DefaultYAML,
		// A LiteLLM proxy config, with every section.
		`model_list:
  - model_name: gpt-4o
    litellm_params:
      model: azure/gpt-4o-eu
      api_base: https://example-eu.openai.azure.com/
      api_key: os.environ/AZURE_API_KEY_EU
      api_version: "2024-08-01-preview"
      rpm: 6
      tpm: 100000
      timeout: 30
      stream_timeout: 10.5
      max_retries: 1
      tags: [eu, paid]
    model_info: {id: gpt4o-eu, input_cost_per_token: 0.0000025, max_input_tokens: 128000, mode: chat}
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o, api_key: keychain/openai, weight: 2, order: 1}
  - model_name: llama
    litellm_params: {model: groq/llama-3.1-8b-instant, api_key: keychain/groq}
  - model_name: local
    litellm_params: {model: ollama/llama3.2, num_ctx: 8192}
  - model_name: auto
    litellm_params:
      model: auto_router/complexity_router
      complexity_router_config:
        tiers: {SIMPLE: llama, MEDIUM: gpt-4o, COMPLEX: gpt-4o, REASONING: gpt-4o}
        tier_boundaries: {simple_medium: 0.3}
      complexity_router_default_model: gpt-4o
router_settings:
  routing_strategy: latency-based-routing
  routing_strategy_args: {lowest_latency_buffer: 0.1}
  num_retries: 3
  allowed_fails: 2
  cooldown_time: 30
  fallbacks: [{gpt-4o: [llama]}, {"*": [local]}]
  context_window_fallbacks: [{llama: [gpt-4o]}]
  redis_host: localhost
litellm_settings:
  drop_params: true
  request_timeout: 120
  fallbacks: [{llama: [local]}]
general_settings:
  master_key: os.environ/LITELLM_MASTER_KEY
  database_url: postgres://x
environment_variables:
  OPENAI_API_KEY: os.environ/X
detour:
  listen: 127.0.0.1:4001
  max_body_bytes: 1048576
  cache: {enabled: true, ttl: 3600, stale_ttl: 0, max_bytes: 1e8}
  offline: {enabled: false}
  budgets:
    daily_usd: 5
    monthly_usd: 50
    on_exceed: downgrade
    providers: {openai: {daily_usd: 2}}
    groups: {gpt-4o: {daily_usd: 1, on_exceed: block}}
  request_log: {keep: 10, prompts: true}
`,
		// Literal keys, in every shape a file can hold one.
		"model_list:\n  - model_name: a\n    litellm_params:\n      model: openai/gpt-4o\n      api_key: " + key + "\n",
		"model_list:\n  - {model_name: a, litellm_params: {model: groq/llama, api_key: \"" + key + "\"}}\n",
		"model_list:\n  - {model_name: a, litellm_params: {model: lm_studio/qwen, api_key: '" + key + "'}}\n",
		"model_list:\n  - model_name: a\n    litellm_params:\n      model: gpt-4o\n      api_key: |\n        " + key + "\n",
		"model_list:\n  - {model_name: a, litellm_params: {model: gpt-4o, api_key: os_environ/" + key + "}}\n",
		"model_list:\n  - {model_name: a, litellm_params: {model: gpt-4o, api_key: os.environ/" + key + " x}}\n",
		"model_list:\n  - {model_name: a, litellm_params: {model: gpt-4o, api_key: keychain/" + key + " x}}\n",
		"model_list:\n  - {model_name: a, litellm_params: {model: gpt-4o, api_key: [" + key + "]}}\n",
		"model_list:\n  - {model_name: a, litellm_params: {model: gpt-4o, api_key: {" + key + ": " + key + "}}}\n",
		"model_list:\n  - {model_name: a, litellm_params: {model: gpt-4o, api_key: !!int " + key + "}}\n",
		"model_list:\n  - {model_name: a, litellm_params: {model: nope/x, api_key: " + key + ", api_key: " + key + "2, rpm: -1}}\n",
		"model_list:\n  - {model_name: a, litellm_params: {model: gpt-4o, api_key: &k " + key + "}}\n  - {model_name: b, litellm_params: {model: gpt-4o, api_key: *k}}\n",
		"defaults: &d {model: gpt-4o, api_key: " + key + "}\nmodel_list:\n  - model_name: a\n    litellm_params: {<<: *d, rpm: 5}\n",
		"model_list:\n  - model_name: a\n    litellm_params: {model: gpt-4o}\n    model_info: {api_key: " + key + "}\nrouter_settings: {api_key: " + key + "}\n",
		"model_list:\n  - {model_name: a, litellm_params: {model: gpt-4o}}\ngeneral_settings:\n  master_key: " + key + "\n",
		"model_list:\n  - {model_name: a, litellm_params: {model: gpt-4o}}\ngeneral_settings: {master_key: [" + key + "], api_key: " + key + "}\ndetour: {listen: 0.0.0.0:4000}\n",
		"model_list:\n  - {model_name: a, litellm_params: {model: gpt-4o}}\n---\nmodel_list:\n  - {model_name: b, litellm_params: {model: gpt-4o, api_key: " + key + "}}\n",
		// Broken YAML around a key.
		"model_list:\n  - {model_name: a, litellm_params: {model: gpt-4o, api_key: \"" + key + "}}\n",
		"model_list:\n  - model_name: a\n    litellm_params:\n      model: gpt-4o\n     api_key: " + key + "\n\t- x\n",
		"model_list:\n  - {model_name: a, litellm_params: {model: gpt-4o, api_key: *" + key + "}}\n",
		// Hostile and degenerate files.
		"a: &a [*a]\nmodel_list: *a\n",
		"x: &x {<<: *x}\nmodel_list: [{model_name: a, litellm_params: {<<: *x, model: gpt-4o}}]\n",
		"a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nmodel_list: [{model_name: a, litellm_params: {model: gpt-4o, extra: *c}}]\n",
		"model_list:\n  - {model_name: \"*\", litellm_params: {model: \"openai/*\", timeout: 1e400, weight: 9223372036854775808, mock_fail_rate: .nan}}\n",
		"model_list: []\nrouter_settings: {fallbacks: [{a: [a]}], default_fallbacks: [\"*\"]}\n",
		"~", "[]", "---\n...\n", "\"text\"", "model_list:", "model_list: {a: b}", "\xff\xfe", "",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, warnings, err := Parse(data)
		var problems []Problem
		if err != nil {
			var perr *Error
			if !errors.As(err, &perr) || cfg != nil || len(perr.Problems) == 0 {
				t.Fatalf("Parse = %v, %v (%T); want no config and an *Error with problems", cfg, err, err)
			}
			problems = perr.Problems
			for _, p := range problems {
				if p.Message == "" || p.Line < 0 {
					t.Fatalf("problem %+v", p)
				}
			}
			if !slices.IsSortedFunc(problems, func(a, b Problem) int { return a.Line - b.Line }) {
				t.Fatalf("problems not ordered by line: %v", problems)
			}
		} else if cfg == nil || len(cfg.Models) == 0 {
			t.Fatalf("Parse accepted the config with no deployments: %+v", cfg)
		}

		cfg2, warnings2, err2 := Parse(data)
		if !reflect.DeepEqual(warnings, warnings2) || !reflect.DeepEqual(err, err2) || !reflect.DeepEqual(deploymentIDs(cfg), deploymentIDs(cfg2)) {
			t.Fatalf("two parses differ:\n%v\n%v\n%v\n---\n%v\n%v\n%v", warnings, err, deploymentIDs(cfg), warnings2, err2, deploymentIDs(cfg2))
		}

		if !secretOnlyInKeys(data) {
			return
		}
		var text strings.Builder
		if err != nil {
			text.WriteString(err.Error())
		}
		for _, w := range warnings {
			text.WriteString("\n" + w.String())
		}
		if strings.Contains(text.String(), fuzzSecret) {
			t.Fatalf("a message repeats the value of a key:\n%s\n--- config:\n%s", text.String(), data)
		}
	})
}

func deploymentIDs(cfg *Config) []string {
	if cfg == nil {
		return nil
	}
	ids := make([]string, len(cfg.Models))
	for i, d := range cfg.Models {
		ids[i] = d.ID
	}
	return ids
}

// anchorWithSecret matches an anchor or alias whose name holds the marker.
// YAML's own errors name anchors ("unknown anchor 'x' referenced").
var anchorWithSecret = regexp.MustCompile(`[&*][^\s,\[\]{}]*` + fuzzSecret)

// secretOnlyInKeys reports whether the marker appears in data only inside
// the values of the key fields, model_list[*].litellm_params.api_key and
// general_settings.master_key (merge keys followed): not in any other
// scalar, map key, anchor, alias, tag or comment. A document YAML cannot
// read ends the search: YAML's message names no value, and the parser
// reads nothing after it.
func secretOnlyInKeys(data []byte) bool {
	if anchorWithSecret.Match(data) {
		return false
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc yaml.Node
		if err := dec.Decode(&doc); err != nil {
			return true // io.EOF, or a syntax error
		}
		k := keyFields{values: map[*yaml.Node]bool{}, aliases: map[*yaml.Node]bool{}}
		k.find(&doc)
		if !k.clean(&doc) {
			return false
		}
	}
}

// keyFields are the nodes of one document that hold keys: values are the
// values of the key fields; aliases are the aliases on the way to them
// (model_list: *list, litellm_params: *params, <<: *defaults).
type keyFields struct {
	values, aliases map[*yaml.Node]bool
}

// follow resolves n, remembering an alias on the way.
func (k keyFields) follow(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		k.aliases[n] = true
		n = n.Alias
	}
	return n
}

// find records the key fields of doc, read as the parser reads them.
func (k keyFields) find(doc *yaml.Node) {
	root := doc
	if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		root = root.Content[0]
	}
	root = resolve(root)
	if root == nil || root.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		switch resolve(root.Content[i]).Value {
		case "model_list":
			list := k.follow(root.Content[i+1])
			if list == nil || list.Kind != yaml.SequenceNode {
				continue
			}
			for _, item := range list.Content {
				if m := k.follow(item); m != nil && m.Kind == yaml.MappingNode {
					for j := 0; j+1 < len(m.Content); j += 2 {
						if resolve(m.Content[j]).Value == "litellm_params" {
							k.field(k.follow(m.Content[j+1]), "api_key", 0)
						}
					}
				}
			}
		case "general_settings":
			k.field(k.follow(root.Content[i+1]), "master_key", 0)
		}
	}
}

// field records the values of name in mapping m and in the mappings it
// merges.
func (k keyFields) field(m *yaml.Node, name string, depth int) {
	if m == nil || m.Kind != yaml.MappingNode || depth > maxMergeDepth {
		return
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		key, v := resolve(m.Content[i]), m.Content[i+1]
		switch {
		case key.Kind == yaml.ScalarNode && key.Value == name:
			k.values[v] = true
		case key.Kind == yaml.ScalarNode && key.ShortTag() == "!!merge":
			switch r := k.follow(v); {
			case r == nil:
			case r.Kind == yaml.MappingNode:
				k.field(r, name, depth+1)
			case r.Kind == yaml.SequenceNode:
				for _, c := range r.Content {
					k.field(k.follow(c), name, depth+1)
				}
			}
		}
	}
}

// clean reports whether the marker is absent from n outside the key
// fields' values, and from every alias that does not lead to them.
func (k keyFields) clean(n *yaml.Node) bool {
	has := func(s string) bool { return strings.Contains(s, fuzzSecret) }
	if n == nil {
		return true
	}
	if has(n.Anchor) || has(n.Tag) || has(n.HeadComment) || has(n.LineComment) || has(n.FootComment) {
		return false
	}
	switch {
	case k.values[n]:
		return true
	case n.Kind == yaml.AliasNode:
		return k.aliases[n] || !holdsSecret(n.Alias, map[*yaml.Node]bool{})
	case has(n.Value):
		return false
	}
	for _, c := range n.Content {
		if !k.clean(c) {
			return false
		}
	}
	return true
}

// holdsSecret reports whether the marker is anywhere in n.
func holdsSecret(n *yaml.Node, seen map[*yaml.Node]bool) bool {
	if n == nil || seen[n] {
		return false
	}
	seen[n] = true
	if strings.Contains(n.Value, fuzzSecret) || holdsSecret(n.Alias, seen) {
		return true
	}
	for _, c := range n.Content {
		if holdsSecret(c, seen) {
			return true
		}
	}
	return false
}
