package config

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"go.yaml.in/yaml/v3"

	"github.com/detour-gateway/detour/router/provider"
)

const (
	// envPrefix starts a value read from an environment variable, as in
	// LiteLLM: "os.environ/OPENAI_API_KEY".
	envPrefix = "os.environ/"
	// keychainPrefix starts an api_key read from the OS keychain:
	// "keychain/openai".
	keychainPrefix = "keychain/"
	// ignored is the warning for a key Detour does not use.
	ignored = "ignored: not used by Detour"
	// wholeAtLeast0 describes the values of counts.
	wholeAtLeast0 = "a whole number ≥ 0"
)

// parser collects what it finds while walking one file. It is used once.
type parser struct {
	// lookupEnv resolves os.environ/VAR values (os.LookupEnv).
	lookupEnv func(string) (string, bool)
	// problems are errors; warnings are not.
	problems, warnings []Problem
	// groups and groupOrder are the model groups of model_list, known once
	// it has been read; fallbacks are checked against them.
	groups     map[string]bool
	groupOrder []string
	// listenNode is detour.listen's value, nil when it is not set.
	listenNode *yaml.Node
	// groupRefs are model groups named inside model_list (by complexity
	// routers), checked once every group is known.
	groupRefs []groupRef
	// merges counts mappings brought in by "<<" merge keys, bounded by
	// maxMerges.
	merges int
	// prometheus is the "prometheus" of a litellm_settings callback
	// list, nil when none names it.
	prometheus *yaml.Node
}

// field reads the value of one known key. It is not called for null values,
// which mean "unset".
type field func(v *yaml.Node, key string)

func (p *parser) errorf(n *yaml.Node, key, format string, args ...any) {
	p.problems = append(p.problems, Problem{Line: line(n), Key: key, Message: fmt.Sprintf(format, args...)})
}

func (p *parser) warnf(n *yaml.Node, key, format string, args ...any) {
	p.warnings = append(p.warnings, Problem{Line: line(n), Key: key, Message: fmt.Sprintf(format, args...)})
}

// results returns the errors and warnings ordered by line, without repeats
// (a merged anchor can report the same thing twice).
func (p *parser) results() (problems, warnings []Problem) {
	return tidy(p.problems), tidy(p.warnings)
}

func tidy(ps []Problem) []Problem {
	slices.SortStableFunc(ps, func(a, b Problem) int { return cmp.Compare(a.Line, b.Line) })
	return slices.Compact(ps)
}

// parse walks the whole file. It returns nil when the file is not even a
// mapping; otherwise a Config that is valid only if no problems were found.
func (p *parser) parse(data []byte) *Config {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			p.errorf(nil, "", "the config is empty; it needs at least a model_list")
		} else {
			p.problems = append(p.problems, syntaxProblem(err))
		}
		return nil
	}
	var next yaml.Node
	if err := dec.Decode(&next); err == nil {
		p.warnf(&next, "", "only the first YAML document is read; this one is ignored")
	} else if !errors.Is(err, io.EOF) {
		p.problems = append(p.problems, syntaxProblem(err))
	}

	root := &doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			p.errorf(root, "", "the config is empty; it needs at least a model_list")
			return nil
		}
		root = root.Content[0]
	}
	root = resolve(root)
	if isNull(root) {
		p.errorf(root, "", "the config is empty; it needs at least a model_list")
		return nil
	}
	if root.Kind != yaml.MappingNode {
		p.errorf(root, "", "the config must be a mapping of sections (model_list, router_settings, …), got %s", describe(root))
		return nil
	}

	sections := make(map[string]*yaml.Node)
	for _, kv := range p.pairs(root, "") {
		switch k := kv.key.Value; k {
		case "model_list", "router_settings", "litellm_settings", "detour":
			sections[k] = kv.value
		case "general_settings":
			sections[k] = kv.value
		case "environment_variables":
			p.ignoreAll(kv.value, k, "ignored: Detour does not set environment variables from its config; keep API keys in the keychain (detour keys set NAME)")
		default:
			p.warnf(kv.key, k, ignored)
		}
	}
	cfg := &Config{
		Models: p.modelList(sections["model_list"], root),
		Router: p.routerSettings(sections["router_settings"], sections["litellm_settings"]),
		Detour: p.detour(sections["detour"]),
	}
	if p.prometheus != nil && !cfg.Detour.Metrics {
		p.warnf(p.prometheus, "litellm_settings.callbacks", "the prometheus callback is not used: detour.metrics: false turns GET /metrics off")
	}
	cfg.Detour.Server.MasterKey = p.generalSettings(sections["general_settings"])
	if cfg.Detour.Server.MasterKey.Set() {
		cfg.Detour.Server.Auth = true
	}
	p.checkExposure(cfg.Detour)
	return cfg
}

// generalSettings reads LiteLLM's general_settings: master_key is Detour's
// local auth; the rest configures LiteLLM's own proxy and is ignored.
func (p *parser) generalSettings(n *yaml.Node) MasterKey {
	var m MasterKey
	const path = "general_settings"
	r := resolve(n)
	if isNull(r) {
		return m
	}
	if r.Kind != yaml.MappingNode {
		p.ignoreAll(n, path, "ignored: LiteLLM proxy setting, not used by Detour")
		return m
	}
	for _, kv := range p.pairs(r, path) {
		key := join(path, kv.key.Value)
		if kv.key.Value != "master_key" {
			p.warnf(kv.key, key, "ignored: LiteLLM proxy setting, not used by Detour")
			continue
		}
		if isNull(kv.value) {
			continue
		}
		s, ok := scalarText(kv.value)
		if !ok || strings.TrimSpace(s) == "" {
			p.errorf(kv.value, key, "must be os.environ/VAR, keychain/NAME or the key itself, got %s", describe(kv.value))
			continue
		}
		if env, ok := strings.CutPrefix(s, envPrefix); ok && validEnvName(env) {
			m.Ref = KeyRef{Source: KeyEnv, Name: env}
			continue
		}
		if entry, ok := strings.CutPrefix(s, keychainPrefix); ok && entry != "" && !strings.ContainsFunc(entry, unicode.IsSpace) {
			m.Ref = KeyRef{Source: KeyKeychain, Name: entry}
			continue
		}
		m.Literal = strings.TrimSpace(s)
		p.warnf(kv.value, key, "local auth is on with the master key written in this file (the value is not shown here); "+
			"anyone who can read the file can use Detour. Prefer a local key in the keychain (detour keys local add NAME) "+
			"or master_key: os.environ/VAR")
	}
	return m
}

