package session

import (
	"context"
	"time"

	"github.com/mfakit/mfa"
)

// EventType names what happened to a session or remembered device.
type EventType string

// Events a Manager emits.
const (
	EventStarted   EventType = "session.started"
	EventRefreshed EventType = "session.refreshed"
	EventSteppedUp EventType = "session.stepped_up"
	EventRevoked   EventType = "session.revoked"
	// EventReuseDetected: a retired refresh token was presented; the
	// session (the whole refresh-token family) was revoked. Someone other
	// than the user may hold a copy of the user's tokens.
	EventReuseDetected    EventType = "session.reuse_detected"
	EventDeviceRemembered EventType = "device.remembered"
	EventDeviceRevoked    EventType = "device.revoked"
)

// Event is one thing that happened. It carries identifiers, never a token
// or a hash: hooks and logs may forward it anywhere.
type Event struct {
	Type      EventType
	Time      time.Time
	UserID    string
	SessionID string // empty for device events and user-wide revocations
	DeviceID  string // device events
	AAL       mfa.AAL
	// IP is the client address of the verification that started or
	// stepped up the session (mfa.Result.IP); "" for other events.
	IP string
	// AMR is the session's method references after a start or step-up.
	AMR []string
	// Count is the number of sessions or devices a user-wide revocation
	// ended.
	Count int
}

// Hook receives every event, synchronously, in order. An error refuses
// the operation that emitted the event: Start, Refresh and StepUp revoke
// the session they had just written and return no tokens; a revocation
// has happened already and reports the error.
type Hook func(ctx context.Context, e Event) error

func (m *Manager) emit(ctx context.Context, e Event) error {
	for _, h := range m.hooks {
		if err := h(ctx, e); err != nil {
			return wrap(ErrHook, err)
		}
	}
	return nil
}
