package session

import (
	"context"

	"github.com/mfakit/mfa"
)

// RevokeOnFactorChange returns an mfa.Hook, for mfa.Config.Hooks, that
// ends a user's other sessions and forgets their remembered devices
// whenever their factors change: a factor confirmed, a factor removed, a
// backup code set regenerated (OWASP ASVS 5.0 §7.4.3). The session making
// the change, whose claims [Manager.Require] put in ctx, is kept; a
// change made outside such a request (an operator's tool) ends every
// session of the user.
//
// The hook runs on the Verifier's path, so a store failure here fails
// the change's call with mfa.ErrDenied, as any failing hook does; the
// factor change itself has then already happened (see the mfa package
// doc), and the caller should retry the revocation with
// [Manager.RevokeOthers].
func (m *Manager) RevokeOnFactorChange() mfa.Hook {
	return func(ctx context.Context, e mfa.Event) error {
		switch e.Type {
		case mfa.EventEnrollConfirmed, mfa.EventFactorRemoved, mfa.EventCodesRegenerated:
		default:
			return nil
		}
		keep := ""
		if c, ok := ClaimsFrom(ctx); ok && c.Subject == e.UserID {
			keep = c.SessionID
		}
		if _, err := m.RevokeOthers(ctx, e.UserID, keep); err != nil {
			return err
		}
		_, err := m.ForgetAllDevices(ctx, e.UserID)
		return err
	}
}
