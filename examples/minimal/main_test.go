package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mfakit/mfa/internal/testkit"
)

// client is one user's curl: a cookie jar against the test server.
type client struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newClient(t *testing.T, srv *httptest.Server) *client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &client{t: t, base: srv.URL, c: &http.Client{Jar: jar}}
}

// call sends a request (a POST form when form is not nil) and fails the
// test unless the answer has the status; it returns the body.
func (c *client) call(method, path string, form url.Values, status int) string {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := c.c.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	if res.StatusCode != status {
		c.t.Fatalf("%s %s: status %d, want %d: %s", method, path, res.StatusCode, status, b)
	}
	return string(b)
}

func (c *client) signIn() {
	c.t.Helper()
	c.call("POST", "/signin", url.Values{"user": {"alice"}, "password": {"wonderland"}}, http.StatusOK)
}

// field returns the value of "name: value" in body.
func field(t *testing.T, body, name string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + name + `: (\S+)$`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no %s in %q", name, body)
	}
	return m[1]
}

// TestFlow walks the flow of the package doc: password, enrolment of an
// authenticator app, the AAL2 route; then a later sign-in with a code.
func TestFlow(t *testing.T) {
	clock := testkit.NewClock(testkit.T0)
	h, err := newHandler(clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	alice := newClient(t, srv)

	// The AAL2 route refuses a client without a session, and so does
	// every step before the password.
	alice.call("GET", "/secret", nil, http.StatusUnauthorized)
	alice.call("POST", "/totp/begin", url.Values{}, http.StatusUnauthorized)
	alice.call("POST", "/signin", url.Values{"user": {"alice"}, "password": {"wrong"}}, http.StatusUnauthorized)

	// First sign-in: the password, then an authenticator app.
	alice.signIn()
	alice.call("GET", "/secret", nil, http.StatusUnauthorized) // a password is not a session
	setup := alice.call("POST", "/totp/begin", url.Values{}, http.StatusOK)
	secret, factorID := field(t, setup, "secret"), field(t, setup, "factor_id")
	if !strings.HasPrefix(field(t, setup, "uri"), "otpauth://totp/") {
		t.Fatalf("no otpauth URI in %q", setup)
	}
	alice.call("POST", "/totp/confirm", url.Values{"factor_id": {factorID}, "code": {testkit.WrongTOTPCode(t, secret, clock.Now())}},
		http.StatusUnauthorized)
	alice.call("GET", "/secret", nil, http.StatusUnauthorized)
	alice.call("POST", "/totp/confirm", url.Values{"factor_id": {factorID}, "code": {testkit.TOTPCode(t, secret, clock.Now())}},
		http.StatusOK)
	if got := alice.call("GET", "/secret", nil, http.StatusOK); !strings.Contains(got, "hello user-alice (urn:mfakit:aal2)") {
		t.Fatalf("GET /secret = %q", got)
	}

	// A later sign-in, on another client: the password alone cannot add
	// a factor, a wrong code is refused, the right one reaches the route.
	clock.Add(30 * time.Second)
	later := newClient(t, srv)
	later.signIn()
	later.call("POST", "/totp/begin", url.Values{}, http.StatusForbidden)
	later.call("POST", "/signin/code", url.Values{"code": {testkit.WrongTOTPCode(t, secret, clock.Now())}}, http.StatusUnauthorized)
	later.call("GET", "/secret", nil, http.StatusUnauthorized)
	code := testkit.TOTPCode(t, secret, clock.Now())
	later.call("POST", "/signin/code", url.Values{"code": {code}}, http.StatusOK)
	later.call("GET", "/secret", nil, http.StatusOK)

	// The same code is used up, even at another sign-in in the same step.
	replay := newClient(t, srv)
	replay.signIn()
	replay.call("POST", "/signin/code", url.Values{"code": {code}}, http.StatusUnauthorized)
	replay.call("GET", "/secret", nil, http.StatusUnauthorized)
}
