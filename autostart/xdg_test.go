package autostart

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// parseExec splits an Exec value back into arguments, following the
// Desktop Entry spec: string unescapes first, then the quoting rules,
// then %% to %.
func parseExec(t *testing.T, value string) []string {
	t.Helper()
	var s strings.Builder
	for i := 0; i < len(value); i++ {
		if value[i] != '\\' {
			s.WriteByte(value[i])
			continue
		}
		i++
		if i == len(value) {
			t.Fatalf("Exec ends in a lone backslash: %q", value)
		}
		switch value[i] {
		case '\\':
			s.WriteByte('\\')
		case 's':
			s.WriteByte(' ')
		default:
			t.Fatalf("Exec has an unknown string escape \\%c: %q", value[i], value)
		}
	}
	var args []string
	var arg strings.Builder
	in, quoted, str := false, false, s.String()
	for i := 0; i < len(str); i++ {
		c := str[i]
		switch {
		case quoted && c == '\\':
			i++
			if i == len(str) || !strings.ContainsRune("\"`$\\", rune(str[i])) {
				t.Fatalf("bad escape in a quoted argument: %q", str)
			}
			arg.WriteByte(str[i])
		case c == '"':
			quoted, in = !quoted, true
		case !quoted && c == ' ':
			if in {
				args = append(args, arg.String())
				arg.Reset()
				in = false
			}
		case !quoted && strings.IndexByte(reserved, c) >= 0:
			t.Fatalf("reserved character %q outside quotes: %q", c, str)
		default:
			arg.WriteByte(c)
			in = true
		}
	}
	if quoted {
		t.Fatalf("unterminated quote: %q", str)
	}
	if in {
		args = append(args, arg.String())
	}
	for i, a := range args {
		if strings.Contains(strings.ReplaceAll(a, "%%", ""), "%") {
			t.Fatalf("argument %q has a field code", a)
		}
		args[i] = strings.ReplaceAll(a, "%%", "%")
	}
	return args
}

// keys returns the [Desktop Entry] keys of a desktop file.
func keys(t *testing.T, file string) map[string]string {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(file, "\n"), "\n")
	if lines[0] != "[Desktop Entry]" {
		t.Fatalf("first line %q, want [Desktop Entry]", lines[0])
	}
	m := map[string]string{}
	for _, l := range lines[1:] {
		k, v, ok := strings.Cut(l, "=")
		if !ok {
			t.Fatalf("line %q is not key=value", l)
		}
		if _, dup := m[k]; dup {
			t.Fatalf("key %s twice", k)
		}
		m[k] = v
	}
	return m
}

func TestLinuxEnableWritesEntry(t *testing.T) {
	tests := []struct {
		name     string
		exec     string
		args     []string
		wantExec string // the raw Exec value
	}{
		{"plain", "/usr/bin/detour", []string{"--hidden"}, "/usr/bin/detour --hidden"},
		{"space", "/opt/My Apps/detour", []string{"--hidden"}, `"/opt/My Apps/detour" --hidden`},
		{"double quote", `/tmp/a"b/detour`, nil, `"/tmp/a\\"b/detour"`},
		{"single quote", "/home/o'neil/detour", nil, `"/home/o'neil/detour"`},
		{"backslash", `/tmp/a\b/detour`, nil, `"/tmp/a\\\\b/detour"`},
		{"dollar and backtick", "/tmp/$x`y`/detour", nil, "\"/tmp/\\\\$x\\\\`y\\\\`/detour\""},
		{"percent", "/tmp/100%/detour", []string{"--config", "/tmp/50% off.yaml"}, `/tmp/100%%/detour --config "/tmp/50%% off.yaml"`},
		{"empty arg", "/usr/bin/detour", []string{""}, `/usr/bin/detour ""`},
		{"unicode", "/home/zoë/détour", nil, "/home/zoë/détour"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "autostart") // does not exist yet
			e := &Linux{Dir: dir, ID: "detour", Name: "Detour", Icon: "detour", Exec: tt.exec, Args: tt.args}
			if on, err := e.Enabled(); err != nil || on {
				t.Fatalf("Enabled before = %v, %v; want false, nil", on, err)
			}
			if err := e.SetEnabled(true); err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(filepath.Join(dir, "detour.desktop"))
			if err != nil {
				t.Fatal(err)
			}
			k := keys(t, string(b))
			for key, want := range map[string]string{"Type": "Application", "Name": "Detour", "Icon": "detour",
				"X-GNOME-Autostart-enabled": "true", "Exec": tt.wantExec} {
				if k[key] != want {
					t.Errorf("%s=%q, want %q", key, k[key], want)
				}
			}
			want := append([]string{tt.exec}, tt.args...)
			if got := parseExec(t, k["Exec"]); strings.Join(got, "\x00") != strings.Join(want, "\x00") {
				t.Errorf("Exec parses to %q, want %q", got, want)
			}
			if on, err := e.Enabled(); err != nil || !on {
				t.Errorf("Enabled after enable = %v, %v; want true, nil", on, err)
			}
			if tmp, _ := filepath.Glob(filepath.Join(dir, ".*")); len(tmp) > 0 {
				t.Errorf("temporary files left: %q", tmp)
			}
		})
	}
}

