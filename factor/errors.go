package factor

import (
	"errors"
	"fmt"
	"time"
)

// Sentinel errors a factor wraps. Package mfa exports the same values
// under the same names, so an application matches them with errors.Is
// against either package. Any other error from [Factor.Verify] is taken as
// a wrong response.
var (
	// ErrInvalidInput: a request field is empty, too long or malformed.
	ErrInvalidInput = errors.New("mfa: invalid input")
	// ErrMalformedResponse: the response cannot be a valid answer for the
	// kind (wrong length, not digits, not JSON). It counts as a failure.
	ErrMalformedResponse = errors.New("mfa: malformed response")
	// ErrWrongCode: a well-formed response that does not match.
	ErrWrongCode = errors.New("mfa: wrong code")
	// ErrReplayed: the response was valid once and has been used already.
	ErrReplayed = errors.New("mfa: code already used")
	// ErrExpired: the challenge or enrolment has expired or was taken.
	ErrExpired = errors.New("mfa: challenge expired or unknown")
	// ErrChallengeMismatch: the challenge belongs to another user, factor
	// or sign-in attempt.
	ErrChallengeMismatch = errors.New("mfa: challenge does not match")
	// ErrNotFound: no such factor (or no usable one) for this user.
	ErrNotFound = errors.New("mfa: factor not found")
	// ErrSealed: stored secret material cannot be read: a sealed secret
	// that does not open, or stored data that is malformed.
	ErrSealed = errors.New("mfa: sealed secret cannot be opened")
	// ErrStore: the store failed, or returned a record the factor cannot
	// use.
	ErrStore = errors.New("mfa: store failure")
	// ErrConfig: a Config is invalid.
	ErrConfig = errors.New("mfa: invalid config")
	// ErrRateLimited: too many recent attempts or sends; see
	// [RateLimitError] for when to retry.
	ErrRateLimited = errors.New("mfa: rate limited")
)

// RateLimitError is returned when attempts (or sends) are refused until a
// time. It wraps ErrRateLimited; a factor that caps what it sends returns
// one (wrapped in its own sentinel if it likes) and the Verifier passes it
// on.
type RateLimitError struct {
	RetryAfter time.Time // the earliest instant an attempt is admitted again
}

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("mfa: rate limited until %s", e.RetryAfter.UTC().Format(time.RFC3339))
}

func (e *RateLimitError) Unwrap() error { return ErrRateLimited }
