package mfa

import (
	"errors"
	"fmt"

	"github.com/mfakit/mfa/factor"
)

// Sentinel errors. Every error a Verifier method returns wraps one of these
// (and, where the cause was the store, the sealer, a factor or a hook, that
// cause too), so callers branch with errors.Is and never by message. The
// ones a factor may return are the same values as package factor's.
//
// What a client may be told: an application shows a signing-in client one
// neutral message for ErrWrongCode, ErrMalformedResponse, ErrReplayed,
// ErrExpired, ErrChallengeMismatch, ErrNotFound and ErrNotEnrolled (which
// of them happened says whether a user or factor exists); the retry time
// of a [RateLimitError] and ErrLocked may be shown. The others describe the
// server (a store, sealer or hook failure, a bad config) and are for logs.
var (
	// ErrInvalidInput: a request field is empty, too long or malformed
	// before anything was counted (an empty user ID, an oversized factor ID).
	ErrInvalidInput = factor.ErrInvalidInput
	// ErrMalformedResponse: the response cannot be a valid answer for the
	// kind (wrong length, not digits, padded, not JSON). It is counted as a
	// failed attempt.
	ErrMalformedResponse = factor.ErrMalformedResponse
	// ErrWrongCode: a well-formed response that does not match.
	ErrWrongCode = factor.ErrWrongCode
	// ErrReplayed: the response was valid once and has been used already
	// (a TOTP step at or below the last accepted one, a used backup code).
	ErrReplayed = factor.ErrReplayed
	// ErrRateLimited: too many recent failures; see [RateLimitError] for
	// when to retry.
	ErrRateLimited = factor.ErrRateLimited
	// ErrLocked: the consecutive-failure cap was reached; only an
	// operator's [Verifier.Unlock] admits attempts again.
	ErrLocked = errors.New("mfa: second factor locked")
	// ErrExpired: the challenge or enrolment has expired or was already
	// taken.
	ErrExpired = factor.ErrExpired
	// ErrChallengeMismatch: the challenge belongs to another user, factor or
	// sign-in attempt.
	ErrChallengeMismatch = factor.ErrChallengeMismatch
	// ErrNotFound: no such factor for this user.
	ErrNotFound = factor.ErrNotFound
	// ErrNotEnrolled: the factor exists but its enrolment was not confirmed
	// (or, for ConfirmEnrollment, is already confirmed).
	ErrNotEnrolled = errors.New("mfa: factor not enrolled")
	// ErrUnsupportedKind: no factor of this kind is configured, or the kind
	// cannot do what was asked (a challenge for TOTP).
	ErrUnsupportedKind = errors.New("mfa: unsupported factor kind")
	// ErrStepUpRequired: the change needs a second-factor verification more
	// recent than Config.FreshFor.
	ErrStepUpRequired = errors.New("mfa: fresh verification required")
	// ErrSealed: stored secret material cannot be read: a sealed secret
	// that does not open (corrupted, moved to another row, or no key can
	// open it), or a factor's stored data that is malformed.
	ErrSealed = factor.ErrSealed
	// ErrDenied: a hook or the Guard denied the attempt, or failed.
	ErrDenied = errors.New("mfa: denied by hook")
	// ErrStore: the store failed; the attempt was denied.
	ErrStore = factor.ErrStore
	// ErrConfig: Config is invalid.
	ErrConfig = factor.ErrConfig
	// ErrInternal: the random source failed, or a factor failed in a way
	// its kind does not classify; the call was denied.
	ErrInternal = errors.New("mfa: internal failure")
)

// sentinels is the one table of the sentinels above, in the order an
// error is matched against them. check marks those a factor's own check
// may end in; any other error from a check is taken as a wrong response.
var sentinels = [...]struct {
	err   error
	check bool
}{
	{ErrInvalidInput, true},
	{ErrMalformedResponse, true},
	{ErrWrongCode, true},
	{ErrReplayed, true},
	{ErrRateLimited, false},
	{ErrLocked, false},
	{ErrExpired, true},
	{ErrChallengeMismatch, true},
	{ErrNotFound, false},
	{ErrNotEnrolled, false},
	{ErrUnsupportedKind, false},
	{ErrStepUpRequired, false},
	{ErrSealed, true},
	{ErrDenied, false},
	{ErrStore, false},
	{ErrConfig, false},
	{ErrInternal, false},
}

