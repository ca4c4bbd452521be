package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mfakit/mfa/store"
	"github.com/mfakit/mfa/store/sqlstore"
)

func TestMigrate(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { testMigrate(t, b) })
	}
}

// versions returns the rows of the schema_version table.
func versions(t *testing.T, db *sql.DB, prefix string) (n, max int) {
	t.Helper()
	if err := db.QueryRow("SELECT COUNT(*), COALESCE(MAX(version), 0) FROM "+prefix+"schema_version").Scan(&n, &max); err != nil {
		t.Fatal(err)
	}
	return n, max
}

func testMigrate(t *testing.T, b backend) {
	ctx := context.Background()
	dsn := b.dsn(t)

	t.Run("Twice", func(t *testing.T) {
		db := b.open(t, dsn)
		s, err := sqlstore.NewWithOptions(db, b.dialect, sqlstore.Options{Prefix: "twice_"})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		f := store.Factor{UserID: "u", ID: "f", Kind: "totp", Status: store.StatusActive, Created: time.Unix(1, 0)}
		if err := s.CreateFactor(ctx, f); err != nil {
			t.Fatal(err)
		}
		if err := s.Migrate(ctx); err != nil {
			t.Fatalf("second Migrate: %v", err)
		}
		if n, v := versions(t, db, "twice_"); n != sqlstore.Migrations(s) || v != s.SchemaVersion() {
			t.Fatalf("schema_version has %d rows up to %d, want %d", n, v, s.SchemaVersion())
		}
		if _, err := s.GetFactor(ctx, "u", "f"); err != nil {
			t.Fatalf("data after a second Migrate: %v", err)
		}
	})

	t.Run("Concurrent", func(t *testing.T) {
		// Eight instances starting at once, each with its own pool.
		const n = 8
		stores := make([]*sqlstore.Store, n)
		for i := range stores {
			s, err := sqlstore.NewWithOptions(b.open(t, dsn), b.dialect, sqlstore.Options{Prefix: "conc_"})
			if err != nil {
				t.Fatal(err)
			}
			stores[i] = s
		}
		start := make(chan struct{})
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i, s := range stores {
			wg.Go(func() {
				<-start
				errs[i] = s.Migrate(ctx)
			})
		}
		close(start)
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("Migrate %d: %v", i, err)
			}
		}
		if n, v := versions(t, b.open(t, dsn), "conc_"); n != sqlstore.Migrations(stores[0]) || v != stores[0].SchemaVersion() {
			t.Fatalf("schema_version has %d rows up to %d, want %d", n, v, stores[0].SchemaVersion())
		}
		if err := stores[n-1].PutChallenge(ctx, challenge("k")); err != nil {
			t.Fatalf("store after concurrent migrations: %v", err)
		}
	})

	t.Run("TooNew", func(t *testing.T) {
		db := b.open(t, dsn)
		s, err := sqlstore.NewWithOptions(db, b.dialect, sqlstore.Options{Prefix: "new_"})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		// A later release migrated the database further.
		q := "INSERT INTO new_schema_version (version, applied_us) VALUES (?, 0)"
		if b.dialect == sqlstore.Postgres {
			q = strings.Replace(q, "?", "$1", 1)
		}
		if _, err := db.Exec(q, s.SchemaVersion()+1); err != nil {
			t.Fatal(err)
		}
		err = s.Migrate(ctx)
		if !errors.Is(err, sqlstore.ErrSchemaTooNew) {
			t.Fatalf("Migrate of a newer schema: %v, want ErrSchemaTooNew", err)
		}
		if !strings.HasPrefix(err.Error(), "mfa: sqlstore: ") {
			t.Errorf("error %q lacks the package prefix", err)
		}
		if n, _ := versions(t, db, "new_"); n != sqlstore.Migrations(s)+1 {
			t.Errorf("a refused Migrate changed schema_version: %d rows", n)
		}
	})

	t.Run("Prefixes", func(t *testing.T) {
		// Two stores with different prefixes share a database and nothing else.
		db := b.open(t, dsn)
		a, err := sqlstore.NewWithOptions(db, b.dialect, sqlstore.Options{Prefix: "a_"})
		if err != nil {
			t.Fatal(err)
		}
		c, err := sqlstore.NewWithOptions(db, b.dialect, sqlstore.Options{Prefix: "c_"})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range []*sqlstore.Store{a, c} {
			if err := s.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if err := a.PutChallenge(ctx, challenge("k")); err != nil {
			t.Fatal(err)
		}
		if err := c.PutChallenge(ctx, challenge("k")); err != nil {
			t.Fatalf("a challenge under one prefix is visible under another: %v", err)
		}
	})

	t.Run("AddsSignals", func(t *testing.T) { testUpgradeToSignals(t, b, dsn) })

	t.Run("DropsMarks", func(t *testing.T) {
		// Version 2 drops the marks table of version 1. A database at
		// version 1 is made by undoing version 2 by hand: the table back,
		// its row in schema_version gone.
		db := b.open(t, dsn)
		s, err := sqlstore.NewWithOptions(db, b.dialect, sqlstore.Options{Prefix: "marks_"})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		if s.SchemaVersion() < 2 {
			t.Fatalf("SchemaVersion %d, want at least 2", s.SchemaVersion())
		}
		if tableExists(t, db, "marks_marks") {
			t.Fatal("a fresh database has a marks table")
		}
		if _, err := db.Exec("CREATE TABLE marks_marks (mark_key VARCHAR(100) NOT NULL PRIMARY KEY, expires_us BIGINT NOT NULL)"); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec("DELETE FROM marks_schema_version WHERE version >= 2"); err != nil {
			t.Fatal(err)
		}
		if err := s.Migrate(ctx); err != nil {
			t.Fatalf("Migrate from version 1: %v", err)
		}
		if tableExists(t, db, "marks_marks") {
			t.Fatal("the marks table survived Migrate from version 1")
		}
		if n, v := versions(t, db, "marks_"); n != sqlstore.Migrations(s) || v != s.SchemaVersion() {
			t.Fatalf("schema_version has %d rows up to %d, want %d", n, v, s.SchemaVersion())
		}
	})
}

