package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"flag"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/backupcodes"
	"github.com/mfakit/mfa/store"
	"github.com/mfakit/mfa/totp"
)

// withStore parses a command's flags (after extra adds its own), checks
// its arguments (check, before any connection), opens its store and runs
// body; it turns errors into exit codes.
func (c *cli) withStore(ctx context.Context, name string, args []string, create bool, extra func(*flag.FlagSet), check func(*flag.FlagSet) error, body func(o *opened, fs *flag.FlagSet) error) int {
	cmd := lookup(name)
	fs := newFlags(name)
	sf := addStoreFlags(fs, c.env)
	if extra != nil {
		extra(fs)
	}
	if code, done := c.parse(fs, cmd, args); done {
		return code
	}
	if check == nil {
		check = noArgs
	}
	if err := check(fs); err != nil {
		return c.fail(name, exitFor(err), "%s", message(err))
	}
	o, err := openStore(ctx, sf, create)
	if err != nil {
		return c.fail(name, exitFor(err), "%s", message(err))
	}
	defer o.close()
	if err := body(o, fs); err != nil {
		return c.fail(name, exitFor(err), "%s", message(err))
	}
	return exitOK
}

func migrate(ctx context.Context, c *cli, args []string) int {
	var status *bool
	return c.withStore(ctx, "migrate", args, true, func(fs *flag.FlagSet) {
		status = fs.Bool("status", false, "only report the current and target schema versions; exit 3 when they differ (MongoDB keeps none: exit 0)")
	}, nil, func(o *opened, fs *flag.FlagSet) error {
		if o.mongo != nil {
			return migrateMongo(ctx, c, o, *status)
		}
		if o.sql == nil {
			fmt.Fprintf(c.out, "%s: no schema to migrate\n", o.where)
			return nil
		}
		cur, err := o.sql.CurrentSchemaVersion(ctx)
		if err != nil {
			return err
		}
		want := o.sql.SchemaVersion()
		fmt.Fprintf(c.out, "%s: schema version %d, this tool's %d\n", o.where, cur, want)
		switch {
		case cur > want:
			return fmt.Errorf("%w: the database is newer than this tool: use a newer mfa", errSchema)
		case *status && cur < want:
			return fmt.Errorf("%w: %d migrations to apply", errSchema, want-cur)
		case *status || cur == want:
			return nil
		}
		if err := o.sql.Migrate(ctx); err != nil {
			return err
		}
		fmt.Fprintf(c.out, "migrated to version %d\n", want)
		return nil
	})
}

// migrateMongo makes the indexes a MongoDB store reads by: MongoDB keeps
// no schema, hence no version to report or compare, and a store without
// its indexes works, scanning. Making them again changes nothing.
func migrateMongo(ctx context.Context, c *cli, o *opened, status bool) error {
	if status {
		fmt.Fprintf(c.out, "%s: no schema version (MongoDB keeps none); mfa migrate makes the store's indexes, and running it again changes nothing\n", o.where)
		return nil
	}
	if err := o.mongo.EnsureIndexes(ctx); err != nil {
		return err
	}
	fmt.Fprintf(c.out, "%s: no schema version (MongoDB keeps none); made the store's indexes, where missing\n", o.where)
	return nil
}

func sweep(ctx context.Context, c *cli, args []string) int {
	return c.withStore(ctx, "sweep", args, false, nil, nil, func(o *opened, fs *flag.FlagSet) error {
		if err := o.ready(ctx); err != nil {
			return err
		}
		sw, ok := o.store.(store.Sweeper)
		if !ok {
			return fmt.Errorf("%s cannot sweep", o.where)
		}
		start := time.Now()
		n, err := sw.Sweep(ctx, time.Now())
		if err != nil {
			return err
		}
		fmt.Fprintf(c.out, "swept %d expired records in %s\n", n, time.Since(start).Round(time.Millisecond))
		return nil
	})
}

// verifier returns a Verifier on o. Without keys (unlock, factors, which
// open no secret) it gets throwaway random ones, never used to seal.
func verifier(o *opened, seal []mfa.Key, hash []mfa.HashKey) (*mfa.Verifier, error) {
	if len(seal) == 0 {
		seal = []mfa.Key{{ID: "unused", Secret: random(32)}}
	}
	if len(hash) == 0 {
		hash = []mfa.HashKey{{ID: "unused", Secret: random(32)}}
	}
	kr, err := mfa.NewKeyring(seal[0], seal[1:]...)
	if err != nil {
		return nil, err
	}
	tf, err := totp.New(totp.Config{Issuer: "mfa"})
	if err != nil {
		return nil, err
	}
	bc, err := backupcodes.New(backupcodes.Config{})
	if err != nil {
		return nil, err
	}
	return mfa.New(mfa.Config{Store: o.store, Factors: []mfa.Factor{tf, bc}, Sealer: kr, HashKeys: hash})
}

