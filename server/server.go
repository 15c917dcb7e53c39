// Package server is Detour's HTTP API: the OpenAI-compatible endpoints
// (/v1/chat/completions, /v1/embeddings, /v1/models) and /health. It decodes and checks
// requests, hands them to the router, and writes answers, streams and
// errors in OpenAI's wire format with Detour's x-detour-* headers.
package server

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/detour-gateway/detour/alerts"
	"github.com/detour-gateway/detour/chat"
	"github.com/detour-gateway/detour/redact"
	"github.com/detour-gateway/detour/requestlog"
	"github.com/detour-gateway/detour/router"
	"github.com/detour-gateway/detour/spend"
	"github.com/detour-gateway/detour/stats"
)

// DefaultMaxBodyBytes bounds a request body when Options.MaxBodyBytes is 0:
// 32 MiB.
const DefaultMaxBodyBytes = 32 << 20

// Options configure a Server.
type Options struct {
	// Router returns the router for a new request. It is called once per
	// request, so a reloaded config applies to new requests while those in
	// flight finish on the router they started with. Required.
	Router func() *router.Router
	// Logger gets one line per request. Nil means slog.Default().
	Logger *slog.Logger
	// MaxBodyBytes bounds a request body. 0 means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// NewID returns a request id. Nil means 12 random bytes in hex.
	NewID func() string
	// Cache answers repeated requests. Nil means no cache.
	Cache Cache
	// Config reports the config file's state for /health and
	// /api/v1/config. Nil means always healthy.
	Config func() ConfigState
	// Admin serves /api/v1/deployments and the chaos switch. Nil means
	// those endpoints are not served.
	Admin Admin
	// RequestLog keeps decision traces for /api/v1/requests. Nil means
	// none are kept.
	RequestLog RequestLog
	// LogPrompts keeps the messages in the traces; default false.
	LogPrompts bool
	// Budgets reserves each request's estimated cost and records what it
	// cost. Nil means spend is not tracked.
	Budgets Budgets
	// Spend reports spend totals for /api/v1/spend. Nil means the
	// endpoint is not served.
	Spend func() spend.Totals
	// Keys serves /api/v1/keys. Nil means those endpoints are not served.
	Keys Keys
	// LocalKeys serves /api/v1/local-keys. Nil means not served.
	LocalKeys LocalKeys
	// Responses keeps the Responses API's stored answers. Nil means none
	// are kept: previous_response_id and GET /v1/responses/{id} find
	// nothing.
	Responses ResponseStore
	// Observe, if set, is given the record of every model request once it
	// is answered (the request log's record, prompt or not), for metrics,
	// alerts and traces. It must not block.
	Observe func(requestlog.Record)
	// Metrics serves GET /metrics (Prometheus' format) behind the same
	// door as /v1: Host and Origin checks, and the local key when local
	// auth is on. Nil means /metrics is not served.
	Metrics http.Handler
	// Alerts reports the alerts firing and their history for GET
	// /api/v1/alerts. Nil means the endpoint is not served.
	Alerts func() alerts.Snapshot
	// Stats keeps the dashboard's live numbers for /api/v1/stats. Nil
	// means none are kept and the endpoint is not served.
	Stats *stats.Recorder
	// CacheAdmin and CacheInfo serve /api/v1/cache. Nil means the cache
	// is off.
	CacheAdmin CacheAdmin
	CacheInfo  func() CacheInfo
	// Settings serves /api/v1/settings. Nil means not served.
	Settings SettingsStore
	// App describes the program hosting the gateway, for /api/v1/app.
	App App
	// Offline reports whether the machine is offline (the local tier
	// answers), for /api/v1/stats. Nil means never.
	Offline func() bool
	// LocalTier checks what the local tier (a local Ollama) can do, for
	// the status of /api/v1/stats while offline; it is called on every
	// such poll, so it should cache its answer and bound its wait. Nil
	// means unknown: the status then never claims the local tier answers.
	LocalTier LocalTierFunc
	// Listening returns the address the gateway listens on ("" before it
	// does), for the endpoint the dashboard shows. Nil means unknown.
	Listening func() string
	// Dashboard is the built dashboard (index.html at its root), served
	// at /ui/. Nil means /ui/ says it was not built.
	Dashboard fs.FS
	// Door says who may use the gateway; SetDoor changes it later. The
	// zero Door answers loopback names only, to no web page, without a
	// local key.
	Door Door
	// Limits bound timeouts, sizes and concurrency; zero fields take the
	// defaults.
	Limits Limits
	// Secrets are removed from every error answer and management API
	// answer. Nil means none are known.
	Secrets *redact.Secrets
	// InterfaceAddrs lists this machine's addresses, answered as Host
	// names when the gateway listens on a wildcard address. Nil means
	// net.InterfaceAddrs.
	InterfaceAddrs func() ([]net.Addr, error)
}

