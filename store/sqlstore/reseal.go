package sqlstore

import (
	"context"
	"fmt"

	"github.com/mfakit/mfa/store"
)

var _ store.Resealable = (*Store)(nil)

// ScanFactors implements [store.Resealable]: one indexed range read on the
// primary key, in (user_id, id) order.
func (s *Store) ScanFactors(ctx context.Context, cursor string, limit int) ([]store.Factor, string, error) {
	after, err := store.ParseRefCursor(cursor)
	if err != nil {
		return nil, "", fmt.Errorf("mfa: sqlstore: scan factors: %w", err)
	}
	limit = min(max(limit, 1), 10000)
	rows, err := s.db.QueryContext(ctx, s.sql("SELECT "+factorCols+" FROM {p}factors WHERE user_id > ? OR (user_id = ? AND id > ?) ORDER BY user_id, id LIMIT ?"),
		after.UserID, after.UserID, after.ID, limit+1)
	if err != nil {
		return nil, "", wrapErr("scan factors", err)
	}
	defer rows.Close()
	var page []store.Factor
	for rows.Next() {
		f, err := scanFactor(rows)
		if err != nil {
			return nil, "", wrapErr("scan factors", err)
		}
		page = append(page, f)
	}
	if err := rows.Err(); err != nil {
		return nil, "", wrapErr("scan factors", err)
	}
	next := ""
	if len(page) > limit {
		page = page[:limit]
		last := page[limit-1]
		next = store.RefCursor(store.FactorRef{UserID: last.UserID, ID: last.ID})
	}
	return page, next, nil
}

// SwapSecret implements [store.Resealable]: one compare-and-set statement.
func (s *Store) SwapSecret(ctx context.Context, ref store.FactorRef, old, new []byte) error {
	res, err := s.exec(ctx, "UPDATE {p}factors SET secret = ? WHERE user_id = ? AND id = ? AND secret = ?",
		new, ref.UserID, ref.ID, old)
	if err != nil {
		return wrapErr("swap secret", err)
	}
	if n, err := res.RowsAffected(); err != nil || n > 0 {
		return wrapErr("swap secret", err)
	}
	// Nothing matched: the factor is gone (ErrNotFound) or its secret is
	// another (ErrConflict). MySQL reports 0 for an update that changes
	// nothing too, but new never equals old for a fresh seal.
	if err := s.factorExists(ctx, s.db, ref.UserID, ref.ID, "swap secret"); err != nil {
		return err
	}
	return fmt.Errorf("mfa: sqlstore: swap secret: %w", store.ErrConflict)
}
