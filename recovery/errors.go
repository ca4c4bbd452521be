package recovery

import (
	"errors"

	"github.com/mfakit/mfa"
)

// sentinel is an error of this package that also matches the core
// sentinel it refines, so errors.Is(err, mfa.ErrNotFound) keeps working.
type sentinel struct {
	msg  string
	base error
}

func (e *sentinel) Error() string { return e.msg }
func (e *sentinel) Unwrap() error { return e.base }

// Errors of this package, matched with errors.Is. Those that refine a
// core sentinel also match it.
//
// A requester may be shown one neutral message for ErrInvalidGrant,
// ErrWaiting and ErrExpired ("this recovery link cannot be used now");
// the difference between them is for logs and operators.
var (
	// ErrInvalidInput: a request field is missing, too long or not text.
	ErrInvalidInput = &sentinel{"mfa: recovery: invalid input", mfa.ErrInvalidInput}
	// ErrConfig: New refused the configuration.
	ErrConfig = &sentinel{"mfa: recovery: invalid configuration", mfa.ErrConfig}
	// ErrStore: the store failed; nothing was granted.
	ErrStore = &sentinel{"mfa: recovery: store failure", mfa.ErrStore}
	// ErrNotFound: no such case.
	ErrNotFound = &sentinel{"mfa: recovery: no such case", mfa.ErrNotFound}
	// ErrNoFactors: the user has no active factor to recover (an unknown
	// user has none): recovery is for users who lost theirs.
	ErrNoFactors = &sentinel{"mfa: recovery: the user has no factor to recover", mfa.ErrNotEnrolled}
	// ErrState: the case is not in a state that allows the action (a
	// denied or cancelled case approved, a second decision, a grant used
	// twice). Of concurrent decisions, every one but the first gets it.
	ErrState = errors.New("mfa: recovery: the case does not allow this now")
	// ErrInvalidGrant: the grant token is malformed, wrong, or another
	// user's.
	ErrInvalidGrant = &sentinel{"mfa: recovery: invalid grant", mfa.ErrWrongCode}
	// ErrWaiting: the case is approved but its waiting period has not
	// ended.
	ErrWaiting = errors.New("mfa: recovery: the waiting period has not ended")
	// ErrExpired: the case, its grant or its enrolment window is past its
	// time.
	ErrExpired = &sentinel{"mfa: recovery: expired", mfa.ErrExpired}
	// ErrOwnerActive: a factor of the user was used after the case was
	// opened; the owner is back and the case is cancelled.
	ErrOwnerActive = errors.New("mfa: recovery: the owner signed in since the case was opened")
	// ErrRateLimited: too many cases for this user or from this address
	// within the window.
	ErrRateLimited = &sentinel{"mfa: recovery: too many recovery requests", mfa.ErrRateLimited}
	// ErrForbidden: the operator's session is below AAL2, or the operator
	// acts on their own case.
	ErrForbidden = errors.New("mfa: recovery: operator not allowed")
	// ErrDenied: a hook or the notifier refused; the action did not take
	// effect.
	ErrDenied = &sentinel{"mfa: recovery: denied by hook", mfa.ErrDenied}
)

// wrap returns an error matching both s and the cause.
func wrap(s error, cause error) error {
	if cause == nil {
		return s
	}
	return errors.Join(s, cause)
}
