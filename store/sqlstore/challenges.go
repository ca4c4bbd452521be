package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/mfakit/mfa/store"
)

const challengeCols = "id, user_id, factor_id, kind, binding, data, created_us, expires_us"

func scanChallenge(sc scanner) (store.Challenge, error) {
	var (
		c                store.Challenge
		created, expires int64
	)
	if err := sc.Scan(&c.ID, &c.UserID, &c.FactorID, &c.Kind, &c.Binding, &c.Data, &created, &expires); err != nil {
		return store.Challenge{}, err
	}
	c.Created, c.Expires = fromMicros(created), fromMicros(expires)
	return c, nil
}

// PutChallenge implements [store.Challenges]. An expired challenge that has
// not been taken or swept still holds its ID.
func (s *Store) PutChallenge(ctx context.Context, c store.Challenge) error {
	if err := checkSizes(
		field{"challenge ID", len(c.ID), maxID}, field{"user ID", len(c.UserID), maxID},
		field{"factor ID", len(c.FactorID), maxID}, field{"kind", len(c.Kind), maxKind},
		field{"binding", len(c.Binding), maxText},
	); err != nil {
		return err
	}
	_, err := s.exec(ctx, "INSERT INTO {p}challenges ("+challengeCols+") VALUES (?,?,?,?,?,?,?,?)",
		c.ID, c.UserID, c.FactorID, c.Kind, c.Binding, c.Data, micros(c.Created), micros(c.Expires))
	if s.duplicate(err) {
		return fmt.Errorf("mfa: sqlstore: put challenge: %w", store.ErrExists)
	}
	return wrapErr("put challenge", err)
}

// TakeChallenge implements [store.Challenges]. On PostgreSQL and SQLite it
// is one DELETE ... RETURNING; MySQL, which has no RETURNING, reads the row
// under its lock and deletes it in one transaction. Either way exactly one
// of concurrent takers gets the row.
func (s *Store) TakeChallenge(ctx context.Context, id string, now time.Time) (store.Challenge, error) {
	var (
		c     store.Challenge
		found bool
	)
	var err error
	if s.d == MySQL {
		err = s.tx(ctx, func(q querier) error {
			var err error
			c, err = scanChallenge(q.QueryRowContext(ctx, s.sql("SELECT "+challengeCols+" FROM {p}challenges WHERE id = ? FOR UPDATE"), id))
			if found = err == nil; !found {
				if errors.Is(err, sql.ErrNoRows) {
					return errRollback
				}
				return err
			}
			_, err = q.ExecContext(ctx, s.sql("DELETE FROM {p}challenges WHERE id = ?"), id)
			return err
		})
	} else {
		err = s.retry(ctx, func() error {
			var err error
			c, err = scanChallenge(s.db.QueryRowContext(ctx, s.sql("DELETE FROM {p}challenges WHERE id = ? RETURNING "+challengeCols), id))
			found = err == nil
			if errors.Is(err, sql.ErrNoRows) {
				return nil
			}
			return err
		})
	}
	if err != nil {
		return store.Challenge{}, wrapErr("take challenge", err)
	}
	if !found || !c.Expires.After(now) {
		return store.Challenge{}, fmt.Errorf("mfa: sqlstore: take challenge: %w", store.ErrNotFound)
	}
	return c, nil
}
