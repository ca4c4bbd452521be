package sqlstore

import (
	"database/sql/driver"
	"errors"
	"reflect"
	"strconv"
	"strings"
)

// ErrSchemaTooNew is returned by [Store.Migrate] when the database's schema
// version is newer than any this code knows: a newer release migrated it,
// and this one must not write to tables it does not understand.
var ErrSchemaTooNew = errors.New("mfa: sqlstore: database schema is newer than this code")

var errBadConn = driver.ErrBadConn

// The package imports no driver, so it reads driver errors through what
// they expose:
//
//   - PostgreSQL (pgx's *pgconn.PgError, lib/pq's *pq.Error): a
//     SQLState() string method.
//   - SQLite (modernc.org/sqlite's *sqlite.Error): a Code() int method
//     holding the (extended) result code.
//   - MySQL (go-sql-driver's *mysql.MySQLError): no method, but an exported
//     Number uint16 field, read by reflection, and an Error() text that
//     starts "Error <number>" as a fallback.
//
// Every error in the chain (errors.Unwrap, and Unwrap() []error) is
// examined, so errors wrapped by a driver or a middleware still match.

// walk calls fn on err and every error it wraps until fn returns true.
func walk(err error, fn func(error) bool) bool {
	for err != nil {
		if fn(err) {
			return true
		}
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			err = u.Unwrap()
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				if walk(e, fn) {
					return true
				}
			}
			return false
		default:
			return false
		}
	}
	return false
}

// pgState returns the SQLSTATE of the first error in the chain that has one.
func pgState(err error) (state string, ok bool) {
	ok = walk(err, func(e error) bool {
		if s, is := e.(interface{ SQLState() string }); is {
			state = s.SQLState()
			return true
		}
		return false
	})
	return state, ok
}

// sqliteCode returns the SQLite result code of the first error in the
// chain that has one.
func sqliteCode(err error) (code int, ok bool) {
	ok = walk(err, func(e error) bool {
		if c, is := e.(interface{ Code() int }); is {
			code = c.Code()
			return true
		}
		return false
	})
	return code, ok
}

// mysqlNumber returns the MySQL server error number of the first error in
// the chain that carries one.
func mysqlNumber(err error) (num int, ok bool) {
	ok = walk(err, func(e error) bool {
		v := reflect.ValueOf(e)
		if v.Kind() == reflect.Pointer && !v.IsNil() {
			v = v.Elem()
		}
		if v.Kind() == reflect.Struct {
			if f := v.FieldByName("Number"); f.IsValid() && f.Kind() == reflect.Uint16 {
				num = int(f.Uint())
				return true
			}
		}
		// go-sql-driver formats "Error 1062 (23000): ..." or "Error 1062: ...".
		if rest, found := strings.CutPrefix(e.Error(), "Error "); found {
			end := strings.IndexFunc(rest, func(r rune) bool { return r < '0' || r > '9' })
			if end > 0 {
				if n, err := strconv.Atoi(rest[:end]); err == nil {
					num = n
					return true
				}
			}
		}
		return false
	})
	return num, ok
}

// SQLite result codes (https://sqlite.org/rescode.html).
const (
	sqliteBusy              = 5
	sqliteLocked            = 6
	sqliteConstraint        = 19
	sqliteConstraintPK      = 1555
	sqliteConstraintUnique  = 2067
	sqliteConstraintRowID   = 2579
	sqliteResultCodeMask    = 0xff
	mysqlDupEntry           = 1062
	mysqlDupEntryWithKey    = 1586
	mysqlLockWaitTimeout    = 1205
	mysqlDeadlock           = 1213
	mysqlDupKeyName         = 1061
	pgUniqueViolation       = "23505"
	pgSerializationFailure  = "40001"
	pgDeadlockDetected      = "40P01"
	sqliteTextUnique        = "UNIQUE constraint failed"
	sqliteTextBusy          = "database is locked"
	sqliteTextTableLocked   = "database table is locked"
	sqliteTextBusyCode      = "SQLITE_BUSY"
	sqliteTextPrimaryKeyErr = "PRIMARY KEY constraint failed"
)

// duplicate reports whether err is a unique-key violation.
func (s *Store) duplicate(err error) bool {
	if err == nil {
		return false
	}
	switch s.d {
	case Postgres:
		st, ok := pgState(err)
		return ok && st == pgUniqueViolation
	case MySQL:
		n, ok := mysqlNumber(err)
		return ok && (n == mysqlDupEntry || n == mysqlDupEntryWithKey)
	case SQLite:
		if c, ok := sqliteCode(err); ok {
			switch c {
			case sqliteConstraintPK, sqliteConstraintUnique, sqliteConstraintRowID:
				return true
			case sqliteConstraint: // extended codes off: read the message
			default:
				return false
			}
		}
		msg := err.Error()
		return strings.Contains(msg, sqliteTextUnique) || strings.Contains(msg, sqliteTextPrimaryKeyErr)
	}
	return false
}

// retryable reports whether the database aborted the statement or
// transaction because of contention, undoing its writes, so it can be run
// again: a PostgreSQL serialization failure or deadlock, a MySQL deadlock
// or lock wait timeout, SQLite busy or locked.
func (s *Store) retryable(err error) bool {
	if err == nil {
		return false
	}
	switch s.d {
	case Postgres:
		st, ok := pgState(err)
		return ok && (st == pgSerializationFailure || st == pgDeadlockDetected)
	case MySQL:
		n, ok := mysqlNumber(err)
		return ok && (n == mysqlDeadlock || n == mysqlLockWaitTimeout)
	case SQLite:
		if c, ok := sqliteCode(err); ok {
			c &= sqliteResultCodeMask
			return c == sqliteBusy || c == sqliteLocked
		}
		msg := err.Error()
		return strings.Contains(msg, sqliteTextBusy) || strings.Contains(msg, sqliteTextTableLocked) || strings.Contains(msg, sqliteTextBusyCode)
	}
	return false
}
