package main

// Email codes: add an address (a code is sent to it, and typing it back
// confirms it), and sign in with a code sent to it. The codes go through
// the app's Sender: a console sender that prints them (the default), or
// SMTP with -smtp.

import (
	"errors"
	"net/http"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/email"
	"github.com/mfakit/mfa/sentcode"
	"github.com/mfakit/mfa/session"
)

const emailName = "Email codes"

type emailPage struct {
	base
	FactorID, ChallengeID, To string
}

// emailBegin adds an address: the Verifier parses it, sends a code to it
// and keeps the factor pending until the code comes back.
func (a *app) emailBegin(w http.ResponseWriter, r *http.Request, u user, c *session.AccessClaims) {
	addr := r.PostFormValue("address")
	en, err := a.verifier.BeginEnrollment(r.Context(), mfa.EnrollRequest{
		UserID: u.ID, Kind: email.Kind, Name: emailName, Destination: addr, IP: clientIP(r), AuthTime: authTimeOf(c),
	})
	if errors.Is(err, mfa.ErrStepUpRequired) {
		a.askStepUp(w, r, u, "add-email", "")
		return
	}
	if errors.Is(err, mfa.ErrInvalidInput) {
		a.render(w, http.StatusUnprocessableEntity, "error", errorPage{base{Title: "Add email codes", User: u.Name, Error: "That is not an email address this app can send to."}})
		return
	}
	if err != nil {
		msg, status, known := a.message(err, email.Kind)
		if !known {
			a.internal(w, r, err)
			return
		}
		a.render(w, status, "error", errorPage{base{Title: "Add email codes", User: u.Name, Error: msg}})
		return
	}
	sent, err := mfa.ShowAs[*sentcode.Setup](en.Show)
	if err != nil {
		a.internal(w, r, err)
		return
	}
	a.render(w, http.StatusOK, "email", emailPage{
		base:     base{Title: "Confirm your email address", User: u.Name},
		FactorID: en.FactorID, ChallengeID: en.ChallengeID, To: sent.Masked,
	})
}

// emailConfirm activates the address with the code sent to it.
func (a *app) emailConfirm(w http.ResponseWriter, r *http.Request, u user, c *session.AccessClaims) {
	res, err := a.verifier.ConfirmEnrollment(r.Context(), mfa.ConfirmRequest{
		UserID: u.ID, FactorID: r.PostFormValue("factor_id"), ChallengeID: r.PostFormValue("challenge_id"),
		Response: r.PostFormValue("code"), IP: clientIP(r), AuthTime: authTimeOf(c),
	})
	if errors.Is(err, mfa.ErrStepUpRequired) {
		a.askStepUp(w, r, u, "add-email", "")
		return
	}
	if err != nil {
		msg, status, known := a.message(err, email.Kind)
		if !known {
			a.internal(w, r, err)
			return
		}
		// The code is spent either way: the user adds the address again.
		a.render(w, status, "error", errorPage{base{Title: "Add email codes", User: u.Name, Error: msg + " Add the address again for a new code."}})
		return
	}
	if !a.sessionAfterEnrolment(w, r, u, c, res) {
		return
	}
	redirect(w, r, "/?notice=email-added")
}

// signinEmail sends a sign-in code to the user's address, bound to the
// pending sign-in, and shows the code form for it.
func (a *app) signinEmail(w http.ResponseWriter, r *http.Request) {
	pc, u, ok := a.pendingUser(r)
	if !ok || !pc.OffersKind(email.Kind) {
		redirect(w, r, "/")
		return
	}
	set, err := a.factorsOf(r.Context(), u.ID)
	if err != nil {
		a.internal(w, r, err)
		return
	}
	ch, err := a.verifier.Challenge(r.Context(), mfa.ChallengeRequest{
		UserID: u.ID, FactorID: set.emailID, Binding: pc.Binding(), IP: clientIP(r),
	})
	if err != nil {
		msg, status, known := a.message(err, email.Kind)
		if !known {
			a.internal(w, r, err)
			return
		}
		a.renderCode(w, r, status, pc, u, msg)
		return
	}
	sent, _ := mfa.ShowAs[*sentcode.Sent](ch.Show)
	a.renderCodeWith(w, r, http.StatusOK, pc, u, "", func(f *codeForm) {
		f.EmailChallenge = ch.ID
		if sent != nil {
			f.EmailTo = sent.Masked
		}
	})
}
