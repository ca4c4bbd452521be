package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mfakit/mfa/store"
)

// Dialect names the SQL database behind a [Store].
type Dialect int

const (
	// Postgres is PostgreSQL 12 or later, through any database/sql driver
	// whose errors have a SQLState() method (pgx's stdlib, lib/pq).
	Postgres Dialect = iota + 1
	// MySQL is MySQL 8 or MariaDB 10.5 or later with InnoDB, through
	// github.com/go-sql-driver/mysql.
	MySQL
	// SQLite is SQLite 3.35 or later, through modernc.org/sqlite (pure Go)
	// or another driver whose errors carry SQLite result codes.
	SQLite
)

// String returns the dialect's name.
func (d Dialect) String() string {
	switch d {
	case Postgres:
		return "postgres"
	case MySQL:
		return "mysql"
	case SQLite:
		return "sqlite"
	}
	return "Dialect(" + strconv.Itoa(int(d)) + ")"
}

// Options are the optional settings of [NewWithOptions].
type Options struct {
	// Prefix starts the name of every table, so one database (or schema)
	// can hold several independent stores. Lower-case letters, digits and
	// '_', at most 32 bytes, not starting with a digit: PostgreSQL folds
	// unquoted names to lower case and SQLite compares them without case,
	// so two prefixes differing only in case would share tables. Default
	// "mfa_".
	Prefix string
	// SweepBatch is the most rows one statement of [Store.Sweep] deletes
	// (and the most sessions one of its transactions deletes). Smaller
	// batches hold locks more briefly; on SQLite a verification can wait
	// for one batch. Default [DefaultSweepBatch].
	SweepBatch int
}

// DefaultPrefix is the table-name prefix when Options.Prefix is empty.
const DefaultPrefix = "mfa_"

