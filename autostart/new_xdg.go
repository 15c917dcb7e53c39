//go:build unix && !darwin

package autostart

import "strings"

// New returns the start-on-login entry for the program exe (an absolute
// path) started with args: a freedesktop autostart entry named after
// name, lower-cased (Detour: detour.desktop, icon "detour").
func New(name, exe string, args ...string) Entry {
	id := strings.ToLower(name)
	return &Linux{ID: id, Name: name, Icon: id, Exec: exe, Args: args}
}