// checkExposure refuses a listen address other machines can reach while
// local auth is off: anyone on the network could spend the user's keys.
func (p *parser) checkExposure(d Detour) {
	if d.Server.Auth || p.listenNode == nil {
		return
	}
	if _, _, err := net.SplitHostPort(d.Listen); err != nil || LoopbackAddr(d.Listen) {
		return
	}
	p.errorf(p.listenNode, "detour.listen", "%q can be reached from other machines, and local auth is off: anyone on the network could use your providers' keys. "+
		"Turn local auth on first (detour.server.auth: true, then create a key with `detour keys local add NAME`), "+
		"or listen on 127.0.0.1", d.Listen)
}

// syntaxProblem turns a YAML syntax error ("yaml: line 3: …") into a
// Problem with its line.
func syntaxProblem(err error) Problem {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	ln := 0
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if num, after, ok := strings.Cut(rest, ": "); ok {
			if n, err := strconv.Atoi(num); err == nil {
				ln, msg = n, after
			}
		}
	}
	return Problem{Line: ln, Message: "invalid YAML: " + msg}
}

// ignoreAll warns once for every key of a section Detour ignores as a whole.
// Values are never shown: they may be secrets.
func (p *parser) ignoreAll(n *yaml.Node, path, message string) {
	r := resolve(n)
	switch {
	case isNull(r):
	case r.Kind == yaml.MappingNode:
		for _, kv := range p.pairs(r, path) {
			p.warnf(kv.key, join(path, kv.key.Value), "%s", message)
		}
	default:
		p.warnf(n, path, "%s", message)
	}
}

// pairs returns the key/value pairs of mapping n, with YAML merge keys
// ("<<: *defaults") expanded; keys written in n win over merged ones, and
// earlier merged mappings over later ones. Duplicate and non-scalar keys are
// errors.
func (p *parser) pairs(n *yaml.Node, path string) []pair {
	return p.pairsDepth(n, path, 0)
}

func (p *parser) pairsDepth(n *yaml.Node, path string, depth int) []pair {
	var out, merged []pair
	seen := make(map[string]*yaml.Node)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			merged = append(merged, p.merge(v, path, depth+1)...)
			continue
		}
		if k.Kind != yaml.ScalarNode {
			p.errorf(k, path, "keys must be names, got %s", describe(k))
			continue
		}
		if first, dup := seen[k.Value]; dup {
			p.errorf(k, join(path, k.Value), "duplicate key; first set on line %d", first.Line)
			continue
		}
		seen[k.Value] = k
		out = append(out, pair{k, v})
	}
	for _, kv := range merged {
		if _, ok := seen[kv.key.Value]; !ok {
			seen[kv.key.Value] = kv.key
			out = append(out, kv)
		}
	}
	return out
}

// merge returns the pairs a "<<" merge key brings in.
func (p *parser) merge(v *yaml.Node, path string, depth int) []pair {
	p.merges++
	if depth > maxMergeDepth || p.merges > maxMerges {
		p.errorf(v, path, "too many merge keys (<<); does an anchor include itself?")
		return nil
	}
	r := resolve(v)
	switch r.Kind {
	case yaml.MappingNode:
		return p.pairsDepth(r, path, depth)
	case yaml.SequenceNode:
		var out []pair
		for _, m := range r.Content {
			if rm := resolve(m); rm.Kind == yaml.MappingNode {
				out = append(out, p.pairsDepth(rm, path, depth)...)
			} else {
				p.errorf(m, path, "<< must merge a mapping or a list of mappings, got %s", describe(m))
			}
		}
		return out
	}
	p.errorf(v, path, "<< must merge a mapping or a list of mappings, got %s", describe(v))
	return nil
}

// mapping resolves n to a mapping node. It returns nil for null, and for
// anything else after recording an error.
func (p *parser) mapping(n *yaml.Node, path string) *yaml.Node {
	r := resolve(n)
	if isNull(r) {
		return nil
	}
	if r.Kind != yaml.MappingNode {
		p.errorf(n, path, "must be a mapping, got %s", describe(n))
		return nil
	}
	return r
}

// section walks mapping n at path: known keys go to their field, others are
// warned about. It returns the pairs walked; nil if n is null or not a
// mapping (an error).
func (p *parser) section(n *yaml.Node, path string, fields map[string]field) []pair {
	r := p.mapping(n, path)
	if r == nil {
		return nil
	}
	kvs := p.pairs(r, path)
	for _, kv := range kvs {
		key := join(path, kv.key.Value)
		f, ok := fields[kv.key.Value]
		switch {
		case !ok:
			p.warnf(kv.key, key, ignored)
		case isNull(kv.value):
			// Same as omitted.
		default:
			f(kv.value, key)
		}
	}
	return kvs
}

// text reads a scalar as text.
func (p *parser) text(v *yaml.Node, key string) (string, bool) {
	s, ok := scalarText(v)
	if !ok {
		p.errorf(v, key, "must be a string, got %s", describe(v))
	}
	return s, ok
}

// boolean reads true or false.
func (p *parser) boolean(v *yaml.Node, key string) (bool, bool) {
	r := resolve(v)
	if r == nil || r.Kind != yaml.ScalarNode || r.ShortTag() != "!!bool" {
		p.errorf(v, key, "must be true or false, got %s", describe(v))
		return false, false
	}
	var b bool
	if err := r.Decode(&b); err != nil {
		p.errorf(v, key, "must be true or false, got %s", describe(v))
		return false, false
	}
	return b, true
}

// name reads a non-empty scalar as text.
func (p *parser) name(v *yaml.Node, key string) (string, bool) {
	s, ok := p.text(v, key)
	if ok && strings.TrimSpace(s) == "" {
		p.errorf(v, key, "must not be empty")
		return "", false
	}
	return s, ok
}

// envText reads a string that may be os.environ/VAR, resolving it now. It
// returns the value and, when it came from the environment, the variable.
func (p *parser) envText(v *yaml.Node, key string) (value, env string, ok bool) {
	s, ok := p.text(v, key)
	if !ok {
		return "", "", false
	}
	env, fromEnv := strings.CutPrefix(s, envPrefix)
	if !fromEnv {
		return s, "", true
	}
	if !validEnvName(env) {
		p.errorf(v, key, "%s must be followed by an environment variable name", envPrefix)
		return "", "", false
	}
	value, set := p.lookupEnv(env)
	if !set || value == "" {
		p.errorf(v, key, "environment variable %s is not set", env)
		return "", "", false
	}
	return value, env, true
}

// validEnvName reports whether s can name an environment variable.
func validEnvName(s string) bool {
	return s != "" && !strings.ContainsFunc(s, func(r rune) bool {
		return r == '=' || r == 0 || unicode.IsSpace(r)
	})
}

// whole reads a whole number from min to max; what describes the allowed
// values for the error message ("a whole number ≥ 0").
func (p *parser) whole(v *yaml.Node, key string, min, max int64, what string) (int64, bool) {
	n, ok := scalarWhole(v)
	if !ok || n < min || n > max {
		p.errorf(v, key, "must be %s, got %s", what, describe(v))
		return 0, false
	}
	return n, true
}

