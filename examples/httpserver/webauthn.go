package main

// Security keys and passkeys (package webauthn). The pages carry one small
// script, static/webauthn.js: a form marked data-webauthn fetches options
// from one of the JSON routes below, passes them to
// navigator.credentials.create or .get, and posts the browser's answer
// with the form. The answer is checked here, through the Verifier, like
// any code:
//
//   - Add a key (account and setup pages): POST /webauthn/register/options,
//     then the form to /webauthn/register. A first key completes a first
//     sign-in; a later one needs a recent second factor (step-up).
//   - A key as the second step (code and step-up pages): the kind
//     "webauthn" on /signin/code and /step-up, with options from
//     /webauthn/signin/options (bound to the pending sign-in) or
//     /webauthn/step-up/options.
//   - Sign in with a passkey, no username or password (sign-in page):
//     POST /webauthn/passkey/options, then the form to /signin/passkey.
//     The challenge names no user; it is bound to this browser by a
//     short-lived cookie, and the passkey names the user.

import (
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/session"
	"github.com/mfakit/mfa/store"
	"github.com/mfakit/mfa/webauthn"
)

// keyName is the default name of a new key in the user's list.
const keyName = "Security key"

// passkeyCookie binds a passkey sign-in's challenge to the browser that
// asked for it.
const passkeyCookie = "mfa_example_passkey"

// setPasskeyCookie sets the passkey cookie, or with maxAge -1 clears it.
// Like the session cookies it is Secure, with the __Host- prefix (which
// needs Path=/), unless the app's URL is plain http: the URL, not the
// request, since behind a proxy that ends TLS every request is plain HTTP.
func (a *app) setPasskeyCookie(w http.ResponseWriter, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name: a.passkeyCookieName(), Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: a.secureCookies, SameSite: http.SameSiteStrictMode,
	})
}

func (a *app) passkeyCookieName() string {
	if a.secureCookies {
		return "__Host-" + passkeyCookie
	}
	return passkeyCookie
}

// newWebAuthn configures the WebAuthn factor for the app's URL: the RP ID
// is its host name and the only allowed origin is the URL itself. It fails
// for a URL that WebAuthn cannot serve (an IP address, plain http other
// than localhost); newApp then leaves keys out.
func newWebAuthn(appURL string, roots *x509.CertPool) (*webauthn.Factor, error) {
	u, err := url.Parse(appURL)
	if err != nil {
		return nil, err
	}
	cfg := webauthn.Config{
		RPID:          u.Hostname(),
		RPDisplayName: "mfa example",
		Origins:       []string{u.Scheme + "://" + u.Host},
	}
	if roots != nil {
		// Ask for the key's own statement only when it can be checked:
		// otherwise it costs the user privacy and proves nothing.
		cfg.Attestation, cfg.AttestationRoots = webauthn.AttestationDirect, roots
	}
	return webauthn.New(cfg)
}

// webauthnRoutes adds the routes of this file; none when keys are off.
func (a *app) webauthnRoutes(mux *http.ServeMux) {
	if !a.keys {
		return
	}
	mux.Handle("POST /webauthn/register/options", a.enrolment(a.keyRegisterOptions))
	mux.Handle("POST /webauthn/register", a.enrolment(a.keyRegister))
	mux.Handle("GET /webauthn/step-up", a.signedIn(a.keyStepUp))
	mux.HandleFunc("POST /webauthn/signin/options", a.keySignInOptions)
	mux.Handle("POST /webauthn/step-up/options", a.signedIn(a.keyStepUpOptions))
	mux.HandleFunc("POST /webauthn/passkey/options", a.passkeyOptions)
	mux.HandleFunc("POST /signin/passkey", a.passkeySignIn)
}

