package config

import (
	"strings"
	"testing"
)

// litellmProxyConfig is shaped after LiteLLM's documented proxy config
// (docs: proxy/configs): Azure and OpenAI deployments with os.environ keys,
// model_info, litellm_settings with fallbacks and callbacks, router_settings
// with Redis, general_settings with a master key and a database.
const litellmProxyConfig = `model_list:
  - model_name: gpt-4o
    litellm_params:
      model: azure/gpt-4o-eu
      api_base: https://my-endpoint-europe.openai.azure.com/
      api_key: os.environ/AZURE_API_KEY_EU
      api_version: "2024-10-21"
      rpm: 6
    model_info:
      base_model: azure/gpt-4o
      mode: chat
  - model_name: gpt-4o
    litellm_params:
      model: openai/gpt-4o
      api_key: os.environ/OPENAI_API_KEY
      rpm: 1440
  - model_name: claude
    litellm_params:
      model: anthropic/claude-sonnet-4-5
      api_key: "os.environ/ANTHROPIC_API_KEY"
  - model_name: local
    litellm_params:
      model: ollama_chat/llama3.2
      api_base: http://127.0.0.1:11434
  - model_name: embeddings
    litellm_params:
      model: text-embedding-3-small
    model_info:
      mode: embedding

litellm_settings:
  drop_params: true
  success_callback: ["langfuse"]
  num_retries: 3
  request_timeout: 600
  fallbacks: [{"gpt-4o": ["claude"]}]
  context_window_fallbacks: [{"gpt-4o": ["claude"]}]
  allowed_fails: 3

router_settings:
  routing_strategy: usage-based-routing-v2
  redis_host: os.environ/REDIS_HOST
  redis_password: os.environ/REDIS_PASSWORD
  redis_port: 6379
  enable_pre_call_checks: true
  cooldown_time: 30

general_settings:
  master_key: sk-1234
  database_url: "postgresql://user:pass@localhost:5432/litellm"

environment_variables:
  LANGFUSE_PUBLIC_KEY: "pk-lf-not-real"
`

func TestLiteLLMProxyConfigLoads(t *testing.T) {
	t.Setenv("AZURE_API_KEY_EU", "")
	cfg, warnings, err := Parse([]byte(litellmProxyConfig))
	if err != nil {
		t.Fatalf("LiteLLM's documented config does not load: %v", err)
	}
	if got := strings.Join(cfg.Groups(), ","); got != "gpt-4o,claude,local,embeddings" {
		t.Errorf("groups = %s", got)
	}
	r := cfg.Router
	if r.NumRetries != 3 || r.AllowedFails != 3 || r.CooldownTime.Seconds() != 30 || r.Timeout.Seconds() != 600 ||
		len(r.Fallbacks) != 1 || r.Fallbacks[0].To[0] != "claude" || len(r.ContextWindowFallbacks) != 1 {
		t.Errorf("router settings = %+v", r)
	}
	if d := cfg.Models[0]; d.Provider != "azure" || d.APIVersion != "2024-10-21" || d.Key.Source != KeyEnv || d.Key.Name != "AZURE_API_KEY_EU" {
		t.Errorf("azure deployment = %+v", d)
	}
	// Every key Detour does not implement is listed, with its line, and
	// no value is repeated (master_key and the database URL are secrets).
	want := map[string]int{
		"litellm_settings.drop_params":              32,
		"litellm_settings.success_callback":         33,
		"router_settings.redis_host":                42,
		"router_settings.redis_password":            43,
		"router_settings.redis_port":                44,
		"router_settings.enable_pre_call_checks":    45,
		"general_settings.master_key":               49,
		"general_settings.database_url":             50,
		"environment_variables.LANGFUSE_PUBLIC_KEY": 53,
	}
	got := map[string]int{}
	for _, w := range warnings {
		got[w.Key] = w.Line
		for _, secret := range []string{"sk-1234", "user:pass", "pk-lf-not-real"} {
			if strings.Contains(w.Message, secret) {
				t.Errorf("warning repeats a value: %s", w)
			}
		}
	}
	for key, line := range want {
		if got[key] != line {
			t.Errorf("warning for %s at line %d, want line %d (warnings: %v)", key, got[key], line, warnings)
		}
	}
}
