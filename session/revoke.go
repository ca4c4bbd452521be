package session

import (
	"context"
	"errors"
	"time"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/store"
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

// Revoke ends one session of a user (sign-out, or "sign out that device"
// from a session list). Its refresh token stops working at once; its
// access tokens stop at routes using [CheckRevocation] at once and
// elsewhere when they expire (Config.AccessTTL). A session that is not
// the user's is ErrNotFound.
func (m *Manager) Revoke(ctx context.Context, userID, sessionID string) error {
	s, err := m.store.GetSession(ctx, sessionID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && s.UserID != userID) {
		return ErrNotFound
	}
	if err != nil {
		return wrap(ErrStore, err)
	}
	return m.revoke(ctx, s)
}

func (m *Manager) revoke(ctx context.Context, s store.Session) error {
	if err := m.store.RevokeSession(ctx, s.ID); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return ErrNotFound
		}
		return wrap(ErrStore, err)
	}
	return m.emit(ctx, Event{Type: EventRevoked, Time: m.now(), UserID: s.UserID, SessionID: s.ID})
}

// RevokeToken ends the session a refresh token belongs to, if the token
// is its current one: sign-out when only the refresh token is at hand (the
// access token has expired). An unknown or retired token is an error and
// revokes nothing.
func (m *Manager) RevokeToken(ctx context.Context, refreshToken string) error {
	sid, secret, err := splitOpaque(refreshToken)
	if err != nil {
		return err
	}
	s, err := m.store.GetSession(ctx, sid)
	if errors.Is(err, store.ErrNotFound) {
		return refuse(ErrRevoked, "unknown session")
	}
	if err != nil {
		return wrap(ErrStore, err)
	}
	if !m.hasher.Match(s.Refresh, domainRefresh, []byte(sid), secret) {
		return refuse(ErrInvalidToken, "refresh token not current")
	}
	if s.Revoked {
		return nil
	}
	return m.revoke(ctx, s)
}

// RevokeUser ends every session of a user, for example after a factor is
// removed or the password changed, and returns how many were live.
func (m *Manager) RevokeUser(ctx context.Context, userID string) (int, error) {
	n, err := m.store.RevokeUserSessions(ctx, userID)
	if err != nil {
		return n, wrap(ErrStore, err)
	}
	return n, m.emit(ctx, Event{Type: EventRevoked, Time: m.now(), UserID: userID, Count: n})
}

// RevokeOthers ends every session of a user except keep (the current
// one): what ASVS 5.0 §7.4.3 asks to offer after a factor changes. A
// session started while it runs may survive; RevokeUser is atomic.
func (m *Manager) RevokeOthers(ctx context.Context, userID, keep string) (int, error) {
	list, err := m.store.ListSessions(ctx, userID)
	if err != nil {
		return 0, wrap(ErrStore, err)
	}
	n := 0
	for _, s := range list {
		if s.ID == keep || s.Revoked {
			continue
		}
		if err := m.revoke(ctx, s); err != nil && !errors.Is(err, ErrNotFound) {
			return n, err
		}
		n++
	}
	return n, nil
}

// SessionInfo describes one live session, without its tokens.
type SessionInfo struct {
	ID          string
	AAL         mfa.AAL
	AMR         []string
	AuthTime    time.Time
	Created     time.Time
	LastUsed    time.Time
	IdleExpires time.Time
	// Expires is the absolute end: the earlier of the session's and its
	// level's.
	Expires time.Time
}

// Sessions lists a user's live sessions (not revoked, not expired),
// oldest first.
func (m *Manager) Sessions(ctx context.Context, userID string) ([]SessionInfo, error) {
	list, err := m.store.ListSessions(ctx, userID)
	if err != nil {
		return nil, wrap(ErrStore, err)
	}
	now := m.now()
	out := make([]SessionInfo, 0, len(list))
	for _, s := range list {
		st, err := decodeState(s.Data)
		if err != nil {
			return nil, err
		}
		end := earliest(s.Expires, st.Until)
		if s.Revoked || !now.Before(s.IdleExpires) || !now.Before(end) {
			continue
		}
		out = append(out, SessionInfo{
			ID: s.ID, AAL: st.AAL, AMR: st.AMR, AuthTime: st.AuthTime,
			Created: s.Created, LastUsed: s.LastUsed, IdleExpires: s.IdleExpires, Expires: end,
		})
	}
	return out, nil
}
