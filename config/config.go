// Package config loads and validates Detour's config file.
//
// The file is LiteLLM's proxy config format (model_list, router_settings,
// litellm_settings, general_settings, environment_variables), so users bring
// the config they already have, plus a detour: section for the gateway
// itself. Parsing walks yaml.Nodes so that every problem carries the line it
// was found on. Keys Detour does not use are warnings, never failures;
// invalid values are errors, and all of them are reported at once.
//
// API keys never appear in the file: api_key is a reference, either
// os.environ/VAR or keychain/NAME, and a literal key is refused without being
// repeated in the error.
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/detour-gateway/detour/atomicfile"
)

// Defaults applied when the config leaves a setting out.
const (
	// DefaultRoutingStrategy is router_settings.routing_strategy when unset.
	DefaultRoutingStrategy = "simple-shuffle"
	// DefaultNumRetries is router_settings.num_retries when unset.
	DefaultNumRetries = 2
	// DefaultAllowedFails is router_settings.allowed_fails when unset.
	DefaultAllowedFails = 3
	// DefaultCooldownTime is router_settings.cooldown_time when unset.
	DefaultCooldownTime = 60 * time.Second
	// DefaultLowestLatencyBuffer is
	// router_settings.routing_strategy_args.lowest_latency_buffer when
	// unset: latency-based routing picks only the fastest.
	DefaultLowestLatencyBuffer = 0.0
	// DefaultMaxFallbacks is router_settings.max_fallbacks when unset.
	DefaultMaxFallbacks = 5
	// DefaultTimeout is router_settings.timeout (whole request) when unset.
	DefaultTimeout = 600 * time.Second
	// DefaultListen is detour.listen when unset: loopback only.
	DefaultListen = "127.0.0.1:4000"
	// DefaultMaxCooldownWait is detour.max_cooldown_wait when unset.
	DefaultMaxCooldownWait = 3 * time.Second
	// DefaultMaxBodyBytes is detour.max_body_bytes when unset: 32 MiB.
	DefaultMaxBodyBytes int64 = 32 << 20
	// DefaultCacheTTL is detour.cache.ttl when unset: 24 hours.
	DefaultCacheTTL = 24 * time.Hour
	// DefaultCacheStaleTTL is detour.cache.stale_ttl when unset: 7 days.
	DefaultCacheStaleTTL = 7 * 24 * time.Hour
	// DefaultCacheMaxBytes is detour.cache.max_bytes when unset: 512 MiB.
	DefaultCacheMaxBytes int64 = 512 << 20
	// DefaultProbeInterval is detour.offline.probe_interval when unset.
	DefaultProbeInterval = 5 * time.Second
)

// Config is a loaded, valid config file. Defaults are already applied, so a
// zero value in a field means the file explicitly asked for zero or, where a
// field says so, "unset".
type Config struct {
	// Path is the file the config was loaded from; "" when Parse was given
	// bytes.
	Path string
	// Models is model_list, in file order. It is never empty.
	Models []Deployment
	// Router holds router_settings, merged with the reliability settings
	// LiteLLM also accepts under litellm_settings.
	Router RouterSettings
	// Detour holds the detour: section.
	Detour Detour
}

// Groups returns the model group names (model_name) in order of first
// appearance in model_list.
func (c *Config) Groups() []string {
	var groups []string
	seen := make(map[string]bool)
	for _, d := range c.Models {
		if !seen[d.Group] {
			seen[d.Group] = true
			groups = append(groups, d.Group)
		}
	}
	return groups
}

