// Command mfa is the operator's tool for an mfa deployment: schema
// migrations, sweeping expired records, re-sealing secrets after a key
// rotation, unlocking a user, listing a user's factors and making keys.
//
//	mfa migrate            # apply the store's schema, or make its MongoDB indexes (a deploy step)
//	mfa sweep              # delete expired records (a scheduled job)
//	mfa reseal             # re-seal every secret under the newest key
//	mfa unlock USER        # clear a user's failure counters
//	mfa factors USER       # list a user's factors, without secrets
//	mfa keys new           # print fresh sealing and hash keys
//
// The store and keys come from flags or the environment (MFA_STORE_URL,
// MFA_STORE_PREFIX, MFA_SEAL_KEYS, MFA_HASH_KEYS); `mfa COMMAND -h`
// describes each command. The store is SQLite, PostgreSQL, MySQL (schema
// versions, applied by migrate), Redis (no schema) or MongoDB (no schema:
// migrate makes the indexes). Exit codes: 0 done, 1 failed, 2 usage (a bad
// flag, URL or key), 3 the store's schema is not this tool's (newer, or
// not migrated), 4 re-seal finished but some secrets did not open.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
)

// Exit codes, for scripts.
const (
	exitOK      = 0
	exitFailed  = 1
	exitUsage   = 2
	exitSchema  = 3
	exitPartial = 4
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// env is the process's environment: os.Getenv, or a map in tests.
type env func(string) string

// cli carries what every command writes to and reads from.
type cli struct {
	env    env
	out    io.Writer
	errOut io.Writer
}

// command is one subcommand.
type command struct {
	name, args, summary string
	run                 func(ctx context.Context, c *cli, args []string) int
}

var commands []command

func init() {
	commands = []command{
		{"migrate", "[-status]", "apply the store's schema migrations (MongoDB: make its indexes), or report the schema versions", migrate},
		{"sweep", "", "delete expired challenges, counters, sessions, devices and signal records", sweep},
		{"reseal", "[-batch N] [-cursor C]", "re-seal every stored secret under the newest sealing key", reseal},
		{"unlock", "USER", "clear a user's failure counters (after a lockout)", unlock},
		{"factors", "[-json] USER", "list a user's factors, without secrets", factors},
		{"keys", "new [-id ID]", "print fresh sealing and hash keys in the text form the library reads", keys},
	}
}

const usageHead = `mfa: operator commands for an mfa deployment.

Usage: mfa COMMAND [flags] [args]   (mfa COMMAND -h for its flags)

Commands:
`

const usageTail = `
Store and keys (a flag of each command, or the environment):
  -store URL       MFA_STORE_URL     sqlite:PATH, postgres://..., mysql://USER@tcp(HOST)/DB, redis://...,
                                     mongodb://HOST/DB (the database is required)
  -prefix P        MFA_STORE_PREFIX  table prefix (SQL), key prefix (Redis) or collection prefix
                                     (MongoDB); default the library's
  -seal-keys K     MFA_SEAL_KEYS     sealing keys, "ID:BASE64" entries, newest first (reseal)
  -hash-keys K     MFA_HASH_KEYS     hash keys, "ID:BASE64" entries, newest first (reseal)
Prefer the environment for keys: flags show in the process list.

Exit codes: 0 done, 1 failed, 2 usage, 3 schema not this tool's (newer, or
not migrated), 4 re-seal done but some secrets did not open.
`

func usage(w io.Writer) {
	fmt.Fprint(w, usageHead)
	for _, c := range commands {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, usageTail)
}

// run is main without the process: it returns the exit code.
func run(ctx context.Context, args []string, getenv env, out, errOut io.Writer) int {
	c := &cli{env: getenv, out: out, errOut: errOut}
	if len(args) == 0 {
		usage(errOut)
		return exitUsage
	}
	name := args[0]
	switch name {
	case "-h", "-help", "--help", "help":
		if len(args) > 1 && name == "help" {
			return run(ctx, []string{args[1], "-h"}, getenv, out, errOut)
		}
		usage(out)
		return exitOK
	}
	for _, cmd := range commands {
		if cmd.name == name {
			return cmd.run(ctx, c, args[1:])
		}
	}
	fmt.Fprintf(errOut, "mfa: unknown command %q\n\n", name)
	usage(errOut)
	return exitUsage
}

// newFlags returns a command's FlagSet; parse prints its usage.
func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	_ = fs.Bool("h", false, "")
	return fs
}

// parse parses args; done reports an exit code to return at once (help
// was asked for, or the flags were wrong).
func (c *cli) parse(fs *flag.FlagSet, cmd command, args []string) (code int, done bool) {
	err := fs.Parse(args)
	help := errors.Is(err, flag.ErrHelp) || (err == nil && fs.Lookup("h").Value.String() == "true")
	if help || err != nil {
		w := c.out
		if !help {
			w = c.errOut
			fmt.Fprintf(w, "mfa %s: %v\n", cmd.name, err)
		}
		fmt.Fprintf(w, "Usage: mfa %s %s\n\n%s.\n\nFlags:\n", cmd.name, cmd.args, upper(cmd.summary))
		fs.SetOutput(w)
		fs.VisitAll(func(f *flag.Flag) {
			if f.Name != "h" {
				fmt.Fprintf(w, "  -%s\n    \t%s\n", f.Name, f.Usage)
			}
		})
		fs.SetOutput(io.Discard)
		if help {
			return exitOK, true
		}
		return exitUsage, true
	}
	return 0, false
}

func upper(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// lookup returns the command named name.
func lookup(name string) command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	panic("mfa: no command " + name)
}

// fail prints err for the command and returns code.
func (c *cli) fail(cmd string, code int, format string, args ...any) int {
	fmt.Fprintf(c.errOut, "mfa %s: %s\n", cmd, fmt.Sprintf(format, args...))
	return code
}
