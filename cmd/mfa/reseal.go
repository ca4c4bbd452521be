package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/mfakit/mfa"
)

func reseal(ctx context.Context, c *cli, args []string) int {
	var (
		batch                *int
		cursor, sealS, hashS *string
		failedOpen           bool
		seal                 []mfa.Key
		hash                 []mfa.HashKey
	)
	code := c.withStore(ctx, "reseal", args, false, func(fs *flag.FlagSet) {
		batch = fs.Int("batch", 100, "factors read per store call, 1 to 1000 (default 100)")
		cursor = fs.String("cursor", "", "resume after the batch this cursor names (printed as a run goes)")
		sealS = fs.String("seal-keys", c.env("MFA_SEAL_KEYS"), "sealing keys, ID:BASE64 entries, newest first (env MFA_SEAL_KEYS)")
		hashS = fs.String("hash-keys", c.env("MFA_HASH_KEYS"), "hash keys, ID:BASE64 entries, newest first; optional, re-sealing hashes nothing (env MFA_HASH_KEYS)")
	}, func(fs *flag.FlagSet) error {
		if err := noArgs(fs); err != nil {
			return err
		}
		var err error
		if seal, err = mfa.ParseKeys(*sealS); err != nil {
			return fmt.Errorf("-seal-keys: %w", err)
		}
		if *hashS != "" { // re-sealing hashes nothing: optional
			if hash, err = mfa.ParseHashKeys(*hashS); err != nil {
				return fmt.Errorf("-hash-keys: %w", err)
			}
		}
		if *batch < 1 || *batch > 1000 {
			return fmt.Errorf("%w: -batch must be 1 to 1000", errUsage)
		}
		return nil
	}, func(o *opened, fs *flag.FlagSet) error {
		if err := o.ready(ctx); err != nil {
			return err
		}
		v, err := verifier(o, seal, hash)
		if err != nil {
			return err
		}
		fmt.Fprintf(c.out, "re-sealing every secret in %s under key %q\n", o.where, seal[0].ID)
		pr := newProgress(c.out)
		p, err := v.Reseal(ctx, mfa.ResealOptions{Cursor: *cursor, Batch: *batch, Progress: pr.update})
		pr.done(p)
		if err != nil && p.Cursor != "" {
			fmt.Fprintf(c.errOut, "mfa reseal: stopped; resume with -cursor %s\n", p.Cursor)
		}
		if errors.Is(err, mfa.ErrSealed) && p.Cursor == "" {
			failedOpen = true
			return fmt.Errorf("%w (they stay under their old key: keep it until they are removed or fixed)", err)
		}
		return err
	})
	if code == exitFailed && failedOpen {
		return exitPartial
	}
	return code
}

// progress shows a re-seal's progress: one line redrawn in place on a
// terminal, a plain line per batch otherwise (logs, pipes).
type progress struct {
	w     io.Writer
	tty   bool
	start time.Time
}

func newProgress(w io.Writer) *progress {
	tty := false
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			tty = true
		}
	}
	return &progress{w: w, tty: tty, start: time.Now()}
}

func (p *progress) line(r mfa.ResealProgress) string {
	rate := float64(r.Scanned) / max(time.Since(p.start).Seconds(), 1e-3)
	return fmt.Sprintf("scanned %d, re-sealed %d, current %d, skipped %d, failed %d (%.0f factors/s)",
		r.Scanned, r.Resealed, r.Current, r.Skipped, r.Failed, rate)
}

func (p *progress) update(r mfa.ResealProgress) {
	if p.tty {
		// A bar that sweeps while the walk goes: the total is unknown
		// until the end (a count would be a second walk).
		const width = 20
		pos := int(r.Scanned/100) % width
		bar := strings.Repeat("=", pos) + ">" + strings.Repeat(" ", width-pos-1)
		fmt.Fprintf(p.w, "\r\033[K[%s] %s", bar, p.line(r))
		return
	}
	fmt.Fprintf(p.w, "%s; cursor %q\n", p.line(r), r.Cursor)
}

func (p *progress) done(r mfa.ResealProgress) {
	if p.tty {
		fmt.Fprint(p.w, "\r\033[K")
	}
	fmt.Fprintf(p.w, "done: %s in %s\n", p.line(r), time.Since(p.start).Round(time.Millisecond))
}
