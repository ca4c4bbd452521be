package main

// Sign up, sign in (the password, then a second factor) and sign out.

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"unicode"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/email"
	"github.com/mfakit/mfa/push"
	"github.com/mfakit/mfa/session"
	"github.com/mfakit/mfa/sms"
	"golang.org/x/crypto/bcrypt"
)

var usernameRE = regexp.MustCompile(`^[a-z0-9._@-]{3,64}$`)

// Passwords: at least 8 characters (NIST SP 800-63B), at most bcrypt's 72
// bytes.
const (
	minPassword = 8
	maxPassword = 72
)

// signedInOrSigningIn reports whether the browser holds a session or a
// sign-in in progress, so the sign-up and sign-in forms send it home.
func (a *app) signedInOrSigningIn(r *http.Request) bool {
	if a.sessions.RefreshToken(r) != "" {
		return true
	}
	_, _, ok := a.pendingUser(r)
	return ok
}

func (a *app) signupForm(w http.ResponseWriter, r *http.Request) {
	if a.signedInOrSigningIn(r) {
		redirect(w, r, "/")
		return
	}
	a.render(w, http.StatusOK, "signup", formPage{base: base{Title: "Create an account"}})
}

func (a *app) signup(w http.ResponseWriter, r *http.Request) {
	name := strings.ToLower(strings.TrimSpace(r.PostFormValue("username")))
	password := r.PostFormValue("password")
	fail := func(msg string) {
		a.render(w, http.StatusUnprocessableEntity, "signup", formPage{base: base{Title: "Create an account", Error: msg}, Username: name})
	}
	switch {
	case !usernameRE.MatchString(name):
		fail("Choose a username of 3 to 64 letters, digits or . _ @ -")
		return
	case len([]rune(password)) < minPassword || len(password) > maxPassword:
		fail(fmt.Sprintf("Choose a password of at least %d characters (at most %d bytes).", minPassword, maxPassword))
		return
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), a.bcryptCost)
	if err != nil {
		a.internal(w, r, err)
		return
	}
	u, err := a.users.create(r.Context(), name, hash)
	if errors.Is(err, errUserExists) {
		fail("That username is taken.")
		return
	}
	if err != nil {
		a.internal(w, r, err)
		return
	}
	// The password is the first factor: a pending token that offers no
	// second factor, so the home page asks to enrol one.
	a.startSignIn(w, r, u)
}

func (a *app) signinForm(w http.ResponseWriter, r *http.Request) {
	if a.signedInOrSigningIn(r) {
		redirect(w, r, "/")
		return
	}
	a.render(w, http.StatusOK, "signin", formPage{base: base{Title: "Sign in"}, Passkey: a.keys})
}

// signin checks the password. The Verifier limits second-factor guesses
// only; a real app also limits password guesses per account and per IP.
func (a *app) signin(w http.ResponseWriter, r *http.Request) {
	name := strings.ToLower(strings.TrimSpace(r.PostFormValue("username")))
	password := r.PostFormValue("password")
	u, err := a.users.byName(r.Context(), name)
	hash := u.PasswordHash
	if err != nil {
		if !errors.Is(err, errNoUser) {
			a.internal(w, r, err)
			return
		}
		hash = a.dummyHash() // same work whether or not the user exists
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(password)) != nil || err != nil {
		a.render(w, http.StatusUnauthorized, "signin", formPage{base: base{Title: "Sign in", Error: "Wrong username or password."}, Username: name, Passkey: a.keys})
		return
	}
	a.startSignIn(w, r, u) // then the code step, or setup for a user with no factor
}

// startSignIn follows a right password: an MFA-pending token offering the
// user's active factors, in a cookie, and home for the next step.
func (a *app) startSignIn(w http.ResponseWriter, r *http.Request, u user) {
	list, err := a.verifier.Factors(r.Context(), u.ID)
	if err != nil {
		a.internal(w, r, err)
		return
	}
	tok, pc, err := a.sessions.IssuePending(r.Context(), u.ID, list)
	if err != nil {
		a.internal(w, r, err)
		return
	}
	a.sessions.SetPendingCookie(w, tok, pc)
	redirect(w, r, "/")
}

// signout revokes the session (by its refresh cookie, else by the access
// token's sid) and clears the cookies.
func (a *app) signout(w http.ResponseWriter, r *http.Request) {
	a.signOutQuietly(w, r)
	redirect(w, r, "/?notice=signed-out")
}

