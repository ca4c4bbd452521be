package clientip_test

import (
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/mfakit/mfa/clientip"
)

// FuzzHeaders: whatever a header holds, Addr returns a valid, unmapped,
// zone-free address or an error, never panics, and from an untrusted peer
// returns the peer.
func FuzzHeaders(f *testing.F) {
	for _, s := range []string{
		"198.51.100.7", "1.1.1.1, 10.2.2.2", "[2001:db8::1]:80", "fe80::1%eth0", "::ffff:1.2.3.4",
		`for="[2001:db8:cafe::17]:4711";proto=http, for=10.0.0.2`, `for="a\"b,c"`, `x="`, ",,", "unknown", "_x",
	} {
		f.Add(s, true)
		f.Add(s, false)
	}
	srcs := map[string]*clientip.Source{}
	for _, h := range []string{"X-Forwarded-For", "Forwarded", "X-Real-IP"} {
		s, err := clientip.New(clientip.Config{Header: h, TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})
		if err != nil {
			f.Fatal(err)
		}
		srcs[h] = s
	}
	f.Fuzz(func(t *testing.T, value string, trusted bool) {
		for h, s := range srcs {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = "192.0.2.1:1"
			if trusted {
				r.RemoteAddr = "10.0.0.1:1"
			}
			for line := range strings.SplitSeq(value, "\n") {
				r.Header.Add(h, line)
			}
			a, err := s.Addr(r)
			if err != nil {
				if a.IsValid() {
					t.Fatalf("%s: address %v with error %v", h, a, err)
				}
				continue
			}
			if !a.IsValid() || a.Is4In6() || a.Zone() != "" {
				t.Fatalf("%s %q: address %v", h, value, a)
			}
			if !trusted && a != netip.MustParseAddr("192.0.2.1") {
				t.Fatalf("%s %q: untrusted peer's header read: %v", h, value, a)
			}
		}
	})
}

// FuzzRemoteAddr: ParseRemoteAddr never panics and returns a clean address
// or an error.
func FuzzRemoteAddr(f *testing.F) {
	for _, s := range []string{"1.2.3.4:5", "[::1]:80", "[fe80::1%eth0]:1", "::ffff:1.2.3.4", "", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := clientip.ParseRemoteAddr(s)
		if err == nil && (!a.IsValid() || a.Is4In6() || a.Zone() != "") {
			t.Fatalf("%q: %v", s, a)
		}
	})
}
