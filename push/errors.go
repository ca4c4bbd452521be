package push

import (
	"errors"
	"fmt"

	"github.com/mfakit/mfa/factor"
)

// Errors of package push. Those that are a kind of refused answer wrap
// the sentinel of package factor (and so of package mfa) that says so;
// errors.Is matches either. ErrTooMany, ErrPaused and ErrNotify come back
// from the Verifier's Challenge wrapped in mfa.ErrInternal, as any error
// of a kind's own does: match them with errors.Is.
var (
	// ErrDenied: the user pressed deny on the device.
	ErrDenied = fmt.Errorf("%w: push denied on the device", factor.ErrWrongCode)
	// ErrWrongNumber: the device answered with a number other than the one
	// the sign-in screen showed.
	ErrWrongNumber = fmt.Errorf("%w: push answered with the wrong number", factor.ErrWrongCode)
	// ErrBadSignature: the answer is not signed by the paired device's key.
	ErrBadSignature = fmt.Errorf("%w: push answer signature does not verify", factor.ErrWrongCode)
	// ErrUnknownDevice: no active paired device has this ID.
	ErrUnknownDevice = fmt.Errorf("%w: unknown push device", factor.ErrNotFound)
	// ErrNoDevice: the user has no active paired device to push to.
	ErrNoDevice = fmt.Errorf("%w: no paired push device", factor.ErrNotFound)
	// ErrPending: no answer has arrived yet for the request; poll again
	// until the request expires.
	ErrPending = errors.New("mfa: push not answered yet")
	// ErrNoRequest: a device polled and nothing is waiting for it.
	ErrNoRequest = errors.New("mfa: no push request waiting")
	// ErrTooMany: the user was sent Config.PerHour pushes this hour.
	ErrTooMany = errors.New("mfa: too many push requests")
	// ErrPaused: pushes to the user are paused after Config.PauseAfter
	// denials or wrong numbers (a suspected push-fatigue attack).
	ErrPaused = errors.New("mfa: push paused for this user")
	// ErrNotify: the Notifier failed; the request was cancelled.
	ErrNotify = errors.New("mfa: push delivery failed")
)

// malformed wraps factor.ErrMalformedResponse with a reason that never
// quotes the input.
func malformed(reason string) error {
	return fmt.Errorf("%w: push: %s", factor.ErrMalformedResponse, reason)
}
