package autostart

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/detour-gateway/detour/atomicfile"
)

// LaunchAgent is a macOS per-user launchd agent, Dir/Label.plist, which
// launchd starts when the user logs in.
type LaunchAgent struct {
	// Dir is the LaunchAgents directory. "" means ~/Library/LaunchAgents.
	Dir string
	// Label is the agent's reverse-DNS name; it names the file too.
	Label string
	// Exec is the absolute path of the program to start.
	Exec string
	// Args are the program's arguments.
	Args []string
}

// Supported reports true: a LaunchAgent file can always be written.
func (a *LaunchAgent) Supported() bool { return true }

// Path returns the agent file's path.
func (a *LaunchAgent) Path() (string, error) {
	dir := a.Dir
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("find the LaunchAgents directory: %w", err)
		}
		dir = filepath.Join(home, "Library", "LaunchAgents")
	}
	return filepath.Join(dir, a.Label+".plist"), nil
}

// Enabled reports whether the agent file exists and does not say
// Disabled.
func (a *LaunchAgent) Enabled() (bool, error) {
	path, err := a.Path()
	if err != nil {
		return false, err
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read the LaunchAgent: %w", err)
	}
	return !plistDisabled(b), nil
}

// SetEnabled writes the agent file (atomically) or removes it. The agent
// takes effect at the next login.
func (a *LaunchAgent) SetEnabled(on bool) error {
	path, err := a.Path()
	if err != nil {
		return err
	}
	if !on {
		return removeFile(path)
	}
	if err := checkExec(a.Exec); err != nil {
		return err
	}
	return atomicfile.Write(path, a.plist(), 0o644)
}

// plist returns the agent's property list.
func (a *LaunchAgent) plist() []byte {
	var b bytes.Buffer
	str := func(indent, s string) {
		b.WriteString(indent + "<string>")
		xml.EscapeText(&b, []byte(s))
		b.WriteString("</string>\n")
	}
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>Label</key>
`)
	str("\t", a.Label)
	b.WriteString("\t<key>ProgramArguments</key>\n\t<array>\n")
	for _, s := range append([]string{a.Exec}, a.Args...) {
		str("\t\t", s)
	}
	b.WriteString("\t</array>\n\t<key>RunAtLoad</key>\n\t<true/>\n\t<key>ProcessType</key>\n\t<string>Interactive</string>\n</dict>\n</plist>\n")
	return b.Bytes()
}

// plistDisabled reports whether a property list's top-level dict has
// <key>Disabled</key><true/>. A file that does not parse counts as not
// disabled: launchd decides, and the file is there.
func plistDisabled(b []byte) bool {
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = false
	depth, lastKey := 0, ""
	for {
		tok, err := d.Token()
		if err != nil { // io.EOF included
			return false
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if depth == 3 && t.Name.Local == "key" { // plist > dict > key
				var k string
				if d.DecodeElement(&k, &t) != nil {
					return false
				}
				depth--
				lastKey = k
				continue
			}
			if depth == 3 && lastKey == "Disabled" && t.Name.Local == "true" {
				return true
			}
			if depth == 3 {
				lastKey = ""
			}
		case xml.EndElement:
			depth--
		}
	}
}