// Deployment is one model_list entry: one upstream model at one provider,
// serving the model group clients ask for.
type Deployment struct {
	// ID identifies the deployment stably across runs and reloads:
	// model_info.id when set, else the provider prefix, "-", and the first
	// 10 hex digits of a SHA-256 over the entry's model_name and
	// litellm_params (the api_key reference, never a secret). Identical
	// entries get "-2", "-3", … suffixes in file order.
	ID string
	// Group is model_name: the name clients ask for.
	Group string
	// Model is litellm_params.model exactly as written, e.g.
	// "groq/llama-3.1-8b-instant" or "gpt-4o".
	Model string
	// Provider is the provider prefix of Model; "openai" for bare names.
	Provider string
	// UpstreamModel is the model name sent upstream, Model without its
	// prefix ("llama-3.1-8b-instant").
	UpstreamModel string
	// Key says where the API key comes from. It never holds the key.
	Key KeyRef
	// APIBase is litellm_params.api_base with os.environ/VAR resolved at
	// load time; "" means the provider's default base URL.
	APIBase string
	// APIVersion is litellm_params.api_version (os.environ/VAR resolved);
	// "" = unset.
	APIVersion string
	// Organization is litellm_params.organization (os.environ/VAR
	// resolved); "" = unset.
	Organization string
	// Weight is the simple-shuffle weight; 0 = unset (LiteLLM treats unset
	// as equal weights).
	Weight int
	// RPM is the deployment's requests-per-minute limit; 0 = unset.
	RPM int
	// TPM is the deployment's tokens-per-minute limit; 0 = unset.
	TPM int
	// Order is litellm_params.order: lower is tried first; 0 = unset.
	Order int
	// NumCtx is litellm_params.num_ctx, the context size in tokens an
	// Ollama deployment runs with; 0 = Ollama's default.
	NumCtx int
	// ResponsesAPI is litellm_params.responses_api (Detour's own): the
	// upstream serves OpenAI's Responses API too, so Responses clients'
	// requests go to it as they are. nil = unset: true for OpenAI's own
	// API, false for other OpenAI-compatible servers.
	ResponsesAPI *bool
	// Tags is litellm_params.tags; nil = none.
	Tags []string
	// Timeout bounds a whole attempt at this deployment; 0 = unset.
	Timeout time.Duration
	// StreamTimeout bounds the wait for the first byte of a stream; 0 =
	// unset.
	StreamTimeout time.Duration
	// MaxRetries is litellm_params.max_retries; nil = unset (the router's
	// num_retries applies).
	MaxRetries *int
	// Mock holds the mock_* params; the zero value means no mocking.
	Mock Mock
	// Complexity is set for model: auto_router/complexity_router: the
	// complexity_router_config and complexity_router_default_model params.
	Complexity *Complexity
	// Info is model_info.
	Info ModelInfo
	// Line is the line of the model_list entry (its "- model_name" line).
	Line int
}

// Complexity configures a complexity router deployment.
type Complexity struct {
	// Tiers maps SIMPLE, MEDIUM, COMPLEX and REASONING to model groups.
	Tiers map[string]string
	// Default is complexity_router_default_model: the group when a tier
	// has none.
	Default string
	// SimpleMedium, MediumComplex and ComplexReasoning are
	// tier_boundaries; 0 takes the router's defaults.
	SimpleMedium, MediumComplex, ComplexReasoning float64
}

// Mock holds a deployment's mock_* litellm_params, used by the mock
// provider.
type Mock struct {
	// Response is mock_response, the text answered; "" = unset.
	Response string
	// Latency is mock_latency_ms (whole milliseconds in the file); 0 = none.
	Latency time.Duration
	// Status is mock_status, an HTTP status from 100 to 599 to answer
	// with; 0 = unset (200).
	Status int
	// FailRate is mock_fail_rate, the fraction of requests from 0 to 1 that
	// fail; 0 = never.
	FailRate float64
}

// ModelInfo is a deployment's model_info. LiteLLM keeps model_info
// free-form, so keys other than these are kept in Extra without a warning.
// LiteLLM's litellm_params.input_cost_per_token and output_cost_per_token
// are read too; model_info wins when both are set.
type ModelInfo struct {
	// InputCostPerToken is the price of one prompt token in USD; 0 = unknown.
	InputCostPerToken float64
	// OutputCostPerToken is the price of one completion token in USD;
	// 0 = unknown.
	OutputCostPerToken float64
	// MaxInputTokens is the context window in tokens; 0 = unknown.
	MaxInputTokens int
	// MaxOutputTokens is the largest completion in tokens; 0 = unknown.
	MaxOutputTokens int
	// Extra holds the other model_info keys, decoded as YAML values; nil
	// when there are none. model_info.id is not in Extra: it is the
	// Deployment's ID.
	Extra map[string]any
}

// KeySource says where a deployment's API key comes from.
type KeySource int

