package memstore

import (
	"context"
	"time"

	"github.com/mfakit/mfa/store"
)

// PutChallenge implements [store.Challenges]. An expired challenge that has
// not been taken or swept still holds its ID.
func (s *Store) PutChallenge(ctx context.Context, c store.Challenge) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, taken := s.challenges[c.ID]; taken {
		return store.ErrExists
	}
	c.Data = clone(c.Data)
	s.challenges[c.ID] = c
	return nil
}

// TakeChallenge implements [store.Challenges].
func (s *Store) TakeChallenge(ctx context.Context, id string, now time.Time) (store.Challenge, error) {
	if err := ctx.Err(); err != nil {
		return store.Challenge{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.challenges[id]
	if !ok {
		return store.Challenge{}, store.ErrNotFound
	}
	delete(s.challenges, id)
	if !c.Expires.After(now) {
		return store.Challenge{}, store.ErrNotFound
	}
	return c, nil // the stored Data is handed over, no longer referenced here
}
