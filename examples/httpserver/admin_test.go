package main

import (
	"bytes"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
	"golang.org/x/crypto/bcrypt"

	"github.com/mfakit/mfa/clientip"
	"github.com/mfakit/mfa/geo"
	"github.com/mfakit/mfa/geo/maxmind"
	"github.com/mfakit/mfa/internal/testkit"
	"github.com/mfakit/mfa/store/memstore"
)

// site is what instances of one site share: the keys, the store, the
// users and the clock. Each start serves another instance of it.
type site struct {
	keys  keys
	store appStore
	users userStore
	clock *testkit.Clock
}

func newSite(t *testing.T) *site {
	t.Helper()
	k, err := newKeys()
	if err != nil {
		t.Fatal(err)
	}
	return &site{keys: k, store: memstore.New(), users: newMemUsers(), clock: testkit.NewClock(testkit.T0)}
}

// start serves one more instance of the site, with ops, and "root" as
// the admin.
func (s *site) start(t *testing.T, ops opsConfig) (*app, *httptest.Server) {
	t.Helper()
	a, err := newApp(appConfig{keys: s.keys, store: s.store, users: s.users, url: "http://localhost:8080", admin: "root",
		log: slog.New(slog.NewTextHandler(t.Output(), nil)), attestationRoots: testCA.Pool(), ops: ops})
	if err != nil {
		t.Fatal(err)
	}
	a.now = s.clock.Now
	a.bcryptCost = bcrypt.MinCost
	srv := httptest.NewServer(a.handler())
	t.Cleanup(srv.Close)
	return a, srv
}