const (
	// KeyDefault: api_key was omitted. The key is the keychain entry named
	// after the provider prefix, then the provider's usual environment
	// variable (KeyRef.EnvFallback).
	KeyDefault KeySource = iota
	// KeyEnv: api_key: os.environ/VAR; KeyRef.Name is VAR.
	KeyEnv
	// KeyKeychain: api_key: keychain/NAME; KeyRef.Name is NAME.
	KeyKeychain
	// KeyNone: no key is sent. Used when api_key is omitted for the mock
	// provider and for providers whose key is optional (local servers).
	KeyNone
)

// String returns "default", "env", "keychain" or "none".
func (s KeySource) String() string {
	switch s {
	case KeyDefault:
		return "default"
	case KeyEnv:
		return "env"
	case KeyKeychain:
		return "keychain"
	case KeyNone:
		return "none"
	}
	return fmt.Sprintf("KeySource(%d)", int(s))
}

// KeyRef tells where to find an API key. It never holds the key itself, so
// it is safe to log and show.
type KeyRef struct {
	// Source is where the key comes from.
	Source KeySource
	// Name is the environment variable (KeyEnv) or keychain entry
	// (KeyKeychain, and KeyDefault, where it is the provider prefix); ""
	// for KeyNone.
	Name string
	// EnvFallback is, for KeyDefault only, the environment variable tried
	// when the keychain has no entry Name; "" if the provider has none.
	EnvFallback string
}

// String describes the reference in config syntax, e.g. "keychain/groq",
// "os.environ/OPENAI_API_KEY", "keychain/openai, then $OPENAI_API_KEY" or
// "none". It never contains a secret.
func (k KeyRef) String() string {
	switch k.Source {
	case KeyDefault:
		if k.EnvFallback == "" {
			return keychainPrefix + k.Name
		}
		return keychainPrefix + k.Name + ", then $" + k.EnvFallback
	case KeyEnv:
		return envPrefix + k.Name
	case KeyKeychain:
		return keychainPrefix + k.Name
	case KeyNone:
		return "none"
	}
	return k.Source.String()
}

// RouterSettings is router_settings, merged with the reliability settings
// LiteLLM also reads from litellm_settings (fallbacks, context_window_fallbacks,
// content_policy_fallbacks, default_fallbacks, num_retries, allowed_fails,
// request_timeout). router_settings wins where both set something.
type RouterSettings struct {
	// RoutingStrategy is routing_strategy as written; default
	// "simple-shuffle". LiteLLM's other strategy names load with a warning
	// and are served by simple-shuffle for now.
	RoutingStrategy string
	// LowestLatencyBuffer is routing_strategy_args.lowest_latency_buffer:
	// latency-based routing picks at random among deployments within this
	// fraction of the fastest (0.1: 10 %); default 0.
	LowestLatencyBuffer float64
	// NumRetries is how many times a request is retried within a model
	// group before falling back; default 2.
	NumRetries int
	// AllowedFails is how many failures in a minute a deployment may have:
	// it cools down when it fails more than AllowedFails times. Default 3.
	AllowedFails int
	// CooldownTime is how long a failing deployment is skipped; default 60s.
	// 0 means deployments never cool down.
	CooldownTime time.Duration
	// Fallbacks are the groups tried when a group fails, in file order:
	// router_settings.fallbacks, then litellm_settings.fallbacks for groups
	// router_settings does not mention. Group "*" applies to every group.
	Fallbacks []Fallback
	// DefaultFallbacks are tried for a group with no Fallbacks entry; nil =
	// none.
	DefaultFallbacks []string
	// ContextWindowFallbacks are tried when a request is too long for a
	// group; merged like Fallbacks.
	ContextWindowFallbacks []Fallback
	// ContentPolicyFallbacks are tried when a provider refuses a request
	// on content policy; merged like Fallbacks.
	ContentPolicyFallbacks []Fallback
	// MaxFallbacks bounds how many fallback groups one request tries;
	// default 5.
	MaxFallbacks int
	// Timeout bounds a whole request, retries and fallbacks included;
	// default 600s. litellm_settings.request_timeout sets it when
	// router_settings.timeout is absent.
	Timeout time.Duration
	// Aliases is model_group_alias: a model name clients send → the
	// model group that serves it; nil = none.
	Aliases map[string]string
}

