package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"

	"github.com/mfakit/mfa/store"
)

const factorCols = "user_id, id, " + recordCols

// recordCols are the columns of a factor but its user and ID.
const recordCols = "kind, name, status, lookup, secret, data, counter, created_us, confirmed_us, last_used_us"

// scanner is *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

func scanFactor(sc scanner) (store.Factor, error) {
	var (
		f                          store.Factor
		status                     string
		lookup                     sql.NullString
		created, confirmed, lastAt int64
	)
	if err := sc.Scan(&f.UserID, &f.ID, &f.Kind, &f.Name, &status, &lookup, &f.Secret, &f.Data,
		&f.Counter, &created, &confirmed, &lastAt); err != nil {
		return store.Factor{}, err
	}
	f.Status = store.Status(status)
	f.Lookup = lookup.String
	f.Created, f.Confirmed, f.LastUsed = fromMicros(created), fromMicros(confirmed), fromMicros(lastAt)
	return f, nil
}

// nullable stores an empty Lookup as NULL, so the unique (kind, lookup)
// index ignores factors without one.
func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// CreateFactor implements [store.Factors].
func (s *Store) CreateFactor(ctx context.Context, f store.Factor) error {
	if err := checkSizes(
		field{"user ID", len(f.UserID), maxID}, field{"factor ID", len(f.ID), maxID},
		field{"kind", len(f.Kind), maxKind}, field{"name", len(f.Name), maxText},
		field{"status", len(f.Status), maxStatus}, field{"lookup", len(f.Lookup), maxLookup},
	); err != nil {
		return err
	}
	_, err := s.exec(ctx, "INSERT INTO {p}factors ("+factorCols+") VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
		f.UserID, f.ID, f.Kind, f.Name, string(f.Status), nullable(f.Lookup), f.Secret, f.Data,
		f.Counter, micros(f.Created), micros(f.Confirmed), micros(f.LastUsed))
	if s.duplicate(err) {
		return fmt.Errorf("mfa: sqlstore: create factor: %w", store.ErrExists)
	}
	return wrapErr("create factor", err)
}

// GetFactor implements [store.Factors].
func (s *Store) GetFactor(ctx context.Context, userID, id string) (store.Factor, error) {
	return s.getFactor(ctx, s.db, userID, id)
}

func (s *Store) getFactor(ctx context.Context, q querier, userID, id string) (store.Factor, error) {
	f, err := scanFactor(q.QueryRowContext(ctx, s.sql("SELECT "+factorCols+" FROM {p}factors WHERE user_id = ? AND id = ?"), userID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Factor{}, fmt.Errorf("mfa: sqlstore: factor: %w", store.ErrNotFound)
	}
	return f, wrapErr("get factor", err)
}

// FindFactor implements [store.Factors]. An empty lookup finds nothing.
func (s *Store) FindFactor(ctx context.Context, kind, lookup string) (store.Factor, error) {
	if lookup == "" {
		return store.Factor{}, fmt.Errorf("mfa: sqlstore: factor: %w", store.ErrNotFound)
	}
	f, err := scanFactor(s.db.QueryRowContext(ctx, s.sql("SELECT "+factorCols+" FROM {p}factors WHERE kind = ? AND lookup = ?"), kind, lookup))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Factor{}, fmt.Errorf("mfa: sqlstore: factor: %w", store.ErrNotFound)
	}
	return f, wrapErr("find factor", err)
}

// ListFactors implements [store.Factors].
func (s *Store) ListFactors(ctx context.Context, userID string) ([]store.Factor, error) {
	rows, err := s.db.QueryContext(ctx, s.sql("SELECT "+factorCols+" FROM {p}factors WHERE user_id = ? ORDER BY created_us, id"), userID)
	if err != nil {
		return nil, wrapErr("list factors", err)
	}
	defer rows.Close()
	list := []store.Factor{}
	for rows.Next() {
		f, err := scanFactor(rows)
		if err != nil {
			return nil, wrapErr("list factors", err)
		}
		list = append(list, f)
	}
	if err := rows.Err(); err != nil {
		return nil, wrapErr("list factors", err)
	}
	return list, nil
}

