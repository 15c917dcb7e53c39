package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

const exampleYAML = `model_list:
  - model_name: main-llm                 # the name clients ask for: a model group
    litellm_params:
      model: gpt-4o                      # provider/model; bare OpenAI names mean openai/
      api_key: os.environ/OPENAI_API_KEY # or keychain/NAME
      api_base: https://example.invalid/v1 # optional; may also be os.environ/VAR
      weight: 5                          # simple-shuffle weight
      rpm: 100
      tpm: 100000
      timeout: 60                        # seconds (float allowed), whole attempt
      stream_timeout: 10                 # seconds to first byte
    model_info: {input_cost_per_token: 2.5e-6, output_cost_per_token: 1e-5, max_input_tokens: 128000}
  - model_name: cheap-llm
    litellm_params: {model: groq/llama-3.1-8b-instant, api_key: keychain/groq}
  - model_name: demo
    litellm_params: {model: mock/demo, mock_response: "Hello from Detour", mock_latency_ms: 20}
router_settings:
  routing_strategy: simple-shuffle
  num_retries: 2
  allowed_fails: 1
  cooldown_time: 60
  fallbacks: [{main-llm: [cheap-llm]}]
  default_fallbacks: [cheap-llm]
  max_fallbacks: 5
  timeout: 120
litellm_settings: {fallbacks: [{"*": [demo]}]}   # LiteLLM accepts fallbacks here too
general_settings: {master_key: sk-whatever}       # local auth on, with a warning
detour:
  listen: 127.0.0.1:4000
  max_body_bytes: 33554432
`

// parseOK parses src and fails the test on any error.
func parseOK(t *testing.T, src string) (*Config, []Problem) {
	t.Helper()
	cfg, warnings, err := Parse([]byte(src))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return cfg, warnings
}

// parseErr parses src, expecting it to be invalid, and returns the problems.
func parseErr(t *testing.T, src string) []Problem {
	t.Helper()
	cfg, _, err := Parse([]byte(src))
	if err == nil {
		t.Fatalf("Parse succeeded, want an error; config: %+v", cfg)
	}
	var perr *Error
	if !errors.As(err, &perr) {
		t.Fatalf("error is %T, want *Error: %v", err, err)
	}
	if cfg != nil {
		t.Errorf("Parse returned a config along with an error")
	}
	return perr.Problems
}

func TestParseExample(t *testing.T) {
	cfg, warnings := parseOK(t, exampleYAML)

	wantWarnings := []Problem{{Line: 27, Key: "general_settings.master_key", Message: "local auth is on with the master key written in this file (the value is not shown here); " +
		"anyone who can read the file can use Detour. Prefer a local key in the keychain (detour keys local add NAME) or master_key: os.environ/VAR"}}
	if !reflect.DeepEqual(warnings, wantWarnings) {
		t.Errorf("warnings = %v, want %v", warnings, wantWarnings)
	}

	if len(cfg.Models) != 3 {
		t.Fatalf("got %d models, want 3", len(cfg.Models))
	}
	main := cfg.Models[0]
	if main.ID == "" || !regexp.MustCompile(`^openai-[0-9a-f]{10}$`).MatchString(main.ID) {
		t.Errorf("main.ID = %q, want openai-<10 hex>", main.ID)
	}
	main.ID = ""
	wantMain := Deployment{
		Group:         "main-llm",
		Model:         "gpt-4o",
		Provider:      "openai",
		UpstreamModel: "gpt-4o",
		Key:           KeyRef{Source: KeyEnv, Name: "OPENAI_API_KEY"},
		APIBase:       "https://example.invalid/v1",
		Weight:        5,
		RPM:           100,
		TPM:           100000,
		Timeout:       60 * time.Second,
		StreamTimeout: 10 * time.Second,
		Info:          ModelInfo{InputCostPerToken: 2.5e-6, OutputCostPerToken: 1e-5, MaxInputTokens: 128000},
		Line:          2,
	}
	if !reflect.DeepEqual(main, wantMain) {
		t.Errorf("model_list[0] =\n%+v\nwant\n%+v", main, wantMain)
	}

	cheap := cfg.Models[1]
	if cheap.Group != "cheap-llm" || cheap.Provider != "groq" || cheap.UpstreamModel != "llama-3.1-8b-instant" ||
		cheap.Model != "groq/llama-3.1-8b-instant" || cheap.Key != (KeyRef{Source: KeyKeychain, Name: "groq"}) || cheap.Line != 13 {
		t.Errorf("model_list[1] = %+v", cheap)
	}
	if !strings.HasPrefix(cheap.ID, "groq-") {
		t.Errorf("cheap.ID = %q, want groq- prefix", cheap.ID)
	}

	demo := cfg.Models[2]
	wantMock := Mock{Response: "Hello from Detour", Latency: 20 * time.Millisecond}
	if demo.Provider != "mock" || demo.UpstreamModel != "demo" || demo.Mock != wantMock || demo.Key.Source != KeyNone {
		t.Errorf("model_list[2] = %+v", demo)
	}

	wantRouter := RouterSettings{
		RoutingStrategy: "simple-shuffle",
		NumRetries:      2,
		AllowedFails:    1,
		CooldownTime:    60 * time.Second,
		Fallbacks: []Fallback{
			{Group: "main-llm", To: []string{"cheap-llm"}, Line: 22},
			{Group: "*", To: []string{"demo"}, Line: 26},
		},
		DefaultFallbacks: []string{"cheap-llm"},
		MaxFallbacks:     5,
		Timeout:          120 * time.Second,
	}
	if !reflect.DeepEqual(cfg.Router, wantRouter) {
		t.Errorf("Router =\n%+v\nwant\n%+v", cfg.Router, wantRouter)
	}
	withMaster := defaultServer
	withMaster.Auth, withMaster.MasterKey = true, MasterKey{Literal: "sk-whatever"}
	if want := (Detour{Listen: "127.0.0.1:4000", MaxBodyBytes: 33554432, MaxCooldownWait: DefaultMaxCooldownWait, Cache: defaultCache, Offline: defaultOffline, RequestLog: RequestLog{Enabled: true, Keep: 1000}, Server: withMaster, Metrics: true}); !reflect.DeepEqual(cfg.Detour, want) {
		t.Errorf("Detour = %+v, want %+v", cfg.Detour, want)
	}
	if cfg.Path != "" {
		t.Errorf("Path = %q, want empty for Parse", cfg.Path)
	}
	if got, want := cfg.Groups(), []string{"main-llm", "cheap-llm", "demo"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Groups() = %v, want %v", got, want)
	}
}

