package main

import (
	"context"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/backupcodes"
	"github.com/mfakit/mfa/session"
	"github.com/mfakit/mfa/store"
	"github.com/mfakit/mfa/totp"
	"golang.org/x/crypto/bcrypt"
)

//go:embed templates
var templateFS embed.FS

// Names the factors get in the user's list.
const (
	totpName  = "Authenticator app"
	codesName = "Backup codes"
)

// app is the web application: handlers over the users, an mfa.Verifier
// (second factors) and a session.Manager (sign-ins and sessions). It keeps
// no state of its own between requests: everything is in the store and in
// the browser's cookies, so any number of instances can serve one site.
type app struct {
	users      userStore
	verifier   *mfa.Verifier
	sessions   *session.Manager
	freshFor   time.Duration
	bcryptCost int
	// now is the clock of the whole app, the Verifier's and the session
	// Manager's included. Tests replace it before serving so that codes
	// and token lifetimes are deterministic.
	now    func() time.Time
	log    *slog.Logger
	pages  map[string]*template.Template
	static fs.FS
	// dummyHash is compared against when the username is unknown.
	dummyHash func() []byte
	// keys: security keys and passkeys are offered (webauthn.go).
	keys bool
	// secureCookies: the app's URL is https, so its own cookies are
	// Secure, like the session Manager's.
	secureCookies bool
}

// freshFor is how recent a second-factor check must be before a factor is
// added, removed or regenerated: the Verifier's Config.FreshFor, and the
// MaxAge of the routes that change factors.
const freshFor = 10 * time.Minute

// appConfig is what newApp wires together.
type appConfig struct {
	keys  keys
	store store.Store // factors, counters, challenges, sessions
	users userStore
	// url is where browsers reach the app, e.g. "http://localhost:8080":
	// the issuer and audience of its tokens. Cookies are Secure (with the
	// __Host- prefix) unless it is plain http, which browsers allow only
	// on localhost.
	url string
	log *slog.Logger
}

// newApp wires the Verifier (TOTP, backup codes), the session Manager and
// the users.
func newApp(cfg appConfig) (*app, error) {
	a := &app{
		users:      cfg.users,
		freshFor:   freshFor,
		bcryptCost: bcrypt.DefaultCost,
		now:        time.Now,
		log:        cfg.log,
	}
	// Made on first use, so that a test can lower bcryptCost first.
	a.dummyHash = sync.OnceValue(func() []byte {
		h, err := bcrypt.GenerateFromPassword([]byte("no one's password"), a.bcryptCost)
		if err != nil {
			panic(err)
		}
		return h
	})
	// Read a.now at each call, so a test can set the clock after newApp.
	now := func() time.Time { return a.now() }
	tf, err := totp.New(totp.Config{Issuer: "mfa example"})
	if err != nil {
		return nil, err
	}
	codes, err := backupcodes.New(backupcodes.Config{})
	if err != nil {
		return nil, err
	}
	keyring, err := mfa.NewKeyring(cfg.keys.seal)
	if err != nil {
		return nil, err
	}
	factors := []mfa.Factor{tf, codes}
	if wa, err := newWebAuthn(cfg.url); err != nil {
		cfg.log.Warn("security keys and passkeys are off: WebAuthn needs https or http://localhost", "url", cfg.url, "err", err)
	} else {
		factors, a.keys = append(factors, wa), true
	}
	a.verifier, err = mfa.New(mfa.Config{
		Store:    cfg.store,
		Factors:  factors,
		Sealer:   keyring,
		HashKey:  cfg.keys.hash,
		FreshFor: a.freshFor,
		Now:      now,
		Hooks:    []mfa.Hook{mfa.SlogHook(cfg.log)},
	})
	if err != nil {
		return nil, err
	}
	signing, err := session.NewKeySet(cfg.keys.signing)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(cfg.url)
	if err != nil {
		return nil, fmt.Errorf("app URL: %w", err)
	}
	a.secureCookies = u.Scheme != "http"
	a.sessions, err = session.New(session.Config{
		Issuer:   cfg.url,
		Audience: cfg.url,
		Store:    cfg.store,
		Hasher:   a.verifier.Hasher(),
		Keys:     signing,
		// Secure cookies need HTTPS; browsers accept plain http only on
		// localhost, which is what this example serves by default.
		InsecureCookies: !a.secureCookies,
		// A sign-in in progress waits as long as a TOTP enrolment may
		// (the Verifier's EnrollTTL): a first-time user scans the QR code
		// between the password and the first code.
		PendingTTL: 15 * time.Minute,
		Now:        now,
		Hooks:      []session.Hook{sessionLog(cfg.log)},
	})
	if err != nil {
		return nil, err
	}
	if a.pages, err = parsePages(); err != nil {
		return nil, err
	}
	if a.static, err = fs.Sub(templateFS, "templates/static"); err != nil {
		return nil, err
	}
	return a, nil
}

