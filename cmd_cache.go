package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/detour-gateway/detour/app"
	"github.com/detour-gateway/detour/cache"
)

const cacheUsage = `cache stats | cache clear

  stats   show the response cache's entries, size, hits, misses, hit rate
          and the dollars its hits saved
  clear   delete every cached answer (the hit and saving history stays)

The cache file is detour.cache.path from the config, else
<user cache dir>/detour/cache.db. While detour serve runs it holds the file.`

func (c *cli) cacheCmd(args []string) error {
	flags := c.newFlags("cache", cacheUsage)
	cfgPath := flags.String("config", "", "config file (default $DETOUR_CONFIG, else <user config dir>/detour/config.yaml)")
	if err := parseFlags(flags, args); err != nil {
		return err
	}
	if flags.NArg() != 1 || (flags.Arg(0) != "stats" && flags.Arg(0) != "clear") {
		return fmt.Errorf("%w: use detour cache stats or detour cache clear", errUsage)
	}
	cfg, err := c.loadConfig(*cfgPath, false, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return err
	}
	path, err := app.CachePath(cfg.Detour.Cache)
	if err != nil {
		return err
	}
	rc, err := cache.Open(path, cache.Options{})
	if errors.Is(err, cache.ErrLocked) {
		return fmt.Errorf("the cache at %s is in use by a running detour serve; stop it first", path)
	}
	if err != nil {
		return err
	}
	defer rc.Close()
	if flags.Arg(0) == "clear" {
		if err := rc.Clear(); err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "cleared the cache at %s\n", path)
		return nil
	}
	s, err := rc.Stats()
	if err != nil {
		return err
	}
	rate := 0.0
	if lookups := s.Hits + s.Misses; lookups > 0 {
		rate = 100 * float64(s.Hits) / float64(lookups)
	}
	fmt.Fprintf(c.stdout, "cache      %s\nentries    %d\nsize       %.1f MiB\nhits       %d (stale %d)\nmisses     %d\nhit rate   %.1f%%\nsaved      $%.4f\n",
		path, s.Entries, float64(s.Bytes)/(1<<20), s.Hits, s.StaleHits, s.Misses, rate, s.SavedUSD)
	return nil
}
