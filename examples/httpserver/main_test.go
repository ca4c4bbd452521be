package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mfakit/mfa/internal/testkit"
	"github.com/mfakit/mfa/store/memstore"
	"golang.org/x/crypto/bcrypt"
)

// TestMain fails the run when a test leaves a file in the package
// directory: tests write only into t.TempDir().
func TestMain(m *testing.M) {
	before := dirNames()
	code := m.Run()
	for name := range dirNames() {
		if !before[name] {
			fmt.Fprintf(os.Stderr, "a test left %s in the package directory; tests write only into t.TempDir()\n", name)
			code = 1
		}
	}
	os.Exit(code)
}

// dirNames is the set of names in the working directory.
func dirNames() map[string]bool {
	entries, err := os.ReadDir(".")
	if err != nil {
		panic(err)
	}
	names := make(map[string]bool, len(entries))
	for _, e := range entries {
		names[e.Name()] = true
	}
	return names
}

// start serves a fresh app (memstore) on 127.0.0.1:0 with a fake clock.
func start(t *testing.T) (*httptest.Server, *testkit.Clock) {
	t.Helper()
	_, srv, c := startApp(t)
	return srv, c
}

// startApp is start that also returns the app.
func startApp(t *testing.T) (*app, *httptest.Server, *testkit.Clock) {
	t.Helper()
	k, err := newKeys()
	if err != nil {
		t.Fatal(err)
	}
	a, err := newApp(appConfig{keys: k, store: memstore.New(), users: newMemUsers(), url: "http://localhost:8080",
		log: slog.New(slog.NewTextHandler(t.Output(), nil)), attestationRoots: testCA.Pool()})
	if err != nil {
		t.Fatal(err)
	}
	c := testkit.NewClock(testkit.T0) // the start of a TOTP step
	a.now = c.Now
	a.bcryptCost = bcrypt.MinCost
	srv := httptest.NewServer(a.handler())
	t.Cleanup(srv.Close)
	return a, srv, c
}

// browser is one user's client: a cookie jar, following redirects, and
// sending the Origin a browser sends with a same-origin form.
type browser struct {
	t    *testing.T
	base string
	c    *http.Client
	// forwardedFor, when set, is sent as X-Forwarded-For, as a reverse
	// proxy in front of the app would.
	forwardedFor string
}

func newBrowser(t *testing.T, srv *httptest.Server) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, base: srv.URL, c: &http.Client{Jar: jar}}
}

// page is a response: its final status and body.
type page struct {
	status int
	body   string
	path   string // after redirects
}

func (b *browser) do(req *http.Request) page {
	b.t.Helper()
	if b.forwardedFor != "" {
		req.Header.Set("X-Forwarded-For", b.forwardedFor)
	}
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return page{status: res.StatusCode, body: string(body), path: res.Request.URL.Path}
}

func (b *browser) get(path string) page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.base+path, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

func (b *browser) post(path string, form url.Values) page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.base)
	return b.do(req)
}

// must fails the test unless the page has the status and every text.
func (p page) must(t *testing.T, status int, texts ...string) page {
	t.Helper()
	if p.status != status {
		t.Fatalf("%s: status %d, want %d; body:\n%s", p.path, p.status, status, p.body)
	}
	for _, s := range texts {
		if !strings.Contains(p.body, html.EscapeString(s)) {
			t.Fatalf("%s: no %q in:\n%s", p.path, s, p.body)
		}
	}
	return p
}

// find returns the first submatch of re in the page.
func (p page) find(t *testing.T, re string) string {
	t.Helper()
	m := regexp.MustCompile(re).FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("%s: no match for %s in:\n%s", p.path, re, p.body)
	}
	return html.UnescapeString(m[1])
}

const password = "correct horse battery"

// account is what enrolment gave a test user.
type account struct {
	name, secret, totpID string
	codes                []string
}

