package config

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

const oneModel = "model_list:\n  - model_name: demo\n    litellm_params: {model: mock/demo}\n"

func TestServerSection(t *testing.T) {
	cfg, warnings := parseOK(t, oneModel+`detour:
  server:
    allowed_hosts: [studio.local, 192.168.1.20]
    cors_origins: ["http://localhost:3000", "*"]
    auth: true
    body_timeout: 5
    write_timeout: 7.5
    idle_timeout: 30
    max_header_bytes: 65536
    max_inflight_bytes: 16777216
    max_requests: 32
    max_streams: 8
`)
	if len(warnings) != 0 {
		t.Errorf("warnings: %v", warnings)
	}
	want := Server{AllowedHosts: []string{"studio.local", "192.168.1.20"}, CORSOrigins: []string{"http://localhost:3000", "*"}, Auth: true,
		BodyTimeout: 5 * time.Second, WriteTimeout: 7500 * time.Millisecond, IdleTimeout: 30 * time.Second,
		MaxHeaderBytes: 65536, MaxInflightBytes: 16 << 20, MaxRequests: 32, MaxStreams: 8}
	if !reflect.DeepEqual(cfg.Detour.Server, want) {
		t.Errorf("Server =\n%+v\nwant\n%+v", cfg.Detour.Server, want)
	}

	tests := []struct{ name, yaml, key, msg string }{
		{"host with scheme", "detour:\n  server: {allowed_hosts: [\"http://studio.local\"]}\n", "detour.server.allowed_hosts[0]", "host name"},
		{"origin with path", "detour:\n  server: {cors_origins: [\"http://localhost:3000/app\"]}\n", "detour.server.cors_origins[0]", "web origin"},
		{"origin without scheme", "detour:\n  server: {cors_origins: [localhost:3000]}\n", "detour.server.cors_origins[0]", "web origin"},
		{"auth not boolean", "detour:\n  server: {auth: yes please}\n", "detour.server.auth", "true or false"},
		{"zero timeout", "detour:\n  server: {body_timeout: 0}\n", "detour.server.body_timeout", "seconds > 0"},
		{"tiny in-flight bytes", "detour:\n  server: {max_inflight_bytes: 1000}\n", "detour.server.max_inflight_bytes", "1 MiB"},
		{"zero streams", "detour:\n  server: {max_streams: 0}\n", "detour.server.max_streams", "≥ 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := parseErr(t, oneModel+tt.yaml)
			if p[0].Key != tt.key || p[0].Line != 5 || !strings.Contains(p[0].Message, tt.msg) {
				t.Errorf("problem %v, want %s on line 5 saying %q", p[0], tt.key, tt.msg)
			}
		})
	}
}

func TestNonLoopbackListenNeedsAuth(t *testing.T) {
	tests := []struct {
		name, yaml string
		ok         bool
	}{
		{"loopback", "detour: {listen: 127.0.0.1:4000}\n", true},
		{"localhost", "detour: {listen: localhost:4000}\n", true},
		{"ipv6 loopback", "detour: {listen: \"[::1]:4000\"}\n", true},
		{"wildcard", "detour: {listen: 0.0.0.0:4000}\n", false},
		{"no host", "detour: {listen: \":4000\"}\n", false},
		{"lan address", "detour: {listen: 192.168.1.20:4000}\n", false},
		{"wildcard with auth", "detour: {listen: 0.0.0.0:4000, server: {auth: true}}\n", true},
		{"wildcard with master key", "general_settings: {master_key: os.environ/LITELLM_MASTER_KEY}\ndetour: {listen: 0.0.0.0:4000}\n", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Parse([]byte(oneModel + tt.yaml))
			if tt.ok {
				if err != nil {
					t.Errorf("refused: %v", err)
				}
				return
			}
			var cerr *Error
			if !errors.As(err, &cerr) {
				t.Fatalf("accepted, want a problem with detour.listen")
			}
			p := cerr.Problems[0]
			if p.Key != "detour.listen" || !strings.Contains(p.Message, "detour.server.auth: true") || !strings.Contains(p.Message, "detour keys local add") {
				t.Errorf("problem %v does not say what to set", p)
			}
		})
	}
}

func TestMasterKey(t *testing.T) {
	tests := []struct {
		name, value string
		want        MasterKey
		warn        bool
	}{
		{"environment", "os.environ/LITELLM_MASTER_KEY", MasterKey{Ref: KeyRef{Source: KeyEnv, Name: "LITELLM_MASTER_KEY"}}, false},
		{"keychain", "keychain/master", MasterKey{Ref: KeyRef{Source: KeyKeychain, Name: "master"}}, false},
		{"literal", "sk-1234", MasterKey{Literal: "sk-1234"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, warnings := parseOK(t, oneModel+"general_settings:\n  master_key: "+tt.value+"\n  database_url: postgres://u:p@db/litellm\n")
			if !reflect.DeepEqual(cfg.Detour.Server.MasterKey, tt.want) || !cfg.Detour.Server.Auth {
				t.Errorf("MasterKey = %#v, Auth %v; want %#v and auth on", cfg.Detour.Server.MasterKey, cfg.Detour.Server.Auth, tt.want)
			}
			var masterWarned bool
			for _, w := range warnings {
				if strings.Contains(w.Message, "sk-1234") || strings.Contains(w.Message, "u:p@") {
					t.Errorf("a warning repeats a secret: %v", w)
				}
				masterWarned = masterWarned || w.Key == "general_settings.master_key"
			}
			if masterWarned != tt.warn {
				t.Errorf("master_key warned %v, want %v: %v", masterWarned, tt.warn, warnings)
			}
		})
	}
	m := MasterKey{Literal: "sk-secret-literal"}
	for _, s := range []string{m.String(), m.GoString()} {
		if strings.Contains(s, "sk-secret-literal") {
			t.Errorf("MasterKey prints its literal: %s", s)
		}
	}
	if p := parseErr(t, oneModel+"general_settings: {master_key: [a, b]}\n"); p[0].Key != "general_settings.master_key" {
		t.Errorf("problem %v, want general_settings.master_key", p[0])
	}
}

func TestWildcardGroupsAndAliases(t *testing.T) {
	cfg, warnings := parseOK(t, `model_list:
  - model_name: "claude-*"
    litellm_params: {model: anthropic/claude-sonnet-4-5}
  - model_name: gpt
    litellm_params: {model: openai/gpt-4.1}
router_settings:
  model_group_alias: {"gpt-5-codex": gpt, "claude-haiku-4-5": {model: "claude-*", hidden: true}}
`)
	if len(warnings) != 0 {
		t.Errorf("warnings: %v", warnings)
	}
	if got := cfg.Groups(); !reflect.DeepEqual(got, []string{"claude-*", "gpt"}) {
		t.Errorf("Groups = %v", got)
	}
	if want := map[string]string{"gpt-5-codex": "gpt", "claude-haiku-4-5": "claude-*"}; !reflect.DeepEqual(cfg.Router.Aliases, want) {
		t.Errorf("Aliases = %v, want %v", cfg.Router.Aliases, want)
	}
	p := parseErr(t, oneModel+"router_settings:\n  model_group_alias: {x: nowhere}\n")
	if p[0].Key != "router_settings.model_group_alias.x" || !strings.Contains(p[0].Message, `unknown model group "nowhere"`) {
		t.Errorf("problem %v", p[0])
	}
}
