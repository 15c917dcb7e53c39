//go:build darwin

package autostart

import "strings"

// New returns the start-on-login entry for the program exe (an absolute
// path) started with args: a LaunchAgent labelled
// com.github.detour-gateway.<name, lower-cased>.
func New(name, exe string, args ...string) Entry {
	return &LaunchAgent{Label: "com.github.detour-gateway." + strings.ToLower(name), Exec: exe, Args: args}
}
