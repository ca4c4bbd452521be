// Command httpserver is a small web app that shows the mfa library end to
// end, in a browser, with nothing to install or run beside it:
//
//	go run ./examples/httpserver
//
// then open the URL it prints (http://localhost:8080/; -addr changes the
// listening address, 127.0.0.1:8080 by default).
//
// # Security keys and passkeys
//
// Besides an authenticator app and backup codes, a user can add security
// keys and passkeys (the setup and account pages), use one as the second
// step, and sign in with a passkey alone, without a username or password
// (the sign-in page): WebAuthn with the app's URL as the origin and its host
// as the relying party ID. Browsers allow WebAuthn over plain http only on
// localhost, so open the printed http://localhost URL, not 127.0.0.1.
// webauthn.go has the handlers and templates/static/webauthn.js the page's
// only script; browser_test.go goes through it all in headless Chromium.
//
// # Storage and keys
//
// Users, factors, counters and sessions are kept in a SQLite file,
// mfa-example.db in the working directory (-db another path; pure Go, no
// server), so they survive a restart. -store names another place instead:
//
//	-store memory                                   lost at exit
//	-store 'postgres://user:pass@host:5432/db?sslmode=disable'
//	-store 'mysql://user:pass@tcp(host:3306)/db'
//	-store redis://host:6379/0
//	-store mongodb://host:27017/db                  database mfa_example if none
//
// SQL databases get the mfa tables (store/sqlstore, migrated at start-up)
// and a table of their own, example_users; Redis gets store/redisstore's
// keys and the users in hashes under "mfa-example:"; MongoDB gets
// store/mongostore's collections (their indexes made at start-up) and the
// users in a collection example_users, with a unique index on the name.
//
// Stored seeds, codes and sessions are useless without the keys that
// sealed, hashed and signed them, so the keys persist too: in a JSON file,
// mfa-example.keys next to the database (-keys another path), created with
// mode 0600 and random keys on the first run. Without it nothing stored
// can be read: back it up, but never in the same backup as the data. A
// real deployment loads its keys from a secret manager instead. With
// -store memory and no -keys, the keys are fresh at every start.
//
// # Trying the JSON API
//
// The account page has a "Try the JSON API" section showing the current
// access token (five minutes; reload for a new one) and the command:
//
//	curl -H 'Authorization: Bearer eyJhbGciOiJFZERTQSIs...' http://localhost:8080/api/me
//	{"sub":"u-...","amr":["otp","mfa"],"acr":"urn:mfakit:aal2","auth_time":1772600760}
//
// Without a token it answers 401 with a WWW-Authenticate challenge; the
// same token verifies against the keys at /.well-known/jwks.json. The
// token is also the value of the mfa-access cookie (browser developer
// tools, Application > Cookies). POST /session/refresh with a form field
// refresh_token trades a refresh token for new tokens (RFC 6749 §6).
//
// What it shows:
//
//   - Sign up with a username and password (bcrypt), then enrol a TOTP
//     authenticator app: scan the QR code, or type the secret, and confirm
//     with a first code (Verifier.BeginEnrollment, ConfirmEnrollment).
//   - Receive ten backup codes, shown once, right after the app is
//     confirmed.
//   - Sign in with the password and then a TOTP code or a backup code
//     (Verifier.Verify), with clear messages for a wrong code, a replayed
//     one, rate limiting (with the time to retry) and a lock.
//   - Sessions with package session: after the password an MFA-pending
//     token, after the second factor an access token (JWT, five minutes)
//     and a rotating refresh token, in HttpOnly cookies (Secure, with the
//     __Host- prefix, unless the app is served on plain http://localhost).
//     Sign-out revokes the session.
//   - List factors, remove one, or regenerate the backup codes. Each
//     change needs a second-factor check within the last ten minutes
//     (session.MaxAge, and the Verifier's Config.FreshFor); when the last
//     one is older the page asks for a code first and raises the session
//     (step-up, Manager.StepUp). A change signs out the user's other
//     sessions.
//   - A JSON API, GET /api/me, for the Bearer form of the same access
//     token, and the public keys at /.well-known/jwks.json.
//
// # Monitoring, metrics and the admin area
//
// A sign-in monitor (package monitor) watches every verification,
// session and recovery, and raises alerts: one address trying many
// accounts (its attempts are then denied), a user switching between
// factor kinds, and, with a place database, a new country or network,
// impossible travel (then only a security key is accepted) and
// simultaneous sessions in two countries. Alerts go to the log, to the
// Prometheus metrics and to an alert log in the store, so every
// instance's admin page shows every instance's alerts. The monitor keeps
// its lists in the app's store; a store that has none (store.Signals)
// runs without it, and says so at start.
//
//	-client-ip-header X-Forwarded-For -trusted-proxies 10.0.0.0/8
//	                          behind a reverse proxy: the client address is
//	                          the one it writes, honoured only from it; a
//	                          request whose header it garbled is refused
//	-geoip GeoLite2-City.mmdb [-geoip-asn GeoLite2-ASN.mmdb]
//	                          MaxMind files placing client addresses
//	                          (default: every place unknown)
//	-admin-countries FR,DE    where the admin area is open from (needs -geoip)
//	-metrics-from 10.1.0.0/16 who may read /metrics (default loopback; none: nobody)
//
// GET /metrics serves the Prometheus text format (verification, session,
// enrolment and alert counters; the latency of every store call) to the
// client addresses -metrics-from names, 127.0.0.0/8 and ::1 by default,
// and 403 to the rest: the counts tell an attacker how the defences
// behave, so keep it off the public internet. It reads the client
// address, so behind a reverse proxy on the same host set
// -client-ip-header and -trusted-proxies, or every request looks local.
//
// The admin area, /admin/, lists the recent alerts (kind, severity, time,
// user, address, country, evidence) and links the recovery review
// (/admin). Its route policy (package policy) asks for the admin role
// (the -admin user has it, nobody else), a security key or passkey used
// at the latest verification within the last 5 minutes (a browser
// without one goes to a step-up page that takes only a key; an API
// client gets 401 insufficient_user_authentication), and, with -geoip,
// a client address in one of -admin-countries: an address the database
// cannot place is refused. With -geoip and no -admin-countries the area
// is closed; without -geoip there is no country restriction and
// -admin-countries is refused. A role or place refusal is a 403 page.
//
// # Where things are
//
// One file per flow: signin.go (sign up, password, second step, sign-out),
// enrol.go (an authenticator app, backup codes), webauthn.go (security
// keys and passkeys), factors.go and stepup.go (changes that need a recent
// second factor), account.go (home), api.go (the JSON API), sessions.go
// (who is signed in), monitoring.go (client addresses, the monitor,
// metrics), admin.go (the admin area and its policy). app.go wires them and lists the routes; show.go
// reads what an enrolment or a challenge shows; users.go and storage.go
// keep the state, keys.go the keys.
//
// # Not for production as is
//
// A real deployment loads its keys from a secret manager rather than a
// file, migrates the database at deploy time, serves HTTPS (-url
// https://... makes the cookies Secure, with the __Host- prefix; the app
// itself speaks plain HTTP, for a TLS proxy in front), sweeps expired rows
// (sqlstore.Store.Sweep, or the sweep command of cmd/mfa) from a
// scheduled job, and limits password guesses too.
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/clientip"
	"github.com/mfakit/mfa/geo/maxmind"
	"github.com/mfakit/mfa/sentcode"
	"github.com/mfakit/mfa/session"
	"github.com/mfakit/mfa/smtpsender"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout)
	switch {
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	case err != nil:
		fmt.Fprintln(os.Stderr, "httpserver:", err)
		os.Exit(1)
	}
}

