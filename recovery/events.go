package recovery

import (
	"context"
	"time"
)

// EventType names a transition or an operator's action.
type EventType string

// Events, one for every transition and every audited operator action.
const (
	EventOpened           EventType = "recovery.opened"            // a case was opened (pending)
	EventApproved         EventType = "recovery.approved"          // an operator (or an auto rule) approved
	EventDenied           EventType = "recovery.denied"            // an operator denied
	EventCancelled        EventType = "recovery.cancelled"         // the owner signed in, or someone withdrew the case
	EventRedeemed         EventType = "recovery.redeemed"          // the grant was used; a recovery session may start
	EventCompleted        EventType = "recovery.completed"         // the new factor was confirmed
	EventRefused          EventType = "recovery.refused"           // a grant was presented and refused
	EventUnlocked         EventType = "recovery.unlocked"          // an operator cleared a user's lockout
	EventCodesRegenerated EventType = "recovery.codes_regenerated" // an operator replaced a user's backup codes
)

// Actors named by events that no person caused.
const (
	ActorOwner = "owner" // the owner signed in with a factor
	ActorAuto  = "auto"  // Config.AutoApprove approved
)

// Event is one audited action. It carries identifiers and the sentinel's
// text, never a grant token, a note's secret or a code.
type Event struct {
	Type   EventType
	Time   time.Time
	CaseID string
	UserID string
	// Actor is who did it: the requester's user ID, an operator's ID,
	// ActorOwner or ActorAuto.
	Actor string
	IP    string
	// Reason is the sentinel error's text for EventRefused.
	Reason string
}

// Hook receives every event, synchronously and in order; an error stops
// the action it reports (fail closed) where it has not yet taken effect,
// and is returned wrapped in ErrDenied.
type Hook func(ctx context.Context, e Event) error

// Notifier tells the user, on every channel on file (every email address,
// phone, push device), that something happened to a recovery of their
// account: EventOpened, EventApproved, EventDenied, EventCancelled and
// EventCompleted. An error on EventOpened withdraws the case: a recovery
// the owner was not told about never proceeds.
type Notifier func(ctx context.Context, e Event) error

func notifies(t EventType) bool {
	switch t {
	case EventOpened, EventApproved, EventDenied, EventCancelled, EventCompleted:
		return true
	}
	return false
}

// emit delivers e to every hook, then to the notifier when it is one the
// user hears of.
func (m *Manager) emit(ctx context.Context, e Event) error {
	for _, h := range m.hooks {
		if err := h(ctx, e); err != nil {
			return wrap(ErrDenied, err)
		}
	}
	if notifies(e.Type) {
		if err := m.notify(ctx, e); err != nil {
			return wrap(ErrDenied, err)
		}
	}
	return nil
}
