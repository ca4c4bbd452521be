package sqlstore

// Hit on PostgreSQL and MySQL: a routine call, or in the usual case a
// leaner statement (see hitRoutine).

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"

	"github.com/mfakit/mfa/store"
)

// hitRoutine is Hit on PostgreSQL and MySQL: one call of the {p}hit
// routine (migration 3, replaced by migration 6), which locks, decides,
// writes and, on MySQL, reads the factor; on PostgreSQL the same
// statement joins the factor. Up to three distinct counters, the usual
// case, take a leaner way with their states after one failure as
// parameters: on MySQL {p}hit_new (migration 7, made leaner by 8) inserts
// them, or calls {p}hit when one exists; on PostgreSQL a plain statement
// inserts them, or calls {p}hit_new when one exists (hitFreshStatement).
// One statement, one round trip, but on PostgreSQL when another attempt
// inserts one of the counters at the same moment: then a second
// statement decides.
func (s *Store) hitRoutine(ctx context.Context, req store.HitRequest, ks []string) (store.HitResult, error) {
	counters := hitJSON(req.Counters, ks)
	var (
		query string
		args  []any
	)
	fresh, isFresh := freshStates(req, ks)
	// fallback, when set, is the statement to run instead when query
	// fails on a duplicate key: {p}hit_new, which decides every case.
	var fallback func() (string, []any)
	switch {
	case s.d == Postgres && isFresh:
		// The usual case in plain SQL (no routine call unless a counter
		// exists); see hitFreshStatement.
		query = s.hitFreshStatement(len(fresh))
		args = make([]any, 0, 3*len(fresh)+4)
		for _, f := range fresh {
			args = append(args, f.key, micros(f.st.Until), micros(f.st.Expires))
		}
		args = append(args, string(counters), nanos(req.Now), req.Load.UserID, req.Load.ID)
		fallback = func() (string, []any) {
			// Migration 7: {p}hit_new with arrays, one value back; it
			// calls {p}hit itself when a counter exists.
			keys := make([]string, len(fresh))
			until := make([]int64, len(fresh))
			expires := make([]int64, len(fresh))
			for i, f := range fresh {
				keys[i], until[i], expires[i] = f.key, micros(f.st.Until), micros(f.st.Expires)
			}
			return s.sql(hitNewPostgres), []any{keys, until, expires, string(counters), nanos(req.Now), req.Load.UserID, req.Load.ID}
		}
	case s.d == Postgres:
		query = s.sql(hitPostgres)
		args = []any{string(counters), nanos(req.Now), req.Load.UserID, req.Load.ID}
	case isFresh:
		// Migration 7 (made leaner by 8): the common case without JSON
		// parsing; {p}hit_new calls {p}hit itself when a counter exists,
		// and returns no row when it admits and the factor does not
		// exist.
		callArgs := make([]any, 0, 14)
		callArgs = append(callArgs, len(fresh))
		for i := range maxFresh {
			if i < len(fresh) {
				callArgs = append(callArgs, fresh[i].key, micros(fresh[i].st.Until), micros(fresh[i].st.Expires))
			} else {
				callArgs = append(callArgs, nil, 0, 0)
			}
		}
		var err error
		query, err = mysqlCall(s.prefix+"hit_new", append(callArgs, counters, nanos(req.Now), req.Load.UserID, req.Load.ID)...)
		if err != nil {
			return store.HitResult{}, err
		}
	default:
		var err error
		query, err = mysqlCall(s.prefix+"hit", counters, nanos(req.Now), req.Load.UserID, req.Load.ID)
		if err != nil {
			return store.HitResult{}, err
		}
	}
	var res store.HitResult
	err := s.retry(ctx, func() error {
		res = store.HitResult{}
		var (
			retry int64
			nf    nullFactor
			nr    nullRecord
			dest  []any
		)
		if s.d == Postgres {
			// One decision column (see decidedPostgres), then the record.
			dest = append([]any{&retry}, nr.dest()...)
		} else {
			dest = append([]any{&res.Admitted, &res.Locked, &retry}, nf.dest()...)
		}
		found, err := s.queryAtMostOne(ctx, query, args, dest...)
		if fallback != nil && s.duplicate(err) {
			// A counter was inserted by someone else after this
			// statement looked: it wrote nothing, and {p}hit_new decides.
			query, args = fallback()
			fallback = nil
			found, err = s.queryAtMostOne(ctx, query, args, dest...)
		}
		switch {
		case err != nil:
			return err
		case !found && s.d == MySQL && isFresh:
			res.Admitted = true // counted; no such factor
			return nil
		case !found:
			return errors.New("the routine returned no row")
		}
		if s.d == Postgres {
			res.Admitted, res.Locked, retry = decidedPostgres(retry)
		}
		if retry != 0 {
			res.RetryAfter = fromMicros(retry)
		}
		if res.Admitted && req.Load.ID != "" {
			if s.d == Postgres {
				res.Factor, res.Found = nr.factor(req.Load.UserID, req.Load.ID)
			} else {
				res.Factor, res.Found = nf.factor()
			}
		}
		return nil
	})
	return res, err
}

// decidedPostgres reads the decision column of Hit's statements on
// PostgreSQL, as {p}hit_new returns it: 0 admitted, -1 locked, a positive
// number the instant (µs) until which a delay refuses, any other negative
// number refused with no such instant. It returns admitted, locked and
// that instant (0 when none).
func decidedPostgres(r int64) (admitted, locked bool, retry int64) {
	switch {
	case r == 0:
		return true, false, 0
	case r == -1:
		return false, true, 0
	case r > 0:
		return false, false, r
	}
	return false, false, 0
}

