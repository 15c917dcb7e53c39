package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"text/tabwriter"
	"time"

	"golang.org/x/term"

	"github.com/detour-gateway/detour/app"
	"github.com/detour-gateway/detour/keystore"
	"github.com/detour-gateway/detour/localauth"
)

const keysUsage = `keys set NAME | keys list | keys rm NAME | keys local add|list|rm [NAME]

  set NAME   store a key under NAME in the OS keychain (service "detour").
             The key is read from stdin: typed without echo on a terminal,
             or piped: echo "$KEY" | detour keys set openai
  list       show each known key name and whether it is set; never values
  rm NAME    delete the key NAME

NAME is a provider prefix (openai, groq, …) for keys found by default, or
any name you refer to as api_key: keychain/NAME in the config.

Local keys are Detour's own: with detour.server.auth: true, clients must
send one (Authorization: Bearer KEY or x-api-key: KEY).

  local add NAME   make a local key, print it once, keep only its digest
  local list       show the local keys' names and when they were made
  local rm NAME    delete a local key; clients using it are refused`

func (c *cli) keysCmd(ctx context.Context, args []string) error {
	flags := c.newFlags("keys", keysUsage)
	if err := parseFlags(flags, args); err != nil {
		return err
	}
	args = flags.Args()
	if len(args) == 0 {
		return fmt.Errorf("%w: keys needs a subcommand: set NAME, list or rm NAME", errUsage)
	}
	sub, rest := args[0], args[1:]
	if sub == "local" {
		return c.localKeysCmd(ctx, rest)
	}
	wantArgs := map[string]int{"set": 1, "rm": 1, "list": 0}
	n, known := wantArgs[sub]
	switch {
	case !known:
		return fmt.Errorf("%w: unknown keys subcommand %q; use set NAME, list or rm NAME", errUsage, sub)
	case len(rest) != n && n == 1:
		return fmt.Errorf("%w: keys %s takes one NAME, e.g. detour keys %s openai", errUsage, sub, sub)
	case len(rest) != n:
		return fmt.Errorf("%w: keys list takes no arguments", errUsage)
	}
	if n == 1 && !keystore.ValidName(rest[0]) {
		return fmt.Errorf("%w: invalid key name %q: use letters, digits, '.', '_' or '-'", errUsage, rest[0])
	}
	switch sub {
	case "set":
		return c.keysSet(ctx, rest[0])
	case "rm":
		if err := c.keys.Delete(ctx, rest[0]); err != nil {
			if errors.Is(err, keystore.ErrNotFound) {
				return fmt.Errorf("no key named %q in the keychain", rest[0])
			}
			return err
		}
		fmt.Fprintf(c.stdout, "deleted key %q\n", rest[0])
		return nil
	}
	return c.keysList(ctx)
}

func (c *cli) keysSet(ctx context.Context, name string) error {
	var secret []byte
	var err error
	if c.readSecret != nil {
		fmt.Fprintf(c.stderr, "API key for %s (input hidden): ", name)
		secret, err = c.readSecret()
		fmt.Fprintln(c.stderr)
	} else {
		secret, err = io.ReadAll(io.LimitReader(c.stdin, 64<<10))
	}
	if err != nil {
		return fmt.Errorf("read the key from stdin: %w", err)
	}
	secret = bytes.TrimSpace(secret)
	if len(secret) == 0 {
		return fmt.Errorf("no key given on stdin; type it, or pipe it: echo \"$KEY\" | detour keys set %s", name)
	}
	if err := c.keys.Set(ctx, name, string(secret)); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "stored key %q in the OS keychain (service %q)\n", name, keystore.Service)
	return nil
}

// keysList shows every provider prefix and every keychain name the config
// refers to, with whether each is set. Values are never read out beyond
// checking that they exist.
func (c *cli) keysList(ctx context.Context) error {
	// Names the config refers to count when it loads; a broken config must
	// not stop you from seeing your keys.
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg, err := c.loadConfig("", false, quiet)
	if err != nil {
		cfg = nil
	}
	names := app.KeyNames(cfg)
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tKEYCHAIN\tENVIRONMENT")
	for _, kn := range names {
		n := kn.Name
		state := "set"
		if _, err := c.keys.Get(ctx, n); err != nil {
			if !errors.Is(err, keystore.ErrNotFound) {
				tw.Flush()
				return err // the keychain is unreachable: say so once, clearly
			}
			state = "-"
		}
		env := "-"
		if v := kn.Env; v != "" {
			env = "$" + v + " not set"
			if c.getenv(v) != "" {
				env = "$" + v + " set"
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", n, state, env)
	}
	return tw.Flush()
}

// localKeysCmd runs `detour keys local add|list|rm`.
func (c *cli) localKeysCmd(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: keys local needs a subcommand: add NAME, list or rm NAME", errUsage)
	}
	sub, rest := args[0], args[1:]
	switch {
	case sub == "list" && len(rest) == 0:
	case (sub == "add" || sub == "rm") && len(rest) == 1:
		if !keystore.ValidName(rest[0]) {
			return fmt.Errorf("%w: invalid local key name %q: use letters, digits, '.', '_' or '-'", errUsage, rest[0])
		}
	case sub == "add" || sub == "rm":
		return fmt.Errorf("%w: keys local %s takes one NAME, e.g. detour keys local %s laptop", errUsage, sub, sub)
	case sub == "list":
		return fmt.Errorf("%w: keys local list takes no arguments", errUsage)
	default:
		return fmt.Errorf("%w: unknown keys local subcommand %q; use add NAME, list or rm NAME", errUsage, sub)
	}
	keys := localauth.Keys{Store: c.keys}
	switch sub {
	case "add":
		key, err := keys.Add(ctx, rest[0])
		if errors.Is(err, keystore.ErrUnavailable) {
			return fmt.Errorf("%w\nwithout a keychain, give Detour a local key through the environment instead: export %s=<a long random key> before detour serve", err, app.LocalKeyEnv)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(c.stderr, "made local key %q; it is shown only now (Detour keeps only its digest):\n", rest[0])
		fmt.Fprintln(c.stdout, key)
		fmt.Fprintln(c.stderr, "clients send it as Authorization: Bearer KEY or x-api-key: KEY; turn checking on with detour.server.auth: true")
		return nil
	case "rm":
		if err := keys.Remove(ctx, rest[0]); err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "deleted local key %q\n", rest[0])
		return nil
	}
	list, err := keys.List(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tCREATED")
	for _, k := range list {
		fmt.Fprintf(tw, "%s\t%s\n", k.Name, k.Created.Local().Format(time.DateTime))
	}
	if v := c.getenv(app.LocalKeyEnv); v != "" {
		fmt.Fprintf(tw, "$%s\t(environment)\n", app.LocalKeyEnv)
	}
	return tw.Flush()
}

// terminalSecretReader returns a reader of one line without echo when f
// is a terminal, and nil otherwise.
func terminalSecretReader(f *os.File) func() ([]byte, error) {
	fd := int(f.Fd())
	if !term.IsTerminal(fd) {
		return nil
	}
	return func() ([]byte, error) { return term.ReadPassword(fd) }
}
