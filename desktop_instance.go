package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// errRunning reports that another Detour app holds the instance lock and
// was asked to show its window.
var errRunning = errors.New("Detour is already running")

// instance is this user's one Detour app (`detour` with no command). It
// holds an exclusive lock on dir/desktop.lock while it runs (flock, or
// LockFileEx on Windows: the kernel drops it when the process ends,
// however it ends, so no lock is ever stale) and listens on the unix
// socket dir/desktop.sock, where a later launch asks it to show its
// window. It needs no D-Bus.
type instance struct {
	lock *os.File
	ln   net.Listener
}

// instanceDir is where the lock and the socket live: $XDG_RUNTIME_DIR/detour
// (the user's own tmpfs, mode 0700), else <user cache dir>/detour
// (%LocalAppData%\detour on Windows).
func instanceDir(getenv func(string) string) (string, error) {
	if d := getenv("XDG_RUNTIME_DIR"); filepath.IsAbs(d) {
		return filepath.Join(d, "detour"), nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("find a directory for the instance lock: %w", err)
	}
	return filepath.Join(d, "detour"), nil
}

// acquireInstance takes the instance lock in dir. When another process
// holds it, acquireInstance returns errRunning, after asking that one to
// show its window if show is set: it tells it nothing but how many
// arguments this launch had (nargs).
func acquireInstance(dir string, show bool, nargs int) (*instance, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create %s: %w", dir, err)
	}
	// MkdirAll leaves an existing directory as it was: only this user may
	// reach the socket that shows the window.
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, fmt.Errorf("restrict %s: %w", dir, err)
	}
	lockPath, sock := filepath.Join(dir, "desktop.lock"), filepath.Join(dir, "desktop.sock")
	f, err := os.OpenFile(lockPath, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open the instance lock: %w", err)
	}
	if held, err := tryLock(f); err != nil || !held {
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("lock %s: %w", lockPath, err)
		}
		if !show {
			return nil, errRunning
		}
		if err := askToShow(sock, nargs); err != nil {
			return nil, fmt.Errorf("Detour is already running (it holds %s) but did not answer: %w", lockPath, err)
		}
		return nil, errRunning
	}
	// Holding the lock, no other instance listens: a socket file left by
	// one that died is stale.
	if err := os.Remove(sock); err != nil && !errors.Is(err, os.ErrNotExist) {
		f.Close()
		return nil, fmt.Errorf("remove the stale %s: %w", sock, err)
	}
	ln, err := net.Listen("unix", sock)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("listen for later launches: %w", err)
	}
	return &instance{lock: f, ln: ln}, nil
}

// askToShow asks the instance listening on sock to show its window. It
// retries for a while: the holder of the lock may not listen yet.
func askToShow(sock string, nargs int) error {
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := sendShow(sock, nargs, deadline)
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// sendShow sends "show NARGS" and waits for "ok".
func sendShow(sock string, nargs int, deadline time.Time) error {
	conn, err := net.DialTimeout("unix", sock, time.Until(deadline))
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetDeadline(deadline)
	if _, err := fmt.Fprintf(conn, "show %d\n", nargs); err != nil {
		return err
	}
	reply, err := bufio.NewReader(io.LimitReader(conn, 16)).ReadString('\n')
	if err != nil {
		return fmt.Errorf("read the answer: %w", err)
	}
	if reply != "ok\n" {
		return fmt.Errorf("unexpected answer %q", reply)
	}
	return nil
}

// serve answers later launches until Close, calling show with each one's
// argument count. A request is read as untrusted: at most 32 bytes, and
// nothing but "show N" is acted on.
func (i *instance) serve(show func(nargs int)) {
	for {
		conn, err := i.ln.Accept()
		if err != nil {
			return // closed
		}
		go func() {
			defer conn.Close()
			conn.SetDeadline(time.Now().Add(2 * time.Second))
			line, err := bufio.NewReader(io.LimitReader(conn, 32)).ReadString('\n')
			if err != nil {
				return
			}
			rest, ok := strings.CutPrefix(line, "show ")
			n, err := strconv.Atoi(strings.TrimSuffix(rest, "\n"))
			if !ok || err != nil || n < 0 {
				return
			}
			show(n)
			io.WriteString(conn, "ok\n")
		}()
	}
}

// Close stops answering and releases the lock.
func (i *instance) Close() error {
	return errors.Join(i.ln.Close(), i.lock.Close())
}
