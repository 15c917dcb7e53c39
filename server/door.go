package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Door says who may use the gateway: which Host names it answers to,
// which web pages may call it, and whether a local key is required. The
// zero Door answers loopback names only, to no web page, without a key.
type Door struct {
	// AllowedHosts are Host names (or addresses) answered besides the
	// loopback ones and the address the gateway listens on, e.g. a LAN
	// name such as "studio.local". Matching ignores case and the port.
	AllowedHosts []string
	// CORSOrigins are the web origins (scheme://host[:port]) whose pages
	// may call /v1; "*" allows any page, and is only sensible with local
	// auth. Empty: no page of another origin may.
	CORSOrigins []string
	// Auth, when not nil, requires a local key on /v1: an Authorization:
	// Bearer or x-api-key header it accepts.
	Auth Authenticator
}

// Authenticator checks the local key a client presents.
type Authenticator interface {
	// Authenticate returns nil when key is a local key, and otherwise an
	// error wrapping ErrNoLocalKey or ErrBadLocalKey whose text may be
	// shown to the client.
	Authenticate(ctx context.Context, key string) error
}

// Sentinel errors of an Authenticator.
var (
	// ErrNoLocalKey: local auth is on but no local key exists yet.
	ErrNoLocalKey = errors.New("no local key exists")
	// ErrBadLocalKey: the key presented is not a local key.
	ErrBadLocalKey = errors.New("not a local key")
)

// door is a Door compiled for the checks of every request.
type door struct {
	hosts    map[string]bool // lower-case names and addresses, no port
	origins  map[string]bool // normalised scheme://host:port
	anyPage  bool            // CORSOrigins holds "*"
	auth     Authenticator
	listenIP net.IP // the listener's address; nil when unknown or a wildcard
	wildcard bool   // the listener takes every address of this machine
	local    *addrCache
}

// SetDoor makes d the door for new requests. listen is the address the
// gateway listens on ("" when unknown): its host is answered too, and when
// it is a wildcard (0.0.0.0, ::), so is every address of this machine.
func (s *Server) SetDoor(d Door, listen string) {
	c := &door{hosts: map[string]bool{}, origins: map[string]bool{}, auth: d.Auth, local: &s.localAddrs}
	for _, h := range d.AllowedHosts {
		c.hosts[hostOnly(h)] = true
	}
	for _, o := range d.CORSOrigins {
		if o == "*" {
			c.anyPage = true
			continue
		}
		if n, ok := normalOrigin(o); ok {
			c.origins[n] = true
		}
	}
	if host, _, err := net.SplitHostPort(listen); err == nil {
		switch ip := net.ParseIP(strings.Trim(host, "[]")); {
		case host == "" || ip != nil && ip.IsUnspecified():
			c.wildcard = true
		case ip != nil:
			c.listenIP = ip
		default:
			c.hosts[strings.ToLower(host)] = true
		}
	}
	s.door.Store(c)
}

// hostAllowed reports whether a request naming host (the Host header)
// may be answered. A page that DNS-rebinds its own name to 127.0.0.1
// reaches Detour under that name, so names are allowed one by one; an
// address is safe when it is this machine's, because a page's origin is
// then Detour's own.
func (d *door) hostAllowed(host string) bool {
	h := hostOnly(host)
	if h == "localhost" || d.hosts[h] {
		return true
	}
	ip := net.ParseIP(h)
	switch {
	case ip == nil:
		return false
	case ip.IsLoopback(), d.listenIP != nil && d.listenIP.Equal(ip):
		return true
	case d.wildcard:
		return d.local.has(ip)
	}
	return false
}

// originAllowed reports whether a page of origin may call /v1 at host:
// one of CORSOrigins, or Detour's own page (same origin as the request).
func (d *door) originAllowed(origin, host string) (ok, cors bool) {
	n, valid := normalOrigin(origin)
	if !valid {
		return false, false
	}
	if d.anyPage || d.origins[n] {
		return true, true
	}
	u, _ := url.Parse(n)
	return strings.EqualFold(u.Host, withPort(host, u.Scheme)), false
}

