package sqlstore

import (
	"context"
	"database/sql"
	"strings"
)

// SQLite's transactions: the write lock from the first statement, and
// statements run prepared.

// sqliteTx is a transaction on SQLite that holds the database's write
// lock from its first statement: a no-op UPDATE (lockStatement) takes it,
// as BEGIN IMMEDIATE would, so the transaction never has to upgrade a
// read lock, which SQLite can refuse without waiting. It runs in a
// database/sql transaction rather than on a connection with BEGIN
// IMMEDIATE so that its statements can be prepared ones: on SQLite,
// parsing a statement costs more than running it, and every statement
// parsed while the write lock is held delays every other writer. See
// preparing.
func (s *Store) sqliteTx(ctx context.Context, fn func(q querier) error) error {
	t, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	q := &preparing{s: s, tx: t}
	defer q.prepareMissed(ctx)
	if _, err := q.ExecContext(ctx, s.sql(lockStatement)); err != nil {
		_ = t.Rollback()
		return err
	}
	if err := fn(q); err != nil {
		_ = t.Rollback()
		if err == errRollback {
			return nil
		}
		return err
	}
	return t.Commit()
}

// lockStatement writes nothing, but as a write it takes SQLite's write
// lock (waiting as the busy timeout says), which the transaction then
// holds until it ends.
const lockStatement = "UPDATE {p}schema_version SET version = version WHERE 0"

// sqliteImmediateTx runs fn in a BEGIN IMMEDIATE transaction on one
// connection, with statements that are not prepared: for Migrate, which
// runs before lockStatement's table exists.
func (s *Store) sqliteImmediateTx(ctx context.Context, fn func(q querier) error) (err error) {
	c, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := c.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return err
	}
	done := false
	defer func() {
		if done {
			return
		}
		// Roll back even when ctx is cancelled; a connection that cannot
		// leave its transaction is discarded, not returned to the pool.
		if _, rerr := c.ExecContext(context.WithoutCancel(ctx), "ROLLBACK"); rerr != nil && !strings.Contains(rerr.Error(), "no transaction") {
			_ = c.Raw(func(any) error { return errBadConn })
		}
	}()
	if err := fn(c); err != nil {
		if err == errRollback {
			return nil
		}
		return err
	}
	if _, err := c.ExecContext(ctx, "COMMIT"); err != nil {
		return err
	}
	done = true
	return nil
}

// maxPrepared bounds the statements a Store keeps prepared on SQLite. The
// statements of the store's own methods are a few dozen texts; a text
// past the bound is parsed each time it runs.
const maxPrepared = 128

// preparing is the querier of a SQLite transaction. A statement already
// prepared on the database runs as that prepared statement (database/sql
// prepares it once on each connection it meets and keeps it there); any
// other runs as plain text and is prepared once the transaction is over.
// It is not prepared during the transaction: that would take a second
// connection from the pool, and a pool of one would wait forever.
type preparing struct {
	s      *Store
	tx     *sql.Tx
	missed []string
}

func (p *preparing) stmt(ctx context.Context, query string) *sql.Stmt {
	if st, ok := p.s.prepared.Load(query); ok {
		return p.tx.StmtContext(ctx, st.(*sql.Stmt))
	}
	p.missed = append(p.missed, query)
	return nil
}

func (p *preparing) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := p.stmt(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return p.tx.ExecContext(ctx, query, args...)
}

func (p *preparing) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := p.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return p.tx.QueryContext(ctx, query, args...)
}

func (p *preparing) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := p.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return p.tx.QueryRowContext(ctx, query, args...)
}

// prepareMissed prepares the statements the transaction ran as text, up
// to maxPrepared in all. A statement that fails to prepare, or that ctx
// ends before a connection is free for it, is left to run as text and
// prepared another time.
func (p *preparing) prepareMissed(ctx context.Context) {
	for _, q := range p.missed {
		if p.s.nprepared.Load() >= maxPrepared {
			return
		}
		if _, ok := p.s.prepared.Load(q); ok {
			continue
		}
		st, err := p.s.db.PrepareContext(ctx, q)
		if err != nil {
			continue
		}
		if _, loaded := p.s.prepared.LoadOrStore(q, st); loaded {
			_ = st.Close()
			continue
		}
		p.s.nprepared.Add(1)
	}
}
