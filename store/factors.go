package store

import (
	"context"
	"time"
)

// Status is the life-cycle state of a factor.
type Status string

const (
	// StatusPending: enrolment begun, not yet confirmed with a first proof.
	// A pending factor cannot be used to sign in.
	StatusPending Status = "pending"
	// StatusActive: confirmed and usable.
	StatusActive Status = "active"
)

// Factor is one enrolled authenticator of one user.
type Factor struct {
	UserID string
	ID     string // unique per user
	Kind   string // e.g. "totp", "backup_codes", "webauthn"
	Name   string // chosen by the user, shown in lists
	Status Status

	// Lookup is an optional key unique across all users for one Kind (for
	// example a WebAuthn credential ID). Empty means none.
	Lookup string

	// Secret is sealed by the caller (an AEAD ciphertext); nil when the kind
	// keeps no secret. A backend stores it as opaque bytes.
	Secret []byte
	// Data is the kind's non-secret state (public keys, code hashes).
	Data []byte
	// Counter is the kind's monotonic single-use state: the last accepted
	// TOTP step, the used-code bitmap of a backup code set, a WebAuthn sign
	// count. It changes only through [Factors.Advance].
	Counter int64

	Created   time.Time
	Confirmed time.Time // zero while pending
	LastUsed  time.Time // set by Advance
}

// FactorRef names one factor of one user.
type FactorRef struct {
	UserID string
	ID     string
}

// Factors keeps enrolled factors.
type Factors interface {
	// CreateFactor inserts f. It wraps ErrExists when the user already has a
	// factor with f.ID, or when f.Lookup is non-empty and taken by any
	// factor of the same Kind.
	CreateFactor(ctx context.Context, f Factor) error
	// GetFactor returns one factor or an error wrapping ErrNotFound.
	GetFactor(ctx context.Context, userID, id string) (Factor, error)
	// FindFactor returns the factor of the given kind whose Lookup equals
	// lookup, or an error wrapping ErrNotFound.
	FindFactor(ctx context.Context, kind, lookup string) (Factor, error)
	// ListFactors returns all factors of a user, pending ones included,
	// ordered by Created then ID. No factors is an empty slice, not an error.
	ListFactors(ctx context.Context, userID string) ([]Factor, error)
	// UpdateFactor replaces Name, Status, Secret, Data and Confirmed of an
	// existing factor. It never changes Counter, Kind, Lookup or Created. It
	// wraps ErrNotFound when the factor does not exist.
	UpdateFactor(ctx context.Context, f Factor) error
	// DeleteFactor removes a factor, whatever its Status; ErrNotFound when
	// there is none.
	DeleteFactor(ctx context.Context, userID, id string) error
	// DeletePendingFactor removes a factor only while its Status is
	// StatusPending, checking and deleting in one atomic operation. It
	// wraps ErrNotFound when there is no such factor and ErrConflict when
	// the factor exists but is not pending; nothing is deleted then. Of
	// it and a concurrent UpdateFactor that activates the factor, exactly
	// one succeeds: the delete (the update then wraps ErrNotFound) or the
	// activation (the delete then wraps ErrConflict).
	DeletePendingFactor(ctx context.Context, userID, id string) error
	// Advance atomically sets the factor's Counter to req.To if and only if
	// it currently equals req.From, and then, in the same operation, sets
	// LastUsed to req.Now, replaces Data when req.Data is non-nil, resets
	// the counters named in req.Reset and forgives those in req.Forgive
	// (a sharded backend may do these last two just after the
	// compare-and-set rather than in it). When Counter is not req.From
	// nothing changes and the error wraps ErrConflict. Of N concurrent
	// calls with the same From, exactly one succeeds.
	Advance(ctx context.Context, req Advance) error
}

// Advance is the argument of [Factors.Advance]: the commit of a successful
// verification.
type Advance struct {
	UserID   string
	FactorID string
	From, To int64
	Data     []byte // nil keeps the stored Data
	Now      time.Time
	Reset    []CounterKey // failure counters cleared by the success
	// Forgive takes back this attempt's up-front count from counters that
	// must count failures only, such as a client IP's, whose other
	// failures a success must not clear: each one moves to
	// Rule.Forgive(state, Now).
	Forgive []Counter
}