// hostOnly returns host without its port and brackets, in lower case.
func hostOnly(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	return strings.ToLower(strings.Trim(host, "[]"))
}

// withPort returns host with the scheme's default port when it has none.
func withPort(host, scheme string) string {
	if _, _, err := net.SplitHostPort(host); err == nil {
		return host
	}
	port := "80"
	if scheme == "https" {
		port = "443"
	}
	return net.JoinHostPort(strings.Trim(host, "[]"), port)
}

// normalOrigin returns origin as scheme://host:port in lower case, with
// the scheme's default port made explicit; false when it is no http(s)
// origin ("null", a file:// page).
func normalOrigin(origin string) (string, bool) {
	u, err := url.Parse(strings.TrimSpace(origin))
	if err != nil || u.Host == "" || u.Scheme != "http" && u.Scheme != "https" || u.Path != "" && u.Path != "/" {
		return "", false
	}
	scheme := strings.ToLower(u.Scheme)
	return scheme + "://" + strings.ToLower(withPort(u.Host, scheme)), true
}

// addrCache holds this machine's interface addresses for a minute: a
// laptop changes networks, and reading them costs system calls.
type addrCache struct {
	list  func() ([]net.Addr, error)
	mu    sync.Mutex
	at    time.Time
	addrs []net.IP
}

// has reports whether ip is an address of one of this machine's
// interfaces.
func (c *addrCache) has(ip net.IP) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if time.Since(c.at) > time.Minute {
		c.addrs = c.addrs[:0]
		if as, err := c.list(); err == nil {
			for _, a := range as {
				if n, ok := a.(*net.IPNet); ok {
					c.addrs = append(c.addrs, n.IP)
				}
			}
		}
		c.at = time.Now()
	}
	return slices.ContainsFunc(c.addrs, ip.Equal)
}

// refuseHost answers a request for a Host the door does not allow, and
// logs each refused name once, saying how to allow it.
func (s *Server) refuseHost(w http.ResponseWriter, r *http.Request) {
	h := hostOnly(r.Host)
	if _, seen := s.refusedHosts.LoadOrStore(h, true); !seen && s.refusedCount.Add(1) <= 64 {
		s.opts.Logger.Warn("refused a request for a Host Detour does not answer to (a web page using DNS rebinding looks like this)",
			"host", r.Host, "remote", r.RemoteAddr, "path", r.URL.Path,
			"allow", "add it to detour.server.allowed_hosts if you reach Detour under this name")
	}
	writeError(w, &apiError{Status: http.StatusForbidden, Body: errorDetail{Type: "invalid_request_error", Code: strPtr("host_not_allowed"),
		Message: fmt.Sprintf("Detour does not answer to the Host %q; it answers to localhost, 127.0.0.1, ::1, its listen address and detour.server.allowed_hosts", h)}})
}

// corsMethods and corsHeaders are what a preflight of an allowed origin
// is granted: the API's methods, and any request header (the SDKs send
// their own x-stainless-* and anthropic-* headers).
const (
	corsMethods       = "GET, POST, DELETE, OPTIONS"
	corsExposeHeaders = "X-Detour-Request-Id, X-Detour-Provider, X-Detour-Deployment, X-Detour-Model-Group, X-Detour-Attempts, X-Detour-Fallbacks, X-Detour-Cache, X-Detour-Cost, X-Detour-Degraded, X-Detour-Tier, X-Detour-Upstream-Ms, Retry-After"
	corsMaxAge        = "600"
)