// count reads a whole number ≥ 0 that fits an int.
func (p *parser) count(v *yaml.Node, key string) (int, bool) {
	n, ok := p.whole(v, key, 0, math.MaxInt, wholeAtLeast0)
	return int(n), ok
}

// number reads a number from min to max.
func (p *parser) number(v *yaml.Node, key string, min, max float64, what string) (float64, bool) {
	f, ok := scalarNumber(v)
	if !ok || f < min || f > max {
		p.errorf(v, key, "must be %s, got %s", what, describe(v))
		return 0, false
	}
	return f, true
}

// seconds reads a duration written in seconds, int or float; > 0, or ≥ 0
// when allowZero.
func (p *parser) seconds(v *yaml.Node, key string, allowZero bool) (time.Duration, bool) {
	what := "a number of seconds > 0"
	if allowZero {
		what = "a number of seconds ≥ 0"
	}
	f, ok := scalarNumber(v)
	if ok && f > float64(math.MaxInt64)/float64(time.Second) {
		p.errorf(v, key, "is too large: at most %d seconds", int64(math.MaxInt64/int64(time.Second)))
		return 0, false
	}
	d := time.Duration(math.Round(f * float64(time.Second)))
	if !ok || f < 0 || d < 0 || (!allowZero && d == 0) {
		p.errorf(v, key, "must be %s, got %s", what, describe(v))
		return 0, false
	}
	return d, true
}

// modelList reads model_list and assigns deployment IDs. It also records the
// model groups for the fallback checks that follow.
func (p *parser) modelList(n, root *yaml.Node) []Deployment {
	const path = "model_list"
	p.groups = make(map[string]bool)
	r := resolve(n)
	if isNull(r) {
		p.errorf(root, path, "required: a list of deployments, each with model_name and litellm_params.model")
		return nil
	}
	if r.Kind != yaml.SequenceNode {
		p.errorf(n, path, "must be a list of deployments, got %s", describe(n))
		return nil
	}
	if len(r.Content) == 0 {
		p.errorf(n, path, "needs at least one deployment")
		return nil
	}

	models := make([]Deployment, len(r.Content))
	explicit := make([]*yaml.Node, len(r.Content)) // model_info.id nodes
	for i, item := range r.Content {
		models[i], explicit[i] = p.deployment(item, index(path, i))
		if g := models[i].Group; g != "" && !p.groups[g] {
			p.groups[g] = true
			p.groupOrder = append(p.groupOrder, g)
		}
		if models[i].Provider == "auto_router" && (models[i].Complexity == nil || len(models[i].Complexity.Tiers) == 0 && models[i].Complexity.Default == "") {
			p.errorf(item, index(path, i)+".litellm_params", "auto_router/complexity_router needs complexity_router_config.tiers or complexity_router_default_model")
		}
	}
	for _, ref := range p.groupRefs {
		if !p.groups[ref.group] {
			p.errorf(ref.node, ref.key, "%s", p.unknownGroup(ref.group))
		}
	}

	// IDs set by model_info.id are kept and must be unique; computed IDs of
	// identical entries get -2, -3, … in file order.
	taken := make(map[string]int)
	for i, idNode := range explicit {
		if idNode == nil {
			continue
		}
		if j, dup := taken[models[i].ID]; dup {
			p.errorf(idNode, index(path, i)+".model_info.id", "id %q is already used by model_list[%d] (line %d)", models[i].ID, j, models[j].Line)
			continue
		}
		taken[models[i].ID] = i
	}
	for i := range models {
		if explicit[i] != nil {
			continue
		}
		base, id := models[i].ID, models[i].ID
		for k := 2; ; k++ {
			if _, dup := taken[id]; !dup {
				break
			}
			id = base + "-" + strconv.Itoa(k)
		}
		models[i].ID = id
		taken[id] = i
	}
	return models
}

// deployment reads one model_list entry. It returns the model_info.id node
// when the ID was set there, nil when the ID was computed.
func (p *parser) deployment(item *yaml.Node, path string) (Deployment, *yaml.Node) {
	d := Deployment{Line: line(item)}
	r := resolve(item)
	if isNull(r) || r.Kind != yaml.MappingNode {
		p.errorf(item, path, "must be a mapping with model_name and litellm_params, got %s", describe(item))
		return d, nil
	}
	var paramsNode, infoNode *yaml.Node
	p.section(r, path, map[string]field{
		"model_name": func(v *yaml.Node, key string) {
			if s, ok := p.name(v, key); ok {
				d.Group = s // "claude-*" or "*": a wildcard group, for every name it matches
			}
		},
		"litellm_params": func(v *yaml.Node, key string) { paramsNode = v },
		"model_info":     func(v *yaml.Node, key string) { infoNode = v },
	})
	if d.Group == "" && !p.hasKey(r, "model_name") {
		p.errorf(item, join(path, "model_name"), "required: the model group name clients ask for")
	}

	var params []pair
	var key KeyRef
	paramsPath := join(path, "litellm_params")
	if paramsNode == nil {
		p.errorf(item, paramsPath, "required: a mapping with at least model, e.g. {model: openai/gpt-4o}")
	} else {
		params, key = p.params(paramsNode, paramsPath, &d)
	}

	idNode := p.modelInfo(infoNode, join(path, "model_info"), &d)
	if idNode == nil {
		d.ID = p.computeID(path, d, params, key)
	}
	return d, idNode
}

// hasKey reports whether mapping n has key written, even with a bad value.
func (p *parser) hasKey(n *yaml.Node, key string) bool {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := resolve(n.Content[i]); k.Kind == yaml.ScalarNode && k.Value == key && !isNull(n.Content[i+1]) {
			return true
		}
	}
	return false
}

// computeID returns the provider prefix and the first 10 hex digits of a
// SHA-256 over a canonical encoding of model_name and litellm_params, with
// api_key as its reference (never a secret), keys in sorted order, nulls
// left out.
func (p *parser) computeID(path string, d Deployment, params []pair, key KeyRef) string {
	entries := []string{strconv.Quote("model_name") + "=" + strconv.Quote(d.Group)}
	budget := maxCanonNodes
	for _, kv := range params {
		if isNull(kv.value) {
			continue
		}
		var b strings.Builder
		b.WriteString(strconv.Quote(kv.key.Value))
		b.WriteByte('=')
		if kv.key.Value == "api_key" {
			// Only a reference can get here in a valid config; a refused
			// literal is replaced so it never reaches the hash either.
			ref := "invalid"
			if key.Source == KeyEnv || key.Source == KeyKeychain {
				ref = key.String()
			}
			b.WriteString(strconv.Quote(ref))
		} else if !canon(&b, kv.value, &budget) {
			p.errorf(kv.key, join(path, "litellm_params."+kv.key.Value), "too large or self-referencing (check its anchors and aliases)")
			return ""
		}
		entries = append(entries, b.String())
	}
	slices.Sort(entries)
	sum := sha256.Sum256([]byte(strings.Join(entries, "\n")))
	return d.Provider + "-" + hex.EncodeToString(sum[:])[:10]
}

