package sqlstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/mfakit/mfa/store"
)

// A Hit whose counters are partly missing takes the fast path's fallback
// (migration 7's {p}hit_new finding one counter, then {p}hit): an
// admitted attempt counts each counter once, from its stored state or
// from zero, and a refused one leaves the missing counter missing and the
// existing one as it was.
func TestHitMixedCounters(t *testing.T) {
	ctx := context.Background()
	now := time.Unix(1_800_000_000, 0).UTC()
	rule := store.Rule{Free: 3, Base: time.Minute, Max: time.Hour, Cap: 10, TTL: 24 * time.Hour}
	old := store.CounterKey{Scope: "user", UserID: "mix"}
	missing := store.CounterKey{Scope: "factor", UserID: "mix", FactorID: "f"}
	req := func(at time.Time) store.HitRequest {
		return store.HitRequest{Now: at, Counters: []store.Counter{{Key: old, Rule: rule}, {Key: missing, Rule: rule}}}
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			s, _ := newStore(t, b)
			for range 2 { // two failures on the user's counter alone
				if res, err := s.Hit(ctx, store.HitRequest{Now: now, Counters: []store.Counter{{Key: old, Rule: rule}}}); err != nil || !res.Admitted {
					t.Fatalf("first hits: %+v, %v", res, err)
				}
			}
			res, err := s.Hit(ctx, req(now))
			if err != nil || !res.Admitted {
				t.Fatalf("mixed hit: %+v, %v", res, err)
			}
			for k, want := range map[store.CounterKey]store.CounterState{
				old:     rule.Apply(rule.Apply(rule.Apply(store.CounterState{}, now), now), now),
				missing: rule.Apply(store.CounterState{}, now),
			} {
				got, err := s.CounterState(ctx, k)
				if err != nil || got.Failures != want.Failures || !got.Until.Equal(want.Until) || !got.Expires.Equal(want.Expires) {
					t.Fatalf("%s after the mixed hit: %+v, %v; want %+v", k, got, err, want)
				}
			}
			// The user's counter now waits a minute: a refusal, which must
			// not create the factor's counter once it is gone.
			if err := s.Reset(ctx, missing); err != nil {
				t.Fatal(err)
			}
			before, err := s.CounterState(ctx, old)
			if err != nil {
				t.Fatal(err)
			}
			res, err = s.Hit(ctx, req(now.Add(time.Second)))
			if err != nil || res.Admitted || res.Locked || !res.RetryAfter.Equal(before.Until) {
				t.Fatalf("blocked hit: %+v, %v; want a refusal until %v", res, err, before.Until)
			}
			if got, err := s.CounterState(ctx, missing); err != nil || got != (store.CounterState{}) {
				t.Fatalf("missing counter after a refusal: %+v, %v", got, err)
			}
			if got, err := s.CounterState(ctx, old); err != nil || got.Failures != before.Failures || !got.Until.Equal(before.Until) {
				t.Fatalf("user's counter after a refusal: %+v, %v; want %+v", got, err, before)
			}
		})
	}
}
