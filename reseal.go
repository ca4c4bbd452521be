package mfa

import (
	"context"
	"errors"
	"fmt"

	"github.com/mfakit/mfa/store"
)

// ResealOptions configures [Verifier.Reseal]. The zero value walks every
// factor from the start in batches of 100.
type ResealOptions struct {
	// Cursor resumes a walk where a previous one stopped
	// (ResealProgress.Cursor). Default "": from the start.
	Cursor string
	// Batch is how many factors are read per store call, 1 to 1000.
	// Default 100.
	Batch int
	// Progress, when set, is called after every batch with the totals so
	// far; its Cursor resumes the walk after that batch.
	Progress func(ResealProgress)
}

// ResealProgress counts a re-seal's work so far.
type ResealProgress struct {
	Scanned  int64 // factors read
	Resealed int64 // secrets sealed again under the current key
	Current  int64 // secrets already under the current key, or none
	Skipped  int64 // changed or removed by someone else meanwhile
	Failed   int64 // secrets that did not open: left as they are
	// Cursor resumes the walk after the last full batch; empty at the end.
	Cursor string
}

// Reseal walks every factor of the store and seals each secret sealed
// under an older key again under the current one, so that key can be
// retired without waiting for every user to sign in. Each swap is a
// compare-and-set on the old ciphertext: a verification that re-seals or
// replaces the secret meanwhile wins, and the walk counts it as Skipped.
// It runs any number of times and from any number of processes.
//
// The store must implement [store.Resealable]; otherwise the error wraps
// ErrConfig. A secret that does not open is counted in Failed and left as
// it is, and the walk goes on; the returned error then wraps ErrSealed. On
// a store error or when ctx ends, Reseal stops and returns the progress,
// whose Cursor resumes after the last full batch.
func (v *Verifier) Reseal(ctx context.Context, opts ResealOptions) (ResealProgress, error) {
	p := ResealProgress{Cursor: opts.Cursor}
	rs, ok := v.store.(store.Resealable)
	if !ok {
		return p, fmt.Errorf("%w: the store cannot be walked (it is not a store.Resealable)", ErrConfig)
	}
	batch := opts.Batch
	if batch == 0 {
		batch = 100
	}
	if batch < 1 || batch > 1000 {
		return p, fmt.Errorf("%w: Batch must be 1 to 1000", ErrConfig)
	}
	for {
		if err := ctx.Err(); err != nil {
			return p, err
		}
		page, next, err := rs.ScanFactors(ctx, p.Cursor, batch)
		if err != nil {
			if errors.Is(err, store.ErrInvalid) {
				return p, fmt.Errorf("%w: cursor: %w", ErrInvalidInput, err)
			}
			return p, wrap(ErrStore, err)
		}
		for _, f := range page {
			p.Scanned++
			if err := v.resealOne(ctx, rs, f, &p); err != nil {
				return p, err
			}
		}
		p.Cursor = next
		if opts.Progress != nil {
			opts.Progress(p)
		}
		if next == "" {
			break
		}
	}
	if p.Failed > 0 {
		return p, fmt.Errorf("%w: %d secrets did not open", ErrSealed, p.Failed)
	}
	return p, nil
}

// resealOne re-seals one factor's secret when it is stale, counting the
// outcome in p; only a store failure is returned.
func (v *Verifier) resealOne(ctx context.Context, rs store.Resealable, f store.Factor, p *ResealProgress) error {
	if len(f.Secret) == 0 {
		p.Current++
		return nil
	}
	secret, stale, err := v.open(ctx, f)
	defer clear(secret)
	switch {
	case err != nil:
		p.Failed++
		return nil
	case !stale:
		p.Current++
		return nil
	}
	sealed, err := v.sealer.Seal(ctx, secret, sealAD(f.UserID, f.ID))
	if err != nil {
		return wrap(ErrSealed, err)
	}
	err = rs.SwapSecret(ctx, store.FactorRef{UserID: f.UserID, ID: f.ID}, f.Secret, sealed)
	switch {
	case errors.Is(err, store.ErrConflict), errors.Is(err, store.ErrNotFound):
		p.Skipped++
	case err != nil:
		return wrap(ErrStore, err)
	default:
		p.Resealed++
	}
	return nil
}