// guardModelAPI checks a request to the model API (/v1 and its
// unprefixed twins) at the door: a web page's Origin, a preflight, the
// body's type and the local key. It returns false when it answered.
func (s *Server) guardModelAPI(w http.ResponseWriter, r *http.Request, d *door) bool {
	if origin := r.Header.Get("Origin"); origin != "" {
		ok, cors := d.originAllowed(origin, r.Host)
		if !ok {
			writeError(w, &apiError{Status: http.StatusForbidden, Body: errorDetail{Type: "invalid_request_error", Code: strPtr("origin_not_allowed"),
				Message: fmt.Sprintf("web pages of origin %q may not call Detour; add it to detour.server.cors_origins if it is your own app", origin)}})
			return false
		}
		if cors {
			h := w.Header()
			h.Set("Access-Control-Allow-Origin", origin)
			h.Add("Vary", "Origin")
			h.Set("Access-Control-Expose-Headers", corsExposeHeaders)
			if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
				h.Set("Access-Control-Allow-Methods", corsMethods)
				if rh := r.Header.Get("Access-Control-Request-Headers"); rh != "" {
					h.Set("Access-Control-Allow-Headers", rh)
				}
				h.Set("Access-Control-Max-Age", corsMaxAge)
				w.WriteHeader(http.StatusNoContent)
				return false
			}
		}
	}
	if r.Method == http.MethodOptions {
		// A preflight from a page not allowed above never gets here; a
		// bare OPTIONS gets the methods the path takes.
		return true
	}
	if r.Method == http.MethodPost && !isJSON(r.Header.Get("Content-Type")) {
		writeError(w, &apiError{Status: http.StatusUnsupportedMediaType, Body: errorDetail{Type: "invalid_request_error", Code: strPtr("unsupported_media_type"),
			Message: "the request body must be JSON, sent with Content-Type: application/json"}})
		return false
	}
	if d.auth != nil {
		if e := s.authenticate(r, d.auth); e != nil {
			writeError(w, e)
			return false
		}
	}
	return true
}

// isJSON reports whether a Content-Type is application/json.
func isJSON(contentType string) bool {
	ct, _, _ := strings.Cut(contentType, ";")
	return strings.EqualFold(strings.TrimSpace(ct), "application/json")
}

// authenticate checks the local key of r: Authorization: Bearer KEY (the
// OpenAI SDKs), x-api-key (the Anthropic SDKs) or api-key (Azure's).
func (s *Server) authenticate(r *http.Request, auth Authenticator) *apiError {
	key := presentedKey(r.Header)
	unauthorized := func(msg string) *apiError {
		return &apiError{Status: http.StatusUnauthorized, Body: errorDetail{Type: "invalid_request_error", Code: strPtr("invalid_api_key"), Message: msg}}
	}
	if key == "" {
		return unauthorized("this Detour requires a local key: send it as Authorization: Bearer KEY or x-api-key: KEY (create one with: detour keys local add NAME)")
	}
	err := auth.Authenticate(r.Context(), key)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrNoLocalKey):
		return unauthorized("local auth is on, but no local key exists yet: create one with `detour keys local add NAME` or on the dashboard's Keys page")
	default:
		return unauthorized("the key sent is not one of this Detour's local keys (detour keys local list shows their names)")
	}
}

// presentedKey returns the key a client sent, "" when none.
func presentedKey(h http.Header) string {
	if a := h.Get("Authorization"); a != "" {
		if scheme, token, ok := strings.Cut(a, " "); ok && strings.EqualFold(scheme, "Bearer") {
			return strings.TrimSpace(token)
		}
	}
	if k := h.Get("X-Api-Key"); k != "" {
		return strings.TrimSpace(k)
	}
	return strings.TrimSpace(h.Get("Api-Key"))
}

// gate bounds how many of something run at once. The zero gate with max
// 0 admits everything.
type gate struct {
	n   atomic.Int64
	max int64
}

// enter takes a place; false when all max places are taken.
func (g *gate) enter() bool {
	if g.max <= 0 {
		return true
	}
	if g.n.Add(1) > g.max {
		g.n.Add(-1)
		return false
	}
	return true
}

// leave gives back a place taken by enter.
func (g *gate) leave() {
	if g.max > 0 {
		g.n.Add(-1)
	}
}

// busy is the 503 for a request refused because a limit is reached.
func busy(what, setting string) *apiError {
	return &apiError{Status: http.StatusServiceUnavailable, RetryAfter: time.Second, Body: errorDetail{Type: "server_error", Code: strPtr("gateway_busy"),
		Message: fmt.Sprintf("Detour is at its limit of %s (detour.server.%s); retry in a moment", what, setting)}}
}
