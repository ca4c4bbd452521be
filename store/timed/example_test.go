package timed_test

import (
	"context"
	"fmt"
	"time"

	"github.com/mfakit/mfa/store"
	"github.com/mfakit/mfa/store/memstore"
	"github.com/mfakit/mfa/store/timed"
)

// Time a backend's calls: each one reports its operation, outcome and
// duration. A metrics adapter's Observer turns these into histograms.
func Example() {
	ctx := context.Background()
	t, err := timed.New(timed.Config{
		Observer: timed.ObserverFunc(func(_ context.Context, c timed.Call) {
			fmt.Println(c.Op, c.Outcome)
		}),
	})
	if err != nil {
		panic(err)
	}
	s := t.ForVerifier(memstore.New()) // for mfa.Config.Store

	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	_ = s.PutChallenge(ctx, store.Challenge{ID: "c1", Kind: "email", Created: now, Expires: now.Add(time.Minute)})
	_, _ = s.TakeChallenge(ctx, "c1", now)
	_, _ = s.TakeChallenge(ctx, "c1", now) // single use: the second take finds nothing

	// The optional concerns memstore has and a Verifier looks for are kept.
	_, resealable := s.(store.Resealable)
	_, sweeper := s.(store.Sweeper)
	_, sessions := s.(store.Sessions)
	fmt.Println("Resealable:", resealable, "Sweeper:", sweeper, "Sessions:", sessions)
	// Output:
	// PutChallenge ok
	// TakeChallenge ok
	// TakeChallenge not_found
	// Resealable: true Sweeper: true Sessions: false
}
