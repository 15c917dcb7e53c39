package router

import (
	"context"
	"log/slog"
	"net"
	"slices"
	"sync"
	"time"
)

// DefaultProbeInterval is how often Hosts checks whether a host out of
// reach answers again: 5 seconds.
const DefaultProbeInterval = 5 * time.Second

// Hosts knows which upstream hosts are out of reach. Reachability is a
// property of a host, not of the machine: when an attempt cannot connect
// to a host at all (DNS failure, connection refused, no route), every
// deployment on that host is skipped, without cooling it, until a cheap
// probe (a TCP connection; nothing is sent) reaches the host again or a
// request does. Deployments on other hosts are untouched.
//
// The machine is offline when every cloud host is out of reach; that
// ends as soon as any one answers. Hosts outlives config reloads and is
// safe for concurrent use.
type Hosts struct {
	probe    func(ctx context.Context, host string) bool
	interval time.Duration
	log      *slog.Logger
	ctx      context.Context
	now      func() time.Time

	mu    sync.Mutex
	down  map[string]outage // by host
	cloud []string          // the hosts whose loss means offline
	next  int               // the number of the next outage

	// OnChange, if set before the Hosts is used, is called after a host
	// goes out of reach or comes back.
	OnChange func()
}

// outage is one spell of a host out of reach.
type outage struct {
	since time.Time
	n     int // which outage: the watch of an earlier one stops
}

// NewHosts returns a Hosts that checks a host out of reach every interval
// (0 means DefaultProbeInterval) with probe, until ctx is done. A nil
// probe dials the host ("host:port") over TCP.
func NewHosts(ctx context.Context, probe func(ctx context.Context, host string) bool, interval time.Duration, log *slog.Logger) *Hosts {
	if interval <= 0 {
		interval = DefaultProbeInterval
	}
	if log == nil {
		log = slog.Default()
	}
	if probe == nil {
		probe = dial
	}
	return &Hosts{probe: probe, interval: interval, log: log, ctx: ctx, now: time.Now, down: map[string]outage{}}
}

// dial reports whether a TCP connection to host can be made.
func dial(ctx context.Context, host string) bool {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", host)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// SetCloud sets the cloud hosts ("host:port"): the machine is offline when
// every one of them is out of reach.
func (h *Hosts) SetCloud(hosts []string) {
	if h == nil {
		return
	}
	h.mu.Lock()
	h.cloud = slices.Clone(hosts)
	h.mu.Unlock()
}

// Reachable reports whether host may be tried: it is not known to be out
// of reach. The empty host (a deployment with no network host, such as
// the mock) always is.
func (h *Hosts) Reachable(host string) bool {
	if h == nil || host == "" {
		return true
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	_, down := h.down[host]
	return !down
}

// Down returns the hosts out of reach, sorted.
func (h *Hosts) Down() []string {
	if h == nil {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]string, 0, len(h.down))
	for host := range h.down {
		out = append(out, host)
	}
	slices.Sort(out)
	return out
}

// Offline reports whether every cloud host is out of reach, and since
// when (the moment the last of them went). With no cloud host there is
// nothing to be offline from.
func (h *Hosts) Offline() (bool, time.Time) {
	if h == nil {
		return false, time.Time{}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.cloud) == 0 {
		return false, time.Time{}
	}
	var since time.Time
	for _, host := range h.cloud {
		o, down := h.down[host]
		if !down {
			return false, time.Time{}
		}
		if o.since.After(since) {
			since = o.since
		}
	}
	return true, since
}

// markDown records that host could not be reached and starts the probe
// that notices its return.
func (h *Hosts) markDown(host string) {
	if h == nil || host == "" {
		return
	}
	h.mu.Lock()
	_, already := h.down[host]
	n := h.next
	if !already {
		h.down[host] = outage{since: h.now(), n: n}
		h.next++
	}
	h.mu.Unlock()
	if already {
		return
	}
	h.log.Warn("upstream host out of reach: its deployments are skipped until it answers", "host", host, "probe_every", h.interval)
	h.changed()
	go h.watch(host, n)
}

// markUp records that host answered.
func (h *Hosts) markUp(host string) {
	if h == nil || host == "" {
		return
	}
	h.mu.Lock()
	o, down := h.down[host]
	delete(h.down, host)
	h.mu.Unlock()
	if down {
		h.log.Info("upstream host reachable again", "host", host, "out_for", h.now().Sub(o.since).Round(time.Second))
		h.changed()
	}
}

// watch probes host through outage n until it answers, a request
// reached it (ending the outage), or the context ends. It runs on real
// time, not the router's clock: a fake clock would make it spin.
func (h *Hosts) watch(host string, n int) {
	t := time.NewTicker(h.interval)
	defer t.Stop()
	for {
		select {
		case <-h.ctx.Done():
			return
		case <-t.C:
		}
		h.mu.Lock()
		o, down := h.down[host]
		h.mu.Unlock()
		if !down || o.n != n {
			return // a request got through first; a later outage has its own watch
		}
		ctx, cancel := context.WithTimeout(h.ctx, h.interval)
		back := h.probe(ctx, host)
		cancel()
		if back {
			h.markUp(host)
			return
		}
	}
}

func (h *Hosts) changed() {
	if h.OnChange != nil {
		h.OnChange()
	}
}
