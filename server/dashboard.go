package server

import (
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/detour-gateway/detour/autostart"
	"github.com/detour-gateway/detour/cache"
	"github.com/detour-gateway/detour/spend"
	"github.com/detour-gateway/detour/stats"
)

// StatsWait is the longest GET /api/v1/stats?wait= holds a request open
// before answering with unchanged numbers: 2 seconds, so the dashboard
// still sees time pass (cooldowns ending) while nothing happens.
const StatsWait = 2 * time.Second

// seriesMinutes is how many minutes of the series /api/v1/stats returns.
const seriesMinutes = 60

// CacheAdmin is what the cache endpoints need; *cache.Cache implements it.
type CacheAdmin interface {
	// Stats reports the entries, size and hit counters.
	Stats() (cache.Stats, error)
	// Clear deletes every entry.
	Clear() error
}

// CacheInfo describes the cache for GET /api/v1/cache, beside its Stats.
type CacheInfo struct {
	// Path is the cache file.
	Path string
	// TTL is how long a new answer is served fresh.
	TTL time.Duration
	// MaxBytes caps the entries' keys and values, in bytes.
	MaxBytes int64
}

// App is the program hosting the gateway, for GET /api/v1/app.
type App struct {
	// Version is the build's version.
	Version string
	// Desktop is true in Detour's own window, which can Quit.
	Desktop bool
	// Autostart is the start-on-login entry; nil: not offered.
	Autostart autostart.Entry
	// Quit ends the desktop app; called after the answer is written.
	Quit func()
}

// statsBody is GET /api/v1/stats.
type statsBody struct {
	Version      uint64    `json:"version"`
	Now          time.Time `json:"now"`
	StartedAt    time.Time `json:"started_at"`
	Endpoint     string    `json:"endpoint"`
	Status       string    `json:"status"`
	StatusReason string    `json:"status_reason,omitempty"`
	// LocalTier is set while offline: whether the local tier can answer.
	LocalTier         *LocalTierState             `json:"local_tier,omitempty"`
	RequestsPerMinute int                         `json:"requests_per_minute"`
	RequestsTotal     int                         `json:"requests_total"`
	ErrorsTotal       int                         `json:"errors_total"`
	FailoversTotal    int                         `json:"failovers_total"`
	Failovers24h      int                         `json:"failovers_24h"`
	Cache             cacheStats                  `json:"cache"`
	Series            []stats.Point               `json:"series"`
	Deployments       map[string]stats.Deployment `json:"deployments"`
}

type cacheStats struct {
	Enabled   bool    `json:"enabled"`
	Hits      int64   `json:"hits"`
	Misses    int64   `json:"misses"`
	StaleHits int64   `json:"stale_hits"`
	HitRate   float64 `json:"hit_rate"`
	SavedUSD  float64 `json:"saved_usd"`
	Entries   int64   `json:"entries"`
	Bytes     int64   `json:"bytes"`
}

// endpoint is the URL tools should use: the listener's address, with a
// wildcard host replaced by the loopback one a tool on this machine uses.
func (s *Server) endpoint() string {
	if s.opts.Listening == nil {
		return ""
	}
	addr := s.opts.Listening()
	if addr == "" {
		return ""
	}
	if host, port, err := net.SplitHostPort(addr); err == nil {
		if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
			addr = net.JoinHostPort("127.0.0.1", port)
		}
	}
	return "http://" + addr + "/v1"
}

