package policy_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the windows' zones, whatever the machine has

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/clientip"
	"github.com/mfakit/mfa/geo"
	"github.com/mfakit/mfa/policy"
	"github.com/mfakit/mfa/session"
)

const forbidden, stepUp, outage = http.StatusForbidden, http.StatusUnauthorized, http.StatusServiceUnavailable

func TestRoute(t *testing.T) {
	f := newFixture(t)
	p := f.policy(t, f.config(
		policy.Rule{Pattern: "/admin/public/"},
		policy.Rule{Pattern: "/admin/", Roles: []string{"admin"}},
		policy.Rule{Pattern: "POST /reports/", MinAAL: mfa.AAL3},
		policy.Rule{Pattern: "GET /reports/{id}"},
		policy.Rule{Pattern: "api.example.com/"},
	))
	tok := f.token(t, "bob", mfa.AAL2, "otp")
	tests := []struct {
		method, target string
		status         int
		err            error
	}{
		{"GET", "/admin/public/x", 200, nil},               // first match wins over the broader rule below
		{"GET", "/admin/users", forbidden, policy.ErrRole}, // bob is not an admin
		{"GET", "/admin", forbidden, policy.ErrRole},       // redirected to /admin/ by a ServeMux: same rule
		{"GET", "/x/../admin/", forbidden, policy.ErrRole}, // cleaned
		{"GET", "/%61dmin/", forbidden, policy.ErrRole},    // unescaped
		{"GET", "//admin/", forbidden, policy.ErrRole},     // doubled slash
		{"GET", "/ADMIN/", forbidden, policy.ErrNoRule},    // paths are case-sensitive, and unmatched is refused
		{"POST", "/reports/1", stepUp, session.ErrInsufficientAAL},
		{"GET", "/reports/1", 200, nil},
		{"HEAD", "/reports/1", 200, nil}, // GET patterns match HEAD, as in a ServeMux
		{"DELETE", "/reports/1", forbidden, policy.ErrNoRule},
		{"GET", "/reports/1/2", forbidden, policy.ErrNoRule},
		{"GET", "/elsewhere", forbidden, policy.ErrNoRule},
		{"GET", "http://api.example.com/anything", 200, nil},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.target, func(t *testing.T) {
			check(t, f.do(p, req{method: tt.method, target: tt.target, token: tok}), tt.status, tt.err)
		})
	}
}

func TestRoles(t *testing.T) {
	f := newFixture(t)
	p := f.policy(t, f.config(
		policy.Rule{Pattern: "/admin/", Roles: []string{"admin", "auditor"}},
		policy.Rule{Pattern: "/"},
	))
	tests := []struct {
		name, user string
		rolesErr   error
		target     string
		status     int
		err        error
		calls      int32
	}{
		{"holds one", "alice", nil, "/admin/", 200, nil, 1},
		{"holds another role", "bob", nil, "/admin/", forbidden, policy.ErrRole, 1},
		{"holds none", "carol", nil, "/admin/", forbidden, policy.ErrRole, 1},
		{"unknown user", "mallory", nil, "/admin/", forbidden, policy.ErrRole, 1},
		{"roles unavailable", "alice", errors.New("db down"), "/admin/", outage, policy.ErrRoles, 1},
		{"rule without roles asks none", "carol", errors.New("db down"), "/home", 200, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.rolesErr = tt.rolesErr
			f.roleCalls.Store(0)
			a := f.do(p, req{target: tt.target, token: f.token(t, tt.user, mfa.AAL2, "otp")})
			check(t, a, tt.status, tt.err)
			if got := f.roleCalls.Load(); got != tt.calls {
				t.Errorf("Roles called %d times, want %d", got, tt.calls)
			}
			if a.status == outage && (strings.Contains(a.body, "db down") || !errors.Is(a.denial.Err, session.ErrPolicy)) {
				t.Errorf("outage: %s, %v", a.body, a.denial.Err)
			}
		})
	}
}

func TestAAL(t *testing.T) {
	f := newFixture(t)
	p := f.policy(t, f.config(policy.Rule{Pattern: "/", MinAAL: mfa.AAL3}))
	tests := []struct {
		aal    mfa.AAL
		status int
	}{{mfa.AAL1, stepUp}, {mfa.AAL2, stepUp}, {mfa.AAL3, 200}}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.aal), func(t *testing.T) {
			a := f.do(p, req{target: "/", token: f.token(t, "alice", tt.aal, "hwk")})
			check(t, a, tt.status, session.ErrInsufficientAAL)
			if tt.status == stepUp && !strings.Contains(a.www, `error="insufficient_user_authentication"`) ||
				tt.status == stepUp && !strings.HasSuffix(a.www, `acr_values="urn:mfakit:aal3"`) {
				t.Errorf("challenge %q", a.www)
			}
		})
	}
}

