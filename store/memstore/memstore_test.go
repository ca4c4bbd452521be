package memstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/mfakit/mfa/store"
	"github.com/mfakit/mfa/store/memstore"
	"github.com/mfakit/mfa/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(*testing.T) any { return memstore.New() })
}

// The verification path (Hit with counters and Load, then Advance with
// Reset) must stay cheap: one allocation for the loaded factor's bytes,
// none for the rest.
func TestAllocs(t *testing.T) {
	ctx := context.Background()
	s := memstore.New()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	f := store.Factor{UserID: "u", ID: "f", Kind: "totp", Status: store.StatusActive, Secret: make([]byte, 40), Data: []byte("{}")}
	if err := s.CreateFactor(ctx, f); err != nil {
		t.Fatal(err)
	}
	rule := store.Rule{TTL: time.Hour} // never blocks, so every run is admitted
	counters := []store.Counter{
		{Key: store.CounterKey{Scope: store.ScopeUser, UserID: "u"}, Rule: rule},
		{Key: store.CounterKey{Scope: store.ScopeFactor, UserID: "u", FactorID: "f"}, Rule: rule},
		{Key: store.CounterKey{Scope: store.ScopeIP, IP: "192.0.2.1"}, Rule: rule},
	}
	reset := []store.CounterKey{counters[0].Key, counters[1].Key}
	req := store.HitRequest{Now: now, Counters: counters, Load: store.FactorRef{UserID: "u", ID: "f"}}
	var step int64
	allocs := testing.AllocsPerRun(100, func() {
		res, err := s.Hit(ctx, req)
		if err != nil || !res.Admitted || !res.Found {
			t.Fatalf("Hit: %+v, %v", res, err)
		}
		err = s.Advance(ctx, store.Advance{UserID: "u", FactorID: "f", From: step, To: step + 1, Now: now, Reset: reset})
		if err != nil {
			t.Fatalf("Advance: %v", err)
		}
		step++
	})
	if allocs > 1 {
		t.Errorf("Hit with Load plus Advance with Reset: %v allocations, want at most 1", allocs)
	}
}
