package config

import (
	"strings"
	"testing"
	"time"
)

func TestEditDetour(t *testing.T) {
	e := Edit{
		Listen:  "127.0.0.1:4100",
		Offline: Offline{Enabled: false, OllamaHost: "127.0.0.1:11500", Model: "qwen3"},
		Cache:   Cache{Enabled: true, TTL: 2 * time.Hour, MaxBytes: 64 << 20},
		Budgets: []Budget{
			{Scope: "global", DailyUSD: 5, MonthlyUSD: 50.5, OnExceed: "block"},
			{Scope: "group", Name: "gpt-4o", DailyUSD: 2, OnExceed: "downgrade"},
			{Scope: "provider", Name: "openai", MonthlyUSD: 30, OnExceed: "block"},
		},
	}
	tests := []struct {
		name string
		in   string
	}{
		{"default config", DefaultYAML},
		{"no detour section", "model_list:\n  - model_name: demo\n    litellm_params: {model: mock/demo}\n"},
		{"null sections", "model_list:\n  - model_name: demo\n    litellm_params: {model: mock/demo}\ndetour:\n  offline:\n  cache: ~\n"},
		{"existing budgets replaced", "model_list:\n  - model_name: gpt-4o\n    litellm_params: {model: mock/x}\ndetour:\n  budgets:\n    daily_usd: 1\n    groups: {gpt-4o: {daily_usd: 9}}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in
			if !strings.Contains(in, "gpt-4o") {
				in = strings.Replace(in, "model_name: demo", "model_name: gpt-4o", 1)
			}
			out, err := EditDetour([]byte(in), e)
			if err != nil {
				t.Fatal(err)
			}
			cfg, _, err := Parse(out)
			if err != nil {
				t.Fatalf("the edited config does not parse: %v\n%s", err, out)
			}
			d := cfg.Detour
			if d.Listen != e.Listen || d.Offline.Enabled || d.Offline.OllamaHost != "127.0.0.1:11500" || d.Offline.Model != "qwen3" {
				t.Errorf("listen/offline = %q %+v", d.Listen, d.Offline)
			}
			if !d.Cache.Enabled || d.Cache.TTL != 2*time.Hour || d.Cache.MaxBytes != 64<<20 {
				t.Errorf("cache = %+v", d.Cache)
			}
			got := map[string]Budget{}
			for _, b := range d.Budgets {
				b.Line = 0
				got[b.Scope+"/"+b.Name] = b
			}
			for _, want := range e.Budgets {
				if g := got[want.Scope+"/"+want.Name]; g != want {
					t.Errorf("budget %s/%s = %+v, want %+v", want.Scope, want.Name, g, want)
				}
			}
			if len(got) != len(e.Budgets) {
				t.Errorf("budgets = %+v, want exactly %d", d.Budgets, len(e.Budgets))
			}
			if len(cfg.Models) == 0 {
				t.Errorf("model_list lost")
			}
		})
	}
}

func TestEditDetourKeepsTheRest(t *testing.T) {
	out, err := EditDetour([]byte(DefaultYAML), Edit{Listen: "127.0.0.1:4000", Offline: Offline{Enabled: true},
		Cache: Cache{Enabled: true, TTL: 86400 * time.Second, MaxBytes: 536870912}})
	if err != nil {
		t.Fatal(err)
	}
	for _, keep := range []string{
		"# Detour config. This is LiteLLM's proxy config format",
		"# Literal keys are refused: keys never live in this file.",
		"mock_response: \"Hello from Detour!",
		"routing_strategy: simple-shuffle # or least-busy",
		"stale_ttl: 604800",
		"# size cap in bytes (512 MiB)",
		"keep: 1000",
	} {
		if !strings.Contains(string(out), keep) {
			t.Errorf("the edit lost %q:\n%s", keep, out)
		}
	}
	if strings.Contains(string(out), "budgets:\n") && !strings.Contains(string(out), "# budgets:") {
		t.Errorf("no budgets were asked for, but a budgets key was written")
	}
	before, _, _ := Parse([]byte(DefaultYAML))
	after, _, err := Parse(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(before.Models) != len(after.Models) || before.Models[0].ID != after.Models[0].ID {
		t.Errorf("deployments changed by a settings edit")
	}
}

func TestEditDetourRefuses(t *testing.T) {
	for name, in := range map[string]string{
		"not a mapping":       "- a\n- b\n",
		"detour is a list":    "detour: [1, 2]\n",
		"offline is a string": "detour:\n  offline: yes please\n",
		"not yaml":            "detour: {listen: [\n",
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := EditDetour([]byte(in), Edit{}); err == nil {
				t.Errorf("EditDetour(%q) succeeded", in)
			}
		})
	}
}
