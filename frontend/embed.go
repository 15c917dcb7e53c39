// Package frontend holds Detour's dashboard: a Vite + Svelte + TypeScript
// app in this folder, built into dist/ and embedded in the binary. The
// gateway serves it at /ui/ and the desktop window shows it.
package frontend

import (
	"embed"
	"io/fs"
)

// dist is the built dashboard. A fresh clone holds only dist/.keep (so
// the embed compiles before `npm run build`); Built reports which it is.
//
//go:embed all:dist
var dist embed.FS

// Dist returns the built dashboard, index.html at its root.
func Dist() fs.FS {
	sub, err := fs.Sub(dist, "dist")
	if err != nil { // cannot happen: "dist" is a valid path embedded above
		panic(err)
	}
	return sub
}

// Built reports whether the dashboard was built into this binary (else
// only the placeholder is embedded and /ui/ says how to build it).
func Built() bool {
	_, err := fs.Stat(Dist(), "index.html")
	return err == nil
}
