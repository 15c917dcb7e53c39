package app_test

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/detour-gateway/detour/app"
	"github.com/detour-gateway/detour/router/provider/anthropic/anthropictest"
	"github.com/detour-gateway/detour/router/provider/ollama/ollamatest"
	"github.com/detour-gateway/detour/router/provider/openai/openaitest"
)

// BenchmarkProxyOverhead measures the latency Detour adds: each iteration
// calls a zero-latency in-process upstream once directly and once through
// the gateway, and the benchmark reports the percentiles of both and of the
// difference (added-p50-µs, added-p99-µs).
func BenchmarkProxyOverhead(b *testing.B) {
	for _, stream := range []bool{false, true} {
		name := "chat"
		body := `{"model":"bench","messages":[{"role":"user","content":"Say hello in one short sentence."}]}`
		if stream {
			name = "stream"
			body = `{"model":"bench","stream":true,"messages":[{"role":"user","content":"Say hello in one short sentence."}]}`
		}
		b.Run(name, func(b *testing.B) {
			up := openaitest.New(b, openaitest.Reply{Text: "Hello! How can I help you today?"})
			gwURL := startBenchGateway(b, up.URL)
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
			call := func(url string) time.Duration { return timedPost(b, client, url+"/chat/completions", body) }
			call(up.URL) // warm the connection pools
			call(gwURL)
			direct := make([]time.Duration, 0, b.N)
			proxied := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for range b.N {
				direct = append(direct, call(up.URL))
				proxied = append(proxied, call(gwURL))
			}
			b.StopTimer()
			slices.Sort(direct)
			slices.Sort(proxied)
			us := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
			b.ReportMetric(us(pct(direct, 50)), "direct-p50-µs")
			b.ReportMetric(us(pct(proxied, 50)), "proxied-p50-µs")
			b.ReportMetric(us(pct(proxied, 50)-pct(direct, 50)), "added-p50-µs")
			b.ReportMetric(us(pct(proxied, 99)-pct(direct, 99)), "added-p99-µs")
		})
	}
}

func pct(sorted []time.Duration, p int) time.Duration {
	return sorted[min(len(sorted)*p/100, len(sorted)-1)]
}

func startBenchGateway(b *testing.B, upstream string) string {
	return serve(b, "model_list:\n  - model_name: bench\n    litellm_params: {model: openai/gpt-4o, api_base: "+upstream+"}\n", app.Options{}, false).url
}

// BenchmarkCacheHit measures a cache hit through the gateway against a
// direct call to a zero-latency in-process upstream (hit-p50-µs vs
// direct-p50-µs), then hit throughput with parallel clients (hits/s).
func BenchmarkCacheHit(b *testing.B) {
	up := openaitest.New(b, openaitest.Reply{Text: "Hello! How can I help you today?"})
	gw := serve(b, "model_list:\n  - model_name: bench\n    litellm_params: {model: openai/gpt-4o, api_base: "+up.URL+"}\n", app.Options{}, true)
	const body = `{"model":"bench","temperature":0,"messages":[{"role":"user","content":"Say hello in one short sentence."}]}`
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	call := func(url string) time.Duration { return timedPost(b, client, url+"/chat/completions", body) }
	call(up.URL)
	call(gw.url) // the miss that fills the cache
	if err := gw.gw.Cache().Flush(); err != nil {
		b.Fatal(err)
	}
	calls := up.Count()
	direct := make([]time.Duration, 0, b.N)
	hits := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		direct = append(direct, call(up.URL))
		hits = append(hits, call(gw.url))
	}
	b.StopTimer()
	if up.Count() != calls+b.N {
		b.Fatalf("the upstream saw %d gateway calls: not every request was a hit", up.Count()-calls-b.N)
	}
	slices.Sort(direct)
	slices.Sort(hits)
	us := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
	b.ReportMetric(us(pct(direct, 50)), "direct-p50-µs")
	b.ReportMetric(us(pct(hits, 50)), "hit-p50-µs")
	b.ReportMetric(us(pct(hits, 99)), "hit-p99-µs")

	n := max(b.N, 2000)
	start := time.Now()
	var wg sync.WaitGroup
	next := make(chan struct{}, n)
	for range n {
		next <- struct{}{}
	}
	close(next)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range next {
				call(gw.url)
			}
		}()
	}
	wg.Wait()
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "hits/s")
}

