package sqlstore

import (
	"context"
	"time"
)

// DefaultSweepBatch is the most rows one statement of [Store.Sweep]
// deletes when Options.SweepBatch is zero.
const DefaultSweepBatch = 500

// Sweep implements [store.Sweeper]: it deletes the challenges, counters,
// sessions, devices and signal records expired at now and returns how
// many rows went. A session goes once it is past Expires or IdleExpires,
// revoked or not, and the refresh hashes it retired go with it (they are
// not counted); a signal list's lock row (PostgreSQL and MySQL) goes once
// every record of its list has expired (not counted either).
//
// Every expiry column is indexed (schema version 3), and rows go in
// batches of at most Options.SweepBatch per statement, each its own
// transaction, so a sweep of a million rows never holds a lock for long:
// on SQLite, whose writers take one database-wide lock, a verification
// waits for one batch at most, not for the sweep (in this process each
// batch and the writers take turns; another process's writers wait in
// SQLite's busy handler). A sweep that fails or is
// cancelled part way can simply run again. Nothing in this package calls
// Sweep: run it from a scheduled job.
func (s *Store) Sweep(ctx context.Context, now time.Time) (int64, error) {
	t := micros(now)
	steps := []sweepStep{
		{"challenges", "challenges", "id", "expires_us <= ?", false},
		{"counters", "counters", "counter_key", "expires_us <> 0 AND expires_us <= ?", false},
		{"devices", "devices", "id", "expires_us <= ?", false},
		{"signals", "signals", "list_key, seq", "expires_us <= ?", false},
	}
	if s.d != SQLite {
		// A list's lock row goes once its latest record has expired,
		// after the records themselves.
		steps = append(steps, sweepStep{"signal lists", "signal_lists", "list_key", "expires_us <= ?", true})
	}
	var total int64
	for _, st := range steps {
		n, err := s.sweepTable(ctx, st.table, st.key, st.where, []any{t})
		if !st.uncounted {
			total += n
		}
		if err != nil {
			return total, wrapErr("sweep "+st.what, err)
		}
	}
	// Sessions past either limit: one pass per column, so each uses its
	// index.
	for _, col := range []string{"expires_us", "idle_expires_us"} {
		n, err := s.sweepSessions(ctx, col, t)
		total += n
		if err != nil {
			return total, wrapErr("sweep sessions", err)
		}
	}
	return total, nil
}

// sweepStep is one table Sweep deletes from: rows matching where, whose
// one argument is now; uncounted rows are bookkeeping, not records.
type sweepStep struct {
	what, table, key, where string
	uncounted               bool
}

func (s *Store) batch() int {
	if s.sweepBatch > 0 {
		return s.sweepBatch
	}
	return DefaultSweepBatch
}

// sweepTable deletes the rows of table matching where, at most one batch
// per statement, until a statement deletes less than a batch. key is the
// table's primary key, one column or several separated by commas.
func (s *Store) sweepTable(ctx context.Context, table, key, where string, args []any) (int64, error) {
	var q string
	switch s.d {
	case MySQL:
		q = "DELETE FROM {p}" + table + " WHERE " + where + " LIMIT ?"
	case SQLite:
		q = "DELETE FROM {p}" + table + " WHERE rowid IN (SELECT rowid FROM {p}" + table + " WHERE " + where + " LIMIT ?)"
	default:
		q = "DELETE FROM {p}" + table + " WHERE (" + key + ") IN (SELECT " + key + " FROM {p}" + table + " WHERE " + where + " LIMIT ?)"
	}
	n := s.batch()
	args = append(args[:len(args):len(args)], n)
	var total int64
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		s.gate.Lock()
		res, err := s.execAlone(ctx, q, args...)
		s.gate.Unlock()
		if err != nil {
			return total, err
		}
		k, err := res.RowsAffected()
		if err != nil {
			return total, err
		}
		total += k
		if k < int64(n) {
			return total, nil
		}
	}
}

// sweepSessions deletes sessions whose col is at or before t, a batch per
// transaction, with the refresh hashes they retired.
func (s *Store) sweepSessions(ctx context.Context, col string, t int64) (int64, error) {
	n := s.batch()
	var total int64
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		var k int64
		s.gate.Lock()
		err := s.txAlone(ctx, func(q querier) error {
			k = 0
			rows, err := q.QueryContext(ctx, s.sql("SELECT id FROM {p}sessions WHERE "+col+" <= ? LIMIT ?"), t, n)
			if err != nil {
				return err
			}
			var ids []any
			for rows.Next() {
				var id string
				if err := rows.Scan(&id); err != nil {
					rows.Close()
					return err
				}
				ids = append(ids, id)
			}
			if err := rows.Close(); err != nil {
				return err
			}
			if err := rows.Err(); err != nil || len(ids) == 0 {
				return err
			}
			in := "(" + marks(len(ids)) + ")"
			// The expiry is checked again: a row may have changed since
			// it was read.
			res, err := q.ExecContext(ctx, s.sql("DELETE FROM {p}sessions WHERE id IN "+in+" AND "+col+" <= ?"), append(ids, t)...)
			if err != nil {
				return err
			}
			if k, err = res.RowsAffected(); err != nil {
				return err
			}
			_, err = q.ExecContext(ctx, s.sql("DELETE FROM {p}retired_refresh WHERE session_id IN "+in+
				" AND NOT EXISTS (SELECT 1 FROM {p}sessions x WHERE x.id = {p}retired_refresh.session_id)"), ids...)
			return err
		})
		s.gate.Unlock()
		total += k
		if err != nil {
			return total, err
		}
		if k < int64(n) {
			return total, nil
		}
	}
}
