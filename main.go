// Command detour is an LLM gateway: an OpenAI-compatible endpoint on
// localhost that routes each request across cloud providers, retries and
// fails over, and keeps API keys in the OS keychain.
//
//	detour [--hidden] [--config FILE] [--addr HOST:PORT]   open the window, run the gateway
//	detour serve [--config FILE] [--addr HOST:PORT]   run the gateway headless
//	detour config check [FILE]                        validate a config file
//	detour keys set NAME | list | rm NAME             manage keys in the OS keychain
//	detour cache stats | clear                        show or empty the response cache
//	detour version                                    print the version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/detour-gateway/detour/keystore"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = ""

const usage = `Detour: an OpenAI-compatible LLM gateway on localhost.

Usage:
  detour [--hidden] [--config FILE] [--addr HOST:PORT]
                                                    open the dashboard window and run the gateway;
                                                    --hidden starts with no window, as on login
  detour serve [--config FILE] [--addr HOST:PORT]   run the gateway headless
  detour config check [FILE]                        validate a config file
  detour keys set NAME                              store a key (read from stdin) in the OS keychain
  detour keys list                                  show which keys are set (never their values)
  detour keys rm NAME                               delete a key from the OS keychain
  detour keys local add|list|rm [NAME]              Detour's own keys, required when detour.server.auth is on
  detour cache stats | clear                        show or empty the response cache
  detour version                                    print the version

Run 'detour COMMAND --help' for a command's options.
`

// cli is one run of the command line, with its world injected for tests.
type cli struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	keys           keystore.Store
	// readSecret reads a key without echo when stdin is a terminal; nil
	// when it is not.
	readSecret func() ([]byte, error)
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	c := &cli{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv,
		keys: keystore.Keyring{}, readSecret: terminalSecretReader(os.Stdin)}
	os.Exit(c.run(ctx, os.Args[1:]))
}

// errUsage marks an error whose message is a usage problem: exit status 2.
var errUsage = errors.New("usage")

// run executes args and returns the exit status: 0 ok, 1 failure, 2 usage.
func (c *cli) run(ctx context.Context, args []string) int {
	var err error
	cmd := "" // no command, or only flags: the desktop app
	if len(args) > 0 && !isDesktopFlag(args[0]) {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "":
		err = c.desktop(ctx, args)
	case "serve":
		err = c.serve(ctx, args)
	case "config":
		err = c.config(args)
	case "keys":
		err = c.keysCmd(ctx, args)
	case "cache":
		err = c.cacheCmd(args)
	case "version", "--version":
		fmt.Fprintln(c.stdout, "detour", buildVersion())
	case "help", "-h", "--help":
		fmt.Fprint(c.stdout, usage)
	default:
		err = fmt.Errorf("%w: unknown command %q\n\n%s", errUsage, cmd, usage)
	}
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintln(c.stderr, "detour:", trimUsage(err))
		return 2
	default:
		fmt.Fprintln(c.stderr, "detour:", err)
		return 1
	}
}

// isDesktopFlag reports whether arg, the first argument, is a flag of the
// desktop app rather than a command (--help and --version are commands).
func isDesktopFlag(arg string) bool {
	switch arg {
	case "-h", "--help", "--version":
		return false
	}
	return len(arg) > 1 && arg[0] == '-'
}

// trimUsage drops the errUsage prefix from a usage error's message.
func trimUsage(err error) string {
	msg := err.Error()
	if p := errUsage.Error() + ": "; len(msg) > len(p) && msg[:len(p)] == p {
		return msg[len(p):]
	}
	return msg
}

// newFlags returns a flag set that prints its usage to c.stderr and
// reports errors instead of exiting.
func (c *cli) newFlags(name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	fs.Usage = func() {
		fmt.Fprintf(c.stderr, "Usage: detour %s\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args, turning a bad flag into a usage error (the flag
// package has already printed the message and usage).
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %s", errUsage, err)
	}
	return nil
}

func buildVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}