// Server serves Detour's HTTP API.
type Server struct {
	opts    Options
	mux     *http.ServeMux
	started int64
	door    atomic.Pointer[door]
	// refusedHosts are the Host names refused and logged so far (each
	// is logged once); refusedCount caps how many are remembered.
	refusedHosts sync.Map
	refusedCount atomic.Int64
	localAddrs   addrCache
	inflight     gate // model API requests in flight
	streams      gate // streams open
	bodies       byteBudget
	// memoryReturned is when memory was last handed back to the
	// system, in unix nanoseconds.
	memoryReturned atomic.Int64
}

// New returns a Server.
func New(o Options) *Server {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.NewID == nil {
		o.NewID = randomID
	}
	if o.InterfaceAddrs == nil {
		o.InterfaceAddrs = net.InterfaceAddrs
	}
	o.Limits = o.Limits.withDefaults()
	s := &Server{opts: o, mux: http.NewServeMux(), started: time.Now().Unix()}
	s.localAddrs.list = o.InterfaceAddrs
	s.inflight.max, s.streams.max = int64(o.Limits.MaxRequests), int64(o.Limits.MaxStreams)
	s.bodies.max = o.Limits.MaxInflightBytes
	listen := ""
	if o.Listening != nil {
		listen = o.Listening()
	}
	s.SetDoor(o.Door, listen)
	for _, prefix := range []string{"/v1", ""} { // OpenAI clients differ on whether the base has /v1
		s.mux.HandleFunc(prefix+"/chat/completions", s.method(http.MethodPost, s.chatCompletions))
		s.mux.HandleFunc(prefix+"/embeddings", s.method(http.MethodPost, s.embeddings))
		s.mux.HandleFunc(prefix+"/messages", s.method(http.MethodPost, s.messages))
		s.mux.HandleFunc(prefix+"/messages/count_tokens", s.method(http.MethodPost, s.countTokens))
		s.mux.HandleFunc(prefix+"/responses", s.method(http.MethodPost, s.createResponse))
		s.mux.HandleFunc(prefix+"/responses/{id}", s.responseByID)
		s.mux.HandleFunc(prefix+"/models", s.method(http.MethodGet, s.models))
		s.mux.HandleFunc(prefix+"/models/{model...}", s.method(http.MethodGet, s.model))
	}
	s.mux.HandleFunc("/health", s.method(http.MethodGet, s.health))
	if o.Metrics != nil {
		s.mux.HandleFunc("/metrics", s.method(http.MethodGet, o.Metrics.ServeHTTP))
	}
	s.mux.HandleFunc("/api/v1/config", s.method(http.MethodGet, s.configState))
	if o.Keys != nil {
		s.mux.HandleFunc("GET /api/v1/keys", s.listKeys)
		s.mux.HandleFunc("PUT /api/v1/keys/{name}", s.changed(s.setKey))
		s.mux.HandleFunc("DELETE /api/v1/keys/{name}", s.changed(s.deleteKey))
		s.mux.HandleFunc("POST /api/v1/keys/{name}/test", s.changed(s.testKey))
	}
	if o.LocalKeys != nil {
		s.mux.HandleFunc("GET /api/v1/local-keys", s.listLocalKeys)
		s.mux.HandleFunc("POST /api/v1/local-keys", s.changed(s.addLocalKey))
		s.mux.HandleFunc("DELETE /api/v1/local-keys/{name}", s.changed(s.removeLocalKey))
	}
	if o.Spend != nil {
		s.mux.HandleFunc("/api/v1/spend", s.method(http.MethodGet, s.spend))
	}
	if o.Alerts != nil {
		s.mux.HandleFunc("GET /api/v1/alerts", s.alerts)
	}
	if o.Stats != nil {
		s.mux.HandleFunc("GET /api/v1/stats", s.stats)
	}
	s.mux.HandleFunc("GET /api/v1/cache", s.cacheInfo)
	s.mux.HandleFunc("DELETE /api/v1/cache", s.changed(s.clearCache))
	if o.Settings != nil {
		s.mux.HandleFunc("GET /api/v1/settings", s.getSettings)
		s.mux.HandleFunc("PUT /api/v1/settings", s.changed(s.putSettings))
	}
	s.mux.HandleFunc("GET /api/v1/app", s.appInfo)
	s.mux.HandleFunc("PUT /api/v1/app/autostart", s.changed(s.setAutostart))
	if o.App.Quit != nil {
		s.mux.HandleFunc("POST /api/v1/app/quit", s.quit)
	}
	s.mux.Handle("GET /ui/", s.dashboard())
	s.mux.Handle("GET /{$}", http.RedirectHandler("/ui/", http.StatusFound))
	if o.RequestLog != nil {
		s.mux.HandleFunc("/api/v1/requests", s.method(http.MethodGet, s.requests))
		s.mux.HandleFunc("/api/v1/requests/{id}", s.method(http.MethodGet, s.request))
	}
	if o.Admin != nil {
		s.mux.HandleFunc("/api/v1/deployments", s.method(http.MethodGet, s.deployments))
		s.mux.HandleFunc("/api/v1/deployments/{id}/chaos", s.method(http.MethodPost, s.changed(s.chaos)))
	}
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, &apiError{Status: http.StatusNotFound, Body: errorDetail{Type: "invalid_request_error",
			Message: fmt.Sprintf("no such endpoint: %s %s; Detour serves POST /v1/chat/completions, POST /v1/messages, POST /v1/responses, POST /v1/embeddings and GET /v1/models", r.Method, r.URL.Path)}})
	})
	return s
}