// params reads litellm_params into d and returns its pairs and key reference
// for the deployment ID.
func (p *parser) params(n *yaml.Node, path string, d *Deployment) ([]pair, KeyRef) {
	var modelNode, keyNode, baseNode *yaml.Node
	var inCost, outCost float64
	count := func(dst *int) field {
		return func(v *yaml.Node, key string) { *dst, _ = p.count(v, key) }
	}
	secs := func(dst *time.Duration) field {
		return func(v *yaml.Node, key string) { *dst, _ = p.seconds(v, key, false) }
	}
	cost := func(dst *float64) field {
		return func(v *yaml.Node, key string) {
			*dst, _ = p.number(v, key, 0, math.Inf(1), "a number ≥ 0 (USD per token)")
		}
	}
	kvs := p.section(n, path, map[string]field{
		"model": func(v *yaml.Node, key string) {
			modelNode = v
			d.Model, _ = p.name(v, key)
		},
		"api_key":  func(v *yaml.Node, key string) { keyNode = v },
		"api_base": func(v *yaml.Node, key string) { baseNode = v },
		"api_version": func(v *yaml.Node, key string) {
			d.APIVersion, _, _ = p.envText(v, key)
		},
		"organization": func(v *yaml.Node, key string) {
			d.Organization, _, _ = p.envText(v, key)
		},
		"weight":  count(&d.Weight),
		"rpm":     count(&d.RPM),
		"tpm":     count(&d.TPM),
		"order":   count(&d.Order),
		"num_ctx": count(&d.NumCtx),
		"responses_api": func(v *yaml.Node, key string) {
			if b, ok := p.boolean(v, key); ok {
				d.ResponsesAPI = &b
			}
		},
		"tags":           func(v *yaml.Node, key string) { d.Tags = p.tags(v, key) },
		"timeout":        secs(&d.Timeout),
		"stream_timeout": secs(&d.StreamTimeout),
		"max_retries": func(v *yaml.Node, key string) {
			if m, ok := p.count(v, key); ok {
				d.MaxRetries = &m
			}
		},
		"complexity_router_config": func(v *yaml.Node, key string) {
			c := p.complexity(v, key)
			if d.Complexity != nil {
				c.Default = d.Complexity.Default
			}
			d.Complexity = c
		},
		"complexity_router_default_model": func(v *yaml.Node, key string) {
			if d.Complexity == nil {
				d.Complexity = &Complexity{}
			}
			d.Complexity.Default, _ = p.name(v, key)
			p.groupRefs = append(p.groupRefs, groupRef{v, key, d.Complexity.Default})
		},
		"mock_response": func(v *yaml.Node, key string) { d.Mock.Response, _ = p.text(v, key) },
		"mock_latency_ms": func(v *yaml.Node, key string) {
			ms, _ := p.whole(v, key, 0, math.MaxInt64/int64(time.Millisecond), "a whole number of milliseconds ≥ 0")
			d.Mock.Latency = time.Duration(ms) * time.Millisecond
		},
		"mock_status": func(v *yaml.Node, key string) {
			s, _ := p.whole(v, key, 100, 599, "an HTTP status from 100 to 599")
			d.Mock.Status = int(s)
		},
		"mock_fail_rate": func(v *yaml.Node, key string) {
			d.Mock.FailRate, _ = p.number(v, key, 0, 1, "a number from 0 to 1")
		},
		// LiteLLM's custom pricing may sit in litellm_params too; model_info
		// wins (see modelInfo).
		"input_cost_per_token":  cost(&inCost),
		"output_cost_per_token": cost(&outCost),
	})
	d.Info.InputCostPerToken, d.Info.OutputCostPerToken = inCost, outCost
	if r := resolve(n); r == nil || r.Kind != yaml.MappingNode {
		return kvs, KeyRef{}
	}

	modelKey := join(path, "model")
	spec, known := provider.Spec{}, false
	switch {
	case modelNode == nil:
		p.errorf(n, modelKey, "required: provider/model, e.g. openai/gpt-4o")
	case d.Model != "":
		d.Provider, d.UpstreamModel = provider.SplitModel(d.Model)
		spec, known = provider.Lookup(d.Provider)
		switch {
		case !known:
			p.errorf(modelNode, modelKey, "unknown provider %q; known providers: %s (a model name without a prefix means openai/)",
				d.Provider, strings.Join(provider.Names(), ", "))
		case strings.TrimSpace(d.UpstreamModel) == "":
			p.errorf(modelNode, modelKey, "needs a model name after %q", d.Provider+"/")
		case strings.Contains(d.UpstreamModel, "*"):
			p.errorf(modelNode, modelKey, "wildcard models (%q) are not supported yet", d.Model)
		}
	}

	baseKey := join(path, "api_base")
	if baseNode != nil {
		if base, env, ok := p.envText(baseNode, baseKey); ok {
			if u, err := url.Parse(base); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				if env != "" {
					p.errorf(baseNode, baseKey, "environment variable %s must hold an http:// or https:// URL", env)
				} else {
					p.errorf(baseNode, baseKey, "must be an http:// or https:// URL, got %q", base)
				}
			} else {
				d.APIBase = base
			}
		}
	} else if known && spec.BaseURL == "" && spec.EnvBase == "" && spec.Wire != provider.WireMock && spec.Wire != provider.WireAuto {
		p.errorf(modelNode, baseKey, "required for provider %q, which has no default URL", d.Provider)
	}

	key := p.keyRef(keyNode, join(path, "api_key"), d.Provider, spec, known)
	d.Key = key
	return kvs, key
}

