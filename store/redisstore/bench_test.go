package redisstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/mfakit/mfa/store"
)

// BenchmarkVerifyPath runs the store calls of a TOTP verification as the
// Verifier makes them with its default limits, one after the other from
// one goroutine, so the server time of each script (INFO commandstats,
// SLOWLOG) and the client's allocations per verification can be read
// without contention:
//
//   - success: a Hit on the user's and the factor's counters that loads
//     the factor (the hit script's lean path: a success left no counter),
//     then the Advance that moves its step and clears both counters;
//   - failure: the Hit of a wrong code while both counters are counting
//     (the general path), with rules that never delay, so that every
//     attempt is counted.
func BenchmarkVerifyPath(b *testing.B) {
	s, _, _ := newStore(b)
	ctx := context.Background()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	f := store.Factor{
		UserID: "user-0123456789", ID: "factor-0123456789", Kind: "totp", Name: "Phone",
		Status: store.StatusActive, Secret: make([]byte, 60), Counter: 1,
		Created: now, Confirmed: now, LastUsed: now,
	}
	if err := s.CreateFactor(ctx, f); err != nil {
		b.Fatal(err)
	}
	load := store.FactorRef{UserID: f.UserID, ID: f.ID}
	user := store.CounterKey{Scope: store.ScopeUser, UserID: f.UserID}
	fac := store.CounterKey{Scope: store.ScopeFactor, UserID: f.UserID, FactorID: f.ID}
	b.Run("success", func(b *testing.B) {
		cs := []store.Counter{
			{Key: user, Rule: store.Rule{Free: 5, Base: 30 * time.Second, Max: time.Hour, Cap: 10}},
			{Key: fac, Rule: store.Rule{Free: 5, Base: 30 * time.Second, Max: time.Hour, TTL: 24 * time.Hour}},
		}
		reset := []store.CounterKey{user, fac}
		g, err := s.GetFactor(ctx, f.UserID, f.ID)
		if err != nil {
			b.Fatal(err)
		}
		step := g.Counter
		b.ReportAllocs()
		for b.Loop() {
			now = now.Add(30 * time.Second)
			hit, err := s.Hit(ctx, store.HitRequest{Now: now, Counters: cs, Load: load})
			if err != nil || !hit.Admitted || !hit.Found {
				b.Fatalf("hit: %+v, %v", hit, err)
			}
			if err := s.Advance(ctx, store.Advance{UserID: f.UserID, FactorID: f.ID, From: step, To: step + 1, Now: now, Reset: reset}); err != nil {
				b.Fatal(err)
			}
			step++
		}
	})
	b.Run("failure", func(b *testing.B) {
		cs := []store.Counter{
			{Key: user, Rule: store.Rule{Free: 0, Cap: 0}},
			{Key: fac, Rule: store.Rule{TTL: 24 * time.Hour}},
		}
		b.ReportAllocs()
		for b.Loop() {
			now = now.Add(30 * time.Second)
			hit, err := s.Hit(ctx, store.HitRequest{Now: now, Counters: cs, Load: load})
			if err != nil || !hit.Admitted || !hit.Found {
				b.Fatalf("hit: %+v, %v", hit, err)
			}
		}
		if err := s.Reset(ctx, user, fac); err != nil {
			b.Fatal(err)
		}
	})
}
