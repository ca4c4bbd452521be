package sqlstore_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mfakit/mfa/store"
	"github.com/mfakit/mfa/store/sqlstore"
)

// TestSignalKeysAnyBytes stores one record under each of keys that a
// text column would refuse or fold (NUL, bytes that are not UTF-8, a
// trailing space, case) on every dialect, and reads each back alone:
// list keys are kept as the bytes given.
func TestSignalKeysAnyBytes(t *testing.T) {
	keys := []string{"k\x00", "k\x00x", "k\xff", "k\xc3", "k", "k ", "K", "k\u00e9", "ke\u0301"}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			s, _ := newStore(t, b)
			ctx := context.Background()
			now := time.Unix(1_800_000_000, 0)
			for i, k := range keys {
				rec := store.Signal{Time: now, Expires: now.Add(time.Hour), Data: []byte(strconv.Itoa(i))}
				if _, err := s.Observe(ctx, now, store.Sighting{Key: k, Signal: rec, Keep: 5}); err != nil {
					t.Fatalf("key %q: %v", k, err)
				}
			}
			for i, k := range keys {
				lists, err := s.Observe(ctx, now, store.Sighting{Key: k, Keep: 5})
				if err != nil {
					t.Fatalf("key %q: %v", k, err)
				}
				if l := lists[0]; len(l) != 1 || string(l[0].Data) != strconv.Itoa(i) {
					t.Errorf("key %q reads %d records %v, want only its own", k, len(l), l)
				}
			}
		})
	}
}

// TestSweepSignalLists checks that Sweep deletes expired signal records
// and counts them, and, on PostgreSQL and MySQL, removes the lock row of
// a list once every record of it has expired, and only then.
func TestSweepSignalLists(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			s, db := newStore(t, b)
			ctx := context.Background()
			now := time.Unix(1_800_000_000, 0)
			rec := func(exp time.Duration) store.Signal {
				return store.Signal{Time: now, Expires: now.Add(exp), Data: []byte("x")}
			}
			if _, err := s.Observe(ctx, now,
				store.Sighting{Key: "expired", Signal: rec(time.Minute), Keep: 5},
				store.Sighting{Key: "expired", Signal: rec(2 * time.Minute), Keep: 5},
				store.Sighting{Key: "live", Signal: rec(time.Minute), Keep: 5},
				store.Sighting{Key: "live", Signal: rec(time.Hour), Keep: 5}); err != nil {
				t.Fatal(err)
			}
			n, err := s.Sweep(ctx, now.Add(2*time.Minute))
			if err != nil || n != 3 {
				t.Fatalf("Sweep: %d, %v; want the 3 expired records", n, err)
			}
			var records int
			if err := db.QueryRow("SELECT COUNT(*) FROM mfa_signals").Scan(&records); err != nil {
				t.Fatal(err)
			}
			if records != 1 {
				t.Errorf("%d signal rows after Sweep, want 1", records)
			}
			if b.dialect == sqlstore.SQLite {
				return // no lock rows
			}
			var lists []string
			rows, err := db.Query("SELECT list_key FROM mfa_signal_lists")
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			for rows.Next() {
				var k []byte
				if err := rows.Scan(&k); err != nil {
					t.Fatal(err)
				}
				lists = append(lists, string(k))
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			if len(lists) != 1 || lists[0] != "live" {
				t.Errorf("signal lists after Sweep %q, want only [live]", lists)
			}
		})
	}
}

// TestObserveStatements counts what one Observe of three sightings sends
// through the driver: one request on PostgreSQL and on MySQL (with or
// without interpolateParams), the routine's call; on SQLite, in process,
// BEGIN, the no-op write that takes the write lock, three statements per
// sighting and a fourth, the insert, for each that adds, and COMMIT.
func TestObserveStatements(t *testing.T) {
	variants := []struct {
		backend
		interpolate bool
		max         int64
	}{
		{sqliteBackend, false, 14},
		{postgresBackend, false, 1},
		{mysqlBackend, false, 1},
		{mysqlBackend, true, 1},
	}
	for _, b := range variants {
		name := b.name
		if b.interpolate {
			name += "Interpolated"
		}
		t.Run(name, func(t *testing.T) {
			var n atomic.Int64
			s := countedStore(t, b.backend, b.interpolate, 0, &n, nil)
			ctx := context.Background()
			now := time.Unix(1_800_000_000, 0)
			rec := store.Signal{Time: now, Expires: now.Add(time.Hour), Data: []byte("x")}
			sightings := []store.Sighting{{Key: "a", Signal: rec, Keep: 5}, {Key: "b", Signal: rec, Keep: 5}, {Key: "a", Keep: 5}}
			for i := range 2 { // the first warms the pool and the statement caches
				n.Store(0)
				if _, err := s.Observe(ctx, now, sightings...); err != nil {
					t.Fatal(err)
				}
				if i == 1 {
					t.Logf("driver requests for an Observe of 3 sightings: %d", n.Load())
					if got := n.Load(); got > b.max {
						t.Errorf("driver requests %d, want at most %d", got, b.max)
					}
				}
			}
		})
	}
}