// UpdateFactor implements [store.Factors].
func (s *Store) UpdateFactor(ctx context.Context, f store.Factor) error {
	if err := checkSizes(field{"name", len(f.Name), maxText}, field{"status", len(f.Status), maxStatus}); err != nil {
		return err
	}
	res, err := s.exec(ctx, "UPDATE {p}factors SET name = ?, status = ?, secret = ?, data = ?, confirmed_us = ? WHERE user_id = ? AND id = ?",
		f.Name, string(f.Status), f.Secret, f.Data, micros(f.Confirmed), f.UserID, f.ID)
	if err != nil {
		return wrapErr("update factor", err)
	}
	if n, err := res.RowsAffected(); err != nil || n > 0 {
		return wrapErr("update factor", err)
	}
	// MySQL counts changed rows, not matched ones: an update that changes
	// nothing reports 0, so ask whether the factor exists.
	return s.factorExists(ctx, s.db, f.UserID, f.ID, "update factor")
}

// factorExists returns nil if the factor exists, else an error wrapping
// ErrNotFound.
func (s *Store) factorExists(ctx context.Context, q querier, userID, id, op string) error {
	var one int
	err := q.QueryRowContext(ctx, s.sql("SELECT 1 FROM {p}factors WHERE user_id = ? AND id = ?"), userID, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("mfa: sqlstore: %s: %w", op, store.ErrNotFound)
	}
	return wrapErr(op, err)
}

// DeleteFactor implements [store.Factors].
func (s *Store) DeleteFactor(ctx context.Context, userID, id string) error {
	res, err := s.exec(ctx, "DELETE FROM {p}factors WHERE user_id = ? AND id = ?", userID, id)
	if err != nil {
		return wrapErr("delete factor", err)
	}
	return affectedOne(res, "delete factor")
}

// DeletePendingFactor implements [store.Factors]: one DELETE that matches
// only a pending row, so an activation committed first keeps the factor.
// When it deletes nothing, a second read tells a missing factor from one
// that is no longer pending. The Lookup lives in the same row and goes
// with it.
func (s *Store) DeletePendingFactor(ctx context.Context, userID, id string) error {
	res, err := s.exec(ctx, "DELETE FROM {p}factors WHERE user_id = ? AND id = ? AND status = ?", userID, id, string(store.StatusPending))
	if err != nil {
		return wrapErr("delete pending factor", err)
	}
	n, err := res.RowsAffected()
	if err != nil || n > 0 {
		return wrapErr("delete pending factor", err)
	}
	if err := s.factorExists(ctx, s.db, userID, id, "delete pending factor"); err != nil {
		return err
	}
	return fmt.Errorf("mfa: sqlstore: delete pending factor: %w", store.ErrConflict)
}

// affectedOne turns a statement that touched no row into ErrNotFound.
func affectedOne(res sql.Result, op string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return wrapErr(op, err)
	}
	if n == 0 {
		return fmt.Errorf("mfa: sqlstore: %s: %w", op, store.ErrNotFound)
	}
	return nil
}

