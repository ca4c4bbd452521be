package store

import "errors"

// Sentinel errors a backend wraps. They are matched with errors.Is.
var (
	// ErrNotFound: the record does not exist or has expired.
	ErrNotFound = errors.New("mfa: store: not found")
	// ErrExists: an insert found its key (or a unique lookup key) taken.
	ErrExists = errors.New("mfa: store: already exists")
	// ErrConflict: a compare-and-set found a value other than the one expected.
	ErrConflict = errors.New("mfa: store: conflict")
	// ErrReused: a refresh token that was already rotated was presented again;
	// the session has been revoked as part of the same operation.
	ErrReused = errors.New("mfa: store: refresh token reused")
	// ErrInvalid: an argument the backend cannot use, such as a scan
	// cursor it did not make (see [Resealable]).
	ErrInvalid = errors.New("mfa: store: invalid argument")
)
