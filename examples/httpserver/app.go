package main

import (
	"context"
	"crypto/x509"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"sync"
	"time"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/backupcodes"
	"github.com/mfakit/mfa/clientip"
	"github.com/mfakit/mfa/email"
	mfaprom "github.com/mfakit/mfa/metrics/prometheus"
	"github.com/mfakit/mfa/monitor"
	"github.com/mfakit/mfa/policy"
	"github.com/mfakit/mfa/push"
	"github.com/mfakit/mfa/recovery"
	"github.com/mfakit/mfa/sentcode"
	"github.com/mfakit/mfa/session"
	"github.com/mfakit/mfa/sms"
	"github.com/mfakit/mfa/store"
	"github.com/mfakit/mfa/totp"
	"golang.org/x/crypto/bcrypt"
)

//go:embed templates
var templateFS embed.FS

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
	// sms: SMS codes are offered (a sender is configured).
	sms bool
	// secureCookies: the app's URL is https, so its own cookies are
	// Secure, like the session Manager's.
	secureCookies bool
	// recovery opens and reviews recovery cases (recovery.go); admin is
	// the username of the operator who reviews them.
	recovery *recovery.Manager
	admin    string
	// push is the push factor (push.go); url is where browsers reach the
	// app, for the pairing link.
	push     *push.Factor
	vapidKey string // the Web Push public key devices subscribe with
	url      string
	// Monitoring (monitoring.go): where client addresses come from, the
	// sign-in monitor and its alert log (nil when the store keeps no
	// signal lists), the metrics and who may read them, and the admin
	// area's policy (admin.go).
	ip             *clientip.Source
	monitor        *monitor.Monitor
	alertLog       *monitor.AlertLog
	metrics        *mfaprom.Metrics
	metricsFrom    []netip.Prefix
	adminPolicy    *policy.Policy
	adminNote      string   // why the admin area is closed; "" when it is open
	adminCountries []string // where it is open from; nil for anywhere
}

// freshFor is how recent a second-factor check must be before a factor is
// added, removed or regenerated: the Verifier's Config.FreshFor, and the
// MaxAge of the routes that change factors.
const freshFor = 10 * time.Minute

// appStore is the storage the app hands out: factors, counters and
// challenges to the Verifier, sessions and devices to the session Manager.
// Every backend of this module keeps all five in one value.
type appStore interface {
	mfa.Store
	session.Store
	store.Recovery
}