func random(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// oneUser checks that a command got exactly one argument, the user ID.
func oneUser(fs *flag.FlagSet) error {
	if fs.NArg() != 1 || fs.Arg(0) == "" {
		return fmt.Errorf("%w: want one USER argument", errUsage)
	}
	return nil
}

// noArgs checks that a command got no arguments.
func noArgs(fs *flag.FlagSet) error {
	if fs.NArg() != 0 {
		return fmt.Errorf("%w: %s takes no arguments", errUsage, fs.Name())
	}
	return nil
}

func unlock(ctx context.Context, c *cli, args []string) int {
	return c.withStore(ctx, "unlock", args, false, nil, oneUser, func(o *opened, fs *flag.FlagSet) error {
		user := fs.Arg(0)
		if err := o.ready(ctx); err != nil {
			return err
		}
		v, err := verifier(o, nil, nil)
		if err != nil {
			return err
		}
		before, err := v.Lockout(ctx, user)
		if err != nil {
			return err
		}
		if err := v.Unlock(ctx, user); err != nil {
			return err
		}
		fmt.Fprintf(c.out, "unlocked %q (%d consecutive failures, locked: %v)\n", user, before.Failures, before.Locked)
		return nil
	})
}

func factors(ctx context.Context, c *cli, args []string) int {
	var asJSON *bool
	return c.withStore(ctx, "factors", args, false, func(fs *flag.FlagSet) {
		asJSON = fs.Bool("json", false, "print JSON instead of a table")
	}, oneUser, func(o *opened, fs *flag.FlagSet) error {
		user := fs.Arg(0)
		if err := o.ready(ctx); err != nil {
			return err
		}
		v, err := verifier(o, nil, nil)
		if err != nil {
			return err
		}
		list, err := v.Factors(ctx, user)
		if err != nil {
			return err
		}
		lock, err := v.Lockout(ctx, user)
		if err != nil {
			return err
		}
		if *asJSON {
			return json.NewEncoder(c.out).Encode(map[string]any{"user": user, "factors": list, "lockout": lock})
		}
		tw := tabwriter.NewWriter(c.out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tKIND\tNAME\tSTATUS\tCREATED\tLAST USED\tCODES LEFT")
		for _, f := range list {
			status, left, used := "pending", "-", "-"
			if f.Active {
				status = "active"
			}
			if f.Remaining >= 0 {
				left = fmt.Sprint(f.Remaining)
			}
			if !f.LastUsed.IsZero() {
				used = f.LastUsed.UTC().Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%s\t%s\t%q\t%s\t%s\t%s\t%s\n", f.ID, f.Kind, f.Name, status, f.Created.UTC().Format(time.RFC3339), used, left)
		}
		tw.Flush()
		fmt.Fprintf(c.out, "%d factors; %d consecutive failures, locked: %v\n", len(list), lock.Failures, lock.Locked)
		return nil
	})
}

func keys(_ context.Context, c *cli, args []string) int {
	cmd := lookup("keys")
	if len(args) == 0 || args[0] != "new" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
			args = []string{"new", "-h"}
		} else {
			return c.fail("keys", exitUsage, "want: mfa keys new [-id ID]")
		}
	}
	fs := newFlags("keys")
	id := fs.String("id", time.Now().UTC().Format("2006-01-02"), "the ID of the new keys (not secret; at most 64 bytes, no ':', ',' or spaces)")
	if code, done := c.parse(fs, cmd, args[1:]); done {
		return code
	}
	if fs.NArg() != 0 || *id == "" || len(*id) > mfa.MaxHashKeyIDLen {
		return c.fail("keys", exitUsage, "want: mfa keys new [-id ID], ID 1 to %d bytes", mfa.MaxHashKeyIDLen)
	}
	seal, hash := mfa.FormatKey(*id, random(32)), mfa.FormatKey(*id, random(32))
	// Check what we print parses as the library reads it.
	if k, err := mfa.ParseKeys(seal); err != nil || len(k) != 1 || k[0].ID != *id {
		return c.fail("keys", exitUsage, "ID %q: no ':', ',' or spaces", *id)
	}
	fmt.Fprintf(c.out, "MFA_SEAL_KEYS=%s\nMFA_HASH_KEYS=%s\n", seal, hash)
	fmt.Fprintln(c.errOut, "mfa keys: to rotate, put each new key first and keep the old entries after it; store these in your secret manager, not in the database's backups")
	return exitOK
}
