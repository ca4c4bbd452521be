package policy_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/policy"
	"github.com/mfakit/mfa/session"
)

// BenchmarkMiddleware: one request through Require with and without a
// policy of ten rules, the matching one the last, with a role, a network,
// a country (a map lookup standing in for the database) and a window.
func BenchmarkMiddleware(b *testing.B) {
	f := newFixture(b)
	var rules []policy.Rule
	for i := range 9 {
		rules = append(rules, policy.Rule{Pattern: fmt.Sprintf("/area%d/", i), Roles: []string{"admin"}})
	}
	rules = append(rules, policy.Rule{
		Pattern: "/admin/", Roles: []string{"admin"}, Methods: policy.PhishingResistant, MaxAge: 5 * time.Minute,
		Networks: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}, Countries: []string{"FR"},
		Windows: []policy.Window{{Start: 0, End: 0}}, // the whole day
	})
	p := f.policy(b, f.config(rules...))
	tok := f.token(b, "alice", mfa.AAL2, "hwk")
	noop := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	for _, bc := range []struct {
		name string
		h    http.Handler
	}{
		{"no policy", f.m.Require()(noop)},
		{"policy", f.m.Require(session.Policy(p))(noop)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			r := httptest.NewRequest("GET", "/admin/alerts", nil)
			r.RemoteAddr = "192.0.2.1:443"
			r.Header.Set("Authorization", "Bearer "+tok)
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				bc.h.ServeHTTP(w, r)
				if w.Code != http.StatusOK {
					b.Fatal(w.Code, w.Body)
				}
			}
		})
	}
}
