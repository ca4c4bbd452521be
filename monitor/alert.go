package monitor

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/geo"
)

// AlertKind names what an alert reports.
type AlertKind string

// Alert kinds. The first six come from the detectors, which read the
// store; the others turn events into alerts without store I/O.
const (
	// KindSpraying: attempts for many users from one address (Evidence.Users
	// distinct users within Evidence.Window), none of them followed by
	// a sign-in from there: credential stuffing or password spraying.
	KindSpraying AlertKind = "spraying"
	// KindMethodSwitching: one user tried Evidence.Kinds within
	// Evidence.Window.
	KindMethodSwitching AlertKind = "method_switching"
	// KindNewCountry: a sign-in from a country the user has not signed in
	// from within Config.Lookback.
	KindNewCountry AlertKind = "new_country"
	// KindNewNetwork: a sign-in from a network (autonomous system) the user
	// has not signed in from within Config.Lookback.
	KindNewNetwork AlertKind = "new_network"
	// KindImpossibleTravel: a sign-in or an attempt whose place is farther
	// from the user's previous sign-in than Config.MaxSpeed allows in the
	// time between them. Evidence.Denied says whether the Guard denied it.
	KindImpossibleTravel AlertKind = "impossible_travel"
	// KindSimultaneousSessions: a session started in one country while
	// another of the user's sessions, started in another country, is live.
	KindSimultaneousSessions AlertKind = "simultaneous_sessions"

	// KindRateLimited: a user's attempts were refused by the failure
	// delay (mfa.EventRateLimited): failed attempts past a threshold.
	KindRateLimited AlertKind = "rate_limited"
	// KindLocked: a user's second factor locked after 100 consecutive
	// failures (mfa.EventLocked).
	KindLocked AlertKind = "locked"
	// KindReplay: a one-time value was presented again
	// (mfa.EventReplayRefused).
	KindReplay AlertKind = "replay"
	// KindCloneSuspected: a security key's signature counter went back
	// (mfa.EventSignCountRegressed): a cloned authenticator.
	KindCloneSuspected AlertKind = "clone_suspected"
	// KindTokenReuse: a retired refresh token was presented and its
	// session revoked (session.EventReuseDetected).
	KindTokenReuse AlertKind = "token_reuse"
	// KindEnrolled: a factor was enrolled (mfa.EventEnrollConfirmed).
	KindEnrolled AlertKind = "enrolled"
	// KindMethodChanged: a factor was removed or backup codes were
	// regenerated (mfa.EventFactorRemoved, mfa.EventCodesRegenerated).
	KindMethodChanged AlertKind = "method_changed"
	// KindRecovery: a recovery case moved (package recovery's events);
	// Evidence.Event says how. An opened case waits for manual review.
	KindRecovery AlertKind = "recovery"
)

// Severity ranks alerts.
type Severity int

// Severities, lowest first.
const (
	SeverityInfo     Severity = iota // worth a record: an enrolment, a recovery denied
	SeverityWarning                  // worth a look: a new country, a method changed
	SeverityCritical                 // worth acting on: spraying, impossible travel, a lock
)

// String returns "info", "warning" or "critical".
func (s Severity) String() string {
	switch s {
	case SeverityInfo:
		return "info"
	case SeverityWarning:
		return "warning"
	case SeverityCritical:
		return "critical"
	}
	return fmt.Sprintf("severity(%d)", int(s))
}

// Alert is one thing a detector or an event raised. It carries
// identifiers, addresses and places, never a secret, code, token or
// response: hooks may forward it anywhere.
type Alert struct {
	Kind     AlertKind
	Severity Severity
	Time     time.Time
	UserID   string
	// IP is the client address in canonical form (IPv4-mapped IPv6
	// unmapped); "" when unknown or unparsable.
	IP string
	// Place is where IP is, as far as the Locator knows.
	Place    geo.Place
	Evidence Evidence
}

// Evidence says why an alert was raised. Fields that do not apply to an
// alert's kind are zero.
type Evidence struct {
	// Event is the event type an event-driven alert came from, e.g.
	// "limit.locked", "recovery.opened".
	Event string
	// Denied: the Guard denied the attempt the alert is about.
	Denied     bool
	FactorID   string
	FactorKind mfa.Kind
	// Users is the number of distinct users (KindSpraying).
	Users int
	// Kinds are the distinct kinds tried (KindMethodSwitching).
	Kinds []mfa.Kind
	// Window is the detector's window.
	Window time.Duration
	// SessionID is the session an alert is about; OtherSessionID the
	// earlier live session (KindSimultaneousSessions).
	SessionID, OtherSessionID string
	// PrevIP, PrevPlace and PrevTime describe the earlier sign-in an
	// alert compares with.
	PrevIP    string
	PrevPlace geo.Place
	PrevTime  time.Time
	// DistanceKm is the least distance between the two places, and
	// SpeedKmh the speed it implies (KindImpossibleTravel); SpeedKmh is
	// +Inf when the two are at the same instant.
	DistanceKm, SpeedKmh float64
	// CaseID and Actor name a recovery case and who moved it.
	CaseID, Actor string
	// Reason is the sentinel error's text an event carried.
	Reason string
}

// AlertHook receives an alert. An error is reported to
// Config.AlertErrors and, with Config.DenyOnAlertError, denies.
type AlertHook func(ctx context.Context, a Alert) error

// deliver gives each alert to every hook. It returns an error only when
// a hook failed and Config.DenyOnAlertError is set.
func (m *Monitor) deliver(ctx context.Context, alerts ...Alert) error {
	var errs []error
	for _, a := range alerts {
		for _, h := range m.alerts {
			if err := h(ctx, a); err != nil {
				m.onError(ctx, a, err)
				errs = append(errs, err)
			}
		}
	}
	if len(errs) == 0 || !m.strict {
		return nil
	}
	return fmt.Errorf("%w: %w", ErrAlertUndelivered, errors.Join(errs...))
}