// BenchmarkOfflineDegraded measures what a degraded request costs on top
// of Ollama's own time while the machine is offline: the same chat request
// sent to an in-process fake Ollama directly (POST /api/chat) and through
// the gateway, whose cloud deployments refuse connections.
func BenchmarkOfflineDegraded(b *testing.B) {
	llama := ollamatest.New(b, ollamatest.Reply{Text: "Answered by the local model."})
	gw := serve(b, offlineConfig(openaitest.ClosedAddr(b), openaitest.ClosedAddr(b), llama.URL, ", model: llama3.2"), app.Options{}, false)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	direct := func() time.Duration {
		return timedPost(b, client, llama.URL+"/api/chat", `{"model":"llama3.2","stream":false,"messages":[{"role":"user","content":"Say hello."}]}`)
	}
	through := func() time.Duration {
		return timedPost(b, client, gw.url+"/chat/completions", `{"model":"main","messages":[{"role":"user","content":"Say hello."}]}`)
	}
	through() // the request that finds the cloud unreachable and goes offline
	if off, _ := gw.gw.Offline(); !off {
		b.Fatal("the gateway did not go offline")
	}
	direct()
	d := make([]time.Duration, 0, b.N)
	g := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		d = append(d, direct())
		g = append(g, through())
	}
	b.StopTimer()
	slices.Sort(d)
	slices.Sort(g)
	us := func(x time.Duration) float64 { return float64(x) / float64(time.Microsecond) }
	b.ReportMetric(us(pct(d, 50)), "ollama-p50-µs")
	b.ReportMetric(us(pct(g, 50)), "degraded-p50-µs")
	b.ReportMetric(us(pct(g, 50)-pct(d, 50)), "added-p50-µs")
	b.ReportMetric(us(pct(g, 99)-pct(d, 99)), "added-p99-µs")
}

// timedPost posts body to url, reads the whole answer, and returns how long
// that took. Anything but a 200 ends the benchmark. It sends the headers an
// Anthropic client sends too (the others ignore them).
func timedPost(b *testing.B, client *http.Client, url, body string) time.Duration {
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("x-api-key", "bench")
	req.Header.Set("anthropic-version", "2023-06-01")
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		b.Fatalf("status %d from %s", resp.StatusCode, url)
	}
	return time.Since(start)
}

// BenchmarkDialects measures the latency each client API adds over a
// direct call to the same zero-latency in-process upstream in its own
// format: Chat Completions to OpenAI (the baseline), Messages passed
// through to Anthropic, Messages translated to OpenAI, and Responses
// translated to OpenAI and to Anthropic (added-p50-µs, added-p99-µs).
func BenchmarkDialects(b *testing.B) {
	oa := openaitest.New(b, openaitest.Reply{Text: "Hello! How can I help you today?"})
	an := anthropictest.New(b, anthropictest.Reply{Text: "Hello! How can I help you today?"})
	gw := serve(b, "model_list:\n"+
		"  - model_name: gpt\n    litellm_params: {model: openai/gpt-4o, api_base: "+oa.URL+"}\n"+
		"  - model_name: claude\n    litellm_params: {model: anthropic/claude-sonnet-4-5, api_base: "+an.URL+"}\n", app.Options{}, false)
	root := strings.TrimSuffix(gw.url, "/v1")
	const prompt = "Say hello in one short sentence."
	chatBody := `{"model":"%s","messages":[{"role":"user","content":"` + prompt + `"}]}`
	messagesBody := `{"model":"%s","max_tokens":256,"messages":[{"role":"user","content":"` + prompt + `"}]}`
	responsesBody := `{"model":"%s","store":false,"input":"` + prompt + `"}`
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	post := func(url, body string) time.Duration { return timedPost(b, client, url, body) }
	directOpenAI := func() time.Duration { return post(oa.URL+"/chat/completions", fmt.Sprintf(chatBody, "gpt-4o")) }
	directAnthropic := func() time.Duration {
		return post(an.URL+"/v1/messages", fmt.Sprintf(messagesBody, "claude-sonnet-4-5"))
	}
	cases := []struct {
		name   string
		direct func() time.Duration
		url    string
		body   string
	}{
		{"chat-to-openai", directOpenAI, root + "/v1/chat/completions", fmt.Sprintf(chatBody, "gpt")},
		{"messages-passthrough-anthropic", directAnthropic, root + "/v1/messages", fmt.Sprintf(messagesBody, "claude")},
		{"messages-translated-openai", directOpenAI, root + "/v1/messages", fmt.Sprintf(messagesBody, "gpt")},
		{"responses-translated-openai", directOpenAI, root + "/v1/responses", fmt.Sprintf(responsesBody, "gpt")},
		{"responses-translated-anthropic", directAnthropic, root + "/v1/responses", fmt.Sprintf(responsesBody, "claude")},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			c.direct()
			post(c.url, c.body)
			direct := make([]time.Duration, 0, b.N)
			through := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for range b.N {
				direct = append(direct, c.direct())
				through = append(through, post(c.url, c.body))
			}
			b.StopTimer()
			slices.Sort(direct)
			slices.Sort(through)
			us := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
			b.ReportMetric(us(pct(direct, 50)), "direct-p50-µs")
			b.ReportMetric(us(pct(through, 50)-pct(direct, 50)), "added-p50-µs")
			b.ReportMetric(us(pct(through, 99)-pct(direct, 99)), "added-p99-µs")
		})
	}
}