func TestLinuxEnabledReadsFile(t *testing.T) {
	tests := []struct {
		name string
		file string // "" means no file
		want bool
	}{
		{"absent", "", false},
		{"ours", "[Desktop Entry]\nType=Application\nExec=/x\nX-GNOME-Autostart-enabled=true\n", true},
		{"no gnome key", "[Desktop Entry]\nType=Application\nExec=/x\n", true},
		{"hidden", "[Desktop Entry]\nType=Application\nExec=/x\nHidden=true\n", false},
		{"hidden with spaces", "[Desktop Entry]\nExec=/x\nHidden = true\n", false},
		{"hidden false", "[Desktop Entry]\nExec=/x\nHidden=false\n", true},
		{"gnome disabled", "[Desktop Entry]\nExec=/x\nX-GNOME-Autostart-enabled=false\n", false},
		{"key in another group", "[Desktop Entry]\nExec=/x\n[Desktop Action quit]\nHidden=true\n", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if tt.file != "" {
				if err := os.WriteFile(filepath.Join(dir, "detour.desktop"), []byte(tt.file), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			on, err := (&Linux{Dir: dir, ID: "detour"}).Enabled()
			if err != nil || on != tt.want {
				t.Errorf("Enabled = %v, %v; want %v, nil", on, err, tt.want)
			}
		})
	}
}

func TestLinuxDisable(t *testing.T) {
	dir := t.TempDir()
	e := &Linux{Dir: dir, ID: "detour", Name: "Detour", Exec: "/usr/bin/detour", Args: []string{"--hidden"}}
	if err := e.SetEnabled(false); err != nil {
		t.Fatalf("disable when absent: %v", err)
	}
	if err := e.SetEnabled(true); err != nil {
		t.Fatal(err)
	}
	if err := e.SetEnabled(true); err != nil {
		t.Fatalf("enable twice: %v", err)
	}
	if err := e.SetEnabled(false); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "detour.desktop")); !os.IsNotExist(err) {
		t.Errorf("file still there after disable: %v", err)
	}
	if on, err := e.Enabled(); err != nil || on {
		t.Errorf("Enabled after disable = %v, %v", on, err)
	}
	// A Hidden=true entry (a user's "off") is replaced by enabling.
	os.WriteFile(filepath.Join(dir, "detour.desktop"), []byte("[Desktop Entry]\nExec=/x\nHidden=true\n"), 0o644)
	if err := e.SetEnabled(true); err != nil {
		t.Fatal(err)
	}
	if on, err := e.Enabled(); err != nil || !on {
		t.Errorf("Enabled after re-enabling a hidden entry = %v, %v", on, err)
	}
}

func TestLinuxRefuses(t *testing.T) {
	tests := []struct {
		name string
		e    Linux
		want string
	}{
		{"relative exec", Linux{ID: "detour", Exec: "detour"}, "absolute path"},
		{"newline", Linux{ID: "detour", Exec: "/tmp/a\nb"}, "control characters"},
		{"invalid utf-8", Linux{ID: "detour", Exec: "/tmp/\xff"}, "UTF-8"},
		{"newline in name", Linux{ID: "detour", Name: "De\ntour", Exec: "/x"}, "control characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.e.Dir = t.TempDir()
			err := tt.e.SetEnabled(true)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("SetEnabled(true) = %v, want an error containing %q", err, tt.want)
			}
			if names, _ := os.ReadDir(tt.e.Dir); len(names) > 0 {
				t.Errorf("left files behind: %v", names)
			}
		})
	}
}

func TestLinuxDefaultDir(t *testing.T) {
	cfg := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", cfg)
	e := &Linux{ID: "detour", Name: "Detour", Exec: "/usr/bin/detour"}
	if err := e.SetEnabled(true); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(cfg, "autostart", "detour.desktop")); err != nil {
		t.Errorf("entry not under $XDG_CONFIG_HOME/autostart: %v", err)
	}
}
