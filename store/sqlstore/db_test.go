package sqlstore_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"

	"github.com/mfakit/mfa/store/sqlstore"
)

// The database tests run on SQLite always and on PostgreSQL and MySQL when
// these variables hold a DSN. A variable that is set but whose server
// cannot be reached fails the test; it never skips.
const (
	envPostgres = "MFA_TEST_POSTGRES_DSN"
	envMySQL    = "MFA_TEST_MYSQL_DSN"
)

// backend makes a fresh, empty database of one dialect for one test.
type backend struct {
	name    string
	dialect sqlstore.Dialect
	driver  string
	// dsn returns the DSN of a fresh database, removed when t ends; it
	// skips t when the dialect's variable is unset.
	dsn func(t testing.TB) string
}

var (
	sqliteBackend   = backend{"SQLite", sqlstore.SQLite, "sqlite", func(t testing.TB) string { return sqliteDSN(filepath.Join(t.TempDir(), "mfa.db")) }}
	postgresBackend = backend{"Postgres", sqlstore.Postgres, "pgx", postgresDSN}
	mysqlBackend    = backend{"MySQL", sqlstore.MySQL, "mysql", mysqlDSN}
	backends        = []backend{sqliteBackend, postgresBackend, mysqlBackend}
)

// open opens dsn with b's driver and a pool below every server's
// connection limit, closed when t ends.
func (b backend) open(t testing.TB, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open(b.driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(16)
	t.Cleanup(func() { db.Close() }) // before the database is dropped
	return db
}

func randName(prefix string) string {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return prefix + hex.EncodeToString(b[:])
}

// sqliteDSN is the DSN the tests (and the package docs) use: a busy
// timeout so writers queue for the database lock instead of failing, and
// WAL so readers do not block the writer.
func sqliteDSN(path string) string {
	return "file:" + path + "?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)"
}

// ping waits for the server a bounded time; an unreachable server fails t.
func ping(t testing.TB, db *sql.DB, env string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var err error
	for {
		if err = db.PingContext(ctx); err == nil {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s is set but the server cannot be reached: %v", env, err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// postgresDSN creates a fresh schema on the server named by
// MFA_TEST_POSTGRES_DSN, dropped when t ends, and returns a DSN whose
// search_path is that schema.
func postgresDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(envPostgres)
	if dsn == "" {
		t.Skip(envPostgres + " not set: PostgreSQL tests skipped (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)")
	}
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatalf("%s: %v", envPostgres, err)
	}
	t.Cleanup(func() { admin.Close() })
	ping(t, admin, envPostgres)
	schema := randName("mfa_test_")
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(dsn)
	if err != nil || u.Scheme == "" {
		t.Fatalf("%s must be a URL (postgres://...): %v", envPostgres, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// mysqlDSN creates a fresh database on the server named by
// MFA_TEST_MYSQL_DSN, dropped when t ends, and returns a DSN for it.
func mysqlDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(envMySQL)
	if dsn == "" {
		t.Skip(envMySQL + " not set: MySQL tests skipped (e.g. root@tcp(127.0.0.1:3306)/test?parseTime=true)")
	}
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatalf("%s: %v", envMySQL, err)
	}
	admin, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatalf("%s: %v", envMySQL, err)
	}
	t.Cleanup(func() { admin.Close() })
	ping(t, admin, envMySQL)
	name := randName("mfa_test_")
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec("DROP DATABASE " + name); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	cfg.DBName = name
	return cfg.FormatDSN()
}

// newStore opens a migrated store of b on a fresh database.
func newStore(t testing.TB, b backend) (*sqlstore.Store, *sql.DB) {
	t.Helper()
	db := b.open(t, b.dsn(t))
	s, err := sqlstore.New(db, b.dialect)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s, db
}
