package session

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/store"
)

// Tokens is what a sign-in, refresh or step-up hands to the client. The
// JSON form is an OAuth 2.0 token response (RFC 6749 §5.1).
type Tokens struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"` // "Bearer"
	ExpiresIn    int64  `json:"expires_in"` // seconds
	RefreshToken string `json:"refresh_token"`
	// AccessExpires is when the access token expires.
	AccessExpires time.Time `json:"-"`
	// RefreshExpires is when the refresh token expires unless used: the
	// session's idle limit (never after its absolute limit).
	RefreshExpires time.Time `json:"-"`
	// Claims are the access token's claims.
	Claims *AccessClaims `json:"-"`
}

// state is what a session keeps in store.Session.Data.
type state struct {
	AAL      mfa.AAL   `json:"aal"`
	AMR      []string  `json:"amr,omitempty"`
	AuthTime time.Time `json:"auth_time"`
	// LastAMR holds the method references of the verification at
	// AuthTime alone (AMR holds every one of the session).
	LastAMR []string `json:"last_amr,omitempty"`
	// Until is the absolute end of the level reached at AuthTime; never
	// after store.Session.Expires.
	Until time.Time `json:"until"`
}

func decodeState(b []byte) (*state, error) {
	st := new(state)
	if err := json.Unmarshal(b, st); err != nil || st.AAL < mfa.AAL1 || st.AAL > mfa.AAL3 {
		return nil, fmt.Errorf("%w: unreadable session data", ErrStore)
	}
	return st, nil
}

// refresh tokens: "<session ID>.<32 random bytes>", both base64url.
const (
	idLen     = 22 // 16 bytes
	secretLen = 43 // 32 bytes
	opaqueLen = idLen + 1 + secretLen
)

// Hash domains: a refresh token can never be taken for a device token.
const (
	domainRefresh = "mfa/session/refresh/v1"
	domainDevice  = "mfa/session/device/v1"
)

// splitOpaque parses "<id>.<secret>" strictly.
func splitOpaque(tok string) (id string, secret []byte, err error) {
	if len(tok) != opaqueLen || tok[idLen] != '.' {
		return "", nil, refuse(ErrMalformed, "not an opaque token")
	}
	id = tok[:idLen]
	if raw, err := b64.DecodeString(id); err != nil || len(raw) != 16 {
		return "", nil, refuse(ErrMalformed, "not base64url")
	}
	secret, err = b64.DecodeString(tok[idLen+1:])
	if err != nil || len(secret) != 32 {
		return "", nil, refuse(ErrMalformed, "not base64url")
	}
	return id, secret, nil
}

func (m *Manager) newOpaque() (id, tok string, secret []byte, err error) {
	id, err = m.randomID()
	if err != nil {
		return "", "", nil, err
	}
	tok, secret, err = m.newSecret(id)
	return id, tok, secret, err
}

// newSecret returns "<id>.<256 random bits>" and the secret's bytes.
func (m *Manager) newSecret(id string) (string, []byte, error) {
	secret := make([]byte, 32)
	if _, err := io.ReadFull(m.rand, secret); err != nil {
		return "", nil, fmt.Errorf("mfa: session: random: %w", err)
	}
	return id + "." + b64.EncodeToString(secret), secret, nil
}

// refreshHash is the stamp stored for a new refresh token: the keyed hash
// under the primary hash key, naming the key.
func (m *Manager) refreshHash(sid string, secret []byte) []byte {
	return m.hasher.Stamp(domainRefresh, []byte(sid), secret)
}

// refreshLike is the stamp of a presented token under the key the stored
// one names, so a token issued before the hash key rotated still refreshes
// (and is then replaced by one under the new key). A stored stamp naming
// no key of the ring gives the primary's, which matches nothing.
func (m *Manager) refreshLike(stored []byte, sid string, secret []byte) []byte {
	if h, ok := m.hasher.StampLike(stored, domainRefresh, []byte(sid), secret); ok {
		return h
	}
	return m.refreshHash(sid, secret)
}

// checkResult validates a verification result for user at now.
func (m *Manager) checkResult(userID string, res *mfa.Result, now time.Time) error {
	switch {
	case res == nil:
		return fmt.Errorf("%w: nil result", ErrInvalidResult)
	case userID == "" || len(userID) > maxIDLen:
		return fmt.Errorf("%w: user ID must be 1 to %d bytes", ErrInvalidResult, maxIDLen)
	case res.UserID != userID:
		return fmt.Errorf("%w: %w", ErrInvalidResult, ErrWrongUser)
	case res.AAL < mfa.AAL1 || res.AAL > mfa.AAL3:
		return fmt.Errorf("%w: no assurance level", ErrInvalidResult)
	case res.Time.IsZero() || res.Time.After(now.Add(5*time.Second)):
		return fmt.Errorf("%w: result time missing or in the future", ErrInvalidResult)
	case now.Sub(res.Time) > m.pendingTTL:
		return fmt.Errorf("%w: result older than %s", ErrInvalidResult, m.pendingTTL)
	}
	return nil
}

