package main

import (
	"errors"
	"fmt"

	"github.com/detour-gateway/detour/config"
)

func (c *cli) config(args []string) error {
	flags := c.newFlags("config", "config check [FILE]\n\nValidates FILE (default $DETOUR_CONFIG, else <user config dir>/detour/config.yaml)\nand prints each problem with its line number. Exit status 1 if any is an error.")
	if err := parseFlags(flags, args); err != nil {
		return err
	}
	args = flags.Args()
	if len(args) == 0 || args[0] != "check" {
		return fmt.Errorf("%w: use detour config check [FILE]", errUsage)
	}
	checkFlags := c.newFlags("config check", "config check [FILE]")
	if err := parseFlags(checkFlags, args[1:]); err != nil {
		return err
	}
	if checkFlags.NArg() > 1 {
		return fmt.Errorf("%w: config check takes at most one FILE", errUsage)
	}
	path := checkFlags.Arg(0)
	if path == "" {
		p, err := config.DefaultPath()
		if err != nil {
			return err
		}
		path = p
	}
	cfg, warnings, err := config.Load(path)
	for _, w := range warnings {
		fmt.Fprintf(c.stdout, "%s:%d: warning: %s: %s\n", path, w.Line, w.Key, w.Message)
	}
	var cerr *config.Error
	if errors.As(err, &cerr) {
		for _, p := range cerr.Problems {
			fmt.Fprintf(c.stdout, "%s:%d: error: %s: %s\n", path, p.Line, p.Key, p.Message)
		}
		return fmt.Errorf("%s has %d error(s)", path, len(cerr.Problems))
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "%s: OK: %d deployments in %d model groups, %d warnings\n", path, len(cfg.Models), len(cfg.Groups()), len(warnings))
	return nil
}