// Fallback is one fallbacks entry, {Group: [To...]}.
type Fallback struct {
	// Group is the model group that failed, or "*" for any group.
	Group string
	// To are the groups tried next, in order.
	To []string
	// Line is the line of the entry.
	Line int
}

// Detour is the detour: section, settings of the gateway itself.
type Detour struct {
	// Listen is the host:port the gateway listens on; default
	// "127.0.0.1:4000".
	Listen string
	// MaxBodyBytes is the largest request body accepted, in bytes; default
	// 32 MiB.
	MaxBodyBytes int64
	// MaxCooldownWait is detour.max_cooldown_wait: the longest a request
	// with no fallback and no local tier waits for a cooling deployment
	// to return; default 3 s. 0 means never wait.
	MaxCooldownWait time.Duration
	// Cache is detour.cache, the response cache.
	Cache Cache
	// Offline is detour.offline, the local Ollama tier.
	Offline Offline
	// RequestLog is detour.request_log, the decision traces of the last
	// requests.
	RequestLog RequestLog
	// SpendPath is detour.spend_path, the spend ledger's file; "" means
	// <user cache dir>/detour/spend.db. It is separate from the cache, so
	// clearing the cache never loses spend.
	SpendPath string
	// ResponsesPath is detour.responses_path, where answers of the
	// Responses API that clients asked to store are kept (for
	// previous_response_id); "" means <user cache dir>/detour/responses.db.
	ResponsesPath string
	// Budgets is detour.budgets.
	Budgets []Budget
	// Server is detour.server: who may use the gateway, and how much one
	// client may take.
	Server Server
	// Metrics is detour.metrics: serve Prometheus metrics at GET
	// /metrics, behind the same door as /v1 (local auth applies when it
	// is on); default true, as they cost nothing until scraped. LiteLLM's
	// litellm_settings.callbacks (or success_callback, failure_callback)
	// naming "prometheus" turns them on too; detour.metrics: false wins.
	Metrics bool
}

// Defaults of detour.server.
const (
	// DefaultBodyTimeout is detour.server.body_timeout: 60 s to receive a
	// request body.
	DefaultBodyTimeout = 60 * time.Second
	// DefaultWriteTimeout is detour.server.write_timeout: 60 s for one
	// write to a client (an answer, or one event of a stream).
	DefaultWriteTimeout = 60 * time.Second
	// DefaultIdleTimeout is detour.server.idle_timeout: 60 s a kept-alive
	// connection may wait for its next request.
	DefaultIdleTimeout = 60 * time.Second
	// DefaultMaxHeaderBytes is detour.server.max_header_bytes: 1 MiB.
	DefaultMaxHeaderBytes = 1 << 20
	// DefaultMaxInflightBytes is detour.server.max_inflight_bytes: 64 MiB
	// of request bodies held at once, across all requests.
	DefaultMaxInflightBytes int64 = 64 << 20
	// DefaultMaxRequests is detour.server.max_requests: 256 model API
	// requests served at once.
	DefaultMaxRequests = 256
	// DefaultMaxStreams is detour.server.max_streams: 128 streams open at
	// once.
	DefaultMaxStreams = 128
)

// Server is detour.server: the door of the gateway and its limits.
type Server struct {
	// AllowedHosts are Host names answered besides loopback names and the
	// listen address (e.g. a LAN name); nil = none.
	AllowedHosts []string
	// CORSOrigins are the web origins whose pages may call /v1, e.g.
	// "http://localhost:3000"; "*" allows any; nil = none.
	CORSOrigins []string
	// Auth requires a local key (detour keys local add NAME) on the model
	// API; default false. A general_settings.master_key turns it on.
	Auth bool
	// MasterKey is general_settings.master_key from a LiteLLM config, a
	// local key accepted besides those in the keychain.
	MasterKey MasterKey
	// BodyTimeout bounds receiving a request body; default 60 s.
	BodyTimeout time.Duration
	// WriteTimeout bounds one write to a client; default 60 s.
	WriteTimeout time.Duration
	// IdleTimeout bounds a kept-alive connection's wait for its next
	// request; default 60 s.
	IdleTimeout time.Duration
	// MaxHeaderBytes bounds a request's headers, in bytes; default 1 MiB.
	MaxHeaderBytes int
	// MaxInflightBytes bounds the request bodies held at once, in bytes;
	// default 64 MiB.
	MaxInflightBytes int64
	// MaxRequests bounds the model API requests served at once; default 256.
	MaxRequests int
	// MaxStreams bounds the streams open at once; default 128.
	MaxStreams int
}

