package sqlstore

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"

	"github.com/mfakit/mfa/store"
)

const sessionCols = "id, user_id, refresh, data, created_us, last_used_us, idle_expires_us, expires_us, revoked"

func scanSession(sc scanner) (store.Session, error) {
	var (
		x                                  store.Session
		created, lastUsed, idle, expiresAt int64
	)
	if err := sc.Scan(&x.ID, &x.UserID, &x.Refresh, &x.Data, &created, &lastUsed, &idle, &expiresAt, &x.Revoked); err != nil {
		return store.Session{}, err
	}
	x.Created, x.LastUsed = fromMicros(created), fromMicros(lastUsed)
	x.IdleExpires, x.Expires = fromMicros(idle), fromMicros(expiresAt)
	return x, nil
}

// CreateSession implements [store.Sessions].
func (s *Store) CreateSession(ctx context.Context, x store.Session) error {
	if err := checkSizes(
		field{"session ID", len(x.ID), maxID}, field{"user ID", len(x.UserID), maxID},
		field{"refresh hash", len(x.Refresh), maxHash},
	); err != nil {
		return err
	}
	_, err := s.exec(ctx, "INSERT INTO {p}sessions ("+sessionCols+") VALUES (?,?,?,?,?,?,?,?,?)",
		x.ID, x.UserID, x.Refresh, x.Data, micros(x.Created), micros(x.LastUsed),
		micros(x.IdleExpires), micros(x.Expires), x.Revoked)
	if s.duplicate(err) {
		return fmt.Errorf("mfa: sqlstore: create session: %w", store.ErrExists)
	}
	return wrapErr("create session", err)
}

// GetSession implements [store.Sessions].
func (s *Store) GetSession(ctx context.Context, id string) (store.Session, error) {
	x, err := scanSession(s.db.QueryRowContext(ctx, s.sql("SELECT "+sessionCols+" FROM {p}sessions WHERE id = ?"), id))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Session{}, fmt.Errorf("mfa: sqlstore: session: %w", store.ErrNotFound)
	}
	return x, wrapErr("get session", err)
}

// RotateRefresh implements [store.Sessions] in one transaction that holds
// the session's row lock (the write lock on SQLite). The presented hash is
// compared with the current one in constant time; hashes rotated away are
// kept in their own table until the session is revoked or swept, and
// presenting one revokes the session and forgets them, committed before
// ErrReused is returned.
func (s *Store) RotateRefresh(ctx context.Context, req store.Rotate) (store.Session, error) {
	if err := checkSizes(field{"refresh hash", len(req.New), maxHash}); err != nil {
		return store.Session{}, err
	}
	if s.d != SQLite {
		return s.rotateRoutine(ctx, req)
	}
	var (
		out    store.Session
		result error // ErrNotFound or ErrReused, decided in the transaction
	)
	err := s.tx(ctx, func(q querier) error {
		result = nil
		x, err := scanSession(q.QueryRowContext(ctx, s.sql("SELECT "+sessionCols+" FROM {p}sessions WHERE id = ?{lock}"), req.SessionID))
		if errors.Is(err, sql.ErrNoRows) {
			result = store.ErrNotFound
			return errRollback
		}
		if err != nil {
			return err
		}
		if x.Revoked || !req.Now.Before(x.IdleExpires) || !req.Now.Before(x.Expires) {
			result = store.ErrNotFound
			return errRollback
		}
		if subtle.ConstantTimeCompare(req.Old, x.Refresh) == 1 {
			if _, err := q.ExecContext(ctx, s.sql(s.insertRetired()), x.ID, x.Refresh); err != nil {
				return err
			}
			set, args := "refresh = ?, last_used_us = ?, idle_expires_us = ?", []any{req.New, micros(req.Now), micros(req.IdleExpires)}
			if req.Data != nil {
				set, args = set+", data = ?", append(args, req.Data)
				x.Data = req.Data
			}
			if _, err := q.ExecContext(ctx, s.sql("UPDATE {p}sessions SET "+set+" WHERE id = ?"), append(args, x.ID)...); err != nil {
				return err
			}
			x.Refresh, x.LastUsed, x.IdleExpires = req.New, req.Now, req.IdleExpires
			out = x
			return nil
		}
		// The hashes are keyed, so looking one up by value leaks nothing an
		// attacker could steer.
		var one int
		err = q.QueryRowContext(ctx, s.sql("SELECT 1 FROM {p}retired_refresh WHERE session_id = ? AND token_hash = ?"), x.ID, req.Old).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			result = store.ErrNotFound
			return errRollback
		}
		if err != nil {
			return err
		}
		result = store.ErrReused
		return s.revoke(ctx, q, x.ID)
	})
	if err != nil {
		return store.Session{}, wrapErr("rotate refresh", err)
	}
	if result != nil {
		return store.Session{}, fmt.Errorf("mfa: sqlstore: rotate refresh: %w", result)
	}
	out.Refresh = append([]byte(nil), out.Refresh...)
	out.Data = append([]byte(nil), out.Data...)
	return out, nil
}