// signUp creates a user and enrols TOTP and backup codes through the pages,
// leaving the browser fully signed in.
func signUp(t *testing.T, b *browser, c *testkit.Clock, name string) account {
	t.Helper()
	b.post("/signup", url.Values{"username": {name}, "password": {password}}).
		must(t, http.StatusOK, "Set up two-step sign-in")
	p := b.post("/totp/begin", nil).must(t, http.StatusOK, "Scan the QR code", "data:image/png;base64,")
	acc := account{
		name:   name,
		secret: strings.ReplaceAll(p.find(t, `id="totp-secret"[^>]*>([^<]+)<`), " ", ""),
		totpID: p.find(t, `name="factor_id" value="([^"]+)"`),
	}
	p = b.post("/totp/confirm", url.Values{"factor_id": {acc.totpID}, "code": {testkit.TOTPCode(t, acc.secret, c.Now())}}).
		must(t, http.StatusOK, "Save your backup codes", "Your authenticator app is set up.")
	for _, m := range regexp.MustCompile(`class="backup-code">([^<]+)<`).FindAllStringSubmatch(p.body, -1) {
		acc.codes = append(acc.codes, m[1])
	}
	if len(acc.codes) != 10 {
		t.Fatalf("got %d backup codes, want 10", len(acc.codes))
	}
	return acc
}

func (b *browser) signIn(t *testing.T, name string) page {
	t.Helper()
	return b.post("/signin", url.Values{"username": {name}, "password": {password}})
}

func (b *browser) signOut(t *testing.T) {
	t.Helper()
	b.post("/signout", nil).must(t, http.StatusOK, "You are signed out.")
}

func TestFullFlow(t *testing.T) {
	srv, c := start(t)
	b := newBrowser(t, srv)
	acc := signUp(t, b, c, "alice")

	b.get("/").must(t, http.StatusOK, "Your account", "Authenticator app", "Backup codes", "alice", "Sign out")
	b.signOut(t)
	b.get("/").must(t, http.StatusOK, "Create an account")

	// Password, then a TOTP code of the next step.
	c.Add(30 * time.Second)
	code := testkit.TOTPCode(t, acc.secret, c.Now())
	b.signIn(t, "alice").must(t, http.StatusOK, "Enter a code", "Code from your authenticator app", "Use a backup code")
	b.post("/signin/code", url.Values{"kind": {"totp"}, "code": {code[:3] + " " + code[3:]}}).
		must(t, http.StatusOK, "Your account")
	b.signOut(t)

	// The same code again, in the same step: a replay.
	b.signIn(t, "alice")
	b.post("/signin/code", url.Values{"kind": {"totp"}, "code": {code}}).
		must(t, http.StatusUnprocessableEntity, "already used", "Wait for the next one")

	// A backup code instead (still at the code step).
	b.post("/signin/code", url.Values{"kind": {"backup_codes"}, "code": {acc.codes[0]}}).
		must(t, http.StatusOK, "Your account", "You signed in with a backup code", "codes left: 9")
	b.signOut(t)

	// That backup code is spent; another one works, typed in capitals
	// without hyphens.
	b.signIn(t, "alice")
	b.post("/signin/code", url.Values{"kind": {"backup_codes"}, "code": {acc.codes[0]}}).
		must(t, http.StatusUnprocessableEntity, "That backup code was already used")
	b.post("/signin/code", url.Values{"kind": {"backup_codes"}, "code": {strings.ToUpper(strings.ReplaceAll(acc.codes[1], "-", ""))}}).
		must(t, http.StatusOK, "Your account", "codes left: 8")

	// Removing TOTP right after a verification needs no new code; after
	// FreshFor it does.
	c.Add(freshFor + time.Minute)
	p := b.post("/factors/remove", url.Values{"factor_id": {acc.totpID}}).
		must(t, http.StatusOK, "Confirm it's you", "To remove Authenticator app, enter a code")
	if !strings.Contains(p.body, `name="action" value="remove"`) {
		t.Fatalf("step-up page does not carry the action:\n%s", p.body)
	}
	b.get("/").must(t, http.StatusOK, "Authenticator app", "a change will ask for a code first")
	b.post("/step-up", url.Values{"kind": {"totp"}, "code": {testkit.WrongTOTPCode(t, acc.secret, c.Now())}, "action": {"remove"}, "factor_id": {acc.totpID}}).
		must(t, http.StatusUnprocessableEntity, "Confirm it's you", "To remove Authenticator app", "Wrong code")
	p = b.post("/step-up", url.Values{"kind": {"totp"}, "code": {testkit.TOTPCode(t, acc.secret, c.Now())}, "action": {"remove"}, "factor_id": {acc.totpID}}).
		must(t, http.StatusOK, "The factor was removed.", "You have no authenticator app.", "Backup codes")
	if strings.Contains(p.body, acc.totpID) {
		t.Fatal("the removed factor is still listed")
	}

	// Gone at once: signing in now offers backup codes only.
	b.signOut(t)
	p = b.signIn(t, "alice").must(t, http.StatusOK, "Use a backup code")
	if strings.Contains(p.body, "Code from your authenticator app") {
		t.Fatal("the code step still offers TOTP after its removal")
	}
	b.post("/signin/code", url.Values{"kind": {"totp"}, "code": {testkit.TOTPCode(t, acc.secret, c.Now())}}).
		must(t, http.StatusUnprocessableEntity, "Wrong code. Check it and try again.")
}

