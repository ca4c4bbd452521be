package session

import (
	"errors"
	"net/http"
)

// JWKS returns a handler serving the public verification keys as a JSON
// Web Key Set (RFC 7517), for /.well-known/jwks.json: API gateways' JWT
// authorizers and any JOSE library can then verify access tokens without
// this package. HS256 keys are never published. Responses may be cached
// for 5 minutes; keep a retired key in the set for at least that long
// plus the access-token lifetime.
func (m *Manager) JWKS() http.Handler {
	doc := m.keys.JWKS()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Cache-Control", "public, max-age=300")
		_, _ = w.Write(doc)
	})
}

// maxFormLen bounds a refresh request's body.
const maxFormLen = 16 << 10

// RefreshHandler returns a handler for POST requests that rotate a refresh
// token. With the refresh cookie, it answers 204 and sets new cookies (for
// scripts in a browser); with a form field refresh_token (RFC 6749 §6),
// it answers an OAuth token response in JSON. A refused token is 400
// invalid_grant (and clears the cookies); a store failure 503.
func (m *Manager) RefreshHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", "POST")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		rt, fromCookie := m.RefreshToken(r), true
		if rt == "" {
			r.Body = http.MaxBytesReader(w, r.Body, maxFormLen)
			rt, fromCookie = r.PostFormValue("refresh_token"), false
		}
		t, err := m.Refresh(r.Context(), rt)
		switch {
		case err == nil && fromCookie:
			m.SetCookies(w, t)
			w.Header().Set("Cache-Control", "no-store")
			w.WriteHeader(http.StatusNoContent)
		case err == nil:
			writeJSON(w, http.StatusOK, t)
		case errors.Is(err, ErrInvalidToken):
			if fromCookie {
				m.ClearCookies(w)
			}
			writeJSON(w, http.StatusBadRequest, errorBody{Error: "invalid_grant", Description: describe(err)})
		default:
			writeJSON(w, http.StatusServiceUnavailable, errorBody{Error: "temporarily_unavailable"})
		}
	})
}

// SignOut ends the request's session and clears the cookies. It revokes
// the session named by the refresh cookie when it is current, else the
// one in the request's verified claims ([ClaimsFrom]); it clears the
// cookies whatever happens and returns the revocation's error, if any,
// for the caller to log.
func (m *Manager) SignOut(w http.ResponseWriter, r *http.Request) error {
	defer m.ClearCookies(w)
	if rt := m.RefreshToken(r); rt != "" {
		err := m.RevokeToken(r.Context(), rt)
		if err == nil || !errors.Is(err, ErrInvalidToken) {
			return err
		}
	}
	if c, ok := ClaimsFrom(r.Context()); ok {
		return m.Revoke(r.Context(), c.Subject, c.SessionID)
	}
	return ErrNoToken
}