// appConfig is what newApp wires together.
type appConfig struct {
	keys  keys
	store appStore
	users userStore
	// url is where browsers reach the app, e.g. "http://localhost:8080":
	// the issuer and audience of its tokens. Cookies are Secure (with the
	// __Host- prefix) unless it is plain http, which browsers allow only
	// on localhost.
	url string
	log *slog.Logger
	// attestationRoots: keys whose attestation chains to one of these
	// reach AAL3; nil: every key reaches AAL2 at most.
	attestationRoots *x509.CertPool
	// admin is the username of the operator who reviews recoveries.
	admin string
	// sender delivers emailed codes; nil: a console sender that prints
	// them to stdout (development only: the code is the secret).
	sender sentcode.Sender
	// smsSender, when set, turns SMS codes on and delivers them.
	smsSender sentcode.Sender
	// ops: client addresses, geolocation, /metrics and the admin area
	// (monitoring.go); the zero value reads the peer address, places
	// nothing, serves /metrics to loopback only and restricts no country.
	ops opsConfig
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
		admin:      cfg.admin,
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
	// Every store call is timed for the metrics; the monitor and its alert
	// log keep their lists in the same store, when it has them.
	st, err := a.wireMonitoring(cfg, now)
	if err != nil {
		return nil, err
	}
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
	if a.push, a.vapidKey, err = newPush(st.verifier, cfg.keys.hash, now, cfg.log); err != nil {
		return nil, err
	}
	a.url = cfg.url
	sender := cfg.sender
	if sender == nil {
		sender = sentcode.NewConsole(os.Stdout)
	}
	// The example's policy accepts an emailed code as a second factor at
	// AAL2, so it reaches the account pages (which need AAL2 to keep a
	// recovery session, at AAL1, out). That is a choice, and a weaker one:
	// NIST does not count email as an out-of-band authenticator, and the
	// library's default is AAL1 (email.Config.AAL).
	emailCodes, err := email.New(email.Config{Sender: sender, Issuer: "mfa example", AAL: mfa.AAL2})
	if err != nil {
		return nil, err
	}
	factors := []mfa.Factor{tf, codes, a.push, emailCodes}
	if cfg.smsSender != nil {
		smsCodes, err := sms.New(sms.Config{Sender: cfg.smsSender, Issuer: "mfa example"})
		if err != nil {
			return nil, err
		}
		factors, a.sms = append(factors, smsCodes), true
	}
	if wa, err := newWebAuthn(cfg.url, cfg.attestationRoots); err != nil {
		cfg.log.Warn("security keys and passkeys are off: WebAuthn needs https or http://localhost", "url", cfg.url, "err", err)
	} else {
		factors, a.keys = append(factors, wa), true
	}
	a.verifier, err = mfa.New(mfa.Config{
		Store:    st.verifier,
		Factors:  factors,
		Sealer:   keyring,
		HashKey:  cfg.keys.hash,
		FreshFor: a.freshFor,
		Now:      now,
		// The monitor may deny an attempt (an address trying many
		// accounts) or ask for a security key (impossible travel).
		Guard: a.guard(),
		// A sign-in with a factor cancels the user's open recoveries.
		Hooks: append([]mfa.Hook{mfa.SlogHook(cfg.log), func(ctx context.Context, e mfa.Event) error { return a.recovery.Hook()(ctx, e) }},
			a.verifierHooks()...),
	})
	if err != nil {
		return nil, err
	}
	if a.recovery, err = newRecovery(a, st.recovery); err != nil {
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
		Store:    st.sessions,
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
		Hooks:      append([]session.Hook{sessionLog(cfg.log)}, a.sessionHooks()...),
	})
	if err != nil {
		return nil, err
	}
	if err := a.wirePolicy(cfg); err != nil {
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
	mux.Handle("GET /{$}", a.sessions.Require(session.AutoRefresh(), session.CheckRevocation(), session.MinAAL(mfa.AAL2),
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
	mux.Handle("POST /email/begin", a.enrolment(a.emailBegin))
	mux.Handle("POST /email/confirm", a.enrolment(a.sentConfirm))
	mux.Handle("POST /sms/begin", a.enrolment(a.smsBegin))
	mux.Handle("POST /sms/confirm", a.enrolment(a.sentConfirm))
	mux.HandleFunc("POST /signin/sms", a.signinSMS)
	mux.HandleFunc("POST /signin/email", a.signinEmail)
	mux.Handle("POST /factors/remove", a.recent("remove", a.remove))
	mux.Handle("POST /backup-codes/regenerate", a.recent("regenerate", a.codesRegenerate))
	mux.Handle("POST /backup-codes/new", a.signedIn(a.codesNew))
	mux.Handle("POST /step-up", a.signedIn(a.stepUp))
	a.webauthnRoutes(mux)
	a.recoveryRoutes(mux)
	a.pushRoutes(mux)
	a.adminRoutes(mux)

	// Tokens for other services, and a JSON API taking the Bearer form.
	mux.Handle("GET /.well-known/jwks.json", a.sessions.JWKS())
	mux.Handle("POST /session/refresh", a.sessions.RefreshHandler())
	mux.Handle("GET /api/me", a.sessions.Require(session.MinAAL(mfa.AAL2))(http.HandlerFunc(a.apiMe)))

	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(a.static)))
	mux.Handle("GET /metrics", a.metricsHandler())
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
	return securityHeaders(a.checkClientIP(cop.Handler(a.routes())))
}

func redirect(w http.ResponseWriter, r *http.Request, to string) {
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// clientIP is the client's address, for the Verifier's per-IP counter,
// the monitor and recovery records: the peer's, or behind a trusted
// reverse proxy the one its header names (-client-ip-header,
// -trusted-proxies). checkClientIP has refused a request whose address
// cannot be read, so "" is rare (a RemoteAddr a test did not set).
func (a *app) clientIP(r *http.Request) string {
	addr, err := a.ip.Addr(r)
	if err != nil {
		return ""
	}
	return addr.String()
}
