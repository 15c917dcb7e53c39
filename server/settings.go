package server

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"strconv"
)

// Settings are the parts of the config the dashboard edits.
type Settings struct {
	// Path is the config file; ListeningOn the address this process
	// listens on (Listen takes effect on restart). Both read-only.
	Path        string `json:"path,omitempty"`
	Listen      string `json:"listen"`
	ListeningOn string `json:"listening_on,omitempty"`
	// Revision names the version of the file these settings were read
	// from. A save that sends it is refused (409) if the file changed
	// since; a save without it overwrites.
	Revision string `json:"revision,omitempty"`

	Offline OfflineSettings `json:"offline"`
	Cache   CacheSettings   `json:"cache"`
	Budgets []BudgetSetting `json:"budgets"`
	// Auth is detour.server.auth: the model API requires a local key.
	// A save without it leaves it as it is. A general_settings.master_key
	// keeps it on (MasterKey true).
	Auth      *bool `json:"auth"`
	MasterKey bool  `json:"master_key,omitempty"`
}

// OfflineSettings is the local Ollama tier; "" means the default.
type OfflineSettings struct {
	Enabled    bool   `json:"enabled"`
	OllamaHost string `json:"ollama_host"`
	Model      string `json:"model"`
}

// CacheSettings is the response cache.
type CacheSettings struct {
	Enabled    bool  `json:"enabled"`
	TTLSeconds int64 `json:"ttl_seconds"`
	MaxMB      int64 `json:"max_mb"`
}

// BudgetSetting is one budget: its daily and monthly limits in USD (0 =
// none).
type BudgetSetting struct {
	Scope      string  `json:"scope"`
	Name       string  `json:"name"`
	DailyUSD   float64 `json:"daily_usd"`
	MonthlyUSD float64 `json:"monthly_usd"`
	OnExceed   string  `json:"on_exceed"`
}

// SettingsStore reads and saves Settings.
type SettingsStore interface {
	Settings() Settings
	// SaveSettings writes s into the config file, through the same
	// validation as the file itself, and applies it. restart reports
	// settings that apply only after a restart. A *SettingsError says
	// which field is wrong.
	SaveSettings(ctx context.Context, s Settings) (restart []string, err error)
}

// SettingsError is a setting the config would refuse.
type SettingsError struct {
	// Conflict is true when the file changed since the settings were
	// read (409).
	Conflict bool
	// Param is the field, as in the JSON ("budgets[1].daily_usd"), or
	// "" when the problem is the file as a whole.
	Param   string
	Message string
}

// Error returns "param: message", or the message alone.
func (e *SettingsError) Error() string {
	if e.Param == "" {
		return e.Message
	}
	return e.Param + ": " + e.Message
}

// Validate checks s on its own (the config checks it again against the
// rest of the file).
func (s *Settings) Validate() error {
	bad := func(param, format string, args ...any) error {
		return &SettingsError{Param: param, Message: fmt.Sprintf(format, args...)}
	}
	if _, port, err := net.SplitHostPort(s.Listen); err != nil {
		return bad("listen", "must be host:port, such as 127.0.0.1:4000")
	} else if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return bad("listen", "the port must be a number from 1 to 65535")
	}
	if s.Cache.TTLSeconds < 1 {
		return bad("cache.ttl_seconds", "must be at least 1 second")
	}
	if s.Cache.MaxMB < 1 || s.Cache.MaxMB > math.MaxInt64>>20 {
		return bad("cache.max_mb", "must be at least 1 MB")
	}
	seen := map[string]bool{}
	for i, b := range s.Budgets {
		p := fmt.Sprintf("budgets[%d]", i)
		switch b.Scope {
		case "global":
			if b.Name != "" {
				return bad(p+".name", "a global budget has no name")
			}
		case "provider", "group":
			if b.Name == "" {
				return bad(p+".name", "name the %s this budget limits", b.Scope)
			}
		default:
			return bad(p+".scope", "must be global, provider or group, got %q", b.Scope)
		}
		if key := b.Scope + "/" + b.Name; seen[key] {
			return bad(p, "a second budget for the same %s; merge them into one", b.Scope)
		} else {
			seen[key] = true
		}
		for _, lim := range []struct {
			field string
			v     float64
		}{{"daily_usd", b.DailyUSD}, {"monthly_usd", b.MonthlyUSD}} {
			if !(lim.v >= 0) || math.IsInf(lim.v, 0) {
				return bad(p+"."+lim.field, "must be a number of US dollars ≥ 0")
			}
		}
		if b.DailyUSD == 0 && b.MonthlyUSD == 0 {
			return bad(p+".daily_usd", "set a daily or a monthly limit (or remove the budget)")
		}
		if b.OnExceed != "block" && b.OnExceed != "downgrade" {
			return bad(p+".on_exceed", "must be block or downgrade, got %q", b.OnExceed)
		}
	}
	return nil
}

func (s *Server) getSettings(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, s.opts.Settings.Settings())
}

// putSettings serves PUT /api/v1/settings: validate, write the config
// file, apply; a refused setting leaves the file as it was.
func (s *Server) putSettings(w http.ResponseWriter, r *http.Request) {
	var in Settings
	if e := s.readJSON(w, r, &in); e != nil {
		writeError(w, e)
		return
	}
	if in.Budgets == nil {
		in.Budgets = []BudgetSetting{}
	}
	err := in.Validate()
	var restart []string
	if err == nil {
		restart, err = s.opts.Settings.SaveSettings(r.Context(), in)
	}
	var se *SettingsError
	switch {
	case errors.As(err, &se) && se.Conflict:
		writeError(w, &apiError{Status: http.StatusConflict, Body: errorDetail{Type: "invalid_request_error", Code: strPtr("settings_conflict"), Message: se.Message}})
		return
	case errors.As(err, &se):
		writeError(w, invalidRequest(se.Message, se.Param))
		return
	case err != nil:
		writeError(w, serverError("the settings could not be saved: "+err.Error()))
		return
	}
	if restart == nil {
		restart = []string{}
	}
	writeJSON(w, struct {
		Settings        Settings `json:"settings"`
		RestartRequired bool     `json:"restart_required"`
		// Restart names the settings that wait for a restart.
		Restart []string `json:"restart"`
	}{s.opts.Settings.Settings(), len(restart) > 0, restart})
}
