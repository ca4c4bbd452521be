package main

// Adding a factor: an authenticator app (TOTP) or backup codes. Security
// keys and passkeys are in webauthn.go.

import (
	"encoding/base64"
	"errors"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/backupcodes"
	"github.com/mfakit/mfa/session"
	"github.com/mfakit/mfa/totp"
)

// Names the factors get in the user's list.
const (
	totpName  = "Authenticator app"
	codesName = "Backup codes"
)

// enrolment wraps the TOTP enrolment routes. A signed-in user may enrol
// (c is the session); so may a user between password and second factor
// who has no active factor yet (c is nil), whose confirmation then starts
// the session.
func (a *app) enrolment(h func(http.ResponseWriter, *http.Request, user, *session.AccessClaims)) http.Handler {
	signedIn := func(w http.ResponseWriter, r *http.Request) {
		if c, u, ok := a.current(w, r); ok {
			h(w, r, u, c)
		}
	}
	return a.sessions.Require(session.AutoRefresh(), session.CheckRevocation(), session.MinAAL(mfa.AAL2), session.OnDenied(
		func(w http.ResponseWriter, r *http.Request, d *session.Denial) {
			_, u, ok := a.pendingUser(r)
			if !ok || d.Status == http.StatusServiceUnavailable {
				a.denied(w, r, d)
				return
			}
			set, err := a.factorsOf(r.Context(), u.ID)
			if err != nil {
				a.internal(w, r, err)
				return
			}
			if set.anyReady { // they sign in with it
				redirect(w, r, "/signin/code")
				return
			}
			h(w, r, u, nil)
		}))(http.HandlerFunc(signedIn))
}

func (a *app) totpBegin(w http.ResponseWriter, r *http.Request, u user, c *session.AccessClaims) {
	a.beginTOTP(w, r, u, authTimeOf(c))
}

// beginTOTP starts a TOTP enrolment and shows the QR code. Adding a
// factor when one is active needs a fresh verification: the Verifier says
// so with ErrStepUpRequired, and the page asks for a code.
func (a *app) beginTOTP(w http.ResponseWriter, r *http.Request, u user, authTime time.Time) {
	ctx := r.Context()
	// Drop earlier unconfirmed attempts: a pending factor needs no step-up
	// to remove, and a QR code left on some screen stops being useful.
	set, err := a.factorsOf(ctx, u.ID)
	if err != nil {
		a.internal(w, r, err)
		return
	}
	if set.totp { // one authenticator app per user in this example
		redirect(w, r, "/")
		return
	}
	for _, f := range set.all {
		if f.Kind == mfa.KindTOTP && !f.Active {
			err := a.verifier.RemoveFactor(ctx, mfa.ChangeRequest{UserID: u.ID, FactorID: f.ID})
			switch {
			case errors.Is(err, mfa.ErrStepUpRequired):
				// Confirmed since it was listed (in another tab, say):
				// the user has their authenticator app now.
				redirect(w, r, "/")
				return
			case err != nil && !errors.Is(err, mfa.ErrNotFound):
				a.internal(w, r, err)
				return
			}
		}
	}
	en, err := a.verifier.BeginEnrollment(ctx, mfa.EnrollRequest{
		UserID: u.ID, Kind: mfa.KindTOTP, Name: totpName, Account: u.Name, AuthTime: authTime,
	})
	if errors.Is(err, mfa.ErrStepUpRequired) {
		a.askStepUp(w, r, u, "add-totp", "")
		return
	}
	if err != nil {
		a.internal(w, r, err)
		return
	}
	page, err := totpPage(en, "Scan the QR code", u.Name)
	if err != nil {
		a.internal(w, r, err)
		return
	}
	a.render(w, http.StatusOK, "enroll", page)
}