// validPrefix reports whether p matches ^[a-z_][a-z0-9_]{0,31}$ (a loop,
// not a regexp: compiling one costs every process's start-up).
func validPrefix(p string) bool {
	if len(p) == 0 || len(p) > 32 || p[0] >= '0' && p[0] <= '9' {
		return false
	}
	for i := 0; i < len(p); i++ {
		if c := p[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// Store keeps every concern of package store, and is a [store.Sweeper],
// over a *sql.DB. It is safe
// for concurrent use by many goroutines and by many processes sharing the
// database. Create one with [New] and apply the schema with
// [Store.Migrate].
type Store struct {
	db     *sql.DB
	d      Dialect
	prefix string
	// sweepBatch is Options.SweepBatch.
	sweepBatch int
	// gate, on SQLite, lets each batch of a sweep run alone among this
	// process's writers: writers share it, a batch holds it exclusively.
	// A pending batch admits no new writer, and a writer waiting for a
	// batch wakes the moment the batch commits, so neither starves and a
	// writer waits for one batch at most, rather than for SQLite's busy
	// handler, whose sleeps grow to 100 ms, to find the lock free.
	gate sync.RWMutex

	queries  sync.Map // query template -> dialect text
	advances sync.Map // advanceShape -> advancePostgres's statement
	// hitFresh[n] is Hit's statement on PostgreSQL for n fresh counters
	// (see hitFreshStatement), built on first use.
	hitFresh [maxFresh + 1]atomic.Pointer[string]

	// prepared holds, on SQLite, the statements transactions run as
	// prepared ones (query text -> *sql.Stmt); nprepared counts them.
	prepared  sync.Map
	nprepared atomic.Int32
}

var (
	_ store.Factors    = (*Store)(nil)
	_ store.Counters   = (*Store)(nil)
	_ store.Challenges = (*Store)(nil)
	_ store.Sessions   = (*Store)(nil)
	_ store.Devices    = (*Store)(nil)
	_ store.Sweeper    = (*Store)(nil)
	_ store.Recovery   = (*Store)(nil)
)

// New returns a Store on db with the default options. It does not touch
// the database; call [Store.Migrate] once (at deploy time or start-up)
// before using it.
func New(db *sql.DB, d Dialect) (*Store, error) {
	return NewWithOptions(db, d, Options{})
}

// NewWithOptions is [New] with options.
func NewWithOptions(db *sql.DB, d Dialect, o Options) (*Store, error) {
	if db == nil {
		return nil, errors.New("mfa: sqlstore: nil *sql.DB")
	}
	switch d {
	case Postgres, MySQL, SQLite:
	default:
		return nil, fmt.Errorf("mfa: sqlstore: unknown dialect %v", d)
	}
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	if !validPrefix(o.Prefix) {
		return nil, fmt.Errorf("mfa: sqlstore: table prefix %q: want lower-case letters, digits and '_', at most 32 bytes, not starting with a digit", o.Prefix)
	}
	if o.SweepBatch < 0 {
		return nil, fmt.Errorf("mfa: sqlstore: SweepBatch %d is negative", o.SweepBatch)
	}
	return &Store{db: db, d: d, prefix: o.Prefix, sweepBatch: o.SweepBatch}, nil
}

// sql turns a query template into the dialect's text: {p} becomes the
// table prefix, {lock} the row-locking clause, and for PostgreSQL each ?
// becomes $1, $2, ... The templates hold no ? inside literals.
func (s *Store) sql(tmpl string) string {
	if q, ok := s.queries.Load(tmpl); ok {
		return q.(string)
	}
	q := strings.ReplaceAll(tmpl, "{p}", s.prefix)
	lock := " FOR UPDATE"
	if s.d == SQLite {
		lock = "" // the transaction holds the write lock already (sqliteTx)
	}
	q = strings.ReplaceAll(q, "{lock}", lock)
	if s.d == Postgres {
		var b strings.Builder
		n := 0
		for _, r := range q {
			if r == '?' {
				n++
				b.WriteByte('$')
				b.WriteString(strconv.Itoa(n))
				continue
			}
			b.WriteRune(r)
		}
		q = b.String()
	}
	s.queries.Store(tmpl, q)
	return q
}

// marks returns n comma-separated placeholders.
func marks(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

// querier is what *sql.DB, *sql.Tx and *sql.Conn share.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// errRollback ends a transaction without committing and without an error:
// the decision was to change nothing (a refused Hit, a lost compare).
var errRollback = errors.New("mfa: sqlstore: rollback")

// maxAttempts bounds the retries of a transaction that the database
// aborted because of contention (deadlock, serialization failure, busy).
const maxAttempts = 30

// retry runs fn until it succeeds, fails with an error other than a
// contention abort, or maxAttempts is reached. Every abort it retries
// undid all of the attempt's writes, so running fn again is safe.
func (s *Store) retry(ctx context.Context, fn func() error) error {
	for attempt := 1; ; attempt++ {
		err := fn()
		if err == nil || attempt >= maxAttempts || !s.retryable(err) {
			return err
		}
		// Jittered, growing pause so the contenders do not collide again.
		d := time.Duration(attempt) * time.Millisecond
		d = d/2 + rand.N(d)
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (after %v)", ctx.Err(), err)
		case <-t.C:
		}
	}
}

// exec runs one statement outside a transaction, retrying contention.
func (s *Store) exec(ctx context.Context, tmpl string, args ...any) (sql.Result, error) {
	defer s.writer()()
	return s.execAlone(ctx, tmpl, args...)
}

// writer enters the gate as a writer on SQLite and returns its exit. No
// caller holds it twice: a pending sweep batch would deadlock them.
func (s *Store) writer() func() {
	if s.d != SQLite {
		return func() {}
	}
	s.gate.RLock()
	return s.gate.RUnlock
}

// execAlone is exec without the gate: for a sweep batch that holds it.
func (s *Store) execAlone(ctx context.Context, tmpl string, args ...any) (sql.Result, error) {
	var res sql.Result
	err := s.retry(ctx, func() (err error) {
		res, err = s.db.ExecContext(ctx, s.sql(tmpl), args...)
		return err
	})
	return res, err
}

// tx runs fn in one transaction and commits it unless fn fails; fn may be
// called again after a contention abort, so it must only set its results.
// If fn returns errRollback the transaction is rolled back and tx returns
// nil.
//
// PostgreSQL and MySQL run at READ COMMITTED and take row locks with
// SELECT ... FOR UPDATE. SQLite has no row locks: the transaction starts
// by taking the database's write lock (see sqliteTx), so
// transactions that write never interleave.
func (s *Store) tx(ctx context.Context, fn func(q querier) error) error {
	defer s.writer()()
	return s.txAlone(ctx, fn)
}

// txAlone is tx without the gate: for a sweep batch that holds it.
func (s *Store) txAlone(ctx context.Context, fn func(q querier) error) error {
	return s.retry(ctx, func() error {
		if s.d == SQLite {
			return s.sqliteTx(ctx, fn)
		}
		t, err := s.db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelReadCommitted})
		if err != nil {
			return err
		}
		if err := fn(t); err != nil {
			_ = t.Rollback()
			if err == errRollback {
				return nil
			}
			return err
		}
		return t.Commit()
	})
}

// Times are stored as microseconds since the Unix epoch, UTC; the zero
// time is stored as 0 (so the epoch instant itself reads back as zero).
func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func fromMicros(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}

// Column sizes. PostgreSQL and SQLite would take longer values, but MySQL
// columns are bounded (to stay within InnoDB's index limit), so every
// dialect refuses a longer value the same way instead of letting a
// non-strict MySQL server truncate it into another key.
const (
	maxID     = 512  // user, factor, challenge, session and device IDs
	maxKind   = 255  // factor kinds
	maxText   = 1024 // names, bindings
	maxStatus = 64   // factor statuses
	maxLookup = 2048 // Factor.Lookup
	maxKey    = 1024 // counter keys
	maxHash   = 255  // refresh and device token hashes
)

// field is one value to check against its column's size.
type field struct {
	name string
	n    int
	max  int
}

func checkSizes(fs ...field) error {
	for _, f := range fs {
		if f.n > f.max {
			return fmt.Errorf("mfa: sqlstore: %s is %d bytes, more than %d", f.name, f.n, f.max)
		}
	}
	return nil
}

// wrapErr prefixes a database error with the operation that failed.
func wrapErr(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("mfa: sqlstore: %s: %w", op, err)
}
