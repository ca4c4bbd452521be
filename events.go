package mfa

import (
	"context"
	"log/slog"
	"time"

	"github.com/mfakit/mfa/factor"
)

// EventType names what happened.
type EventType = factor.EventType

// Events the Verifier emits. Factor kinds add their own; those of this
// module's factors are listed last.
const (
	EventEnrollBegun      EventType = "enroll.begun"
	EventEnrollConfirmed  EventType = "enroll.confirmed"
	EventFactorRemoved    EventType = "factor.removed"
	EventChallengeIssued  EventType = "challenge.issued"
	EventVerifySucceeded  EventType = "verify.succeeded"
	EventVerifyFailed     EventType = "verify.failed"
	EventReplayRefused    EventType = "verify.replay_refused"
	EventRateLimited      EventType = "limit.rate_limited"
	EventLocked           EventType = "limit.locked"
	EventUnlocked         EventType = "limit.unlocked"
	EventCodesRegenerated EventType = "backup_codes.regenerated"

	EventBackupCodeUsed     = factor.EventBackupCodeUsed     // package backupcodes
	EventBackupCodesLow     = factor.EventBackupCodesLow     // package backupcodes
	EventSignCountRegressed = factor.EventSignCountRegressed // package webauthn
)

// Event is one thing that happened. It carries identifiers, never a
// secret, code, seed or response: hooks and logs may forward it anywhere.
type Event struct {
	Type     EventType
	Time     time.Time
	UserID   string
	FactorID string
	Kind     Kind
	IP       string
	// Reason is the sentinel error's text for failures, never input.
	Reason     string
	RetryAfter time.Time // EventRateLimited
	Remaining  int       // backup codes left; -1 when not applicable
}

// Hook receives every event, synchronously, in the order they happen. An
// error returned on a verification path denies that verification (fail
// closed); elsewhere it is returned to the caller.
type Hook func(ctx context.Context, e Event) error

// Guard runs before an attempt is counted or checked; a non-nil error
// denies it with ErrDenied. Use it for IP reputation or policy checks.
type Guard func(ctx context.Context, a Attempt) error

// Attempt describes a verification about to run, for a [Guard].
type Attempt struct {
	UserID   string
	FactorID string
	// Kind is the kind the request named, or the kind of the challenge it
	// answers when it named none; "" when neither says (a request that
	// names only a factor of a kind that issues no challenge).
	Kind    Kind
	IP      string
	Confirm bool // an enrolment confirmation
}

// SlogHook returns a Hook that logs each event at Info (failures and
// limits at Warn) with its identifiers as attributes.
func SlogHook(l *slog.Logger) Hook {
	return func(ctx context.Context, e Event) error {
		level := slog.LevelInfo
		switch e.Type {
		case EventVerifyFailed, EventReplayRefused, EventRateLimited, EventLocked, EventSignCountRegressed,
			EventIssueCapped, EventIssueFailed:
			level = slog.LevelWarn
		}
		attrs := []slog.Attr{
			slog.String("user_id", e.UserID),
			slog.String("factor_id", e.FactorID),
			slog.String("kind", string(e.Kind)),
		}
		if e.IP != "" {
			attrs = append(attrs, slog.String("ip", e.IP))
		}
		if e.Reason != "" {
			attrs = append(attrs, slog.String("reason", e.Reason))
		}
		if !e.RetryAfter.IsZero() {
			attrs = append(attrs, slog.Time("retry_after", e.RetryAfter))
		}
		if e.Remaining >= 0 && (e.Kind == KindBackupCodes) {
			attrs = append(attrs, slog.Int("remaining", e.Remaining))
		}
		l.LogAttrs(ctx, level, "mfa: "+string(e.Type), attrs...)
		return nil
	}
}