// keyRef reads api_key. The value is never echoed: it may be a real key.
func (p *parser) keyRef(v *yaml.Node, key, prefix string, spec provider.Spec, known bool) KeyRef {
	keyless := known && (spec.Wire == provider.WireMock || spec.KeyOptional)
	if v == nil {
		if keyless {
			return KeyRef{Source: KeyNone}
		}
		return KeyRef{Source: KeyDefault, Name: prefix, EnvFallback: spec.EnvKey}
	}
	const allowed = "must be os.environ/VAR or keychain/NAME"
	s, ok := scalarText(v)
	if !ok {
		kind := "a value"
		if r := resolve(v); r.Kind == yaml.MappingNode || r.Kind == yaml.SequenceNode {
			kind = describe(v)
		}
		p.errorf(v, key, "%s, got %s", allowed, kind)
		return KeyRef{}
	}
	if env, ok := strings.CutPrefix(s, envPrefix); ok {
		if validEnvName(env) {
			return KeyRef{Source: KeyEnv, Name: env}
		}
		p.errorf(v, key, "%s must be followed by an environment variable name", envPrefix)
		return KeyRef{}
	}
	if entry, ok := strings.CutPrefix(s, keychainPrefix); ok {
		if entry != "" && !strings.ContainsFunc(entry, unicode.IsSpace) {
			return KeyRef{Source: KeyKeychain, Name: entry}
		}
		p.errorf(v, key, "%s must be followed by a keychain entry name without spaces", keychainPrefix)
		return KeyRef{}
	}
	entry := prefix
	if !known || entry == "" {
		entry = "NAME"
	}
	msg := fmt.Sprintf("a literal API key is not allowed in the config file (the value is not shown here). "+
		"Store it in the OS keychain with `detour keys set %s` and write `api_key: keychain/%s`, "+
		"or put it in an environment variable and write `api_key: os.environ/VAR`", entry, entry)
	if keyless {
		msg += fmt.Sprintf("; provider %q needs no key, so api_key can also be left out", prefix)
	}
	p.errorf(v, key, "%s", msg)
	return KeyRef{}
}

// tags reads a list of non-empty strings.
func (p *parser) tags(v *yaml.Node, key string) []string {
	r := resolve(v)
	if r.Kind != yaml.SequenceNode {
		p.errorf(v, key, "must be a list of strings, got %s", describe(v))
		return nil
	}
	var out []string
	for i, t := range r.Content {
		if s, ok := p.name(t, index(key, i)); ok {
			out = append(out, s)
		}
	}
	return out
}

// modelInfo reads model_info into d.Info. Keys it does not know are kept in
// Extra without a warning: model_info is free-form in LiteLLM. It returns the
// id node when model_info.id sets the deployment ID.
func (p *parser) modelInfo(n *yaml.Node, path string, d *Deployment) *yaml.Node {
	r := p.mapping(n, path)
	if r == nil {
		return nil
	}
	var idNode *yaml.Node
	for _, kv := range p.pairs(r, path) {
		k, v := kv.key.Value, kv.value
		key := join(path, k)
		known := true
		switch k {
		case "id", "input_cost_per_token", "output_cost_per_token", "max_input_tokens", "max_output_tokens":
		default:
			known = false
		}
		if known && isNull(v) {
			continue
		}
		switch k {
		case "id":
			if id, ok := p.name(v, key); ok {
				d.ID, idNode = id, v
			}
		case "input_cost_per_token":
			d.Info.InputCostPerToken, _ = p.number(v, key, 0, math.Inf(1), "a number ≥ 0 (USD per token)")
		case "output_cost_per_token":
			d.Info.OutputCostPerToken, _ = p.number(v, key, 0, math.Inf(1), "a number ≥ 0 (USD per token)")
		case "max_input_tokens":
			d.Info.MaxInputTokens, _ = p.count(v, key)
		case "max_output_tokens":
			d.Info.MaxOutputTokens, _ = p.count(v, key)
		default:
			var x any
			if err := v.Decode(&x); err != nil {
				continue // free-form metadata Detour does not use
			}
			if d.Info.Extra == nil {
				d.Info.Extra = make(map[string]any)
			}
			d.Info.Extra[k] = x
		}
	}
	return idNode
}

// settings holds what router_settings or litellm_settings set; nil pointers
// and nil slices are "not set".
type settings struct {
	strategy                              *string
	numRetries, allowedFails, maxFallback *int
	cooldown, timeout                     *time.Duration
	fallbacks, contextWindow, contentPol  []Fallback
	defaults                              []string
	hasDefaults                           bool
}

// fallbackFields are the fallback keys router_settings and litellm_settings
// share.
func (p *parser) fallbackFields(s *settings) map[string]field {
	return map[string]field{
		"fallbacks":                func(v *yaml.Node, key string) { s.fallbacks = p.fallbacks(v, key) },
		"context_window_fallbacks": func(v *yaml.Node, key string) { s.contextWindow = p.fallbacks(v, key) },
		"content_policy_fallbacks": func(v *yaml.Node, key string) { s.contentPol = p.fallbacks(v, key) },
		"default_fallbacks": func(v *yaml.Node, key string) {
			s.defaults, _ = p.groupList(v, key, "")
			s.hasDefaults = true
		},
		"num_retries":   p.optCount(&s.numRetries),
		"allowed_fails": p.optCount(&s.allowedFails),
	}
}

// optCount is a field setting an optional count.
func (p *parser) optCount(dst **int) field {
	return func(v *yaml.Node, key string) {
		if n, ok := p.count(v, key); ok {
			*dst = &n
		}
	}
}

// optSeconds is a field setting an optional duration in seconds.
func (p *parser) optSeconds(dst **time.Duration, allowZero bool) field {
	return func(v *yaml.Node, key string) {
		if d, ok := p.seconds(v, key, allowZero); ok {
			*dst = &d
		}
	}
}

// aliases reads router_settings.model_group_alias: alias → group, each
// value a group name or LiteLLM's {model: group, hidden: bool}.
func (p *parser) aliases(v *yaml.Node, key string) map[string]string {
	r := p.mapping(v, key)
	if r == nil {
		return nil
	}
	out := map[string]string{}
	for _, kv := range p.pairs(r, key) {
		akey := join(key, kv.key.Value)
		target, tnode := "", kv.value
		if m := resolve(kv.value); m.Kind == yaml.MappingNode {
			p.section(m, akey, map[string]field{
				"model":  func(v *yaml.Node, k string) { target, _ = p.name(v, k); tnode = v },
				"hidden": func(v *yaml.Node, k string) { p.boolean(v, k) },
			})
		} else {
			target, _ = p.name(kv.value, akey)
		}
		if target == "" {
			continue
		}
		if !p.groups[target] { // model_list is read by now
			p.errorf(tnode, akey, "%s", p.unknownGroup(target))
			continue
		}
		out[kv.key.Value] = target
	}
	return out
}

