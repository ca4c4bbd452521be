package main

// The second-factor endpoints, as one net/http handler that the Lambda
// adapter (apigw.go) serves. The pending token and the session tokens
// travel as bearer tokens and JSON, as an API client (a SPA, a mobile
// app) uses them.

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"log"
	"net/http"
	"strings"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/backupcodes"
	"github.com/mfakit/mfa/session"
	"github.com/mfakit/mfa/totp"
)

type app struct {
	v *mfa.Verifier
	m *session.Manager
}

// checkPassword is your first factor. Your code here: look the user up,
// compare a password hash, limit guesses; or accept your OIDC login.
func checkPassword(user, password string) (userID string, ok bool) {
	if user == "alice" && subtle.ConstantTimeCompare([]byte(password), []byte("wonderland")) == 1 {
		return "user-alice", true
	}
	return "", false
}

func (a *app) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /signin", a.signin)
	mux.HandleFunc("POST /totp/begin", a.totpBegin)
	mux.HandleFunc("POST /totp/confirm", a.totpConfirm)
	mux.HandleFunc("POST /signin/code", a.code)
	mux.HandleFunc("POST /backup-codes", a.backupCodes)
	mux.HandleFunc("POST /refresh", a.refresh)
	mux.HandleFunc("GET /me", a.me)
	mux.Handle("GET /.well-known/jwks.json", a.m.JWKS())
	return mux
}

// maxBody bounds a request body; API Gateway's own limit is far larger.
const maxBody = 16 << 10

// readJSON decodes a small JSON object body into v, answering 400 or 413.
func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		reply(w, http.StatusUnsupportedMediaType, map[string]string{"error": "want application/json"})
		return false
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if _, big := errors.AsType[*http.MaxBytesError](err); big {
			reply(w, http.StatusRequestEntityTooLarge, map[string]string{"error": "body too large"})
			return false
		}
		reply(w, http.StatusBadRequest, map[string]string{"error": "malformed JSON"})
		return false
	}
	return true
}

