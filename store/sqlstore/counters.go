package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/mfakit/mfa/store"
)

// Hit implements [store.Counters]: the counter rows are locked, the
// decision is made with the rules of [store.Rule.Blocked] and
// [store.Rule.Apply] exactly as every backend makes it, the new states
// are written, and the factor named by req.Load is read. A refused attempt
// writes nothing.
//
// On PostgreSQL and MySQL all of it is one statement, one round trip: a
// call of the {p}hit routine or, in the usual case, a leaner statement
// (see hitRoutine). On SQLite it is one write-locking transaction that
// decides in Go.
func (s *Store) Hit(ctx context.Context, req store.HitRequest) (store.HitResult, error) {
	// The canonical keys, computed once: the hot path needs them thrice.
	ks := make([]string, len(req.Counters))
	for i, c := range req.Counters {
		ks[i] = c.Key.String()
		if err := checkSizes(field{"counter key", len(ks[i]), maxKey}); err != nil {
			return store.HitResult{}, err
		}
	}
	if s.d != SQLite {
		res, err := s.hitRoutine(ctx, req, ks)
		if err != nil {
			return store.HitResult{}, wrapErr("hit", err)
		}
		return res, nil
	}
	keys := distinctSorted(slices.Clone(ks))
	var res store.HitResult
	err := s.tx(ctx, func(q querier) error {
		res = store.HitResult{}
		states, loaded, err := s.lockCounters(ctx, q, keys, req.Load)
		if err != nil {
			return err
		}
		cur := make([]store.CounterState, len(ks))
		for i, k := range ks {
			cur[i] = states[k]
		}
		res = store.DecideStates(req, cur)
		if !res.Admitted {
			return errRollback
		}
		for i, c := range req.Counters {
			states[ks[i]] = c.Rule.Apply(states[ks[i]], req.Now)
		}
		if err := s.writeCounters(ctx, q, keys, states); err != nil {
			return err
		}
		switch {
		case loaded != nil:
			res.Factor, res.Found = loaded.f, loaded.found
		case req.Load.ID != "":
			f, err := s.getFactor(ctx, q, req.Load.UserID, req.Load.ID)
			switch {
			case err == nil:
				res.Factor, res.Found = f, true
			case errors.Is(err, store.ErrNotFound):
			default:
				return err
			}
		}
		return nil
	})
	if err != nil {
		return store.HitResult{}, wrapErr("hit", err)
	}
	return res, nil
}

// loadedFactor is a factor read together with the counters.
type loadedFactor struct {
	f     store.Factor
	found bool
}

// lockCounters locks the rows of keys (sorted, distinct) for the rest of
// the transaction and returns their states; a missing key has the zero
// state. On PostgreSQL and MySQL the statement that reads the counters
// also reads the factor named by load (without locking it), saving a round
// trip; on SQLite, and when there are no keys, loaded is nil and the
// caller reads the factor.
func (s *Store) lockCounters(ctx context.Context, q querier, keys []any, load store.FactorRef) (states map[string]store.CounterState, loaded *loadedFactor, err error) {
	states = make(map[string]store.CounterState, len(keys))
	if len(keys) == 0 {
		return states, nil, nil
	}
	values := strings.TrimSuffix(strings.Repeat("(?,0,0,0),", len(keys)), ",")
	args := keys
	var query string
	switch s.d {
	case Postgres:
		// The no-op update locks an existing row; the insert locks a new one.
		query = "WITH c AS (INSERT INTO {p}counters AS k (counter_key, failures, until_us, expires_us) VALUES " + values +
			" ON CONFLICT (counter_key) DO UPDATE SET failures = k.failures RETURNING counter_key, failures, until_us, expires_us)" +
			" SELECT c.counter_key, c.failures, c.until_us, c.expires_us, " + prefixed("f.", factorCols) +
			" FROM c LEFT JOIN {p}factors f ON f.user_id = ? AND f.id = ?"
		args = append(append([]any(nil), keys...), load.UserID, load.ID)
		loaded = &loadedFactor{}
	case MySQL:
		// ON DUPLICATE KEY UPDATE takes an exclusive lock on an existing
		// row, and the insert one on a new row; with the rows locked, a
		// plain read (at READ COMMITTED, the latest committed version) sees
		// what a locking read would, and may join the factor without
		// locking it.
		if _, err := q.ExecContext(ctx, s.sql("INSERT INTO {p}counters (counter_key, failures, until_us, expires_us) VALUES "+values+
			" ON DUPLICATE KEY UPDATE counter_key = counter_key"), keys...); err != nil {
			return nil, nil, err
		}
		query = "SELECT c.counter_key, c.failures, c.until_us, c.expires_us, " + prefixed("f.", factorCols) +
			" FROM {p}counters c LEFT JOIN {p}factors f ON f.user_id = ? AND f.id = ? WHERE c.counter_key IN (" + marks(len(keys)) + ")"
		args = append([]any{load.UserID, load.ID}, keys...)
		loaded = &loadedFactor{}
	case SQLite:
		// The transaction holds the database's write lock already.
		query = "SELECT counter_key, failures, until_us, expires_us FROM {p}counters WHERE counter_key IN (" + marks(len(keys)) + ")"
	}
	rows, err := q.QueryContext(ctx, s.sql(query), args...)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			k              string
			st             store.CounterState
			until, expires int64
			nf             nullFactor
		)
		dest := []any{&k, &st.Failures, &until, &expires}
		if loaded != nil {
			dest = append(dest, nf.dest()...)
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, nil, err
		}
		st.Until, st.Expires = fromMicros(until), fromMicros(expires)
		states[k] = st
		if loaded != nil && load.ID != "" {
			loaded.f, loaded.found = nf.factor()
		}
	}
	return states, loaded, rows.Err()
}