// routerSettings reads router_settings and the reliability keys of
// litellm_settings, and merges them; router_settings wins.
func (p *parser) routerSettings(routerNode, litellmNode *yaml.Node) RouterSettings {
	var r, l settings
	latencyBuffer := DefaultLowestLatencyBuffer
	rf := p.fallbackFields(&r)
	rf["routing_strategy"] = func(v *yaml.Node, key string) {
		if s, ok := p.strategy(v, key); ok {
			r.strategy = &s
		}
	}
	rf["routing_strategy_args"] = func(v *yaml.Node, key string) {
		p.section(v, key, map[string]field{
			"lowest_latency_buffer": func(v *yaml.Node, key string) {
				if f, ok := p.number(v, key, 0, 10, "a fraction from 0 to 10 (0.1: within 10 % of the fastest)"); ok {
					latencyBuffer = f
				}
			},
		})
	}
	var aliases map[string]string
	rf["model_group_alias"] = func(v *yaml.Node, key string) { aliases = p.aliases(v, key) }
	rf["cooldown_time"] = p.optSeconds(&r.cooldown, true)
	rf["max_fallbacks"] = p.optCount(&r.maxFallback)
	rf["timeout"] = p.optSeconds(&r.timeout, false)
	p.section(routerNode, "router_settings", rf)

	lf := p.fallbackFields(&l)
	lf["request_timeout"] = p.optSeconds(&l.timeout, false)
	for _, k := range []string{"callbacks", "success_callback", "failure_callback"} {
		lf[k] = p.callbacks
	}
	p.section(litellmNode, "litellm_settings", lf)

	pick := func(a, b *int, def int) int {
		if a != nil {
			return *a
		}
		if b != nil {
			return *b
		}
		return def
	}
	rs := RouterSettings{
		RoutingStrategy:        DefaultRoutingStrategy,
		NumRetries:             pick(r.numRetries, l.numRetries, DefaultNumRetries),
		AllowedFails:           pick(r.allowedFails, l.allowedFails, DefaultAllowedFails),
		CooldownTime:           DefaultCooldownTime,
		Fallbacks:              p.mergeFallbacks(r.fallbacks, l.fallbacks, "litellm_settings.fallbacks"),
		ContextWindowFallbacks: p.mergeFallbacks(r.contextWindow, l.contextWindow, "litellm_settings.context_window_fallbacks"),
		ContentPolicyFallbacks: p.mergeFallbacks(r.contentPol, l.contentPol, "litellm_settings.content_policy_fallbacks"),
		MaxFallbacks:           pick(r.maxFallback, nil, DefaultMaxFallbacks),
		Timeout:                DefaultTimeout,
	}
	if r.strategy != nil {
		rs.RoutingStrategy = *r.strategy
	}
	rs.LowestLatencyBuffer = latencyBuffer
	rs.Aliases = aliases
	if r.cooldown != nil {
		rs.CooldownTime = *r.cooldown
	}
	switch {
	case r.timeout != nil:
		rs.Timeout = *r.timeout
	case l.timeout != nil:
		rs.Timeout = *l.timeout
	}
	switch {
	case r.hasDefaults:
		rs.DefaultFallbacks = r.defaults
	case l.hasDefaults:
		rs.DefaultFallbacks = l.defaults
	}
	return rs
}

// callbacks reads one of LiteLLM's callback lists (a name or a list of
// names): "prometheus" turns on Detour's own metrics (detour.metrics);
// LiteLLM's other integrations are ignored, with a warning.
func (p *parser) callbacks(v *yaml.Node, key string) {
	r := resolve(v)
	names := []*yaml.Node{r}
	if r.Kind == yaml.SequenceNode {
		names = r.Content
	}
	others := len(names) == 0
	for _, n := range names {
		if s, ok := scalarText(n); ok && strings.TrimSpace(s) == "prometheus" {
			p.prometheus = n
		} else {
			others = true
		}
	}
	if others {
		p.warnf(v, key, "ignored: of LiteLLM's callbacks Detour has only prometheus (its metrics at GET /metrics)")
	}
}

// strategy reads routing_strategy.
func (p *parser) strategy(v *yaml.Node, key string) (string, bool) {
	s, ok := p.text(v, key)
	if !ok {
		return "", false
	}
	switch s {
	case "simple-shuffle", "least-busy", "usage-based-routing", "usage-based-routing-v2", "latency-based-routing", "cost-based-routing":
	default:
		p.errorf(v, key, "must be one of simple-shuffle, least-busy, usage-based-routing, usage-based-routing-v2, latency-based-routing, cost-based-routing; got %q", s)
		return "", false
	}
	return s, true
}

// mergeFallbacks appends to the router_settings entries those of
// litellm_settings for groups router_settings does not mention.
func (p *parser) mergeFallbacks(router, litellm []Fallback, litellmPath string) []Fallback {
	out := slices.Clone(router)
	for _, f := range litellm {
		i := slices.IndexFunc(router, func(r Fallback) bool { return r.Group == f.Group })
		if i >= 0 {
			p.warnings = append(p.warnings, Problem{Line: f.Line, Key: litellmPath,
				Message: fmt.Sprintf("fallbacks for %q are also set in router_settings (line %d), which wins", f.Group, router[i].Line)})
			continue
		}
		out = append(out, f)
	}
	return out
}

// fallbacks reads a list of {group: [groups...]} entries.
func (p *parser) fallbacks(v *yaml.Node, key string) []Fallback {
	const shape = "{group: [fallback groups]}, like {gpt-4o: [gpt-4o-mini]}"
	r := resolve(v)
	if r.Kind != yaml.SequenceNode {
		p.errorf(v, key, "must be a list of %s, got %s", shape, describe(v))
		return nil
	}
	var out []Fallback
	seen := make(map[string]int)
	for i, item := range r.Content {
		ipath := index(key, i)
		m := resolve(item)
		if isNull(m) || m.Kind != yaml.MappingNode {
			p.errorf(item, ipath, "must be a mapping %s, got %s", shape, describe(item))
			continue
		}
		kvs := p.pairs(m, ipath)
		if len(kvs) != 1 {
			p.errorf(item, ipath, "must name exactly one group, like {gpt-4o: [gpt-4o-mini]}; got %d", len(kvs))
			continue
		}
		group, to := kvs[0].key.Value, kvs[0].value
		if group != "*" && !p.groups[group] {
			p.errorf(kvs[0].key, ipath, "%s", p.unknownGroup(group))
		}
		if first, dup := seen[group]; dup {
			p.errorf(kvs[0].key, ipath, "fallbacks for %q are already set on line %d", group, first)
			continue
		}
		seen[group] = line(item)
		if isNull(to) {
			p.errorf(to, join(ipath, group), "must be a list of model groups, got null")
			continue
		}
		list, ok := p.groupList(to, join(ipath, group), group)
		if ok && len(list) == 0 {
			p.warnf(to, join(ipath, group), "empty list: %q has no fallbacks", group)
		}
		out = append(out, Fallback{Group: group, To: list, Line: line(item)})
	}
	return out
}

