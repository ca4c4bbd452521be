package sqlstore_test

import (
	"context"
	"database/sql"
	"testing"

	"github.com/go-sql-driver/mysql"

	"github.com/mfakit/mfa/store/sqlstore"
	"github.com/mfakit/mfa/store/storetest"
)

// The conformance suite, on one database per dialect shared by its
// subtests (the suite is written to share one).
func TestSQLite(t *testing.T)   { conformance(t, sqliteBackend) }
func TestPostgres(t *testing.T) { conformance(t, postgresBackend) }
func TestMySQL(t *testing.T)    { conformance(t, mysqlBackend) }

// TestSQLiteOneConnection runs the suite on a pool of one connection, the
// other way to use SQLite: transactions must never need a second one.
func TestSQLiteOneConnection(t *testing.T) {
	db := sqliteBackend.open(t, sqliteBackend.dsn(t))
	db.SetMaxOpenConns(1)
	conformanceOn(t, db, sqlstore.SQLite)
}

// TestMySQLClientFoundRows runs the suite with clientFoundRows=true, which
// changes what MySQL reports as affected rows; nothing may depend on it.
func TestMySQLClientFoundRows(t *testing.T) {
	cfg, err := mysql.ParseDSN(mysqlBackend.dsn(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg.ClientFoundRows, cfg.InterpolateParams = true, true
	conformanceOn(t, mysqlBackend.open(t, cfg.FormatDSN()), sqlstore.MySQL)
}

func conformance(t *testing.T, b backend) {
	conformanceOn(t, b.open(t, b.dsn(t)), b.dialect)
}

func conformanceOn(t *testing.T, db *sql.DB, d sqlstore.Dialect) {
	s, err := sqlstore.New(db, d)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	storetest.Run(t, func(*testing.T) any { return s })
}
