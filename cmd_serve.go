package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"

	"github.com/detour-gateway/detour/app"
	"github.com/detour-gateway/detour/config"
)

func (c *cli) serve(ctx context.Context, args []string) error {
	flags := c.newFlags("serve", "serve [--config FILE] [--addr HOST:PORT]")
	cfgPath := flags.String("config", "", "config file (default $DETOUR_CONFIG, else <user config dir>/detour/config.yaml)")
	addr := flags.String("addr", "", "listen address (default detour.listen from the config, else "+config.DefaultListen+")")
	if err := parseFlags(flags, args); err != nil {
		return err
	}
	if flags.NArg() > 0 {
		return fmt.Errorf("%w: serve takes no arguments, got %q", errUsage, flags.Args())
	}
	log := slog.New(slog.NewTextHandler(c.stderr, nil))
	cfg, err := c.loadConfig(*cfgPath, true, log)
	if err != nil {
		return err
	}
	listen := cfg.Detour.Listen
	if *addr != "" {
		listen = *addr
	}
	gw, err := app.New(cfg, app.Options{Keys: c.keys, Getenv: c.getenv, Logger: log})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (is another Detour running? pick another with --addr)", listen, err)
	}
	log.Info("Detour is serving", "url", "http://"+ln.Addr().String()+"/v1", "config", cfg.Path,
		"model_groups", len(cfg.Groups()), "deployments", len(cfg.Models))
	go func() {
		if err := gw.WatchConfig(ctx, cfg.Path, nil); err != nil {
			log.Warn("config changes will need a restart", "err", err)
		}
	}()
	err = gw.Serve(ctx, ln)
	if cerr := gw.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("close the cache: %w", cerr)
	}
	return err
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
