package storetest

import (
	"strconv"
	"testing"
	"time"

	"github.com/mfakit/mfa/store"
)

func userKey() store.CounterKey {
	return store.CounterKey{Scope: store.ScopeUser, UserID: uid("user")}
}

// hitStep is one Hit in a scripted sequence and what it must decide.
type hitStep struct {
	at         time.Duration // since base
	admitted   bool
	locked     bool
	retryAfter time.Duration // since base; 0: zero time
	state      []store.CounterState
}

// script runs steps against fresh keys for rules and checks every result and
// every stored state after each step.
func script(t *testing.T, s store.Counters, rules []store.Rule, steps []hitStep) {
	t.Helper()
	cs := make([]store.Counter, len(rules))
	for i, r := range rules {
		cs[i] = store.Counter{Key: userKey(), Rule: r}
	}
	for n, st := range steps {
		res, err := s.Hit(ctx, store.HitRequest{Now: at(st.at), Counters: cs})
		must(t, "Hit", err)
		var want time.Time
		if st.retryAfter != 0 {
			want = at(st.retryAfter)
		}
		var d diff
		d.bool("Admitted", res.Admitted, st.admitted)
		d.bool("Locked", res.Locked, st.locked)
		d.time("RetryAfter", res.RetryAfter, want)
		d.bool("Found", res.Found, false)
		d.report(t, "step "+strconv.Itoa(n)+" (Hit at base+"+st.at.String()+")")
		for i, c := range cs {
			got, err := s.CounterState(ctx, c.Key)
			must(t, "CounterState", err)
			checkState(t, "step "+strconv.Itoa(n)+" counter "+strconv.Itoa(i), got, st.state[i])
		}
	}
}

// cs builds a CounterState from offsets since base; 0 means the zero time.
func cs(failures int, until, expires time.Duration) store.CounterState {
	s := store.CounterState{Failures: failures}
	if until != 0 {
		s.Until = at(until)
	}
	if expires != 0 {
		s.Expires = at(expires)
	}
	return s
}

