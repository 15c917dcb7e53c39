package app

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/detour-gateway/detour/atomicfile"
	"github.com/detour-gateway/detour/config"
	"github.com/detour-gateway/detour/server"
)

// settingsStore implements server.SettingsStore over the config file:
// a save edits the file's detour section, validates the whole file as a
// reload would, writes it atomically and reloads it.
type settingsStore struct{ g *Gateway }

// Settings implements server.SettingsStore.
func (s settingsStore) Settings() server.Settings {
	cfg := s.g.config.Load()
	d := cfg.Detour
	out := server.Settings{Path: cfg.Path, Listen: d.Listen, ListeningOn: s.g.listening(),
		Offline: server.OfflineSettings{Enabled: d.Offline.Enabled, OllamaHost: d.Offline.OllamaHost, Model: d.Offline.Model},
		Cache:   server.CacheSettings{Enabled: d.Cache.Enabled, TTLSeconds: int64(d.Cache.TTL / time.Second), MaxMB: megabytes(d.Cache.MaxBytes)},
		Budgets: make([]server.BudgetSetting, 0, len(d.Budgets)), Auth: &d.Server.Auth, MasterKey: d.Server.MasterKey.Set()}
	for _, b := range d.Budgets {
		out.Budgets = append(out.Budgets, server.BudgetSetting{Scope: b.Scope, Name: b.Name, DailyUSD: b.DailyUSD, MonthlyUSD: b.MonthlyUSD, OnExceed: b.OnExceed})
	}
	if cfg.Path != "" {
		if data, err := os.ReadFile(cfg.Path); err == nil {
			out.Revision = revision(data)
		}
	}
	return out
}

// megabytes is a size in whole MiB, rounded up.
func megabytes(n int64) int64 { return (n + 1<<20 - 1) >> 20 }

// revision names a version of the config file: a save against another
// one is refused, so a change made meanwhile (by hand, or in another
// window) is never silently undone.
func revision(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:8])
}

// SaveSettings implements server.SettingsStore. Only the settings that
// differ from the file are written, so the rest of the file stays as the
// user wrote it.
func (s settingsStore) SaveSettings(ctx context.Context, in server.Settings) ([]string, error) {
	g := s.g
	g.saveMu.Lock()
	defer g.saveMu.Unlock()
	path := g.config.Load().Path
	if path == "" {
		return nil, &server.SettingsError{Message: "this gateway was started without a config file; there is nothing to save the settings to"}
	}
	// Write through a symlink to its target, so a linked config (dotfiles,
	// Kubernetes ..data) stays linked.
	target := path
	if p, err := filepath.EvalSymlinks(path); err == nil {
		target = p
	}
	data, err := os.ReadFile(target)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", target, err)
	}
	if in.Revision != "" && in.Revision != revision(data) {
		return nil, &server.SettingsError{Conflict: true,
			Message: "the config file changed since these settings were read (edited by hand or in another window); reload them and make the change again"}
	}
	cur, _, err := config.Parse(data)
	if err != nil {
		return nil, &server.SettingsError{Message: fmt.Sprintf("the config file %s has errors; fix them there first (%v)", path, err)}
	}
	out, err := config.EditDetour(data, settingsEdit(cur.Detour, in))
	if err != nil {
		return nil, &server.SettingsError{Message: err.Error()}
	}
	cfg, _, err := config.Parse(out)
	if err != nil {
		return nil, settingsProblem(err, in)
	}
	if !bytes.Equal(out, data) {
		mode := os.FileMode(0o600)
		if st, err := os.Stat(target); err == nil {
			mode = st.Mode().Perm() // the file keeps its permissions
		}
		if err := atomicfile.Write(target, out, mode); err != nil {
			return nil, fmt.Errorf("save the settings: %w", err)
		}
	}
	cfg.Path = path
	// The watcher will see the new file; with its revision applied here,
	// it leaves it.
	if err := g.reload(cfg, revision(out)); err != nil {
		return nil, fmt.Errorf("the settings were saved to %s but could not be applied: %w", target, err)
	}
	g.opts.Logger.Info("settings saved from the dashboard", "file", target)
	var restart []string
	// The listen address and turning the cache on or off wait for a
	// restart, unless the process already runs that way (--addr).
	if cfg.Detour.Listen != g.startCfg.Detour.Listen && !sameAddr(cfg.Detour.Listen, g.listening()) {
		restart = append(restart, "listen")
	}
	if cfg.Detour.Cache.Enabled != g.startCfg.Detour.Cache.Enabled {
		restart = append(restart, "cache")
	}
	return restart, nil
}

