package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// BenchmarkAttack runs the real `detour serve` binary and attacks its door
// as a hostile or broken client would, reporting what it costs the
// machine:
//
//   - each iteration: 8 clients send 31 MiB bodies at once (the cap on
//     bytes in flight admits some and answers the rest 503);
//   - once: 1,000 keep-alive connections left idle and 1,000 bodies sent a
//     byte at a time, then how many the server still holds after its
//     idle and body timeouts (2 s here).
//
// Metrics: peak-rss-MB (the server's high-water mark), rss-after-MB,
// admitted and refused bodies per iteration, idle-open and slow-open
// (connections the server still held after the timeouts, want 0). Run by
// `make bench` with a few iterations; never asserted.
func BenchmarkAttack(b *testing.B) {
	bin := filepath.Join(b.TempDir(), "detour")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("build: %v\n%s", err, out)
	}
	dir := b.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	os.WriteFile(cfg, fmt.Appendf(nil, `model_list:
  - model_name: demo
    litellm_params: {model: mock/demo, mock_response: ok}
detour:
  spend_path: %s/spend.db
  responses_path: %s/responses.db
  cache: {path: %s/cache.db}
  request_log: {path: %s/requests.db}
  offline: {enabled: false}
  server: {idle_timeout: 2, body_timeout: 2}
`, dir, dir, dir, dir), 0o600)
	cmd := exec.Command(bin, "serve", "--config", cfg, "--addr", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_CONFIG_HOME="+dir, "XDG_CACHE_HOME="+dir)
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addrRE := regexp.MustCompile(`url=http://(127\.0\.0\.1:\d+)/v1`)
	lines := bufio.NewScanner(stderr)
	var addr string
	for addr == "" && lines.Scan() {
		if m := addrRE.FindStringSubmatch(lines.Text()); m != nil {
			addr = m[1]
		}
	}
	if addr == "" {
		b.Fatal("detour serve never said where it listens")
	}
	go io.Copy(io.Discard, stderr)
	rss := func(field string) float64 {
		status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid))
		if err != nil {
			b.Fatal(err)
		}
		m := regexp.MustCompile(field + `:\s+(\d+) kB`).FindSubmatch(status)
		kb, _ := strconv.Atoi(string(m[1]))
		return float64(kb) / 1024
	}
	idleRSS := rss("VmRSS")

	const body = 31 << 20
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}}
	var admitted, refused int
	b.ResetTimer()
	for range b.N {
		var wg sync.WaitGroup
		var mu sync.Mutex
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req, _ := http.NewRequest("POST", "http://"+addr+"/v1/chat/completions", bigBody(body))
				req.ContentLength = body
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				if err != nil {
					return // a refused body may be cut while still being sent
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				mu.Lock()
				if resp.StatusCode == http.StatusOK {
					admitted++
				} else {
					refused++
				}
				mu.Unlock()
			}()
		}
		wg.Wait()
	}
	b.StopTimer()
	b.ReportMetric(idleRSS, "idle-rss-MB")
	b.ReportMetric(rss("VmHWM"), "peak-rss-MB")
	b.ReportMetric(float64(admitted)/float64(b.N), "admitted/op")
	b.ReportMetric(float64(refused)/float64(b.N), "refused/op")

	// Idle keep-alive connections and bodies a byte at a time.
	const n = 1000
	idle := make([]net.Conn, 0, n)
	slow := make([]net.Conn, 0, n)
	chat := `{"model":"demo","messages":[{"role":"user","content":"hi"}]}`
	for range n {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			b.Fatal(err)
		}
		fmt.Fprintf(c, "POST /v1/chat/completions HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", addr, len(chat), chat)
		idle = append(idle, c)
		s, err := net.Dial("tcp", addr)
		if err != nil {
			b.Fatal(err)
		}
		fmt.Fprintf(s, "POST /v1/chat/completions HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{", addr)
		slow = append(slow, s)
	}
	b.ReportMetric(rss("VmRSS"), "rss-2000-conns-MB")
	time.Sleep(3 * time.Second) // past both 2 s timeouts
	open := func(cs []net.Conn) int {
		n := 0
		for _, c := range cs {
			c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
			if _, err := io.Copy(io.Discard, c); err != nil { // a timeout: still open
				n++
			}
			c.Close()
		}
		return n
	}
	b.ReportMetric(float64(open(idle)), "idle-open")
	b.ReportMetric(float64(open(slow)), "slow-open")
	b.ReportMetric(rss("VmRSS"), "rss-after-MB")
}

// bigBody is a chat request whose one message fills size bytes, made as
// it is read so the client holds none of it.
func bigBody(size int) io.Reader {
	head := `{"model":"demo","messages":[{"role":"user","content":"`
	tail := `"}]}`
	return io.MultiReader(strings.NewReader(head),
		io.LimitReader(repeatReader('x'), int64(size-len(head)-len(tail))), strings.NewReader(tail))
}

// repeatReader reads as an endless run of one byte.
type repeatReader byte

func (r repeatReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r)
	}
	return len(p), nil
}
