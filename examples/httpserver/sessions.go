package main

// Who is signing in, and who is signed in, with package session:
//
//   - After the password, an MFA-pending token (a short JWT naming the user
//     and the factors offered) in a cookie: pendingUser reads it.
//   - After the second factor, a session: an access token (a JWT of five
//     minutes) and a refresh token, both in HttpOnly cookies. Pages check
//     the access token with Manager.Require (signedIn, recent) and, when it
//     has expired, refresh it in place (AutoRefresh); CheckRevocation makes
//     them see a sign-out or a revocation at once.
//   - A change to the factors needs a second factor within freshFor: the
//     route refuses an older auth_time (MaxAge) and the page asks for a code
//     (step-up), which raises the session (Manager.StepUp). A session
//     signed in with a security key (AAL3) steps up only with a key
//     (keyOnlyStepUp).
//   - Sign-out revokes the session in the store (Manager.SignOut).

import (
	"errors"
	"net/http"
	"time"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/session"
)

// pendingUser returns the request's sign-in in progress (password passed,
// second factor due) and its user; false when there is none, or its
// token is invalid or expired.
func (a *app) pendingUser(r *http.Request) (*session.PendingClaims, user, bool) {
	pc, err := a.sessions.Pending(r)
	if err != nil {
		return nil, user{}, false
	}
	u, err := a.users.byID(r.Context(), pc.Subject)
	if err != nil {
		return nil, user{}, false
	}
	return pc, u, true
}

// signedIn wraps a page for signed-in users: a valid access cookie, or a
// refresh cookie to get one with; a session that was revoked is refused at
// once. Anyone else is sent home (denied). opts add requirements.
func (a *app) signedIn(h http.HandlerFunc, opts ...session.Option) http.Handler {
	// MinAAL(AAL2): a recovery session (AAL1) reaches none of these.
	base := []session.Option{session.AutoRefresh(), session.CheckRevocation(), session.MinAAL(mfa.AAL2), session.OnDenied(a.denied)}
	return a.sessions.Require(append(base, opts...)...)(h)
}

// recent wraps a change to the factors: it needs a second factor within
// freshFor (MaxAge). With an older one the step-up page asks for a code;
// once it passes, stepUp redoes action.
func (a *app) recent(action string, h http.HandlerFunc) http.Handler {
	return a.signedIn(h, session.MaxAge(a.freshFor), session.OnDenied(func(w http.ResponseWriter, r *http.Request, d *session.Denial) {
		if d.Code != session.CodeInsufficientUserAuth || isAPIClient(r) {
			a.denied(w, r, d)
			return
		}
		u, err := a.users.byID(r.Context(), d.Claims.Subject)
		if err != nil {
			a.denied(w, r, d)
			return
		}
		// The session is valid, only not recent: the step-up page shows
		// what it may take by its level.
		r = r.WithContext(session.WithClaims(r.Context(), d.Claims))
		a.askStepUp(w, r, u, action, r.PostFormValue("factor_id"))
	}))
}

// denied answers a refused page. A client that sent an Authorization
// header gets the RFC 6750 / RFC 9470 answer (401 with WWW-Authenticate);
// a browser goes home, which shows the landing page or the next step of a
// sign-in in progress.
func (a *app) denied(w http.ResponseWriter, r *http.Request, d *session.Denial) {
	switch {
	case isAPIClient(r):
		a.sessions.WriteDenial(w, d)
	case d.Status == http.StatusServiceUnavailable:
		a.internal(w, r, d.Err)
	default:
		redirect(w, r, "/")
	}
}

func isAPIClient(r *http.Request) bool { return r.Header.Get("Authorization") != "" }

