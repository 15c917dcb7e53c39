// Package watch notices when a config file's content changes, however it
// was changed: written in place, replaced by a rename (as editors save),
// deleted and recreated, or flipped through a symlink (as Kubernetes
// mounts configs).
package watch

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
)

// DefaultDebounce is how long a burst of file events must be quiet before
// the file is read: 100 ms.
const DefaultDebounce = 100 * time.Millisecond

// Options configure Run.
type Options struct {
	// Debounce is how long events must be quiet before the file is read.
	// Zero means DefaultDebounce.
	Debounce time.Duration
	// Logger gets a line when the file cannot be read. Nil means
	// slog.Default().
	Logger *slog.Logger
	// Ready, if set, is called once the watch is in place: a change made
	// after it returns is seen.
	Ready func()
	// Missing, if set, is called when the file is gone (deleted, or
	// renamed away) and stays gone for the debounce time. When it comes
	// back, changed is called with its content even if that is the same
	// as before.
	Missing func()
}

// Run watches the file at path until ctx is done, and calls changed with
// the file's content each time it differs from the content last seen.
// current is the content already in use (so the first call is a real
// change); Detour's own writes of a config it has applied are ignored the
// same way, by content. A file that is missing for a moment (between a
// delete and a recreate) is not reported; one that stays missing is, to
// o.Missing.
//
// It watches the directory, not the file, because a rename or a symlink
// flip replaces the file the watch would be on; when path is a symlink, the
// directory of its target is watched too.
func Run(ctx context.Context, path string, current []byte, o Options, changed func(content []byte)) error {
	if o.Debounce <= 0 {
		o.Debounce = DefaultDebounce
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watch %s: %w", path, err)
	}
	defer w.Close()
	dirs := map[string]bool{}
	watchDirs := func() error {
		for _, d := range dirsOf(path) {
			if dirs[d] {
				continue
			}
			if err := w.Add(d); err != nil {
				return fmt.Errorf("watch %s: %w", d, err)
			}
			dirs[d] = true
		}
		return nil
	}
	if err := watchDirs(); err != nil {
		return err
	}
	if o.Ready != nil {
		o.Ready()
	}
	last := sha256.Sum256(current)
	missing := false
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case err, ok := <-w.Errors:
			if !ok {
				return nil
			}
			o.Logger.Warn("config watch", "path", path, "err", err)
		case ev, ok := <-w.Events:
			if !ok {
				return nil
			}
			if ev.Op == fsnotify.Chmod || !relevant(path, ev.Name) {
				continue
			}
			timer.Reset(o.Debounce)
		case <-timer.C:
			// A symlink flip may point somewhere new: follow it.
			if err := watchDirs(); err != nil {
				o.Logger.Warn("config watch", "path", path, "err", err)
			}
			content, err := os.ReadFile(path)
			if errors.Is(err, fs.ErrNotExist) {
				if !missing && o.Missing != nil {
					o.Missing()
				}
				missing = true
				continue // wait for it to come back
			}
			if err != nil {
				o.Logger.Warn("config watch: cannot read the config", "path", path, "err", err)
				continue
			}
			if sum := sha256.Sum256(content); sum != last || missing {
				last, missing = sum, false
				changed(bytes.Clone(content))
			}
		}
	}
}

// dirsOf returns the directory of path and, when path is a symlink, the
// directory its target is in.
func dirsOf(path string) []string {
	dirs := []string{filepath.Dir(path)}
	if target, err := filepath.EvalSymlinks(path); err == nil {
		if d := filepath.Dir(target); d != dirs[0] {
			dirs = append(dirs, d)
		}
	}
	return dirs
}

// relevant reports whether an event on name can change the file at path:
// the file itself, its symlink target, or Kubernetes' "..data" and
// timestamped "..2024_…" entries.
func relevant(path, name string) bool {
	if filepath.Clean(name) == filepath.Clean(path) || strings.HasPrefix(filepath.Base(name), "..") {
		return true
	}
	target, err := filepath.EvalSymlinks(path)
	return err == nil && filepath.Clean(name) == target
}
