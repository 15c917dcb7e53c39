package server

import (
	"io/fs"
	"net/http"
	"path"
	"strings"
)

// notBuilt is /ui/ in a binary built without the dashboard.
const notBuilt = `<!doctype html><meta charset="utf-8"><title>Detour</title>
<body style="font:16px system-ui,sans-serif;max-width:40em;margin:4em auto;padding:0 1em">
<h1>Detour is running</h1>
<p>This build has no dashboard: it was compiled before the frontend was built.
Run <code>make run</code> (or <code>make frontend build</code>) in the source tree to include it.</p>
<p>The OpenAI-compatible API is served at <code>/v1</code>.</p>`

// SetPageHeaders sets the headers the dashboard is served with, in the
// browser and in the desktop window: it loads nothing from elsewhere (its
// styles may be inline: Svelte sets some), may not be framed, and sends
// no referrer.
func SetPageHeaders(h http.Header) {
	h.Set("Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
}

// dashboard serves the built dashboard under /ui/. Hashed assets are
// immutable; index.html is revalidated so an upgrade shows at once. The
// page may not be framed, and loads nothing from elsewhere.
func (s *Server) dashboard() http.Handler {
	files := s.opts.Dashboard
	if files != nil {
		if _, err := fs.Stat(files, "index.html"); err != nil {
			files = nil
		}
	}
	var fileServer http.Handler
	if files != nil {
		fileServer = http.StripPrefix("/ui", http.FileServerFS(files))
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		SetPageHeaders(h)
		if fileServer == nil {
			h.Set("Content-Type", "text/html; charset=utf-8")
			w.Write([]byte(notBuilt))
			return
		}
		if strings.HasPrefix(path.Clean(r.URL.Path), "/ui/assets/") {
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			h.Set("Cache-Control", "no-cache")
		}
		fileServer.ServeHTTP(w, r)
	})
}
