package store

import (
	"context"
	"time"
)

// Session is one signed-in session: a refresh-token family.
type Session struct {
	ID     string
	UserID string
	// Refresh is the keyed hash of the current refresh token.
	Refresh []byte
	// Data is the caller's claims (assurance level, amr, auth_time) as
	// opaque bytes.
	Data     []byte
	Created  time.Time
	LastUsed time.Time
	// IdleExpires and Expires bound the session; the caller moves
	// IdleExpires on every refresh.
	IdleExpires time.Time
	Expires     time.Time
	Revoked     bool
}

// Rotate is the argument of [Sessions.RotateRefresh].
type Rotate struct {
	SessionID   string
	Old, New    []byte // keyed hashes of the presented and the next token
	Data        []byte // nil keeps the stored Data (a step-up replaces it)
	Now         time.Time
	IdleExpires time.Time
}

// Sessions keeps refresh-token families.
type Sessions interface {
	// CreateSession stores s; ErrExists if its ID is taken.
	CreateSession(ctx context.Context, s Session) error
	// GetSession returns a session, revoked or not, until it is deleted; an
	// unknown one wraps ErrNotFound.
	GetSession(ctx context.Context, id string) (Session, error)
	// RotateRefresh atomically replaces the session's current refresh hash.
	// When the session is unknown, revoked, or past IdleExpires or Expires
	// at req.Now: ErrNotFound. When req.Old is the current hash: it becomes
	// retired, req.New becomes current, LastUsed, IdleExpires (and Data if
	// non-nil) are updated and the updated session is returned. When
	// req.Old is a hash this session retired earlier: the session is revoked
	// in the same operation and the error wraps ErrReused. Any other hash:
	// ErrNotFound, nothing changes. Of N concurrent rotations presenting the
	// same current hash, exactly one succeeds.
	RotateRefresh(ctx context.Context, req Rotate) (Session, error)
	// RevokeSession marks one session revoked; ErrNotFound if unknown.
	RevokeSession(ctx context.Context, id string) error
	// RevokeUserSessions marks every session of a user revoked and returns
	// how many were live.
	RevokeUserSessions(ctx context.Context, userID string) (int, error)
	// ListSessions returns a user's sessions that are not revoked, ordered
	// by Created then ID.
	ListSessions(ctx context.Context, userID string) ([]Session, error)
}