func TestRegenerateNeedsFreshVerification(t *testing.T) {
	srv, c := start(t)
	b := newBrowser(t, srv)
	acc := signUp(t, b, c, "bob")
	codesID := b.get("/").find(t, `action="/backup-codes/regenerate"[^>]*>\s*<input type="hidden" name="factor_id" value="([^"]+)"`)

	// Fresh from the confirmation: new codes at once.
	p := b.post("/backup-codes/regenerate", url.Values{"factor_id": {codesID}}).
		must(t, http.StatusOK, "Save your backup codes", "Your old backup codes no longer work.")
	fresh := p.find(t, `class="backup-code">([^<]+)<`)
	codesID = b.get("/").find(t, `action="/backup-codes/regenerate"[^>]*>\s*<input type="hidden" name="factor_id" value="([^"]+)"`)

	// Stale: a code first, then the new set.
	c.Add(freshFor + time.Second)
	b.post("/backup-codes/regenerate", url.Values{"factor_id": {codesID}}).
		must(t, http.StatusOK, "Confirm it's you", "To replace your backup codes")
	b.post("/step-up", url.Values{"kind": {"backup_codes"}, "code": {fresh}, "action": {"regenerate"}, "factor_id": {codesID}}).
		must(t, http.StatusOK, "Save your backup codes")

	// Neither older set works any more.
	b.signOut(t)
	b.signIn(t, "bob")
	for _, old := range []string{acc.codes[2], fresh} {
		b.post("/signin/code", url.Values{"kind": {"backup_codes"}, "code": {old}}).
			must(t, http.StatusUnprocessableEntity, "Wrong code")
	}
}

func TestRateLimitedAndLocked(t *testing.T) {
	srv, c := start(t)
	b := newBrowser(t, srv)
	acc := signUp(t, b, c, "carol")
	b.signOut(t)
	c.Add(30 * time.Second)

	b.signIn(t, "carol")
	for range 5 {
		b.post("/signin/code", url.Values{"kind": {"totp"}, "code": {testkit.WrongTOTPCode(t, acc.secret, c.Now())}}).
			must(t, http.StatusUnprocessableEntity, "Wrong code")
	}
	// The sixth attempt waits, even with the right code.
	retry := c.Now().Add(30 * time.Second).UTC().Format("15:04:05 UTC")
	b.post("/signin/code", url.Values{"kind": {"totp"}, "code": {testkit.TOTPCode(t, acc.secret, c.Now())}}).
		must(t, http.StatusTooManyRequests, "Too many wrong codes. Try again after "+retry+" (in 30 seconds).")
	c.Add(31 * time.Second)
	b.post("/signin/code", url.Values{"kind": {"totp"}, "code": {testkit.TOTPCode(t, acc.secret, c.Now())}}).
		must(t, http.StatusOK, "Your account")
	b.signOut(t)

	// 100 consecutive failures lock the second factor; waiting out each
	// delay (at most an hour) does not help.
	for i := 1; ; i++ {
		c.Add(time.Hour + time.Minute)
		b.signIn(t, "carol").must(t, http.StatusOK, "Enter a code")
		p := b.post("/signin/code", url.Values{"kind": {"backup_codes"}, "code": {"0000-0000-00000"}})
		if p.status == http.StatusLocked {
			p.must(t, http.StatusLocked, "your second factor is locked")
			if i != 101 {
				t.Fatalf("locked at attempt %d, want 101", i)
			}
			break
		}
		p.must(t, http.StatusUnprocessableEntity, "Wrong code")
		if i > 101 {
			t.Fatal("never locked")
		}
	}
	b.post("/signin/code", url.Values{"kind": {"totp"}, "code": {testkit.TOTPCode(t, acc.secret, c.Now())}}).
		must(t, http.StatusLocked, "locked")
}