func TestParseDefaults(t *testing.T) {
	cfg, warnings := parseOK(t, "model_list:\n  - model_name: a\n    litellm_params: {model: openai/gpt-4o-mini}\n")
	if len(warnings) != 0 {
		t.Errorf("warnings = %v, want none", warnings)
	}
	want := RouterSettings{
		RoutingStrategy: DefaultRoutingStrategy,
		NumRetries:      2,
		AllowedFails:    3,
		CooldownTime:    60 * time.Second,
		MaxFallbacks:    5,
		Timeout:         600 * time.Second,
	}
	if !reflect.DeepEqual(cfg.Router, want) {
		t.Errorf("Router = %+v, want %+v", cfg.Router, want)
	}
	if want := (Detour{Listen: "127.0.0.1:4000", MaxBodyBytes: 32 << 20, MaxCooldownWait: 3 * time.Second, Cache: defaultCache, Offline: defaultOffline, RequestLog: RequestLog{Enabled: true, Keep: 1000}, Server: defaultServer, Metrics: true}); !reflect.DeepEqual(cfg.Detour, want) {
		t.Errorf("Detour = %+v, want %+v", cfg.Detour, want)
	}
	d := cfg.Models[0]
	if want := (KeyRef{Source: KeyDefault, Name: "openai", EnvFallback: "OPENAI_API_KEY"}); d.Key != want {
		t.Errorf("Key = %+v, want %+v", d.Key, want)
	}
	if d.MaxRetries != nil || d.Weight != 0 || d.Timeout != 0 || d.APIBase != "" {
		t.Errorf("unset params not zero: %+v", d)
	}
}

func TestParseAllParams(t *testing.T) {
	src := `model_list:
  - model_name: a
    litellm_params:
      model: openrouter/meta-llama/llama-3-8b
      api_key: keychain/openrouter-2
      api_version: "2024-06-01"
      organization: org-1
      order: 2
      tags: [fast, free]
      timeout: 1.5
      stream_timeout: 0.25
      max_retries: 0
      mock_response: hi
      mock_latency_ms: 5
      mock_status: 429
      mock_fail_rate: 0.5
      input_cost_per_token: 1e-6
      output_cost_per_token: "2e-6"
    model_info:
      id: my-id
      output_cost_per_token: 3e-6
      max_output_tokens: 4096
      mode: chat
      base_model: llama
`
	cfg, warnings := parseOK(t, src)
	if len(warnings) != 0 {
		t.Errorf("warnings = %v, want none", warnings)
	}
	d := cfg.Models[0]
	zero := 0
	want := Deployment{
		ID:            "my-id",
		Group:         "a",
		Model:         "openrouter/meta-llama/llama-3-8b",
		Provider:      "openrouter",
		UpstreamModel: "meta-llama/llama-3-8b",
		Key:           KeyRef{Source: KeyKeychain, Name: "openrouter-2"},
		APIVersion:    "2024-06-01",
		Organization:  "org-1",
		Order:         2,
		Tags:          []string{"fast", "free"},
		Timeout:       1500 * time.Millisecond,
		StreamTimeout: 250 * time.Millisecond,
		MaxRetries:    &zero,
		Mock:          Mock{Response: "hi", Latency: 5 * time.Millisecond, Status: 429, FailRate: 0.5},
		Info: ModelInfo{
			InputCostPerToken:  1e-6,
			OutputCostPerToken: 3e-6, // model_info wins over litellm_params
			MaxOutputTokens:    4096,
			Extra:              map[string]any{"mode": "chat", "base_model": "llama"},
		},
		Line: 2,
	}
	if !reflect.DeepEqual(d, want) {
		t.Errorf("deployment =\n%+v\nwant\n%+v", d, want)
	}
}

