package mfa

import (
	"errors"
	"fmt"
	"time"
)

// Sentinel errors. Every error the Verifier returns wraps one of these (and,
// where the cause was the store, sealer or a hook, that cause too), so
// callers branch with errors.Is and never by message.
var (
	// ErrInvalidInput: a request field is empty, too long or malformed
	// before anything was counted (an empty user ID, an oversized factor ID).
	ErrInvalidInput = errors.New("mfa: invalid input")
	// ErrMalformedResponse: the response cannot be a valid answer for the
	// kind (wrong length, not digits, padded, not JSON). It is counted as a
	// failed attempt.
	ErrMalformedResponse = errors.New("mfa: malformed response")
	// ErrWrongCode: a well-formed response that does not match.
	ErrWrongCode = errors.New("mfa: wrong code")
	// ErrReplayed: the response was valid once and has been used already
	// (a TOTP step at or below the last accepted one, a used backup code).
	ErrReplayed = errors.New("mfa: code already used")
	// ErrRateLimited: too many recent failures; see [RateLimitError] for
	// when to retry.
	ErrRateLimited = errors.New("mfa: rate limited")
	// ErrLocked: the consecutive-failure cap was reached; only an
	// operator's [Verifier.Unlock] admits attempts again.
	ErrLocked = errors.New("mfa: second factor locked")
	// ErrExpired: the challenge or enrolment has expired or was already
	// taken.
	ErrExpired = errors.New("mfa: challenge expired or unknown")
	// ErrChallengeMismatch: the challenge belongs to another user, factor or
	// sign-in attempt.
	ErrChallengeMismatch = errors.New("mfa: challenge does not match")
	// ErrNotFound: no such factor for this user.
	ErrNotFound = errors.New("mfa: factor not found")
	// ErrNotEnrolled: the factor exists but its enrolment was not confirmed
	// (or, for ConfirmEnrollment, is already confirmed).
	ErrNotEnrolled = errors.New("mfa: factor not enrolled")
	// ErrUnsupportedKind: no factor of this kind is configured.
	ErrUnsupportedKind = errors.New("mfa: unsupported factor kind")
	// ErrStepUpRequired: the change needs a second-factor verification more
	// recent than Config.FreshFor.
	ErrStepUpRequired = errors.New("mfa: fresh verification required")
	// ErrSealed: stored secret material cannot be read: a sealed secret
	// that does not open (corrupted, moved to another row, or no key can
	// open it), or a factor's stored data that is malformed.
	ErrSealed = errors.New("mfa: sealed secret cannot be opened")
	// ErrDenied: a hook denied the attempt, or failed.
	ErrDenied = errors.New("mfa: denied by hook")
	// ErrStore: the store failed; the attempt was denied.
	ErrStore = errors.New("mfa: store failure")
	// ErrConfig: Config is invalid.
	ErrConfig = errors.New("mfa: invalid config")
)

// RateLimitError is returned when attempts are refused by a delay. It wraps
// ErrRateLimited.
type RateLimitError struct {
	RetryAfter time.Time // the earliest instant an attempt is admitted again
}

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("mfa: rate limited until %s", e.RetryAfter.UTC().Format(time.RFC3339))
}

func (e *RateLimitError) Unwrap() error { return ErrRateLimited }

// wrap joins a sentinel and its cause so errors.Is matches both.
func wrap(sentinel, cause error) error {
	if cause == nil {
		return sentinel
	}
	return fmt.Errorf("%w: %w", sentinel, cause)
}