// groupList reads a list of existing model groups, none of them self.
func (p *parser) groupList(v *yaml.Node, key, self string) ([]string, bool) {
	r := resolve(v)
	if r.Kind != yaml.SequenceNode {
		p.errorf(v, key, "must be a list of model groups, got %s", describe(v))
		return nil, false
	}
	out := make([]string, 0, len(r.Content))
	ok := true
	for i, item := range r.Content {
		ipath := index(key, i)
		g, isText := scalarText(item)
		switch {
		case !isText:
			p.errorf(item, ipath, "must be a model group name, got %s", describe(item))
		case g == "*":
			p.errorf(item, ipath, `"*" is allowed only as the group a fallback applies to, not as a fallback`)
		case !p.groups[g]:
			p.errorf(item, ipath, "%s", p.unknownGroup(g))
		case g == self:
			p.errorf(item, ipath, "a group cannot fall back to itself")
		default:
			out = append(out, g)
			continue
		}
		ok = false
	}
	return out, ok
}

// unknownGroup is the message for a fallback naming no model group.
func (p *parser) unknownGroup(g string) string {
	if len(p.groupOrder) == 0 {
		return fmt.Sprintf("unknown model group %q; model_list has no groups", g)
	}
	return fmt.Sprintf("unknown model group %q; model_list has: %s", g, strings.Join(p.groupOrder, ", "))
}

// detour reads the detour: section.
func (p *parser) detour(n *yaml.Node) Detour {
	d := Detour{Listen: DefaultListen, MaxBodyBytes: DefaultMaxBodyBytes, MaxCooldownWait: DefaultMaxCooldownWait, Server: Server{
		BodyTimeout: DefaultBodyTimeout, WriteTimeout: DefaultWriteTimeout, IdleTimeout: DefaultIdleTimeout,
		MaxHeaderBytes: DefaultMaxHeaderBytes, MaxInflightBytes: DefaultMaxInflightBytes,
		MaxRequests: DefaultMaxRequests, MaxStreams: DefaultMaxStreams},
		Cache: Cache{
			Enabled: true, TTL: DefaultCacheTTL, StaleTTL: DefaultCacheStaleTTL, MaxBytes: DefaultCacheMaxBytes,
			Mode: CacheDeterministic},
		Offline:    Offline{Enabled: true, ProbeInterval: DefaultProbeInterval},
		RequestLog: RequestLog{Enabled: true, Keep: 1000}, Metrics: true}
	p.section(n, "detour", map[string]field{
		"listen": func(v *yaml.Node, key string) {
			s, ok := p.text(v, key)
			if !ok {
				return
			}
			_, port, err := net.SplitHostPort(s)
			if err != nil {
				p.errorf(v, key, "must be host:port, like 127.0.0.1:4000, got %q", s)
				return
			}
			if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 {
				p.errorf(v, key, "port must be a number from 1 to 65535, got %q", port)
				return
			}
			d.Listen = s
			p.listenNode = v
		},
		"max_body_bytes": func(v *yaml.Node, key string) {
			if n, ok := p.whole(v, key, 1, math.MaxInt64, "a whole number of bytes ≥ 1"); ok {
				d.MaxBodyBytes = n
			}
		},
		"max_cooldown_wait": func(v *yaml.Node, key string) {
			if t, ok := p.seconds(v, key, true); ok {
				d.MaxCooldownWait = t
			}
		},
		"cache":          func(v *yaml.Node, key string) { p.cache(v, key, &d.Cache) },
		"offline":        func(v *yaml.Node, key string) { p.offline(v, key, &d.Offline) },
		"spend_path":     func(v *yaml.Node, key string) { d.SpendPath, _ = p.name(v, key) },
		"responses_path": func(v *yaml.Node, key string) { d.ResponsesPath, _ = p.name(v, key) },
		"server":         func(v *yaml.Node, key string) { p.server(v, key, &d.Server) },
		"budgets":        func(v *yaml.Node, key string) { d.Budgets = p.budgets(v, key) },
		"metrics": func(v *yaml.Node, key string) {
			if b, ok := p.boolean(v, key); ok {
				d.Metrics = b
			}
		},
		"request_log": func(v *yaml.Node, key string) {
			rl := &d.RequestLog
			p.section(v, key, map[string]field{
				"enabled": func(v *yaml.Node, key string) {
					if b, ok := p.boolean(v, key); ok {
						rl.Enabled = b
					}
				},
				"path": func(v *yaml.Node, key string) { rl.Path, _ = p.name(v, key) },
				"keep": func(v *yaml.Node, key string) {
					if n, ok := p.whole(v, key, 1, 1_000_000, "a whole number from 1 to 1000000"); ok {
						rl.Keep = int(n)
					}
				},
				"prompts": func(v *yaml.Node, key string) {
					if b, ok := p.boolean(v, key); ok {
						rl.Prompts = b
					}
				},
			})
		},
	})
	return d
}

// groupRef is a model group named at a node.
type groupRef struct {
	node       *yaml.Node
	key, group string
}

// budgets reads detour.budgets: global limits at the top, and per provider
// and per group under providers: and groups:.
func (p *parser) budgets(n *yaml.Node, path string) []Budget {
	var out []Budget
	var one func(n *yaml.Node, path, scope, name string)
	one = func(n *yaml.Node, path, scope, name string) {
		b := Budget{Scope: scope, Name: name, OnExceed: "block", Line: n.Line}
		usd := func(dst *float64) field {
			return func(v *yaml.Node, key string) {
				*dst, _ = p.number(v, key, 0, math.Inf(1), "a number of US dollars ≥ 0")
			}
		}
		fields := map[string]field{
			"daily_usd":   usd(&b.DailyUSD),
			"monthly_usd": usd(&b.MonthlyUSD),
			"on_exceed": func(v *yaml.Node, key string) {
				s, ok := p.text(v, key)
				if ok && s != "block" && s != "downgrade" {
					p.errorf(v, key, "must be block or downgrade, got %q", s)
					return
				}
				b.OnExceed = s
			},
		}
		if scope == "global" {
			fields["providers"] = func(v *yaml.Node, key string) {
				if r := p.mapping(v, key); r != nil {
					for _, kv := range p.pairs(r, key) {
						if _, known := provider.Lookup(kv.key.Value); !known {
							p.errorf(kv.key, join(key, kv.key.Value), "unknown provider %q", kv.key.Value)
							continue
						}
						one(kv.value, join(key, kv.key.Value), "provider", kv.key.Value)
					}
				}
			}
			fields["groups"] = func(v *yaml.Node, key string) {
				if r := p.mapping(v, key); r != nil {
					for _, kv := range p.pairs(r, key) {
						if !p.groups[kv.key.Value] {
							p.errorf(kv.key, join(key, kv.key.Value), "%s", p.unknownGroup(kv.key.Value))
							continue
						}
						one(kv.value, join(key, kv.key.Value), "group", kv.key.Value)
					}
				}
			}
		}
		p.section(n, path, fields)
		if b.DailyUSD > 0 || b.MonthlyUSD > 0 {
			out = append(out, b)
		}
	}
	one(n, path, "global", "")
	return out
}