func TestParseInvalid(t *testing.T) {
	const head = "model_list:\n  - model_name: a\n    litellm_params:\n      model: openai/gpt-4o\n" // lines 1-4
	param := func(kv string) string { return head + "      " + kv + "\n" }                           // line 5
	router := func(kv string) string { return head + "router_settings:\n  " + kv + "\n" }            // line 6
	tests := []struct {
		name    string
		src     string
		line    int
		key     string
		message string // substring
	}{
		{"weight not a number", param(`weight: abc`), 5, "model_list[0].litellm_params.weight", `must be a whole number ≥ 0, got "abc"`},
		{"weight negative", param(`weight: -1`), 5, "model_list[0].litellm_params.weight", `must be a whole number ≥ 0, got "-1"`},
		{"weight fraction", param(`weight: 1.5`), 5, "model_list[0].litellm_params.weight", "whole number"},
		{"rpm list", param(`rpm: [1]`), 5, "model_list[0].litellm_params.rpm", "got a list"},
		{"tpm negative", param(`tpm: -5`), 5, "model_list[0].litellm_params.tpm", "≥ 0"},
		{"timeout zero", param(`timeout: 0`), 5, "model_list[0].litellm_params.timeout", "seconds > 0"},
		{"timeout negative", param(`timeout: -2.5`), 5, "model_list[0].litellm_params.timeout", "seconds > 0"},
		{"stream_timeout text", param(`stream_timeout: soon`), 5, "model_list[0].litellm_params.stream_timeout", `got "soon"`},
		{"max_retries negative", param(`max_retries: -1`), 5, "model_list[0].litellm_params.max_retries", "≥ 0"},
		{"mock_fail_rate above 1", param(`mock_fail_rate: 1.5`), 5, "model_list[0].litellm_params.mock_fail_rate", "from 0 to 1"},
		{"mock_fail_rate negative", param(`mock_fail_rate: -0.1`), 5, "model_list[0].litellm_params.mock_fail_rate", "from 0 to 1"},
		{"mock_status too small", param(`mock_status: 42`), 5, "model_list[0].litellm_params.mock_status", "HTTP status from 100 to 599"},
		{"mock_status too big", param(`mock_status: 600`), 5, "model_list[0].litellm_params.mock_status", "HTTP status"},
		{"mock_latency_ms negative", param(`mock_latency_ms: -1`), 5, "model_list[0].litellm_params.mock_latency_ms", "milliseconds"},
		{"tags not a list", param(`tags: fast`), 5, "model_list[0].litellm_params.tags", "list of strings"},
		{"api_base not a URL", param(`api_base: example.com`), 5, "model_list[0].litellm_params.api_base", "http:// or https://"},
		{"api_base env missing", param(`api_base: os.environ/DETOUR_TEST_SURELY_UNSET`), 5, "model_list[0].litellm_params.api_base", "DETOUR_TEST_SURELY_UNSET is not set"},
		{"api_key mapping", param(`api_key: {a: b}`), 5, "model_list[0].litellm_params.api_key", "os.environ/VAR or keychain/NAME"},
		{"api_key empty keychain", param(`api_key: keychain/`), 5, "model_list[0].litellm_params.api_key", "keychain entry name"},
		{"api_key empty env", param(`api_key: os.environ/`), 5, "model_list[0].litellm_params.api_key", "environment variable name"},
		{"input cost negative", param(`input_cost_per_token: -1`), 5, "model_list[0].litellm_params.input_cost_per_token", "≥ 0"},
		{"duplicate key", param(`model: openai/gpt-4o-mini`), 5, "model_list[0].litellm_params.model", "duplicate key; first set on line 4"},
		{"unknown provider", "model_list:\n  - model_name: a\n    litellm_params: {model: anthropicx/claude}\n", 3, "model_list[0].litellm_params.model", `unknown provider "anthropicx"; known providers: `},
		{"empty upstream name", "model_list:\n  - model_name: a\n    litellm_params: {model: groq/}\n", 3, "model_list[0].litellm_params.model", "needs a model name"},
		{"wildcard model", "model_list:\n  - model_name: a\n    litellm_params: {model: openai/*}\n", 3, "model_list[0].litellm_params.model", "wildcard"},
		{"missing model", "model_list:\n  - model_name: a\n    litellm_params: {rpm: 1}\n", 3, "model_list[0].litellm_params.model", "required"},
		{"missing model_name", "model_list:\n  - litellm_params: {model: gpt-4o}\n", 2, "model_list[0].model_name", "required"},
		{"missing litellm_params", "model_list:\n  - model_name: a\n  - model_name: b\n", 3, "model_list[1].litellm_params", "required"},
		{"null model_name", "model_list:\n  - model_name:\n    litellm_params: {model: gpt-4o}\n", 2, "model_list[0].model_name", "required"},
		{"entry not a mapping", "model_list:\n  - gpt-4o\n", 2, "model_list[0]", "must be a mapping"},
		{"model_list empty", "model_list: []\n", 1, "model_list", "at least one deployment"},
		{"model_list missing", "router_settings: {num_retries: 1}\n", 1, "model_list", "required"},
		{"model_list mapping", "model_list: {a: b}\n", 1, "model_list", "must be a list"},
		{"litellm_params a list", "model_list:\n  - model_name: a\n    litellm_params: [gpt-4o]\n", 3, "model_list[0].litellm_params", "must be a mapping"},
		{"model_info bad cost", "model_list:\n  - model_name: a\n    litellm_params: {model: gpt-4o}\n    model_info: {input_cost_per_token: cheap}\n", 4, "model_list[0].model_info.input_cost_per_token", "number ≥ 0"},
		{"model_info bad tokens", "model_list:\n  - model_name: a\n    litellm_params: {model: gpt-4o}\n    model_info: {max_input_tokens: -3}\n", 4, "model_list[0].model_info.max_input_tokens", "≥ 0"},
		{"routing_strategy unknown", router(`routing_strategy: fastest`), 6, "router_settings.routing_strategy", "must be one of simple-shuffle, least-busy"},
		{"num_retries negative", router(`num_retries: -1`), 6, "router_settings.num_retries", "≥ 0"},
		{"allowed_fails text", router(`allowed_fails: many`), 6, "router_settings.allowed_fails", `got "many"`},
		{"cooldown negative", router(`cooldown_time: -1`), 6, "router_settings.cooldown_time", "seconds ≥ 0"},
		{"router timeout zero", router(`timeout: 0`), 6, "router_settings.timeout", "seconds > 0"},
		{"max_fallbacks negative", router(`max_fallbacks: -1`), 6, "router_settings.max_fallbacks", "≥ 0"},
		{"request_timeout zero", head + "litellm_settings:\n  request_timeout: 0\n", 6, "litellm_settings.request_timeout", "seconds > 0"},
		{"router_settings a list", head + "router_settings: [a]\n", 5, "router_settings", "must be a mapping"},
		{"fallback unknown target", router(`fallbacks: [{a: [nope]}]`), 6, "router_settings.fallbacks[0].a[0]", `unknown model group "nope"; model_list has: a`},
		{"fallback unknown group", router(`fallbacks: [{nope: [a]}]`), 6, "router_settings.fallbacks[0]", `unknown model group "nope"`},
		{"fallback to itself", router(`fallbacks: [{a: [a]}]`), 6, "router_settings.fallbacks[0].a[0]", "itself"},
		{"fallback star target", router(`fallbacks: [{"*": ["*"]}]`), 6, "router_settings.fallbacks[0].*[0]", `"*" is allowed only`},
		{"fallback two groups", router(`fallbacks: [{a: [b], b: [a]}]`), 6, "router_settings.fallbacks[0]", "exactly one group"},
		{"fallback not a map", router(`fallbacks: [a]`), 6, "router_settings.fallbacks[0]", "must be a mapping"},
		{"fallback not a list", router(`fallbacks: {a: [a]}`), 6, "router_settings.fallbacks", "must be a list"},
		{"fallback targets not a list", router(`fallbacks: [{"*": a}]`), 6, "router_settings.fallbacks[0].*", "list of model groups"},
		{"fallback repeated", head + "router_settings:\n  fallbacks:\n    - {\"*\": [a]}\n    - {\"*\": [a]}\n", 8, "router_settings.fallbacks[1]", "already set on line 7"},
		{"default_fallbacks unknown", router(`default_fallbacks: [a, zzz]`), 6, "router_settings.default_fallbacks[1]", `unknown model group "zzz"`},
		{"litellm fallbacks unknown", head + "litellm_settings: {fallbacks: [{a: [x]}]}\n", 5, "litellm_settings.fallbacks[0].a[0]", "unknown model group"},
		{"context window fallbacks unknown", router(`context_window_fallbacks: [{a: [x]}]`), 6, "router_settings.context_window_fallbacks[0].a[0]", "unknown model group"},
		{"listen without port", head + "detour: {listen: localhost}\n", 5, "detour.listen", "host:port"},
		{"listen bad port", head + "detour: {listen: \"127.0.0.1:99999\"}\n", 5, "detour.listen", "port must be"},
		{"max_body_bytes zero", head + "detour: {max_body_bytes: 0}\n", 5, "detour.max_body_bytes", "bytes ≥ 1"},
		{"max_cooldown_wait negative", head + "detour: {max_cooldown_wait: -1}\n", 5, "detour.max_cooldown_wait", "seconds ≥ 0"},
		{"detour a string", head + "detour: yes\n", 5, "detour", "must be a mapping"},
		{"duplicate explicit id", "model_list:\n  - model_name: a\n    litellm_params: {model: gpt-4o}\n    model_info: {id: x}\n  - model_name: b\n    litellm_params: {model: gpt-4o}\n    model_info: {id: x}\n", 7, "model_list[1].model_info.id", `id "x" is already used by model_list[0] (line 2)`},
		{"top level list", "- a\n- b\n", 1, "", "must be a mapping of sections"},
		{"top level scalar", "hello\n", 1, "", "must be a mapping of sections"},
		{"syntax error", "model_list:\n  - model_name: a\n   bad: [\n", 0, "", "invalid YAML"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			problems := parseErr(t, tt.src)
			for _, p := range problems {
				if p.Key == tt.key && strings.Contains(p.Message, tt.message) && (tt.line == 0 || p.Line == tt.line) {
					return
				}
			}
			t.Errorf("no problem at line %d, key %q, message containing %q; got:\n%s", tt.line, tt.key, tt.message, (&Error{Problems: problems}).Error())
		})
	}
}

