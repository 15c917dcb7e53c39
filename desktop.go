//go:build desktop

package main

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	goruntime "runtime"
	"sync"
	"syscall"
	"time"

	"github.com/wailsapp/wails/v2"
	"github.com/wailsapp/wails/v2/pkg/logger"
	"github.com/wailsapp/wails/v2/pkg/menu"
	"github.com/wailsapp/wails/v2/pkg/menu/keys"
	"github.com/wailsapp/wails/v2/pkg/options"
	"github.com/wailsapp/wails/v2/pkg/options/assetserver"
	"github.com/wailsapp/wails/v2/pkg/options/linux"
	"github.com/wailsapp/wails/v2/pkg/runtime"

	"github.com/detour-gateway/detour/app"
	"github.com/detour-gateway/detour/frontend"
	"github.com/detour-gateway/detour/server"
)

// appIcon is the window's icon (Linux; elsewhere the bundle's icon).
//
//go:embed build/appicon.png
var appIcon []byte

// fallbackPage is the page the window shows when the dashboard was not
// built into the binary.
//
//go:embed build/fallback/index.html
var fallbackPage embed.FS

// desktop runs `detour` with no command: the gateway, listening on its
// TCP address for tools, and a window showing the dashboard, which talks
// to the gateway in-process. Closing the window hides it and the gateway
// keeps serving; the app ends on Quit (menu or dashboard), SIGINT or
// SIGTERM. It is the one instance of the app: a second launch brings this
// window forward and exits 0.
func (c *cli) desktop(ctx context.Context, args []string) error {
	f, inst, err := c.startDesktop(args)
	if err != nil || inst == nil {
		return err
	}
	defer inst.Close()
	log := c.logger()
	if goruntime.GOOS == "linux" && c.getenv("DISPLAY") == "" && c.getenv("WAYLAND_DISPLAY") == "" {
		return c.serveHeadless(ctx, f, inst, log, "no display to open the window on ($DISPLAY and $WAYLAND_DISPLAY are unset)")
	}

	w := &window{ready: make(chan struct{}), running: make(chan struct{}), done: make(chan struct{}),
		signals: make(chan os.Signal, 1)}
	gw, err := c.openGateway(f, log, app.Options{Quit: w.quit})
	if err != nil {
		return err
	}
	go inst.serve(func(nargs int) {
		log.Info("Detour was launched again: showing the window", "args", nargs)
		w.show()
	})

	serveCtx, stopServing := context.WithCancel(context.Background())
	defer stopServing()
	served := make(chan error, 1)
	w.stuck = func() {
		log.Error("the window did not close after Quit; stopping the gateway and exiting", "waited", quitWait)
		stopServing()
		select {
		case <-served:
		case <-time.After(app.DefaultShutdownGrace):
		}
		os.Exit(1)
	}
	go func() {
		served <- gw.run(serveCtx)
		w.quit() // the gateway has stopped (on Quit, or failed): so does the app
	}()
	go func() {
		select {
		case <-ctx.Done(): // SIGINT, SIGTERM before the window started
			log.Info("signal received: quitting")
			w.quit()
		case <-w.signals: // SIGINT, SIGTERM after (see startup)
			log.Info("signal received: quitting")
			w.quit()
		case <-serveCtx.Done():
		}
	}()

	assets := frontend.Dist()
	if !frontend.Built() {
		log.Warn("this build has no dashboard (make desktop builds it first); the window says so")
		assets, _ = fs.Sub(fallbackPage, "build/fallback") // cannot fail: the directory is embedded
	}
	background := &options.RGBA{R: 255, G: 255, B: 255, A: 255}
	if goruntime.GOOS == "linux" {
		background = &options.RGBA{} // transparent: the GTK theme's window colour shows until the page paints
	}
	runErr := runWails(&options.App{
		Title:     "Detour",
		Width:     1100,
		Height:    720,
		MinWidth:  900,
		MinHeight: 600,
		// No tray in Wails v2: a hidden window comes back by launching
		// Detour again, which the instance lock turns into show().
		StartHidden:       f.hidden,
		HideWindowOnClose: true,
		BackgroundColour:  background,
		AssetServer: &assetserver.Options{Assets: assets, Handler: gw.InProcessHandler(),
			Middleware: func(next http.Handler) http.Handler { // the page's headers, as at /ui/
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					server.SetPageHeaders(w.Header())
					next.ServeHTTP(w, r)
				})
			}},
		Menu:               w.menu(gw.url() + "/ui/"),
		Logger:             wailsLogger{log},
		LogLevel:           logger.WARNING,
		LogLevelProduction: logger.WARNING,
		OnStartup:          w.startup,
		OnDomReady:         w.domReady,
		Linux:              &linux.Options{Icon: appIcon, ProgramName: "detour"},
	})
	close(w.done)
	stopServing()
	if err := <-served; err != nil {
		return errors.Join(runErr, err)
	}
	if runErr != nil {
		return runErr
	}
	log.Info("Detour has quit")
	return nil
}

