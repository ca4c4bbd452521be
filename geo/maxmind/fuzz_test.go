package maxmind_test

import (
	"errors"
	"net/netip"
	"testing"

	"github.com/mfakit/mfa/geo"
	"github.com/mfakit/mfa/geo/maxmind"
)

// FuzzFromBytes: whatever the bytes, FromBytes and Locate never panic, and
// every error wraps geo.ErrUnavailable.
func FuzzFromBytes(f *testing.F) {
	f.Add(build(f, "GeoLite2-Country", 4, record{"81.2.69.0/24", country("GB")}))
	f.Add(build(f, "GeoLite2-ASN", 6, record{"2001:db8::/32", asn(64511)}))
	f.Add([]byte("\xab\xcd\xefMaxMind.com"))
	addrs := []netip.Addr{netip.MustParseAddr("81.2.69.1"), netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("8.8.8.8")}
	f.Fuzz(func(t *testing.T, b []byte) {
		loc, err := maxmind.FromBytes(b)
		if err != nil {
			if !errors.Is(err, geo.ErrUnavailable) {
				t.Fatalf("FromBytes: %v", err)
			}
			return
		}
		defer loc.Close()
		for _, a := range addrs {
			if _, err := loc.Locate(ctx, a); err != nil && !errors.Is(err, geo.ErrUnavailable) {
				t.Fatalf("Locate: %v", err)
			}
		}
	})
}
