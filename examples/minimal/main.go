// Command minimal is the smallest complete use of mfa: your own password
// check, an authenticator app (TOTP) as the second factor, and a route
// that needs both. State is in memory, lost at exit.
//
//	go run ./examples/minimal
//
// Then, from another terminal, with CODE from an authenticator app given
// the printed secret (or oathtool --totp -b SECRET):
//
//	curl -c jar -b jar -d user=alice -d password=wonderland localhost:8081/signin
//	curl -c jar -b jar -X POST localhost:8081/totp/begin
//	curl -c jar -b jar -d factor_id=ID -d code=CODE localhost:8081/totp/confirm
//	curl -c jar -b jar localhost:8081/secret
//
// Later sign-ins: /signin, then /signin/code with -d code=CODE.
package main

import (
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"time"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/session"
	"github.com/mfakit/mfa/store/memstore"
	"github.com/mfakit/mfa/totp"
)

const addr = "localhost:8081"

func main() {
	h, err := newHandler(time.Now)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("listening on http://%s/", addr)
	log.Fatal(http.ListenAndServe(addr, h))
}

// checkPassword is your first factor, returning the user's stable ID. Your
// code here: look the user up, compare a bcrypt hash, limit guesses.
func checkPassword(user, password string) (userID string, ok bool) {
	if user == "alice" && subtle.ConstantTimeCompare([]byte(password), []byte("wonderland")) == 1 {
		return "user-alice", true
	}
	return "", false
}

type app struct {
	v *mfa.Verifier    // second factors
	m *session.Manager // sign-ins in progress, and sessions
}

// newHandler wires the Verifier and the session Manager; now is the clock.
func newHandler(now func() time.Time) (http.Handler, error) {
	// A real service loads its keys from a secret manager instead.
	sealKey, hashKey := make([]byte, 32), make([]byte, 32)
	rand.Read(sealKey)
	rand.Read(hashKey)
	keyring, err := mfa.NewKeyring(mfa.Key{ID: "seal-1", Secret: sealKey})
	if err != nil {
		return nil, err
	}
	signing, err := session.GenerateEd25519Key("sign-1", nil)
	if err != nil {
		return nil, err
	}
	keys, err := session.NewKeySet(signing)
	if err != nil {
		return nil, err
	}
	tf, err := totp.New(totp.Config{Issuer: "mfa minimal"})
	if err != nil {
		return nil, err
	}

	st := memstore.New() // or sqlstore, redisstore
	var a app
	a.v, err = mfa.New(mfa.Config{Store: st, Factors: []mfa.Factor{tf}, Sealer: keyring, HashKey: hashKey, Now: now})
	if err != nil {
		return nil, err
	}
	a.m, err = session.New(session.Config{
		Issuer: "http://" + addr, Audience: "http://" + addr, Store: st, Hasher: a.v.Hasher(), Keys: keys, Now: now,
		InsecureCookies: true,             // plain http on localhost only
		PendingTTL:      15 * time.Minute, // time to set up the app at a first sign-in
	})
	if err != nil {
		return nil, err
	}

	mux := http.NewServeMux()
	mux.HandleFunc("POST /signin", a.signin)
	mux.HandleFunc("POST /totp/begin", a.totpBegin)
	mux.HandleFunc("POST /totp/confirm", a.totpConfirm)
	mux.HandleFunc("POST /signin/code", a.code)
	mux.Handle("GET /secret", a.m.Require(session.FromCookie(""), session.MinAAL(mfa.AAL2))(http.HandlerFunc(secret)))
	return http.NewCrossOriginProtection().Handler(mux), nil
}

