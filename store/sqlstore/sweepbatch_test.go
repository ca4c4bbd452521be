package sqlstore_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"modernc.org/sqlite"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/internal/testkit"
	"github.com/mfakit/mfa/store/sqlstore"
)

// TestSweepBatches sweeps 125,000 expired rows from SQLite, whose writers
// share one lock, while a verification runs over and over, and checks
// that no statement of the sweep deleted more rows than the batch: a
// verification then waits for one batch at most. It logs the longest
// verification seen during the sweep (a time, so it is reported, not
// asserted).
func TestSweepBatches(t *testing.T) {
	if testing.Short() {
		t.Skip("inserts 125,000 rows")
	}
	const batch = 500
	var (
		mu       sync.Mutex
		deletes  int
		maxRows  int64
		sweeping atomic.Bool
	)
	onExec := func(query string, r driver.Result) {
		if !sweeping.Load() || !strings.HasPrefix(query, "DELETE") {
			return
		}
		n, err := r.RowsAffected()
		if err != nil {
			return
		}
		mu.Lock()
		deletes++
		maxRows = max(maxRows, n)
		mu.Unlock()
	}
	db := sql.OpenDB(countConnector{d: &sqlite.Driver{}, dsn: sqliteBackend.dsn(t), n: new(atomic.Int64), onExec: onExec})
	t.Cleanup(func() { db.Close() })
	s, err := sqlstore.NewWithOptions(db, sqlstore.SQLite, sqlstore.Options{SweepBatch: batch})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	var now atomic.Int64
	now.Store(t0.UnixNano())
	clock := func() time.Time { return time.Unix(0, now.Load()).UTC() }
	v, err := newVerifier(s, clock, strictLimits)
	if err != nil {
		t.Fatal(err)
	}
	fid, secret := enrol(t, v, "alice")

	// 125,000 expired rows across the swept tables, and one retired hash
	// per expired session.
	fill := []string{
		"INSERT INTO mfa_counters SELECT 'k' || i, 3, 0, 1 FROM n",
		"INSERT INTO mfa_challenges SELECT 'c' || i, 'u', '', 'totp', '', NULL, 1, 1 FROM n",
		"INSERT INTO mfa_sessions SELECT 's' || i, 'u', x'01', NULL, 1, 1, 2, 2, 0 FROM n",
		"INSERT INTO mfa_retired_refresh SELECT 's' || i, x'00' FROM n",
		"INSERT INTO mfa_devices SELECT 'd' || i, 'u', x'02', '', 1, 1, 1 FROM n",
		"INSERT INTO mfa_signals (list_key, time_us, expires_us, data) SELECT 'l' || (i % 1000), i, 1, x'03' FROM n",
	}
	for _, q := range fill {
		if _, err := db.Exec("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 25000) " + q); err != nil {
			t.Fatal(err)
		}
	}

	var (
		longest time.Duration
		during  int
		stop    = make(chan struct{})
		done    = make(chan error, 1)
		started = make(chan struct{})
	)
	go func() {
		first := true
		for {
			select {
			case <-stop:
				done <- nil
				return
			default:
			}
			at := time.Unix(0, now.Add(int64(gap))).UTC()
			begin := time.Now()
			if _, err := v.Verify(ctx, mfa.VerifyRequest{UserID: "alice", FactorID: fid, Response: testkit.TOTPCode(t, secret, at)}); err != nil {
				done <- err
				return
			}
			if sweeping.Load() {
				longest = max(longest, time.Since(begin))
				during++
			}
			if first {
				close(started)
				first = false
			}
		}
	}()
	<-started
	sweeping.Store(true)
	n, err := s.Sweep(ctx, t0.Add(time.Hour))
	sweeping.Store(false)
	close(stop)
	if verr := <-done; verr != nil {
		t.Fatalf("verification during the sweep: %v", verr)
	}
	if err != nil {
		t.Fatal(err)
	}
	if n < 125000 {
		t.Errorf("Sweep removed %d rows, want at least 125000", n)
	}
	mu.Lock()
	defer mu.Unlock()
	t.Logf("swept %d rows in %d DELETE statements, at most %d rows each; %d verifications ran during the sweep, the longest took %v", n, deletes, maxRows, during, longest)
	if maxRows > batch {
		t.Errorf("a DELETE removed %d rows, more than the batch of %d", maxRows, batch)
	}
	if deletes < 125000/batch {
		t.Errorf("%d DELETE statements for %d rows, want at least %d", deletes, n, 125000/batch)
	}
}
