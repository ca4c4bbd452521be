package main

// Email and SMS codes: add an address or a number (a code is sent to it,
// and typing it back confirms it), and sign in with a code sent to it.
// Emailed codes go through a console sender that prints them (the
// default) or SMTP with -smtp; SMS codes are offered with -sms console
// (a real deployment plugs package snssender in instead).

import (
	"errors"
	"net/http"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/email"
	"github.com/mfakit/mfa/sentcode"
	"github.com/mfakit/mfa/session"
	"github.com/mfakit/mfa/sms"
)

// sentKind is what differs between the two kinds in these handlers.
type sentKind struct {
	kind   mfa.Kind
	name   string // in the user's factor list
	field  string // the form field with the destination
	notice string // after confirmation
	title  string
}

var (
	emailKind = sentKind{kind: email.Kind, name: "Email codes", field: "address", notice: "email-added", title: "Add email codes"}
	smsKind   = sentKind{kind: sms.Kind, name: "SMS codes", field: "phone", notice: "sms-added", title: "Add SMS codes"}
)

type emailPage struct {
	base
	FactorID, ChallengeID, To string
	Kind                      mfa.Kind
}

// emailBegin adds an address: the Verifier parses it, sends a code to it
// and keeps the factor pending until the code comes back.
func (a *app) emailBegin(w http.ResponseWriter, r *http.Request, u user, c *session.AccessClaims) {
	a.sentBegin(w, r, u, c, emailKind)
}

func (a *app) smsBegin(w http.ResponseWriter, r *http.Request, u user, c *session.AccessClaims) {
	a.sentBegin(w, r, u, c, smsKind)
}

func (a *app) sentBegin(w http.ResponseWriter, r *http.Request, u user, c *session.AccessClaims, k sentKind) {
	en, err := a.verifier.BeginEnrollment(r.Context(), mfa.EnrollRequest{
		UserID: u.ID, Kind: k.kind, Name: k.name, Destination: r.PostFormValue(k.field), IP: a.clientIP(r), AuthTime: authTimeOf(c),
	})
	if errors.Is(err, mfa.ErrStepUpRequired) {
		a.askStepUp(w, r, u, "add-email", "")
		return
	}
	if errors.Is(err, mfa.ErrInvalidInput) {
		a.render(w, http.StatusUnprocessableEntity, "error", errorPage{base{Title: k.title, User: u.Name, Error: "That is not an address or number this app can send to."}})
		return
	}
	if err != nil {
		msg, status, known := a.message(err, k.kind)
		if !known {
			a.internal(w, r, err)
			return
		}
		a.render(w, status, "error", errorPage{base{Title: k.title, User: u.Name, Error: msg}})
		return
	}
	sent, err := mfa.ShowAs[*sentcode.Setup](en.Show)
	if err != nil {
		a.internal(w, r, err)
		return
	}
	a.render(w, http.StatusOK, "email", emailPage{
		base:     base{Title: "Confirm the code we sent", User: u.Name},
		FactorID: en.FactorID, ChallengeID: en.ChallengeID, To: sent.Masked, Kind: k.kind,
	})
}

// sentConfirm activates an address or number with the code sent to it.
func (a *app) sentConfirm(w http.ResponseWriter, r *http.Request, u user, c *session.AccessClaims) {
	k := emailKind
	if r.PostFormValue("kind") == string(sms.Kind) && a.sms {
		k = smsKind
	}
	res, err := a.verifier.ConfirmEnrollment(r.Context(), mfa.ConfirmRequest{
		UserID: u.ID, FactorID: r.PostFormValue("factor_id"), ChallengeID: r.PostFormValue("challenge_id"),
		Response: r.PostFormValue("code"), IP: a.clientIP(r), AuthTime: authTimeOf(c),
	})
	if errors.Is(err, mfa.ErrStepUpRequired) {
		a.askStepUp(w, r, u, "add-email", "")
		return
	}
	if err != nil {
		msg, status, known := a.message(err, k.kind)
		if !known {
			a.internal(w, r, err)
			return
		}
		// The code is spent either way: the user adds it again.
		a.render(w, status, "error", errorPage{base{Title: k.title, User: u.Name, Error: msg + " Add it again for a new code."}})
		return
	}
	if !a.sessionAfterEnrolment(w, r, u, c, res) {
		return
	}
	redirect(w, r, "/?notice="+k.notice)
}

// signinEmail and signinSMS send a sign-in code to the user's address or
// number, bound to the pending sign-in, and show the code form for it.
func (a *app) signinEmail(w http.ResponseWriter, r *http.Request) { a.signinSent(w, r, email.Kind) }

func (a *app) signinSMS(w http.ResponseWriter, r *http.Request) { a.signinSent(w, r, sms.Kind) }

func (a *app) signinSent(w http.ResponseWriter, r *http.Request, kind mfa.Kind) {
	pc, u, ok := a.pendingUser(r)
	if !ok || !pc.OffersKind(kind) || (kind == sms.Kind && !a.sms) {
		redirect(w, r, "/")
		return
	}
	set, err := a.factorsOf(r.Context(), u.ID)
	if err != nil {
		a.internal(w, r, err)
		return
	}
	fid := set.emailID
	if kind == sms.Kind {
		fid = set.smsID
	}
	ch, err := a.verifier.Challenge(r.Context(), mfa.ChallengeRequest{
		UserID: u.ID, FactorID: fid, Binding: pc.Binding(), IP: a.clientIP(r),
	})
	if err != nil {
		msg, status, known := a.message(err, kind)
		if !known {
			a.internal(w, r, err)
			return
		}
		a.renderCode(w, r, status, pc, u, msg)
		return
	}
	sent, _ := mfa.ShowAs[*sentcode.Sent](ch.Show)
	a.renderCodeWith(w, r, http.StatusOK, pc, u, "", func(f *codeForm) {
		to := ""
		if sent != nil {
			to = sent.Masked
		}
		if kind == sms.Kind {
			f.SMSChallenge, f.SMSTo = ch.ID, to
		} else {
			f.EmailChallenge, f.EmailTo = ch.ID, to
		}
	})
}