// current returns the verified claims of a page behind signedIn, and the
// user they name. A user who no longer exists is signed out.
func (a *app) current(w http.ResponseWriter, r *http.Request) (*session.AccessClaims, user, bool) {
	c, ok := session.ClaimsFrom(r.Context())
	if !ok { // not behind signedIn: a wiring mistake
		a.internal(w, r, errors.New("no session claims"))
		return nil, user{}, false
	}
	u, err := a.users.byID(r.Context(), c.Subject)
	if err != nil {
		if !errors.Is(err, errNoUser) {
			a.internal(w, r, err)
			return nil, user{}, false
		}
		a.signOutQuietly(w, r)
		redirect(w, r, "/")
		return nil, user{}, false
	}
	return c, u, true
}

// signOutQuietly ends the request's session, logging a failure to revoke
// it (the cookies are cleared whatever happens).
func (a *app) signOutQuietly(w http.ResponseWriter, r *http.Request) {
	if err := a.sessions.SignOut(w, r); err != nil && !errors.Is(err, session.ErrNoToken) {
		a.log.Warn("sign-out: session not revoked", "err", err)
	}
}

// sessionAfterEnrolment acts on the first proof of a new factor, which is
// a second-factor verification. Without a session c it completes a first
// sign-in (Start). With one, the factor is already stored: the user's
// other sessions end whatever happens next (factorChanged), and the proof
// refreshes this session if it can (refreshAfterEnrolment). It reports
// whether the handler may go on; when not, the response is written.
func (a *app) sessionAfterEnrolment(w http.ResponseWriter, r *http.Request, u user, c *session.AccessClaims, res *mfa.Result) bool {
	if c != nil {
		a.factorChanged(r, u.ID, c.SessionID)
		a.refreshAfterEnrolment(w, r, c, res)
		return true
	}
	t, err := a.sessions.Start(r.Context(), u.ID, res)
	if err != nil {
		a.internal(w, r, err)
		return false
	}
	a.sessions.SetCookies(w, t)
	a.sessions.ClearPendingCookie(w)
	return true
}

// refreshAfterEnrolment gives the session a fresh auth_time from a new
// factor's first proof, at the session's own level at most. Binding an
// authenticator is not authenticating at its level (NIST SP 800-63B): a
// security key added to an AAL2 session leaves it AAL2, and the next
// sign-in with the key reaches AAL3. A proof below the session's level (an
// app or a synced passkey added to an AAL3 session) leaves the session as
// it is: StepUp never lowers one, nor refreshes it with less. The factor
// is added either way, so a failure here is logged, not shown.
func (a *app) refreshAfterEnrolment(w http.ResponseWriter, r *http.Request, c *session.AccessClaims, res *mfa.Result) {
	if res.AAL < c.AAL() {
		return
	}
	proof := *res
	proof.AAL = c.AAL()
	t, err := a.sessions.StepUp(r.Context(), a.sessions.RefreshToken(r), &proof)
	if err != nil {
		a.log.Warn("session not refreshed after an enrolment", "user", c.Subject, "session", c.SessionID, "err", err)
		return
	}
	a.sessions.SetCookies(w, t)
}

// stepUpSession raises the request's session with the step-up check res
// (a fresh auth_time, the same session), sets the new cookies and returns
// the claims the browser now holds. res is at least the session's level:
// stepUp refuses a lower one before this. On failure it answers the
// request and returns false.
func (a *app) stepUpSession(w http.ResponseWriter, r *http.Request, res *mfa.Result) (*session.AccessClaims, bool) {
	t, err := a.sessions.StepUp(r.Context(), a.sessions.RefreshToken(r), res)
	if errors.Is(err, session.ErrInvalidToken) { // revoked meanwhile
		a.signOutQuietly(w, r)
		redirect(w, r, "/")
		return nil, false
	}
	if err != nil {
		a.internal(w, r, err)
		return nil, false
	}
	a.sessions.SetCookies(w, t)
	return t.Claims, true
}

// authTimeOf is the session's last second-factor check; zero without one.
func authTimeOf(c *session.AccessClaims) time.Time {
	if c == nil || c.AuthTime == nil {
		return time.Time{}
	}
	return c.AuthTime.Time
}