// sessionLog logs the session Manager's events next to the Verifier's.
func sessionLog(log *slog.Logger) session.Hook {
	return func(ctx context.Context, e session.Event) error {
		log.InfoContext(ctx, "session event", "type", e.Type, "user", e.UserID, "session", e.SessionID, "aal", e.AAL)
		return nil
	}
}

// routes maps every path to its handler. Pages for signed-in users go
// through signedIn (or recent, for changes that need a fresh second
// factor); the rest check the pending sign-in themselves.
func (a *app) routes() *http.ServeMux {
	mux := http.NewServeMux()
	// Home: the account page when signed in, else the landing page or
	// the next step of a sign-in in progress.
	mux.Handle("GET /{$}", a.sessions.Require(session.AutoRefresh(), session.CheckRevocation(),
		session.OnDenied(a.signedOutHome))(http.HandlerFunc(a.account)))

	// Password, then second factor.
	mux.HandleFunc("GET /signup", a.signupForm)
	mux.HandleFunc("POST /signup", a.signup)
	mux.HandleFunc("GET /signin", a.signinForm)
	mux.HandleFunc("POST /signin", a.signin)
	mux.HandleFunc("GET /signin/code", a.codeForm)
	mux.HandleFunc("POST /signin/code", a.code)
	signout := http.HandlerFunc(a.signout)
	mux.Handle("POST /signout", a.sessions.Require(session.FromCookie(""),
		session.OnDenied(func(w http.ResponseWriter, r *http.Request, _ *session.Denial) { signout(w, r) }))(signout))

	// Factors. TOTP enrolment is open to a signed-in user and to a user
	// signing in for the first time, who has no factor yet.
	mux.Handle("POST /totp/begin", a.enrolment(a.totpBegin))
	mux.Handle("POST /totp/confirm", a.enrolment(a.totpConfirm))
	mux.Handle("POST /factors/remove", a.recent("remove", a.remove))
	mux.Handle("POST /backup-codes/regenerate", a.recent("regenerate", a.codesRegenerate))
	mux.Handle("POST /backup-codes/new", a.signedIn(a.codesNew))
	mux.Handle("POST /step-up", a.signedIn(a.stepUp))
	a.webauthnRoutes(mux)

	// Tokens for other services, and a JSON API taking the Bearer form.
	mux.Handle("GET /.well-known/jwks.json", a.sessions.JWKS())
	mux.Handle("POST /session/refresh", a.sessions.RefreshHandler())
	mux.Handle("GET /api/me", a.sessions.Require(session.MinAAL(mfa.AAL2))(http.HandlerFunc(a.apiMe)))

	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(a.static)))
	return mux
}

// handler returns the routes behind the cross-origin check and security
// headers.
func (a *app) handler() http.Handler {
	// CSRF: the session cookies are SameSite=Lax, so browsers do not send
	// them on a cross-site POST; on top of that every POST from another
	// origin is refused (Sec-Fetch-Site, else Origin against Host). Forms
	// are POST; GET handlers change nothing.
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.render(w, http.StatusForbidden, "error", errorPage{base: base{
			Title: "Request refused",
			Error: "This form was sent from another site, so it was refused.",
		}})
	}))
	return securityHeaders(cop.Handler(a.routes()))
}

func redirect(w http.ResponseWriter, r *http.Request, to string) {
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// factorSet is a user's factors as the pages need them.
type factorSet struct {
	all      []mfa.FactorInfo
	totp     bool   // an active TOTP factor
	codes    bool   // an active backup code set
	codesID  string // its ID
	keys     bool   // an active security key or passkey
	anyReady bool   // any active factor
}

func (a *app) factorsOf(ctx context.Context, userID string) (factorSet, error) {
	list, err := a.verifier.Factors(ctx, userID)
	if err != nil {
		return factorSet{}, err
	}
	set := factorSet{all: list}
	for _, f := range list {
		if !f.Active {
			continue
		}
		set.anyReady = true
		switch f.Kind {
		case mfa.KindTOTP:
			set.totp = true
		case mfa.KindBackupCodes:
			set.codes, set.codesID = true, f.ID
		case mfa.KindWebAuthn:
			set.keys = true
		}
	}
	return set, nil
}

// clientIP is the peer address, for the Verifier's per-IP counter. Behind
// a reverse proxy, take it from the proxy's header instead, and only from
// a proxy you trust.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return ""
	}
	return host
}

