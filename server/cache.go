package server

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/detour-gateway/detour/cache"
	"github.com/detour-gateway/detour/chat"
	"github.com/detour-gateway/detour/router"
	"github.com/detour-gateway/detour/router/provider"
)

// Cache is what the server needs of the response cache; *cache.Cache
// implements it.
type Cache interface {
	Get(key [32]byte, maxAge time.Duration, allowStale bool) (cache.Entry, error)
	Put(key [32]byte, value []byte, ttl time.Duration, saved float64)
	RecordMiss()
	// Mode says which requests use the cache. It is read for each
	// request, so a reload that changes it applies to the next one.
	Mode() cache.Mode
}

// Values of the x-detour-cache response header.
const (
	cacheHit    = "HIT"
	cacheMiss   = "MISS"
	cacheBypass = "BYPASS"
	cacheStale  = "STALE"
)

// cachePolicy is what one request asks of the cache: from the
// Cache-Control and x-detour-cache headers and LiteLLM's body field
// "cache": {"no-cache", "no-store", "ttl", "s-maxage", "namespace",
// "use-cache"}.
type cachePolicy struct {
	noRead, noWrite bool
	maxAge          time.Duration // accept only younger entries; 0 = any fresh one
	ttl             time.Duration // this answer's lifetime; 0 = the configured TTL
	namespace       string
	// asked is true when the request asks for a cached answer in so many
	// words: Cache-Control max-age > 0, or a body "cache" with
	// "use-cache": true (LiteLLM's opt-in when its cache is default_off),
	// a ttl, or an s-maxage > 0. Such a request uses the cache in the
	// deterministic mode whatever its temperature: the client said it
	// wants the answer kept, or accepts a kept one. A namespace alone is
	// not asking: it says where, not whether (a team sets it on every
	// request).
	asked bool
}

// readCachePolicy reads the request's cache directives and removes the body
// field, which no provider would accept.
func readCachePolicy(h http.Header, req *chat.Request) (cachePolicy, *apiError) {
	var p cachePolicy
	if strings.EqualFold(strings.TrimSpace(h.Get("X-Detour-Cache")), "bypass") {
		p.noRead, p.noWrite = true, true
	}
	for _, d := range strings.Split(h.Get("Cache-Control"), ",") {
		name, value, _ := strings.Cut(strings.TrimSpace(strings.ToLower(d)), "=")
		switch name {
		case "no-cache":
			p.noRead = true
		case "no-store":
			p.noWrite = true
		case "max-age":
			n, err := strconv.Atoi(value)
			if err != nil || n < 0 {
				return p, invalidRequest(fmt.Sprintf("Cache-Control max-age must be a whole number of seconds, got %q", value), "")
			}
			p.maxAge = time.Duration(n) * time.Second
			if n == 0 {
				p.noRead = true
			} else {
				p.asked = true
			}
		}
	}
	raw, ok := req.Extra["cache"]
	if !ok {
		return p, nil
	}
	delete(req.Extra, "cache")
	var body struct {
		NoCache   bool     `json:"no-cache"`
		NoStore   bool     `json:"no-store"`
		TTL       *float64 `json:"ttl"`
		SMaxAge   *float64 `json:"s-maxage"`
		Namespace string   `json:"namespace"`
		UseCache  *bool    `json:"use-cache"`
	}
	if err := json.Unmarshal(raw, &body); err != nil {
		return p, invalidRequest(`cache must be an object like {"no-cache": true, "ttl": 600, "namespace": "team-a"}`, "cache")
	}
	p.noRead = p.noRead || body.NoCache
	p.noWrite = p.noWrite || body.NoStore
	p.namespace = body.Namespace
	if body.UseCache != nil {
		// true opts in; false opts out, both ways, like x-detour-cache: bypass.
		p.asked = p.asked || *body.UseCache
		p.noRead, p.noWrite = p.noRead || !*body.UseCache, p.noWrite || !*body.UseCache
	}
	if body.TTL != nil {
		if *body.TTL <= 0 {
			return p, invalidRequest("cache.ttl must be a number of seconds > 0", "cache.ttl")
		}
		p.ttl = time.Duration(*body.TTL * float64(time.Second))
		p.asked = true
	}
	if body.SMaxAge != nil {
		if *body.SMaxAge < 0 {
			return p, invalidRequest("cache.s-maxage must be a number of seconds ≥ 0", "cache.s-maxage")
		}
		p.maxAge = time.Duration(*body.SMaxAge * float64(time.Second))
		p.asked = p.asked || *body.SMaxAge > 0
	}
	return p, nil
}