// Advance implements [store.Factors]: the compare-and-set of the counter,
// the new LastUsed and Data, the reset of the failure counters and the
// forgiving of req.Forgive commit together or not at all.
//
// On PostgreSQL it is one statement: an UPDATE ... WHERE counter = From
// (which, at READ COMMITTED, waits for a concurrent winner and re-checks
// the row it committed), and a DELETE of the reset counters and an UPDATE
// of the forgiven ones that run only if the first UPDATE matched; when it
// did not, a second statement tells whether the factor exists. On MySQL
// it is one CALL of the {p}advance procedure (migration 3), which locks
// the factor row, compares, and writes in one transaction ({p}advance_keys,
// migration 7, when there is nothing to forgive). On SQLite it is
// one transaction of the same steps. Each is one round trip on the
// network, but PostgreSQL's refusal.
func (s *Store) Advance(ctx context.Context, req store.Advance) error {
	keys := counterKeys(req.Reset)
	var (
		outcome int
		err     error
	)
	switch s.d {
	case Postgres:
		outcome, err = s.advancePostgres(ctx, req, keys)
	case MySQL:
		outcome, err = s.advanceMySQL(ctx, req, keys)
	default:
		outcome, err = s.advanceSQLite(ctx, req, keys)
	}
	switch {
	case err != nil:
		return wrapErr("advance", err)
	case outcome < 0:
		return fmt.Errorf("mfa: sqlstore: advance: %w", store.ErrNotFound)
	case outcome == 0:
		return fmt.Errorf("mfa: sqlstore: advance: %w", store.ErrConflict)
	}
	return nil
}

// advance outcomes: done, lost compare, no such factor.
const (
	advanced      = 1
	advanceLost   = 0
	advanceNoSuch = -1
)

func (s *Store) advanceSQLite(ctx context.Context, req store.Advance, keys []any) (int, error) {
	set, args := "counter = ?, last_used_us = ?", []any{req.To, micros(req.Now)}
	if req.Data != nil {
		set, args = set+", data = ?", append(args, req.Data)
	}
	var outcome int
	err := s.tx(ctx, func(q querier) error {
		// The transaction holds SQLite's write lock: the UPDATE's count
		// of matched rows tells a success, and only a miss reads again.
		res, err := q.ExecContext(ctx, s.sql("UPDATE {p}factors SET "+set+" WHERE user_id = ? AND id = ? AND counter = ?"), append(args, req.UserID, req.FactorID, req.From)...)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			if err != nil {
				return err
			}
			outcome = advanceLost
			if err := s.factorExists(ctx, q, req.UserID, req.FactorID, "advance"); err != nil {
				if !errors.Is(err, store.ErrNotFound) {
					return err
				}
				outcome = advanceNoSuch
			}
			return errRollback
		}
		if len(keys) > 0 {
			if _, err := q.ExecContext(ctx, s.sql("DELETE FROM {p}counters WHERE counter_key IN ("+marks(len(keys))+")"), keys...); err != nil {
				return err
			}
		}
		outcome = advanced
		return s.forgive(ctx, q, req.Now, req.Forgive)
	})
	return outcome, err
}

// advanceMySQL calls {p}advance_keys (migration 7), which takes the keys
// as parameters, when it resets at most maxFresh counters and forgives
// none, as a verification without an IP counter does; {p}advance
// otherwise.
func (s *Store) advanceMySQL(ctx context.Context, req store.Advance, keys []any) (int, error) {
	var (
		query string
		err   error
	)
	if fj := forgiveJSON(req.Forgive, keys); fj == "[]" && len(keys) <= maxFresh {
		args := []any{req.UserID, req.FactorID, req.From, req.To, micros(req.Now), req.Data != nil, req.Data}
		for i := range maxFresh {
			if i < len(keys) {
				args = append(args, keys[i])
			} else {
				args = append(args, nil)
			}
		}
		query, err = mysqlCall(s.prefix+"advance_keys", args...)
	} else {
		query, err = mysqlCall(s.prefix+"advance", req.UserID, req.FactorID, req.From, req.To, micros(req.Now),
			req.Data != nil, req.Data, resetJSON(keys), fj)
	}
	if err != nil {
		return 0, err
	}
	var outcome int
	err = s.retry(ctx, func() error { return s.queryOne(ctx, query, nil, &outcome) })
	return outcome, err
}

