//go:build windows

package autostart

// New returns the start-on-login entry for the program exe (an absolute
// path) started with args: a value called name in the current user's Run
// registry key.
func New(name, exe string, args ...string) Entry {
	return &Windows{Name: name, Exec: exe, Args: args}
}
