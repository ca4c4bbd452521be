package memstore

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/mfakit/mfa/store"
)

func cloneCase(c store.RecoveryCase) store.RecoveryCase {
	c.Token, c.Data = clone(c.Token), clone(c.Data)
	return c
}

// CreateCase implements [store.Recovery].
func (s *Store) CreateCase(ctx context.Context, c store.RecoveryCase) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, taken := s.cases[c.ID]; taken {
		return fmt.Errorf("mfa: memstore: create case: %w", store.ErrExists)
	}
	s.cases[c.ID] = cloneCase(c)
	return nil
}

// GetCase implements [store.Recovery].
func (s *Store) GetCase(ctx context.Context, id string) (store.RecoveryCase, error) {
	if err := ctx.Err(); err != nil {
		return store.RecoveryCase{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.cases[id]
	if !ok {
		return store.RecoveryCase{}, fmt.Errorf("mfa: memstore: get case: %w", store.ErrNotFound)
	}
	return cloneCase(c), nil
}

// ListCases implements [store.Recovery]. It scans every case: recovery
// cases are few.
func (s *Store) ListCases(ctx context.Context, userID string) ([]store.RecoveryCase, error) {
	return s.listCases(ctx, -1, func(c store.RecoveryCase) bool { return c.UserID == userID })
}

// ListOpenCases implements [store.Recovery].
func (s *Store) ListOpenCases(ctx context.Context, limit int) ([]store.RecoveryCase, error) {
	if limit < 1 {
		return []store.RecoveryCase{}, ctx.Err()
	}
	return s.listCases(ctx, limit, func(c store.RecoveryCase) bool { return c.State.Open() })
}

func (s *Store) listCases(ctx context.Context, limit int, keep func(store.RecoveryCase) bool) ([]store.RecoveryCase, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []store.RecoveryCase{}
	for _, c := range s.cases {
		if keep(c) {
			out = append(out, cloneCase(c))
		}
	}
	slices.SortFunc(out, func(a, b store.RecoveryCase) int {
		if c := a.Created.Compare(b.Created); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	if limit >= 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// MoveCase implements [store.Recovery].
func (s *Store) MoveCase(ctx context.Context, m store.CaseMove) (store.RecoveryCase, error) {
	if err := ctx.Err(); err != nil {
		return store.RecoveryCase{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.cases[m.ID]
	if !ok {
		return store.RecoveryCase{}, fmt.Errorf("mfa: memstore: move case: %w", store.ErrNotFound)
	}
	if c.State != m.From {
		return store.RecoveryCase{}, fmt.Errorf("mfa: memstore: move case: %w", store.ErrConflict)
	}
	c.State, c.Updated = m.To, m.Now
	if !m.NotBefore.IsZero() {
		c.NotBefore = m.NotBefore
	}
	if !m.Expires.IsZero() {
		c.Expires = m.Expires
	}
	if m.Data != nil {
		c.Data = clone(m.Data)
	}
	s.cases[m.ID] = c
	return cloneCase(c), nil
}