func TestParseCollectsAllProblems(t *testing.T) {
	src := `model_list:
  - model_name: a
    litellm_params: {model: gpt-4o, weight: -1, rpm: x}
  - model_name: b
    litellm_params: {model: nope/x}
router_settings:
  num_retries: -1
  fallbacks: [{a: [zz]}]
`
	problems := parseErr(t, src)
	want := []struct {
		line int
		key  string
	}{
		{3, "model_list[0].litellm_params.weight"},
		{3, "model_list[0].litellm_params.rpm"},
		{5, "model_list[1].litellm_params.model"},
		{7, "router_settings.num_retries"},
		{8, "router_settings.fallbacks[0].a[0]"},
	}
	if len(problems) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%s", len(problems), len(want), (&Error{Problems: problems}).Error())
	}
	for i, w := range want {
		if problems[i].Line != w.line || problems[i].Key != w.key {
			t.Errorf("problem %d = %v, want line %d key %s", i, problems[i], w.line, w.key)
		}
	}
}

func TestParseEmpty(t *testing.T) {
	for name, src := range map[string]string{
		"empty":        "",
		"blank":        "\n\n   \n",
		"comment only": "# nothing here\n",
		"null":         "~\n",
	} {
		t.Run(name, func(t *testing.T) {
			problems := parseErr(t, src)
			if len(problems) != 1 || !strings.Contains(problems[0].Message, "empty") {
				t.Errorf("problems = %v, want one saying the config is empty", problems)
			}
		})
	}
}

func TestLiteralKeyRefused(t *testing.T) {
	const secret = "sk-test-not-a-real-key-0000"
	tests := []struct {
		name, src, wantEntry string
	}{
		{"block", "model_list:\n  - model_name: a\n    litellm_params:\n      model: openai/gpt-4o\n      api_key: " + secret + "\n", "openai"},
		{"flow quoted", "model_list:\n  - {model_name: a, litellm_params: {model: groq/llama, api_key: \"" + secret + "\"}}\n", "groq"},
		{"keyless provider", "model_list:\n  - {model_name: a, litellm_params: {model: lm_studio/qwen, api_key: " + secret + "}}\n", "lm_studio"},
		{"env-looking prefix", "model_list:\n  - {model_name: a, litellm_params: {model: gpt-4o, api_key: os_environ/" + secret + "}}\n", "openai"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, warnings, err := Parse([]byte(tt.src))
			if err == nil {
				t.Fatal("Parse accepted a literal api_key")
			}
			text := err.Error()
			for _, w := range warnings {
				text += "\n" + w.String()
			}
			if strings.Contains(text, secret) || strings.Contains(text, "0000") {
				t.Fatalf("error echoes the key:\n%s", text)
			}
			for _, want := range []string{"model_list[0].litellm_params.api_key", "detour keys set " + tt.wantEntry, "api_key: keychain/" + tt.wantEntry, "api_key: os.environ/VAR"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
		})
	}

	// Nor may it leak through Load's error, which names the file.
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(tests[0].src), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Load(path); err == nil || strings.Contains(err.Error(), secret) {
		t.Errorf("Load error = %v, want an error without the key", err)
	}
}

func TestUnknownKeysWarn(t *testing.T) {
	src := `model_list:
  - model_name: a
    litellm_params:
      model: gpt-4o
      temperature: 0.2
    extra_entry_key: 1
    model_info: {mode: chat}
router_settings:
  redis_host: localhost
  enable_pre_call_checks: true
  retry_policy: {RateLimitErrorRetries: 3}
litellm_settings:
  drop_params: true
  num_retries: 4
environment_variables:
  OPENAI_API_KEY: sk-env-secret-value
general_settings:
  master_key: sk-master-secret
  database_url: postgres://x
detour:
  theme: dark
guardrails: []
`
	cfg, warnings := parseOK(t, src)
	want := []struct {
		line int
		key  string
	}{
		{5, "model_list[0].litellm_params.temperature"},
		{6, "model_list[0].extra_entry_key"},
		{9, "router_settings.redis_host"},
		{10, "router_settings.enable_pre_call_checks"},
		{11, "router_settings.retry_policy"},
		{13, "litellm_settings.drop_params"},
		{16, "environment_variables.OPENAI_API_KEY"},
		{18, "general_settings.master_key"}, // not ignored: it turns local auth on, with a warning
		{19, "general_settings.database_url"},
		{21, "detour.theme"},
		{22, "guardrails"},
	}
	if len(warnings) != len(want) {
		t.Fatalf("got %d warnings, want %d:\n%v", len(warnings), len(want), warnings)
	}
	for i, w := range want {
		if warnings[i].Line != w.line || warnings[i].Key != w.key || !strings.HasPrefix(warnings[i].Message, "ignored") && w.key != "general_settings.master_key" {
			t.Errorf("warning %d = %v, want line %d key %s, ignored", i, warnings[i], w.line, w.key)
		}
	}
	for _, w := range warnings {
		if strings.Contains(w.String(), "secret") {
			t.Errorf("warning shows a value: %v", w)
		}
	}
	if cfg.Router.NumRetries != 4 {
		t.Errorf("litellm_settings.num_retries not used: NumRetries = %d", cfg.Router.NumRetries)
	}
}

