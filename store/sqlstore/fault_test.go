package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/internal/testkit"
	"github.com/mfakit/mfa/store/sqlstore"
)

// TestFaults cuts the database connections while verifications run: the
// server kills every connection of the test (PostgreSQL
// pg_terminate_backend, MySQL KILL) or, on SQLite, the *sql.DB is closed;
// in every case the contexts of half of the running verifications are
// cancelled too. Every verification must end in a success or an error
// (ErrStore for a fault), no code may be accepted twice, not even when it
// is submitted again after the store has reconnected, and after the faults
// the store works normally.
func TestFaults(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { testFaults(t, b) })
	}
}

// fault is one backend's way to break its connections.
type fault struct {
	dsn string
	// cut breaks the connections of db (which may be replaced by reopen).
	cut func(t *testing.T, db *sql.DB)
	// reopen is true when cut leaves db unusable, so the next round opens
	// a new pool.
	reopen bool
}

func newFault(t *testing.T, b backend) fault {
	dsn := b.dsn(t)
	switch b.dialect {
	case sqlstore.Postgres:
		// Name the test's connections so the killer finds exactly them.
		app := randName("mfa_fault_")
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		q.Set("application_name", app)
		u.RawQuery = q.Encode()
		admin := b.open(t, dsn)
		return fault{dsn: u.String(), cut: func(t *testing.T, _ *sql.DB) {
			if _, err := admin.Exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1", app); err != nil {
				t.Errorf("terminate backends: %v", err)
			}
		}}
	case sqlstore.MySQL:
		cfg, err := mysql.ParseDSN(dsn)
		if err != nil {
			t.Fatal(err)
		}
		// The driver logs every connection it finds dead; here that is the point.
		_ = mysql.SetLogger(log.New(io.Discard, "", 0))
		t.Cleanup(func() { _ = mysql.SetLogger(log.New(os.Stderr, "[mysql] ", log.Ldate|log.Ltime|log.Lshortfile)) })
		admin := b.open(t, dsn)
		admin.SetMaxOpenConns(1) // its own connection is never in the list
		return fault{dsn: dsn, cut: func(t *testing.T, _ *sql.DB) {
			rows, err := admin.Query("SELECT id FROM information_schema.processlist WHERE db = ? AND id <> CONNECTION_ID()", cfg.DBName)
			if err != nil {
				t.Errorf("list connections: %v", err)
				return
			}
			var ids []int64
			for rows.Next() {
				var id int64
				if err := rows.Scan(&id); err != nil {
					t.Error(err)
				}
				ids = append(ids, id)
			}
			rows.Close()
			for _, id := range ids {
				_, _ = admin.Exec(fmt.Sprintf("KILL %d", id)) // it may have gone already
			}
		}}
	default:
		return fault{dsn: dsn, reopen: true, cut: func(t *testing.T, db *sql.DB) {
			if err := db.Close(); err != nil {
				t.Errorf("close: %v", err)
			}
		}}
	}
}

func testFaults(t *testing.T, b backend) {
	const (
		racers    = 16
		minRounds = 12
		maxRounds = 60
	)
	f := newFault(t, b)
	var clock atomic.Int64
	clock.Store(t0.UnixNano())
	now := func() time.Time { return time.Unix(0, clock.Load()).UTC() }

	open := func() (*sql.DB, *mfa.Verifier) {
		db := b.open(t, f.dsn)
		s, err := sqlstore.New(db, b.dialect)
		if err != nil {
			t.Fatal(err)
		}
		v, err := newVerifier(s, now, looseLimits)
		if err != nil {
			t.Fatal(err)
		}
		return db, v
	}
	db, v := open()
	s, _ := sqlstore.New(db, b.dialect)
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	factor, secret := enrol(t, v, "alice")
	req := func(at time.Time) mfa.VerifyRequest {
		return mfa.VerifyRequest{UserID: "alice", FactorID: factor, Response: testkit.TOTPCode(t, secret, at)}
	}
	// unlock clears the failure counters between rounds, so every
	// submission is compared; right after a cut the first calls may fail.
	unlock := func() {
		var err error
		for range 10 {
			if err = v.Unlock(context.Background(), "alice"); err == nil {
				return
			}
		}
		t.Fatalf("Unlock after reconnecting: %v", err)
	}

	accepted := map[int]int{} // round -> successes, over the whole test
	var total outcome
	rounds := 0
	for r := 1; r <= maxRounds && (r <= minRounds || total.Cut == 0); r++ {
		rounds = r
		at := t0.Add(time.Duration(r) * gap)
		clock.Store(at.UnixNano())
		if f.reopen && r > 1 {
			db, v = open()
		}
		unlock()

		// Half the racers run under a context the cut also cancels.
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{}, racers)
		var (
			mu  sync.Mutex
			got outcome
			wg  sync.WaitGroup
		)
		start := make(chan struct{})
		for i := range racers {
			c := context.Background()
			if i%2 == 1 {
				c = ctx
			}
			wg.Go(func() {
				<-start
				_, err := v.Verify(c, req(at))
				mu.Lock()
				got.add(err)
				mu.Unlock()
				done <- struct{}{}
			})
		}
		// The cut comes after a different number of verifications each round.
		wg.Go(func() {
			for range r % racers {
				<-done
			}
			cancel()
			f.cut(t, db)
		})
		close(start)
		wg.Wait()
		cancel()
		if got.Other > 0 || got.Wrong > 0 {
			t.Fatalf("round %d: a verification failed with neither success nor ErrStore, ErrReplayed or a limit: %v (%+v)", r, got.first, got)
		}
		if got.OK > 1 {
			t.Fatalf("round %d: one code accepted %d times", r, got.OK)
		}
		accepted[r] += got.OK
		total.merge(got)
	}
	t.Logf("%d rounds of %d racers with a cut in each: %+v", rounds, racers, total)
	if total.Cut == 0 {
		t.Fatal("no verification failed for a cut connection: the cuts did not reach the store")
	}

	// Reconnected and no more faults: every code submitted again, at its
	// own time, is refused if it was accepted before.
	if f.reopen {
		db, v = open()
	}
	for r := 1; r <= rounds; r++ {
		at := t0.Add(time.Duration(r) * gap)
		clock.Store(at.UnixNano())
		unlock()
		_, err := v.Verify(context.Background(), req(at))
		switch {
		case err == nil:
			accepted[r]++
			if accepted[r] > 1 {
				t.Fatalf("round %d's code was accepted again after reconnecting", r)
			}
		case errors.Is(err, mfa.ErrReplayed):
		default:
			t.Fatalf("round %d's code submitted again: %v", r, err)
		}
	}

	// And the store works: a new code, raced, is accepted exactly once.
	at := t0.Add(time.Duration(rounds+1) * gap)
	clock.Store(at.UnixNano())
	unlock()
	var after outcome
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range racers {
		wg.Go(func() {
			_, err := v.Verify(context.Background(), req(at))
			mu.Lock()
			after.add(err)
			mu.Unlock()
		})
	}
	wg.Wait()
	if after.OK != 1 || after.OK+after.Replayed != racers {
		t.Fatalf("after the faults, %d racers on a new code: %+v (first other: %v); want 1 success and the rest replayed", racers, after, after.first)
	}
}
