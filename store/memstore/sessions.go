package memstore

import (
	"cmp"
	"context"
	"crypto/subtle"
	"slices"
	"time"

	"github.com/mfakit/mfa/store"
)

// live reports whether a record with the given expiry (zero: never) is
// still valid at now. A record expires at its Expires instant.
func live(expires, now time.Time) bool {
	return expires.IsZero() || now.Before(expires)
}

func copySession(s *store.Session) store.Session {
	c := *s
	c.Refresh = clone(s.Refresh)
	c.Data = clone(s.Data)
	return c
}

// CreateSession implements [store.Sessions].
func (s *Store) CreateSession(ctx context.Context, sess store.Session) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, taken := s.sessions[sess.ID]; taken {
		return store.ErrExists
	}
	s.sessions[sess.ID] = &session{Session: copySession(&sess)}
	return nil
}

// GetSession implements [store.Sessions].
func (s *Store) GetSession(ctx context.Context, id string) (store.Session, error) {
	if err := ctx.Err(); err != nil {
		return store.Session{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.sessions[id]
	if !ok {
		return store.Session{}, store.ErrNotFound
	}
	return copySession(&sess.Session), nil
}

// RotateRefresh implements [store.Sessions]. A session past IdleExpires or
// Expires at req.Now (the instant itself included) is not found.
func (s *Store) RotateRefresh(ctx context.Context, req store.Rotate) (store.Session, error) {
	if err := ctx.Err(); err != nil {
		return store.Session{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.sessions[req.SessionID]
	if !ok || sess.Revoked || !req.Now.Before(sess.IdleExpires) || !req.Now.Before(sess.Expires) {
		return store.Session{}, store.ErrNotFound
	}
	if subtle.ConstantTimeCompare(req.Old, sess.Refresh) == 1 {
		sess.retired = append(sess.retired, sess.Refresh)
		sess.Refresh = clone(req.New)
		sess.LastUsed = req.Now
		sess.IdleExpires = req.IdleExpires
		if req.Data != nil {
			sess.Data = clone(req.Data)
		}
		return copySession(&sess.Session), nil
	}
	for _, old := range sess.retired {
		if subtle.ConstantTimeCompare(req.Old, old) == 1 {
			sess.Revoked = true
			sess.retired = nil // a revoked session never rotates again
			return store.Session{}, store.ErrReused
		}
	}
	return store.Session{}, store.ErrNotFound
}

// RevokeSession implements [store.Sessions]. Revoking a revoked session is
// not an error.
func (s *Store) RevokeSession(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.sessions[id]
	if !ok {
		return store.ErrNotFound
	}
	sess.Revoked = true
	sess.retired = nil
	return nil
}

// RevokeUserSessions implements [store.Sessions]. Live means not revoked
// before this call; the method has no clock to tell expiry.
func (s *Store) RevokeUserSessions(ctx context.Context, userID string) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, sess := range s.sessions {
		if sess.UserID == userID && !sess.Revoked {
			sess.Revoked = true
			sess.retired = nil
			n++
		}
	}
	return n, nil
}

// ListSessions implements [store.Sessions].
func (s *Store) ListSessions(ctx context.Context, userID string) ([]store.Session, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	list := []store.Session{}
	for _, sess := range s.sessions {
		if sess.UserID == userID && !sess.Revoked {
			list = append(list, copySession(&sess.Session))
		}
	}
	slices.SortFunc(list, func(a, b store.Session) int {
		return cmp.Or(a.Created.Compare(b.Created), cmp.Compare(a.ID, b.ID))
	})
	return list, nil
}