// behindProxy reads client addresses from X-Forwarded-For written by a
// proxy at 127.0.0.1, where the test's requests come from.
func behindProxy(t *testing.T) *clientip.Source {
	t.Helper()
	src, err := clientip.New(clientip.Config{Header: "X-Forwarded-For", TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// Client addresses of the test place database (documentation ranges).
const (
	ipFrance   = "192.0.2.10"
	ipUS       = "198.51.100.7"
	ipGermany  = "203.0.113.9"
	ipAttacker = "198.51.100.66"
)

// testLocator is geo/maxmind over a City database written for the test:
// 192.0.2.0/24 in France, 198.51.100.0/24 in the US, 203.0.113.0/24 in
// Germany.
func testLocator(t *testing.T) geo.Locator {
	t.Helper()
	w, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: "GeoLite2-City", IPVersion: 6, RecordSize: 28, IncludeReservedNetworks: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []struct {
		cidr, cc string
		lat, lon float64
	}{
		{"192.0.2.0/24", "FR", 48.86, 2.35},
		{"198.51.100.0/24", "US", 40.71, -74.01},
		{"203.0.113.0/24", "DE", 52.52, 13.40},
	} {
		_, n, err := net.ParseCIDR(r.cidr)
		if err != nil {
			t.Fatal(err)
		}
		err = w.Insert(n, mmdbtype.Map{
			"country":  mmdbtype.Map{"iso_code": mmdbtype.String(r.cc)},
			"location": mmdbtype.Map{"latitude": mmdbtype.Float64(r.lat), "longitude": mmdbtype.Float64(r.lon), "accuracy_radius": mmdbtype.Uint16(20)},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	var b bytes.Buffer
	if _, err := w.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	loc, err := maxmind.FromBytes(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { loc.Close() })
	return loc
}

// at returns a browser of the same user (its cookies) on another
// instance of the site.
func (b *browser) at(srv *httptest.Server) *browser {
	other := *b
	other.base = srv.URL
	return &other
}

// TestAdminArea: the admin area needs the admin role and a security key
// used in the last 5 minutes. A non-admin gets 403; the admin signed in
// with TOTP is asked for a key, which a code cannot replace; with the key
// the page lists the alerts; 5 minutes later it asks again.
func TestAdminArea(t *testing.T) {
	s := newSite(t)
	_, srv := s.start(t, opsConfig{})
	c := s.clock

	bob := newBrowser(t, srv)
	signUp(t, bob, c, "bob")
	bob.get("/admin/").must(t, http.StatusForbidden, "The admin area is for administrators")

	root := newBrowser(t, srv)
	acc := signUp(t, root, c, "root")
	if p := root.get("/admin/").must(t, http.StatusOK, "needs a security key or passkey used in the last 5 minutes", "You have no security key"); p.path != "/step-up/admin" {
		t.Fatalf("admin with TOTP only: at %s, want the step-up page", p.path)
	}
	k := newTestKey(testkit.FlagUV)
	root.addKey(t, k).must(t, http.StatusOK, "Your security key or passkey is registered.")

	// Signed in with TOTP: the step-up page offers the key alone, and a
	// code does not open the area.
	root.signOut(t)
	c.Add(30 * time.Second)
	root.signIn(t, "root").must(t, http.StatusOK, "Enter a code")
	root.post("/signin/code", url.Values{"kind": {"totp"}, "code": {testkit.TOTPCode(t, acc.secret, c.Now())}}).
		must(t, http.StatusOK, "Your account")
	p := root.get("/admin/").must(t, http.StatusOK, "needs a security key or passkey")
	if p.path != "/step-up/admin" || !strings.Contains(p.body, `id="use-key"`) || strings.Contains(p.body, "totp-code") {
		t.Fatalf("step-up for the admin area at %s offers a code:\n%s", p.path, p.body)
	}
	c.Add(30 * time.Second)
	root.post("/step-up", url.Values{"kind": {"totp"}, "action": {"admin"}, "code": {testkit.TOTPCode(t, acc.secret, c.Now())}}).
		must(t, http.StatusUnprocessableEntity, "a code does not open it")
	// A Bearer client is told what to do (RFC 9470).
	res, _ := api(t, http.MethodGet, srv.URL+"/admin/", root.cookie(accessCookie), nil)
	if ch := res.Header.Get("WWW-Authenticate"); res.StatusCode != http.StatusUnauthorized || !strings.Contains(ch, "insufficient_user_authentication") || !strings.Contains(ch, "max_age=300") {
		t.Fatalf("Bearer client without a key: %d %q", res.StatusCode, ch)
	}

	// The key opens it: alerts from every enrolment so far, newest first.
	id, opts := root.keyOptions(t, "/webauthn/step-up/options")
	p = root.post("/step-up", url.Values{"kind": {"webauthn"}, "action": {"admin"}, "challenge_id": {id}, "response": {k.Get(assertion(t, opts))}}).
		must(t, http.StatusOK, "Recent alerts", "Recovery requests awaiting review", "Open from any country")
	if p.path != "/admin/" {
		t.Fatalf("after the key: at %s", p.path)
	}
	rows := alertRows(p.body)
	if len(rows) < 3 || !strings.Contains(strings.Join(rows, "\n"), "bob (u-") {
		t.Fatalf("alerts listed: %q", rows)
	}
	for _, r := range rows {
		if !strings.Contains(r, "<td>enrolled</td><td>info</td>") {
			t.Fatalf("unexpected alert row %q", r)
		}
	}
	c.Add(4 * time.Minute)
	root.get("/admin/").must(t, http.StatusOK, "Recent alerts")

	// More than 5 minutes after the key: asked again (the access token
	// expired meanwhile and was refreshed; auth_time was not).
	c.Add(time.Minute + time.Second)
	if p := root.get("/admin/").must(t, http.StatusOK, "needs a security key"); p.path != "/step-up/admin" {
		t.Fatalf("6 minutes after the key: at %s", p.path)
	}
	// Not signed in: home.
	newBrowser(t, srv).get("/admin/").must(t, http.StatusOK, "Create an account")
}

// alertRows returns the rows of the admin page's alert table.
func alertRows(body string) []string {
	var rows []string
	for _, part := range strings.Split(body, `<tr class="alert `)[1:] {
		rows = append(rows, strings.Join(strings.Fields(part[:strings.Index(part, "</tr>")]), " "))
	}
	return rows
}

// TestAdminCountries: with a place database and -admin-countries FR, the
// admin area opens from France only. The address is the client's as a
// trusted proxy reports it; an unknown place is refused; a header from a
// peer that is not a trusted proxy is ignored.
func TestAdminCountries(t *testing.T) {
	s := newSite(t)
	a, srv := s.start(t, opsConfig{clientIP: behindProxy(t), locator: testLocator(t), adminCountries: []string{"FR"}})
	root := newBrowser(t, srv)
	root.forwardedFor = ipFrance
	signUpWithKey(t, root, s.clock, "root", newTestKey(testkit.FlagUV))
	p := root.get("/admin/").must(t, http.StatusOK, "Recent alerts", "Open from: FR")
	if rows := alertRows(p.body); len(rows) != 1 || !strings.Contains(rows[0], "<td>"+ipFrance+"</td> <td>FR</td>") {
		t.Fatalf("alerts listed: %q", rows)
	}

	for _, ip := range []string{ipUS, ipGermany, "10.1.2.3", "2001:db8::1"} {
		root.forwardedFor = ip
		root.get("/admin/").must(t, http.StatusForbidden, "The admin area is for administrators")
	}
	root.forwardedFor = "not an address"
	root.get("/admin/").must(t, http.StatusBadRequest, "client address could not be read")
	root.forwardedFor = ipFrance
	root.get("/admin/").must(t, http.StatusOK, "Recent alerts")

	// The same cookies and the same header, from a peer in Germany that
	// is no trusted proxy: its header is not read.
	direct := func(peer string) int {
		req := httptest.NewRequest(http.MethodGet, "/admin/", nil)
		req.RemoteAddr = peer
		req.Header.Set("X-Forwarded-For", ipFrance)
		u, _ := url.Parse(srv.URL)
		for _, c := range root.c.Jar.Cookies(u) {
			req.AddCookie(c)
		}
		w := httptest.NewRecorder()
		a.handler().ServeHTTP(w, req)
		return w.Code
	}
	if got := direct(ipGermany + ":50000"); got != http.StatusForbidden {
		t.Fatalf("spoofed header from an untrusted peer: %d, want 403", got)
	}
	if got := direct("127.0.0.1:50000"); got != http.StatusOK {
		t.Fatalf("the same header from the trusted proxy: %d, want 200", got)
	}
}

// TestAdminPolicyConfig: countries without a place database are refused
// at start; a place database without countries closes the area.
func TestAdminPolicyConfig(t *testing.T) {
	s := newSite(t)
	_, err := newApp(appConfig{keys: s.keys, store: s.store, users: s.users, url: "http://localhost:8080", admin: "root",
		log: slog.New(slog.NewTextHandler(io.Discard, nil)), ops: opsConfig{adminCountries: []string{"FR"}}})
	if err == nil || !strings.Contains(err.Error(), "-admin-countries needs -geoip") {
		t.Fatalf("countries without -geoip: %v", err)
	}
	_, srv := s.start(t, opsConfig{clientIP: behindProxy(t), locator: testLocator(t)})
	root := newBrowser(t, srv)
	root.forwardedFor = ipFrance
	signUpWithKey(t, root, s.clock, "root", newTestKey(testkit.FlagUV))
	root.get("/admin/").must(t, http.StatusForbidden, "The admin area is closed")

	for _, args := range [][]string{
		{"-store", "memory", "-admin-countries", "FR"},
		{"-store", "memory", "-geoip-asn", "asn.mmdb"},
		{"-store", "memory", "-trusted-proxies", "10.0.0.0/8"},
		{"-store", "memory", "-client-ip-header", "X-Forwarded-For"},
		{"-store", "memory", "-client-ip-header", "X-Forwarded-For", "-trusted-proxies", "0.0.0.0/0"},
		{"-store", "memory", "-metrics-from", "not-a-prefix"},
	} {
		if _, err := parseFlags(args, io.Discard); err == nil {
			t.Errorf("parseFlags(%q) accepted", args)
		}
	}
	o, err := parseFlags([]string{"-store", "memory", "-client-ip-header", "X-Forwarded-For", "-trusted-proxies", "10.0.0.1, 192.0.2.0/24", "-metrics-from", "none"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ops, err := o.opsConfig()
	if err != nil || !ops.metricsOff || ops.clientIP.Header() != "X-Forwarded-For" || !ops.clientIP.Trusted(netip.MustParseAddr("10.0.0.1")) || ops.clientIP.Trusted(netip.MustParseAddr("10.0.0.2")) {
		t.Fatalf("opsConfig: %+v, %v", ops, err)
	}
}

// TestMetrics: /metrics serves Prometheus text after some sign-ins, to
// loopback clients only by default; a client a trusted proxy reports
// from elsewhere is refused.
func TestMetrics(t *testing.T) {
	s := newSite(t)
	_, srv := s.start(t, opsConfig{clientIP: behindProxy(t)})
	c := s.clock
	b := newBrowser(t, srv)
	acc := signUp(t, b, c, "alice")
	b.signOut(t)
	c.Add(30 * time.Second)
	b.signIn(t, "alice")
	b.post("/signin/code", url.Values{"kind": {"totp"}, "code": {testkit.WrongTOTPCode(t, acc.secret, c.Now())}}).
		must(t, http.StatusUnprocessableEntity, "Wrong code")
	b.post("/signin/code", url.Values{"kind": {"totp"}, "code": {testkit.TOTPCode(t, acc.secret, c.Now())}}).
		must(t, http.StatusOK, "Your account")

	p := b.get("/metrics").must(t, http.StatusOK)
	for _, want := range []string{
		`mfa_verifications_total{kind="totp",outcome="succeeded",reason="none"} 1`, // an enrolment's first code is not a verification
		`mfa_verifications_total{kind="totp",outcome="failed",reason="wrong_code"} 1`,
		`mfa_sessions_total{event="started"} 2`,
		`mfa_sessions_total{event="revoked"} 1`,
		`mfa_enrolments_total{kind="totp",stage="confirmed"} 1`,
		`mfa_alerts_total{kind="enrolled",severity="info"} 2`, // TOTP and backup codes
		`mfa_store_call_duration_seconds_bucket{op="Observe",outcome="ok",le="+Inf"}`,
		`mfa_store_call_duration_seconds_count{op="Hit",outcome="ok"}`,
	} {
		if !strings.Contains(p.body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if t.Failed() {
		t.Fatalf("/metrics:\n%s", p.body)
	}

	b.forwardedFor = ipFrance
	b.get("/metrics").must(t, http.StatusForbidden, "Forbidden")

	_, off := s.start(t, opsConfig{metricsOff: true})
	newBrowser(t, off).get("/metrics").must(t, http.StatusForbidden)
}

// TestSprayingAcrossInstances: attempts for five accounts from one
// address, split across two instances of the site, raise one spraying
// alert, which the admin page of either instance lists; the fifth
// attempt and any after it are denied, wherever they land.
func TestSprayingAcrossInstances(t *testing.T) {
	s := newSite(t)
	c := s.clock
	_, srvA := s.start(t, opsConfig{clientIP: behindProxy(t)})
	_, srvB := s.start(t, opsConfig{clientIP: behindProxy(t)})

	names := []string{"ann", "ben", "cat", "dan", "eve"}
	secrets := map[string]string{}
	for _, name := range names {
		u := newBrowser(t, srvA)
		u.forwardedFor = "192.0.2.20"
		secrets[name] = signUp(t, u, c, name).secret
	}
	root := newBrowser(t, srvA)
	root.forwardedFor = ipFrance
	signUpWithKey(t, root, c, "root", newTestKey(testkit.FlagUV))

	// Someone with the five passwords guesses codes from one address.
	attempt := func(srv *httptest.Server, name string) page {
		b := newBrowser(t, srv)
		b.forwardedFor = ipAttacker
		b.signIn(t, name).must(t, http.StatusOK, "Enter a code")
		return b.post("/signin/code", url.Values{"kind": {"totp"}, "code": {testkit.WrongTOTPCode(t, secrets[name], c.Now())}})
	}
	for i, name := range names {
		srv := srvA
		if i%2 == 1 {
			srv = srvB
		}
		if i < 4 {
			attempt(srv, name).must(t, http.StatusUnprocessableEntity, "Wrong code")
		} else {
			attempt(srv, name).must(t, http.StatusTooManyRequests, "Too many accounts were tried from your network")
		}
	}
	attempt(srvB, "ann").must(t, http.StatusTooManyRequests, "Too many accounts were tried from your network")

	for _, b := range []*browser{root, root.at(srvB)} {
		p := b.get("/admin/").must(t, http.StatusOK, "Recent alerts")
		var spraying []string
		for _, r := range alertRows(p.body) {
			if strings.Contains(r, "<td>spraying</td>") {
				spraying = append(spraying, r)
			}
		}
		if len(spraying) != 1 || !strings.Contains(spraying[0], "<td>critical</td>") || !strings.Contains(spraying[0], "<td>"+ipAttacker+"</td>") ||
			!strings.Contains(spraying[0], "users: 5") {
			t.Fatalf("%s: spraying alerts %q", b.base, spraying)
		}
	}
}

// TestNoSignals: a store without signal lists runs without the monitor,
// says so at start and on the admin page, and still serves metrics.
func TestNoSignals(t *testing.T) {
	s := newSite(t)
	s.store = noSignals{s.store}
	var log bytes.Buffer
	a, err := newApp(appConfig{keys: s.keys, store: s.store, users: s.users, url: "http://localhost:8080", admin: "root",
		log: slog.New(slog.NewTextHandler(&log, nil)), attestationRoots: testCA.Pool()})
	if err != nil {
		t.Fatal(err)
	}
	if a.monitor != nil || !strings.Contains(log.String(), "monitoring is off") {
		t.Fatalf("monitor %v; log:\n%s", a.monitor, log.String())
	}
	a.now, a.bcryptCost = s.clock.Now, bcrypt.MinCost
	srv := httptest.NewServer(a.handler())
	t.Cleanup(srv.Close)
	root := newBrowser(t, srv)
	signUpWithKey(t, root, s.clock, "root", newTestKey(testkit.FlagUV))
	root.get("/admin/").must(t, http.StatusOK, "Monitoring is off")
	root.get("/metrics").must(t, http.StatusOK, "mfa_sessions_total")
}

// noSignals hides the store's signal lists, as a backend without them.
type noSignals struct{ appStore }