// signin checks the password, then sets an MFA-pending cookie: no session yet.
func (a *app) signin(w http.ResponseWriter, r *http.Request) {
	uid, ok := checkPassword(r.PostFormValue("user"), r.PostFormValue("password"))
	if !ok {
		http.Error(w, "wrong user or password", http.StatusUnauthorized)
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
	a.m.SetPendingCookie(w, token, pc)
	fmt.Fprintln(w, "password ok; next: POST /signin/code, or /totp/begin at the first sign-in")
}

// pending is the sign-in in progress; without one it answers 401.
func (a *app) pending(w http.ResponseWriter, r *http.Request) (*session.PendingClaims, bool) {
	pc, err := a.m.Pending(r)
	if err != nil {
		http.Error(w, "sign in first", http.StatusUnauthorized)
	}
	return pc, err == nil
}

// totpBegin starts enrolling an authenticator app. Without a session the
// Verifier allows it only while the user has no active factor
// (ErrStepUpRequired otherwise): a password alone cannot add one.
func (a *app) totpBegin(w http.ResponseWriter, r *http.Request) {
	pc, ok := a.pending(w, r)
	if !ok {
		return
	}
	en, err := a.v.BeginEnrollment(r.Context(), mfa.EnrollRequest{UserID: pc.Subject, Kind: mfa.KindTOTP, Account: pc.Subject})
	if errors.Is(err, mfa.ErrStepUpRequired) {
		http.Error(w, "you have a second factor: sign in with it", http.StatusForbidden)
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
	// Shown once; the store keeps the seed sealed. setup.QRCode draws it.
	fmt.Fprintf(w, "secret: %s\nuri: %s\nfactor_id: %s\n", setup.Secret, setup.URI, en.FactorID)
}

// totpConfirm activates the factor with a first code: this sign-in's proof.
func (a *app) totpConfirm(w http.ResponseWriter, r *http.Request) {
	if pc, ok := a.pending(w, r); ok {
		res, err := a.v.ConfirmEnrollment(r.Context(), mfa.ConfirmRequest{UserID: pc.Subject,
			FactorID: r.PostFormValue("factor_id"), Response: r.PostFormValue("code"), IP: clientIP(r)})
		a.startSession(w, r, pc.Subject, res, err)
	}
}

// code checks the second factor of a sign-in, bound to its pending token.
func (a *app) code(w http.ResponseWriter, r *http.Request) {
	if pc, ok := a.pending(w, r); ok {
		res, err := a.v.Verify(r.Context(), mfa.VerifyRequest{UserID: pc.Subject, Kind: mfa.KindTOTP,
			Response: r.PostFormValue("code"), Binding: pc.Binding(), IP: clientIP(r)})
		a.startSession(w, r, pc.Subject, res, err)
	}
}

// startSession turns a verification into session cookies, or refuses.
func (a *app) startSession(w http.ResponseWriter, r *http.Request, uid string, res *mfa.Result, err error) {
	switch {
	case errors.Is(err, mfa.ErrRateLimited), errors.Is(err, mfa.ErrLocked): // wait, or an operator unlocks
		http.Error(w, err.Error(), http.StatusTooManyRequests)
		return
	case err != nil: // wrong, replayed, expired; or the store failed: deny either way
		log.Print(err)
		http.Error(w, "code refused", http.StatusUnauthorized)
		return
	}
	tokens, err := a.m.Start(r.Context(), uid, res)
	if err != nil {
		fail(w, err)
		return
	}
	a.m.SetCookies(w, tokens)
	a.m.ClearPendingCookie(w)
	fmt.Fprintf(w, "signed in, %s; try GET /secret\n", session.ACR(res.AAL))
}

// secret is behind MinAAL(AAL2): only a session with a second factor.
func secret(w http.ResponseWriter, r *http.Request) {
	c, _ := session.ClaimsFrom(r.Context())
	fmt.Fprintf(w, "hello %s (%s)\n", c.Subject, c.ACR)
}

// fail answers what is the server's fault: logged, never shown.
func fail(w http.ResponseWriter, err error) {
	log.Print(err)
	http.Error(w, "internal error", http.StatusInternalServerError)
}

// clientIP feeds the per-IP limit (behind a proxy: your proxy's header).
func clientIP(r *http.Request) string {
	host, _, _ := net.SplitHostPort(r.RemoteAddr)
	return host
}