// ServeHTTP serves the API. Every request passes the door first: a Host
// the gateway answers to; then, for the management API and the
// dashboard, a connection from this machine and no other web page; for
// the model API, an allowed web page if any, a JSON body, the local key
// when local auth is on, and room under the limits; for /metrics, the
// model API's web page and local key checks.
func (s *Server) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	management := strings.HasPrefix(r.URL.Path, "/api/") || strings.HasPrefix(r.URL.Path, "/ui/")
	w := &response{ResponseWriter: rw, secrets: s.opts.Secrets, writeTimeout: s.opts.Limits.WriteTimeout, all: management}
	if messagesPath(r.URL.Path) {
		w.errorShape = anthropicError
	}
	defer w.finish()
	d := s.door.Load()
	switch {
	case !d.hostAllowed(r.Host):
		s.refuseHost(w, r)
		return
	case management:
		if e := guardAPI(r); e != nil {
			writeError(w, e)
			return
		}
	case r.URL.Path == "/health" || r.URL.Path == "/":
	case r.URL.Path == "/metrics":
		// The model API's door, without its limits: a scrape must get
		// through when the gateway is busiest.
		if !s.guardModelAPI(w, r, d) {
			return
		}
	default:
		if r.ContentLength != 0 {
			// From here: a body refused unread is not waited for longer.
			http.NewResponseController(rw).SetReadDeadline(time.Now().Add(s.opts.Limits.BodyTimeout))
		}
		if !s.guardModelAPI(w, r, d) {
			return
		}
		if !s.inflight.enter() {
			writeError(w, busy("requests at once", "max_requests"))
			return
		}
		defer s.inflight.leave()
		release, e := s.admitBody(r)
		if e != nil {
			writeError(w, e)
			return
		}
		defer release()
	}
	s.mux.ServeHTTP(w, r)
}

// InProcess returns the API without the guards for browsers on the
// network (loopback peer and Host, same Origin): for a host that calls it
// in-process from Detour's own page only, such as the desktop window,
// whose requests come under the host's own scheme and name. Writes must
// still be JSON, as over the network.
func (s *Server) InProcess() http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		w := &response{ResponseWriter: rw, secrets: s.opts.Secrets, all: true}
		defer w.finish()
		if strings.HasPrefix(r.URL.Path, "/api/") {
			if e := jsonWrites(r); e != nil {
				writeError(w, e)
				return
			}
		}
		s.mux.ServeHTTP(w, r)
	})
}