// cliOptions are the command line.
type cliOptions struct {
	addr  string
	db    string // the SQLite file, when store is ""
	store string // "memory", or a postgres://, mysql://, redis:// or mongodb:// URL
	keys  string // the keys file; "" for fresh keys (memory only)
	url   string // where browsers reach the app; "" for the listening address
	admin string // the username of the operator who reviews recoveries
	smtp  string // SMTP URL for emailed codes; "" prints them instead
	sms   string // "console": offer SMS codes, printed; "": no SMS

	clientIPHeader  string // the header trusted proxies write the client address in
	trustedProxies  string // comma-separated prefixes or addresses of those proxies
	geoip, geoipASN string // MaxMind DB files; "" for none
	adminCountries  string // comma-separated ISO codes the admin area is open from
	metricsFrom     string // comma-separated prefixes that may read /metrics; "none"
}

func parseFlags(args []string, out io.Writer) (cliOptions, error) {
	var o cliOptions
	flags := flag.NewFlagSet("httpserver", flag.ContinueOnError)
	flags.SetOutput(out)
	flags.StringVar(&o.addr, "addr", "127.0.0.1:8080", "`address` to listen on")
	flags.StringVar(&o.db, "db", "mfa-example.db", "SQLite `file` holding users, factors and sessions (unless -store)")
	flags.StringVar(&o.store, "store", "", "`URL` of the state instead of -db: memory, postgres://..., mysql://user:pass@tcp(host:port)/db, redis://... or mongodb://host:port/db (db default mfa_example)")
	flags.StringVar(&o.keys, "keys", "", "keys `file`, created (mode 0600) if missing (default mfa-example.keys next to -db; none with -store memory)")
	flags.StringVar(&o.smtp, "smtp", "", "SMTP `URL` for emailed codes: smtp://user:pass@host:587?from=addr (STARTTLS), smtps://... or smtp+plain://127.0.0.1:1025?from=addr (default: print them to stdout)")
	flags.StringVar(&o.sms, "sms", "", "`console` offers SMS codes and prints them to stdout (a real deployment plugs package snssender in; default: no SMS)")
	flags.StringVar(&o.url, "url", "", "public `URL` of the app, the issuer of its tokens (default http://localhost:PORT); https:// makes cookies Secure")
	flags.StringVar(&o.admin, "admin", "", "`username` of the operator: reviews account recoveries at /admin (signed in at AAL2), and has the admin role for /admin/ (alerts; a security key used in the last 5 minutes)")
	flags.StringVar(&o.clientIPHeader, "client-ip-header", "", "`header` a reverse proxy writes the client address in: X-Forwarded-For, Forwarded, X-Real-IP, ... (needs -trusted-proxies; default: the peer address)")
	flags.StringVar(&o.trustedProxies, "trusted-proxies", "", "comma-separated `prefixes` (or addresses) of the proxies whose -client-ip-header is honoured, e.g. 10.0.0.0/8")
	flags.StringVar(&o.geoip, "geoip", "", "MaxMind City or Country database `file` (.mmdb) placing client addresses, for the monitor and -admin-countries (default: places unknown)")
	flags.StringVar(&o.geoipASN, "geoip-asn", "", "MaxMind ASN database `file` (.mmdb): the network of an address, for the monitor's new-network alert")
	flags.StringVar(&o.adminCountries, "admin-countries", "", "comma-separated `countries` (ISO codes, e.g. FR,DE) the admin area /admin/ is open from; needs -geoip, and with -geoip the area is closed until it is set")
	flags.StringVar(&o.metricsFrom, "metrics-from", "127.0.0.0/8,::1/128", "comma-separated client `prefixes` that may read /metrics (Prometheus), by the client address; none: no /metrics")
	if err := flags.Parse(args); err != nil {
		return o, err
	}
	if flags.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", flags.Args())
	}
	// Refuse what cannot work before anything is created (the keys file,
	// a SQLite file).
	if _, err := parseStore(o.store, o.db); err != nil {
		return o, err
	}
	if o.url != "" {
		if u, err := url.Parse(o.url); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return o, fmt.Errorf("-url %q: want http://host[:port] or https://host[:port]", o.url)
		}
	}
	if o.smtp != "" {
		if _, err := smtpSender(o.smtp); err != nil {
			return o, fmt.Errorf("-smtp: %w", err)
		}
	}
	if o.sms != "" && o.sms != "console" {
		return o, fmt.Errorf("-sms %q: the only sender this example offers is console", o.sms)
	}
	if _, err := o.opsConfig(); err != nil {
		return o, err
	}
	if o.geoip == "" && o.geoipASN != "" {
		return o, errors.New("-geoip-asn needs -geoip")
	}
	if o.geoip == "" && o.adminCountries != "" {
		return o, errors.New("-admin-countries needs -geoip: without a place database no address has a country")
	}
	if o.keys == "" && o.store != "memory" {
		dir := "."
		if o.store == "" {
			dir = filepath.Dir(o.db)
		}
		o.keys = filepath.Join(dir, "mfa-example.keys")
	}
	return o, nil
}