func (a *app) codeForm(w http.ResponseWriter, r *http.Request) {
	pc, u, ok := a.pendingUser(r)
	if !ok {
		redirect(w, r, "/")
		return
	}
	a.renderCode(w, r, http.StatusOK, pc, u, "")
}

func (a *app) renderCode(w http.ResponseWriter, r *http.Request, status int, pc *session.PendingClaims, u user, msg string) {
	a.renderCodeWith(w, r, status, pc, u, msg, nil)
}

// renderCodeWith is renderCode with a last change to the forms (the
// challenge of an emailed code).
func (a *app) renderCodeWith(w http.ResponseWriter, r *http.Request, status int, pc *session.PendingClaims, u user, msg string, edit func(*codeForm)) {
	set, err := a.factorsOf(r.Context(), u.ID)
	if err != nil {
		a.internal(w, r, err)
		return
	}
	if !set.anyReady {
		redirect(w, r, "/")
		return
	}
	form := codeForm{Post: "/signin/code",
		HasTOTP:  set.totp && pc.OffersKind(mfa.KindTOTP),
		HasCodes: set.codes && pc.OffersKind(mfa.KindBackupCodes),
		HasKey:   set.keys && pc.OffersKind(mfa.KindWebAuthn),
		HasPush:  set.push && pc.OffersKind(push.Kind)}
	if set.emailID != "" && pc.OffersKind(email.Kind) {
		form.EmailID = set.emailID
	}
	if a.sms && set.smsID != "" && pc.OffersKind(sms.Kind) {
		form.SMSID = set.smsID
	}
	if edit != nil {
		edit(&form)
	}
	a.render(w, status, "code", codePage{base: base{Title: "Enter a code", User: u.Name, Error: msg}, Form: form})
}

// code checks the second factor of a sign-in and starts the session.
func (a *app) code(w http.ResponseWriter, r *http.Request) {
	pc, u, ok := a.pendingUser(r)
	if !ok {
		redirect(w, r, "/")
		return
	}
	kind, res, err := a.verify(r, u.ID, pc)
	if err != nil {
		msg, status, known := a.message(err, kind)
		if !known {
			a.internal(w, r, err)
			return
		}
		a.renderCode(w, r, status, pc, u, msg)
		return
	}
	t, err := a.sessions.Start(r.Context(), u.ID, res)
	if err != nil {
		a.internal(w, r, err)
		return
	}
	a.sessions.SetCookies(w, t)
	a.sessions.ClearPendingCookie(w)
	if res.Kind == mfa.KindBackupCodes {
		redirect(w, r, "/?notice=backup-used")
		return
	}
	redirect(w, r, "/")
}

// verify checks the code posted with its kind ("totp" or "backup_codes").
// At sign-in pc is the pending token: only the kinds it offers are
// accepted, and the verification is bound to it.
func (a *app) verify(r *http.Request, userID string, pc *session.PendingClaims) (mfa.Kind, *mfa.Result, error) {
	kind := mfa.Kind(r.PostFormValue("kind"))
	if kind != mfa.KindTOTP && kind != mfa.KindBackupCodes && kind != email.Kind && (kind != sms.Kind || !a.sms) && (kind != mfa.KindWebAuthn || !a.keys) {
		return kind, nil, fmt.Errorf("%w: unknown kind", mfa.ErrInvalidInput)
	}
	var binding string
	if pc != nil {
		if !pc.OffersKind(kind) {
			return kind, nil, fmt.Errorf("%w: not offered at this sign-in", mfa.ErrNotEnrolled)
		}
		binding = pc.Binding()
	} else if c, ok := session.ClaimsFrom(r.Context()); ok {
		binding = stepUpBinding(c)
	}
	req := mfa.VerifyRequest{
		UserID:   userID,
		Kind:     kind,
		Response: response(kind, r.PostFormValue("code")),
		Binding:  binding,
		IP:       a.clientIP(r),
	}
	if kind == mfa.KindWebAuthn {
		keyVerifyRequest(r, &req)
	}
	if kind == email.Kind || kind == sms.Kind {
		req.FactorID, req.ChallengeID = r.PostFormValue("factor_id"), r.PostFormValue("challenge_id")
	}
	res, err := a.verifier.Verify(r.Context(), req)
	return kind, res, err
}

// response tidies what the user typed. Authenticator apps show "123 456";
// the totp package wants exactly the digits. Backup codes are forgiving in
// the backupcodes package itself.
func response(kind mfa.Kind, s string) string {
	if kind != mfa.KindTOTP || len(s) > 32 {
		return strings.TrimSpace(s)
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || r == '-' {
			return -1
		}
		return r
	}, s)
}
