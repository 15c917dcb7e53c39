//go:build !unix && !windows

package autostart

// New returns an Entry whose Supported reports false: this platform has
// no start-on-login mechanism the package knows.
func New(name, exe string, args ...string) Entry { return unsupported{} }
