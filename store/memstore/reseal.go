package memstore

import (
	"bytes"
	"cmp"
	"context"
	"slices"

	"github.com/mfakit/mfa/store"
)

var _ store.Resealable = (*Store)(nil)

// ScanFactors implements [store.Resealable], in (UserID, ID) order.
func (s *Store) ScanFactors(ctx context.Context, cursor string, limit int) ([]store.Factor, string, error) {
	if err := ctx.Err(); err != nil {
		return nil, "", err
	}
	after, err := store.ParseRefCursor(cursor)
	if err != nil {
		return nil, "", err
	}
	limit = max(limit, 1)
	s.mu.Lock()
	defer s.mu.Unlock()
	var refs []store.FactorRef
	for uid, fs := range s.factors {
		for id := range fs {
			r := store.FactorRef{UserID: uid, ID: id}
			if cursor == "" || cmpRef(r, after) > 0 {
				refs = append(refs, r)
			}
		}
	}
	slices.SortFunc(refs, cmpRef)
	next := ""
	if len(refs) > limit {
		refs = refs[:limit]
		next = store.RefCursor(refs[limit-1])
	}
	page := make([]store.Factor, len(refs))
	for i, r := range refs {
		page[i] = cloneFactor(s.factor(r.UserID, r.ID))
	}
	return page, next, nil
}

func cmpRef(a, b store.FactorRef) int {
	return cmp.Or(cmp.Compare(a.UserID, b.UserID), cmp.Compare(a.ID, b.ID))
}

// SwapSecret implements [store.Resealable].
func (s *Store) SwapSecret(ctx context.Context, ref store.FactorRef, old, new []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.factor(ref.UserID, ref.ID)
	switch {
	case f == nil:
		return store.ErrNotFound
	case !bytes.Equal(f.Secret, old):
		return store.ErrConflict
	}
	f.Secret = bytes.Clone(new)
	return nil
}
