package monitor

import (
	"context"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/recovery"
)

// Hook returns the mfa.Hook to add to mfa.Config.Hooks. It turns events
// into alerts without store I/O (the Locator, which does no network I/O,
// places the address; a locator error leaves the place unknown):
//
//   - limit.rate_limited and limit.locked: failed attempts past a
//     threshold (KindRateLimited, KindLocked);
//   - verify.replay_refused: KindReplay; webauthn.sign_count_regressed:
//     KindCloneSuspected;
//   - enroll.confirmed: KindEnrolled; factor.removed and
//     backup_codes.regenerated: KindMethodChanged, for an admin
//     notification ([NotifyAdmin]).
//
// Every refused attempt while a user is rate limited emits
// limit.rate_limited, so KindRateLimited can come often; an alert hook
// that pages someone should deduplicate it.
func (m *Monitor) Hook() mfa.Hook {
	return func(ctx context.Context, e mfa.Event) error {
		var kind AlertKind
		sev := SeverityWarning
		switch e.Type {
		case mfa.EventRateLimited:
			kind = KindRateLimited
		case mfa.EventLocked:
			kind, sev = KindLocked, SeverityCritical
		case mfa.EventReplayRefused:
			kind = KindReplay
		case mfa.EventSignCountRegressed:
			kind, sev = KindCloneSuspected, SeverityCritical
		case mfa.EventEnrollConfirmed:
			kind, sev = KindEnrolled, SeverityInfo
		case mfa.EventFactorRemoved, mfa.EventCodesRegenerated:
			kind = KindMethodChanged
		default:
			return nil
		}
		a := m.eventAlert(ctx, kind, sev, e.UserID, e.IP)
		a.Evidence = Evidence{Event: string(e.Type), FactorID: e.FactorID, FactorKind: e.Kind, Reason: e.Reason}
		return m.deliver(ctx, a)
	}
}

// RecoveryHook returns the recovery.Hook to add to recovery.Config.Hooks:
// every recovery event becomes a KindRecovery alert, at SeverityWarning
// (an opened case waits for manual review; an approval, redemption,
// completion, refused grant, unlock or code regeneration changes how the
// account can be entered), or SeverityInfo for a denied or cancelled
// case. No store I/O.
func (m *Monitor) RecoveryHook() recovery.Hook {
	return func(ctx context.Context, e recovery.Event) error {
		sev := SeverityWarning
		switch e.Type {
		case recovery.EventDenied, recovery.EventCancelled:
			sev = SeverityInfo
		}
		a := m.eventAlert(ctx, KindRecovery, sev, e.UserID, e.IP)
		a.Evidence = Evidence{Event: string(e.Type), CaseID: e.CaseID, Actor: e.Actor, Reason: e.Reason}
		return m.deliver(ctx, a)
	}
}

func (m *Monitor) eventAlert(ctx context.Context, kind AlertKind, sev Severity, userID, ip string) Alert {
	a := Alert{Kind: kind, Severity: sev, Time: m.now(), UserID: userID}
	if addr := parseAddr(ip); addr.IsValid() {
		a.IP = addr.String()
		a.Place, _ = m.locate(ctx, addr) // unknown on error: nothing is decided here
	}
	return a
}
