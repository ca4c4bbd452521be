package main

// Step-up: a change to the factors needs a second factor within freshFor;
// with an older one the page asks for one first, raises the session with
// it, then makes the change.

import (
	"net/http"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/session"
)

// stepUpActions are the changes that may wait for a step-up.
var stepUpActions = map[string]string{
	"remove":     "remove a factor",
	"regenerate": "replace your backup codes",
	"new-codes":  "create backup codes",
	"add-totp":   "add an authenticator app",
	"add-key":    "add a security key or passkey",
	"pair":       "pair a device",
	"add-email":  "add email codes",
}

// askStepUp shows the code forms; once a code passes, stepUp redoes the
// action with the new auth_time.
func (a *app) askStepUp(w http.ResponseWriter, r *http.Request, u user, action, factorID string) {
	a.renderStepUp(w, r, http.StatusOK, u, action, factorID, "")
}

func (a *app) renderStepUp(w http.ResponseWriter, r *http.Request, status int, u user, action, factorID, msg string) {
	set, err := a.factorsOf(r.Context(), u.ID)
	if err != nil {
		a.internal(w, r, err)
		return
	}
	what := stepUpActions[action]
	if action == "remove" {
		what = "remove " + a.factorName(r.Context(), u.ID, factorID)
	}
	form := codeForm{Post: "/step-up", Action: action, FactorID: factorID, HasTOTP: set.totp, HasCodes: set.codes, HasKey: set.keys}
	keyOnly := keyOnlyStepUp(r)
	if keyOnly || action == "admin" {
		form.HasTOTP, form.HasCodes = false, false
	}
	a.render(w, status, "stepup", stepUpPage{
		base:    base{Title: "Confirm it's you", User: u.Name, Error: msg},
		What:    what,
		KeyOnly: keyOnly,
		Admin:   action == "admin",
		MaxAge:  adminMaxAge,
		Form:    form,
	})
}

// keyOnlyStepUp reports a session signed in with a security key at AAL3.
// Its step-up takes only a key: a code proves AAL2, and a step-up never
// lowers a session, nor may a fresh auth_time at AAL3 stand for a check
// at AAL2. Starting a new AAL2 session instead would restart its time
// limits without a password. A user without their key signs out and in
// again with a code.
func keyOnlyStepUp(r *http.Request) bool {
	c, ok := session.ClaimsFrom(r.Context())
	return ok && c.AAL() >= mfa.AAL3
}

// msgKeyOnly answers a step-up that this session cannot take.
const msgKeyOnly = "This session was signed in with a security key, so changes need that key, or one like it. " +
	"Without it, sign out and sign in with a code."

// msgAdminKey answers a step-up for the admin area with a code.
const msgAdminKey = "The admin area needs a security key or passkey: a code does not open it."

// stepUp checks a code, refreshes the session with it (a fresh
// auth_time; stepUpSession), then makes the change that asked for it.
func (a *app) stepUp(w http.ResponseWriter, r *http.Request) {
	c, u, ok := a.current(w, r)
	if !ok {
		return
	}
	action, factorID := r.PostFormValue("action"), r.PostFormValue("factor_id")
	if _, known := stepUpActions[action]; !known {
		http.Error(w, "unknown action", http.StatusBadRequest)
		return
	}
	if kind := mfa.Kind(r.PostFormValue("kind")); kind != mfa.KindWebAuthn && keyOnlyStepUp(r) {
		// Refused before the code is checked, so no backup code is spent.
		a.renderStepUp(w, r, http.StatusUnprocessableEntity, u, action, factorID, msgKeyOnly)
		return
	} else if adminStepUpOnly(action, kind) {
		a.renderStepUp(w, r, http.StatusUnprocessableEntity, u, action, factorID, msgAdminKey)
		return
	}
	kind, res, err := a.verify(r, u.ID, nil)
	if err != nil {
		msg, status, known := a.message(err, kind)
		if !known {
			a.internal(w, r, err)
			return
		}
		a.renderStepUp(w, r, status, u, action, factorID, msg)
		return
	}
	if res.AAL < c.AAL() { // a synced passkey in an AAL3 session
		a.renderStepUp(w, r, http.StatusUnprocessableEntity, u, action, factorID, msgKeyOnly)
		return
	}
	if c, ok = a.stepUpSession(w, r, res); !ok {
		return
	}
	switch action {
	case "remove":
		a.removeFactor(w, r, u, c, factorID, res.Time)
	case "regenerate":
		a.regenerate(w, r, u, c, factorID, res.Time)
	case "new-codes":
		if a.newCodes(w, r, u, res.Time, "") {
			a.factorChanged(r, u.ID, c.SessionID)
		}
	case "add-totp":
		a.beginTOTP(w, r, u, res.Time)
	case "pair":
		a.beginPair(w, r, u, res.Time)
	case "add-key": // the page's script asks for the key's options again
		redirect(w, r, "/?notice=key-step-up")
	case "add-email": // the address was not kept: the form asks again
		redirect(w, r, "/?notice=email-step-up")
	case "admin":
		redirect(w, r, "/admin/")
	}
}