func TestMaxAge(t *testing.T) {
	f := newFixture(t)
	p := f.policy(t, f.config(policy.Rule{Pattern: "/", MaxAge: 5 * time.Minute}))
	// A session authenticated at t0, refreshed later: same auth_time.
	tok, err := f.m.Start(ctx, "alice", &mfa.Result{UserID: "alice", FactorID: "f1", Kind: mfa.KindTOTP, AMR: []string{"otp"}, AAL: mfa.AAL2, Time: t0, Remaining: -1})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		after  time.Duration
		status int
	}{{0, 200}, {4*time.Minute + 59*time.Second, 200}, {5*time.Minute + time.Second, stepUp}, {20 * time.Minute, stepUp}} {
		t.Run(tt.after.String(), func(t *testing.T) {
			f.clk.Set(t0.Add(tt.after))
			fresh, err := f.m.Refresh(ctx, tok.RefreshToken)
			if err != nil {
				t.Fatal(err)
			}
			tok = fresh
			a := f.do(p, req{target: "/", token: fresh.AccessToken})
			check(t, a, tt.status, session.ErrTooOld)
			if tt.status == stepUp && !strings.HasSuffix(a.www, "max_age=300") {
				t.Errorf("challenge %q", a.www)
			}
		})
	}
}

// TestClocksDisagree: a token from an instance whose clock runs ahead. A
// little (within the leeway) is accepted; an hour is refused, never read
// as a fresh authentication.
func TestClocksDisagree(t *testing.T) {
	f := newFixture(t)
	ahead := newFixture(t) // same keys, issuer and audience; its own clock
	p := f.policy(t, f.config(policy.Rule{Pattern: "/", MaxAge: 5 * time.Minute}))
	for _, tt := range []struct {
		skew   time.Duration
		status int
	}{{3 * time.Second, 200}, {time.Minute, stepUp}, {time.Hour, stepUp}} {
		t.Run(tt.skew.String(), func(t *testing.T) {
			ahead.clk.Set(t0.Add(tt.skew))
			a := f.do(p, req{target: "/", token: ahead.token(t, "alice", mfa.AAL2, "otp")})
			check(t, a, tt.status, session.ErrInvalidToken)
			if tt.status != 200 && !strings.Contains(a.www, "not valid yet") {
				t.Errorf("challenge %q", a.www)
			}
		})
	}
}

func TestMethods(t *testing.T) {
	f := newFixture(t)
	p := f.policy(t, f.config(policy.Rule{Pattern: "/", Methods: policy.PhishingResistant}))
	tests := []struct {
		name   string
		amr    []string
		status int
	}{
		{"totp", []string{"otp"}, stepUp},
		{"email code", []string{"otp", "mca"}, stepUp},
		{"sms", []string{"sms", "mca"}, stepUp},
		{"push", []string{"swk", "mca"}, stepUp},
		{"attested key", []string{"hwk", "user"}, 200},
		{"key or passkey", []string{"pop"}, 200},
		{"passkey sign-in", []string{"pop", "user", "mfa"}, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := f.do(p, req{target: "/", token: f.token(t, "alice", mfa.AAL2, tt.amr...)})
			check(t, a, tt.status, session.ErrMethod)
			if tt.status == stepUp && (!strings.Contains(a.body, `"amr_values":["hwk","pop"]`) ||
				!strings.Contains(a.www, `error="insufficient_user_authentication"`)) {
				t.Errorf("answer %q %s", a.www, a.body)
			}
		})
	}
}

