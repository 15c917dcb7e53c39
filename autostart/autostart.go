// Package autostart registers Detour to start when the user logs in: a
// freedesktop autostart entry on Linux, a LaunchAgent on macOS, a Run key
// on Windows.
package autostart

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Entry is one program's start-on-login registration.
type Entry interface {
	// Supported reports whether this platform has a way to start
	// programs on login that Entry knows.
	Supported() bool
	// Enabled reports whether the program is registered.
	Enabled() (bool, error)
	// SetEnabled registers (true) or unregisters (false) the program.
	SetEnabled(on bool) error
}

// unsupported is the Entry of a platform with no start-on-login mechanism
// this package knows.
type unsupported struct{}

func (unsupported) Supported() bool        { return false }
func (unsupported) Enabled() (bool, error) { return false, nil }
func (unsupported) SetEnabled(on bool) error {
	if !on {
		return nil
	}
	return fmt.Errorf("start on login: %w on this platform", errors.ErrUnsupported)
}

// removeFile deletes path; a file that is already gone is fine.
func removeFile(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove %s: %w", path, err)
	}
	return nil
}

// checkExec makes sure exe can be started from a login entry: an absolute
// path, as the session starts programs from an unknown directory.
func checkExec(exe string) error {
	if !filepath.IsAbs(exe) {
		return fmt.Errorf("start on login needs the program's absolute path, got %q", exe)
	}
	return nil
}