// prefixed qualifies every column of a comma-separated list.
func prefixed(alias, cols string) string {
	return alias + strings.ReplaceAll(cols, ", ", ", "+alias)
}

// nullFactor scans the factor columns of an outer join, NULL when no
// factor matched: the user and ID, then the record (nullRecord).
type nullFactor struct {
	userID, id sql.NullString
	nullRecord
}

func (n *nullFactor) dest() []any {
	return append([]any{&n.userID, &n.id}, n.nullRecord.dest()...)
}

func (n *nullFactor) factor() (store.Factor, bool) {
	if !n.id.Valid {
		return store.Factor{}, false
	}
	return n.nullRecord.factor(n.userID.String, n.id.String)
}

// writeCounters stores the states of keys in one statement: an upsert on
// PostgreSQL and SQLite; on MySQL, whose rows the transaction has already
// inserted and locked, an UPDATE with CASE (MySQL deprecates VALUES() in
// ON DUPLICATE KEY UPDATE, and MariaDB lacks the row alias that replaces
// it).
func (s *Store) writeCounters(ctx context.Context, q querier, keys []any, states map[string]store.CounterState) error {
	if len(keys) == 0 {
		return nil
	}
	var query string
	args := make([]any, 0, 7*len(keys))
	if s.d == MySQL {
		var f, u, e strings.Builder
		var fa, ua, ea []any
		for _, k := range keys {
			st := states[k.(string)]
			f.WriteString(" WHEN ? THEN ?")
			u.WriteString(" WHEN ? THEN ?")
			e.WriteString(" WHEN ? THEN ?")
			fa = append(fa, k, st.Failures)
			ua = append(ua, k, micros(st.Until))
			ea = append(ea, k, micros(st.Expires))
		}
		query = "UPDATE {p}counters SET failures = CASE counter_key" + f.String() + " END, until_us = CASE counter_key" + u.String() +
			" END, expires_us = CASE counter_key" + e.String() + " END WHERE counter_key IN (" + marks(len(keys)) + ")"
		args = append(append(append(append(args, fa...), ua...), ea...), keys...)
	} else {
		for _, k := range keys {
			st := states[k.(string)]
			args = append(args, k, st.Failures, micros(st.Until), micros(st.Expires))
		}
		query = "INSERT INTO {p}counters (counter_key, failures, until_us, expires_us) VALUES " +
			strings.TrimSuffix(strings.Repeat("(?,?,?,?),", len(keys)), ",") +
			" ON CONFLICT (counter_key) DO UPDATE SET failures = excluded.failures, until_us = excluded.until_us, expires_us = excluded.expires_us"
	}
	_, err := q.ExecContext(ctx, s.sql(query), args...)
	return err
}

// Reset implements [store.Counters].
func (s *Store) Reset(ctx context.Context, keys ...store.CounterKey) error {
	args := counterKeys(keys)
	if len(args) == 0 {
		return nil
	}
	_, err := s.exec(ctx, "DELETE FROM {p}counters WHERE counter_key IN ("+marks(len(args))+")", args...)
	return wrapErr("reset counters", err)
}

// CounterState implements [store.Counters]. An expired counter that has not
// been swept is returned as stored.
func (s *Store) CounterState(ctx context.Context, key store.CounterKey) (store.CounterState, error) {
	var (
		st             store.CounterState
		until, expires int64
	)
	err := s.db.QueryRowContext(ctx, s.sql("SELECT failures, until_us, expires_us FROM {p}counters WHERE counter_key = ?"), key.String()).
		Scan(&st.Failures, &until, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return store.CounterState{}, nil
	}
	if err != nil {
		return store.CounterState{}, fmt.Errorf("mfa: sqlstore: counter state: %w", err)
	}
	st.Until, st.Expires = fromMicros(until), fromMicros(expires)
	return st, nil
}

// queryOne runs a query that returns one row (a routine's outcome) and
// scans it, reading the whole response so the connection is clean.
func (s *Store) queryOne(ctx context.Context, query string, args []any, dest ...any) error {
	found, err := s.queryAtMostOne(ctx, query, args, dest...)
	if err == nil && !found {
		err = errors.New("the routine returned no row")
	}
	return err
}

// queryAtMostOne is queryOne for a query that may return no row: found
// tells whether dest was set.
func (s *Store) queryAtMostOne(ctx context.Context, query string, args []any, dest ...any) (found bool, err error) {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return false, err
	}
	defer rows.Close()
	if rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return false, err
		}
		found = true
		for rows.Next() {
		}
	}
	if err := rows.Close(); err != nil {
		return false, err
	}
	return found, rows.Err()
}