// settingsEdit is what of in differs from the file's detour section d.
func settingsEdit(d config.Detour, in server.Settings) config.Edit {
	var e config.Edit
	if in.Listen != d.Listen {
		e.Listen = &in.Listen
	}
	if o := in.Offline; o.Enabled != d.Offline.Enabled {
		e.OfflineEnabled = &in.Offline.Enabled
	}
	if in.Offline.OllamaHost != d.Offline.OllamaHost {
		e.OllamaHost = &in.Offline.OllamaHost
	}
	if in.Offline.Model != d.Offline.Model {
		e.OllamaModel = &in.Offline.Model
	}
	if in.Cache.Enabled != d.Cache.Enabled {
		e.CacheEnabled = &in.Cache.Enabled
	}
	if ttl := time.Duration(in.Cache.TTLSeconds) * time.Second; ttl != d.Cache.TTL {
		e.CacheTTL = &ttl
	}
	// Settings shows the size in whole MB: the same number keeps the
	// exact bytes of the file.
	if in.Cache.MaxMB != megabytes(d.Cache.MaxBytes) {
		n := in.Cache.MaxMB << 20
		e.CacheMaxBytes = &n
	}
	budgets := make([]config.Budget, 0, len(in.Budgets))
	for _, b := range in.Budgets {
		budgets = append(budgets, config.Budget{Scope: b.Scope, Name: b.Name, DailyUSD: b.DailyUSD, MonthlyUSD: b.MonthlyUSD, OnExceed: b.OnExceed})
	}
	if !sameBudgets(budgets, d.Budgets) {
		e.Budgets = &budgets
	}
	if in.Auth != nil && *in.Auth != d.Server.Auth {
		e.Auth = in.Auth
	}
	return e
}

// sameBudgets reports whether a and b hold the same budgets, in any order.
func sameBudgets(a, b []config.Budget) bool {
	if len(a) != len(b) {
		return false
	}
	key := func(x config.Budget) config.Budget { x.Line = 0; return x }
	seen := map[config.Budget]int{}
	for _, x := range a {
		seen[key(x)]++
	}
	for _, x := range b {
		if seen[key(x)]--; seen[key(x)] < 0 {
			return false
		}
	}
	return true
}

// sameAddr reports whether listen addresses a and b are the same port on
// the same host, taking every loopback name for one.
func sameAddr(a, b string) bool {
	ha, pa, err1 := net.SplitHostPort(a)
	hb, pb, err2 := net.SplitHostPort(b)
	if err1 != nil || err2 != nil || pa != pb {
		return false
	}
	loopback := func(h string) bool {
		ip := net.ParseIP(h)
		return h == "localhost" || ip != nil && ip.IsLoopback()
	}
	return ha == hb || loopback(ha) && loopback(hb)
}

// settingsProblem turns the config's verdict on the edited file into the
// field of the settings it is about.
func settingsProblem(err error, in server.Settings) error {
	var cerr *config.Error
	if !errors.As(err, &cerr) || len(cerr.Problems) == 0 {
		return &server.SettingsError{Message: err.Error()}
	}
	p := cerr.Problems[0]
	param := ""
	switch key := p.Key; {
	case key == "detour.listen":
		param = "listen"
	case key == "detour.server.auth":
		param = "auth"
	case strings.HasPrefix(key, "detour.offline."):
		param = "offline." + strings.TrimPrefix(key, "detour.offline.")
	case key == "detour.cache.ttl":
		param = "cache.ttl_seconds"
	case key == "detour.cache.max_bytes":
		param = "cache.max_mb"
	case strings.HasPrefix(key, "detour.budgets."):
		// detour.budgets.groups.NAME[.field]: the budget of that group.
		rest := strings.TrimPrefix(key, "detour.budgets.")
		for i, b := range in.Budgets {
			if prefix := b.Scope + "s." + b.Name; rest == prefix || strings.HasPrefix(rest, prefix+".") {
				param = fmt.Sprintf("budgets[%d].name", i)
				if field := strings.TrimPrefix(rest, prefix+"."); field != rest {
					param = fmt.Sprintf("budgets[%d].%s", i, field)
				}
			}
		}
	}
	return &server.SettingsError{Param: param, Message: p.Message}
}
