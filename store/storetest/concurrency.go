package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/mfakit/mfa/store"
)

// testConcurrency runs each race on the concerns it needs: Advance and
// DeletePendingVersusActivate on a [store.Factors] (Advance also resets a
// counter when the value is a [store.Counters] too), TakeChallenge on a
// [store.Challenges], RotateRefresh on a [store.Sessions], HitFree and
// HitExact on a [store.Counters].
func testConcurrency(t *testing.T, v any) {
	if s, ok := v.(store.Factors); ok {
		concurrentFactors(t, s)
	}
	if s, ok := v.(store.Challenges); ok {
		concurrentChallenges(t, s)
	}
	if s, ok := v.(store.Sessions); ok {
		concurrentSessions(t, s)
	}
	if s, ok := v.(store.Counters); ok {
		concurrentCounters(t, s)
	}
}

// one checks that exactly one racer succeeded and every other one lost with
// the given sentinel.
func one(t *testing.T, what string, errs []error, lose error) {
	t.Helper()
	c := count(errs)
	if c.other != nil {
		t.Fatalf("%s: unexpected error: %v", what, c.other)
	}
	var losers int
	switch lose {
	case store.ErrConflict:
		losers = c.conflict
	case store.ErrExists:
		losers = c.exists
	case store.ErrNotFound:
		losers = c.notFound
	}
	if c.ok != 1 || losers != len(errs)-1 {
		t.Fatalf("%s: %d of %d succeeded, %d lost with %v; want exactly one winner (%+v)", what, c.ok, len(errs), losers, lose, c)
	}
}

func concurrentFactors(t *testing.T, s store.Factors) {
	t.Run("Advance", func(t *testing.T) {
		f := newFactor("totp")
		must(t, "CreateFactor", s.CreateFactor(ctx, f))
		// With counters in the same value, the winner also resets one.
		var reset []store.CounterKey
		if c, ok := s.(store.Counters); ok {
			k := store.CounterKey{Scope: store.ScopeFactor, UserID: f.UserID, FactorID: f.ID}
			_, err := c.Hit(ctx, store.HitRequest{Now: at(0), Counters: []store.Counter{{Key: k}}})
			must(t, "Hit", err)
			reset = []store.CounterKey{k}
		}
		errs := race(racers, func(i int) error {
			return s.Advance(ctx, store.Advance{UserID: f.UserID, FactorID: f.ID, From: f.Counter, To: f.Counter + 1 + int64(i),
				Data: fmt.Appendf(nil, "racer %d", i), Now: at(time.Duration(i) * time.Millisecond), Reset: reset})
		})
		one(t, "Advance with the same From", errs, store.ErrConflict)
		got, err := s.GetFactor(ctx, f.UserID, f.ID)
		must(t, "GetFactor", err)
		var winner int
		for i, err := range errs {
			if err == nil {
				winner = i
			}
		}
		want := f
		want.Counter = f.Counter + 1 + int64(winner)
		want.Data = fmt.Appendf(nil, "racer %d", winner)
		want.LastUsed = at(time.Duration(winner) * time.Millisecond)
		checkFactor(t, "factor after the race (the winner's values)", got, want)
	})

	t.Run("DeletePendingVersusActivate", func(t *testing.T) {
		// Pairs of one DeletePendingFactor and one activating UpdateFactor
		// on a pending factor: one of the two wins, never both.
		user := uid("user")
		pending := make([]store.Factor, racers/2)
		for i := range pending {
			f := newFactor("webauthn")
			f.UserID, f.ID = user, fmt.Sprintf("f%d", i)
			f.Status, f.Confirmed = store.StatusPending, time.Time{}
			must(t, "CreateFactor", s.CreateFactor(ctx, f))
			pending[i] = f
		}
		errs := race(racers, func(i int) error {
			f := pending[i/2]
			if i%2 == 0 {
				return s.DeletePendingFactor(ctx, f.UserID, f.ID)
			}
			f.Status, f.Confirmed = store.StatusActive, at(time.Minute)
			return s.UpdateFactor(ctx, f)
		})
		var deleted, activated int
		for i, f := range pending {
			del, act := errs[2*i], errs[2*i+1]
			got, err := s.GetFactor(ctx, f.UserID, f.ID)
			switch {
			case del == nil && errors.Is(act, store.ErrNotFound):
				deleted++
				wantErr(t, "GetFactor of a factor deleted while pending", err, store.ErrNotFound)
				_, err = s.FindFactor(ctx, f.Kind, f.Lookup)
				wantErr(t, "FindFactor of a factor deleted while pending", err, store.ErrNotFound)
			case act == nil && errors.Is(del, store.ErrConflict):
				activated++
				must(t, "GetFactor of an activated factor", err)
				want := f
				want.Status, want.Confirmed = store.StatusActive, at(time.Minute)
				checkFactor(t, "factor activated before DeletePendingFactor", got, want)
			default:
				t.Fatalf("factor %s: DeletePendingFactor: %v, activating UpdateFactor: %v (GetFactor: %v); want exactly one to succeed, the delete losing with ErrConflict or the update with ErrNotFound",
					f.ID, del, act, err)
			}
		}
		t.Logf("%d pairs: %d deleted while pending, %d activated first", len(pending), deleted, activated)
	})

}