// totpPage is the page that shows a begun TOTP enrolment's QR code and
// setup key.
func totpPage(en *mfa.Enrollment, title, userName string) (enrollPage, error) {
	setup, err := mfa.ShowAs[*totp.Setup](en.Show)
	if err != nil {
		return enrollPage{}, err
	}
	png, err := setup.QRCode(240)
	if err != nil {
		return enrollPage{}, err
	}
	return enrollPage{
		base:     base{Title: title, User: userName},
		FactorID: en.FactorID,
		// A data: URL built here from our own PNG bytes, so it is safe to
		// mark as a URL for html/template.
		QR:      template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png)),
		Secret:  groups(setup.Secret, 4),
		Expires: en.Expires,
	}, nil
}

// groups splits s into space-separated blocks of n, for reading aloud or
// typing; apps accept the spaces.
func groups(s string, n int) string {
	var b strings.Builder
	for i := 0; i < len(s); i += n {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(s[i:min(i+n, len(s))])
	}
	return b.String()
}

func (a *app) totpConfirm(w http.ResponseWriter, r *http.Request, u user, c *session.AccessClaims) {
	ctx := r.Context()
	factorID := r.PostFormValue("factor_id")
	kind := mfa.KindTOTP
	res, err := a.verifier.ConfirmEnrollment(ctx, mfa.ConfirmRequest{
		UserID: u.ID, FactorID: factorID,
		Response: response(kind, r.PostFormValue("code")), IP: a.clientIP(r),
		AuthTime: authTimeOf(c),
	})
	if errors.Is(err, mfa.ErrStepUpRequired) {
		// Another factor became active since this enrolment began.
		a.askStepUp(w, r, u, "add-totp", "")
		return
	}
	if err != nil {
		msg, status, known := a.message(err, kind)
		if !known {
			a.internal(w, r, err)
			return
		}
		// The seed is not shown again; the app already holds it, so only
		// the code is asked for. "Start over" begins a new enrolment.
		a.render(w, status, "enroll", enrollPage{
			base:     base{Title: "Confirm your authenticator app", User: u.Name, Error: msg},
			FactorID: factorID, Retry: true,
		})
		return
	}
	// The first code proves the user holds the factor.
	if !a.sessionAfterEnrolment(w, r, u, c, res) {
		return
	}
	set, err := a.factorsOf(ctx, u.ID)
	if err != nil {
		a.internal(w, r, err)
		return
	}
	if set.codes {
		redirect(w, r, "/?notice=totp-added")
		return
	}
	a.newCodes(w, r, u, res.Time, "Your authenticator app is set up.")
}

func (a *app) codesNew(w http.ResponseWriter, r *http.Request) {
	c, u, ok := a.current(w, r)
	if !ok {
		return
	}
	set, err := a.factorsOf(r.Context(), u.ID)
	if err != nil {
		a.internal(w, r, err)
		return
	}
	if set.codes { // one set per user: replace it instead
		a.regenerate(w, r, u, c, set.codesID, authTimeOf(c))
		return
	}
	if a.newCodes(w, r, u, authTimeOf(c), "") {
		a.factorChanged(r, u.ID, c.SessionID)
	}
}

// newCodes enrols a backup code set and shows it, once; it reports
// whether it did.
func (a *app) newCodes(w http.ResponseWriter, r *http.Request, u user, authTime time.Time, notice string) bool {
	en, err := a.verifier.BeginEnrollment(r.Context(), mfa.EnrollRequest{
		UserID: u.ID, Kind: mfa.KindBackupCodes, Name: codesName, Account: u.Name, AuthTime: authTime,
	})
	if errors.Is(err, mfa.ErrStepUpRequired) {
		a.askStepUp(w, r, u, "new-codes", "")
		return false
	}
	if err != nil {
		a.internal(w, r, err)
		return false
	}
	a.showCodes(w, r, u, en, notice)
	return true
}

func (a *app) showCodes(w http.ResponseWriter, r *http.Request, u user, en *mfa.Enrollment, notice string) {
	codes, err := mfa.ShowAs[*backupcodes.Codes](en.Show)
	if err != nil {
		a.internal(w, r, err)
		return
	}
	a.render(w, http.StatusOK, "codes", codesPage{
		base:  base{Title: "Save your backup codes", User: u.Name, Notice: notice},
		Codes: codes.List,
	})
}