// testCounters runs when the value is a [store.Counters]; it uses nothing
// else.
func testCounters(t *testing.T, s store.Counters) {
	const (
		sec    = time.Second
		minute = time.Minute
	)
	tests := []struct {
		name  string
		rules []store.Rule
		steps []hitStep
	}{{
		name:  "Counts",
		rules: []store.Rule{{}},
		steps: []hitStep{
			{at: 0, admitted: true, state: []store.CounterState{cs(1, 0, 0)}},
			{at: 0, admitted: true, state: []store.CounterState{cs(2, 0, 0)}},
			{at: 100 * 24 * time.Hour, admitted: true, state: []store.CounterState{cs(3, 0, 0)}},
		},
	}, {
		// Free 3, Base 30s, Max 2m: delays 30s, 60s, 120s, 120s, never less.
		name:  "DelayGrowsToMax",
		rules: []store.Rule{{Free: 3, Base: 30 * sec, Max: 2 * minute}},
		steps: []hitStep{
			{at: 0, admitted: true, state: []store.CounterState{cs(1, 0, 0)}},
			{at: 0, admitted: true, state: []store.CounterState{cs(2, 0, 0)}},
			{at: 0, admitted: true, state: []store.CounterState{cs(3, 30*sec, 0)}},
			{at: 1 * sec, retryAfter: 30 * sec, state: []store.CounterState{cs(3, 30*sec, 0)}},
			{at: 30*sec - time.Millisecond, retryAfter: 30 * sec, state: []store.CounterState{cs(3, 30*sec, 0)}},
			{at: 30 * sec, admitted: true, state: []store.CounterState{cs(4, 90*sec, 0)}},
			{at: 89 * sec, retryAfter: 90 * sec, state: []store.CounterState{cs(4, 90*sec, 0)}},
			{at: 90 * sec, admitted: true, state: []store.CounterState{cs(5, 210*sec, 0)}},
			{at: 210 * sec, admitted: true, state: []store.CounterState{cs(6, 330*sec, 0)}},
			{at: 400 * sec, admitted: true, state: []store.CounterState{cs(7, 520*sec, 0)}},
		},
	}, {
		// The latest Until among blocked counters, wherever it sits; a
		// counter that would admit is not counted when another refuses.
		name: "RetryAfterLatestUntil",
		rules: []store.Rule{
			{Free: 1, Base: 1 * minute},
			{Free: 1, Base: 5 * minute},
			{Free: 1, Base: 2 * minute},
			{},
		},
		steps: []hitStep{
			{at: 0, admitted: true, state: []store.CounterState{cs(1, 1*minute, 0), cs(1, 5*minute, 0), cs(1, 2*minute, 0), cs(1, 0, 0)}},
			{at: 10 * sec, retryAfter: 5 * minute, state: []store.CounterState{cs(1, 1*minute, 0), cs(1, 5*minute, 0), cs(1, 2*minute, 0), cs(1, 0, 0)}},
			{at: 3 * minute, retryAfter: 5 * minute, state: []store.CounterState{cs(1, 1*minute, 0), cs(1, 5*minute, 0), cs(1, 2*minute, 0), cs(1, 0, 0)}},
			{at: 5 * minute, admitted: true, state: []store.CounterState{cs(2, 7*minute, 0), cs(2, 15*minute, 0), cs(2, 9*minute, 0), cs(2, 0, 0)}},
		},
	}, {
		name:  "LockedAtCap",
		rules: []store.Rule{{Cap: 3}, {Free: 1, Base: time.Hour}},
		steps: []hitStep{
			{at: 0, admitted: true, state: []store.CounterState{cs(1, 0, 0), cs(1, time.Hour, 0)}},
			{at: 1 * time.Hour, admitted: true, state: []store.CounterState{cs(2, 0, 0), cs(2, 3*time.Hour, 0)}},
			{at: 3 * time.Hour, admitted: true, state: []store.CounterState{cs(3, 0, 0), cs(3, 7*time.Hour, 0)}},
			// Capped and delayed at once: Locked wins and RetryAfter is zero.
			{at: 4 * time.Hour, locked: true, state: []store.CounterState{cs(3, 0, 0), cs(3, 7*time.Hour, 0)}},
			// No TTL: a cap holds forever.
			{at: 1000 * 24 * time.Hour, locked: true, state: []store.CounterState{cs(3, 0, 0), cs(3, 7*time.Hour, 0)}},
		},
	}, {
		// TTL forgets an idle counter at its Expires instant, cap included.
		name:  "TTL",
		rules: []store.Rule{{Free: 2, Base: 1 * minute, Cap: 3, TTL: 10 * minute}},
		steps: []hitStep{
			{at: 0, admitted: true, state: []store.CounterState{cs(1, 0, 10*minute)}},
			{at: 0, admitted: true, state: []store.CounterState{cs(2, 1*minute, 10*minute)}},
			{at: 5 * minute, admitted: true, state: []store.CounterState{cs(3, 7*minute, 15*minute)}}, // expiry moves
			{at: 14 * minute, locked: true, state: []store.CounterState{cs(3, 7*minute, 15*minute)}},
			{at: 15 * minute, admitted: true, state: []store.CounterState{cs(1, 0, 25*minute)}}, // forgotten
			{at: 25*minute - time.Millisecond, admitted: true, state: []store.CounterState{cs(2, 26*minute-time.Millisecond, 35*minute-time.Millisecond)}},
			{at: 25 * minute, retryAfter: 26*minute - time.Millisecond, state: []store.CounterState{cs(2, 26*minute-time.Millisecond, 35*minute-time.Millisecond)}},
		},
	}, {
		// A delay that ran out leaves the count: the next failure waits longer.
		name:  "DelayNeverShrinksAfterWaiting",
		rules: []store.Rule{{Free: 1, Base: 1 * sec, Max: time.Hour, TTL: 24 * time.Hour}},
		steps: []hitStep{
			{at: 0, admitted: true, state: []store.CounterState{cs(1, 1*sec, 24*time.Hour)}},
			{at: 10 * minute, admitted: true, state: []store.CounterState{cs(2, 10*minute+2*sec, 10*minute+24*time.Hour)}},
			{at: 20 * minute, admitted: true, state: []store.CounterState{cs(3, 20*minute+4*sec, 20*minute+24*time.Hour)}},
			{at: 20*minute + 3*sec, retryAfter: 20*minute + 4*sec, state: []store.CounterState{cs(3, 20*minute+4*sec, 20*minute+24*time.Hour)}},
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { script(t, s, tt.rules, tt.steps) })
	}

	t.Run("DelaysUpToMax", func(t *testing.T) {
		// Always retry at the earliest instant allowed; the delay doubles
		// from 1s to the 1h maximum and then stays there.
		rule := store.Rule{Free: 1, Base: time.Second, Max: time.Hour}
		c := []store.Counter{{Key: userKey(), Rule: rule}}
		now := at(0)
		var last time.Duration
		for n := 1; n <= 16; n++ {
			res, err := s.Hit(ctx, store.HitRequest{Now: now, Counters: c})
			must(t, "Hit", err)
			if !res.Admitted {
				t.Fatalf("hit %d at the earliest allowed instant refused: %+v", n, res)
			}
			st, err := s.CounterState(ctx, c[0].Key)
			must(t, "CounterState", err)
			delay := st.Until.Sub(now)
			want := min(time.Second<<(n-1), time.Hour)
			if delay != want || delay < last {
				t.Fatalf("delay after failure %d = %v, want %v (previous %v)", n, delay, want, last)
			}
			res, err = s.Hit(ctx, store.HitRequest{Now: st.Until.Add(-time.Millisecond), Counters: c})
			must(t, "Hit", err)
			if res.Admitted || !res.RetryAfter.Equal(st.Until) {
				t.Fatalf("hit 1ms before Until: %+v, want refused until %v", res, st.Until)
			}
			last, now = delay, st.Until
		}
	})

	t.Run("Reset", func(t *testing.T) {
		capped := store.Counter{Key: userKey(), Rule: store.Rule{Cap: 2}}
		delayed := store.Counter{Key: userKey(), Rule: store.Rule{Free: 1, Base: time.Hour}}
		other := store.Counter{Key: userKey()}
		for range 2 {
			_, err := s.Hit(ctx, store.HitRequest{Now: at(0), Counters: []store.Counter{capped, other}})
			must(t, "Hit", err)
		}
		_, err := s.Hit(ctx, store.HitRequest{Now: at(0), Counters: []store.Counter{delayed}})
		must(t, "Hit", err)
		res, err := s.Hit(ctx, store.HitRequest{Now: at(time.Minute), Counters: []store.Counter{capped}})
		must(t, "Hit", err)
		if !res.Locked {
			t.Fatalf("Hit past the cap: %+v, want Locked", res)
		}

		must(t, "Reset of no keys", s.Reset(ctx))
		must(t, "Reset of a missing key", s.Reset(ctx, userKey()))
		must(t, "Reset", s.Reset(ctx, capped.Key, delayed.Key, userKey()))
		for _, c := range []store.Counter{capped, delayed} {
			st, err := s.CounterState(ctx, c.Key)
			must(t, "CounterState", err)
			checkState(t, "after Reset", st, store.CounterState{})
		}
		st, err := s.CounterState(ctx, other.Key)
		must(t, "CounterState", err)
		checkState(t, "counter not reset", st, cs(2, 0, 0))

		res, err = s.Hit(ctx, store.HitRequest{Now: at(time.Minute), Counters: []store.Counter{capped, delayed}})
		must(t, "Hit", err)
		if !res.Admitted {
			t.Fatalf("Hit after Reset: %+v, want admitted", res)
		}
	})

	t.Run("Forgive", func(t *testing.T) {
		rule := store.Rule{Free: 3, Base: time.Minute, Max: time.Hour, TTL: time.Hour}
		c := store.Counter{Key: store.CounterKey{Scope: store.ScopeIP, IP: uid("ip")}, Rule: rule}
		for range 3 {
			_, err := s.Hit(ctx, store.HitRequest{Now: at(0), Counters: []store.Counter{c}})
			must(t, "Hit", err)
		}
		st, err := s.CounterState(ctx, c.Key)
		must(t, "CounterState", err)
		checkState(t, "after 3 hits", st, cs(3, time.Minute, time.Hour))

		must(t, "Forgive of nothing", s.Forgive(ctx, at(0)))
		must(t, "Forgive of a missing counter", s.Forgive(ctx, at(0), store.Counter{Key: userKey(), Rule: rule}))
		must(t, "Forgive", s.Forgive(ctx, at(time.Second), c))
		st, err = s.CounterState(ctx, c.Key)
		must(t, "CounterState", err)
		// Below Free again: one failure less and no delay; expiry unchanged.
		checkState(t, "after Forgive", st, cs(2, 0, time.Hour))
		res, err := s.Hit(ctx, store.HitRequest{Now: at(2 * time.Second), Counters: []store.Counter{c}})
		must(t, "Hit", err)
		if !res.Admitted {
			t.Fatalf("Hit after Forgive: %+v, want admitted", res)
		}
		must(t, "Forgive", s.Forgive(ctx, at(3*time.Second), c, c, c, c))
		st, err = s.CounterState(ctx, c.Key)
		must(t, "CounterState", err)
		checkState(t, "never below zero", st, cs(0, 0, time.Hour+2*time.Second))

		// An expired counter is not touched.
		for range 2 {
			_, err := s.Hit(ctx, store.HitRequest{Now: at(4 * time.Second), Counters: []store.Counter{c}})
			must(t, "Hit", err)
		}
		must(t, "Forgive", s.Forgive(ctx, at(2*time.Hour), c))
		st, err = s.CounterState(ctx, c.Key)
		must(t, "CounterState", err)
		if st.Failures != 2 && st != (store.CounterState{}) {
			t.Fatalf("Forgive changed an expired counter: %+v", st)
		}
	})

	t.Run("CounterStateMissing", func(t *testing.T) {
		st, err := s.CounterState(ctx, userKey())
		must(t, "CounterState of a missing counter", err)
		checkState(t, "missing counter", st, store.CounterState{})
	})

	t.Run("KeysDistinct", func(t *testing.T) {
		// Keys that a naive concatenation would merge must stay apart.
		u, f, ip := uid("user"), uid("f"), uid("ip")
		keys := []store.CounterKey{
			{Scope: store.ScopeUser, UserID: u},
			{Scope: store.ScopeFactor, UserID: u, FactorID: f},
			{Scope: store.ScopeFactor, UserID: u + "|" + f},
			{Scope: store.ScopeFactor, UserID: u, FactorID: "|" + f},
			{Scope: store.ScopeFactor, UserID: u + "|1:x", FactorID: f},
			{Scope: store.ScopeFactor, UserID: u + ":", FactorID: f},
			{Scope: store.ScopeIP, IP: ip},
			{Scope: store.ScopeIP, IP: ip, UserID: u},
			{Scope: store.ScopeIP, UserID: ip},
		}
		for i, k := range keys {
			for range i + 1 { // key i gets i+1 failures
				res, err := s.Hit(ctx, store.HitRequest{Now: at(0), Counters: []store.Counter{{Key: k}}})
				must(t, "Hit", err)
				if !res.Admitted {
					t.Fatalf("Hit %s refused", k)
				}
			}
		}
		for i, k := range keys {
			st, err := s.CounterState(ctx, k)
			must(t, "CounterState", err)
			if st.Failures != i+1 {
				t.Errorf("counter %s has %d failures, want %d: keys share state", k, st.Failures, i+1)
			}
		}
	})

	t.Run("AnyScope", func(t *testing.T) {
		// A backend treats Scope as opaque text: scopes it has never heard
		// of count, delay, reset and forgive like the known ones, and stay
		// apart from each other and from a known scope with the same fields.
		u, ip := uid("user"), uid("ip")
		rule := store.Rule{Free: 2, Base: time.Minute, TTL: time.Hour}
		keys := []store.CounterKey{
			{Scope: store.ScopeUser, UserID: u},
			{Scope: "issue", UserID: u},
			{Scope: "issue-ip", IP: ip},
			{Scope: "a new|scope: with separators", UserID: u, FactorID: "f", IP: ip},
			{Scope: "", UserID: u},
			{Scope: store.ScopeIssue, IP: ip, Window: "1"},
			{Scope: store.ScopeIssue, IP: ip, Window: "2"},
			{Scope: store.ScopeIssue},
		}
		for i, k := range keys {
			for range i + 1 { // key i gets i+1 failures
				res, err := s.Hit(ctx, store.HitRequest{Now: at(0), Counters: []store.Counter{{Key: k}}})
				must(t, "Hit", err)
				if !res.Admitted {
					t.Fatalf("Hit %s refused", k)
				}
			}
		}
		for i, k := range keys {
			st, err := s.CounterState(ctx, k)
			must(t, "CounterState", err)
			if st.Failures != i+1 {
				t.Errorf("counter %s has %d failures, want %d: scopes share state", k, st.Failures, i+1)
			}
		}

		c := store.Counter{Key: store.CounterKey{Scope: "issue", UserID: uid("user")}, Rule: rule}
		for range 2 {
			_, err := s.Hit(ctx, store.HitRequest{Now: at(0), Counters: []store.Counter{c}})
			must(t, "Hit", err)
		}
		res, err := s.Hit(ctx, store.HitRequest{Now: at(time.Second), Counters: []store.Counter{c}})
		must(t, "Hit", err)
		if res.Admitted || !res.RetryAfter.Equal(at(time.Minute)) {
			t.Fatalf("Hit on a delayed counter of a new scope: %+v, want refused until %v", res, at(time.Minute))
		}
		must(t, "Forgive", s.Forgive(ctx, at(time.Second), c))
		st, err := s.CounterState(ctx, c.Key)
		must(t, "CounterState", err)
		checkState(t, "new scope after Forgive", st, cs(1, 0, time.Hour))
		must(t, "Reset", s.Reset(ctx, c.Key))
		st, err = s.CounterState(ctx, c.Key)
		must(t, "CounterState", err)
		checkState(t, "new scope after Reset", st, store.CounterState{})
	})
}
