package sqlstore

import (
	"context"
	"database/sql"
	"encoding/hex"
	"fmt"
	"slices"
	"time"

	"github.com/mfakit/mfa/store"
)

var _ store.Signals = (*Store)(nil)

// Observe implements [store.Signals]. Every sighting is checked before
// anything is sent, so a call holding one out of bounds stores nothing.
//
// On PostgreSQL and MySQL the whole call is one call of the {p}observe
// routine (migration 5), one statement and one network round trip: it
// locks each list's row in signal_lists, in key order, then handles the
// sightings in turn and returns every list. On SQLite it is one BEGIN
// IMMEDIATE transaction of a few statements per sighting.
func (s *Store) Observe(ctx context.Context, now time.Time, sightings ...store.Sighting) ([][]store.Signal, error) {
	if len(sightings) == 0 {
		return nil, nil
	}
	for _, o := range sightings {
		if err := o.Check(); err != nil {
			return nil, err
		}
	}
	var (
		lists [][]store.Signal
		err   error
	)
	if s.d == SQLite {
		lists, err = s.observeSQLite(ctx, now, sightings)
	} else {
		lists, err = s.observeRoutine(ctx, now, sightings)
	}
	if err != nil {
		return nil, wrapErr("observe", err)
	}
	return lists, nil
}

// adds reports whether a sighting adds its signal: it has data and has
// not expired at now, at the microseconds the store keeps.
func adds(o store.Sighting, now int64) bool {
	return o.Signal.Data != nil && micros(o.Signal.Expires) > now
}

// observeRoutine is Observe on PostgreSQL and MySQL: one call of the
// {p}observe routine. Its arguments are JSON documents whose keys and
// data are hex, so bytes of any value survive the trip (see literal.go);
// on MySQL the call is written as text, one request whatever the DSN.
func (s *Store) observeRoutine(ctx context.Context, now time.Time, sightings []store.Sighting) ([][]store.Signal, error) {
	t := micros(now)
	// The distinct lists, sorted by key: the order the routine locks them.
	keys := make([]string, 0, len(sightings))
	for _, o := range sightings {
		keys = append(keys, o.Key)
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	listRows := make([][]any, len(keys))
	for i, k := range keys {
		listRows[i] = []any{hex.EncodeToString([]byte(k)), 0}
	}
	sightRows := make([][]any, len(sightings))
	for i, o := range sightings {
		li, _ := slices.BinarySearch(keys, o.Key)
		add := 0
		if adds(o, t) {
			add = 1
			listRows[li][1] = 1
		}
		sightRows[i] = []any{li, o.Keep, add, micros(o.Signal.Time), micros(o.Signal.Expires), hex.EncodeToString(o.Signal.Data)}
	}
	listJSON, sightJSON := mustJSON(listRows), mustJSON(sightRows)
	var (
		query string
		args  []any
	)
	if s.d == Postgres {
		query = s.sql("SELECT o_idx, o_time_us, o_expires_us, o_data FROM {p}observe(?::jsonb, ?::jsonb, ?)")
		args = []any{string(listJSON), string(sightJSON), t}
	} else {
		var err error
		if query, err = mysqlCall(s.prefix+"observe", listJSON, sightJSON, t); err != nil {
			return nil, err
		}
	}
	var lists [][]store.Signal
	err := s.retry(ctx, func() error {
		lists = emptyLists(len(sightings))
		rows, err := s.db.QueryContext(ctx, query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		// MySQL returns one result set per sighting, PostgreSQL one in
		// all; every row names its sighting.
		for {
			for rows.Next() {
				var i int
				r, err := scanSignal(rows, &i)
				if err != nil {
					return err
				}
				if i < 0 || i >= len(lists) {
					return fmt.Errorf("a row of sighting %d, of %d", i, len(lists))
				}
				lists[i] = append(lists[i], r)
			}
			if !rows.NextResultSet() {
				break
			}
		}
		if err := rows.Err(); err != nil {
			return err
		}
		return rows.Close()
	})
	return lists, err
}

// scanSignal reads a row of time, expiry and data, after the dest given.
func scanSignal(rows *sql.Rows, dest ...any) (store.Signal, error) {
	var (
		tm, exp int64
		data    []byte
	)
	if err := rows.Scan(append(dest, &tm, &exp, &data)...); err != nil {
		return store.Signal{}, err
	}
	if data == nil {
		data = []byte{} // a record's Data is never nil
	}
	return store.Signal{Time: fromMicros(tm), Expires: fromMicros(exp), Data: data}, nil
}

func emptyLists(n int) [][]store.Signal {
	lists := make([][]store.Signal, n)
	for i := range lists {
		lists[i] = []store.Signal{}
	}
	return lists
}

// observeSQLite is Observe on SQLite: the transaction holds the
// database's write lock, and each sighting is a few statements.
func (s *Store) observeSQLite(ctx context.Context, now time.Time, sightings []store.Sighting) ([][]store.Signal, error) {
	t := micros(now)
	var lists [][]store.Signal
	err := s.tx(ctx, func(q querier) error {
		lists = emptyLists(len(sightings))
		for i, o := range sightings {
			if _, err := q.ExecContext(ctx, s.sql("DELETE FROM {p}signals WHERE list_key = ? AND expires_us <= ?"), o.Key, t); err != nil {
				return err
			}
			if adds(o, t) {
				if _, err := q.ExecContext(ctx, s.sql("INSERT INTO {p}signals (list_key, time_us, expires_us, data) VALUES (?, ?, ?, ?)"),
					o.Key, micros(o.Signal.Time), micros(o.Signal.Expires), o.Signal.Data); err != nil {
					return err
				}
			}
			if _, err := q.ExecContext(ctx, s.sql("DELETE FROM {p}signals WHERE seq IN (SELECT seq FROM {p}signals WHERE list_key = ?"+
				" ORDER BY time_us DESC, seq DESC LIMIT -1 OFFSET ?)"), o.Key, o.Keep); err != nil {
				return err
			}
			rows, err := q.QueryContext(ctx, s.sql("SELECT time_us, expires_us, data FROM {p}signals WHERE list_key = ? ORDER BY time_us, seq"), o.Key)
			if err != nil {
				return err
			}
			for rows.Next() {
				r, err := scanSignal(rows)
				if err != nil {
					rows.Close()
					return err
				}
				lists[i] = append(lists[i], r)
			}
			if err := rows.Close(); err != nil {
				return err
			}
			if err := rows.Err(); err != nil {
				return err
			}
		}
		return nil
	})
	return lists, err
}
