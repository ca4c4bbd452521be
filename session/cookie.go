package session

import (
	"net/http"
	"time"
)

// Cookie names without the "__Host-" prefix that Secure cookies get (a
// __Host- cookie is Secure, host-only and Path=/, so no subdomain or
// other path can set or shadow it).
const (
	accessCookie  = "mfa-access"
	refreshCookie = "mfa-refresh"
	pendingCookie = "mfa-pending"
	deviceCookie  = "mfa-device"
)

func (m *Manager) cookieName(base string) string {
	if m.secure {
		return "__Host-" + base
	}
	return base
}

// AccessCookieName is the name of the cookie [Manager.SetCookies] puts the
// access token in: "__Host-mfa-access", or "mfa-access" with
// Config.InsecureCookies.
func (m *Manager) AccessCookieName() string { return m.cookieName(accessCookie) }

func (m *Manager) refreshCookieName() string { return m.cookieName(refreshCookie) }

// cookie is every cookie this package sets: HttpOnly, SameSite=Lax,
// Path=/, Secure unless Config.InsecureCookies.
func (m *Manager) cookie(w http.ResponseWriter, base, value string, expires time.Time) {
	c := &http.Cookie{
		Name: m.cookieName(base), Value: value, Path: "/",
		Secure: m.secure, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	}
	if value == "" {
		c.MaxAge = -1
	} else {
		c.Expires = expires
		c.MaxAge = max(1, int(expires.Sub(m.now())/time.Second))
	}
	http.SetCookie(w, c)
}

// SetCookies puts a sign-in's, refresh's or step-up's tokens in cookies:
// the access token until it expires, the refresh token until the
// session's idle limit.
func (m *Manager) SetCookies(w http.ResponseWriter, t *Tokens) {
	m.cookie(w, accessCookie, t.AccessToken, t.AccessExpires)
	m.cookie(w, refreshCookie, t.RefreshToken, t.RefreshExpires)
}

// ClearCookies removes the access, refresh and pending cookies (not the
// device cookie: a remembered device outlives a sign-out).
func (m *Manager) ClearCookies(w http.ResponseWriter) {
	m.cookie(w, accessCookie, "", time.Time{})
	m.cookie(w, refreshCookie, "", time.Time{})
	m.cookie(w, pendingCookie, "", time.Time{})
}

// RefreshToken returns the request's current refresh token: the one
// AutoRefresh issued while serving it, else the cookie's, else "".
func (m *Manager) RefreshToken(r *http.Request) string {
	if t, ok := r.Context().Value(refreshedKey{}).(*Tokens); ok {
		return t.RefreshToken
	}
	return cookieValue(r, m.refreshCookieName())
}

// AccessToken returns the request's current access token from a cookie:
// the one AutoRefresh issued while serving it, else the cookie's, else "".
func (m *Manager) AccessToken(r *http.Request) string {
	if t, ok := r.Context().Value(refreshedKey{}).(*Tokens); ok {
		return t.AccessToken
	}
	return cookieValue(r, m.AccessCookieName())
}

func cookieValue(r *http.Request, name string) string {
	c, err := r.Cookie(name)
	if err != nil {
		return ""
	}
	return c.Value
}

// SetPendingCookie keeps an MFA-pending token in a cookie between the
// password form and the second-factor form.
func (m *Manager) SetPendingCookie(w http.ResponseWriter, token string, c *PendingClaims) {
	m.cookie(w, pendingCookie, token, c.ExpiresAt.Time)
}

// Pending verifies the pending cookie of a request and returns its
// claims; ErrNoToken when there is none.
func (m *Manager) Pending(r *http.Request) (*PendingClaims, error) {
	v := cookieValue(r, m.cookieName(pendingCookie))
	if v == "" {
		return nil, ErrNoToken
	}
	return m.VerifyPending(v)
}

// ClearPendingCookie removes the pending cookie (after Start).
func (m *Manager) ClearPendingCookie(w http.ResponseWriter) {
	m.cookie(w, pendingCookie, "", time.Time{})
}

// SetDeviceCookie keeps a remembered device's token for ttl (the ttl given
// to Remember; Config.DeviceTTL when 0).
func (m *Manager) SetDeviceCookie(w http.ResponseWriter, token string, ttl time.Duration) {
	if ttl == 0 {
		ttl = m.deviceTTL
	}
	m.cookie(w, deviceCookie, token, m.now().Add(ttl))
}

// DeviceToken returns the device token from the request's cookie, or "".
func (m *Manager) DeviceToken(r *http.Request) string {
	return cookieValue(r, m.cookieName(deviceCookie))
}

// ClearDeviceCookie removes the device cookie.
func (m *Manager) ClearDeviceCookie(w http.ResponseWriter) {
	m.cookie(w, deviceCookie, "", time.Time{})
}