// mergeAMR returns the union of a and b in order of first appearance, with
// "mfa" added at AAL2 and above (RFC 8176 §2).
func mergeAMR(a, b []string, aal mfa.AAL) []string {
	out := make([]string, 0, len(a)+len(b)+1)
	for _, v := range slices.Concat(a, b) {
		if v != "" && len(v) <= 32 && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	if aal >= mfa.AAL2 && !slices.Contains(out, "mfa") {
		out = append(out, "mfa")
	}
	return out
}

// Start begins a session for a user who has passed a second factor: it
// stores a new refresh-token family and returns an access token naming the
// level res reached and a refresh token. res must be the user's and
// recent (no older than Config.PendingTTL).
func (m *Manager) Start(ctx context.Context, userID string, res *mfa.Result) (*Tokens, error) {
	now := m.now()
	if err := m.checkResult(userID, res, now); err != nil {
		return nil, err
	}
	st := &state{AAL: res.AAL, AMR: mergeAMR(nil, res.AMR, res.AAL), AuthTime: res.Time.Truncate(time.Second), LastAMR: slices.Clone(res.AMR)}
	life := m.life[res.AAL]
	expires := st.AuthTime.Add(life.Absolute)
	st.Until = expires
	data, err := json.Marshal(st)
	if err != nil {
		return nil, err
	}
	sid, rt, secret, err := m.newOpaque()
	if err != nil {
		return nil, err
	}
	idle := earliest(now.Add(life.Idle), expires)
	err = m.store.CreateSession(ctx, store.Session{
		ID: sid, UserID: userID, Refresh: m.refreshHash(sid, secret), Data: data,
		Created: now, LastUsed: now, IdleExpires: idle, Expires: expires,
	})
	if err != nil {
		return nil, wrap(ErrStore, err)
	}
	t, err := m.tokens(sid, userID, st, rt, now, idle)
	if err == nil {
		err = m.emit(ctx, Event{Type: EventStarted, Time: now, UserID: userID, SessionID: sid, AAL: st.AAL, IP: res.IP, AMR: st.AMR})
	}
	if err != nil {
		return nil, m.abandon(ctx, sid, err)
	}
	return t, nil
}

// abandon revokes a session whose tokens will not reach the client.
func (m *Manager) abandon(ctx context.Context, sid string, err error) error {
	if rerr := m.store.RevokeSession(ctx, sid); rerr != nil {
		return errors.Join(err, wrap(ErrStore, rerr))
	}
	return err
}

func (m *Manager) tokens(sid, userID string, st *state, rt string, now, idle time.Time) (*Tokens, error) {
	at, c, err := m.issueAccess(sid, userID, st, now, idle)
	if err != nil {
		return nil, err
	}
	return &Tokens{
		AccessToken: at, TokenType: "Bearer", RefreshToken: rt,
		ExpiresIn:      int64(c.ExpiresAt.Sub(now).Seconds()),
		AccessExpires:  c.ExpiresAt.Time,
		RefreshExpires: idle,
		Claims:         c,
	}, nil
}

// load parses a refresh token and reads its session, refusing one that is
// unknown, revoked or past a limit at now.
func (m *Manager) load(ctx context.Context, refreshToken string, now time.Time) (store.Session, *state, []byte, error) {
	sid, secret, err := splitOpaque(refreshToken)
	if err != nil {
		return store.Session{}, nil, nil, err
	}
	s, err := m.store.GetSession(ctx, sid)
	if errors.Is(err, store.ErrNotFound) {
		return s, nil, nil, refuse(ErrRevoked, "unknown session")
	}
	if err != nil {
		return s, nil, nil, wrap(ErrStore, err)
	}
	if s.Revoked {
		return s, nil, nil, refuse(ErrRevoked, "")
	}
	st, err := decodeState(s.Data)
	if err != nil {
		return s, nil, nil, err
	}
	if !now.Before(s.IdleExpires) || !now.Before(earliest(s.Expires, st.Until)) {
		return s, nil, nil, refuse(ErrExpired, "session")
	}
	return s, st, m.refreshLike(s.Refresh, sid, secret), nil
}

// rotate swaps the refresh token; reuse of a retired one revokes the
// family (in the store, in the same operation) and is reported.
func (m *Manager) rotate(ctx context.Context, s store.Session, st *state, old []byte, data []byte, now time.Time) (string, time.Time, error) {
	// The new token keeps the session ID: the family is the session.
	rt, secret, err := m.newSecret(s.ID)
	if err != nil {
		return "", time.Time{}, err
	}
	idle := earliest(now.Add(m.life[st.AAL].Idle), s.Expires, st.Until)
	_, err = m.store.RotateRefresh(ctx, store.Rotate{
		SessionID: s.ID, Old: old, New: m.refreshHash(s.ID, secret), Data: data,
		Now: now, IdleExpires: idle,
	})
	switch {
	case errors.Is(err, store.ErrReused):
		e := Event{Type: EventReuseDetected, Time: now, UserID: s.UserID, SessionID: s.ID, AAL: st.AAL}
		return "", time.Time{}, errors.Join(refuse(ErrReused, ""), m.emit(ctx, e))
	case errors.Is(err, store.ErrNotFound):
		// Revoked, expired or replaced since we read it, or a token this
		// session never issued.
		if cur, gerr := m.store.GetSession(ctx, s.ID); gerr == nil && cur.Revoked {
			return "", time.Time{}, refuse(ErrRevoked, "")
		}
		return "", time.Time{}, refuse(ErrInvalidToken, "refresh token not current")
	case err != nil:
		return "", time.Time{}, wrap(ErrStore, err)
	}
	return rt, idle, nil
}

// Refresh rotates a refresh token (RFC 9700 §4.14.2): it returns a new
// access and refresh token and retires the one presented. Presenting a
// retired token revokes the whole session, emits EventReuseDetected and
// fails with ErrReused; of concurrent refreshes with one token exactly one
// gets tokens. The idle limit moves; the absolute limit does not. A
// refresh carries the session's level, amr and auth_time unchanged: it
// never raises the level.
func (m *Manager) Refresh(ctx context.Context, refreshToken string) (*Tokens, error) {
	now := m.now()
	s, st, old, err := m.load(ctx, refreshToken, now)
	if err != nil {
		return nil, err
	}
	rt, idle, err := m.rotate(ctx, s, st, old, nil, now)
	if err != nil {
		return nil, err
	}
	t, err := m.tokens(s.ID, s.UserID, st, rt, now, idle)
	if err == nil {
		err = m.emit(ctx, Event{Type: EventRefreshed, Time: now, UserID: s.UserID, SessionID: s.ID, AAL: st.AAL})
	}
	if err != nil {
		return nil, m.abandon(ctx, s.ID, err)
	}
	return t, nil
}

// StepUp raises an existing session after a new verification res, without
// a new sign-in (RFC 9470): the refresh token is rotated exactly as by
// Refresh, and the new access token carries a fresh auth_time, the level
// res reached and the union of the session's amr and res's. res must be
// the session user's, recent, and at least the session's level: a step-up
// never lowers a session (ErrInsufficientAAL). Reaching a level with a
// shorter absolute limit (AAL3: 12 h) ends the session that long after
// the step-up at the latest.
func (m *Manager) StepUp(ctx context.Context, refreshToken string, res *mfa.Result) (*Tokens, error) {
	now := m.now()
	s, st, old, err := m.load(ctx, refreshToken, now)
	if err != nil {
		return nil, err
	}
	if err := m.checkResult(s.UserID, res, now); err != nil {
		return nil, err
	}
	if res.AAL < st.AAL {
		return nil, fmt.Errorf("%w: result reached %d, session holds %d", ErrInsufficientAAL, res.AAL, st.AAL)
	}
	next := &state{
		AAL:      res.AAL,
		AMR:      mergeAMR(st.AMR, res.AMR, res.AAL),
		AuthTime: res.Time.Truncate(time.Second),
		LastAMR:  slices.Clone(res.AMR),
	}
	next.Until = earliest(next.AuthTime.Add(m.life[res.AAL].Absolute), s.Expires)
	data, err := json.Marshal(next)
	if err != nil {
		return nil, err
	}
	rt, idle, err := m.rotate(ctx, s, next, old, data, now)
	if err != nil {
		return nil, err
	}
	t, err := m.tokens(s.ID, s.UserID, next, rt, now, idle)
	if err == nil {
		err = m.emit(ctx, Event{Type: EventSteppedUp, Time: now, UserID: s.UserID, SessionID: s.ID, AAL: next.AAL, IP: res.IP, AMR: next.AMR})
	}
	if err != nil {
		return nil, m.abandon(ctx, s.ID, err)
	}
	return t, nil
}