// stats serves GET /api/v1/stats[?wait=VERSION]: with wait, it answers
// once the numbers differ from that version, or after StatsWait.
func (s *Server) stats(w http.ResponseWriter, r *http.Request) {
	if v := r.URL.Query().Get("wait"); v != "" {
		version, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			writeError(w, invalidRequest("wait must be the version of a previous answer", "wait"))
			return
		}
		s.opts.Stats.Wait(r.Context(), version, StatsWait)
	}
	snap := s.opts.Stats.Snapshot(seriesMinutes)
	body := statsBody{Version: snap.Version, Now: snap.Now.UTC(), StartedAt: time.Unix(s.started, 0).UTC(), Endpoint: s.endpoint(),
		Status: "online", RequestsPerMinute: snap.RequestsPerMinute, RequestsTotal: snap.Total.Requests, ErrorsTotal: snap.Total.Errors,
		FailoversTotal: snap.Total.Failovers, Failovers24h: snap.Last24h.Failovers, Series: snap.Series, Deployments: snap.Deployments}
	if s.opts.Offline != nil && s.opts.Offline() {
		// Only while offline is the local tier asked: then it is what
		// answers, and the dashboard must not claim it does when it cannot.
		lt := s.localTier(r.Context())
		body.Status, body.StatusReason, body.LocalTier = "offline", offlineReason(lt), &lt
	}
	if s.opts.Config != nil {
		if st := s.opts.Config(); st.Error != nil {
			body.Status, body.StatusReason = "degraded", st.Error.Message
		}
	}
	if s.opts.CacheAdmin != nil {
		if cs, err := s.opts.CacheAdmin.Stats(); err == nil {
			body.Cache = cacheStats{Enabled: true, Hits: cs.Hits, Misses: cs.Misses, StaleHits: cs.StaleHits, SavedUSD: cs.SavedUSD,
				Entries: cs.Entries, Bytes: cs.Bytes}
			if n := cs.Hits + cs.Misses; n > 0 {
				body.Cache.HitRate = float64(cs.Hits) / float64(n)
			}
		}
	}
	writeJSON(w, body)
}

// cacheInfo serves GET /api/v1/cache.
func (s *Server) cacheInfo(w http.ResponseWriter, r *http.Request) {
	type answer struct {
		Enabled    bool    `json:"enabled"`
		Path       string  `json:"path,omitempty"`
		Entries    int64   `json:"entries"`
		Bytes      int64   `json:"bytes"`
		Hits       int64   `json:"hits"`
		Misses     int64   `json:"misses"`
		StaleHits  int64   `json:"stale_hits"`
		SavedUSD   float64 `json:"saved_usd"`
		TTLSeconds int64   `json:"ttl_seconds"`
		MaxBytes   int64   `json:"max_bytes"`
	}
	if s.opts.CacheAdmin == nil {
		writeJSON(w, answer{})
		return
	}
	cs, err := s.opts.CacheAdmin.Stats()
	if err != nil {
		writeError(w, serverError("the cache could not be read: "+err.Error()))
		return
	}
	var info CacheInfo
	if s.opts.CacheInfo != nil {
		info = s.opts.CacheInfo()
	}
	writeJSON(w, answer{Enabled: true, Path: info.Path, Entries: cs.Entries, Bytes: cs.Bytes, Hits: cs.Hits, Misses: cs.Misses,
		StaleHits: cs.StaleHits, SavedUSD: cs.SavedUSD, TTLSeconds: int64(info.TTL / time.Second), MaxBytes: info.MaxBytes})
}

// clearCache serves DELETE /api/v1/cache: every entry goes; the hit and
// saving counters stay (they are history, not cache content).
func (s *Server) clearCache(w http.ResponseWriter, r *http.Request) {
	if s.opts.CacheAdmin == nil {
		writeError(w, &apiError{Status: http.StatusConflict, Body: errorDetail{Type: "invalid_request_error",
			Message: "the response cache is off (detour.cache.enabled) or could not be opened; see the log"}})
		return
	}
	before, err := s.opts.CacheAdmin.Stats()
	if err == nil {
		err = s.opts.CacheAdmin.Clear()
	}
	if err != nil {
		writeError(w, serverError("the cache could not be cleared: "+err.Error()))
		return
	}
	writeJSON(w, struct {
		Removed int64 `json:"removed"`
	}{before.Entries})
}

// BudgetState is one limit of one budget and what was spent against it.
type BudgetState struct {
	// Scope is global, provider or group; Name the provider or group.
	Scope string `json:"scope"`
	Name  string `json:"name"`
	// Period is daily or monthly (UTC).
	Period   string  `json:"period"`
	LimitUSD float64 `json:"limit_usd"`
	SpentUSD float64 `json:"spent_usd"`
	// OnExceed is block or downgrade.
	OnExceed string `json:"on_exceed"`
}

