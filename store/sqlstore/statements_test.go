package sqlstore_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/stdlib"
	"modernc.org/sqlite"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/internal/testkit"
	"github.com/mfakit/mfa/store"
	"github.com/mfakit/mfa/store/sqlstore"
)

// TestStatements counts what one verification sends through the driver on
// each dialect: every begin, statement, prepare, commit and rollback is
// one request to the server (or, for SQLite, to the library). The counts
// are the cost model of the package docs; a change that adds a request to
// the hot path fails here.
func TestStatements(t *testing.T) {
	// The most requests a success and a rate-limited refusal may take, for
	// a request that names the client's IP (three counters; a success
	// forgives the IP counter its attempt).
	// PostgreSQL and MySQL: Hit is one call of the hit routine, Advance one
	// statement (MySQL: one CALL, written as text so it is one request
	// with or without interpolateParams). SQLite, in process: Hit is BEGIN,
	// the no-op write that takes the write lock, read, write, read the
	// factor, COMMIT; Advance BEGIN, the lock, update, delete, COMMIT.
	type limit struct{ ok, limited int64 }
	variants := []struct {
		backend
		interpolate bool
		max         limit
	}{
		{sqliteBackend, false, limit{12, 4}},
		{postgresBackend, false, limit{2, 1}},
		{mysqlBackend, false, limit{2, 1}},
		{mysqlBackend, true, limit{2, 1}},
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
			now := t0
			v, err := newVerifier(s, func() time.Time { return now }, strictLimits)
			if err != nil {
				t.Fatal(err)
			}
			fid, secret := enrol(t, v, "alice")

			// Warm the pool and the drivers' statement caches first.
			now = now.Add(gap)
			if _, err := v.Verify(ctx, mfa.VerifyRequest{UserID: "alice", FactorID: fid, IP: "192.0.2.1", Response: testkit.TOTPCode(t, secret, now)}); err != nil {
				t.Fatal(err)
			}
			now = now.Add(gap)
			n.Store(0)
			if _, err := v.Verify(ctx, mfa.VerifyRequest{UserID: "alice", FactorID: fid, IP: "192.0.2.1", Response: testkit.TOTPCode(t, secret, now)}); err != nil {
				t.Fatal(err)
			}
			ok := n.Load()

			wrong := testkit.WrongTOTPCode(t, secret, now)
			for range 5 {
				if _, err := v.Verify(ctx, mfa.VerifyRequest{UserID: "alice", FactorID: fid, IP: "192.0.2.1", Response: wrong}); !errors.Is(err, mfa.ErrWrongCode) {
					t.Fatalf("wrong code: %v", err)
				}
			}
			n.Store(0)
			if _, err := v.Verify(ctx, mfa.VerifyRequest{UserID: "alice", FactorID: fid, IP: "192.0.2.1", Response: wrong}); !errors.Is(err, mfa.ErrRateLimited) {
				t.Fatalf("sixth attempt: %v", err)
			}
			limited := n.Load()
			t.Logf("driver requests: %d for a successful TOTP verification, %d for a rate-limited one", ok, limited)
			if ok > b.max.ok || limited > b.max.limited {
				t.Errorf("driver requests %d and %d, want at most %d and %d", ok, limited, b.max.ok, b.max.limited)
			}
		})
	}
}

// TestSQLitePrepared checks that SQLite runs the statements of a
// verification as prepared statements once it has met them: after the
// first verifications, a success, a wrong code and a rate-limited attempt
// send no statement text to be parsed again, on a pool of one connection
// and on a larger one.
func TestSQLitePrepared(t *testing.T) {
	for _, conns := range []int{1, 4} {
		t.Run(fmt.Sprint(conns), func(t *testing.T) {
			var n, text atomic.Int64
			s := countedStore(t, sqliteBackend, false, conns, &n, &text)
			ctx := context.Background()
			now := t0
			v, err := newVerifier(s, func() time.Time { return now }, strictLimits)
			if err != nil {
				t.Fatal(err)
			}
			fid, secret := enrol(t, v, "alice")
			req := func(code string) mfa.VerifyRequest {
				return mfa.VerifyRequest{UserID: "alice", FactorID: fid, IP: "192.0.2.1", Response: code}
			}
			// Meet every statement once: a success, and wrong codes up to
			// the limit and past it.
			now = now.Add(gap)
			if _, err := v.Verify(ctx, req(testkit.TOTPCode(t, secret, now))); err != nil {
				t.Fatal(err)
			}
			wrong := testkit.WrongTOTPCode(t, secret, now)
			for range 6 {
				_, _ = v.Verify(ctx, req(wrong))
			}
			if err := s.Reset(ctx, store.CounterKey{Scope: store.ScopeUser, UserID: "alice"}, store.CounterKey{Scope: store.ScopeFactor, UserID: "alice", FactorID: fid}, store.CounterKey{Scope: store.ScopeIP, IP: "192.0.2.1"}); err != nil {
				t.Fatal(err)
			}

			text.Store(0)
			now = now.Add(gap)
			if _, err := v.Verify(ctx, req(testkit.TOTPCode(t, secret, now))); err != nil {
				t.Fatal(err)
			}
			wrong = testkit.WrongTOTPCode(t, secret, now)
			for i := range 6 {
				_, err := v.Verify(ctx, req(wrong))
				if want := mfa.ErrWrongCode; i == 5 {
					want = mfa.ErrRateLimited
					if !errors.Is(err, want) {
						t.Fatalf("attempt %d: %v, want %v", i+1, err, want)
					}
				} else if !errors.Is(err, want) {
					t.Fatalf("attempt %d: %v, want %v", i+1, err, want)
				}
			}
			if got := text.Load(); got != 0 {
				t.Errorf("%d statements ran as text after the first verifications, want 0", got)
			}
		})
	}
}

