package policy_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/clientip"
	"github.com/mfakit/mfa/geo"
	"github.com/mfakit/mfa/internal/testkit"
	"github.com/mfakit/mfa/policy"
	"github.com/mfakit/mfa/session"
	"github.com/mfakit/mfa/store/memstore"
)

// t0 is a Wednesday, 10:00 UTC.
var t0 = time.Date(2030, 1, 9, 10, 0, 0, 0, time.UTC)

var ctx = context.Background()

// fixture is a real session.Manager and the application's side of a
// policy: a role table and a place table, each countable and breakable.
type fixture struct {
	clk *testkit.Clock
	m   *session.Manager

	mu        sync.Mutex
	roles     map[string][]string
	rolesErr  error
	roleCalls atomic.Int32

	places   map[netip.Addr]geo.Place
	locErr   error
	locCalls atomic.Int32

	refresh map[string]string // access token → refresh token
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	f := &fixture{
		clk:     testkit.NewClock(t0),
		refresh: map[string]string{},
		roles:   map[string][]string{"alice": {"admin", "staff"}, "bob": {"staff"}, "carol": nil},
		places: map[netip.Addr]geo.Place{
			netip.MustParseAddr("192.0.2.1"):    {Country: "FR"},
			netip.MustParseAddr("192.0.2.2"):    {Country: "DE"},
			netip.MustParseAddr("192.0.2.3"):    {Country: "US"},
			netip.MustParseAddr("192.0.2.4"):    {Country: "RU"},
			netip.MustParseAddr("192.0.2.5"):    {Network: "AS64496"}, // a network, no country
			netip.MustParseAddr("2001:db8::1"):  {Country: "FR"},
			netip.MustParseAddr("203.0.113.9"):  {Country: "FR"},
			netip.MustParseAddr("198.51.100.7"): {Country: "US"},
		},
	}
	key, err := session.GenerateEd25519Key("k1", bytes.NewReader(bytes.Repeat([]byte{7}, ed25519.SeedSize)))
	if err != nil {
		t.Fatal(err)
	}
	ks, err := session.NewKeySet(key)
	if err != nil {
		t.Fatal(err)
	}
	h, err := mfa.NewHasher(bytes.Repeat([]byte{9}, 32))
	if err != nil {
		t.Fatal(err)
	}
	f.m, err = session.New(session.Config{
		Issuer: "https://app.example", Audience: "https://api.example",
		Store: memstore.New(), Hasher: h, Keys: ks, Now: f.clk.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// config is a Config over the fixture's tables and clock.
func (f *fixture) config(rules ...policy.Rule) policy.Config {
	return policy.Config{
		Rules: rules,
		Roles: func(r *http.Request, c *session.AccessClaims) ([]string, error) {
			f.roleCalls.Add(1)
			f.mu.Lock()
			defer f.mu.Unlock()
			if f.rolesErr != nil {
				return nil, f.rolesErr
			}
			return f.roles[c.Subject], nil
		},
		Locator: geo.LocatorFunc(func(_ context.Context, a netip.Addr) (geo.Place, error) {
			f.locCalls.Add(1)
			f.mu.Lock()
			defer f.mu.Unlock()
			if f.locErr != nil {
				return geo.Place{}, f.locErr
			}
			return f.places[a], nil
		}),
		Now: f.clk.Now,
	}
}

func (f *fixture) policy(t testing.TB, cfg policy.Config) *policy.Policy {
	t.Helper()
	p, err := policy.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// token is an access token of a session started now by uid with a factor
// reporting amr at level aal.
func (f *fixture) token(t testing.TB, uid string, aal mfa.AAL, amr ...string) string {
	t.Helper()
	tok, err := f.m.Start(ctx, uid, &mfa.Result{UserID: uid, FactorID: "f1", Kind: mfa.KindTOTP, AMR: amr, AAL: aal, Time: f.clk.Now(), Remaining: -1})
	if err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	f.refresh[tok.AccessToken] = tok.RefreshToken
	f.mu.Unlock()
	return tok.AccessToken
}

// req is one request: a method and target, the peer, a token, and
// headers as name, value pairs.
type req struct {
	method, target, remote, token string
	header                        []string
}

// answer is what the middleware did with a request.
type answer struct {
	status int
	www    string
	body   string
	denial *session.Denial
}

// do serves rq through Require(Policy(p)) to a handler that answers 200.
func (f *fixture) do(p session.Decider, rq req) answer {
	var a answer
	h := f.m.Require(session.Policy(p), session.OnDenied(func(w http.ResponseWriter, r *http.Request, d *session.Denial) {
		a.denial = d
		f.m.WriteDenial(w, d)
	}))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := session.ClaimsFrom(r.Context()); !ok {
			http.Error(w, "no claims", http.StatusInternalServerError)
		}
	}))
	if rq.method == "" {
		rq.method = http.MethodGet
	}
	r := httptest.NewRequest(rq.method, rq.target, nil)
	switch rq.remote {
	case "":
	case "<empty>":
		r.RemoteAddr = ""
	default:
		r.RemoteAddr = rq.remote
	}
	if rq.token != "" {
		r.Header.Set("Authorization", "Bearer "+rq.token)
	}
	for i := 0; i+1 < len(rq.header); i += 2 {
		r.Header.Add(rq.header[i], rq.header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	a.status, a.www, a.body = w.Code, w.Header().Get("WWW-Authenticate"), w.Body.String()
	return a
}

// check fails t unless a has the status and, for a refusal, a denial
// whose Err matches want.
func check(t *testing.T, a answer, status int, want error) {
	t.Helper()
	if a.status != status {
		t.Fatalf("status %d, want %d; %s %s", a.status, status, a.www, a.body)
	}
	if status == http.StatusOK {
		return
	}
	if a.denial == nil || !errors.Is(a.denial.Err, want) {
		t.Fatalf("denial %+v, want %v", a.denial, want)
	}
	if status == http.StatusForbidden {
		if a.www != "" || a.body != `{"error":"access_denied","error_description":"access denied by policy"}`+"\n" {
			t.Fatalf("403 answer: %q %q", a.www, a.body)
		}
	}
}

// mustSource is a clientip.Source trusting proxies for header.
func mustSource(t testing.TB, header string, proxies ...string) *clientip.Source {
	t.Helper()
	var ps []netip.Prefix
	for _, p := range proxies {
		ps = append(ps, netip.MustParsePrefix(p))
	}
	s, err := clientip.New(clientip.Config{Header: header, TrustedProxies: ps})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// refreshed returns a new access token of the session whose access token
// is tok, with its auth_time unchanged.
func (f *fixture) refreshed(t testing.TB, uid, tok string) string {
	t.Helper()
	f.mu.Lock()
	rt := f.refresh[tok]
	f.mu.Unlock()
	fresh, err := f.m.Refresh(ctx, rt)
	if err != nil {
		t.Fatal(err)
	}
	return fresh.AccessToken
}
