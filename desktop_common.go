package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/detour-gateway/detour/app"
)

// desktopSynopsis is the desktop app's usage line, after "detour ".
const desktopSynopsis = "[--hidden] [--config FILE] [--addr HOST:PORT]"

// startDesktop begins `detour` with no command, the same in every build:
// it parses the flags and takes the instance lock. When another Detour
// app holds the lock, that one is asked to show its window (unless this
// launch has --hidden), and startDesktop returns a nil instance: this
// launch is done, successfully.
func (c *cli) startDesktop(args []string) (gatewayFlags, *instance, error) {
	f, err := c.parseGatewayFlags("detour", desktopSynopsis, args, true)
	if err != nil {
		return f, nil, err
	}
	dir, err := instanceDir(c.getenv)
	if err != nil {
		return f, nil, err
	}
	// The lock comes first: a second launch must not touch the port, the
	// cache or the display before it knows it is one.
	inst, err := acquireInstance(dir, !f.hidden, len(args))
	if errors.Is(err, errRunning) {
		did := "asked it to show its window"
		if f.hidden {
			did = "left its window as it is (--hidden)"
		}
		fmt.Fprintln(c.stderr, "detour: Detour is already running;", did)
		return f, nil, nil
	}
	return f, inst, err
}

// serveHeadless runs the desktop app's gateway with no window until ctx
// is done, and prints where the dashboard is; why says why there is no
// window.
func (c *cli) serveHeadless(ctx context.Context, f gatewayFlags, inst *instance, log *slog.Logger, why string) error {
	fmt.Fprintf(c.stderr, "detour: %s; running the gateway headless\n", why)
	gw, err := c.openGateway(f, log, app.Options{})
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stderr, "detour: dashboard: %s/ui/\n", gw.url())
	go inst.serve(func(nargs int) {
		log.Info("Detour was launched again; there is no window to show", "dashboard", gw.url()+"/ui/", "args", nargs)
	})
	return gw.run(ctx)
}
