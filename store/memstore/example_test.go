package memstore_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mfakit/mfa/store"
	"github.com/mfakit/mfa/store/memstore"
)

// The verification path a Verifier takes: count the attempt and load the
// factor in one step, then commit the success (the accepted TOTP step) and
// clear the failure counter in another. Replaying the same step conflicts.
func Example() {
	ctx := context.Background()
	s := memstore.New()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

	err := s.CreateFactor(ctx, store.Factor{
		UserID: "alice", ID: "phone", Kind: "totp", Status: store.StatusActive,
		Secret: []byte("sealed seed"), Created: now,
	})
	if err != nil {
		panic(err)
	}

	user := store.Counter{
		Key:  store.CounterKey{Scope: store.ScopeUser, UserID: "alice"},
		Rule: store.Rule{Free: 5, Base: 30 * time.Second, Max: time.Hour, Cap: 100},
	}
	hit, err := s.Hit(ctx, store.HitRequest{
		Now: now, Counters: []store.Counter{user},
		Load: store.FactorRef{UserID: "alice", ID: "phone"},
	})
	if err != nil {
		panic(err)
	}
	state, _ := s.CounterState(ctx, user.Key)
	fmt.Println("admitted:", hit.Admitted, "factor:", hit.Factor.ID, "failures:", state.Failures)

	// The code matched step 58833; commit it and clear the counter.
	step := int64(58833)
	err = s.Advance(ctx, store.Advance{
		UserID: "alice", FactorID: "phone", From: hit.Factor.Counter, To: step,
		Now: now, Reset: []store.CounterKey{user.Key},
	})
	state, _ = s.CounterState(ctx, user.Key)
	fmt.Println("advanced:", err == nil, "failures:", state.Failures)

	// The same code again: the stored step moved on, so the commit fails.
	err = s.Advance(ctx, store.Advance{
		UserID: "alice", FactorID: "phone", From: hit.Factor.Counter, To: step, Now: now,
	})
	fmt.Println("replay refused:", errors.Is(err, store.ErrConflict))

	// Output:
	// admitted: true factor: phone failures: 1
	// advanced: true failures: 0
	// replay refused: true
}
