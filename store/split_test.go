package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mfakit/mfa/store"
	"github.com/mfakit/mfa/store/memstore"
	"github.com/mfakit/mfa/store/storetest"
)

// split puts factors in one memstore and counters and challenges in another.
func split(a, b *memstore.Store) *store.Split {
	return &store.Split{Factors: a, Counters: b, Challenges: b}
}

// application is what an application holding a split has: the split for
// the Verifier, sessions in the factors' backend and devices in the other
// (for the session package), and a job that sweeps both backends.
type application struct {
	*store.Split
	store.Sessions
	store.Devices
	sweepers []store.Sweeper
}

func (a application) Sweep(ctx context.Context, now time.Time) (int64, error) {
	var total int64
	for _, sw := range a.sweepers {
		n, err := sw.Sweep(ctx, now)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

func TestSplitConformance(t *testing.T) {
	storetest.Run(t, func(*testing.T) any {
		a, b := memstore.New(), memstore.New()
		return application{Split: split(a, b), Sessions: a, Devices: b, sweepers: []store.Sweeper{a, b}}
	})
}

func TestSplitRouting(t *testing.T) {
	ctx := context.Background()
	a, b := memstore.New(), memstore.New()
	s := split(a, b)

	f := store.Factor{UserID: "u", ID: "f", Kind: "totp", Name: "real", Status: store.StatusActive, Counter: 10, Created: t0}
	decoy := f
	decoy.Name = "decoy"
	if err := s.CreateFactor(ctx, f); err != nil {
		t.Fatal(err)
	}
	if err := b.CreateFactor(ctx, decoy); err != nil { // must never be read through s
		t.Fatal(err)
	}
	key := store.CounterKey{Scope: store.ScopeFactor, UserID: "u", FactorID: "f"}
	counters := []store.Counter{{Key: key, Rule: store.Rule{Free: 2, Base: time.Minute}}}
	failures := func(l store.Counters) int {
		t.Helper()
		st, err := l.CounterState(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		return st.Failures
	}

	// Hit counts in Counters and loads from Factors.
	if _, err := a.Hit(ctx, store.HitRequest{Now: t0, Counters: counters}); err != nil {
		t.Fatal(err)
	}
	res, err := s.Hit(ctx, store.HitRequest{Now: t0, Counters: counters, Load: store.FactorRef{UserID: "u", ID: "f"}})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Admitted || !res.Found || res.Factor.Name != "real" {
		t.Fatalf("Hit with Load = admitted %t found %t factor %q; want the factor from Factors", res.Admitted, res.Found, res.Factor.Name)
	}
	if fa, fb := failures(a), failures(b); fa != 1 || fb != 1 {
		t.Fatalf("failures after one Hit: factors backend %d (want its own 1), counters backend %d (want 1)", fa, fb)
	}

	// A conflicting Advance resets nothing.
	err = s.Advance(ctx, store.Advance{UserID: "u", FactorID: "f", From: 9, To: 11, Now: t0, Reset: []store.CounterKey{key}})
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("Advance with a stale From: %v, want ErrConflict", err)
	}
	if n := failures(b); n != 1 {
		t.Fatalf("conflicting Advance reset the counter: %d failures, want 1", n)
	}

	// Advance moves the factor in Factors and clears the counter in Counters.
	if err := s.Advance(ctx, store.Advance{UserID: "u", FactorID: "f", From: 10, To: 11, Now: t0, Reset: []store.CounterKey{key}}); err != nil {
		t.Fatal(err)
	}
	got, err := a.GetFactor(ctx, "u", "f")
	if err != nil || got.Counter != 11 {
		t.Fatalf("factor in the factors backend: counter %d, %v; want 11", got.Counter, err)
	}
	if got, err := b.GetFactor(ctx, "u", "f"); err != nil || got.Counter != 10 {
		t.Fatalf("decoy in the counters backend: counter %d, %v; want it untouched at 10", got.Counter, err)
	}
	if fa, fb := failures(a), failures(b); fa != 1 || fb != 0 {
		t.Fatalf("failures after Advance: factors backend %d (want untouched 1), counters backend %d (want 0)", fa, fb)
	}

	// A refused Hit loads nothing.
	for range 3 {
		res, err = s.Hit(ctx, store.HitRequest{Now: t0, Counters: counters, Load: store.FactorRef{UserID: "u", ID: "f"}})
		if err != nil {
			t.Fatal(err)
		}
	}
	if res.Admitted || res.Found || res.Factor.Name != "" {
		t.Fatalf("refused Hit: admitted %t found %t factor %q; want nothing loaded", res.Admitted, res.Found, res.Factor.Name)
	}
}

var errBackend = errors.New("backend down")

type failingReset struct{ store.Counters }

func (failingReset) Reset(context.Context, ...store.CounterKey) error { return errBackend }

type failingGet struct{ store.Factors }

func (failingGet) GetFactor(context.Context, string, string) (store.Factor, error) {
	return store.Factor{}, errBackend
}

func TestSplitErrors(t *testing.T) {
	ctx := context.Background()
	m := memstore.New()
	f := store.Factor{UserID: "u", ID: "f", Kind: "totp", Status: store.StatusActive, Created: t0}
	if err := m.CreateFactor(ctx, f); err != nil {
		t.Fatal(err)
	}
	key := store.CounterKey{Scope: store.ScopeUser, UserID: "u"}

	// Reset failing after the commit: the error is returned, wrapped.
	s := split(m, m)
	s.Counters = failingReset{m}
	err := s.Advance(ctx, store.Advance{UserID: "u", FactorID: "f", From: 0, To: 1, Now: t0, Reset: []store.CounterKey{key}})
	if !errors.Is(err, errBackend) {
		t.Fatalf("Advance when Reset fails: %v, want it wrapped", err)
	}
	if got, _ := m.GetFactor(ctx, "u", "f"); got.Counter != 1 {
		t.Fatalf("counter %d after the compare-and-set, want 1 (committed before the reset)", got.Counter)
	}
	// No counters to reset: Reset is not called at all.
	if err := s.Advance(ctx, store.Advance{UserID: "u", FactorID: "f", From: 1, To: 2, Now: t0}); err != nil {
		t.Fatalf("Advance without Reset: %v", err)
	}

	// Loading failing: the attempt is not admitted (fail closed).
	s = split(m, m)
	s.Factors = failingGet{m}
	res, err := s.Hit(ctx, store.HitRequest{Now: t0, Counters: []store.Counter{{Key: key}}, Load: store.FactorRef{UserID: "u", ID: "f"}})
	if !errors.Is(err, errBackend) || res.Admitted || res.Found {
		t.Fatalf("Hit when loading fails: %+v, %v; want not admitted and the error", res, err)
	}
	// Nothing to load: Factors is not asked.
	res, err = s.Hit(ctx, store.HitRequest{Now: t0, Counters: []store.Counter{{Key: key}}})
	if err != nil || !res.Admitted {
		t.Fatalf("Hit without Load: %+v, %v; want admitted", res, err)
	}
}
