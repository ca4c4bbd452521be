package main

// Account recovery for a user who lost every factor (package recovery):
//
//   - /recover: the password (this app's identity check; a real app adds
//     an emailed link) and a reason open a case. The page shows a link
//     holding the grant token, once.
//   - /admin: an operator (the -admin user, signed in at AAL2) approves or
//     denies. The approval takes effect after the waiting period.
//   - /recover/redeem: the link, and the password again, redeem the grant
//     once and start a recovery session: AAL1, amr "rec". Every other page
//     wants AAL2, so that session reaches only /recover/enrol.
//   - /recover/enrol: one new authenticator app; its first code completes
//     the case, removes the lost factors and ends the recovery session.
//     The user then signs in with the new factor.
//
// Signing in with a factor cancels the user's open cases (the Manager's
// hook on the Verifier).

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/recovery"
	"github.com/mfakit/mfa/session"
	"golang.org/x/crypto/bcrypt"
)

func init() {
	pageNames = append(pageNames, "recover", "recover-link", "recover-redeem", "recover-enrol", "admin")
	notices["recovered"] = "Your new authenticator app is set up and your lost factors are removed. Sign in with it."
	notices["decided"] = "Decision recorded."
}

// recoveryWait is the waiting period: the package's default, named here
// so the page can say when an approval takes effect.
const recoveryWait = 24 * time.Hour

type (
	recoverPage struct {
		base
		Username, Reason string
	}
	recoverLinkPage struct {
		base
		Link      string
		NotBefore string
	}
	recoverRedeemPage struct {
		base
		Token, Username string
	}
	adminPage struct {
		base
		Cases []recovery.Case
	}
)

// newRecovery builds the recovery Manager; notices go to the log, the
// example's stand-in for every channel on file.
func newRecovery(a *app, st recovery.Store) (*recovery.Manager, error) {
	return recovery.New(recovery.Config{
		Store: st, Verifier: a.verifier, Wait: recoveryWait, Now: func() time.Time { return a.now() },
		Notify: func(ctx context.Context, e recovery.Event) error {
			a.log.InfoContext(ctx, "recovery notice to the user (every channel on file)", "type", e.Type, "user", e.UserID, "case", e.CaseID)
			return nil
		},
		Hooks: append([]recovery.Hook{func(ctx context.Context, e recovery.Event) error {
			a.log.InfoContext(ctx, "recovery audit", "type", e.Type, "user", e.UserID, "case", e.CaseID, "actor", e.Actor, "reason", e.Reason)
			return nil
		}}, a.recoveryHooks()...),
	})
}

func (a *app) recoveryRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /recover", func(w http.ResponseWriter, r *http.Request) {
		a.render(w, http.StatusOK, "recover", recoverPage{base: base{Title: "Lost your second factor?"}})
	})
	mux.HandleFunc("POST /recover", a.recoverOpen)
	mux.HandleFunc("GET /recover/redeem", func(w http.ResponseWriter, r *http.Request) {
		a.render(w, http.StatusOK, "recover-redeem", recoverRedeemPage{base: base{Title: "Recover your account"}, Token: r.URL.Query().Get("token")})
	})
	mux.HandleFunc("POST /recover/redeem", a.recoverRedeem)
	rec := func(h func(http.ResponseWriter, *http.Request, user)) http.Handler {
		return a.sessions.Require(session.AutoRefresh(), session.CheckRevocation(), session.OnDenied(a.denied))(
			http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				c, u, ok := a.current(w, r)
				if ok && !slices.Contains(c.AMR, recovery.AMR) {
					redirect(w, r, "/") // a normal session adds factors on its account page
					return
				}
				if ok {
					h(w, r, u)
				}
			}))
	}
	mux.Handle("GET /recover/enrol", rec(a.recoverEnrol))
	mux.Handle("POST /recover/confirm", rec(a.recoverConfirm))
	mux.Handle("GET /admin", a.signedIn(a.adminQueue))
	mux.Handle("POST /admin/decide", a.signedIn(a.adminDecide))
}