// runWails runs the window until it quits. Wails panics when GTK cannot
// start (say, $DISPLAY names a display that is not there): that becomes
// an error, so the gateway still shuts down cleanly.
func runWails(o *options.App) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("cannot open the window: %v", r)
		}
	}()
	return wails.Run(o)
}

// window is the Wails window as the rest of the program sees it. Its
// methods may be called from any goroutine, before the window exists too.
type window struct {
	ready   chan struct{}   // closed by startup
	ctx     context.Context // Wails' context, set before ready is closed
	running chan struct{}   // closed by domReady: GTK's main loop runs
	done    chan struct{}   // closed when wails.Run has returned
	// stuck ends the process when the window does not close after Quit.
	stuck func()
	// signals gets SIGINT and SIGTERM once the window has started.
	signals chan os.Signal

	runningOnce, quitOnce sync.Once
}

// startup is Wails' OnStartup: the window's context is known. GTK's main
// loop may not run yet.
func (w *window) startup(ctx context.Context) {
	w.ctx = ctx
	// Wails quits GTK on SIGINT and SIGTERM from a goroutine of its own,
	// which races Detour's own quit (it crashed GTK about once in twenty
	// SIGTERMs). From here only Detour's handler, which quits once and on
	// GTK's terms, gets them.
	signal.Reset(os.Interrupt, syscall.SIGTERM)
	signal.Notify(w.signals, os.Interrupt, syscall.SIGTERM)
	close(w.ready)
}

// domReady is Wails' OnDomReady, which the page's load sends through
// GTK's main loop: so the loop runs. It comes again on a reload.
func (w *window) domReady(context.Context) {
	w.runningOnce.Do(func() { close(w.running) })
}

// quitWait bounds how long a quit waits for the page to load before it
// asks GTK anyway, and then for the window to close before the process
// ends without it.
const quitWait = 10 * time.Second

// quit ends the app: the window closes and the gateway shuts down. It
// returns at once. It asks GTK once, after the main loop runs: asked
// before, the quit would be lost; asked twice, gtk_main_quit can run
// while Wails destroys the window and crash the process.
func (w *window) quit() {
	w.quitOnce.Do(func() {
		go func() {
			select {
			case <-w.ready:
			case <-w.done:
				return
			}
			select {
			case <-w.running:
			case <-w.done:
				return
			case <-time.After(quitWait): // the page never loaded; the loop runs by now
			}
			runtime.Quit(w.ctx) // w.ctx is set: ready is closed
			select {
			case <-w.done:
			case <-time.After(quitWait):
				// Asking GTK again could crash it mid-teardown; a quit
				// that was lost anyway ends here, without the window.
				w.stuck()
			}
		}()
	})
}

// show shows the window, if hidden or minimised, and raises it.
func (w *window) show() {
	w.do(func(ctx context.Context) {
		runtime.WindowShow(ctx)
		runtime.WindowUnminimise(ctx) // gtk_window_present on Linux: raise and focus
	})
}

// do calls f with the window's context once the window exists, in a
// goroutine of its own; never if wails.Run returns first.
func (w *window) do(f func(ctx context.Context)) {
	go func() {
		select {
		case <-w.ready:
			f(w.ctx)
		case <-w.done:
		}
	}()
}

// menu returns the app menu: Detour → Open in browser, Close window, Quit.
func (w *window) menu(dashboard string) *menu.Menu {
	m := menu.NewMenu()
	if goruntime.GOOS == "darwin" {
		m.Append(menu.AppMenu())
	}
	d := m.AddSubmenu("Detour")
	d.AddText("Open dashboard in browser", nil, func(*menu.CallbackData) {
		w.do(func(ctx context.Context) { runtime.BrowserOpenURL(ctx, dashboard) })
	})
	d.AddSeparator()
	d.AddText("Close window (Detour keeps running)", keys.CmdOrCtrl("w"), func(*menu.CallbackData) { w.do(runtime.WindowHide) })
	d.AddText("Quit Detour", keys.CmdOrCtrl("q"), func(*menu.CallbackData) { w.quit() })
	if goruntime.GOOS == "darwin" {
		m.Append(menu.EditMenu()) // copy and paste shortcuts
	}
	return m
}

// wailsLogger sends Wails' log lines to slog.
type wailsLogger struct{ log *slog.Logger }

func (l wailsLogger) Print(msg string)   { l.log.Info(msg, "from", "wails") }
func (l wailsLogger) Trace(msg string)   { l.log.Debug(msg, "from", "wails") }
func (l wailsLogger) Debug(msg string)   { l.log.Debug(msg, "from", "wails") }
func (l wailsLogger) Info(msg string)    { l.log.Info(msg, "from", "wails") }
func (l wailsLogger) Warning(msg string) { l.log.Warn(msg, "from", "wails") }
func (l wailsLogger) Error(msg string)   { l.log.Error(msg, "from", "wails") }
func (l wailsLogger) Fatal(msg string)   { l.log.Error(msg, "from", "wails") }