// openApp opens the storage and the keys that o names and builds the app
// served at appURL. close releases the storage.
func openApp(ctx context.Context, o cliOptions, appURL string, log *slog.Logger) (a *app, where string, close func() error, err error) {
	k, err := newKeys() // -store memory: nothing outlives the process
	if o.keys != "" {
		var created bool
		k, created, err = loadKeys(o.keys)
		if created {
			log.Info("created a keys file; without it nothing stored can be read: back it up, but never in the same backup as the data", "path", o.keys)
		}
	}
	if err != nil {
		return nil, "", nil, err
	}
	ops, err := o.opsConfig()
	if err != nil {
		return nil, "", nil, err
	}
	closeGeo := func() error { return nil }
	if o.geoip != "" {
		paths := []string{o.geoip}
		if o.geoipASN != "" {
			paths = append(paths, o.geoipASN)
		}
		loc, err := maxmind.Open(paths...)
		if err != nil {
			return nil, "", nil, err
		}
		ops.locator, closeGeo = loc, loc.Close
	}
	st, err := openStorage(ctx, o.store, o.db)
	if err != nil {
		closeGeo()
		return nil, "", nil, err
	}
	closeAll := func() error { return errors.Join(st.close(), closeGeo()) }
	var sender sentcode.Sender // nil: the console sender
	if o.smtp != "" {
		if sender, err = smtpSender(o.smtp); err != nil {
			closeAll()
			return nil, "", nil, err
		}
	}
	var smsSender sentcode.Sender // nil: no SMS codes
	if o.sms == "console" {
		smsSender = sentcode.NewConsole(os.Stdout)
	}
	a, err = newApp(appConfig{keys: k, store: st.store, users: st.users, url: appURL, log: log, admin: o.admin, sender: sender, smsSender: smsSender, ops: ops})
	if err != nil {
		closeAll()
		return nil, "", nil, err
	}
	return a, st.where, closeAll, nil
}