// checkPassword is the sign-in's password check, the same work whether or
// not the user exists.
func (a *app) checkPassword(r *http.Request) (user, bool, error) {
	name := strings.ToLower(strings.TrimSpace(r.PostFormValue("username")))
	u, err := a.users.byName(r.Context(), name)
	hash := u.PasswordHash
	if err != nil {
		if !errors.Is(err, errNoUser) {
			return user{}, false, err
		}
		hash = a.dummyHash()
	}
	ok := bcrypt.CompareHashAndPassword(hash, []byte(r.PostFormValue("password"))) == nil && err == nil
	return u, ok, nil
}

func (a *app) recoverOpen(w http.ResponseWriter, r *http.Request) {
	reason := strings.TrimSpace(r.PostFormValue("reason"))
	fail := func(status int, msg string) {
		a.render(w, status, "recover", recoverPage{base: base{Title: "Lost your second factor?", Error: msg}, Username: r.PostFormValue("username"), Reason: reason})
	}
	u, ok, err := a.checkPassword(r)
	if err != nil {
		a.internal(w, r, err)
		return
	}
	if !ok {
		fail(http.StatusUnauthorized, "Wrong username or password.")
		return
	}
	o, err := a.recovery.Open(r.Context(), recovery.OpenRequest{
		UserID: u.ID, Reason: reason, Validator: "password",
		Source: recovery.Source{IP: a.clientIP(r), UserAgent: r.UserAgent()},
	})
	switch {
	case errors.Is(err, recovery.ErrRateLimited):
		fail(http.StatusTooManyRequests, "Too many recovery requests for this account or from this address today. Try again tomorrow.")
		return
	case errors.Is(err, recovery.ErrNoFactors):
		fail(http.StatusUnprocessableEntity, "This account has no second factor to recover: sign in with your password.")
		return
	case errors.Is(err, recovery.ErrInvalidInput):
		fail(http.StatusBadRequest, "Keep the reason to one line of plain text.")
		return
	case err != nil:
		a.internal(w, r, err)
		return
	}
	a.render(w, http.StatusOK, "recover-link", recoverLinkPage{
		base:      base{Title: "Recovery requested", User: u.Name},
		Link:      "/recover/redeem?token=" + o.Token,
		NotBefore: o.Case.Created.Add(recoveryWait).UTC().Format("Jan 2, 15:04 UTC"),
	})
}

func (a *app) recoverRedeem(w http.ResponseWriter, r *http.Request) {
	token := r.PostFormValue("token")
	fail := func(status int, msg string) {
		a.render(w, status, "recover-redeem", recoverRedeemPage{base: base{Title: "Recover your account", Error: msg}, Token: token, Username: r.PostFormValue("username")})
	}
	u, ok, err := a.checkPassword(r)
	if err != nil {
		a.internal(w, r, err)
		return
	}
	if !ok {
		fail(http.StatusUnauthorized, "Wrong username or password.")
		return
	}
	g, err := a.recovery.Redeem(r.Context(), recovery.RedeemRequest{UserID: u.ID, Token: token, IP: a.clientIP(r)})
	switch {
	case errors.Is(err, recovery.ErrWaiting):
		fail(http.StatusConflict, "Your request is approved, but the waiting period has not ended. Come back later.")
		return
	case errors.Is(err, recovery.ErrOwnerActive):
		fail(http.StatusConflict, "Someone signed in to this account with one of its factors, so the recovery was cancelled.")
		return
	case err != nil && !errors.Is(err, recovery.ErrStore):
		// One message for a wrong, used, expired or unapproved link.
		fail(http.StatusConflict, "This recovery link cannot be used now: it is not approved yet, already used, or expired.")
		return
	case err != nil:
		a.internal(w, r, err)
		return
	}
	t, err := a.sessions.Start(r.Context(), u.ID, g.Result())
	if err != nil {
		a.internal(w, r, err)
		return
	}
	a.sessions.SetCookies(w, t)
	redirect(w, r, "/recover/enrol")
}

func (a *app) recoverEnrol(w http.ResponseWriter, r *http.Request, u user) {
	en, err := a.recovery.BeginEnrollment(r.Context(), mfa.EnrollRequest{UserID: u.ID, Kind: mfa.KindTOTP, Name: totpName, Account: u.Name})
	if err != nil {
		a.recoveryOver(w, r, err)
		return
	}
	page, err := totpPage(en, "Add your new authenticator app", u.Name)
	if err != nil {
		a.internal(w, r, err)
		return
	}
	a.render(w, http.StatusOK, "recover-enrol", page)
}