// LoopbackAddr reports whether addr (host:port) listens on a loopback
// address only: "127.0.0.1:4000", "localhost:4000", "[::1]:4000"; not
// ":4000" or "0.0.0.0:4000", which other machines reach.
func LoopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// MasterKey is general_settings.master_key: in the environment
// (os.environ/VAR), the keychain (keychain/NAME), or, as LiteLLM's examples
// write it, in the file itself.
type MasterKey struct {
	// Ref is where the key is (KeyEnv or KeyKeychain); the zero KeyRef
	// when unset or literal.
	Ref KeyRef
	// Literal is the key when the file holds it. It is never logged or
	// shown; String leaves it out.
	Literal string
}

// Set reports whether a master key is configured.
func (m MasterKey) Set() bool { return m.Literal != "" || m.Ref.Name != "" }

// String describes where the master key is, never the key itself.
func (m MasterKey) String() string {
	switch {
	case m.Literal != "":
		return "in the config file"
	case m.Ref.Name != "":
		return m.Ref.String()
	}
	return "none"
}

// GoString is String, so %#v cannot print the literal either.
func (m MasterKey) GoString() string { return "config.MasterKey(" + m.String() + ")" }

// Budget is one spending limit of detour.budgets.
type Budget struct {
	// Scope is "global", "provider" or "group"; Name the provider or group.
	Scope, Name string
	// DailyUSD and MonthlyUSD are the limits in US dollars; 0 = none.
	DailyUSD, MonthlyUSD float64
	// OnExceed is "block" (default: refuse with 429 budget_exceeded) or
	// "downgrade" (route to the group's fallbacks, else the local tier).
	OnExceed string
	// Line is where the budget is written.
	Line int
}

// RequestLog configures the decision traces kept for the API
// (detour.request_log).
type RequestLog struct {
	// Enabled keeps them; default true.
	Enabled bool
	// Path is the file; "" means <user cache dir>/detour/requests.db.
	Path string
	// Keep is how many requests are kept; default 1000.
	Keep int
	// Prompts keeps each request's messages too; default false (no
	// prompt text is stored).
	Prompts bool
}

// Offline configures the local last tier (detour.offline): an Ollama model
// that answers when every cloud deployment and fallback has failed, and at
// once while the machine is offline.
type Offline struct {
	// Enabled turns the tier on; default true.
	Enabled bool
	// OllamaHost is where Ollama listens; "" means $OLLAMA_HOST, else
	// 127.0.0.1:11434.
	OllamaHost string
	// Model is the Ollama model answering every group; "" means the
	// first chat model in Ollama's list (its most recently changed).
	Model string
	// Map gives groups their own model (model group → Ollama model).
	Map map[string]string
	// ProbeInterval is how often, while offline, Detour checks whether
	// the network is back, in seconds in the file; default 5 s.
	ProbeInterval time.Duration
}

// Equal reports whether o and p are the same settings.
func (o Offline) Equal(p Offline) bool {
	return o.Enabled == p.Enabled && o.OllamaHost == p.OllamaHost && o.Model == p.Model &&
		o.ProbeInterval == p.ProbeInterval && maps.Equal(o.Map, p.Map)
}

// Cache configures the response cache (detour.cache).
type Cache struct {
	// Enabled turns the cache on; default true.
	Enabled bool
	// Path is the cache file; "" means <user cache dir>/detour/cache.db.
	Path string
	// TTL is how long an answer is served fresh, in seconds in the file;
	// default 24 hours.
	TTL time.Duration
	// StaleTTL is how long past TTL an answer is kept for when every
	// provider fails, in seconds in the file; default 7 days. 0 keeps none.
	StaleTTL time.Duration
	// MaxBytes caps the cache file's entries, in bytes; default 512 MiB.
	MaxBytes int64
	// Mode says which requests the cache answers and stores; default
	// CacheDeterministic. Unlike Enabled it applies on reload, without a
	// restart.
	Mode CacheMode
}