// opsConfig reads the flags about client addresses, the admin area's
// countries and /metrics; the place database is opened by openApp.
func (o cliOptions) opsConfig() (opsConfig, error) {
	var ops opsConfig
	proxies, err := prefixList(o.trustedProxies)
	if err != nil {
		return ops, fmt.Errorf("-trusted-proxies: %w", err)
	}
	if ops.clientIP, err = clientip.New(clientip.Config{Header: o.clientIPHeader, TrustedProxies: proxies}); err != nil {
		return ops, fmt.Errorf("-client-ip-header, -trusted-proxies: %w", err)
	}
	for _, c := range strings.Split(o.adminCountries, ",") {
		if c = strings.ToUpper(strings.TrimSpace(c)); c != "" {
			ops.adminCountries = append(ops.adminCountries, c)
		}
	}
	if strings.TrimSpace(o.metricsFrom) == "none" {
		ops.metricsOff = true
	} else if ops.metricsFrom, err = prefixList(o.metricsFrom); err != nil {
		return ops, fmt.Errorf("-metrics-from: %w", err)
	} else if ops.metricsFrom == nil {
		ops.metricsOff = true
	}
	return ops, nil
}

// prefixList reads comma-separated prefixes; an address alone is its own
// prefix.
func prefixList(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		if !strings.Contains(f, "/") {
			a, err := netip.ParseAddr(f)
			if err != nil {
				return nil, err
			}
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			return nil, err
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// run parses args, serves until ctx is done, then shuts down gracefully. It
// prints the URL to open, and then the library's events, to stdout.
func run(ctx context.Context, args []string, stdout io.Writer) error {
	o, err := parseFlags(args, stdout)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stdout, nil))
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", o.addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	link := browseURL(ln.Addr())
	appURL := strings.TrimSuffix(o.url, "/")
	if appURL == "" {
		appURL = strings.TrimSuffix(link, "/")
	}
	a, where, closeStorage, err := openApp(ctx, o, appURL, log)
	if err != nil {
		return err
	}
	defer closeStorage()
	srv := &http.Server{
		Handler:           a.handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	keysNote := "keys: " + o.keys
	if o.keys == "" {
		keysNote = "keys: fresh, in memory"
	}
	fmt.Fprintf(stdout, "mfa example: listening on %s; state in %s; %s\nOpen %s in your browser. Press Ctrl-C to stop.\n",
		ln.Addr(), where, keysNote, link)

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	fmt.Fprintln(stdout, "mfa example: shutting down")
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return err
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// browseURL is the address to open. A loopback or unspecified address is
// shown as localhost: WebAuthn accepts plain http only there.
func browseURL(addr net.Addr) string {
	host, port := "localhost", ""
	if tcp, ok := addr.(*net.TCPAddr); ok {
		port = strconv.Itoa(tcp.Port)
		if !tcp.IP.IsLoopback() && !tcp.IP.IsUnspecified() {
			host = tcp.IP.String()
		}
	}
	return "http://" + net.JoinHostPort(host, port) + "/"
}

// keys are the example's secrets.
type keys struct {
	seal    mfa.Key      // seals TOTP seeds (XChaCha20-Poly1305)
	hash    []byte       // keys the hashes of backup codes and refresh tokens
	signing *session.Key // signs access and pending tokens (Ed25519)
}

// newKeys draws fresh keys from crypto/rand. A real deployment loads them
// from its secret manager (a KMS, Vault, a mounted secret) and keeps them
// stable across restarts and instances: a new sealing key cannot open the
// seeds the old one sealed, a new hash key matches no stored code, and a
// new signing key signs everyone out. Rotate the sealing key by adding a
// new primary to the Keyring and keeping the old one for opening; the
// signing key with a session.KeySet that keeps the old one for verifying.
func newKeys() (keys, error) {
	id := "example-" + time.Now().UTC().Format("20060102T150405Z") + "-" + rand.Text()[:6]
	k := keys{seal: mfa.Key{ID: id, Secret: make([]byte, 32)}, hash: make([]byte, 32)}
	// crypto/rand.Read never fails (it crashes the program instead).
	rand.Read(k.seal.Secret)
	rand.Read(k.hash)
	var err error
	k.signing, err = session.GenerateEd25519Key(id, nil)
	return k, err
}

// smtpSender is the Sender of emailed codes that an -smtp URL names.
func smtpSender(raw string) (sentcode.Sender, error) {
	cfg, err := smtpsender.FromURL(raw)
	if err != nil {
		return nil, err
	}
	return smtpsender.New(cfg)
}
