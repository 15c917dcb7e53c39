//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly || windows

package main

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestInstanceLock(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "detour")
	first, err := acquireInstance(dir, true, 0)
	if err != nil {
		t.Fatal(err)
	}
	shown := make(chan int, 4)
	go first.serve(func(n int) { shown <- n })

	// A second launch asks the first to show its window, sending only
	// its argument count.
	if _, err := acquireInstance(dir, true, 3); !errors.Is(err, errRunning) {
		t.Fatalf("second acquire: %v, want errRunning", err)
	}
	select {
	case n := <-shown:
		if n != 3 {
			t.Errorf("show(%d), want show(3)", n)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the first instance was never asked to show its window")
	}
	// --hidden: no request at all.
	if _, err := acquireInstance(dir, false, 1); !errors.Is(err, errRunning) {
		t.Fatalf("hidden second acquire: %v, want errRunning", err)
	}
	// Garbage on the socket is ignored and does not stop the listener.
	for _, junk := range []string{"show -1\n", "exec rm -rf /\n", "show 99999999999999999999\n", "show 2"} {
		conn, err := net.Dial("unix", filepath.Join(dir, "desktop.sock"))
		if err != nil {
			t.Fatal(err)
		}
		conn.Write([]byte(junk))
		conn.(*net.UnixConn).CloseWrite()
		buf := make([]byte, 8)
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		if n, _ := conn.Read(buf); n != 0 {
			t.Errorf("%q was answered %q", junk, buf[:n])
		}
		conn.Close()
	}
	select {
	case n := <-shown:
		t.Errorf("junk made the instance show its window (%d)", n)
	default:
	}

	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "desktop.sock")); !os.IsNotExist(err) {
		t.Errorf("socket left after Close: %v", err)
	}
	// Released: the next launch is the instance, even with a stale socket
	// file in the way.
	os.WriteFile(filepath.Join(dir, "desktop.sock"), nil, 0o600)
	again, err := acquireInstance(dir, true, 0)
	if err != nil {
		t.Fatalf("acquire after release: %v", err)
	}
	again.Close()
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("instance dir mode %v, %v; want 0700", fi.Mode().Perm(), err)
	}
}

func TestInstanceDir(t *testing.T) {
	env := map[string]string{"XDG_RUNTIME_DIR": "/run/user/1000"}
	if d, err := instanceDir(func(k string) string { return env[k] }); err != nil || d != filepath.Join("/run/user/1000", "detour") {
		t.Errorf("instanceDir = %q, %v", d, err)
	}
	env["XDG_RUNTIME_DIR"] = "relative/dir" // not absolute: ignored
	if d, err := instanceDir(func(k string) string { return env[k] }); err == nil && filepath.Dir(d) == "relative" {
		t.Errorf("instanceDir used a relative $XDG_RUNTIME_DIR: %q", d)
	}
}
