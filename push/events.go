package push

import (
	"context"
	"time"

	"github.com/mfakit/mfa/factor"
)

// EventSuspectedFraud is reported when a paired device denies a push or
// answers with the wrong number: the user did not start this sign-in, or
// was tricked into approving one they did not start.
const EventSuspectedFraud factor.EventType = "push.suspected_fraud"

// EventPaused is reported when a suspected fraud pauses pushes to the user
// (see Config.PauseAfter).
const EventPaused factor.EventType = "push.paused"

// Event is something the device side of package push saw. It carries
// identifiers only, never a number, signature or key.
type Event struct {
	Type     factor.EventType
	Time     time.Time
	UserID   string
	FactorID string // the device that answered
	// IP is the signing-in client's address the push was issued for, when
	// the application gave it (see [WithSignIn]).
	IP string
	// Reason is the error's sentinel text: ErrDenied or ErrWrongNumber.
	Reason string
}

// Hook receives events synchronously. An error is returned to the caller
// of the method that reported the event (fail closed).
type Hook func(ctx context.Context, e Event) error
