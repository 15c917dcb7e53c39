package autostart

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/detour-gateway/detour/atomicfile"
)

// Linux is a freedesktop.org autostart entry, Dir/ID.desktop, which the
// desktop environments following the XDG Autostart spec (GNOME, KDE
// Plasma, Xfce, Cinnamon, …) start on login.
type Linux struct {
	// Dir is the autostart directory. "" means $XDG_CONFIG_HOME/autostart,
	// else ~/.config/autostart.
	Dir string
	// ID names the file: ID.desktop.
	ID string
	// Name is the program's name, shown in the session's settings.
	Name string
	// Icon is an icon name from the icon theme, or an absolute path; ""
	// means none.
	Icon string
	// Exec is the absolute path of the program to start.
	Exec string
	// Args are the program's arguments.
	Args []string
}

// Supported reports true: an autostart file can always be written.
func (l *Linux) Supported() bool { return true }

// Path returns the autostart file's path.
func (l *Linux) Path() (string, error) {
	dir := l.Dir
	if dir == "" {
		cfg, err := os.UserConfigDir()
		if err != nil {
			return "", fmt.Errorf("find the autostart directory: %w", err)
		}
		dir = filepath.Join(cfg, "autostart")
	}
	return filepath.Join(dir, l.ID+".desktop"), nil
}

// Enabled reports whether the autostart file exists and is not switched
// off with Hidden=true or X-GNOME-Autostart-enabled=false.
func (l *Linux) Enabled() (bool, error) {
	path, err := l.Path()
	if err != nil {
		return false, err
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read the autostart entry: %w", err)
	}
	return entryEnabled(b), nil
}

// SetEnabled writes the autostart file (atomically) or removes it.
func (l *Linux) SetEnabled(on bool) error {
	path, err := l.Path()
	if err != nil {
		return err
	}
	if !on {
		return removeFile(path)
	}
	b, err := l.entry()
	if err != nil {
		return err
	}
	return atomicfile.Write(path, b, 0o644)
}

// entry returns the desktop entry file.
func (l *Linux) entry() ([]byte, error) {
	if err := checkExec(l.Exec); err != nil {
		return nil, err
	}
	argv := append([]string{l.Exec}, l.Args...)
	for _, s := range append(argv, l.Name, l.Icon) {
		if err := checkValue(s); err != nil {
			return nil, err
		}
	}
	name := l.Name
	if name == "" {
		name = l.ID // Name is required
	}
	var b bytes.Buffer
	b.WriteString("[Desktop Entry]\nType=Application\nVersion=1.5\n")
	fmt.Fprintf(&b, "Name=%s\n", escapeValue(name))
	fmt.Fprintf(&b, "Exec=%s\n", execValue(argv))
	if l.Icon != "" {
		fmt.Fprintf(&b, "Icon=%s\n", escapeValue(l.Icon))
	}
	b.WriteString("Terminal=false\nX-GNOME-Autostart-enabled=true\n")
	return b.Bytes(), nil
}

// checkValue refuses what a desktop entry value cannot hold: invalid
// UTF-8 and control characters.
func checkValue(s string) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("%q is not valid UTF-8, which a desktop entry needs", s)
	}
	if strings.ContainsFunc(s, unicode.IsControl) {
		return fmt.Errorf("%q has control characters, which a desktop entry cannot hold", s)
	}
	return nil
}

// escapeValue applies the string escapes of the Desktop Entry spec to a
// value without control characters: a backslash is written \\, a leading
// space \s.
func escapeValue(s string) string {
	s = strings.ReplaceAll(s, `\`, `\\`)
	if strings.HasPrefix(s, " ") {
		s = `\s` + s[1:]
	}
	return s
}

// execValue returns argv as the value of an Exec key: each argument
// quoted as the spec's Exec rules require, then the string escapes
// applied to the whole (which is why a literal backslash in a quoted
// argument ends up as four).
func execValue(argv []string) string {
	quoted := make([]string, len(argv))
	for i, a := range argv {
		quoted[i] = quoteArg(a)
	}
	return strings.ReplaceAll(strings.Join(quoted, " "), `\`, `\\`)
}

// reserved are the characters that make the Exec rules quote an argument.
const reserved = " \t\n\"'\\><~|&;$*?#()`"

// quoteArg writes one argument of an Exec key: % doubled (a lone one
// starts a field code), and an argument with a reserved character (or an
// empty one) in double quotes, with ", `, $ and \ backslash-escaped.
func quoteArg(a string) string {
	a = strings.ReplaceAll(a, "%", "%%")
	if a != "" && !strings.ContainsAny(a, reserved) {
		return a
	}
	return `"` + strings.NewReplacer(`"`, `\"`, "`", "\\`", `$`, `\$`, `\`, `\\`).Replace(a) + `"`
}

// entryEnabled reports whether a desktop entry file is an enabled
// autostart entry: not Hidden=true, not X-GNOME-Autostart-enabled=false.
func entryEnabled(file []byte) bool {
	sc := bufio.NewScanner(bytes.NewReader(file))
	group := ""
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
			group = line
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok || group != "[Desktop Entry]" {
			continue
		}
		key, value = strings.TrimSpace(key), strings.TrimSpace(value)
		if (key == "Hidden" && value == "true") || (key == "X-GNOME-Autostart-enabled" && value == "false") {
			return false
		}
	}
	return true
}