// keyOptions is the JSON the script gets: the challenge's ID and the options
// for navigator.credentials (their "publicKey" member), or, instead, a page
// to go to.
type keyOptions struct {
	ChallengeID string `json:"challengeId,omitempty"`
	PublicKey   any    `json:"publicKey,omitempty"`
	Redirect    string `json:"redirect,omitempty"`
	Error       string `json:"error,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v keyOptions) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// ---- adding a key ----

func (a *app) keyRegisterOptions(w http.ResponseWriter, r *http.Request, u user, c *session.AccessClaims) {
	en, err := a.verifier.BeginEnrollment(r.Context(), mfa.EnrollRequest{
		UserID: u.ID, Kind: mfa.KindWebAuthn, Account: u.Name, AuthTime: authTimeOf(c),
	})
	if errors.Is(err, mfa.ErrStepUpRequired) {
		writeJSON(w, http.StatusOK, keyOptions{Redirect: "/webauthn/step-up"})
		return
	}
	if err != nil {
		a.log.Error("webauthn: begin registration", "err", err)
		writeJSON(w, http.StatusInternalServerError, keyOptions{Error: "Something went wrong on our side. Try again."})
		return
	}
	creation, err := mfa.ShowAs[*protocol.CredentialCreation](en.Show)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, keyOptions{Error: "Something went wrong on our side."})
		return
	}
	writeJSON(w, http.StatusOK, keyOptions{ChallengeID: en.ChallengeID, PublicKey: creation.Response})
}

// keyRegister checks the browser's answer and stores the key. The
// registration is itself a use of the key, so, like a first TOTP code, it
// completes a first sign-in or refreshes the session, at the session's
// level at most (sessionAfterEnrolment).
func (a *app) keyRegister(w http.ResponseWriter, r *http.Request, u user, c *session.AccessClaims) {
	ctx := r.Context()
	name := strings.TrimSpace(r.PostFormValue("name"))
	if name == "" || len(name) > 64 {
		name = keyName
	}
	res, err := a.verifier.ConfirmEnrollment(ctx, mfa.ConfirmRequest{
		UserID: u.ID, ChallengeID: r.PostFormValue("challenge_id"),
		Response: r.PostFormValue("response"), Name: name, IP: a.clientIP(r),
		AuthTime: authTimeOf(c),
	})
	if errors.Is(err, mfa.ErrStepUpRequired) {
		// Another factor became active since the registration began.
		a.askStepUp(w, r, u, "add-key", "")
		return
	}
	if err != nil {
		msg, status, known := a.keyMessage(err, true)
		if !known {
			a.internal(w, r, err)
			return
		}
		a.render(w, status, "error", errorPage{base: base{Title: "The key was not added", User: u.Name, Error: msg}})
		return
	}
	if !a.sessionAfterEnrolment(w, r, u, c, res) {
		return
	}
	redirect(w, r, "/?notice="+keyNotice(res))
}

// keyNotice says which level the new key reached and why (webauthn.Credential.Level).
func keyNotice(res *mfa.Result) string {
	switch {
	case res.AAL >= mfa.AAL3:
		return "key-aal3"
	case !slices.Contains(res.AMR, webauthn.AMRKey):
		return "key-aal2"
	}
	return "key-added" // attested, but no user verification this time
}

// keyStepUp asks for a second factor before a key is added.
func (a *app) keyStepUp(w http.ResponseWriter, r *http.Request) {
	if _, u, ok := a.current(w, r); ok {
		a.askStepUp(w, r, u, "add-key", "")
	}
}

// ---- a key as the second step ----

// keySignInOptions issues the challenge of a sign-in in progress, bound to
// its pending token and offering the user's keys.
func (a *app) keySignInOptions(w http.ResponseWriter, r *http.Request) {
	pc, u, ok := a.pendingUser(r)
	if !ok || !pc.OffersKind(mfa.KindWebAuthn) {
		writeJSON(w, http.StatusUnauthorized, keyOptions{Redirect: "/"})
		return
	}
	a.keyChallenge(w, r, mfa.ChallengeRequest{UserID: u.ID, Kind: mfa.KindWebAuthn, Binding: pc.Binding(), IP: a.clientIP(r)})
}

// keyStepUpOptions issues a step-up challenge, bound to the session that
// asked for it so no other session of the user can answer it.
func (a *app) keyStepUpOptions(w http.ResponseWriter, r *http.Request) {
	if c, u, ok := a.current(w, r); ok {
		a.keyChallenge(w, r, mfa.ChallengeRequest{UserID: u.ID, Kind: mfa.KindWebAuthn, Binding: stepUpBinding(c), IP: a.clientIP(r)})
	}
}

// stepUpBinding ties a step-up challenge to one session.
func stepUpBinding(c *session.AccessClaims) string { return "session:" + c.SessionID }

func (a *app) keyChallenge(w http.ResponseWriter, r *http.Request, req mfa.ChallengeRequest) {
	ch, err := a.verifier.Challenge(r.Context(), req)
	if errors.Is(err, mfa.ErrNotFound) {
		writeJSON(w, http.StatusUnprocessableEntity, keyOptions{Error: "You have no security key or passkey."})
		return
	}
	if err != nil {
		a.log.Error("webauthn: challenge", "err", err)
		writeJSON(w, http.StatusInternalServerError, keyOptions{Error: "Something went wrong on our side. Try again."})
		return
	}
	assertion, err := mfa.ShowAs[*protocol.CredentialAssertion](ch.Show)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, keyOptions{Error: "Something went wrong on our side."})
		return
	}
	writeJSON(w, http.StatusOK, keyOptions{ChallengeID: ch.ID, PublicKey: assertion.Response})
}

// keyVerifyRequest fills in what a key's answer adds to a verification:
// the answer itself and its challenge.
func keyVerifyRequest(r *http.Request, req *mfa.VerifyRequest) {
	req.Response = r.PostFormValue("response")
	req.ChallengeID = r.PostFormValue("challenge_id")
}

// ---- passkey sign-in ----

// passkeyOptions issues a challenge for no user, bound to a random value
// this browser keeps in an HttpOnly cookie for as long as the challenge
// lives.
func (a *app) passkeyOptions(w http.ResponseWriter, r *http.Request) {
	var b [16]byte
	rand.Read(b[:]) // never fails
	binding := base64.RawURLEncoding.EncodeToString(b[:])
	ch, err := a.verifier.Challenge(r.Context(), mfa.ChallengeRequest{Kind: mfa.KindWebAuthn, Binding: binding, IP: a.clientIP(r)})
	if err != nil {
		a.log.Error("webauthn: passkey challenge", "err", err)
		writeJSON(w, http.StatusInternalServerError, keyOptions{Error: "Something went wrong on our side. Try again."})
		return
	}
	assertion, err := mfa.ShowAs[*protocol.CredentialAssertion](ch.Show)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, keyOptions{Error: "Something went wrong on our side."})
		return
	}
	a.setPasskeyCookie(w, binding, int(webauthn.DefaultTimeout/time.Second))
	writeJSON(w, http.StatusOK, keyOptions{ChallengeID: ch.ID, PublicKey: assertion.Response})
}

// passkeySignIn checks a passkey's answer: the credential names the user,
// and a passkey with user verification is both factors, so the session
// starts at once.
func (a *app) passkeySignIn(w http.ResponseWriter, r *http.Request) {
	binding := ""
	if ck, err := r.Cookie(a.passkeyCookieName()); err == nil {
		binding = ck.Value
	}
	a.setPasskeyCookie(w, "", -1)
	fail := func(status int, msg string) {
		a.render(w, status, "signin", formPage{base: base{Title: "Sign in", Error: msg}, Passkey: true})
	}
	if binding == "" {
		fail(http.StatusUnprocessableEntity, "This passkey request expired. Try again.")
		return
	}
	res, err := a.verifier.Verify(r.Context(), mfa.VerifyRequest{
		Kind: mfa.KindWebAuthn, ChallengeID: r.PostFormValue("challenge_id"), Binding: binding,
		Response: r.PostFormValue("response"), IP: a.clientIP(r),
	})
	if err != nil {
		msg, status, known := a.keyMessage(err, false)
		if !known {
			a.internal(w, r, err)
			return
		}
		fail(status, msg)
		return
	}
	if _, err := a.users.byID(r.Context(), res.UserID); err != nil { // a key of a deleted user
		fail(http.StatusUnprocessableEntity, "Your security key's answer was not accepted. Try again.")
		return
	}
	t, err := a.sessions.Start(r.Context(), res.UserID, res)
	if err != nil {
		a.internal(w, r, err)
		return
	}
	a.sessions.SetCookies(w, t)
	a.sessions.ClearPendingCookie(w)
	redirect(w, r, "/")
}

// keyMessage is message for a key's answer. registering: the answer was a
// new key's.
func (a *app) keyMessage(err error, registering bool) (msg string, status int, known bool) {
	if msg, status, known := monitorMessage(err); known {
		return msg, status, known
	}
	switch {
	case errors.Is(err, mfa.ErrRateLimited), errors.Is(err, mfa.ErrLocked):
		msg, status, known = a.message(err, mfa.KindTOTP)
		return strings.Replace(msg, "wrong codes", "failed attempts", 1), status, known
	case errors.Is(err, webauthn.ErrSignCountRegressed):
		return "Your key's signature counter went backwards, which a copied key would do, so it was refused. Use another factor and check the key.", http.StatusUnprocessableEntity, true
	case errors.Is(err, mfa.ErrExpired), errors.Is(err, mfa.ErrChallengeMismatch):
		return "This request expired or was already used. Try again.", http.StatusUnprocessableEntity, true
	case registering && errors.Is(err, store.ErrExists):
		return "This key is already registered.", http.StatusUnprocessableEntity, true
	case errors.Is(err, mfa.ErrNotFound), errors.Is(err, mfa.ErrNotEnrolled), errors.Is(err, mfa.ErrMalformedResponse),
		errors.Is(err, mfa.ErrWrongCode), errors.Is(err, mfa.ErrReplayed):
		// One neutral message: an unknown key and a wrong answer look alike.
		a.log.Info("webauthn: answer refused", "err", err) // names the failed check
		return "Your security key's answer was not accepted. Try again.", http.StatusUnprocessableEntity, true
	case errors.Is(err, mfa.ErrInvalidInput):
		return "That request was not valid.", http.StatusBadRequest, true
	}
	return "", http.StatusInternalServerError, false
}
