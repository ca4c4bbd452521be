package clientip_test

import (
	"errors"
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/mfakit/mfa/clientip"
)

var proxies = []netip.Prefix{
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("fd00::/8"),
}

func source(t *testing.T, header string) *clientip.Source {
	t.Helper()
	if header == "" {
		return &clientip.Source{}
	}
	s, err := clientip.New(clientip.Config{Header: header, TrustedProxies: proxies})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestAddr(t *testing.T) {
	tests := []struct {
		name   string
		header string   // Config.Header; "" for the zero Source
		peer   string   // RemoteAddr
		lines  []string // lines of the configured header (or of X-Forwarded-For for the zero Source)
		want   string   // "" when an error is wanted
		err    error
	}{
		// The remote address alone.
		{"remote v4", "", "192.0.2.1:1234", nil, "192.0.2.1", nil},
		{"remote v6", "", "[2001:db8::1]:443", nil, "2001:db8::1", nil},
		{"remote mapped", "", "[::ffff:192.0.2.1]:443", nil, "192.0.2.1", nil},
		{"remote zone dropped", "", "[fe80::1%eth0]:443", nil, "fe80::1", nil},
		{"remote bare", "", "192.0.2.1", nil, "192.0.2.1", nil},
		{"remote bare v6", "", "2001:db8::1", nil, "2001:db8::1", nil},
		{"remote empty", "", "", nil, "", clientip.ErrRemoteAddr},
		{"remote garbage", "", "pipe", nil, "", clientip.ErrRemoteAddr},
		{"remote port only", "", ":80", nil, "", clientip.ErrRemoteAddr},
		{"zero source ignores XFF", "", "192.0.2.1:1", []string{"198.51.100.7"}, "192.0.2.1", nil},

		// X-Forwarded-For.
		{"spoofed XFF from untrusted peer", "X-Forwarded-For", "192.0.2.1:1", []string{"198.51.100.7"}, "192.0.2.1", nil},
		{"untrusted peer, garbage header", "X-Forwarded-For", "192.0.2.1:1", []string{"%%%"}, "192.0.2.1", nil},
		{"one trusted proxy", "X-Forwarded-For", "10.1.1.1:1", []string{"198.51.100.7"}, "198.51.100.7", nil},
		{"client prefix ignored", "X-Forwarded-For", "10.1.1.1:1", []string{"1.1.1.1, 203.0.113.9, 198.51.100.7"}, "198.51.100.7", nil},
		{"garbage left of client never read", "X-Forwarded-For", "10.1.1.1:1", []string{"<script>,,unknown, 198.51.100.7"}, "198.51.100.7", nil},
		{"several trusted proxies", "X-Forwarded-For", "10.1.1.1:1", []string{"1.1.1.1, 198.51.100.7, 10.2.2.2, fd00::5"}, "198.51.100.7", nil},
		{"several lines, one list", "X-Forwarded-For", "10.1.1.1:1", []string{"1.1.1.1, 198.51.100.7", "10.2.2.2"}, "198.51.100.7", nil},
		{"spoofed line before the proxy's", "X-Forwarded-For", "10.1.1.1:1", []string{"10.9.9.9", "198.51.100.7"}, "198.51.100.7", nil},
		{"all trusted: leftmost", "X-Forwarded-For", "10.1.1.1:1", []string{"10.3.3.3, 10.2.2.2"}, "10.3.3.3", nil},
		{"trusted peer without header", "X-Forwarded-For", "10.1.1.1:1", nil, "10.1.1.1", nil},
		{"trusted mapped peer", "X-Forwarded-For", "[::ffff:10.1.1.1]:1", []string{"198.51.100.7"}, "198.51.100.7", nil},
		{"mapped hop", "X-Forwarded-For", "10.1.1.1:1", []string{"::ffff:198.51.100.7"}, "198.51.100.7", nil},
		{"mapped trusted hop skipped", "X-Forwarded-For", "10.1.1.1:1", []string{"198.51.100.7, ::ffff:10.2.2.2"}, "198.51.100.7", nil},
		{"v6 hop", "X-Forwarded-For", "10.1.1.1:1", []string{"2001:db8::7"}, "2001:db8::7", nil},
		{"v6 hop bracketed with port", "X-Forwarded-For", "10.1.1.1:1", []string{"[2001:db8::7]:4711"}, "2001:db8::7", nil},
		{"v4 hop with port", "X-Forwarded-For", "10.1.1.1:1", []string{"198.51.100.7:4711"}, "198.51.100.7", nil},
		{"v6 trusted peer", "X-Forwarded-For", "[fd00::1]:1", []string{"2001:db8::7"}, "2001:db8::7", nil},
		{"empty hop at client", "X-Forwarded-For", "10.1.1.1:1", []string{"198.51.100.7, "}, "", clientip.ErrHeader},
		{"empty line", "X-Forwarded-For", "10.1.1.1:1", []string{""}, "", clientip.ErrHeader},
		{"garbage at client", "X-Forwarded-For", "10.1.1.1:1", []string{"1.1.1.1, evil"}, "", clientip.ErrHeader},
		{"unknown at client", "X-Forwarded-For", "10.1.1.1:1", []string{"unknown"}, "", clientip.ErrHeader},
		{"zone refused", "X-Forwarded-For", "10.1.1.1:1", []string{"fe80::1%eth0"}, "", clientip.ErrHeader},
		{"bad port", "X-Forwarded-For", "10.1.1.1:1", []string{"198.51.100.7:99999"}, "", clientip.ErrHeader},
		{"port without brackets on v6", "X-Forwarded-For", "10.1.1.1:1", []string{"2001:db8::7]:80"}, "", clientip.ErrHeader},
		{"v4 in brackets", "X-Forwarded-For", "10.1.1.1:1", []string{"[198.51.100.7]"}, "", clientip.ErrHeader},
		{"leading zeros", "X-Forwarded-For", "10.1.1.1:1", []string{"010.1.1.1"}, "", clientip.ErrHeader},

		// Forwarded (RFC 7239).
		{"forwarded v4", "Forwarded", "10.1.1.1:1", []string{"for=198.51.100.7;proto=https"}, "198.51.100.7", nil},
		{"forwarded quoted v6 port", "Forwarded", "10.1.1.1:1", []string{`for="[2001:db8:cafe::17]:4711"`}, "2001:db8:cafe::17", nil},
		{"forwarded case, spaces", "Forwarded", "10.1.1.1:1", []string{`proto=http; For=198.51.100.7 ; by=10.1.1.1`}, "198.51.100.7", nil},
		{"forwarded chain", "Forwarded", "10.1.1.1:1", []string{`for=1.1.1.1, for=198.51.100.7, for="[fd00::9]", for=10.2.2.2`}, "198.51.100.7", nil},
		{"forwarded quoted comma in client text", "Forwarded", "10.1.1.1:1", []string{`for="1.1.1.1, for=2.2.2.2";x="a,b", for=198.51.100.7`}, "198.51.100.7", nil},
		{"forwarded unbalanced client quote", "Forwarded", "10.1.1.1:1", []string{`for="1.1.1.1, for=198.51.100.7`}, "198.51.100.7", nil},
		{"forwarded escaped quote", "Forwarded", "10.1.1.1:1", []string{`x="a\",b", for=198.51.100.7`}, "198.51.100.7", nil},
		{"forwarded obfuscated port", "Forwarded", "10.1.1.1:1", []string{`for="198.51.100.7:_p1"`}, "198.51.100.7", nil},
		{"forwarded unknown", "Forwarded", "10.1.1.1:1", []string{"for=unknown"}, "", clientip.ErrHeader},
		{"forwarded hidden", "Forwarded", "10.1.1.1:1", []string{"for=_hidden"}, "", clientip.ErrHeader},
		{"forwarded without for", "Forwarded", "10.1.1.1:1", []string{"proto=https"}, "", clientip.ErrHeader},
		{"forwarded unterminated", "Forwarded", "10.1.1.1:1", []string{`for="198.51.100.7`}, "", clientip.ErrHeader},
		{"forwarded spoof untrusted", "Forwarded", "192.0.2.1:1", []string{"for=198.51.100.7"}, "192.0.2.1", nil},

		// A single-value header.
		{"real ip", "X-Real-IP", "10.1.1.1:1", []string{"198.51.100.7"}, "198.51.100.7", nil},
		{"real ip v6", "X-Real-IP", "10.1.1.1:1", []string{"2001:db8::7"}, "2001:db8::7", nil},
		{"real ip mapped", "X-Real-IP", "10.1.1.1:1", []string{"::ffff:198.51.100.7"}, "198.51.100.7", nil},
		{"real ip spoofed", "X-Real-IP", "192.0.2.1:1", []string{"198.51.100.7"}, "192.0.2.1", nil},
		{"real ip two lines", "X-Real-IP", "10.1.1.1:1", []string{"198.51.100.7", "1.1.1.1"}, "", clientip.ErrHeader},
		{"real ip list", "CF-Connecting-IP", "10.1.1.1:1", []string{"198.51.100.7, 1.1.1.1"}, "", clientip.ErrHeader},
		{"real ip garbage", "X-Real-IP", "10.1.1.1:1", []string{"x"}, "", clientip.ErrHeader},
		{"real ip, bad remote", "X-Real-IP", "10.1.1.1", []string{"x"}, "", clientip.ErrHeader},
		{"bad remote with header", "X-Real-IP", "nope", []string{"198.51.100.7"}, "", clientip.ErrRemoteAddr},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := source(t, tt.header)
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.peer
			name := tt.header
			if name == "" {
				name = "X-Forwarded-For"
			}
			for _, l := range tt.lines {
				r.Header.Add(name, l)
			}
			got, err := s.Addr(r)
			if tt.err != nil {
				if !errors.Is(err, tt.err) || got.IsValid() {
					t.Fatalf("Addr = %v, %v; want error %v", got, err, tt.err)
				}
				return
			}
			if err != nil || got != netip.MustParseAddr(tt.want) {
				t.Fatalf("Addr = %v, %v; want %s", got, err, tt.want)
			}
		})
	}
}

