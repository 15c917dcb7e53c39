//go:build !desktop

package main

import "context"

// desktop runs `detour` with no command. This build has no window (it was
// built without Wails and the desktop tag), so it says so and runs the
// gateway headless, as the one instance of the app.
func (c *cli) desktop(ctx context.Context, args []string) error {
	f, inst, err := c.startDesktop(args)
	if err != nil || inst == nil {
		return err
	}
	defer inst.Close()
	return c.serveHeadless(ctx, f, inst, c.logger(),
		"this build has no window (it was built without Wails: build the desktop app with make desktop)")
}