// spendBody is GET /api/v1/spend: the totals and each budget's state.
type spendBody struct {
	spend.Totals
	Budgets []BudgetState `json:"budgets"`
}

// spend serves GET /api/v1/spend.
func (s *Server) spend(w http.ResponseWriter, r *http.Request) {
	t := s.opts.Spend()
	body := spendBody{Totals: t, Budgets: []BudgetState{}}
	if s.opts.Budgets != nil {
		for _, b := range s.opts.Budgets.Limits() {
			var spent spend.Spend
			switch b.Scope {
			case spend.ScopeGlobal:
				spent = spend.Spend{TodayUSD: t.TodayUSD, MonthUSD: t.MonthUSD}
			case spend.ScopeProvider:
				spent = t.ByProvider[b.Name]
			case spend.ScopeGroup:
				spent = t.ByGroup[b.Name]
			}
			st := BudgetState{Scope: b.Scope.String(), Name: b.Name, OnExceed: b.OnExceed.String()}
			if b.DailyUSD > 0 {
				st.Period, st.LimitUSD, st.SpentUSD = "daily", b.DailyUSD, spent.TodayUSD
				body.Budgets = append(body.Budgets, st)
			}
			if b.MonthlyUSD > 0 {
				st.Period, st.LimitUSD, st.SpentUSD = "monthly", b.MonthlyUSD, spent.MonthUSD
				body.Budgets = append(body.Budgets, st)
			}
		}
	}
	writeJSON(w, body)
}

// appBody is GET /api/v1/app.
type appBody struct {
	Version   string        `json:"version"`
	Desktop   bool          `json:"desktop"`
	Endpoint  string        `json:"endpoint"`
	Autostart autostartBody `json:"autostart"`
}

type autostartBody struct {
	Supported bool   `json:"supported"`
	Enabled   bool   `json:"enabled"`
	Error     string `json:"error,omitempty"`
}

func (s *Server) appInfo(w http.ResponseWriter, r *http.Request) {
	a := s.opts.App
	body := appBody{Version: a.Version, Desktop: a.Desktop, Endpoint: s.endpoint()}
	if e := a.Autostart; e != nil && e.Supported() {
		body.Autostart.Supported = true
		on, err := e.Enabled()
		body.Autostart.Enabled = on
		if err != nil {
			body.Autostart.Error = err.Error()
		}
	}
	writeJSON(w, body)
}

// setAutostart serves PUT /api/v1/app/autostart with {"enabled": bool}.
func (s *Server) setAutostart(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Enabled *bool `json:"enabled"`
	}
	if e := s.readJSON(w, r, &body); e != nil {
		writeError(w, e)
		return
	}
	if body.Enabled == nil {
		writeError(w, invalidRequest("enabled must be true or false", "enabled"))
		return
	}
	e := s.opts.App.Autostart
	if e == nil || !e.Supported() {
		writeError(w, &apiError{Status: http.StatusNotImplemented, Body: errorDetail{Type: "invalid_request_error",
			Message: "starting Detour on login is not supported on this platform"}})
		return
	}
	if err := e.SetEnabled(*body.Enabled); err != nil {
		writeError(w, serverError("could not change start on login: "+err.Error()))
		return
	}
	s.appInfo(w, r)
}

// quit serves POST /api/v1/app/quit in the desktop app: the answer goes
// out first, then the app shuts down gracefully.
func (s *Server) quit(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	w.Write([]byte(`{"quitting":true}`))
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	go s.opts.App.Quit()
}

// changed wraps a write handler: a successful write changes what the
// dashboard shows, so stats waiters wake up.
func (s *Server) changed(h http.HandlerFunc) http.HandlerFunc {
	if s.opts.Stats == nil {
		return h
	}
	return func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		h(sw, r)
		if sw.status < 300 {
			s.opts.Stats.Changed()
		}
	}
}

type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func serverError(msg string) *apiError {
	return &apiError{Status: http.StatusInternalServerError, Body: errorDetail{Type: "server_error", Message: msg}}
}