func (s *Server) method(m string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != m {
			w.Header().Set("Allow", m)
			writeError(w, &apiError{Status: http.StatusMethodNotAllowed, Body: errorDetail{Type: "invalid_request_error",
				Message: fmt.Sprintf("%s %s is not allowed; use %s", r.Method, r.URL.Path, m)}})
			return
		}
		h(w, r)
	}
}

func randomID() string {
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

type modelObject struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	OwnedBy string `json:"owned_by"`
}

func (s *Server) modelObject(group string) modelObject {
	return modelObject{ID: group, Object: "model", Created: s.started, OwnedBy: "detour"}
}

func (s *Server) models(w http.ResponseWriter, r *http.Request) {
	rt := s.opts.Router()
	groups := rt.Groups()
	aliases := slices.Sorted(maps.Keys(rt.Aliases()))
	list := struct {
		Object string        `json:"object"`
		Data   []modelObject `json:"data"`
	}{Object: "list", Data: make([]modelObject, 0, len(groups)+len(aliases))}
	for _, g := range append(groups, aliases...) {
		list.Data = append(list.Data, s.modelObject(g))
	}
	writeJSON(w, list)
}

func (s *Server) model(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("model")
	if _, ok := s.opts.Router().Resolve(name); !ok {
		writeError(w, unknownModel(name, s.opts.Router().Groups()))
		return
	}
	writeJSON(w, s.modelObject(name))
}

// writeJSON writes v as a 200 JSON answer and returns the status written.
func writeJSON(w http.ResponseWriter, v any) int {
	b, err := json.Marshal(v)
	if err != nil {
		e := &apiError{Status: http.StatusInternalServerError, Body: errorDetail{Type: "server_error", Message: "could not encode the answer"}}
		writeError(w, e)
		return e.Status
	}
	return writeBody(w, b)
}

// writeBody writes b, a JSON document, as a 200 answer.
func writeBody(w http.ResponseWriter, b []byte) int {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.Write(b)
	return http.StatusOK
}

func unknownModel(name string, groups []string) *apiError {
	list := groups
	if len(list) > 20 {
		list = list[:20]
	}
	return &apiError{Status: http.StatusNotFound, Body: errorDetail{Type: "invalid_request_error", Param: strPtr("model"), Code: strPtr("model_not_found"),
		Message: fmt.Sprintf("the model %q does not exist in Detour's config; available model groups: %s", name, strings.Join(list, ", "))}}
}

// readJSON reads a request body (see readBody) and decodes it into v.
func (s *Server) readJSON(w http.ResponseWriter, r *http.Request, v any) *apiError {
	body, e := s.readBody(w, r)
	if e != nil {
		return e
	}
	if err := json.Unmarshal(body, v); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field != "" {
			return invalidRequest(fmt.Sprintf("invalid type for %s: expected %s, got JSON %s", typeErr.Field, typeErr.Type, typeErr.Value), typeErr.Field)
		}
		return invalidRequest("the request body is not valid JSON: "+err.Error(), "")
	}
	return nil
}

// decodeRequest reads and checks a chat-completion request body.
func (s *Server) decodeRequest(w http.ResponseWriter, r *http.Request) (*chat.Request, *apiError) {
	var req chat.Request
	if e := s.readJSON(w, r, &req); e != nil {
		return nil, e
	}
	if req.Model == "" {
		return nil, invalidRequest("you must provide a model parameter (a model group from GET /v1/models)", "model")
	}
	if len(req.Messages) == 0 {
		return nil, invalidRequest("messages must be a non-empty array", "messages")
	}
	for i, m := range req.Messages {
		switch m.Role {
		case "system", "developer", "user", "assistant", "tool", "function":
		default:
			return nil, invalidRequest(fmt.Sprintf("messages[%d].role must be one of system, developer, user, assistant, tool, function; got %q", i, m.Role),
				fmt.Sprintf("messages[%d].role", i))
		}
	}
	return &req, nil
}