// complexity reads complexity_router_config: tiers and tier_boundaries.
// The groups it names are checked once model_list is read.
func (p *parser) complexity(n *yaml.Node, path string) *Complexity {
	c := &Complexity{Tiers: map[string]string{}}
	p.section(n, path, map[string]field{
		"tiers": func(v *yaml.Node, key string) {
			r := p.mapping(v, key)
			if r == nil {
				return
			}
			for _, kv := range p.pairs(r, key) {
				tier := strings.ToUpper(kv.key.Value)
				switch tier {
				case "SIMPLE", "MEDIUM", "COMPLEX", "REASONING":
				default:
					p.errorf(kv.key, join(key, kv.key.Value), "must be SIMPLE, MEDIUM, COMPLEX or REASONING")
					continue
				}
				if g, ok := p.name(kv.value, join(key, kv.key.Value)); ok {
					c.Tiers[tier] = g
					p.groupRefs = append(p.groupRefs, groupRef{kv.value, join(key, kv.key.Value), g})
				}
			}
		},
		"tier_boundaries": func(v *yaml.Node, key string) {
			p.section(v, key, map[string]field{
				"simple_medium":  func(v *yaml.Node, key string) { c.SimpleMedium, _ = p.number(v, key, 0, 10, "a score from 0 to 10") },
				"medium_complex": func(v *yaml.Node, key string) { c.MediumComplex, _ = p.number(v, key, 0, 10, "a score from 0 to 10") },
				"complex_reasoning": func(v *yaml.Node, key string) {
					c.ComplexReasoning, _ = p.number(v, key, 0, 10, "a score from 0 to 10")
				},
			})
		},
	})
	return c
}

// offline reads detour.offline into o, which holds the defaults.
func (p *parser) offline(n *yaml.Node, path string, o *Offline) {
	p.section(n, path, map[string]field{
		"enabled": func(v *yaml.Node, key string) {
			if b, ok := p.boolean(v, key); ok {
				o.Enabled = b
			}
		},
		"ollama_host": func(v *yaml.Node, key string) { o.OllamaHost, _, _ = p.envText(v, key) },
		"model":       func(v *yaml.Node, key string) { o.Model, _ = p.name(v, key) },
		"probe_interval": func(v *yaml.Node, key string) {
			if d, ok := p.seconds(v, key, false); ok {
				o.ProbeInterval = d
			}
		},
		"map": func(v *yaml.Node, key string) {
			r := p.mapping(v, key)
			if r == nil {
				return
			}
			o.Map = map[string]string{}
			for _, kv := range p.pairs(r, key) {
				group := kv.key.Value
				if !p.groups[group] {
					p.errorf(kv.key, join(key, group), "%s", p.unknownGroup(group))
					continue
				}
				if model, ok := p.name(kv.value, join(key, group)); ok {
					o.Map[group] = model
				}
			}
		},
	})
}

// server reads detour.server into s, which holds the defaults.
func (p *parser) server(n *yaml.Node, path string, s *Server) {
	timeout := func(dst *time.Duration) field {
		return func(v *yaml.Node, key string) {
			if d, ok := p.seconds(v, key, false); ok {
				*dst = d
			}
		}
	}
	limit := func(dst *int, min int64) field {
		return func(v *yaml.Node, key string) {
			if n, ok := p.whole(v, key, min, math.MaxInt32, fmt.Sprintf("a whole number ≥ %d", min)); ok {
				*dst = int(n)
			}
		}
	}
	p.section(n, path, map[string]field{
		"allowed_hosts": func(v *yaml.Node, key string) {
			for i, h := range p.tags(v, key) {
				if strings.ContainsAny(h, "/ *") {
					p.errorf(v, index(key, i), "must be a host name or address (no scheme, path or wildcard), got %q", h)
					continue
				}
				s.AllowedHosts = append(s.AllowedHosts, h)
			}
		},
		"cors_origins": func(v *yaml.Node, key string) {
			for i, o := range p.tags(v, key) {
				if o != "*" && !validOrigin(o) {
					p.errorf(v, index(key, i), "must be a web origin like http://localhost:3000 (scheme, host, optional port; no path), or *, got %q", o)
					continue
				}
				s.CORSOrigins = append(s.CORSOrigins, o)
			}
		},
		"auth": func(v *yaml.Node, key string) {
			if b, ok := p.boolean(v, key); ok {
				s.Auth = b
			}
		},
		"body_timeout":     timeout(&s.BodyTimeout),
		"write_timeout":    timeout(&s.WriteTimeout),
		"idle_timeout":     timeout(&s.IdleTimeout),
		"max_header_bytes": limit(&s.MaxHeaderBytes, 4096),
		"max_inflight_bytes": func(v *yaml.Node, key string) {
			if n, ok := p.whole(v, key, 1<<20, math.MaxInt64, "a whole number of bytes ≥ 1048576 (1 MiB)"); ok {
				s.MaxInflightBytes = n
			}
		},
		"max_requests": limit(&s.MaxRequests, 1),
		"max_streams":  limit(&s.MaxStreams, 1),
	})
}

// validOrigin reports whether o is a web origin: http(s)://host[:port].
func validOrigin(o string) bool {
	u, err := url.Parse(o)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" &&
		(u.Path == "" || u.Path == "/") && u.RawQuery == "" && u.User == nil
}

// cache reads detour.cache into c, which holds the defaults.
func (p *parser) cache(n *yaml.Node, path string, c *Cache) {
	p.section(n, path, map[string]field{
		"enabled": func(v *yaml.Node, key string) {
			if b, ok := p.boolean(v, key); ok {
				c.Enabled = b
			}
		},
		"path": func(v *yaml.Node, key string) {
			if s, ok := p.name(v, key); ok {
				c.Path = s
			}
		},
		"ttl": func(v *yaml.Node, key string) {
			if d, ok := p.seconds(v, key, false); ok {
				c.TTL = d
			}
		},
		"stale_ttl": func(v *yaml.Node, key string) {
			if d, ok := p.seconds(v, key, true); ok {
				c.StaleTTL = d
			}
		},
		"max_bytes": func(v *yaml.Node, key string) {
			if n, ok := p.whole(v, key, 1<<20, math.MaxInt64, "a whole number of bytes ≥ 1048576 (1 MiB)"); ok {
				c.MaxBytes = n
			}
		},
		"mode": func(v *yaml.Node, key string) {
			s, ok := p.text(v, key)
			if !ok {
				return
			}
			switch m := CacheMode(s); m {
			case CacheDeterministic, CacheAll, CacheOff:
				c.Mode = m
			default:
				p.errorf(v, key, "must be one of deterministic, all, off; got %q", s)
			}
		},
	})
}