// advancePostgres is one statement when it advances, which returns a row
// only then; a second tells a lost compare from a missing factor. The
// forgiven counters exclude those the success resets (deleted in the same
// statement), and each is forgiven with [store.Rule.Forgive] in SQL, as
// forgiveOne does.
func (s *Store) advancePostgres(ctx context.Context, req store.Advance, keys []any) (int, error) {
	fj := forgiveJSON(req.Forgive, keys)
	shape := advanceShape{data: req.Data != nil, keys: len(keys), forgive: fj != "[]"}
	args := make([]any, 0, 9+len(keys))
	args = append(args, req.To, micros(req.Now))
	if shape.data {
		args = append(args, req.Data)
	}
	args = append(args, req.UserID, req.FactorID, req.From)
	args = append(args, keys...)
	if shape.forgive {
		args = append(args, string(fj), micros(req.Now))
	}
	q := s.advanceStatement(shape)
	var outcome int
	err := s.retry(ctx, func() error {
		outcome = advanced
		err := s.db.QueryRowContext(ctx, q, args...).Scan(new(int))
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		// Not advanced: a lost compare or no such factor, which a
		// second statement tells apart. It is not in the first, where
		// the server would prepare its scan on every success.
		outcome = advanceLost
		var found bool
		if err := s.db.QueryRowContext(ctx, s.sql(factorExists), req.UserID, req.FactorID).Scan(&found); err != nil {
			return err
		}
		if !found {
			outcome = advanceNoSuch
		}
		return nil
	})
	return outcome, err
}

// factorExists tells whether a factor exists (args: user, ID).
const factorExists = "SELECT EXISTS (SELECT 1 FROM {p}factors WHERE user_id = ? AND id = ?)"

// advanceShape is what the text of advancePostgres's statement depends on.
type advanceShape struct {
	data    bool
	keys    int
	forgive bool
}

// advanceStatement returns the text of advancePostgres's statement of a
// shape, built once per shape.
func (s *Store) advanceStatement(sh advanceShape) string {
	if q, ok := s.advances.Load(sh); ok {
		return q.(string)
	}
	set := "counter = ?, last_used_us = ?"
	if sh.data {
		set += ", data = ?"
	}
	q := "WITH u AS (UPDATE {p}factors SET " + set + " WHERE user_id = ? AND id = ? AND counter = ? RETURNING 1)"
	if sh.keys > 0 {
		q += ", d AS (DELETE FROM {p}counters WHERE counter_key IN (" + marks(sh.keys) + ") AND EXISTS (SELECT 1 FROM u))"
	}
	if sh.forgive {
		q += ", g AS (UPDATE {p}counters c SET" +
			" until_us = CASE WHEN c.failures - 1 < (e->>1)::integer THEN 0 ELSE c.until_us END, failures = c.failures - 1" +
			" FROM jsonb_array_elements(?::jsonb) e WHERE c.counter_key = convert_from(decode(e->>0, 'hex'), 'UTF8')" +
			" AND c.failures > 0 AND (c.expires_us = 0 OR c.expires_us > ?) AND EXISTS (SELECT 1 FROM u))"
	}
	q += " SELECT 1 FROM u"
	q = s.sql(q)
	s.advances.Store(sh, q)
	return q
}

// counterKeys returns the distinct canonical forms of keys, sorted, as
// query arguments. Sorting makes every transaction lock counter rows in
// the same order, which keeps deadlocks rare.
func counterKeys(keys []store.CounterKey) []any {
	ks := make([]string, len(keys))
	for i, k := range keys {
		ks[i] = k.String()
	}
	return distinctSorted(ks)
}

// distinctSorted returns the distinct strings of ks, sorted, as query
// arguments; ks is sorted in place. A request has a handful of keys, so
// duplicates are found next to each other rather than in a map.
func distinctSorted(ks []string) []any {
	slices.Sort(ks)
	args := make([]any, 0, len(ks))
	for i, k := range ks {
		if i == 0 || k != ks[i-1] {
			args = append(args, k)
		}
	}
	return args
}