func TestRoutingStrategy(t *testing.T) {
	for _, s := range []string{"simple-shuffle", "least-busy", "usage-based-routing", "usage-based-routing-v2", "latency-based-routing", "cost-based-routing"} {
		t.Run(s, func(t *testing.T) {
			cfg, warnings := parseOK(t, "model_list: [{model_name: a, litellm_params: {model: gpt-4o}}]\nrouter_settings: {routing_strategy: "+s+", routing_strategy_args: {lowest_latency_buffer: 0.2}}\n")
			if cfg.Router.RoutingStrategy != s || cfg.Router.LowestLatencyBuffer != 0.2 {
				t.Errorf("RoutingStrategy = %q (buffer %v), want %q and 0.2", cfg.Router.RoutingStrategy, cfg.Router.LowestLatencyBuffer, s)
			}
			if len(warnings) != 0 {
				t.Errorf("warnings = %v", warnings)
			}
		})
	}
	_, _, err := Parse([]byte("model_list: [{model_name: a, litellm_params: {model: gpt-4o}}]\nrouter_settings: {routing_strategy: fastest}\n"))
	var cerr *Error
	if !errors.As(err, &cerr) || !strings.Contains(cerr.Problems[0].Message, "least-busy") {
		t.Errorf("err = %v, want the allowed strategies listed", err)
	}
}

func TestDeploymentIDs(t *testing.T) {
	ids := func(t *testing.T, src string) []string {
		t.Helper()
		cfg, _ := parseOK(t, src)
		var out []string
		for _, d := range cfg.Models {
			out = append(out, d.ID)
		}
		return out
	}

	a := ids(t, "model_list:\n  - model_name: g\n    litellm_params: {model: openai/gpt-4o, api_key: keychain/openai, rpm: 5, tags: [x, y]}\n")
	reordered := ids(t, "model_list:\n  - litellm_params:\n      tags: [x, y]\n      rpm: 5\n      api_key: keychain/openai\n      model: openai/gpt-4o\n    model_name: g\n")
	otherKey := ids(t, "model_list:\n  - model_name: g\n    litellm_params: {model: openai/gpt-4o, api_key: keychain/openai-2, rpm: 5, tags: [x, y]}\n")
	envKey := ids(t, "model_list:\n  - model_name: g\n    litellm_params: {model: openai/gpt-4o, api_key: os.environ/openai, rpm: 5, tags: [x, y]}\n")
	otherGroup := ids(t, "model_list:\n  - model_name: h\n    litellm_params: {model: openai/gpt-4o, api_key: keychain/openai, rpm: 5, tags: [x, y]}\n")
	infoChanged := ids(t, "model_list:\n  - model_name: g\n    litellm_params: {model: openai/gpt-4o, api_key: keychain/openai, rpm: 5, tags: [x, y]}\n    model_info: {max_input_tokens: 5}\n")

	if !regexp.MustCompile(`^openai-[0-9a-f]{10}$`).MatchString(a[0]) {
		t.Errorf("ID %q, want openai-<10 hex>", a[0])
	}
	if a[0] != reordered[0] {
		t.Errorf("ID changed with key order: %s vs %s", a[0], reordered[0])
	}
	if a[0] != infoChanged[0] {
		t.Errorf("ID changed with model_info: %s vs %s", a[0], infoChanged[0])
	}
	for name, other := range map[string]string{"keychain/openai-2": otherKey[0], "os.environ/openai": envKey[0], "group h": otherGroup[0]} {
		if other == a[0] {
			t.Errorf("ID with %s equals %s", name, a[0])
		}
	}
	// Stable across runs: a fixed value for a fixed entry.
	if again := ids(t, "model_list:\n  - model_name: g\n    litellm_params: {model: openai/gpt-4o, api_key: keychain/openai, rpm: 5, tags: [x, y]}\n"); again[0] != a[0] {
		t.Errorf("ID not stable: %s vs %s", again[0], a[0])
	}

	dups := ids(t, `model_list:
  - {model_name: g, litellm_params: {model: mock/m}}
  - {model_name: g, litellm_params: {model: mock/m}}
  - {model_name: g, litellm_params: {model: mock/m, mock_response: x}}
  - {model_name: g, litellm_params: {model: mock/m}}
  - {model_name: g, litellm_params: {model: mock/m}, model_info: {id: custom}}
`)
	if dups[1] != dups[0]+"-2" || dups[3] != dups[0]+"-3" || dups[2] == dups[0] || dups[4] != "custom" {
		t.Errorf("IDs = %v, want base, base-2, other, base-3, custom", dups)
	}
}

func TestFallbacksMerge(t *testing.T) {
	src := `model_list:
  - {model_name: a, litellm_params: {model: mock/a}}
  - {model_name: b, litellm_params: {model: mock/b}}
  - {model_name: c, litellm_params: {model: mock/c}}
router_settings:
  fallbacks:
    - a: [b]
    - b: [c]
  context_window_fallbacks: [{a: [c]}]
litellm_settings:
  fallbacks:
    - b: [a]
    - "*": [c]
    - c: [a, b]
  content_policy_fallbacks: [{a: [b]}]
  context_window_fallbacks: [{b: [c]}]
  default_fallbacks: [c]
  request_timeout: 30
`
	cfg, warnings := parseOK(t, src)
	wantFallbacks := []Fallback{
		{Group: "a", To: []string{"b"}, Line: 7},
		{Group: "b", To: []string{"c"}, Line: 8},
		{Group: "*", To: []string{"c"}, Line: 13},
		{Group: "c", To: []string{"a", "b"}, Line: 14},
	}
	if !reflect.DeepEqual(cfg.Router.Fallbacks, wantFallbacks) {
		t.Errorf("Fallbacks = %+v, want %+v", cfg.Router.Fallbacks, wantFallbacks)
	}
	if want := []Fallback{{Group: "a", To: []string{"c"}, Line: 9}, {Group: "b", To: []string{"c"}, Line: 16}}; !reflect.DeepEqual(cfg.Router.ContextWindowFallbacks, want) {
		t.Errorf("ContextWindowFallbacks = %+v, want %+v", cfg.Router.ContextWindowFallbacks, want)
	}
	if want := []Fallback{{Group: "a", To: []string{"b"}, Line: 15}}; !reflect.DeepEqual(cfg.Router.ContentPolicyFallbacks, want) {
		t.Errorf("ContentPolicyFallbacks = %+v, want %+v", cfg.Router.ContentPolicyFallbacks, want)
	}
	if !reflect.DeepEqual(cfg.Router.DefaultFallbacks, []string{"c"}) {
		t.Errorf("DefaultFallbacks = %v, want [c]", cfg.Router.DefaultFallbacks)
	}
	if cfg.Router.Timeout != 30*time.Second {
		t.Errorf("Timeout = %v, want litellm_settings.request_timeout 30s", cfg.Router.Timeout)
	}
	if len(warnings) != 1 || warnings[0].Line != 12 || !strings.Contains(warnings[0].Message, `fallbacks for "b" are also set in router_settings (line 8)`) {
		t.Errorf("warnings = %v, want one about b overridden", warnings)
	}

	// router_settings.timeout and default_fallbacks win over litellm_settings.
	cfg, _ = parseOK(t, src+"  num_retries: 7\n")
	if cfg.Router.NumRetries != 7 {
		t.Errorf("NumRetries = %d, want 7 from litellm_settings", cfg.Router.NumRetries)
	}
	src2 := strings.Replace(src, "router_settings:\n", "router_settings:\n  timeout: 5\n  default_fallbacks: [a]\n  num_retries: 1\n", 1) + "  num_retries: 7\n"
	cfg, _ = parseOK(t, src2)
	if cfg.Router.Timeout != 5*time.Second || !reflect.DeepEqual(cfg.Router.DefaultFallbacks, []string{"a"}) || cfg.Router.NumRetries != 1 {
		t.Errorf("router_settings did not win: %+v", cfg.Router)
	}
}