func TestEnrollmentRetry(t *testing.T) {
	srv, c := start(t)
	b := newBrowser(t, srv)
	b.post("/signup", url.Values{"username": {"dave"}, "password": {password}}).must(t, http.StatusOK)
	p := b.post("/totp/begin", nil).must(t, http.StatusOK, "Scan the QR code")
	secret := strings.ReplaceAll(p.find(t, `id="totp-secret"[^>]*>([^<]+)<`), " ", "")
	id := p.find(t, `name="factor_id" value="([^"]+)"`)

	p = b.post("/totp/confirm", url.Values{"factor_id": {id}, "code": {"12345"}}).
		must(t, http.StatusUnprocessableEntity, "That is not a code", "Start over")
	if strings.Contains(p.body, "data:image/png") || strings.Contains(p.body, secret[:8]) {
		t.Fatal("a failed confirmation shows the secret again")
	}
	// Until a factor is confirmed, the account pages stay closed.
	b.get("/").must(t, http.StatusOK, "Set up two-step sign-in")
	b.post("/factors/remove", url.Values{"factor_id": {id}}).must(t, http.StatusOK, "Set up two-step sign-in")

	b.post("/totp/confirm", url.Values{"factor_id": {id}, "code": {testkit.TOTPCode(t, secret, c.Now())}}).
		must(t, http.StatusOK, "Save your backup codes")
}

func TestSignInErrors(t *testing.T) {
	srv, c := start(t)
	b := newBrowser(t, srv)
	signUp(t, b, c, "erin")
	b.signOut(t)

	b.post("/signin", url.Values{"username": {"erin"}, "password": {"wrong password"}}).
		must(t, http.StatusUnauthorized, "Wrong username or password.")
	b.post("/signin", url.Values{"username": {"nobody"}, "password": {password}}).
		must(t, http.StatusUnauthorized, "Wrong username or password.")
	b.post("/signup", url.Values{"username": {"erin"}, "password": {password}}).
		must(t, http.StatusUnprocessableEntity, "That username is taken.")
	b.post("/signup", url.Values{"username": {"x:y"}, "password": {password}}).
		must(t, http.StatusUnprocessableEntity, "Choose a username")
	b.post("/signup", url.Values{"username": {"frank"}, "password": {"short"}}).
		must(t, http.StatusUnprocessableEntity, "Choose a password")

	// Half signed in: the account is out of reach until the code step.
	b.signIn(t, "erin").must(t, http.StatusOK, "Enter a code")
	b.get("/").must(t, http.StatusOK, "Enter a code")
	b.post("/backup-codes/new", nil).must(t, http.StatusOK, "Enter a code")
	b.post("/totp/begin", nil).must(t, http.StatusOK, "Enter a code")
	b.post("/signin/code", url.Values{"kind": {"sms"}, "code": {"123456"}}).
		must(t, http.StatusBadRequest, "not valid")
}

// cookie returns the value of the browser's cookie, or "".
func (b *browser) cookie(name string) string {
	b.t.Helper()
	u, err := url.Parse(b.base)
	if err != nil {
		b.t.Fatal(err)
	}
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// setCookie replaces a cookie of the browser; "" deletes it.
func (b *browser) setCookie(name, value string) {
	b.t.Helper()
	u, err := url.Parse(b.base)
	if err != nil {
		b.t.Fatal(err)
	}
	c := &http.Cookie{Name: name, Value: value, Path: "/"}
	if value == "" {
		c.MaxAge = -1
	}
	b.c.Jar.SetCookies(u, []*http.Cookie{c})
}

// The cookies of the session package with InsecureCookies (plain http).
const (
	accessCookie  = "mfa-access"
	refreshCookie = "mfa-refresh"
	pendingCookie = "mfa-pending"
)

func TestForgedCookie(t *testing.T) {
	srv, c := start(t)
	b := newBrowser(t, srv)
	signUp(t, b, c, "grace")
	good := b.cookie(accessCookie)
	if good == "" || b.cookie(refreshCookie) == "" || b.cookie(pendingCookie) != "" {
		t.Fatalf("after the second factor: access %q, refresh %q, pending %q",
			good, b.cookie(refreshCookie), b.cookie(pendingCookie))
	}
	refresh := b.cookie(refreshCookie)
	b.setCookie(refreshCookie, "") // so that nothing is refreshed in place
	for _, forged := range []string{
		testkit.FlipChar(good, strings.LastIndex(good, ".")+1),                      // another signature
		"eyJhbGciOiJub25lIiwidHlwIjoiYXQrand0In0" + good[strings.Index(good, "."):], // alg none
		"garbage",
	} {
		b.setCookie(accessCookie, forged)
		b.get("/").must(t, http.StatusOK, "Create an account")
	}
	b.setCookie(accessCookie, good)
	b.get("/").must(t, http.StatusOK, "Your account")

	// The same cookie at another instance, whose keys differ: refused.
	other, _ := start(t)
	b.base = other.URL
	b.setCookie(accessCookie, good)
	b.setCookie(refreshCookie, refresh)
	b.get("/").must(t, http.StatusOK, "Create an account")
}

func TestCrossOriginPostRefused(t *testing.T) {
	srv, c := start(t)
	b := newBrowser(t, srv)
	acc := signUp(t, b, c, "heidi")

	for name, hdr := range map[string][2]string{
		"origin":         {"Origin", "http://evil.example"},
		"sec-fetch-site": {"Sec-Fetch-Site", "cross-site"},
	} {
		t.Run(name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPost, srv.URL+"/factors/remove",
				strings.NewReader(url.Values{"factor_id": {acc.totpID}}.Encode()))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set(hdr[0], hdr[1])
			b.do(req).must(t, http.StatusForbidden, "sent from another site")
		})
	}
	// Nothing was removed; the same request from the page's own origin is.
	b.get("/").must(t, http.StatusOK, acc.totpID)
	b.post("/factors/remove", url.Values{"factor_id": {acc.totpID}}).must(t, http.StatusOK, "The factor was removed.")
}