// cachedAnswer is what the cache stores for one answer: the whole answer
// in the non-streamed shape, as the client got it, and who gave it.
type cachedAnswer struct {
	Group, Provider, Deployment string
	// Response is the answer's JSON, written to a non-streaming client as
	// it is: a hit costs no decoding.
	Response []byte
}

// encode lays the answer out as three length-prefixed names, then the
// response bytes.
func (a *cachedAnswer) encode() []byte {
	b := make([]byte, 0, 3*binary.MaxVarintLen64+len(a.Group)+len(a.Provider)+len(a.Deployment)+len(a.Response))
	for _, s := range []string{a.Group, a.Provider, a.Deployment} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	return append(b, a.Response...)
}

// decodeAnswer reads what encode wrote; ok is false for anything else.
func decodeAnswer(b []byte) (a cachedAnswer, ok bool) {
	names := make([]string, 3)
	for i := range names {
		n, w := binary.Uvarint(b)
		if w <= 0 || uint64(len(b)-w) < n {
			return a, false
		}
		names[i], b = string(b[w:w+int(n)]), b[w+int(n):]
	}
	a.Group, a.Provider, a.Deployment, a.Response = names[0], names[1], names[2], b
	return a, len(b) > 0 && b[0] == '{' // the cache checks integrity (CRC); this checks the layout
}

// cacheable reports whether resp is a complete, successful answer worth
// keeping: every choice ended with stop, length or tool_calls.
func cacheable(resp *chat.Response) bool {
	if len(resp.Choices) == 0 {
		return false
	}
	for _, c := range resp.Choices {
		switch c.FinishReason {
		case "stop", "length", "tool_calls":
		default:
			return false
		}
	}
	return true
}

// cacheUse is one request's use of the cache.
type cacheUse struct {
	// on: a cache is configured and the request's group is known, so the
	// answer says what the cache did (x-detour-cache). Whether it reads or
	// writes is the policy's.
	on     bool
	key    [32]byte // zero for a request the mode leaves out
	policy cachePolicy
}

// useCache decides whether req can use the cache and computes its key.
// Requests for unknown groups never reach the cache: they get a 404. A
// request the cache mode leaves out is a bypass (x-detour-cache: BYPASS,
// so the client sees why it was not answered from the cache): it is
// neither read nor written, nor answered stale when every provider fails.
func (s *Server) useCache(rt *router.Router, req *chat.Request, p cachePolicy) cacheUse {
	if s.opts.Cache == nil || !slices.Contains(rt.Groups(), req.Model) {
		return cacheUse{}
	}
	if !modeAdmits(s.opts.Cache.Mode(), req, p) {
		return cacheUse{on: true, policy: cachePolicy{noRead: true, noWrite: true}}
	}
	key, err := cache.Key(req.Model, p.namespace, req)
	if err != nil {
		return cacheUse{}
	}
	return cacheUse{on: true, key: key, policy: p}
}

// modeAdmits reports whether the cache mode m lets req, with its policy p,
// use the cache. ModeAll admits every request, ModeOff none (an explicit
// ask included: off is the operator's switch). ModeDeterministic admits a
// request that asks for the same answer again, or that asks for a cached
// answer explicitly (p.asked).
func modeAdmits(m cache.Mode, req *chat.Request, p cachePolicy) bool {
	switch m {
	case cache.ModeAll:
		return true
	case cache.ModeOff:
		return false
	}
	return p.asked || deterministic(req)
}

// deterministic reports whether req asks for the same answer each time:
// temperature exactly 0 (greedy decoding), or a seed. A request without a
// temperature gets the provider's default, about 1 for OpenAI, Anthropic
// and Gemini: it samples, so it is not deterministic unless it sets a
// seed. Other sampling fields (top_p, top_k) do not make a request
// deterministic on their own.
func deterministic(req *chat.Request) bool {
	return req.Seed != nil || (req.Temperature != nil && *req.Temperature == 0)
}

