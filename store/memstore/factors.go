package memstore

import (
	"cmp"
	"context"
	"slices"

	"github.com/mfakit/mfa/store"
)

func (s *Store) factor(userID, id string) *store.Factor {
	return s.factors[userID][id]
}

// CreateFactor implements [store.Factors].
func (s *Store) CreateFactor(ctx context.Context, f store.Factor) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.factor(f.UserID, f.ID) != nil {
		return store.ErrExists
	}
	lk := lookupKey{f.Kind, f.Lookup}
	if f.Lookup != "" {
		if _, taken := s.lookups[lk]; taken {
			return store.ErrExists
		}
		s.lookups[lk] = store.FactorRef{UserID: f.UserID, ID: f.ID}
	}
	c := cloneFactor(&f)
	user := s.factors[f.UserID]
	if user == nil {
		user = make(map[string]*store.Factor)
		s.factors[f.UserID] = user
	}
	user[f.ID] = &c
	return nil
}

// GetFactor implements [store.Factors].
func (s *Store) GetFactor(ctx context.Context, userID, id string) (store.Factor, error) {
	if err := ctx.Err(); err != nil {
		return store.Factor{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.factor(userID, id)
	if f == nil {
		return store.Factor{}, store.ErrNotFound
	}
	return cloneFactor(f), nil
}

// FindFactor implements [store.Factors]. An empty lookup finds nothing.
func (s *Store) FindFactor(ctx context.Context, kind, lookup string) (store.Factor, error) {
	if err := ctx.Err(); err != nil {
		return store.Factor{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ref, ok := s.lookups[lookupKey{kind, lookup}]
	if !ok || lookup == "" {
		return store.Factor{}, store.ErrNotFound
	}
	return cloneFactor(s.factor(ref.UserID, ref.ID)), nil
}

// ListFactors implements [store.Factors].
func (s *Store) ListFactors(ctx context.Context, userID string) ([]store.Factor, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	list := make([]store.Factor, 0, len(s.factors[userID]))
	for _, f := range s.factors[userID] {
		list = append(list, cloneFactor(f))
	}
	slices.SortFunc(list, func(a, b store.Factor) int {
		return cmp.Or(a.Created.Compare(b.Created), cmp.Compare(a.ID, b.ID))
	})
	return list, nil
}

// UpdateFactor implements [store.Factors].
func (s *Store) UpdateFactor(ctx context.Context, f store.Factor) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.factor(f.UserID, f.ID)
	if cur == nil {
		return store.ErrNotFound
	}
	cur.Name = f.Name
	cur.Status = f.Status
	cur.Secret = clone(f.Secret)
	cur.Data = clone(f.Data)
	cur.Confirmed = f.Confirmed
	return nil
}

// DeleteFactor implements [store.Factors].
func (s *Store) DeleteFactor(ctx context.Context, userID, id string) error {
	return s.deleteIf(ctx, userID, id, false)
}

// DeletePendingFactor implements [store.Factors].
func (s *Store) DeletePendingFactor(ctx context.Context, userID, id string) error {
	return s.deleteIf(ctx, userID, id, true)
}

// deleteIf deletes a factor, when pendingOnly only while it is pending.
func (s *Store) deleteIf(ctx context.Context, userID, id string, pendingOnly bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.factor(userID, id)
	if f == nil {
		return store.ErrNotFound
	}
	if pendingOnly && f.Status != store.StatusPending {
		return store.ErrConflict
	}
	s.deleteFactor(f)
	return nil
}

// deleteFactor removes f and its lookup key; s.mu is held.
func (s *Store) deleteFactor(f *store.Factor) {
	if f.Lookup != "" {
		delete(s.lookups, lookupKey{f.Kind, f.Lookup})
	}
	delete(s.factors[f.UserID], f.ID)
	if len(s.factors[f.UserID]) == 0 {
		delete(s.factors, f.UserID)
	}
}

// Advance implements [store.Factors].
func (s *Store) Advance(ctx context.Context, req store.Advance) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.factor(req.UserID, req.FactorID)
	if f == nil {
		return store.ErrNotFound
	}
	if f.Counter != req.From {
		return store.ErrConflict
	}
	f.Counter = req.To
	f.LastUsed = req.Now
	if req.Data != nil {
		// The stored Data is never shared with a caller, so its memory can
		// be reused; cap it so the copy cannot overwrite anything after it.
		f.Data = append(f.Data[:0:cap(f.Data)], req.Data...)
	}
	for _, k := range req.Reset {
		s.drop(k)
	}
	s.forgive(req.Now, req.Forgive)
	return nil
}