func TestNetworks(t *testing.T) {
	f := newFixture(t)
	p := f.policy(t, f.config(policy.Rule{
		Pattern: "/",
		Networks: []netip.Prefix{
			netip.MustParsePrefix("192.0.2.0/24"),
			netip.MustParsePrefix("2001:db8::/32"),
			netip.MustParsePrefix("::ffff:198.51.100.0/120"), // written mapped: read as 198.51.100.0/24
		},
		DenyNetworks: []netip.Prefix{
			netip.MustParsePrefix("192.0.2.128/25"),
			netip.MustParsePrefix("2001:db8:bad::/48"),
		},
	}))
	tok := f.token(t, "alice", mfa.AAL2, "otp")
	tests := []struct {
		remote string
		status int
	}{
		{"192.0.2.1:1", 200},
		{"192.0.2.200:1", forbidden},          // denied wins
		{"203.0.113.1:1", forbidden},          // not allowed
		{"[::ffff:192.0.2.1]:1", 200},         // mapped reads as IPv4
		{"[::ffff:192.0.2.200]:1", forbidden}, // and is denied as IPv4
		{"198.51.100.9:1", 200},               // allowed by the mapped prefix
		{"[2001:db8::1]:1", 200},              // IPv6 allowed
		{"[2001:db8:bad::1]:1", forbidden},    // IPv6 denied
		{"[2001:db9::1]:1", forbidden},        // IPv6 outside
		{"[fe80::1%eth0]:1", forbidden},       // link-local, zone dropped: outside
		{"[::c000:201]:1", forbidden},         // IPv4-compatible is not IPv4-mapped
		{"not an address", forbidden},         // unreadable: refused
		{"<empty>", forbidden},                // none at all
		{"192.0.2.1", 200},                    // bare, as some adapters set it
		{"[::ffff:192.0.2.1%x]:1", 200},       // the peer's zone names this host's interface: dropped
		{"[2001:db8::1]:99999", forbidden},    // bad port
	}
	for _, tt := range tests {
		t.Run(tt.remote, func(t *testing.T) {
			check(t, f.do(p, req{target: "/", token: tok, remote: tt.remote}), tt.status, policy.ErrNetwork)
		})
	}
}

// TestSpoofedForwardedFor: behind a trusted proxy the header names the
// client; from anyone else it is ignored.
func TestSpoofedForwardedFor(t *testing.T) {
	f := newFixture(t)
	cfg := f.config(policy.Rule{Pattern: "/", Networks: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}})
	cfg.ClientIP = mustSource(t, "X-Forwarded-For", "10.0.0.0/8")
	p := f.policy(t, cfg)
	tok := f.token(t, "alice", mfa.AAL2, "otp")
	tests := []struct {
		name, remote, xff string
		status            int
	}{
		{"untrusted peer names an allowed address", "203.0.113.1:1", "192.0.2.1", forbidden},
		{"trusted proxy, allowed client", "10.0.0.1:1", "192.0.2.1", 200},
		{"trusted proxy, client prepends an allowed address", "10.0.0.1:1", "192.0.2.1, 203.0.113.1", forbidden},
		{"two trusted proxies", "10.0.0.1:1", "203.0.113.1, 192.0.2.1, 10.9.9.9", 200},
		{"trusted proxy, garbage for the client", "10.0.0.1:1", "192.0.2.1, garbage", forbidden},
		{"allowed peer's own header ignored", "192.0.2.1:1", "203.0.113.1", 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := f.do(p, req{target: "/", token: tok, remote: tt.remote, header: []string{"X-Forwarded-For", tt.xff}})
			check(t, a, tt.status, policy.ErrNetwork)
			if tt.name == "trusted proxy, garbage for the client" && !errors.Is(a.denial.Err, clientip.ErrHeader) {
				t.Errorf("cause %v", a.denial.Err)
			}
		})
	}
}