// TestNilSource: a nil *Source reads the remote address.
func TestNilSource(t *testing.T) {
	var s *clientip.Source
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("X-Forwarded-For", "198.51.100.7")
	if a, err := s.Addr(r); err != nil || a != netip.MustParseAddr("192.0.2.1") {
		t.Fatalf("Addr = %v, %v", a, err)
	}
	if s.Header() != "" || s.Trusted(netip.MustParseAddr("10.0.0.1")) {
		t.Fatal("nil Source has a header or trusts")
	}
}

func TestNew(t *testing.T) {
	p := netip.MustParsePrefix("10.0.0.0/8")
	tests := []struct {
		name string
		cfg  clientip.Config
		ok   bool
	}{
		{"zero", clientip.Config{}, true},
		{"xff", clientip.Config{Header: "x-forwarded-for", TrustedProxies: []netip.Prefix{p}}, true},
		{"header without proxies", clientip.Config{Header: "X-Forwarded-For"}, false},
		{"proxies without header", clientip.Config{TrustedProxies: []netip.Prefix{p}}, false},
		{"bad header name", clientip.Config{Header: "X Forwarded", TrustedProxies: []netip.Prefix{p}}, false},
		{"invalid prefix", clientip.Config{Header: "X-Real-IP", TrustedProxies: []netip.Prefix{{}}}, false},
		{"trust everyone v4", clientip.Config{Header: "X-Real-IP", TrustedProxies: []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0")}}, false},
		{"trust everyone v6", clientip.Config{Header: "X-Real-IP", TrustedProxies: []netip.Prefix{netip.MustParsePrefix("::/0")}}, false},
		{"trust every mapped", clientip.Config{Header: "X-Real-IP", TrustedProxies: []netip.Prefix{netip.MustParsePrefix("::ffff:0.0.0.0/96")}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := clientip.New(tt.cfg)
			if tt.ok != (err == nil) || !tt.ok && !errors.Is(err, clientip.ErrConfig) {
				t.Fatalf("New = %v, %v; ok %v", s, err, tt.ok)
			}
		})
	}
}

// TestMappedPrefix: a trusted prefix written IPv4-mapped trusts the IPv4
// peers it names, and only those.
func TestMappedPrefix(t *testing.T) {
	s, err := clientip.New(clientip.Config{Header: "X-Real-IP", TrustedProxies: []netip.Prefix{netip.MustParsePrefix("::ffff:10.0.0.0/104")}})
	if err != nil {
		t.Fatal(err)
	}
	for addr, want := range map[string]bool{"10.2.3.4": true, "::ffff:10.2.3.4": true, "11.0.0.1": false, "::a00:1": false} {
		if got := s.Trusted(netip.MustParseAddr(addr)); got != want {
			t.Errorf("Trusted(%s) = %v", addr, got)
		}
	}
	if s.Header() != "X-Real-Ip" {
		t.Errorf("Header() = %q", s.Header())
	}
}
