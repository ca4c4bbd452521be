package store

import (
	"context"
	"errors"
	"fmt"
)

// Split is the storage a Verifier needs, assembled from several backends:
// for example factors in PostgreSQL and the short-lived counters and
// challenges in Redis. Every field must be set. The methods of each field
// are promoted; Split itself defines only the two operations that cross
// concerns, [Split.Hit] and [Split.Advance]. Sessions and devices are not
// part of it: hand their backend to the session package directly.
//
// The two operations that a single backend does in one round trip cost two
// here: a [Counters.Hit] that loads a factor calls Counters then Factors,
// and a [Factors.Advance] that resets counters calls Factors then Counters.
// Each step keeps its own atomicity, which is what the guarantees rest on:
// the attempt is counted before the factor is read, and the single-use
// compare-and-set happens before counters are cleared. If clearing fails
// the error is returned; the success has been committed, and the counters
// stay as a failure would have left them, which is the safe side.
type Split struct {
	Factors
	Counters
	Challenges
}

var _ interface {
	Factors
	Counters
	Challenges
} = Split{}

// Hit implements [Counters.Hit]: it counts on Counters and then, when the
// attempt was admitted and req.Load names a factor, loads it from Factors.
// An error loading the factor is returned with a result that admits
// nothing.
func (s Split) Hit(ctx context.Context, req HitRequest) (HitResult, error) {
	load := req.Load
	req.Load = FactorRef{}
	res, err := s.Counters.Hit(ctx, req)
	if err != nil || !res.Admitted || load.ID == "" {
		return res, err
	}
	f, err := s.Factors.GetFactor(ctx, load.UserID, load.ID)
	switch {
	case err == nil:
		res.Factor, res.Found = f, true
	case errors.Is(err, ErrNotFound):
	default:
		return HitResult{}, err
	}
	return res, nil
}

// Advance implements [Factors.Advance]: the compare-and-set on Factors,
// then, only if it succeeded, Reset and Forgive on Counters.
func (s Split) Advance(ctx context.Context, req Advance) error {
	reset, forgive := req.Reset, req.Forgive
	req.Reset, req.Forgive = nil, nil
	if err := s.Factors.Advance(ctx, req); err != nil {
		return err
	}
	// The counters live elsewhere: an Advance on the counters backend with
	// no factor would fail, so reset and forgive through its own methods.
	if len(reset) > 0 {
		if err := s.Counters.Reset(ctx, reset...); err != nil {
			return fmt.Errorf("mfa: store: reset counters after success: %w", err)
		}
	}
	if len(forgive) > 0 {
		if err := s.Counters.Forgive(ctx, req.Now, forgive...); err != nil {
			return fmt.Errorf("mfa: store: forgive counters after success: %w", err)
		}
	}
	return nil
}
