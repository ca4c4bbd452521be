package mongostore

import (
	"cmp"
	"context"
	"crypto/subtle"
	"slices"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/mfakit/mfa/store"
)

func sessionKey(id string) string { return tSession + id }

func toSession(r *rec) store.Session {
	return store.Session{ID: r.RID, UserID: r.U, Refresh: orNil(r.Refresh), Data: orNil(r.Data),
		Created: fromMicros(r.Created), LastUsed: fromMicros(r.LastUsed),
		IdleExpires: fromMicros(r.Idle), Expires: fromMicros(r.Expires), Revoked: r.Revoked}
}

// sessionDeath is when Sweep may remove a session: the earlier of its
// two limits.
func sessionDeath(r *rec) int64 {
	switch {
	case r.Idle == 0:
		return r.Expires
	case r.Expires == 0:
		return r.Idle
	}
	return min(r.Idle, r.Expires)
}

// CreateSession implements [store.Sessions].
func (s *Store) CreateSession(ctx context.Context, sess store.Session) error {
	const op = "create session"
	k := sessionKey(sess.ID)
	m, start, err := s.latest(ctx, k)
	if err != nil {
		return wrap(op, err)
	}
	if m[k] != nil {
		return sentinel(op, store.ErrExists)
	}
	n := s.first(k, tSession, 0)
	n.RID, n.U, n.Refresh, n.Data = sess.ID, sess.UserID, orNil(sess.Refresh), orNil(sess.Data)
	n.Created, n.LastUsed, n.Idle, n.Expires = micros(sess.Created), micros(sess.LastUsed), micros(sess.IdleExpires), micros(sess.Expires)
	n.Revoked = sess.Revoked
	n.X = sessionDeath(n)
	ok, err := s.put(ctx, start, n)
	if err != nil {
		return wrap(op, err)
	}
	if !ok {
		return sentinel(op, store.ErrExists)
	}
	return nil
}

// GetSession implements [store.Sessions].
func (s *Store) GetSession(ctx context.Context, id string) (store.Session, error) {
	k := sessionKey(id)
	m, _, err := s.latest(ctx, k)
	if err != nil {
		return store.Session{}, wrap("get session", err)
	}
	if m[k] == nil {
		return store.Session{}, sentinel("get session", store.ErrNotFound)
	}
	return toSession(m[k]), nil
}

// RotateRefresh implements [store.Sessions]. The rotation is the
// session's next version, holding the new hash and every retired one; of
// concurrent rotations that read the same version one inserts it, and
// every other reads again and finds its hash retired (a reuse, which
// revokes the session in a version of its own) or the session revoked.
func (s *Store) RotateRefresh(ctx context.Context, req store.Rotate) (store.Session, error) {
	const op = "rotate refresh"
	reused := false
	n, err := s.change(ctx, op, sessionKey(req.SessionID), func(cur *rec) (*rec, error) {
		reused = false
		if cur == nil || cur.Revoked || !req.Now.Before(fromMicros(cur.Idle)) || !req.Now.Before(fromMicros(cur.Expires)) {
			return nil, sentinel(op, store.ErrNotFound)
		}
		n := s.next(cur)
		if subtle.ConstantTimeCompare(req.Old, cur.Refresh) == 1 {
			n.Retired = append(slices.Clip(cur.Retired), cur.Refresh)
			n.Refresh, n.LastUsed, n.Idle = orNil(req.New), micros(req.Now), micros(req.IdleExpires)
			if req.Data != nil {
				n.Data = orNil(req.Data)
			}
			n.X = sessionDeath(n)
			return n, nil
		}
		for _, old := range cur.Retired {
			if subtle.ConstantTimeCompare(req.Old, old) == 1 {
				n.Revoked, n.Retired, reused = true, nil, true
				return n, nil
			}
		}
		return nil, sentinel(op, store.ErrNotFound)
	})
	if err != nil {
		return store.Session{}, err
	}
	if reused {
		return store.Session{}, sentinel(op, store.ErrReused)
	}
	return toSession(n), nil
}

// RevokeSession implements [store.Sessions]. Revoking a revoked session
// is not an error.
func (s *Store) RevokeSession(ctx context.Context, id string) error {
	_, err := s.revoke(ctx, sessionKey(id))
	return err
}

// revoke writes a revoked version of the session k; did reports whether
// this call revoked it.
func (s *Store) revoke(ctx context.Context, k string) (did bool, err error) {
	const op = "revoke session"
	_, err = s.change(ctx, op, k, func(cur *rec) (*rec, error) {
		did = false
		if cur == nil {
			return nil, sentinel(op, store.ErrNotFound)
		}
		if cur.Revoked {
			return nil, nil
		}
		n := s.next(cur)
		n.Revoked, n.Retired, did = true, nil, true
		return n, nil
	})
	return did, err
}

// RevokeUserSessions implements [store.Sessions].
func (s *Store) RevokeUserSessions(ctx context.Context, userID string) (int, error) {
	m, err := s.listLatest(ctx, bson.D{{Key: "y", Value: tSession}, {Key: "u", Value: userID}})
	if err != nil {
		return 0, wrap("revoke user sessions", err)
	}
	n := 0
	for k, r := range m {
		if r.Revoked {
			continue
		}
		did, err := s.revoke(ctx, k)
		if err != nil {
			return n, err
		}
		if did {
			n++
		}
	}
	return n, nil
}

// ListSessions implements [store.Sessions].
func (s *Store) ListSessions(ctx context.Context, userID string) ([]store.Session, error) {
	m, err := s.listLatest(ctx, bson.D{{Key: "y", Value: tSession}, {Key: "u", Value: userID}})
	if err != nil {
		return nil, wrap("list sessions", err)
	}
	list := []store.Session{}
	for _, r := range m {
		if !r.Revoked {
			list = append(list, toSession(r))
		}
	}
	slices.SortFunc(list, func(a, b store.Session) int {
		return cmp.Or(a.Created.Compare(b.Created), cmp.Compare(a.ID, b.ID))
	})
	return list, nil
}
