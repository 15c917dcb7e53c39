package autostart

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLaunchAgent(t *testing.T) {
	for _, exe := range []string{"/Applications/Detour.app/Contents/MacOS/detour", `/Users/o'neil & co/<detour>`} {
		t.Run(exe, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "LaunchAgents")
			a := &LaunchAgent{Dir: dir, Label: "com.github.detour-gateway.detour", Exec: exe, Args: []string{"--hidden"}}
			if err := a.SetEnabled(false); err != nil {
				t.Fatalf("disable when absent: %v", err)
			}
			if on, err := a.Enabled(); err != nil || on {
				t.Fatalf("Enabled before = %v, %v", on, err)
			}
			if err := a.SetEnabled(true); err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(filepath.Join(dir, "com.github.detour-gateway.detour.plist"))
			if err != nil {
				t.Fatal(err)
			}
			var doc struct {
				Keys    []string `xml:"dict>key"`
				Strings []string `xml:"dict>string"`
				Args    []string `xml:"dict>array>string"`
			}
			if err := xml.Unmarshal(b, &doc); err != nil {
				t.Fatalf("plist does not parse: %v\n%s", err, b)
			}
			if want := "Label ProgramArguments RunAtLoad ProcessType"; strings.Join(doc.Keys, " ") != want {
				t.Errorf("keys %q, want %q", doc.Keys, want)
			}
			if len(doc.Strings) == 0 || doc.Strings[0] != a.Label {
				t.Errorf("label strings %q", doc.Strings)
			}
			if len(doc.Args) != 2 || doc.Args[0] != exe || doc.Args[1] != "--hidden" {
				t.Errorf("ProgramArguments %q, want [%q --hidden]", doc.Args, exe)
			}
			if on, err := a.Enabled(); err != nil || !on {
				t.Errorf("Enabled after enable = %v, %v", on, err)
			}
			if err := a.SetEnabled(false); err != nil {
				t.Fatal(err)
			}
			if on, err := a.Enabled(); err != nil || on {
				t.Errorf("Enabled after disable = %v, %v", on, err)
			}
		})
	}
}

func TestLaunchAgentDisabledKey(t *testing.T) {
	tests := []struct {
		name, dict string
		want       bool
	}{
		{"no key", "<key>Label</key><string>x</string>", true},
		{"disabled", "<key>Label</key><string>x</string><key>Disabled</key><true/>", false},
		{"disabled false", "<key>Disabled</key><false/>", true},
		{"nested disabled", "<key>X</key><dict><key>Disabled</key><true/></dict>", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, "l.plist"), []byte(`<?xml version="1.0"?><plist version="1.0"><dict>`+tt.dict+`</dict></plist>`), 0o644)
			on, err := (&LaunchAgent{Dir: dir, Label: "l"}).Enabled()
			if err != nil || on != tt.want {
				t.Errorf("Enabled = %v, %v; want %v", on, err, tt.want)
			}
		})
	}
}

func TestNew(t *testing.T) {
	e := New("Detour", "/usr/bin/detour", "--hidden")
	if !e.Supported() {
		t.Skip("no start-on-login mechanism on this platform")
	}
	if l, ok := e.(*Linux); ok && (l.ID != "detour" || l.Name != "Detour" || l.Exec != "/usr/bin/detour" || len(l.Args) != 1) {
		t.Errorf("New = %+v", l)
	}
}
