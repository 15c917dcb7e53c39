package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

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
		Cache:   server.CacheSettings{Enabled: d.Cache.Enabled, TTLSeconds: int64(d.Cache.TTL / time.Second), MaxMB: (d.Cache.MaxBytes + 1<<20 - 1) >> 20},
		Budgets: make([]server.BudgetSetting, 0, len(d.Budgets))}
	for _, b := range d.Budgets {
		out.Budgets = append(out.Budgets, server.BudgetSetting{Scope: b.Scope, Name: b.Name, DailyUSD: b.DailyUSD, MonthlyUSD: b.MonthlyUSD, OnExceed: b.OnExceed})
	}
	return out
}

// SaveSettings implements server.SettingsStore.
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
	if p, err := filepath.EvalSymlinks(path); err == nil {
		path = p
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if _, _, err := config.Parse(data); err != nil {
		return nil, &server.SettingsError{Message: fmt.Sprintf("the config file %s has errors; fix them there first (%v)", path, err)}
	}
	edit := config.Edit{Listen: in.Listen,
		Offline: config.Offline{Enabled: in.Offline.Enabled, OllamaHost: in.Offline.OllamaHost, Model: in.Offline.Model},
		Cache:   config.Cache{Enabled: in.Cache.Enabled, TTL: time.Duration(in.Cache.TTLSeconds) * time.Second, MaxBytes: in.Cache.MaxMB << 20}}
	for _, b := range in.Budgets {
		edit.Budgets = append(edit.Budgets, config.Budget{Scope: b.Scope, Name: b.Name, DailyUSD: b.DailyUSD, MonthlyUSD: b.MonthlyUSD, OnExceed: b.OnExceed})
	}
	out, err := config.EditDetour(data, edit)
	if err != nil {
		return nil, &server.SettingsError{Message: err.Error()}
	}
	cfg, _, err := config.Parse(out)
	if err != nil {
		return nil, settingsProblem(err, in)
	}
	if err := writeFileAtomic(path, out); err != nil {
		return nil, err
	}
	prev := g.config.Load()
	cfg.Path = prev.Path
	if err := g.Reload(cfg); err != nil {
		return nil, fmt.Errorf("the settings were saved to %s but could not be applied: %w", path, err)
	}
	g.opts.Logger.Info("settings saved from the dashboard", "file", path)
	var restart []string
	// A new listen address waits for a restart, unless it is where the
	// gateway listens already (--addr can differ from the file).
	if cfg.Detour.Listen != prev.Detour.Listen && cfg.Detour.Listen != g.listening() {
		restart = append(restart, "listen")
	}
	if cfg.Detour.Cache.Enabled != g.startCfg.Detour.Cache.Enabled { // ttl and max_bytes apply at once
		restart = append(restart, "cache")
	}
	return restart, nil
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

// writeFileAtomic replaces path with data: a temporary file in the same
// directory, synced, renamed over it, so a crash leaves the old file or
// the new one, never half of one. The file keeps its permissions.
func writeFileAtomic(path string, data []byte) error {
	mode := os.FileMode(0o600)
	if st, err := os.Stat(path); err == nil {
		mode = st.Mode().Perm()
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("save %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing to remove
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Chmod(mode)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("save %s: %w", path, err)
	}
	return nil
}
