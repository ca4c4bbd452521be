package storetest

import (
	"testing"
	"time"

	"github.com/mfakit/mfa/store"
)

// factorsCounters is a value that keeps both factors and counters: the
// checks here cross the two concerns (Hit loading a factor, Advance
// resetting and forgiving counters).
type factorsCounters interface {
	store.Factors
	store.Counters
}

// testFactorsCounters runs when the value is both a [store.Factors] and a
// [store.Counters].
func testFactorsCounters(t *testing.T, s factorsCounters) {
	t.Run("AdvanceResets", func(t *testing.T) {
		f := newFactor("totp")
		must(t, "CreateFactor", s.CreateFactor(ctx, f))
		keys := []store.CounterKey{
			{Scope: store.ScopeUser, UserID: f.UserID},
			{Scope: store.ScopeFactor, UserID: f.UserID, FactorID: f.ID},
		}
		untouched := store.CounterKey{Scope: store.ScopeIP, IP: uid("ip")}
		hit := func(now time.Time) {
			t.Helper()
			var cs []store.Counter
			for _, k := range append(keys, untouched) {
				cs = append(cs, store.Counter{Key: k})
			}
			res, err := s.Hit(ctx, store.HitRequest{Now: now, Counters: cs})
			must(t, "Hit", err)
			if !res.Admitted {
				t.Fatalf("Hit with a rule that never blocks: not admitted: %+v", res)
			}
		}
		failures := func(k store.CounterKey) int {
			t.Helper()
			st, err := s.CounterState(ctx, k)
			must(t, "CounterState", err)
			return st.Failures
		}
		hit(at(time.Hour))
		hit(at(time.Hour))

		// A stale From: nothing changes, counters included.
		err := s.Advance(ctx, store.Advance{UserID: f.UserID, FactorID: f.ID, From: f.Counter - 1, To: f.Counter + 1,
			Data: []byte("lost"), Now: at(2 * time.Hour), Reset: keys})
		wantErr(t, "Advance with a stale From", err, store.ErrConflict)
		got, err := s.GetFactor(ctx, f.UserID, f.ID)
		must(t, "GetFactor", err)
		checkFactor(t, "after a conflicting Advance", got, f)
		for _, k := range keys {
			if n := failures(k); n != 2 {
				t.Fatalf("counter %s after a conflicting Advance: %d failures, want 2", k, n)
			}
		}

		// The counters named are cleared, the others kept.
		want := f
		want.Counter, want.LastUsed = 59, at(3*time.Hour)
		must(t, "Advance", s.Advance(ctx, store.Advance{UserID: f.UserID, FactorID: f.ID, From: f.Counter, To: 59, Now: at(3 * time.Hour), Reset: keys}))
		got, err = s.GetFactor(ctx, f.UserID, f.ID)
		must(t, "GetFactor", err)
		checkFactor(t, "after Advance with Reset", got, want)
		for _, k := range keys {
			if n := failures(k); n != 0 {
				t.Fatalf("counter %s after Advance with Reset: %d failures, want 0", k, n)
			}
		}
		if n := failures(untouched); n != 2 {
			t.Fatalf("counter not named in Reset: %d failures, want 2", n)
		}
	})

	t.Run("AdvanceUnknownKeepsCounters", func(t *testing.T) {
		k := store.CounterKey{Scope: store.ScopeUser, UserID: uid("user")}
		_, err := s.Hit(ctx, store.HitRequest{Now: at(0), Counters: []store.Counter{{Key: k}}})
		must(t, "Hit", err)
		err = s.Advance(ctx, store.Advance{UserID: k.UserID, FactorID: "none", From: 0, To: 1, Now: at(0), Reset: []store.CounterKey{k}})
		wantErr(t, "Advance of a missing factor", err, store.ErrNotFound)
		st, err := s.CounterState(ctx, k)
		must(t, "CounterState", err)
		if st.Failures != 1 {
			t.Fatalf("failed Advance reset a counter: %d failures, want 1", st.Failures)
		}
	})

	t.Run("AdvanceForgives", func(t *testing.T) {
		f := newFactor("totp")
		must(t, "CreateFactor", s.CreateFactor(ctx, f))
		rule := store.Rule{Free: 2, Base: time.Minute, TTL: time.Hour}
		ip := store.Counter{Key: store.CounterKey{Scope: store.ScopeIP, IP: uid("ip")}, Rule: rule}
		for range 2 {
			_, err := s.Hit(ctx, store.HitRequest{Now: at(0), Counters: []store.Counter{ip}})
			must(t, "Hit", err)
		}
		must(t, "Advance", s.Advance(ctx, store.Advance{UserID: f.UserID, FactorID: f.ID, From: f.Counter, To: f.Counter + 1, Now: at(time.Second), Forgive: []store.Counter{ip}}))
		st, err := s.CounterState(ctx, ip.Key)
		must(t, "CounterState", err)
		checkState(t, "after Advance with Forgive", st, cs(1, 0, time.Hour))
		// A lost compare-and-set forgives nothing.
		err = s.Advance(ctx, store.Advance{UserID: f.UserID, FactorID: f.ID, From: f.Counter, To: f.Counter + 2, Now: at(time.Second), Forgive: []store.Counter{ip}})
		wantErr(t, "stale Advance", err, store.ErrConflict)
		st, err = s.CounterState(ctx, ip.Key)
		must(t, "CounterState", err)
		checkState(t, "after a lost Advance", st, cs(1, 0, time.Hour))
	})

	t.Run("Load", func(t *testing.T) {
		f := newFactor("totp")
		must(t, "CreateFactor", s.CreateFactor(ctx, f))
		c := []store.Counter{{Key: userKey(), Rule: store.Rule{Free: 1, Base: time.Minute}}}
		ref := store.FactorRef{UserID: f.UserID, ID: f.ID}

		res, err := s.Hit(ctx, store.HitRequest{Now: at(0), Counters: c, Load: ref})
		must(t, "Hit", err)
		if !res.Admitted || !res.Found {
			t.Fatalf("admitted Hit with Load: %+v, want admitted and found", res)
		}
		checkFactor(t, "loaded factor", res.Factor, f)

		res, err = s.Hit(ctx, store.HitRequest{Now: at(time.Second), Counters: c, Load: ref})
		must(t, "Hit", err)
		if res.Admitted || res.Found || res.Factor.ID != "" || res.Factor.Secret != nil {
			t.Fatalf("refused Hit with Load: %+v, want nothing loaded", res)
		}

		res, err = s.Hit(ctx, store.HitRequest{Now: at(time.Hour), Counters: c, Load: store.FactorRef{UserID: f.UserID, ID: "missing"}})
		must(t, "Hit", err)
		if !res.Admitted || res.Found || res.Factor.ID != "" {
			t.Fatalf("Hit loading a missing factor: %+v, want admitted, not found", res)
		}
		st, err := s.CounterState(ctx, c[0].Key)
		must(t, "CounterState", err)
		if st.Failures != 2 {
			t.Fatalf("a Hit loading a missing factor is still counted: %d failures, want 2", st.Failures)
		}

		res, err = s.Hit(ctx, store.HitRequest{Now: at(time.Hour), Load: ref})
		must(t, "Hit", err)
		if !res.Admitted || !res.Found {
			t.Fatalf("Hit with no counters: %+v, want admitted and found", res)
		}
		checkFactor(t, "loaded factor without counters", res.Factor, f)

		// Counters that do not exist yet, as after a success: the
		// backends' fast paths.
		fresh := []store.Counter{{Key: userKey(), Rule: store.Rule{Free: 1, Base: time.Minute}}, {Key: userKey(), Rule: store.Rule{Free: 3, TTL: time.Hour}}}
		res, err = s.Hit(ctx, store.HitRequest{Now: at(time.Hour), Counters: fresh, Load: store.FactorRef{UserID: f.UserID, ID: "missing"}})
		must(t, "Hit", err)
		if !res.Admitted || res.Found || res.Factor.ID != "" {
			t.Fatalf("Hit on new counters loading a missing factor: %+v, want admitted, not found", res)
		}
		for _, c := range fresh {
			st, err := s.CounterState(ctx, c.Key)
			must(t, "CounterState", err)
			if st.Failures != 1 {
				t.Fatalf("a Hit on new counters loading a missing factor is still counted: %d failures, want 1", st.Failures)
			}
		}

		res, err = s.Hit(ctx, store.HitRequest{Now: at(time.Hour)})
		must(t, "Hit", err)
		if !res.Admitted || res.Found {
			t.Fatalf("Hit without Load: %+v, want admitted, nothing loaded", res)
		}
	})

	t.Run("LoadNoAliasing", func(t *testing.T) {
		f := newFactor("totp")
		must(t, "CreateFactor", s.CreateFactor(ctx, f))
		res, err := s.Hit(ctx, store.HitRequest{Now: at(time.Hour), Load: store.FactorRef{UserID: f.UserID, ID: f.ID}})
		must(t, "Hit", err)
		if !res.Found {
			t.Fatal("Hit did not load an existing factor")
		}
		res.Factor.Secret[0] ^= 0xff
		res.Factor.Data[0] ^= 0xff
		got, err := s.GetFactor(ctx, f.UserID, f.ID)
		must(t, "GetFactor", err)
		checkFactor(t, "after changing bytes loaded by Hit", got, f)
	})
}