// insertRetired records a rotated-away hash; retiring the same hash twice
// is not an error.
func (s *Store) insertRetired() string {
	if s.d == MySQL {
		return "INSERT INTO {p}retired_refresh (session_id, token_hash) VALUES (?, ?) ON DUPLICATE KEY UPDATE session_id = session_id"
	}
	return "INSERT INTO {p}retired_refresh (session_id, token_hash) VALUES (?, ?) ON CONFLICT DO NOTHING"
}

// revoke marks a session revoked and forgets its retired hashes: a revoked
// session never rotates again, so they can no longer matter.
func (s *Store) revoke(ctx context.Context, q querier, id string) error {
	if _, err := q.ExecContext(ctx, s.sql("UPDATE {p}sessions SET revoked = ? WHERE id = ?"), true, id); err != nil {
		return err
	}
	_, err := q.ExecContext(ctx, s.sql("DELETE FROM {p}retired_refresh WHERE session_id = ?"), id)
	return err
}

// RevokeSession implements [store.Sessions]. Revoking a revoked session is
// not an error.
func (s *Store) RevokeSession(ctx context.Context, id string) error {
	err := s.tx(ctx, func(q querier) error {
		var one int
		err := q.QueryRowContext(ctx, s.sql("SELECT 1 FROM {p}sessions WHERE id = ?{lock}"), id).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("mfa: sqlstore: revoke session: %w", store.ErrNotFound)
		}
		if err != nil {
			return err
		}
		return s.revoke(ctx, q, id)
	})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return wrapErr("revoke session", err)
	}
	return err
}

// RevokeUserSessions implements [store.Sessions]. Live means not revoked
// before this call; the method has no clock to tell expiry.
func (s *Store) RevokeUserSessions(ctx context.Context, userID string) (int, error) {
	var n int64
	err := s.tx(ctx, func(q querier) error {
		res, err := q.ExecContext(ctx, s.sql("UPDATE {p}sessions SET revoked = ? WHERE user_id = ? AND revoked = ?"), true, userID, false)
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil {
			return err
		}
		_, err = q.ExecContext(ctx, s.sql("DELETE FROM {p}retired_refresh WHERE session_id IN (SELECT id FROM {p}sessions WHERE user_id = ?)"), userID)
		return err
	})
	if err != nil {
		return 0, wrapErr("revoke user sessions", err)
	}
	return int(n), nil
}

// ListSessions implements [store.Sessions].
func (s *Store) ListSessions(ctx context.Context, userID string) ([]store.Session, error) {
	rows, err := s.db.QueryContext(ctx, s.sql("SELECT "+sessionCols+" FROM {p}sessions WHERE user_id = ? AND revoked = ? ORDER BY created_us, id"), userID, false)
	if err != nil {
		return nil, wrapErr("list sessions", err)
	}
	defer rows.Close()
	list := []store.Session{}
	for rows.Next() {
		x, err := scanSession(rows)
		if err != nil {
			return nil, wrapErr("list sessions", err)
		}
		list = append(list, x)
	}
	if err := rows.Err(); err != nil {
		return nil, wrapErr("list sessions", err)
	}
	return list, nil
}

// rotateRoutine is RotateRefresh on PostgreSQL and MySQL: one call of the
// {p}rotate routine (migration 3), which locks the session row and does
// in one transaction what the SQLite path does, comparing hashes by value
// (they are keyed hashes, so timing tells an attacker nothing).
func (s *Store) rotateRoutine(ctx context.Context, req store.Rotate) (store.Session, error) {
	var (
		query string
		args  []any
	)
	if s.d == Postgres {
		query = s.sql("SELECT outcome, " + sessionCols + " FROM {p}rotate(?, ?, ?, ?, ?, ?, ?, ?)")
		args = []any{req.SessionID, req.Old, req.New, req.Data != nil, req.Data, micros(req.Now), micros(req.IdleExpires), nanos(req.Now)}
	} else {
		var err error
		query, err = mysqlCall(s.prefix+"rotate", req.SessionID, req.Old, req.New, req.Data != nil, req.Data,
			micros(req.Now), micros(req.IdleExpires), nanos(req.Now))
		if err != nil {
			return store.Session{}, err
		}
	}
	var (
		outcome int
		x       store.Session
	)
	err := s.retry(ctx, func() error {
		var (
			id, userID                         sql.NullString
			created, lastUsed, idle, expiresAt int64
		)
		x = store.Session{}
		err := s.queryOne(ctx, query, args, &outcome, &id, &userID, &x.Refresh, &x.Data, &created, &lastUsed, &idle, &expiresAt, &x.Revoked)
		x.ID, x.UserID = id.String, userID.String
		x.Created, x.LastUsed = fromMicros(created), fromMicros(lastUsed)
		x.IdleExpires, x.Expires = fromMicros(idle), fromMicros(expiresAt)
		return err
	})
	switch {
	case err != nil:
		return store.Session{}, wrapErr("rotate refresh", err)
	case outcome == 2:
		return store.Session{}, fmt.Errorf("mfa: sqlstore: rotate refresh: %w", store.ErrReused)
	case outcome != 1:
		return store.Session{}, fmt.Errorf("mfa: sqlstore: rotate refresh: %w", store.ErrNotFound)
	}
	return x, nil
}