func TestCountries(t *testing.T) {
	f := newFixture(t)
	p := f.policy(t, f.config(
		policy.Rule{Pattern: "/eu/", Countries: []string{"fr", "DE"}},
		policy.Rule{Pattern: "/world/", DenyCountries: []string{"RU"}},
		policy.Rule{Pattern: "/both/", Countries: []string{"FR", "RU"}, DenyCountries: []string{"RU"}},
		policy.Rule{Pattern: "/"},
	))
	tok := f.token(t, "alice", mfa.AAL2, "otp")
	down := fmt.Errorf("%w: file gone", geo.ErrUnavailable)
	tests := []struct {
		target, remote string
		locErr         error
		status         int
		err            error
		calls          int32
	}{
		{"/eu/", "192.0.2.1:1", nil, 200, nil, 1},                        // FR
		{"/eu/", "192.0.2.2:1", nil, 200, nil, 1},                        // DE
		{"/eu/", "192.0.2.3:1", nil, forbidden, policy.ErrCountry, 1},    // US
		{"/eu/", "[::ffff:192.0.2.1]:1", nil, 200, nil, 1},               // mapped FR
		{"/eu/", "[2001:db8::1]:1", nil, 200, nil, 1},                    // IPv6 FR
		{"/eu/", "10.0.0.1:1", nil, forbidden, policy.ErrCountry, 1},     // private: unknown
		{"/eu/", "127.0.0.1:1", nil, forbidden, policy.ErrCountry, 1},    // loopback: unknown
		{"/eu/", "192.0.2.5:1", nil, forbidden, policy.ErrCountry, 1},    // a place without a country
		{"/eu/", "bad", nil, forbidden, policy.ErrNetwork, 0},            // no address: not located
		{"/eu/", "192.0.2.1:1", down, outage, geo.ErrUnavailable, 1},     // the database failed
		{"/world/", "192.0.2.3:1", nil, 200, nil, 1},                     // US
		{"/world/", "192.0.2.4:1", nil, forbidden, policy.ErrCountry, 1}, // RU denied
		{"/world/", "10.0.0.1:1", nil, forbidden, policy.ErrCountry, 1},  // unknown: a deny list restricts too
		{"/both/", "192.0.2.4:1", nil, forbidden, policy.ErrCountry, 1},  // deny wins
		{"/both/", "192.0.2.1:1", nil, 200, nil, 1},                      // FR
		{"/other", "10.0.0.1:1", down, 200, nil, 0},                      // no countries: not located
	}
	for _, tt := range tests {
		t.Run(tt.target+" "+tt.remote, func(t *testing.T) {
			f.locErr = tt.locErr
			f.locCalls.Store(0)
			a := f.do(p, req{target: tt.target, token: tok, remote: tt.remote})
			check(t, a, tt.status, tt.err)
			if got := f.locCalls.Load(); got != tt.calls {
				t.Errorf("Locate called %d times, want %d", got, tt.calls)
			}
			if tt.status == outage && (strings.Contains(a.body, "file gone") || !errors.Is(a.denial.Err, session.ErrPolicy)) {
				t.Errorf("outage: %s, %v", a.body, a.denial.Err)
			}
		})
	}
}