func TestKeyRefs(t *testing.T) {
	src := `model_list:
  - {model_name: a, litellm_params: {model: groq/llama}}
  - {model_name: b, litellm_params: {model: mock/x}}
  - {model_name: c, litellm_params: {model: lm_studio/qwen}}
  - {model_name: d, litellm_params: {model: hosted_vllm/m, api_key: os.environ/VLLM_KEY}}
  - {model_name: e, litellm_params: {model: gpt-4o, api_key: keychain/work}}
  - {model_name: f, litellm_params: {model: gpt-4o, api_key: null}}
`
	cfg, _ := parseOK(t, src)
	want := []struct {
		ref KeyRef
		str string
	}{
		{KeyRef{Source: KeyDefault, Name: "groq", EnvFallback: "GROQ_API_KEY"}, "keychain/groq, then $GROQ_API_KEY"},
		{KeyRef{Source: KeyNone}, "none"},
		{KeyRef{Source: KeyNone}, "none"},
		{KeyRef{Source: KeyEnv, Name: "VLLM_KEY"}, "os.environ/VLLM_KEY"},
		{KeyRef{Source: KeyKeychain, Name: "work"}, "keychain/work"},
		{KeyRef{Source: KeyDefault, Name: "openai", EnvFallback: "OPENAI_API_KEY"}, "keychain/openai, then $OPENAI_API_KEY"},
	}
	for i, w := range want {
		if got := cfg.Models[i].Key; got != w.ref || got.String() != w.str {
			t.Errorf("model_list[%d].Key = %+v (%q), want %+v (%q)", i, got, got.String(), w.ref, w.str)
		}
	}
}

func TestEnvValues(t *testing.T) {
	t.Setenv("DETOUR_TEST_BASE", "http://10.0.0.5:8000/v1")
	t.Setenv("DETOUR_TEST_VERSION", "2024-10-21")
	cfg, _ := parseOK(t, "model_list:\n  - model_name: a\n    litellm_params: {model: hosted_vllm/m, api_base: os.environ/DETOUR_TEST_BASE, api_version: os.environ/DETOUR_TEST_VERSION}\n")
	if d := cfg.Models[0]; d.APIBase != "http://10.0.0.5:8000/v1" || d.APIVersion != "2024-10-21" {
		t.Errorf("APIBase, APIVersion = %q, %q", d.APIBase, d.APIVersion)
	}

	t.Setenv("DETOUR_TEST_BASE", "not a url")
	problems := parseErr(t, "model_list:\n  - model_name: a\n    litellm_params: {model: hosted_vllm/m, api_base: os.environ/DETOUR_TEST_BASE}\n")
	if len(problems) != 1 || !strings.Contains(problems[0].Message, "DETOUR_TEST_BASE must hold") || strings.Contains(problems[0].Message, "not a url") {
		t.Errorf("problems = %v", problems)
	}
}

func TestAnchorsAndMergeKeys(t *testing.T) {
	src := `defaults: &defaults
  rpm: 10
  timeout: 30
model_list:
  - model_name: a
    litellm_params:
      <<: *defaults
      model: gpt-4o
      rpm: 20
  - model_name: b
    litellm_params: &b
      <<: [*defaults]
      model: groq/llama
  - model_name: c
    litellm_params: *b
`
	cfg, warnings := parseOK(t, src)
	if len(warnings) != 1 || warnings[0].Key != "defaults" || warnings[0].Line != 1 {
		t.Errorf("warnings = %v, want one for the top-level defaults key", warnings)
	}
	got := [][2]any{}
	for _, d := range cfg.Models {
		got = append(got, [2]any{d.RPM, d.Timeout})
	}
	want := [][2]any{{20, 30 * time.Second}, {10, 30 * time.Second}, {10, 30 * time.Second}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rpm/timeout = %v, want %v", got, want)
	}
	if cfg.Models[2].Provider != "groq" {
		t.Errorf("alias entry provider = %q", cfg.Models[2].Provider)
	}
}

func TestSelfReferencingAnchor(t *testing.T) {
	// Anchors containing their own alias must not hang the loader.
	tests := []struct {
		name, src, key string
		line           int
	}{
		{"list", "model_list:\n  - model_name: a\n    litellm_params:\n      model: gpt-4o\n      extra: &x [1, *x]\n", "model_list[0].litellm_params.extra", 5},
		{"merge", "model_list:\n  - model_name: a\n    litellm_params: &p\n      model: gpt-4o\n      <<: *p\n", "model_list[0].litellm_params", 5},
		{"merge bomb", "model_list:\n  - model_name: a\n    litellm_params: &p\n      model: gpt-4o\n      <<: [*p, *p, *p]\n", "model_list[0].litellm_params", 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			problems := parseErr(t, tt.src)
			if len(problems) == 0 || problems[0].Key != tt.key || problems[0].Line != tt.line {
				t.Errorf("problems = %v, want one at line %d, key %s", problems, tt.line, tt.key)
			}
		})
	}
}

func TestDefaultYAML(t *testing.T) {
	cfg, warnings, err := Parse([]byte(DefaultYAML))
	if err != nil {
		t.Fatalf("DefaultYAML: %v", err)
	}
	if len(warnings) != 0 {
		t.Errorf("DefaultYAML warnings: %v", warnings)
	}
	if got, want := cfg.Groups(), []string{"gpt-4o", "gpt-4o-mini", "demo"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Groups() = %v, want %v", got, want)
	}
	if m := cfg.Models[0]; m.Model != "openai/gpt-4o" || m.Key.Source != KeyDefault {
		t.Errorf("gpt-4o deployment = %+v", m)
	}
	if m := cfg.Models[2]; m.Provider != "mock" || m.Mock.Response == "" {
		t.Errorf("demo deployment = %+v", m)
	}
	if want := []Fallback{{Group: "gpt-4o", To: []string{"gpt-4o-mini"}, Line: cfg.Router.Fallbacks[0].Line}}; !reflect.DeepEqual(cfg.Router.Fallbacks, want) {
		t.Errorf("Fallbacks = %+v, want %+v", cfg.Router.Fallbacks, want)
	}
	if cfg.Router.NumRetries != DefaultNumRetries || cfg.Router.AllowedFails != DefaultAllowedFails ||
		cfg.Router.CooldownTime != DefaultCooldownTime || cfg.Router.Timeout != DefaultTimeout ||
		cfg.Router.MaxFallbacks != DefaultMaxFallbacks || cfg.Router.RoutingStrategy != DefaultRoutingStrategy {
		t.Errorf("DefaultYAML router settings differ from the defaults: %+v", cfg.Router)
	}
	if want := (Detour{Listen: DefaultListen, MaxBodyBytes: DefaultMaxBodyBytes, MaxCooldownWait: DefaultMaxCooldownWait, Cache: defaultCache, Offline: defaultOffline, RequestLog: RequestLog{Enabled: true, Keep: 1000}, Server: defaultServer, Metrics: true}); !reflect.DeepEqual(cfg.Detour, want) {
		t.Errorf("Detour = %+v", cfg.Detour)
	}
}

