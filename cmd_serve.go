package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"

	"github.com/detour-gateway/detour/app"
	"github.com/detour-gateway/detour/autostart"
	"github.com/detour-gateway/detour/config"
)

// gatewayFlags are the options `detour serve` and the desktop app share.
type gatewayFlags struct {
	config, addr string
	// hidden starts the desktop app without its window (desktop only).
	hidden bool
}

// parseGatewayFlags parses the gateway's flags; with desktop, --hidden too.
// synopsis follows "detour " in the usage line.
func (c *cli) parseGatewayFlags(name, synopsis string, args []string, desktop bool) (gatewayFlags, error) {
	var f gatewayFlags
	flags := c.newFlags(name, synopsis)
	flags.StringVar(&f.config, "config", "", "config file (default $DETOUR_CONFIG, else <user config dir>/detour/config.yaml)")
	flags.StringVar(&f.addr, "addr", "", "listen address (default detour.listen from the config, else "+config.DefaultListen+")")
	if desktop {
		flags.BoolVar(&f.hidden, "hidden", false, "start without showing the window, as on login")
	}
	if err := parseFlags(flags, args); err != nil {
		return f, err
	}
	if flags.NArg() > 0 {
		return f, fmt.Errorf("%w: %s takes no arguments, got %q", errUsage, name, flags.Args())
	}
	return f, nil
}

func (c *cli) serve(ctx context.Context, args []string) error {
	f, err := c.parseGatewayFlags("serve", "serve [--config FILE] [--addr HOST:PORT]", args, false)
	if err != nil {
		return err
	}
	gw, err := c.openGateway(f, c.logger(), app.Options{})
	if err != nil {
		return err
	}
	return gw.run(ctx)
}

// logger returns the logger of serve and the desktop app: text on stderr.
func (c *cli) logger() *slog.Logger { return slog.New(slog.NewTextHandler(c.stderr, nil)) }

// gateway is a gateway ready to serve: config loaded, listener bound.
type gateway struct {
	*app.Gateway
	cfg *config.Config
	ln  net.Listener
	log *slog.Logger
}

// openGateway loads the config that f names, builds the gateway with o
// (filling in keys, logger, version and, unless set, the start-on-login
// entry) and binds its listener.
func (c *cli) openGateway(f gatewayFlags, log *slog.Logger, o app.Options) (*gateway, error) {
	cfg, err := c.loadConfig(f.config, true, log)
	if err != nil {
		return nil, err
	}
	listen := cfg.Detour.Listen
	if f.addr != "" {
		listen = f.addr
		if !cfg.Detour.Server.Auth && !config.LoopbackAddr(listen) {
			return nil, fmt.Errorf("refusing to listen on %s with local auth off: anyone on the network could use your providers' keys. "+
				"Turn local auth on first (set detour.server.auth: true in %s and create a key with `detour keys local add NAME`), or use --addr 127.0.0.1:PORT",
				listen, cfg.Path)
		}
	}
	setMemoryLimit(cfg.Detour.Server, c.getenv, log)
	o.Keys, o.Getenv, o.Logger, o.Version = c.keys, c.getenv, log, buildVersion()
	if o.Autostart == nil {
		o.Autostart = autostartEntry(f)
	}
	gw, err := app.New(cfg, o)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		gw.Close()
		return nil, fmt.Errorf("listen on %s: %w (is another Detour running? pick another with --addr)", listen, err)
	}
	return &gateway{Gateway: gw, cfg: cfg, ln: ln, log: log}, nil
}

// setMemoryLimit gives the Go runtime a soft memory limit of four times
// the request bytes allowed in flight plus 64 MiB (320 MiB by default),
// unless $GOMEMLIMIT sets one: decoding, keying and forwarding a prompt
// makes a few copies of it, and without a limit the heap may grow to twice
// what is live before the collector runs. The limit is soft: a process
// that needs more gets it, with more collection.
func setMemoryLimit(s config.Server, getenv func(string) string, log *slog.Logger) {
	if getenv("GOMEMLIMIT") != "" {
		return
	}
	limit := 4*s.MaxInflightBytes + 64<<20
	debug.SetMemoryLimit(limit)
	log.Debug("soft memory limit", "MiB", limit>>20)
}

// url returns the gateway's base URL on this machine, http://HOST:PORT: a
// wildcard listener (0.0.0.0, ::) is reached at 127.0.0.1, the only
// address the dashboard answers on.
func (g *gateway) url() string {
	addr := g.ln.Addr().(*net.TCPAddr)
	if addr.IP.IsUnspecified() {
		return "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(addr.Port))
	}
	return "http://" + addr.String()
}

// run serves until ctx is done, reloading the config when its file
// changes, then closes the gateway.
func (g *gateway) run(ctx context.Context) error {
	g.log.Info("Detour is serving", "url", g.url()+"/v1", "dashboard", g.url()+"/ui/", "config", g.cfg.Path,
		"model_groups", len(g.cfg.Groups()), "deployments", len(g.cfg.Models))
	go func() {
		if err := g.WatchConfig(ctx, g.cfg.Path, nil); err != nil {
			g.log.Warn("config changes will need a restart", "err", err)
		}
	}()
	err := g.Serve(ctx, g.ln)
	if cerr := g.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("close the cache: %w", cerr)
	}
	return err
}

// autostartEntry is the start-on-login entry the dashboard toggles: this
// binary as the desktop app, started hidden, with the same --config and
// --addr. Nil (no toggle) when the binary's path is unknown.
func autostartEntry(f gatewayFlags) autostart.Entry {
	exe, err := os.Executable()
	if err != nil {
		return nil
	}
	args := []string{"--hidden"}
	if f.config != "" {
		if abs, err := filepath.Abs(f.config); err == nil {
			args = append(args, "--config", abs)
		}
	}
	if f.addr != "" {
		args = append(args, "--addr", f.addr)
	}
	return autostart.New("Detour", exe, args...)
}

// loadConfig resolves the config path (flag, then $DETOUR_CONFIG, then the
// default). With writeDefault and no --config, a missing file is created
// with the commented default first. It loads the file and logs warnings.
func (c *cli) loadConfig(path string, writeDefault bool, log *slog.Logger) (*config.Config, error) {
	if path == "" {
		p, err := config.DefaultPath()
		if err != nil {
			return nil, fmt.Errorf("%w; pass --config or set DETOUR_CONFIG", err)
		}
		if writeDefault {
			wrote, err := config.WriteDefault(p)
			if err != nil {
				return nil, err
			}
			if wrote {
				log.Info("wrote a default config; edit it to add your providers", "path", p)
			}
		}
		path = p
	}
	cfg, warnings, err := config.Load(path)
	for _, w := range warnings {
		log.Warn("config: "+w.Message, "file", path, "line", w.Line, "key", w.Key)
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("no config file at %s: pass an existing file, or run detour serve without --config to get a default one", path)
	}
	return cfg, err
}