// ---- landing and account ----

// notices are the fixed texts a redirect can ask for with ?notice=.
var notices = map[string]string{
	"signed-out":  "You are signed out.",
	"removed":     "The factor was removed.",
	"totp-added":  "Your authenticator app is set up.",
	"key-added":   "Your security key or passkey is registered.",
	"key-aal2":    "Your security key or passkey is registered. AAL2: the key gave no attestation that chains to a configured trust anchor.",
	"key-aal3":    "Your security key or passkey is registered. AAL3: its attestation chains to a configured trust anchor.",
	"key-step-up": "Confirmed. Now add your security key or passkey.",
	"backup-used": "You signed in with a backup code. Each code works once; replace the set when you run low.",
}

// noticeText is the notice a redirect asked for: only fixed texts.
func noticeText(r *http.Request) string {
	return notices[r.URL.Query().Get("notice")]
}

// signedOutHome is home without a session: the next step of a sign-in in
// progress, or the landing page.
func (a *app) signedOutHome(w http.ResponseWriter, r *http.Request, d *session.Denial) {
	if d.Status == http.StatusServiceUnavailable {
		a.internal(w, r, d.Err)
		return
	}
	notice := noticeText(r)
	_, u, ok := a.pendingUser(r)
	if !ok {
		if d.Code == session.CodeInvalidToken { // revoked, expired or forged
			a.sessions.ClearCookies(w)
		}
		a.render(w, http.StatusOK, "landing", landingPage{base{Title: "Multi-factor sign-in, by example", Notice: notice}})
		return
	}
	set, err := a.factorsOf(r.Context(), u.ID)
	if err != nil {
		a.internal(w, r, err)
		return
	}
	if set.anyReady {
		redirect(w, r, "/signin/code")
		return
	}
	a.render(w, http.StatusOK, "setup", setupPage{base: base{Title: "Set up two-step sign-in", User: u.Name, Notice: notice}, AddKey: a.keys})
}

// account is home with a session.
func (a *app) account(w http.ResponseWriter, r *http.Request) {
	c, u, ok := a.current(w, r)
	if !ok {
		return
	}
	set, err := a.factorsOf(r.Context(), u.ID)
	if err != nil {
		a.internal(w, r, err)
		return
	}
	authTime := c.AuthTime.Time
	page := accountPage{
		base:     base{Title: "Your account", User: u.Name, Notice: noticeText(r)},
		HasTOTP:  set.totp,
		HasCodes: set.codes,
		AddKey:   a.keys,
		AuthTime: authTime,
		FreshFor: a.freshFor,
		Fresh:    a.now().Sub(authTime) <= a.freshFor,
		ACR:      c.ACR,
		AMR:      strings.Join(c.AMR, " "),
		APIURL:   "http://" + r.Host + "/api/me",
	}
	// The access token, to try the JSON API with curl. Showing it on a
	// page defeats HttpOnly, which keeps it from scripts: fine for a demo
	// without any script, not for a real site.
	if tok := a.sessions.AccessToken(r); tok != "" {
		page.AccessToken, page.AccessExpires = tok, c.ExpiresAt.Time
	}
	for _, f := range set.all {
		page.Factors = append(page.Factors, factorRow{
			ID: f.ID, Kind: string(f.Kind), Name: f.Name, Active: f.Active, LastUsed: f.LastUsed, Remaining: f.Remaining,
		})
	}
	a.render(w, http.StatusOK, "account", page)
}

// ---- sign up, sign in, sign out ----

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

// ---- second step ----

func (a *app) codeForm(w http.ResponseWriter, r *http.Request) {
	pc, u, ok := a.pendingUser(r)
	if !ok {
		redirect(w, r, "/")
		return
	}
	a.renderCode(w, r, http.StatusOK, pc, u, "")
}