func (a *app) recoverConfirm(w http.ResponseWriter, r *http.Request, u user) {
	_, err := a.recovery.ConfirmEnrollment(r.Context(), mfa.ConfirmRequest{
		UserID: u.ID, FactorID: r.PostFormValue("factor_id"), Response: response(mfa.KindTOTP, r.PostFormValue("code")), IP: a.clientIP(r),
	})
	if msg, status, known := a.message(err, mfa.KindTOTP); err != nil && known {
		a.render(w, status, "recover-enrol", enrollPage{base: base{Title: "Add your new authenticator app", User: u.Name, Error: msg}, FactorID: r.PostFormValue("factor_id"), Retry: true})
		return
	}
	if err != nil {
		a.recoveryOver(w, r, err)
		return
	}
	// The recovery session ends with the enrolment: a sign-in with the
	// new factor makes a normal one.
	a.signOutQuietly(w, r)
	redirect(w, r, "/?notice=recovered")
}

// recoveryOver ends a recovery session whose grant no longer allows an
// enrolment.
func (a *app) recoveryOver(w http.ResponseWriter, r *http.Request, err error) {
	if !errors.Is(err, recovery.ErrState) && !errors.Is(err, recovery.ErrExpired) {
		a.internal(w, r, err)
		return
	}
	a.signOutQuietly(w, r)
	a.render(w, http.StatusConflict, "error", errorPage{base: base{Title: "Recovery over", Error: "This recovery is over: it was completed or its time ran out."}})
}

// operator returns the signed-in operator, or answers 403.
func (a *app) operator(w http.ResponseWriter, r *http.Request) (recovery.Operator, user, bool) {
	c, u, ok := a.current(w, r)
	if !ok {
		return recovery.Operator{}, user{}, false
	}
	if a.admin == "" || u.Name != a.admin {
		a.render(w, http.StatusForbidden, "error", errorPage{base: base{Title: "Not an operator", User: u.Name, Error: "Only the operator named by -admin reviews recoveries."}})
		return recovery.Operator{}, user{}, false
	}
	return recovery.Operator{ID: u.ID, AAL: c.AAL()}, u, true
}

func (a *app) adminQueue(w http.ResponseWriter, r *http.Request) {
	op, u, ok := a.operator(w, r)
	if !ok {
		return
	}
	cases, err := a.recovery.Admin().Queue(r.Context(), op, 50)
	if err != nil {
		a.internal(w, r, err)
		return
	}
	a.render(w, http.StatusOK, "admin", adminPage{base: base{Title: "Recovery requests", User: u.Name, Notice: noticeText(r)}, Cases: cases})
}

func (a *app) adminDecide(w http.ResponseWriter, r *http.Request) {
	op, _, ok := a.operator(w, r)
	if !ok {
		return
	}
	id, note := r.PostFormValue("case_id"), r.PostFormValue("note")
	var err error
	if r.PostFormValue("decision") == "approve" {
		_, err = a.recovery.Admin().Approve(r.Context(), op, id, note)
	} else {
		_, err = a.recovery.Admin().Deny(r.Context(), op, id, note)
	}
	switch {
	case err == nil:
		redirect(w, r, "/admin?notice=decided")
	case errors.Is(err, recovery.ErrStore):
		a.internal(w, r, err)
	default:
		a.render(w, http.StatusConflict, "error", errorPage{base: base{Title: "Not decided", Error: "That case cannot be decided now: " + publicRecoveryError(err)}})
	}
}

func publicRecoveryError(err error) string {
	switch {
	case errors.Is(err, recovery.ErrState):
		return "it was decided, cancelled or used already."
	case errors.Is(err, recovery.ErrOwnerActive):
		return "the owner signed in since it was opened, so it was cancelled."
	case errors.Is(err, recovery.ErrForbidden):
		return "you cannot decide it (your own case, or your session is below AAL2)."
	case errors.Is(err, recovery.ErrExpired):
		return "it waited too long for review."
	}
	return "it was not found."
}