// testUpgradeToSignals brings a database at version 4 (made by undoing
// version 5 by hand) to the latest version, after which Observe works.
func testUpgradeToSignals(t *testing.T, b backend, dsn string) {
	ctx := context.Background()
	db := b.open(t, dsn)
	s, err := sqlstore.NewWithOptions(db, b.dialect, sqlstore.Options{Prefix: "up5_"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	undo := []string{"DROP TABLE up5_signals", "DELETE FROM up5_schema_version WHERE version >= 5"}
	switch b.dialect {
	case sqlstore.Postgres:
		undo = append(undo, "DROP TABLE up5_signal_lists", "DROP FUNCTION up5_observe(jsonb, jsonb, bigint)")
	case sqlstore.MySQL:
		undo = append(undo, "DROP TABLE up5_signal_lists", "DROP PROCEDURE up5_observe")
	}
	for _, q := range undo {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if v, err := s.CurrentSchemaVersion(ctx); err != nil || v != 4 {
		t.Fatalf("after undoing version 5: version %d, %v; want 4", v, err)
	}
	now := time.Unix(1_800_000_000, 0)
	sig := store.Sighting{Key: "k", Keep: 1, Signal: store.Signal{Time: now, Expires: now.Add(time.Hour), Data: []byte("x")}}
	if _, err := s.Observe(ctx, now, sig); err == nil {
		t.Fatal("Observe worked on a database at version 4")
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("Migrate from version 4: %v", err)
	}
	if v, err := s.CurrentSchemaVersion(ctx); err != nil || v != s.SchemaVersion() || v < 5 {
		t.Fatalf("after Migrate: version %d, %v; want %d", v, err, s.SchemaVersion())
	}
	lists, err := s.Observe(ctx, now, sig)
	if err != nil || len(lists[0]) != 1 {
		t.Fatalf("Observe after Migrate from version 4: %v, %v", lists, err)
	}
}

// challenge is a challenge with a fixed ID, for tests that only need a row.
func challenge(id string) store.Challenge {
	return store.Challenge{ID: id, Kind: "email", Created: time.Unix(1, 0), Expires: time.Unix(2, 0)}
}

// tableExists reports whether a query on the table succeeds.
func tableExists(t *testing.T, db *sql.DB, table string) bool {
	t.Helper()
	rows, err := db.Query("SELECT 1 FROM " + table + " WHERE 1 = 0")
	if err != nil {
		return false
	}
	rows.Close()
	return true
}

func TestNewRefuses(t *testing.T) {
	db, err := sql.Open("sqlite", sqliteDSN(filepath.Join(t.TempDir(), "unused.db")))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, tc := range []struct {
		name string
		db   *sql.DB
		d    sqlstore.Dialect
		o    sqlstore.Options
	}{
		{"nil db", nil, sqlstore.SQLite, sqlstore.Options{}},
		{"zero dialect", db, 0, sqlstore.Options{}},
		{"unknown dialect", db, 42, sqlstore.Options{}},
		{"prefix with a quote", db, sqlstore.SQLite, sqlstore.Options{Prefix: `x"; DROP TABLE y; --`}},
		{"prefix starting with a digit", db, sqlstore.SQLite, sqlstore.Options{Prefix: "1x"}},
		{"long prefix", db, sqlstore.SQLite, sqlstore.Options{Prefix: strings.Repeat("x", 33)}},
		// PostgreSQL and SQLite would give MFA_ the tables of mfa_.
		{"upper-case prefix", db, sqlstore.SQLite, sqlstore.Options{Prefix: "MFA_"}},
	} {
		if _, err := sqlstore.NewWithOptions(tc.db, tc.d, tc.o); err == nil || !strings.HasPrefix(err.Error(), "mfa: sqlstore: ") {
			t.Errorf("%s: err = %v, want an mfa: sqlstore: error", tc.name, err)
		}
	}
}
