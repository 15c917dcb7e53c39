package config

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestEditDetour(t *testing.T) {
	budgets := []Budget{
		{Scope: "global", DailyUSD: 5, MonthlyUSD: 50.5, OnExceed: "block"},
		{Scope: "group", Name: "gpt-4o", DailyUSD: 2, OnExceed: "downgrade"},
		{Scope: "provider", Name: "openai", MonthlyUSD: 30, OnExceed: "block"},
	}
	e := Edit{
		Listen:         ptr("127.0.0.1:4100"),
		OfflineEnabled: ptr(false), OllamaHost: ptr("127.0.0.1:11500"), OllamaModel: ptr("qwen3"),
		CacheEnabled: ptr(true), CacheTTL: ptr(2 * time.Hour), CacheMaxBytes: ptr(int64(64 << 20)),
		Budgets: &budgets,
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
			if d.Listen != *e.Listen || d.Offline.Enabled || d.Offline.OllamaHost != "127.0.0.1:11500" || d.Offline.Model != "qwen3" {
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
			for _, want := range budgets {
				if g := got[want.Scope+"/"+want.Name]; g != want {
					t.Errorf("budget %s/%s = %+v, want %+v", want.Scope, want.Name, g, want)
				}
			}
			if len(got) != len(budgets) {
				t.Errorf("budgets = %+v, want exactly %d", d.Budgets, len(budgets))
			}
			if len(cfg.Models) == 0 {
				t.Errorf("model_list lost")
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestEditDetourKeepsTheRest(t *testing.T) {
	out, err := EditDetour([]byte(DefaultYAML), Edit{CacheTTL: ptr(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	for _, keep := range []string{
		"# Detour config. This is LiteLLM's proxy config format",
		"# Literal keys are refused: keys never live in this file.",
		"mock_response: \"Hello from Detour!",
		"routing_strategy: simple-shuffle # or least-busy",
		"stale_ttl: 604800",
		"ttl: 3600 # seconds an answer is served fresh (24 h)",
		"max_bytes: 536870912 # size cap in bytes (512 MiB)",
		"listen: 127.0.0.1:4000 # where clients connect",
		"keep: 1000",
		"#   groups: {gpt-4o: {daily_usd: 2, on_exceed: downgrade}}",
	} {
		if !strings.Contains(string(out), keep) {
			t.Errorf("the edit lost %q:\n%s", keep, out)
		}
	}
	if strings.Contains(string(out), "\n  budgets:") {
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
	if after.Detour.Cache.TTL != time.Hour || after.Detour.Listen != before.Detour.Listen {
		t.Errorf("cache ttl %v, listen %q", after.Detour.Cache.TTL, after.Detour.Listen)
	}
}

func TestEditDetourRefuses(t *testing.T) {
	edit := Edit{Listen: ptr("127.0.0.1:4001"), CacheTTL: ptr(time.Minute)}
	for name, tc := range map[string]struct {
		in          string
		notEditable bool
	}{
		"not a mapping":                {"- a\n- b\n", false},
		"detour is a list":             {"detour: [1, 2]\n", false},
		"cache is a string":            {"detour:\n  cache: yes please\n", false},
		"not yaml":                     {"detour: {listen: [\n", false},
		"two documents":                {"detour: {listen: 1}\n---\nmodel_list: []\n", true},
		"cache is an alias":            {"base: &b {ttl: 5}\ndetour:\n  cache: *b\n", true},
		"cache is shared by an anchor": {"detour:\n  cache: &c {ttl: 5}\nother: *c\n", true},
		"listen is shared":             {"detour:\n  listen: &l 127.0.0.1:4000\nelsewhere: *l\n", true},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := EditDetour([]byte(tc.in), edit)
			if err == nil {
				t.Fatalf("EditDetour(%q) succeeded", tc.in)
			}
			if errors.Is(err, ErrNotEditable) != tc.notEditable {
				t.Errorf("err = %v; ErrNotEditable %v, want %v", err, errors.Is(err, ErrNotEditable), tc.notEditable)
			}
		})
	}
}