func TestWriteDefault(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nested", "detour")
	path := filepath.Join(dir, "config.yaml")

	wrote, err := WriteDefault(path)
	if err != nil || !wrote {
		t.Fatalf("first WriteDefault = %v, %v; want true, nil", wrote, err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("file mode = %v, want 0600", info.Mode().Perm())
	}
	if dinfo, err := os.Stat(dir); err != nil || dinfo.Mode().Perm() != 0o700 {
		t.Errorf("dir mode = %v (%v), want 0700", dinfo.Mode().Perm(), err)
	}
	data, err := os.ReadFile(path)
	if err != nil || string(data) != DefaultYAML {
		t.Errorf("file content differs from DefaultYAML (%v)", err)
	}

	if err := os.WriteFile(path, []byte("model_list: []\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	wrote, err = WriteDefault(path)
	if err != nil || wrote {
		t.Fatalf("second WriteDefault = %v, %v; want false, nil", wrote, err)
	}
	if data, _ := os.ReadFile(path); string(data) != "model_list: []\n" {
		t.Errorf("WriteDefault overwrote an existing file")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("leftover files in %s: %v", dir, entries)
	}

	cfg, warnings, err := Load(filepath.Join(dir, "fresh.yaml"))
	if err == nil || !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "fresh.yaml") {
		t.Errorf("Load of a missing file = %v, %v, %v; want an fs.ErrNotExist naming the file", cfg, warnings, err)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	if err := os.WriteFile(good, []byte(exampleYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, warnings, err := Load(good)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if cfg.Path != good || len(warnings) != 1 {
		t.Errorf("Path = %q, warnings = %v", cfg.Path, warnings)
	}

	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("model_list:\n  - model_name: a\n    litellm_params: {model: gpt-4o, weight: abc}\n    junk: 1\nrouter_settings: {num_retries: -1}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, warnings, err = Load(bad)
	if cfg != nil {
		t.Errorf("Load returned a config for an invalid file")
	}
	if len(warnings) != 1 || warnings[0].Key != "model_list[0].junk" {
		t.Errorf("warnings = %v, want junk", warnings)
	}
	var perr *Error
	if !errors.As(err, &perr) || perr.Path != bad {
		t.Fatalf("err = %#v, want *Error with Path", err)
	}
	want := bad + `:3: model_list[0].litellm_params.weight: must be a whole number ≥ 0, got "abc"` + "\n" +
		bad + `:5: router_settings.num_retries: must be a whole number ≥ 0, got "-1"`
	if err.Error() != want {
		t.Errorf("Error() =\n%s\nwant\n%s", err, want)
	}
}

func TestDefaultPath(t *testing.T) {
	t.Setenv("DETOUR_CONFIG", "/tmp/somewhere/detour.yaml")
	if p, err := DefaultPath(); err != nil || p != "/tmp/somewhere/detour.yaml" {
		t.Errorf("DefaultPath() = %q, %v; want $DETOUR_CONFIG", p, err)
	}

	t.Setenv("DETOUR_CONFIG", "")
	home := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", home)
	t.Setenv("HOME", home)
	t.Setenv("AppData", home)
	dir, err := os.UserConfigDir()
	if err != nil {
		t.Skipf("no user config dir: %v", err)
	}
	if p, err := DefaultPath(); err != nil || p != filepath.Join(dir, "detour", "config.yaml") {
		t.Errorf("DefaultPath() = %q, %v; want %s", p, err, filepath.Join(dir, "detour", "config.yaml"))
	}
}

func TestProblemString(t *testing.T) {
	tests := []struct {
		p    Problem
		want string
	}{
		{Problem{Line: 12, Key: "model_list[1].litellm_params.weight", Message: `must be a whole number ≥ 0, got "abc"`}, `line 12: model_list[1].litellm_params.weight: must be a whole number ≥ 0, got "abc"`},
		{Problem{Message: "the config is empty"}, "the config is empty"},
		{Problem{Line: 3, Message: "invalid YAML: x"}, "line 3: invalid YAML: x"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.p.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
		})
	}
	e := &Error{Problems: []Problem{tests[0].p, tests[1].p}}
	if want := tests[0].want + "\n" + tests[1].want; e.Error() != want {
		t.Errorf("Error() = %q, want %q", e.Error(), want)
	}
}

func TestMultipleDocuments(t *testing.T) {
	_, warnings := parseOK(t, "model_list: [{model_name: a, litellm_params: {model: gpt-4o}}]\n---\nmodel_list: []\n")
	if len(warnings) != 1 || warnings[0].Line != 2 || !strings.Contains(warnings[0].Message, "first YAML document") {
		t.Errorf("warnings = %v", warnings)
	}
}

func TestNumCtx(t *testing.T) {
	cfg, _, err := Parse([]byte("model_list:\n  - model_name: local\n    litellm_params: {model: ollama/llama3.2, num_ctx: 8192}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Models[0].NumCtx != 8192 || cfg.Models[0].Key.Source != KeyNone {
		t.Errorf("NumCtx %d key %v", cfg.Models[0].NumCtx, cfg.Models[0].Key)
	}
	_, _, err = Parse([]byte("model_list:\n  - model_name: local\n    litellm_params: {model: ollama/llama3.2, num_ctx: -5}\n"))
	var cerr *Error
	if !errors.As(err, &cerr) || !strings.Contains(cerr.Problems[0].Key, "num_ctx") || cerr.Problems[0].Line != 3 {
		t.Errorf("err = %v, want a num_ctx problem on line 3", err)
	}
}

var defaultServer = Server{BodyTimeout: DefaultBodyTimeout, WriteTimeout: DefaultWriteTimeout, IdleTimeout: DefaultIdleTimeout,
	MaxHeaderBytes: DefaultMaxHeaderBytes, MaxInflightBytes: DefaultMaxInflightBytes, MaxRequests: DefaultMaxRequests, MaxStreams: DefaultMaxStreams}

var defaultCache = Cache{Enabled: true, TTL: DefaultCacheTTL, StaleTTL: DefaultCacheStaleTTL, MaxBytes: DefaultCacheMaxBytes, Mode: CacheDeterministic}

func TestCacheSection(t *testing.T) {
	const models = "model_list:\n  - model_name: demo\n    litellm_params: {model: mock/demo}\n"
	cfg, _, err := Parse([]byte(models + "detour:\n  cache: {enabled: false, path: /tmp/c.db, ttl: 60, stale_ttl: 0, max_bytes: 2097152, mode: all}\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := Cache{Enabled: false, Path: "/tmp/c.db", TTL: time.Minute, StaleTTL: 0, MaxBytes: 2 << 20, Mode: CacheAll}
	if cfg.Detour.Cache != want {
		t.Errorf("Cache = %+v, want %+v", cfg.Detour.Cache, want)
	}
	tests := []struct{ yaml, key string }{
		{"detour:\n  cache: {enabled: maybe}\n", "detour.cache.enabled"},
		{"detour:\n  cache: {ttl: 0}\n", "detour.cache.ttl"},
		{"detour:\n  cache: {max_bytes: 10}\n", "detour.cache.max_bytes"},
		{"detour:\n  cache: {stale_ttl: -1}\n", "detour.cache.stale_ttl"},
		{"detour:\n  cache: {mode: sometimes}\n", "detour.cache.mode"},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			_, _, err := Parse([]byte(models + tt.yaml))
			var cerr *Error
			if !errors.As(err, &cerr) || cerr.Problems[0].Key != tt.key || cerr.Problems[0].Line != 5 {
				t.Errorf("err = %v, want a problem with %s on line 5", err, tt.key)
			}
		})
	}
}

// TestCacheMode: detour.cache.mode takes deterministic (the default), all
// or off; anything else is a problem naming the key, its line and the
// values allowed.
func TestCacheMode(t *testing.T) {
	const models = "model_list:\n  - model_name: demo\n    litellm_params: {model: mock/demo}\n"
	tests := []struct {
		name    string
		yaml    string
		want    CacheMode
		wantErr string // in the problem's message; "" for none
	}{
		{"unset", "detour:\n  cache: {ttl: 60}\n", CacheDeterministic, ""},
		{"null", "detour:\n  cache:\n    mode:\n", CacheDeterministic, ""},
		{"deterministic", "detour:\n  cache: {mode: deterministic}\n", CacheDeterministic, ""},
		{"all", "detour:\n  cache: {mode: all}\n", CacheAll, ""},
		{"off", "detour:\n  cache:\n    mode: off\n", CacheOff, ""},
		{"quoted off", "detour:\n  cache: {mode: \"off\"}\n", CacheOff, ""},
		{"unknown", "detour:\n  cache:\n    mode: sometimes\n", "", `must be one of deterministic, all, off; got "sometimes"`},
		{"wrong case", "detour:\n  cache:\n    mode: All\n", "", `must be one of deterministic, all, off; got "All"`},
		{"boolean", "detour:\n  cache:\n    mode: false\n", "", `must be one of deterministic, all, off; got "false"`},
		{"a list", "detour:\n  cache:\n    mode: [all]\n", "", "must be a string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, _, err := Parse([]byte(models + tt.yaml))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if cfg.Detour.Cache.Mode != tt.want {
					t.Errorf("Mode = %q, want %q", cfg.Detour.Cache.Mode, tt.want)
				}
				return
			}
			var cerr *Error
			if !errors.As(err, &cerr) {
				t.Fatalf("err = %v, want a config error", err)
			}
			p := cerr.Problems[0]
			if p.Key != "detour.cache.mode" || p.Line != 4+strings.Count(tt.yaml, "\n")-1 || !strings.Contains(p.Message, tt.wantErr) {
				t.Errorf("problem = %+v, want %q on detour.cache.mode, line %d", p, tt.wantErr, 4+strings.Count(tt.yaml, "\n")-1)
			}
		})
	}
}

var defaultOffline = Offline{Enabled: true, ProbeInterval: DefaultProbeInterval}

func TestOfflineSection(t *testing.T) {
	const models = "model_list:\n  - model_name: demo\n    litellm_params: {model: mock/demo}\n"
	t.Setenv("MY_OLLAMA", "10.0.0.5:11434")
	cfg, _, err := Parse([]byte(models + "detour:\n  offline: {enabled: true, ollama_host: os.environ/MY_OLLAMA, model: llama3.2, map: {demo: qwen3:8b}, probe_interval: 2}\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := Offline{Enabled: true, OllamaHost: "10.0.0.5:11434", Model: "llama3.2", Map: map[string]string{"demo": "qwen3:8b"}, ProbeInterval: 2 * time.Second}
	if !cfg.Detour.Offline.Equal(want) {
		t.Errorf("Offline = %+v, want %+v", cfg.Detour.Offline, want)
	}
	for _, tt := range []struct{ yaml, key string }{
		{"detour:\n  offline: {map: {nope: llama3.2}}\n", "detour.offline.map.nope"},
		{"detour:\n  offline: {probe_interval: 0}\n", "detour.offline.probe_interval"},
		{"detour:\n  offline: {enabled: 3}\n", "detour.offline.enabled"},
	} {
		t.Run(tt.key, func(t *testing.T) {
			_, _, err := Parse([]byte(models + tt.yaml))
			var cerr *Error
			if !errors.As(err, &cerr) || cerr.Problems[0].Key != tt.key || cerr.Problems[0].Line != 5 {
				t.Errorf("err = %v, want a problem with %s on line 5", err, tt.key)
			}
		})
	}
}

func TestMaxCooldownWait(t *testing.T) {
	for _, tt := range []struct {
		yaml string
		want time.Duration
	}{
		{"", DefaultMaxCooldownWait},
		{"detour: {max_cooldown_wait: 0.5}\n", 500 * time.Millisecond},
		{"detour: {max_cooldown_wait: 0}\n", 0},
	} {
		cfg, _, err := Parse([]byte("model_list:\n  - model_name: m\n    litellm_params: {model: mock/m}\n" + tt.yaml))
		if err != nil || cfg.Detour.MaxCooldownWait != tt.want {
			t.Errorf("%q: MaxCooldownWait = %v (%v), want %v", tt.yaml, cfg.Detour.MaxCooldownWait, err, tt.want)
		}
	}
}