func concurrentChallenges(t *testing.T, s store.Challenges) {
	t.Run("TakeChallenge", func(t *testing.T) {
		c := newChallenge()
		must(t, "PutChallenge", s.PutChallenge(ctx, c))
		got := make([]store.Challenge, racers)
		errs := race(racers, func(i int) (err error) {
			got[i], err = s.TakeChallenge(ctx, c.ID, at(time.Second))
			return err
		})
		one(t, "TakeChallenge", errs, store.ErrNotFound)
		for i, err := range errs {
			if err == nil {
				checkChallenge(t, "the winner's challenge", got[i], c)
			}
		}
	})

}

func concurrentSessions(t *testing.T, s store.Sessions) {
	t.Run("RotateRefresh", func(t *testing.T) {
		sess := newSession(uid("user"))
		must(t, "CreateSession", s.CreateSession(ctx, sess))
		errs := race(racers, func(int) error {
			_, err := s.RotateRefresh(ctx, store.Rotate{SessionID: sess.ID, Old: sess.Refresh, New: randBytes(32),
				Now: at(time.Minute), IdleExpires: at(time.Hour)})
			return err
		})
		// The losers present a hash the winner retired: the first of them
		// is a reuse and revokes the family; later ones find it revoked.
		c := count(errs)
		if c.other != nil || c.ok != 1 || c.reused < 1 || c.reused+c.notFound != racers-1 {
			t.Fatalf("RotateRefresh with the same Old: %+v; want 1 winner, the rest ErrReused (at least one) or ErrNotFound, other %v", c, c.other)
		}
		got, err := s.GetSession(ctx, sess.ID)
		must(t, "GetSession", err)
		if !got.Revoked {
			t.Fatal("a raced refresh token was reused and the session is not revoked")
		}
	})

}

func concurrentCounters(t *testing.T, s store.Counters) {
	t.Run("HitFree", func(t *testing.T) {
		// 200 concurrent guesses against Free 5 get exactly 5 comparisons.
		const free, n = 5, 200
		c := []store.Counter{{Key: userKey(), Rule: store.Rule{Free: free, Base: 30 * time.Second, Max: time.Hour, Cap: 100}}}
		admitted := make([]bool, n)
		errs := race(n, func(i int) error {
			res, err := s.Hit(ctx, store.HitRequest{Now: at(0), Counters: c})
			admitted[i] = res.Admitted
			return err
		})
		if cnt := count(errs); cnt.ok != n {
			t.Fatalf("Hit errors under contention: %+v (first: %v)", cnt, cnt.other)
		}
		var got int
		for _, a := range admitted {
			if a {
				got++
			}
		}
		if got != free {
			t.Fatalf("%d concurrent hits on a fresh counter with Free %d admitted %d", n, free, got)
		}
		st, err := s.CounterState(ctx, c[0].Key)
		must(t, "CounterState", err)
		checkState(t, "counter after the race", st, store.CounterState{Failures: free, Until: at(30 * time.Second)})
	})

	t.Run("HitExact", func(t *testing.T) {
		// A rule that never blocks counts every concurrent hit, on every
		// counter of the request, with no lost update.
		shared := store.Counter{Key: userKey(), Rule: store.Rule{TTL: time.Hour}}
		errs := race(racers, func(i int) error {
			own := store.Counter{Key: store.CounterKey{Scope: store.ScopeIP, IP: fmt.Sprintf("%s-%d", shared.Key.UserID, i)}}
			res, err := s.Hit(ctx, store.HitRequest{Now: at(time.Duration(i) * time.Millisecond), Counters: []store.Counter{own, shared}})
			if err == nil && !res.Admitted {
				err = fmt.Errorf("refused: %+v", res)
			}
			return err
		})
		if c := count(errs); c.ok != racers {
			t.Fatalf("Hit with a rule that never blocks: %+v (first: %v)", c, c.other)
		}
		st, err := s.CounterState(ctx, shared.Key)
		must(t, "CounterState", err)
		if st.Failures != racers {
			t.Fatalf("%d concurrent hits left %d failures", racers, st.Failures)
		}
	})
}