func reply(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// bearer returns the request's bearer token, or "".
func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "Bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

// pending is the sign-in in progress, from the bearer pending token.
func (a *app) pending(w http.ResponseWriter, r *http.Request) (*session.PendingClaims, bool) {
	pc, err := a.m.VerifyPending(bearer(r))
	if err != nil {
		reply(w, http.StatusUnauthorized, map[string]string{"error": "sign in first"})
		return nil, false
	}
	return pc, true
}

func (a *app) signin(w http.ResponseWriter, r *http.Request) {
	var in struct{ User, Password string }
	if !readJSON(w, r, &in) {
		return
	}
	uid, ok := checkPassword(in.User, in.Password)
	if !ok {
		reply(w, http.StatusUnauthorized, map[string]string{"error": "wrong user or password"})
		return
	}
	factors, err := a.v.Factors(r.Context(), uid)
	if err != nil {
		fail(w, err)
		return
	}
	token, pc, err := a.m.IssuePending(r.Context(), uid, factors)
	if err != nil {
		fail(w, err)
		return
	}
	reply(w, http.StatusOK, map[string]any{"pending_token": token, "factors": pc.Factors})
}

func (a *app) totpBegin(w http.ResponseWriter, r *http.Request) {
	pc, ok := a.pending(w, r)
	if !ok {
		return
	}
	en, err := a.v.BeginEnrollment(r.Context(), mfa.EnrollRequest{UserID: pc.Subject, Kind: mfa.KindTOTP, Account: pc.Subject})
	if errors.Is(err, mfa.ErrStepUpRequired) {
		reply(w, http.StatusForbidden, map[string]string{"error": "you have a second factor: sign in with it"})
		return
	}
	if err != nil {
		fail(w, err)
		return
	}
	setup, err := mfa.ShowAs[*totp.Setup](en.Show)
	if err != nil {
		fail(w, err)
		return
	}
	reply(w, http.StatusOK, map[string]string{"factor_id": en.FactorID, "secret": setup.Secret, "uri": setup.URI})
}

func (a *app) totpConfirm(w http.ResponseWriter, r *http.Request) {
	pc, ok := a.pending(w, r)
	if !ok {
		return
	}
	var in struct {
		FactorID string `json:"factor_id"`
		Code     string `json:"code"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	res, err := a.v.ConfirmEnrollment(r.Context(), mfa.ConfirmRequest{UserID: pc.Subject, FactorID: in.FactorID, Response: in.Code, IP: clientIP(r)})
	a.start(w, r, pc.Subject, res, err)
}

// code checks a TOTP or backup code, bound to the pending token.
func (a *app) code(w http.ResponseWriter, r *http.Request) {
	pc, ok := a.pending(w, r)
	if !ok {
		return
	}
	var in struct {
		Kind string `json:"kind"` // "totp" (default) or "backup_codes"
		Code string `json:"code"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	kind := mfa.KindTOTP
	if in.Kind == string(mfa.KindBackupCodes) {
		kind = mfa.KindBackupCodes
	}
	res, err := a.v.Verify(r.Context(), mfa.VerifyRequest{UserID: pc.Subject, Kind: kind, Response: in.Code, Binding: pc.Binding(), IP: clientIP(r)})
	a.start(w, r, pc.Subject, res, err)
}

func (a *app) start(w http.ResponseWriter, r *http.Request, uid string, res *mfa.Result, err error) {
	var rl *mfa.RateLimitError
	switch {
	case errors.As(err, &rl):
		w.Header().Set("Retry-After", rl.RetryAfter.UTC().Format(http.TimeFormat))
		reply(w, http.StatusTooManyRequests, map[string]string{"error": "too many attempts"})
		return
	case errors.Is(err, mfa.ErrLocked):
		reply(w, http.StatusTooManyRequests, map[string]string{"error": "locked: ask support"})
		return
	case err != nil: // wrong, replayed, expired; or the store failed: deny either way
		log.Print(err)
		reply(w, http.StatusUnauthorized, map[string]string{"error": "code refused"})
		return
	}
	tokens, err := a.m.Start(r.Context(), uid, res)
	if err != nil {
		fail(w, err)
		return
	}
	reply(w, http.StatusOK, tokens)
}

// access checks the bearer access token (the JWT authorizer of an HTTP API
// does the same before the function runs).
func (a *app) access(w http.ResponseWriter, r *http.Request) (*session.AccessClaims, bool) {
	c, err := a.m.VerifyAccess(bearer(r))
	if err != nil {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		reply(w, http.StatusUnauthorized, map[string]string{"error": "access token required"})
		return nil, false
	}
	return c, true
}

// backupCodes gives a signed-in user a set of backup codes (shown once).
func (a *app) backupCodes(w http.ResponseWriter, r *http.Request) {
	c, ok := a.access(w, r)
	if !ok {
		return
	}
	en, err := a.v.BeginEnrollment(r.Context(), mfa.EnrollRequest{UserID: c.Subject, Kind: mfa.KindBackupCodes, AuthTime: c.AuthTime.Time})
	if err != nil {
		fail(w, err)
		return
	}
	codes, err := mfa.ShowAs[*backupcodes.Codes](en.Show)
	if err != nil {
		fail(w, err)
		return
	}
	reply(w, http.StatusOK, map[string]any{"codes": codes.List})
}

func (a *app) refresh(w http.ResponseWriter, r *http.Request) {
	var in struct {
		RefreshToken string `json:"refresh_token"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	tokens, err := a.m.Refresh(r.Context(), in.RefreshToken)
	if err != nil {
		reply(w, http.StatusUnauthorized, map[string]string{"error": "refresh refused"})
		return
	}
	reply(w, http.StatusOK, tokens)
}

func (a *app) me(w http.ResponseWriter, r *http.Request) {
	if c, ok := a.access(w, r); ok {
		reply(w, http.StatusOK, map[string]any{"sub": c.Subject, "acr": c.ACR, "amr": c.AMR})
	}
}

// clientIP is the caller's address as API Gateway saw it (see apigw.go).
func clientIP(r *http.Request) string { return r.Header.Get(sourceIPHeader) }

func fail(w http.ResponseWriter, err error) {
	log.Print(err)
	reply(w, http.StatusInternalServerError, map[string]string{"error": "internal error"})
}
