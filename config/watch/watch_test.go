package watch

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// started runs Run on path and returns the channel of changes it reports.
func started(t *testing.T, path string) <-chan string {
	t.Helper()
	current, _ := os.ReadFile(path)
	ctx, cancel := context.WithCancel(context.Background())
	changes := make(chan string, 16)
	done := make(chan error, 1)
	ready := make(chan struct{})
	go func() {
		o := Options{Debounce: 20 * time.Millisecond, Ready: func() { close(ready) }}
		done <- Run(ctx, path, current, o, func(b []byte) { changes <- string(b) })
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	<-ready
	return changes
}

// next waits (bounded) for the next reported change.
func next(t *testing.T, changes <-chan string) string {
	t.Helper()
	select {
	case c := <-changes:
		return c
	case <-time.After(5 * time.Second):
		t.Fatal("no change reported")
		return ""
	}
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestRun(t *testing.T) {
	tests := []struct {
		name   string
		change func(t *testing.T, dir, path string)
	}{
		{"in-place truncate and write", func(t *testing.T, dir, path string) {
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.WriteString("v2")
			f.Close()
		}},
		{"rename over", func(t *testing.T, dir, path string) {
			tmp := filepath.Join(dir, ".config.yaml.swp")
			write(t, tmp, "v2")
			if err := os.Rename(tmp, path); err != nil {
				t.Fatal(err)
			}
		}},
		{"delete and recreate", func(t *testing.T, dir, path string) {
			os.Remove(path)
			time.Sleep(30 * time.Millisecond) // a gap longer than the debounce: the delete alone must not report
			write(t, path, "v2")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "config.yaml")
			write(t, path, "v1")
			changes := started(t, path)
			tt.change(t, dir, path)
			if got := next(t, changes); got != "v2" {
				t.Errorf("change = %q, want v2", got)
			}
		})
	}
}

// TestSymlinkFlip mounts a config the way Kubernetes does: config.yaml ->
// ..data/config.yaml, ..data -> ..2026_01_01, and an update flips ..data.
func TestSymlinkFlip(t *testing.T) {
	dir := t.TempDir()
	for v, content := range map[string]string{"..2026_01_01": "v1", "..2026_01_02": "v2"} {
		os.Mkdir(filepath.Join(dir, v), 0o700)
		write(t, filepath.Join(dir, v, "config.yaml"), content)
	}
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.Symlink("..2026_01_01", filepath.Join(dir, "..data")))
	must(os.Symlink(filepath.Join("..data", "config.yaml"), filepath.Join(dir, "config.yaml")))
	changes := started(t, filepath.Join(dir, "config.yaml"))
	must(os.Symlink("..2026_01_02", filepath.Join(dir, "..data_tmp")))
	must(os.Rename(filepath.Join(dir, "..data_tmp"), filepath.Join(dir, "..data")))
	if got := next(t, changes); got != "v2" {
		t.Errorf("change = %q, want v2", got)
	}
}

func TestIgnoresSameContentAndOtherFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	write(t, path, "v1")
	changes := started(t, path)
	write(t, path, "v1")                              // Detour's own write of what it runs, or a touch
	write(t, filepath.Join(dir, "other.yaml"), "xyz") // a neighbour
	os.Chmod(path, 0o644)
	write(t, path, "v3") // then a real change: the only one reported
	if got := next(t, changes); got != "v3" {
		t.Errorf("first reported change = %q, want v3", got)
	}
	select {
	case c := <-changes:
		t.Errorf("extra change %q reported", c)
	case <-time.After(100 * time.Millisecond):
	}
}

func TestBurstIsDebounced(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	write(t, path, "v0")
	changes := started(t, path)
	for _, v := range []string{"v1", "v2", "v3", "v4"} {
		write(t, path, v)
	}
	if got := next(t, changes); got != "v4" {
		t.Errorf("change = %q, want only the last of the burst", got)
	}
}

func TestMissingReported(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	write(t, path, "v1")
	current, _ := os.ReadFile(path)
	ctx, cancel := context.WithCancel(context.Background())
	changes, missing := make(chan string, 16), make(chan struct{}, 16)
	ready, done := make(chan struct{}), make(chan error, 1)
	go func() {
		o := Options{Debounce: 20 * time.Millisecond, Ready: func() { close(ready) }, Missing: func() { missing <- struct{}{} }}
		done <- Run(ctx, path, current, o, func(b []byte) { changes <- string(b) })
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	<-ready
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	select {
	case <-missing:
	case <-time.After(5 * time.Second):
		t.Fatal("a deleted config was not reported")
	}
	// Back with the very content it had: still reported, so whoever was
	// told it is missing hears it is back.
	write(t, path, "v1")
	if got := next(t, changes); got != "v1" {
		t.Errorf("restored content %q, want v1", got)
	}
	if len(missing) != 0 {
		t.Error("one deletion reported more than once")
	}
}