func (a *app) renderCode(w http.ResponseWriter, r *http.Request, status int, pc *session.PendingClaims, u user, msg string) {
	set, err := a.factorsOf(r.Context(), u.ID)
	if err != nil {
		a.internal(w, r, err)
		return
	}
	if !set.anyReady {
		redirect(w, r, "/")
		return
	}
	a.render(w, status, "code", codePage{
		base: base{Title: "Enter a code", User: u.Name, Error: msg},
		Form: codeForm{Post: "/signin/code",
			HasTOTP:  set.totp && pc.OffersKind(mfa.KindTOTP),
			HasCodes: set.codes && pc.OffersKind(mfa.KindBackupCodes),
			HasKey:   set.keys && pc.OffersKind(mfa.KindWebAuthn)},
	})
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
	if kind != mfa.KindTOTP && kind != mfa.KindBackupCodes && (kind != mfa.KindWebAuthn || !a.keys) {
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
		IP:       clientIP(r),
	}
	if kind == mfa.KindWebAuthn {
		keyVerifyRequest(r, &req)
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

// message turns a Verifier error into what the user reads and a status;
// kind is what the user tried. known is false for errors that are the
// server's fault.
func (a *app) message(err error, kind mfa.Kind) (msg string, status int, known bool) {
	if kind == mfa.KindWebAuthn {
		return a.keyMessage(err, false)
	}
	backup := kind == mfa.KindBackupCodes
	var rl *mfa.RateLimitError
	switch {
	case errors.As(err, &rl):
		// Round up: a retry at the second shown must be admitted.
		at := rl.RetryAfter.Truncate(time.Second)
		if at.Before(rl.RetryAfter) {
			at = at.Add(time.Second)
		}
		return fmt.Sprintf("Too many wrong codes. Try again after %s (in %s).",
			at.UTC().Format("15:04:05 UTC"), humanWait(at.Sub(a.now()))), http.StatusTooManyRequests, true
	case errors.Is(err, mfa.ErrLocked):
		return "Too many failed attempts: your second factor is locked. Ask an operator to unlock it.", http.StatusLocked, true
	case errors.Is(err, mfa.ErrReplayed) && backup:
		return "That backup code was already used: each one works once. Use another.", http.StatusUnprocessableEntity, true
	case errors.Is(err, mfa.ErrReplayed):
		return "That code was already used. Wait for the next one in your app (a new code appears every 30 seconds).", http.StatusUnprocessableEntity, true
	case errors.Is(err, mfa.ErrMalformedResponse) && backup:
		return "That is not a backup code: they look like abcd-efgh-jkmnp.", http.StatusUnprocessableEntity, true
	case errors.Is(err, mfa.ErrMalformedResponse):
		return "That is not a code: enter the 6 digits your app shows.", http.StatusUnprocessableEntity, true
	case errors.Is(err, mfa.ErrWrongCode):
		return "Wrong code. Check it and try again.", http.StatusUnprocessableEntity, true
	case errors.Is(err, mfa.ErrNotFound), errors.Is(err, mfa.ErrNotEnrolled):
		if backup {
			return "You have no backup codes.", http.StatusUnprocessableEntity, true
		}
		return "You have no authenticator app set up.", http.StatusUnprocessableEntity, true
	case errors.Is(err, mfa.ErrExpired):
		return "This setup expired. Start again.", http.StatusUnprocessableEntity, true
	case errors.Is(err, mfa.ErrInvalidInput):
		return "That request was not valid.", http.StatusBadRequest, true
	}
	return "", http.StatusInternalServerError, false
}

// humanWait says a delay of up to an hour or so the way people do.
func humanWait(d time.Duration) string {
	plural := func(n int, unit string) string {
		if n == 1 {
			return "1 " + unit
		}
		return strconv.Itoa(n) + " " + unit + "s"
	}
	if d < time.Minute {
		return plural(max(1, int((d+time.Second-1)/time.Second)), "second")
	}
	return plural(int((d+time.Minute-1)/time.Minute), "minute")
}

// ---- TOTP enrolment ----

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
	return a.sessions.Require(session.AutoRefresh(), session.CheckRevocation(), session.OnDenied(
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

// authTimeOf is the session's last second-factor check; zero without one.
func authTimeOf(c *session.AccessClaims) time.Time {
	if c == nil || c.AuthTime == nil {
		return time.Time{}
	}
	return c.AuthTime.Time
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
	setup, ok := en.Show.(*totp.Setup)
	if !ok {
		a.internal(w, r, fmt.Errorf("totp enrolment shows %T", en.Show))
		return
	}
	png, err := setup.QRCode(240)
	if err != nil {
		a.internal(w, r, err)
		return
	}
	a.render(w, http.StatusOK, "enroll", enrollPage{
		base:     base{Title: "Scan the QR code", User: u.Name},
		FactorID: en.FactorID,
		// A data: URL built here from our own PNG bytes, so it is safe to
		// mark as a URL for html/template.
		QR:      template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png)),
		Secret:  groups(setup.Secret, 4),
		Expires: en.Expires,
	})
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
		Response: response(kind, r.PostFormValue("code")), IP: clientIP(r),
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

// factorChanged ends the user's other sessions after a factor was added,
// removed or replaced (ASVS 5.0 §7.4.3): whoever else was signed in signs
// in again, with the factors as they are now.
func (a *app) factorChanged(r *http.Request, userID, keepSession string) {
	if _, err := a.sessions.RevokeOthers(r.Context(), userID, keepSession); err != nil {
		a.log.Error("revoking other sessions", "user", userID, "err", err)
	}
}

// ---- backup codes ----

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
	codes, ok := en.Show.(*backupcodes.Codes)
	if !ok {
		a.internal(w, r, fmt.Errorf("backup code enrolment shows %T", en.Show))
		return
	}
	a.render(w, http.StatusOK, "codes", codesPage{
		base:  base{Title: "Save your backup codes", User: u.Name, Notice: notice},
		Codes: codes.List,
	})
}

func (a *app) codesRegenerate(w http.ResponseWriter, r *http.Request) {
	c, u, ok := a.current(w, r)
	if !ok {
		return
	}
	a.regenerate(w, r, u, c, r.PostFormValue("factor_id"), authTimeOf(c))
}

func (a *app) regenerate(w http.ResponseWriter, r *http.Request, u user, c *session.AccessClaims, factorID string, authTime time.Time) {
	en, err := a.verifier.Regenerate(r.Context(), mfa.ChangeRequest{UserID: u.ID, FactorID: factorID, AuthTime: authTime})
	if errors.Is(err, mfa.ErrStepUpRequired) {
		a.askStepUp(w, r, u, "regenerate", factorID)
		return
	}
	if errors.Is(err, mfa.ErrNotFound) {
		redirect(w, r, "/")
		return
	}
	if err != nil {
		a.internal(w, r, err)
		return
	}
	a.factorChanged(r, u.ID, c.SessionID)
	a.showCodes(w, r, u, en, "Your old backup codes no longer work.")
}

// ---- removal and step-up ----

func (a *app) remove(w http.ResponseWriter, r *http.Request) {
	c, u, ok := a.current(w, r)
	if !ok {
		return
	}
	a.removeFactor(w, r, u, c, r.PostFormValue("factor_id"), authTimeOf(c))
}

// removeFactor removes a factor. The route already demanded a recent
// auth_time (MaxAge); the Verifier checks it again (FreshFor).
func (a *app) removeFactor(w http.ResponseWriter, r *http.Request, u user, c *session.AccessClaims, factorID string, authTime time.Time) {
	err := a.verifier.RemoveFactor(r.Context(), mfa.ChangeRequest{UserID: u.ID, FactorID: factorID, AuthTime: authTime})
	switch {
	case errors.Is(err, mfa.ErrStepUpRequired):
		a.askStepUp(w, r, u, "remove", factorID)
	case errors.Is(err, mfa.ErrNotFound):
		redirect(w, r, "/")
	case err != nil:
		a.internal(w, r, err)
	default:
		a.factorChanged(r, u.ID, c.SessionID)
		redirect(w, r, "/?notice=removed")
	}
}

func (a *app) factorName(ctx context.Context, userID, factorID string) string {
	set, err := a.factorsOf(ctx, userID)
	if err == nil {
		for _, f := range set.all {
			if f.ID == factorID {
				return f.Name
			}
		}
	}
	return "this factor"
}

// stepUpActions are the changes that may wait for a step-up.
var stepUpActions = map[string]string{
	"remove":     "remove a factor",
	"regenerate": "replace your backup codes",
	"new-codes":  "create backup codes",
	"add-totp":   "add an authenticator app",
	"add-key":    "add a security key or passkey",
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
	if keyOnly {
		form.HasTOTP, form.HasCodes = false, false
	}
	a.render(w, status, "stepup", stepUpPage{
		base:    base{Title: "Confirm it's you", User: u.Name, Error: msg},
		What:    what,
		KeyOnly: keyOnly,
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
	case "add-key": // the page's script asks for the key's options again
		redirect(w, r, "/?notice=key-step-up")
	}
}
