package store

import (
	"context"
	"time"
)

// Challenge is a short-lived, single-use challenge issued to one user (or,
// for discoverable-credential sign-in, to no user yet).
type Challenge struct {
	ID       string // random, unique
	UserID   string // may be empty for a user-less challenge
	FactorID string // may be empty when the challenge is for a kind
	Kind     string
	// Binding ties the challenge to the sign-in attempt that asked for it,
	// e.g. the ID of an MFA-pending token.
	Binding string
	// Data is the kind's state: a keyed hash of an emailed code, WebAuthn
	// session data. Never a plaintext code.
	Data    []byte
	Created time.Time
	Expires time.Time
}

// Challenges keeps issued challenges until they are taken or expire.
type Challenges interface {
	// PutChallenge stores c; ErrExists if its ID is taken.
	PutChallenge(ctx context.Context, c Challenge) error
	// TakeChallenge atomically removes and returns the challenge. A missing
	// challenge, or one whose Expires is not after now, wraps ErrNotFound
	// (an expired one is removed too). Of N concurrent takes, exactly one
	// gets the challenge.
	TakeChallenge(ctx context.Context, id string, now time.Time) (Challenge, error)
}