// CacheMode is detour.cache.mode: which requests the response cache
// answers and stores.
type CacheMode string

// The values of detour.cache.mode.
const (
	// CacheDeterministic caches only requests that ask for the same answer
	// again: temperature 0, or a seed (and those that ask for a cached
	// answer explicitly). A request with another temperature, or none, is
	// sampled and expects a new answer each time. The default.
	CacheDeterministic CacheMode = "deterministic"
	// CacheAll caches every request, whatever its temperature.
	CacheAll CacheMode = "all"
	// CacheOff caches no request, while the cache file stays open.
	CacheOff CacheMode = "off"
)

// Parse parses and validates a config. On success it returns the config and
// any warnings (keys Detour ignores, strategies not implemented yet). When the
// config is invalid it returns a nil Config, the warnings, and an *Error
// listing every problem found.
func Parse(data []byte) (*Config, []Problem, error) {
	p := &parser{lookupEnv: os.LookupEnv}
	cfg := p.parse(data)
	problems, warnings := p.results()
	if len(problems) > 0 {
		return nil, warnings, &Error{Problems: problems}
	}
	return cfg, warnings, nil
}

// Load reads the config file at path and parses it as Parse does. The
// returned Config's Path and an *Error's Path are set to path.
func Load(path string) (*Config, []Problem, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read config: %w", err)
	}
	cfg, warnings, err := Parse(data)
	if perr, ok := errors.AsType[*Error](err); ok {
		perr.Path = path
	}
	if cfg != nil {
		cfg.Path = path
	}
	return cfg, warnings, err
}

// DefaultPath returns where the config lives: $DETOUR_CONFIG if set, else
// config.yaml in the "detour" folder of the user's config directory
// (os.UserConfigDir, e.g. ~/.config/detour/config.yaml on Linux).
func DefaultPath() (string, error) {
	if p := os.Getenv("DETOUR_CONFIG"); p != "" {
		return p, nil
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("find config directory: %w", err)
	}
	return filepath.Join(dir, "detour", "config.yaml"), nil
}

// WriteDefault writes DefaultYAML to path if no file exists there, and
// reports whether it wrote. Missing directories are created with mode 0700
// and the file with mode 0600. The content goes to a temporary file in the
// same directory that is then renamed into place, so path never holds a
// half-written config.
func WriteDefault(path string) (bool, error) {
	if _, err := os.Stat(path); err == nil {
		return false, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return false, fmt.Errorf("check config file: %w", err)
	}
	// Both writers of a file created at path since the Stat above hold
	// the same default content, so replacing it is harmless.
	if err := atomicfile.Write(path, []byte(DefaultYAML), 0o600); err != nil {
		return false, fmt.Errorf("write the default config: %w", err)
	}
	return true, nil
}

// Problem is one thing wrong (an error) or worth knowing (a warning) in a
// config file.
type Problem struct {
	// Line is the 1-based line in the file; 0 when unknown.
	Line int
	// Key is the dotted path of the setting, e.g.
	// "model_list[1].litellm_params.weight"; "" for the file as a whole.
	Key string
	// Message says what is wrong and what is allowed.
	Message string
}

// String formats the problem as
// `line 12: model_list[1].litellm_params.weight: must be a whole number ≥ 0, got "abc"`.
func (p Problem) String() string {
	var b strings.Builder
	if p.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", p.Line)
	}
	if p.Key != "" {
		b.WriteString(p.Key)
		b.WriteString(": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// Error is returned for an invalid config. It lists every problem found.
type Error struct {
	// Path is the config file; "" when Parse was given bytes.
	Path string
	// Problems are the errors, ordered by line. There is at least one.
	Problems []Problem
}

// Error lists every problem, one per line, each prefixed with "path:line:"
// (or "line N:" when there is no path).
func (e *Error) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		if e.Path == "" {
			lines[i] = p.String()
			continue
		}
		prefix := e.Path + ":"
		if p.Line > 0 {
			prefix += fmt.Sprint(p.Line) + ":"
		}
		p.Line = 0
		lines[i] = prefix + " " + p.String()
	}
	return strings.Join(lines, "\n")
}