// countDrivers are the drivers countedStore wraps, per dialect.
var countDrivers = map[sqlstore.Dialect]driver.Driver{
	sqlstore.Postgres: stdlib.GetDefaultDriver(),
	sqlstore.MySQL:    &mysql.MySQLDriver{},
	sqlstore.SQLite:   &sqlite.Driver{},
}

// countedStore opens a migrated store of b on a database whose
// connections count every request into n, and the statements run as text
// into text (when not nil). On MySQL, interpolate sets interpolateParams;
// conns, when not 0, is the pool's size.
func countedStore(t *testing.T, b backend, interpolate bool, conns int, n, text *atomic.Int64) *sqlstore.Store {
	t.Helper()
	dsn := b.dsn(t)
	if b.dialect == sqlstore.MySQL {
		cfg, err := mysql.ParseDSN(dsn)
		if err != nil {
			t.Fatal(err)
		}
		cfg.InterpolateParams = interpolate
		dsn = cfg.FormatDSN()
	}
	db := sql.OpenDB(countConnector{d: countDrivers[b.dialect], dsn: dsn, n: n, text: text})
	t.Cleanup(func() { db.Close() })
	if conns > 0 {
		db.SetMaxOpenConns(conns)
	}
	s, err := sqlstore.New(db, b.dialect)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

// countConnector opens connections of d that count every request.
type countConnector struct {
	d   driver.Driver
	dsn string
	n   *atomic.Int64
	// onExec, when set, sees every statement executed and its result.
	onExec func(query string, r driver.Result)
	// text, when set, counts the statements run as text on the
	// connection (each parsed again), not through a prepared statement.
	text *atomic.Int64
}

func (c countConnector) Connect(context.Context) (driver.Conn, error) {
	conn, err := c.d.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	return &countConn{Conn: conn, n: c.n, onExec: c.onExec, text: c.text}, nil
}

func (c countConnector) Driver() driver.Driver { return c.d }

// countConn forwards to the driver's connection. A method the driver
// declines with driver.ErrSkip is not counted: database/sql then prepares
// and executes, which are.
type countConn struct {
	driver.Conn
	n      *atomic.Int64
	onExec func(query string, r driver.Result)
	text   *atomic.Int64
}

func (c *countConn) count(err error) {
	if !errors.Is(err, driver.ErrSkip) {
		c.n.Add(1)
	}
}

// countText counts a statement run as text.
func (c *countConn) countText(err error) {
	if c.text != nil && !errors.Is(err, driver.ErrSkip) {
		c.text.Add(1)
	}
}

func (c *countConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	tx, err := c.Conn.(driver.ConnBeginTx).BeginTx(ctx, opts)
	c.count(err)
	if err != nil {
		return nil, err
	}
	return countTx{tx, c.n}, nil
}

func (c *countConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	st, err := c.Conn.(driver.ConnPrepareContext).PrepareContext(ctx, query)
	c.count(err)
	if err != nil {
		return nil, err
	}
	return countStmt{st, c.n, query, c.onExec}, nil
}

func (c *countConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	r, err := c.Conn.(driver.ExecerContext).ExecContext(ctx, query, args)
	c.count(err)
	c.countText(err)
	if err == nil && c.onExec != nil {
		c.onExec(query, r)
	}
	return r, err
}

func (c *countConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	r, err := c.Conn.(driver.QueryerContext).QueryContext(ctx, query, args)
	c.count(err)
	c.countText(err)
	return r, err
}

func (c *countConn) CheckNamedValue(nv *driver.NamedValue) error {
	if ch, ok := c.Conn.(driver.NamedValueChecker); ok {
		return ch.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}

func (c *countConn) ResetSession(ctx context.Context) error {
	if r, ok := c.Conn.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

func (c *countConn) IsValid() bool {
	if v, ok := c.Conn.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

type countTx struct {
	driver.Tx
	n *atomic.Int64
}

func (t countTx) Commit() error   { t.n.Add(1); return t.Tx.Commit() }
func (t countTx) Rollback() error { t.n.Add(1); return t.Tx.Rollback() }

type countStmt struct {
	driver.Stmt
	n      *atomic.Int64
	query  string
	onExec func(query string, r driver.Result)
}

func (s countStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	s.n.Add(1)
	r, err := s.Stmt.(driver.StmtExecContext).ExecContext(ctx, args)
	if err == nil && s.onExec != nil {
		s.onExec(s.query, r)
	}
	return r, err
}

func (s countStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	s.n.Add(1)
	return s.Stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
}