func TestWindows(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	weekdays := []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday}
	office := policy.Window{Days: weekdays, Start: 9 * time.Hour, End: 17 * time.Hour, Location: paris}
	night := policy.Window{Days: []time.Weekday{time.Friday}, Start: 22 * time.Hour, End: 6 * time.Hour}
	lateOnly := policy.Window{Start: 22 * time.Hour} // End 0: until midnight, every day
	skipped := policy.Window{Days: []time.Weekday{time.Sunday}, Start: 2 * time.Hour, End: 3 * time.Hour, Location: paris}
	utc := func(s string) time.Time {
		tm, err := time.Parse(time.DateTime, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	tests := []struct {
		name string
		w    policy.Window
		at   time.Time
		in   bool
	}{
		// 2030-01-09 is a Wednesday; Paris is UTC+1 in winter, UTC+2 in summer.
		{"office, winter 08:30 Paris", office, utc("2030-01-09 07:30:00"), false},
		{"office, winter 09:00 Paris", office, utc("2030-01-09 08:00:00"), true},
		{"office, summer 09:30 Paris", office, utc("2030-07-10 07:30:00"), true},
		{"office, summer 16:59:59 Paris", office, utc("2030-07-10 14:59:59"), true},
		{"office, summer 17:00 Paris", office, utc("2030-07-10 15:00:00"), false},
		{"office, winter 16:30 Paris", office, utc("2030-01-09 15:30:00"), true},
		{"office, Saturday", office, utc("2030-01-12 10:00:00"), false},
		{"office, Monday 00:30 Paris is Sunday in UTC", office, utc("2030-01-13 23:30:00"), false},
		{"office, Friday 16:30 Paris", office, utc("2030-01-11 15:30:00"), true},
		{"night, Friday 23:00", night, utc("2030-01-11 23:00:00"), true},
		{"night, Saturday 05:59:59", night, utc("2030-01-12 05:59:59"), true},
		{"night, Saturday 06:00", night, utc("2030-01-12 06:00:00"), false},
		{"night, Friday 05:00 (Thursday's night)", night, utc("2030-01-11 05:00:00"), false},
		{"night, Thursday 23:00", night, utc("2030-01-10 23:00:00"), false},
		{"night, Friday 21:59", night, utc("2030-01-11 21:59:00"), false},
		{"late, 23:59:59", lateOnly, utc("2030-01-09 23:59:59"), true},
		{"late, 00:00", lateOnly, utc("2030-01-10 00:00:00"), false},
		// 2030-03-31: Paris springs from 02:00 to 03:00; the hour never comes.
		{"skipped hour, 01:59:59 CET", skipped, utc("2030-03-31 00:59:59"), false},
		{"skipped hour, 03:00 CEST", skipped, utc("2030-03-31 01:00:00"), false},
		// 2030-10-27: Paris falls from 03:00 back to 02:00; the hour comes twice.
		{"repeated hour, 02:30 CEST", skipped, utc("2030-10-27 00:30:00"), true},
		{"repeated hour, 02:30 CET", skipped, utc("2030-10-27 01:30:00"), true},
		{"repeated hour, 03:00 CET", skipped, utc("2030-10-27 02:00:00"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.clk.Set(tt.at)
			p := f.policy(t, f.config(policy.Rule{Pattern: "/", Windows: []policy.Window{tt.w}}))
			status := forbidden
			if tt.in {
				status = 200
			}
			check(t, f.do(p, req{target: "/", token: f.token(t, "alice", mfa.AAL2, "otp")}), status, policy.ErrTime)
		})
	}
	// Windows are any-of.
	f := newFixture(t)
	f.clk.Set(utc("2030-01-11 23:00:00"))
	p := f.policy(t, f.config(policy.Rule{Pattern: "/", Windows: []policy.Window{office, night}}))
	check(t, f.do(p, req{target: "/", token: f.token(t, "alice", mfa.AAL2, "otp")}), 200, nil)
}

// TestAdminArea: the admin area of the issue: an admin role, a security
// key used in the last 5 minutes, from allowed countries only, behind a
// trusted proxy; over a real HTTP connection.
func TestAdminArea(t *testing.T) {
	f := newFixture(t)
	cfg := f.config(
		policy.Rule{
			Pattern: "/admin/", Roles: []string{"admin"}, Methods: policy.PhishingResistant,
			MaxAge: 5 * time.Minute, Countries: []string{"FR", "DE"},
		},
		policy.Rule{Pattern: "/"},
	)
	cfg.ClientIP = mustSource(t, "X-Forwarded-For", "127.0.0.0/8", "::1/128")
	p := f.policy(t, cfg)
	srv := httptest.NewServer(f.m.Require(session.Policy(p))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("ok"))
	})))
	defer srv.Close()
	get := func(path, tok, xff string) (int, string) {
		r, err := http.NewRequest("GET", srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		r.Header.Set("Authorization", "Bearer "+tok)
		if xff != "" {
			r.Header.Set("X-Forwarded-For", xff)
		}
		resp, err := srv.Client().Do(r)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("WWW-Authenticate")
	}
	key := f.token(t, "alice", mfa.AAL2, "pop", "user")
	totp := f.token(t, "alice", mfa.AAL2, "otp")
	staffKey := f.token(t, "bob", mfa.AAL2, "hwk")
	tests := []struct {
		name, path, tok, xff string
		status               int
	}{
		{"admin with a key from France", "/admin/alerts", key, "203.0.113.9", 200},
		{"admin with a key from the US", "/admin/alerts", key, "198.51.100.7", forbidden},
		{"admin with a key, client spoofs France before its US address", "/admin/alerts", key, "203.0.113.9, 198.51.100.7", forbidden},
		{"admin with a key, no forwarded address: the proxy's own, unknown", "/admin/alerts", key, "", forbidden},
		{"admin with TOTP", "/admin/alerts", totp, "203.0.113.9", stepUp},
		{"staff with a key", "/admin/alerts", staffKey, "203.0.113.9", forbidden},
		{"staff elsewhere", "/home", staffKey, "198.51.100.7", 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if status, www := get(tt.path, tt.tok, tt.xff); status != tt.status {
				t.Fatalf("status %d, want %d (%s)", status, tt.status, www)
			}
		})
	}
	// Six minutes on the key no longer counts: step up again.
	f.clk.Add(6 * time.Minute)
	if status, www := get("/admin/alerts", f.refreshed(t, "alice", key), "203.0.113.9"); status != stepUp || !strings.Contains(www, "max_age=300") {
		t.Fatalf("after 6 minutes: %d %s", status, www)
	}
}