// answerFromCache answers a hit and reports whether it did; on a miss or a
// bypass it sets the x-detour-cache header the answer will carry.
func (s *Server) answerFromCache(w http.ResponseWriter, req *chat.Request, d dialect, cu cacheUse, ex *exchange) bool {
	if !cu.on {
		return false
	}
	ex.cache = cacheMiss
	if cu.policy.noRead {
		ex.cache = cacheBypass
	} else if a := s.lookup(cu.key, cu.policy.maxAge, false); a != nil {
		ex.cache, ex.status = cacheHit, s.replay(w, req, d, a, cacheHit)
		return true
	} else {
		s.opts.Cache.RecordMiss()
	}
	w.Header().Set("X-Detour-Cache", ex.cache)
	return false
}

// store hands resp, encoded as body (nil: encode it here), to the cache.
// The cache writes in the background, so this never delays the answer.
func (s *Server) store(cu cacheUse, tr *router.Trace, resp *chat.Response, body []byte) {
	if !cu.on || cu.policy.noWrite || !cacheable(resp) {
		return
	}
	if body == nil {
		var err error
		if body, err = json.Marshal(resp); err != nil {
			return
		}
	}
	d := tr.Answered
	a := cachedAnswer{Group: d.Group, Provider: d.Provider, Deployment: d.ID, Response: body}
	cost, _ := costOf(d.Price, resp.Usage) // what each later hit saves; 0 when the price is unknown
	s.opts.Cache.Put(cu.key, a.encode(), cu.policy.ttl, cost)
}

// lookup returns the cached answer for key, or nil.
func (s *Server) lookup(key [32]byte, maxAge time.Duration, allowStale bool) *cachedAnswer {
	e, err := s.opts.Cache.Get(key, maxAge, allowStale)
	if err != nil {
		return nil
	}
	a, ok := decodeAnswer(e.Value)
	if !ok {
		return nil
	}
	return &a
}

// serveStale answers from an expired entry when every provider failed for
// a reason that is not the request's own fault. It reports whether it
// answered. It follows the same rule as a fresh read: a request that may
// not read the cache (no-cache, bypass, or left out by the mode) gets no
// stale answer either. In the deterministic mode such an entry could only
// have been written before the mode changed.
func (s *Server) serveStale(w http.ResponseWriter, req *chat.Request, d dialect, cu cacheUse, err error, ex *exchange) bool {
	var pe *provider.Error
	if !cu.on || cu.policy.noRead || !errors.As(err, &pe) || pe.Class.Final() {
		return false
	}
	a := s.lookup(cu.key, 0, true)
	if a == nil {
		return false
	}
	ex.cache, ex.err = cacheStale, err
	ex.status = s.replay(w, req, d, a, cacheStale)
	return true
}

// replay answers from the cache in the dialect d, as JSON or as a
// stream, and returns the status written.
func (s *Server) replay(w http.ResponseWriter, req *chat.Request, d dialect, a *cachedAnswer, state string) int {
	h := w.Header()
	h.Set("X-Detour-Cache", state)
	h.Set("X-Detour-Provider", a.Provider)
	h.Set("X-Detour-Deployment", a.Deployment)
	h.Set("X-Detour-Model-Group", a.Group)
	h.Set("X-Detour-Attempts", "0")
	h.Set("X-Detour-Fallbacks", "0")
	h.Set("X-Detour-Cost", "0")
	if !req.Stream {
		return d.answer(w, req, a.Response, nil)
	}
	var resp chat.Response
	if err := json.Unmarshal(a.Response, &resp); err != nil {
		e := &apiError{Status: http.StatusInternalServerError, Body: errorDetail{Type: "server_error", Message: "a cached answer could not be read"}}
		writeError(w, e)
		return e.Status
	}
	out := d.stream(s, w, req)
	out.start()
	for _, c := range chat.Chunks(&resp, true) {
		if out.send(c) != nil {
			return http.StatusOK
		}
	}
	out.done()
	return http.StatusOK
}
