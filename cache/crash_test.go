package cache

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// The environment of TestCrashWriterHelper, set by TestCrashSafety.
const (
	crashPathEnv  = "DETOUR_CACHE_CRASH_PATH"  // the cache file
	crashStartEnv = "DETOUR_CACHE_CRASH_START" // the first entry to put
)

// TestCrashWriterHelper is the child process of TestCrashSafety, not a test
// of its own: it puts entries start, start+1, … forever, flushing every 50
// and printing "flushed N" once entries up to N are committed.
func TestCrashWriterHelper(t *testing.T) {
	path := os.Getenv(crashPathEnv)
	if path == "" {
		t.Skip("the child process of TestCrashSafety")
	}
	start, err := strconv.Atoi(os.Getenv(crashStartEnv))
	if err != nil {
		t.Fatal(err)
	}
	c, err := Open(path, Options{Logger: discard})
	if err != nil {
		fmt.Printf("open: %v\n", err)
		os.Exit(1)
	}
	for i := start; ; i++ {
		c.Put(testKey(i), testValue(i), 0, 0)
		if i%50 != 49 {
			continue
		}
		if err := c.Flush(); err != nil {
			fmt.Printf("flush: %v\n", err)
			os.Exit(1)
		}
		if s, _ := c.Stats(); s.Dropped != 0 {
			fmt.Printf("dropped %d puts\n", s.Dropped) // what was "flushed" would be a lie
			os.Exit(1)
		}
		fmt.Printf("flushed %d\n", i)
	}
}

// TestCrashSafety kills a process with SIGKILL while it writes the cache,
// five times over, and checks after each that the file opens as it is (not
// moved aside), every entry in it is whole, the indexes and totals agree,
// and every entry the child reported committed is there.
func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	path := filepath.Join(t.TempDir(), "cache.db")
	next := 0 // the first entry the next child puts
	// Kill at once after a report, or a moment later, to land in different
	// places of the child's put-commit cycle.
	for round, delay := range []time.Duration{0, 4 * time.Millisecond, 9 * time.Millisecond, 15 * time.Millisecond, 26 * time.Millisecond} {
		flushed := runCrashChild(t, path, next, next+1000, delay)
		logger, logs := newLogBuffer()
		c, _ := openTestCache(t, path, Options{Logger: logger}, hooks{})
		if aside, _ := filepath.Glob(path + ".corrupt-*"); len(aside) != 0 {
			t.Fatalf("round %d: the file was found corrupt and moved aside:\n%s", round, logs)
		}

		present := map[int]bool{}
		err := c.db.View(func(tx *bolt.Tx) error {
			return tx.Bucket(bucketEntries).ForEach(func(k, raw []byte) error {
				r, err := decodeRecord(raw, true)
				if err != nil {
					return fmt.Errorf("entry %x: %w", k, err)
				}
				i, err := checkValue(r.value)
				if err != nil {
					return fmt.Errorf("entry %x: %w", k, err)
				}
				if key := testKey(i); string(k) != string(key[:]) {
					return fmt.Errorf("entry %d stored under the key of another", i)
				}
				present[i] = true
				return nil
			})
		})
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		for i := 0; i <= flushed; i++ {
			if !present[i] {
				t.Fatalf("round %d: entry %d missing; the child reported entries up to %d committed", round, i, flushed)
			}
		}
		assertConsistent(t, c)
		t.Logf("round %d: killed after entry %d was reported committed; %d entries in the file", round, flushed, len(present))
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		next = flushed + 1
		for present[next] { // written after the last report, before the kill
			next++
		}
	}
}

// runCrashChild starts TestCrashWriterHelper on path putting from start,
// kills it with SIGKILL delay after it has reported entries up to at least
// until committed, and returns the last entry it reported committed.
func runCrashChild(t *testing.T, path string, start, until int, delay time.Duration) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashWriterHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashPathEnv+"="+path, crashStartEnv+"="+strconv.Itoa(start))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	guard := time.AfterFunc(2*time.Minute, func() { cmd.Process.Kill() }) // a hang guard only
	defer guard.Stop()

	flushed := -1
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		line := sc.Text()
		n, ok := strings.CutPrefix(line, "flushed ")
		if !ok {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("child: %s", line)
		}
		if flushed, err = strconv.Atoi(n); err != nil {
			t.Fatalf("child: %s", line)
		}
		if flushed >= until {
			break // the child is writing on: kill it mid-write
		}
	}
	time.Sleep(delay)
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	if flushed < until {
		t.Fatalf("child stopped after reporting %d of %d: %v", flushed, until, err)
	}
	if ws, ok := cmd.ProcessState.Sys().(interface{ Signaled() bool }); ok && runtime.GOOS != "windows" && !ws.Signaled() {
		t.Fatalf("child was not killed by the signal: %v", err)
	}
	return flushed
}