func TestNew(t *testing.T) {
	f := newFixture(t)
	ok := policy.Rule{Pattern: "/"}
	tests := []struct {
		name string
		cfg  func() policy.Config
	}{
		{"no rules", func() policy.Config { return f.config() }},
		{"no pattern", func() policy.Config { return f.config(policy.Rule{}) }},
		{"bad pattern", func() policy.Config { return f.config(policy.Rule{Pattern: "GET"}) }},
		{"bad wildcard", func() policy.Config { return f.config(policy.Rule{Pattern: "/{x"}) }},
		{"roles without Roles", func() policy.Config {
			c := f.config(policy.Rule{Pattern: "/", Roles: []string{"admin"}})
			c.Roles = nil
			return c
		}},
		{"countries without Locator", func() policy.Config {
			c := f.config(policy.Rule{Pattern: "/", DenyCountries: []string{"RU"}})
			c.Locator = nil
			return c
		}},
		{"bad country", func() policy.Config { return f.config(policy.Rule{Pattern: "/", Countries: []string{"FRA"}}) }},
		{"non-letter country", func() policy.Config { return f.config(policy.Rule{Pattern: "/", Countries: []string{"F1"}}) }},
		{"bad prefix", func() policy.Config { return f.config(policy.Rule{Pattern: "/", Networks: []netip.Prefix{{}}}) }},
		{"level too high", func() policy.Config { return f.config(policy.Rule{Pattern: "/", MinAAL: 4}) }},
		{"negative age", func() policy.Config { return f.config(policy.Rule{Pattern: "/", MaxAge: -time.Second}) }},
		{"empty method", func() policy.Config { return f.config(policy.Rule{Pattern: "/", Methods: []string{""}}) }},
		{"empty role", func() policy.Config { return f.config(policy.Rule{Pattern: "/", Roles: []string{""}}) }},
		{"window start past a day", func() policy.Config {
			return f.config(ok, policy.Rule{Pattern: "/x", Windows: []policy.Window{{Start: 24 * time.Hour}}})
		}},
		{"window empty", func() policy.Config {
			return f.config(policy.Rule{Pattern: "/", Windows: []policy.Window{{Start: time.Hour, End: time.Hour}}})
		}},
		{"window negative", func() policy.Config {
			return f.config(policy.Rule{Pattern: "/", Windows: []policy.Window{{Start: -time.Hour}}})
		}},
		{"window bad day", func() policy.Config {
			return f.config(policy.Rule{Pattern: "/", Windows: []policy.Window{{Days: []time.Weekday{7}}}})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if p, err := policy.New(tt.cfg()); !errors.Is(err, policy.ErrConfig) {
				t.Fatalf("New = %v, %v; want ErrConfig", p, err)
			}
		})
	}
	// The zero Config's optional fields default: a rule needing none of
	// them works without them.
	p, err := policy.New(policy.Config{Rules: []policy.Rule{{Pattern: "/", Networks: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}}}})
	if err != nil {
		t.Fatal(err)
	}
	check(t, f.do(p, req{target: "/", token: f.token(t, "alice", mfa.AAL2, "otp")}), 200, nil)
}

// TestRulesCopied: changing the Config's slices after New changes nothing.
func TestRulesCopied(t *testing.T) {
	f := newFixture(t)
	methods := []string{"hwk"}
	rules := []policy.Rule{{Pattern: "/", Methods: methods, Roles: []string{"admin"}}}
	p := f.policy(t, f.config(rules...))
	methods[0] = "otp"
	rules[0].Roles[0] = "staff"
	check(t, f.do(p, req{target: "/", token: f.token(t, "bob", mfa.AAL2, "otp")}), forbidden, policy.ErrRole)
	check(t, f.do(p, req{target: "/", token: f.token(t, "alice", mfa.AAL2, "otp")}), stepUp, session.ErrMethod)
}

// TestRefusalError: a refusal names its reason and rule for logs and
// matches session.ErrForbidden.
func TestRefusalError(t *testing.T) {
	f := newFixture(t)
	p := f.policy(t, f.config(policy.Rule{Pattern: "/admin/", Roles: []string{"admin"}}))
	r := httptest.NewRequest("GET", "/admin/", nil)
	_, err := p.Decide(r, &session.AccessClaims{SessionID: "s"})
	if !errors.Is(err, policy.ErrRole) || !errors.Is(err, session.ErrForbidden) || !strings.Contains(err.Error(), `rule "/admin/"`) {
		t.Fatalf("Decide: %v", err)
	}
	_, err = p.Decide(httptest.NewRequest("GET", "/", nil), &session.AccessClaims{})
	if !errors.Is(err, policy.ErrNoRule) || !errors.Is(err, session.ErrForbidden) {
		t.Fatalf("Decide: %v", err)
	}
}
