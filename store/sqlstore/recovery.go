package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/mfakit/mfa/store"
)

const caseCols = "id, user_id, state, token, data, created_us, updated_us, not_before_us, expires_us"

func scanCase(sc scanner) (store.RecoveryCase, error) {
	var (
		c                                    store.RecoveryCase
		state                                string
		created, updated, notBefore, expires int64
	)
	if err := sc.Scan(&c.ID, &c.UserID, &state, &c.Token, &c.Data, &created, &updated, &notBefore, &expires); err != nil {
		return store.RecoveryCase{}, err
	}
	c.State = store.CaseState(state)
	c.Created, c.Updated = fromMicros(created), fromMicros(updated)
	c.NotBefore, c.Expires = fromMicros(notBefore), fromMicros(expires)
	return c, nil
}

// CreateCase implements [store.Recovery].
func (s *Store) CreateCase(ctx context.Context, c store.RecoveryCase) error {
	if err := checkSizes(
		field{"case ID", len(c.ID), maxID}, field{"user ID", len(c.UserID), maxID},
		field{"case state", len(c.State), maxStatus}, field{"case token hash", len(c.Token), maxHash},
	); err != nil {
		return err
	}
	_, err := s.exec(ctx, "INSERT INTO {p}recovery_cases ("+caseCols+") VALUES (?,?,?,?,?,?,?,?,?)",
		c.ID, c.UserID, string(c.State), c.Token, c.Data,
		micros(c.Created), micros(c.Updated), micros(c.NotBefore), micros(c.Expires))
	if s.duplicate(err) {
		return fmt.Errorf("mfa: sqlstore: create case: %w", store.ErrExists)
	}
	return wrapErr("create case", err)
}

// GetCase implements [store.Recovery].
func (s *Store) GetCase(ctx context.Context, id string) (store.RecoveryCase, error) {
	c, err := scanCase(s.db.QueryRowContext(ctx, s.sql("SELECT "+caseCols+" FROM {p}recovery_cases WHERE id = ?"), id))
	if errors.Is(err, sql.ErrNoRows) {
		return store.RecoveryCase{}, fmt.Errorf("mfa: sqlstore: case: %w", store.ErrNotFound)
	}
	return c, wrapErr("get case", err)
}

// ListCases implements [store.Recovery].
func (s *Store) ListCases(ctx context.Context, userID string) ([]store.RecoveryCase, error) {
	return s.listCases(ctx, "list cases", "SELECT "+caseCols+" FROM {p}recovery_cases WHERE user_id = ? ORDER BY created_us, id", userID)
}

// ListOpenCases implements [store.Recovery].
func (s *Store) ListOpenCases(ctx context.Context, limit int) ([]store.RecoveryCase, error) {
	if limit < 1 {
		return []store.RecoveryCase{}, nil
	}
	return s.listCases(ctx, "list open cases", "SELECT "+caseCols+" FROM {p}recovery_cases WHERE state IN (?, ?) ORDER BY created_us, id LIMIT ?",
		string(store.CasePending), string(store.CaseApproved), limit)
}

func (s *Store) listCases(ctx context.Context, op, q string, args ...any) ([]store.RecoveryCase, error) {
	rows, err := s.db.QueryContext(ctx, s.sql(q), args...)
	if err != nil {
		return nil, wrapErr(op, err)
	}
	defer rows.Close()
	list := []store.RecoveryCase{}
	for rows.Next() {
		c, err := scanCase(rows)
		if err != nil {
			return nil, wrapErr(op, err)
		}
		list = append(list, c)
	}
	return list, wrapErr(op, rows.Err())
}

// MoveCase implements [store.Recovery]: one transaction reads the case
// under its row lock (the write lock on SQLite), checks its state and
// writes the move, so of concurrent moves from one state exactly one
// finds it.
func (s *Store) MoveCase(ctx context.Context, m store.CaseMove) (store.RecoveryCase, error) {
	if err := checkSizes(field{"case state", len(m.To), maxStatus}); err != nil {
		return store.RecoveryCase{}, err
	}
	var (
		c   store.RecoveryCase
		res error // the decision, kept apart from database errors
	)
	err := s.tx(ctx, func(q querier) error {
		res = nil
		var err error
		c, err = scanCase(q.QueryRowContext(ctx, s.sql("SELECT "+caseCols+" FROM {p}recovery_cases WHERE id = ?{lock}"), m.ID))
		switch {
		case errors.Is(err, sql.ErrNoRows):
			res = store.ErrNotFound
			return errRollback
		case err != nil:
			return err
		case c.State != m.From:
			res = store.ErrConflict
			return errRollback
		}
		c.State, c.Updated = m.To, m.Now
		if !m.NotBefore.IsZero() {
			c.NotBefore = m.NotBefore
		}
		if !m.Expires.IsZero() {
			c.Expires = m.Expires
		}
		if m.Data != nil {
			c.Data = m.Data
		}
		_, err = q.ExecContext(ctx, s.sql("UPDATE {p}recovery_cases SET state = ?, updated_us = ?, not_before_us = ?, expires_us = ?, data = ? WHERE id = ?"),
			string(c.State), micros(c.Updated), micros(c.NotBefore), micros(c.Expires), c.Data, m.ID)
		return err
	})
	if err != nil {
		return store.RecoveryCase{}, wrapErr("move case", err)
	}
	if res != nil {
		return store.RecoveryCase{}, fmt.Errorf("mfa: sqlstore: move case: %w", res)
	}
	return c, nil
}
