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
//     (step-up), which raises the session (Manager.StepUp).
//   - Sign-out revokes the session in the store (Manager.SignOut).

import (
	"errors"
	"github.com/mfakit/mfa"
	"net/http"

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
	base := []session.Option{session.AutoRefresh(), session.CheckRevocation(), session.OnDenied(a.denied)}
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
// a second-factor verification: it completes a first sign-in (Start) when
// there is no session c, or raises the session with a fresh auth_time
// (StepUp) and ends the user's other sessions. It reports whether the
// handler may go on; when not, the response is written.
func (a *app) sessionAfterEnrolment(w http.ResponseWriter, r *http.Request, u user, c *session.AccessClaims, res *mfa.Result) bool {
	if c != nil {
		if !a.stepUpSession(w, r, res) {
			return false
		}
		a.factorChanged(r, u.ID, c.SessionID)
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