func TestHumanWait(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                              "1 second",
		1500 * time.Millisecond:        "2 seconds",
		30 * time.Second:               "30 seconds",
		time.Minute:                    "1 minute",
		time.Minute + time.Millisecond: "2 minutes",
		time.Hour:                      "60 minutes",
	} {
		if got := humanWait(d); got != want {
			t.Errorf("humanWait(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestRun(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	dir := t.TempDir()
	out, w := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-db", filepath.Join(dir, "mfa.db")}, w)
		w.Close()
	}()

	// The first lines name the URL; the rest (the event log) is drained.
	lines := bufio.NewScanner(out)
	var link string
	var said strings.Builder
	for link == "" && lines.Scan() {
		said.WriteString(lines.Text() + "\n")
		link = regexp.MustCompile(`http://localhost:\d+/`).FindString(lines.Text())
	}
	for _, want := range []string{"SQLite file " + filepath.Join(dir, "mfa.db"), "keys: " + filepath.Join(dir, "mfa-example.keys"),
		"created a keys file", "never in the same backup as the data"} {
		if !strings.Contains(said.String(), want) {
			t.Errorf("no %q in:\n%s", want, said.String())
		}
	}
	// main.go's advice: keys and data never in one backup.
	if strings.Contains(said.String(), "keep it with the data") {
		t.Errorf("the log asks to keep the keys with the data:\n%s", said.String())
	}
	if link == "" {
		t.Fatalf("no URL printed (%v)", lines.Err())
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()

	res, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), "Create an account") {
		t.Fatalf("GET %s: %d\n%s", link, res.StatusCode, body)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}
	for _, f := range []string{"mfa.db", "mfa-example.keys"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
}

// TestRunBadArgs: bad flags are refused before anything is created. It
// runs in an empty working directory, where the default keys file would go.
func TestRunBadArgs(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	db := filepath.Join(dir, "x.db")
	for _, args := range [][]string{
		{"-nope"}, {"extra"}, {"-addr", "256.0.0.1:0", "-db", db},
		{"-addr", "127.0.0.1:0", "-store", "ftp://x"},
		{"-addr", "127.0.0.1:0", "-store", "mysql://not a dsn"},
		{"-addr", "127.0.0.1:0", "-store", "redis://:bad:port"},
		{"-addr", "127.0.0.1:0", "-store", "mongodb://u:s3cret@host:bad/db"},
		{"-addr", "127.0.0.1:0", "-store", "mongodb://host/bad.name"},
		{"-addr", "127.0.0.1:0", "-db", db, "-url", "localhost:8080"},
		{"-addr", "127.0.0.1:0", "-db", db, "-keys", filepath.Join(dir, "no", "such", "dir")},
	} {
		// Arguments wrongly accepted serve until the timeout, then fail.
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		err := run(ctx, args, io.Discard)
		cancel()
		if err == nil {
			t.Errorf("run(%q): no error", args)
		}
		if left, _ := os.ReadDir(dir); len(left) > 0 {
			t.Fatalf("run(%q) left %s behind", args, left[0].Name())
		}
	}
	if err := run(t.Context(), []string{"-h"}, io.Discard); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("run(-h) = %v, want flag.ErrHelp", err)
	}
}