// hitFreshStatement returns the text of Hit's statement on PostgreSQL for
// n fresh counters (1 to maxFresh), built once per n. It is plain SQL
// for the usual case, in which every counter is missing (a success
// deleted them), because a routine call costs the server more than the
// insert itself:
//
//   - It inserts the n counters, each with its state after one failure,
//     only if none of the keys exists, and then admits: a missing
//     counter has the zero state, which blocks nothing.
//   - If one exists, it inserts nothing and calls {p}hit_new with no
//     keys, which is {p}hit: lock, decide, write.
//   - If one appears between the statement's look and its insert (an
//     attempt of the same user at the same moment), the insert, which has
//     no ON CONFLICT clause, fails on the duplicate key and the whole
//     statement writes nothing; Hit then runs {p}hit_new, which decides
//     every case.
//
// So the counts are all or nothing, as the contract requires, and Hit
// is one round trip but in that race.
//
// Arguments ($1, $2, ...): each counter's key, until and expiry (µs); the
// counters as JSON and now (ns) for {p}hit; the factor's user and ID. The
// keys are named twice in the text but sent once: every parameter costs
// both sides on every call.
// Result: as hitNewPostgres.
func (s *Store) hitFreshStatement(n int) string {
	if q := s.hitFresh[n].Load(); q != nil {
		return *q
	}
	p := func(i int) string { return "$" + strconv.Itoa(i) }
	var rows, keys strings.Builder
	for i := range n {
		k := 3*i + 1
		if i > 0 {
			rows.WriteString(", ")
			keys.WriteString(", ")
		}
		rows.WriteString("(" + p(k) + "::text, " + p(k+1) + "::bigint, " + p(k+2) + "::bigint)")
		keys.WriteString(p(k))
	}
	m := 3*n + 1 // the first argument after the counters'
	q := s.sql("WITH ins AS (INSERT INTO {p}counters (counter_key, failures, until_us, expires_us)" +
		" SELECT v.k, 1, v.u, v.e FROM (VALUES " + rows.String() + ") v(k, u, e)" +
		" WHERE NOT EXISTS (SELECT 1 FROM {p}counters WHERE counter_key IN (" + keys.String() + ")) RETURNING 1)" +
		" SELECT h.r, " + recordColsF +
		" FROM (SELECT CASE WHEN EXISTS (SELECT 1 FROM ins) THEN 0 ELSE {p}hit_new('{}', '{}', '{}', " + p(m) + ", " + p(m+1) + ") END AS r) h" +
		" LEFT JOIN {p}factors f ON h.r = 0 AND f.user_id = " + p(m+2) + " AND f.id = " + p(m+3))
	s.hitFresh[n].Store(&q)
	return q
}

// The two statements of Hit on PostgreSQL. Each returns one decision
// column (decidedPostgres) and the factor's columns but its user and ID,
// which the caller knows (nullRecord), NULL unless admitted and found.
var (
	hitNewPostgres = "SELECT h.r, " + recordColsF +
		" FROM (SELECT {p}hit_new(?, ?, ?, ?, ?) AS r) h LEFT JOIN {p}factors f ON h.r = 0 AND f.user_id = ? AND f.id = ?"
	hitPostgres = "SELECT CASE WHEN h.admitted THEN 0 WHEN h.locked THEN -1 WHEN h.retry_us > 0 THEN h.retry_us ELSE -2 END, " + recordColsF +
		" FROM {p}hit(?::jsonb, ?) h LEFT JOIN {p}factors f ON h.admitted AND f.user_id = ? AND f.id = ?"
)

// recordColsF is recordCols of the table aliased f.
var recordColsF = prefixed("f.", recordCols)

// nullRecord scans recordColsF of an outer join, NULL when no factor
// joined: kind is never NULL in a factor's row.
type nullRecord struct {
	kind, name, status, lookup            sql.NullString
	secret, data                          []byte
	counter, created, confirmed, lastUsed sql.NullInt64
}

func (n *nullRecord) dest() []any {
	return []any{&n.kind, &n.name, &n.status, &n.lookup, &n.secret, &n.data,
		&n.counter, &n.created, &n.confirmed, &n.lastUsed}
}

// factor is the record as the factor of userID and id, and whether one
// joined.
func (n *nullRecord) factor(userID, id string) (store.Factor, bool) {
	if !n.kind.Valid {
		return store.Factor{}, false
	}
	return store.Factor{
		UserID: userID, ID: id, Kind: n.kind.String, Name: n.name.String,
		Status: store.Status(n.status.String), Lookup: n.lookup.String, Secret: n.secret, Data: n.data,
		Counter: n.counter.Int64, Created: fromMicros(n.created.Int64),
		Confirmed: fromMicros(n.confirmed.Int64), LastUsed: fromMicros(n.lastUsed.Int64),
	}, true
}

// maxFresh is the most counters {p}hit_new and {p}advance_keys take.
const maxFresh = 3

// freshCounter is a counter's key and its state after one failure from
// the zero state.
type freshCounter struct {
	key string
	st  store.CounterState
}

// freshStates returns the counters of req sorted by key, each with
// [store.Rule.Apply] of the zero state (what a missing counter becomes),
// when there are 1 to maxFresh of them and no key is named twice. ks are
// the counters' canonical keys.
func freshStates(req store.HitRequest, ks []string) ([]freshCounter, bool) {
	if len(req.Counters) == 0 || len(req.Counters) > maxFresh {
		return nil, false
	}
	out := make([]freshCounter, len(req.Counters))
	for i, c := range req.Counters {
		out[i] = freshCounter{ks[i], c.Rule.Apply(store.CounterState{}, req.Now)}
	}
	sortBy(out, func(f freshCounter) string { return f.key })
	for i := 1; i < len(out); i++ {
		if out[i].key == out[i-1].key {
			return nil, false
		}
	}
	return out, true
}