// reasonOf is reason for the sentinels wrapped found.
func reasonOf(set uint32) string {
	for i, s := range sentinels {
		if set&(1<<i) != 0 {
			return s.err.Error()
		}
	}
	return "mfa: error"
}

// replayedBit is ErrReplayed's bit in what wrapped returns.
var replayedBit = func() int {
	for _, s := range sentinels {
		_, one := s.err.(interface{ Unwrap() error })
		_, many := s.err.(interface{ Unwrap() []error })
		if one || many {
			panic("mfa: a sentinel wraps another error") // wrapped looks at leaves only
		}
		if _, has := s.err.(interface{ Is(error) bool }); has {
			panic("mfa: a sentinel has an Is method")
		}
	}
	if sentinels[wrongCodeBit].err != ErrWrongCode {
		panic("mfa: wrongCodeBit is not ErrWrongCode's")
	}
	for i, s := range sentinels {
		for _, t := range sentinels[:i] {
			if s.err == t.err {
				panic("mfa: a sentinel is listed twice") // wrapped stops at the first
			}
		}
	}
	for i, s := range sentinels {
		if s.err == ErrReplayed {
			return i
		}
	}
	panic("mfa: ErrReplayed is not a sentinel")
}()

// wrapped keeps one bit per sentinel.
var _ [32 - len(sentinels)]struct{}

// RateLimitError is returned when attempts are refused by a delay, or
// issuing by a cap. It wraps ErrRateLimited.
type RateLimitError = factor.RateLimitError

// wrap joins a sentinel and its cause so errors.Is matches both.
func wrap(sentinel, cause error) error {
	if cause == nil {
		return sentinel
	}
	return fmt.Errorf("%w: %w", sentinel, cause)
}

// classify keeps a factor's check error if it wraps a sentinel a check
// may end in, and otherwise treats it as a wrong response: an unknown
// error from a check must never admit, and must not leak detail to the
// client.
func classify(err error) error {
	_, _, err = classified(err)
	return err
}

// classified is classify, also returning what wrapped returns for the
// error it returns, so that reporting it does not walk its tree again.
func classified(err error) (set uint32, ok bool, _ error) {
	if set, ok := wrapped(err); ok {
		for i, s := range sentinels {
			if s.check && set&(1<<i) != 0 {
				return set, true, err
			}
		}
		return set | 1<<wrongCodeBit, true, wrap(ErrWrongCode, err)
	}
	for _, s := range sentinels {
		if s.check && errors.Is(err, s.err) {
			return 0, false, err
		}
	}
	return 0, false, wrap(ErrWrongCode, err)
}

// wrongCodeBit is ErrWrongCode's bit in what wrapped returns (replayedBit's
// check below holds the table to it).
const wrongCodeBit = 2

// wrapped returns the sentinels err wraps, bit i standing for
// sentinels[i], found by one walk of err's tree comparing each error with
// ==, which is what errors.Is does for errors without an Is method: a
// failed verification asks this several times, and errors.Is per sentinel
// costs a reflection call at every step. ok is false when an error in the
// tree has its own Is method; the caller then asks errors.Is.
func wrapped(err error) (set uint32, ok bool) {
	for err != nil {
		if _, has := err.(interface{ Is(error) bool }); has {
			return 0, false
		}
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			err = u.Unwrap()
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				sub, ok := wrapped(e)
				if !ok {
					return 0, false
				}
				set |= sub
			}
			return set, true
		default:
			// Only a leaf can be a sentinel: each is made by errors.New
			// (replayedBit's check below holds them to it), and no two are
			// the same, so the first equal one is the only one.
			for i, s := range sentinels {
				if err == s.err {
					return set | 1<<i, true
				}
			}
			return set, true
		}
	}
	return set, true
}

// internal keeps an error from a factor's Enroll or Challenge if it wraps
// any sentinel, and otherwise wraps it in ErrInternal, so the promise above
// holds whatever a factor returns.
func internal(err error) error {
	for _, s := range sentinels {
		if errors.Is(err, s.err) {
			return err
		}
	}
	return wrap(ErrInternal, err)
}

// reason is the text of the first sentinel err wraps: what events carry,
// never the cause, which may quote input.
func reason(err error) string {
	if set, ok := wrapped(err); ok {
		return reasonOf(set)
	}
	for _, s := range sentinels {
		if errors.Is(err, s.err) {
			return s.err.Error()
		}
	}
	return "mfa: error"
}
