package sqlstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/mfakit/mfa/store"
	"github.com/mfakit/mfa/store/sqlstore"
)

// On PostgreSQL, Hit's usual statement inserts missing counters only if
// none of them exists, with no ON CONFLICT clause. When another
// transaction inserts one of them after the statement has looked, the
// insert fails on the duplicate key, the statement writes nothing, and
// Hit decides again with {p}hit_new. The test makes that happen: a
// transaction inserts the user's counter and holds it uncommitted, Hit
// starts and waits on that row, and the transaction commits. Whatever
// the inserted state, the outcome is the one {p}hit gives, all or
// nothing across the two counters.
func TestHitFreshRace(t *testing.T) {
	ctx := context.Background()
	now := time.Unix(1_800_000_000, 0).UTC()
	rule := store.Rule{Free: 3, Base: time.Minute, Max: time.Hour, Cap: 10, TTL: 24 * time.Hour}
	user := store.CounterKey{Scope: store.ScopeUser, UserID: "racer"}
	fac := store.CounterKey{Scope: store.ScopeFactor, UserID: "racer", FactorID: "f"}
	req := store.HitRequest{Now: now, Counters: []store.Counter{{Key: user, Rule: rule}, {Key: fac, Rule: rule}}}

	cases := []struct {
		name string
		// the user's counter as the other transaction inserts it
		failures int
		until    time.Time
		// want: admitted, and the counters' failures afterwards
		admitted    bool
		userAfter   int
		factorAfter int
	}{
		{name: "counting", failures: 1, admitted: true, userAfter: 2, factorAfter: 1},
		{name: "blocking", failures: 3, until: now.Add(time.Minute), admitted: false, userAfter: 3, factorAfter: 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, db := newStore(t, postgresBackend)
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback()
			var holder int
			if err := tx.QueryRowContext(ctx, "SELECT pg_backend_pid()").Scan(&holder); err != nil {
				t.Fatal(err)
			}
			if _, err := tx.ExecContext(ctx, "INSERT INTO "+sqlstore.DefaultPrefix+"counters (counter_key, failures, until_us, expires_us) VALUES ($1, $2, $3, 0)",
				user.String(), c.failures, micros(c.until)); err != nil {
				t.Fatal(err)
			}

			type hit struct {
				res store.HitResult
				err error
			}
			done := make(chan hit, 1)
			go func() {
				res, err := s.Hit(ctx, req)
				done <- hit{res, err}
			}()

			// Wait until Hit's statement waits for the uncommitted row:
			// it looked before the row existed, so its insert collides.
			waitCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			for {
				var waiting bool
				err := db.QueryRowContext(waitCtx, "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE $1 = ANY (pg_blocking_pids(pid))"+
					" AND query LIKE 'WITH ins AS (INSERT INTO "+sqlstore.DefaultPrefix+"counters%')", holder).Scan(&waiting)
				if err != nil {
					t.Fatalf("waiting for Hit to block: %v", err)
				}
				if waiting {
					break
				}
				select {
				case h := <-done:
					t.Fatalf("Hit did not wait for the uncommitted counter: %+v, %v", h.res, h.err)
				default:
				}
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}

			h := <-done
			if h.err != nil || h.res.Admitted != c.admitted {
				t.Fatalf("Hit: %+v, %v; want admitted %v", h.res, h.err, c.admitted)
			}
			for k, want := range map[store.CounterKey]int{user: c.userAfter, fac: c.factorAfter} {
				got, err := s.CounterState(ctx, k)
				if err != nil || got.Failures != want {
					t.Errorf("%s: %+v, %v; want %d failures", k, got, err, want)
				}
			}
		})
	}
}

// micros is t in microseconds since the epoch, 0 for the zero time, as
// the counters table stores instants.
func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}
