package sqlstore_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"

	"github.com/mfakit/mfa/store/sqlstore"
)

// pqError has the shape of lib/pq's error: a SQLState method.
type pqError struct{ code string }

func (e *pqError) Error() string    { return "pq: " + e.code }
func (e *pqError) SQLState() string { return e.code }

// sqliteError has the shape of modernc.org/sqlite's error.
type sqliteError struct{ code int }

func (e *sqliteError) Error() string { return fmt.Sprintf("sqlite error %d", e.code) }
func (e *sqliteError) Code() int     { return e.code }

// textError carries only a message.
type textError string

func (e textError) Error() string { return string(e) }

func TestClassify(t *testing.T) {
	wrapped := func(err error) error { return fmt.Errorf("driver middleware: %w", err) }
	joined := func(err error) error { return errors.Join(errors.New("first"), err) }
	for _, tc := range []struct {
		name      string
		d         sqlstore.Dialect
		err       error
		dup, rtry bool
	}{
		{"pgx unique", sqlstore.Postgres, &pgconn.PgError{Code: "23505"}, true, false},
		{"pgx unique wrapped", sqlstore.Postgres, wrapped(&pgconn.PgError{Code: "23505"}), true, false},
		{"pgx unique joined", sqlstore.Postgres, joined(&pgconn.PgError{Code: "23505"}), true, false},
		{"pgx serialization", sqlstore.Postgres, &pgconn.PgError{Code: "40001"}, false, true},
		{"pgx deadlock", sqlstore.Postgres, &pgconn.PgError{Code: "40P01"}, false, true},
		{"pgx other", sqlstore.Postgres, &pgconn.PgError{Code: "23503"}, false, false},
		{"pq unique", sqlstore.Postgres, &pqError{"23505"}, true, false},
		{"pg plain error", sqlstore.Postgres, errors.New("conn closed"), false, false},

		{"mysql duplicate", sqlstore.MySQL, &mysql.MySQLError{Number: 1062, SQLState: [5]byte{'2', '3', '0', '0', '0'}}, true, false},
		{"mysql duplicate wrapped", sqlstore.MySQL, wrapped(&mysql.MySQLError{Number: 1062}), true, false},
		{"mysql deadlock", sqlstore.MySQL, &mysql.MySQLError{Number: 1213}, false, true},
		{"mysql lock wait", sqlstore.MySQL, &mysql.MySQLError{Number: 1205}, false, true},
		{"mysql other", sqlstore.MySQL, &mysql.MySQLError{Number: 1064}, false, false},
		{"mysql text duplicate", sqlstore.MySQL, textError("Error 1062 (23000): Duplicate entry 'x' for key 'PRIMARY'"), true, false},
		{"mysql old text deadlock", sqlstore.MySQL, textError("Error 1213: Deadlock found"), false, true},
		{"mysql bad connection", sqlstore.MySQL, mysql.ErrInvalidConn, false, false},
		{"mysql text without number", sqlstore.MySQL, textError("Error reading packet"), false, false},

		{"sqlite primary key", sqlstore.SQLite, &sqliteError{1555}, true, false},
		{"sqlite unique", sqlstore.SQLite, &sqliteError{2067}, true, false},
		{"sqlite not null", sqlstore.SQLite, &sqliteError{1299}, false, false},
		{"sqlite busy", sqlstore.SQLite, &sqliteError{5}, false, true},
		{"sqlite busy snapshot", sqlstore.SQLite, &sqliteError{517}, false, true},
		{"sqlite locked", sqlstore.SQLite, &sqliteError{6}, false, true},
		{"sqlite text unique", sqlstore.SQLite, textError("UNIQUE constraint failed: mfa_challenges.id"), true, false},
		{"sqlite text busy", sqlstore.SQLite, textError("database is locked"), false, true},
		{"modernc type", sqlstore.SQLite, wrapped(&sqlite.Error{}), false, false},

		{"nil", sqlstore.Postgres, nil, false, false},
		{"other dialect's error", sqlstore.Postgres, &mysql.MySQLError{Number: 1062}, false, false},
	} {
		dup, rtry := sqlstore.Classify(tc.d, tc.err)
		if dup != tc.dup || rtry != tc.rtry {
			t.Errorf("%s: duplicate=%t retryable=%t, want %t %t", tc.name, dup, rtry, tc.dup, tc.rtry)
		}
	}
}
