package config

import (
	"strings"
	"testing"
)

// TestMetricsSetting: /metrics is on by default; LiteLLM's prometheus
// callback, in any of its three lists, says on without a warning; its
// other callbacks are ignored with one; detour.metrics: false wins.
func TestMetricsSetting(t *testing.T) {
	const head = "model_list:\n  - model_name: a\n    litellm_params: {model: openai/gpt-4o-mini}\n"
	for _, tc := range []struct {
		name, yaml string
		want       bool
		warn       string // the key of the one warning expected; "" for none
	}{
		{"default", head, true, ""},
		{"callbacks", head + "litellm_settings:\n  callbacks: [\"prometheus\"]\n", true, ""},
		{"success_callback", head + "litellm_settings:\n  success_callback: [prometheus]\n  failure_callback: [prometheus]\n", true, ""},
		{"a single name", head + "litellm_settings:\n  callbacks: prometheus\n", true, ""},
		{"other callbacks", head + "litellm_settings:\n  callbacks: [prometheus, langfuse]\n", true, "litellm_settings.callbacks"},
		{"off", head + "detour:\n  metrics: false\n", false, ""},
		{"off beats the callback", head + "litellm_settings:\n  callbacks: [prometheus]\ndetour:\n  metrics: false\n", false, "litellm_settings.callbacks"},
		{"on", head + "detour:\n  metrics: true\n", true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, warnings := parseOK(t, tc.yaml)
			if cfg.Detour.Metrics != tc.want {
				t.Errorf("Metrics = %v, want %v", cfg.Detour.Metrics, tc.want)
			}
			var keys []string
			for _, w := range warnings {
				keys = append(keys, w.Key)
			}
			if got := strings.Join(keys, ","); got != tc.warn {
				t.Errorf("warnings on %q, want on %q: %v", got, tc.warn, warnings)
			}
		})
	}
	if _, _, err := Parse([]byte(head + "detour:\n  metrics: yes please\n")); err == nil || !strings.Contains(err.Error(), "detour.metrics") {
		t.Errorf("detour.metrics: yes please: err = %v, want one naming detour.metrics", err)
	}
}
