package maxmind_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
	"github.com/mfakit/mfa/geo"
	"github.com/mfakit/mfa/geo/maxmind"
)

var ctx = context.Background()

// record is one network of a test database.
type record struct {
	cidr string
	data mmdbtype.Map
}

// build writes a MaxMind DB of the given type and IP version holding
// records, as the real files are laid out.
func build(t testing.TB, typ string, ipVersion int, records ...record) []byte {
	t.Helper()
	w, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: typ, IPVersion: ipVersion, RecordSize: 28, IncludeReservedNetworks: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range records {
		_, n, err := net.ParseCIDR(r.cidr)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Insert(n, r.data); err != nil {
			t.Fatal(err)
		}
	}
	var b bytes.Buffer
	if _, err := w.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// write puts b in a file of a fresh temporary directory.
func write(t testing.TB, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func city(cc string, lat, lon float64, radius uint16) mmdbtype.Map {
	return mmdbtype.Map{
		"country":  mmdbtype.Map{"iso_code": mmdbtype.String(cc), "names": mmdbtype.Map{"en": mmdbtype.String("x")}},
		"location": mmdbtype.Map{"latitude": mmdbtype.Float64(lat), "longitude": mmdbtype.Float64(lon), "accuracy_radius": mmdbtype.Uint16(radius)},
	}
}

func country(cc string) mmdbtype.Map {
	return mmdbtype.Map{"country": mmdbtype.Map{"iso_code": mmdbtype.String(cc)}}
}

func asn(n uint32) mmdbtype.Map {
	return mmdbtype.Map{"autonomous_system_number": mmdbtype.Uint32(n), "autonomous_system_organization": mmdbtype.String("Example")}
}

func cityDB(t testing.TB) []byte {
	return build(t, "GeoLite2-City", 6,
		record{"81.2.69.0/24", city("GB", 51.5142, -0.0931, 20)},
		record{"2001:db8::/32", city("FR", 48.8566, 2.3522, 50)},
		record{"1.0.0.0/24", country("AU")}, // a country, no point
		record{"175.16.199.0/24", mmdbtype.Map{"location": mmdbtype.Map{"latitude": mmdbtype.Float64(43.88), "longitude": mmdbtype.Float64(125.3228)}}},
		record{"10.0.0.0/8", country("ZZ")},  // a file that lists a private range
		record{"127.0.0.0/8", country("ZZ")}, // and loopback
		record{"::1/128", country("ZZ")},
		record{"fe80::/10", country("ZZ")},
		record{"198.51.100.0/24", city("us", 500, 0, 1)}, // lower case, a point off the globe
	)
}

func asnDB(t testing.TB) []byte {
	return build(t, "GeoLite2-ASN", 6,
		record{"81.2.69.0/24", asn(64496)},
		record{"2001:db8::/32", asn(64511)},
		record{"203.0.113.0/24", asn(0)},
	)
}

func TestLocate(t *testing.T) {
	loc, err := maxmind.Open(write(t, "city.mmdb", cityDB(t)), write(t, "asn.mmdb", asnDB(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer loc.Close()
	gb := geo.Place{Country: "GB", Network: "AS64496", Lat: 51.5142, Lon: -0.0931, Radius: 20, HasPoint: true}
	tests := []struct {
		addr string
		want geo.Place
	}{
		{"81.2.69.160", gb},
		{"::ffff:81.2.69.160", gb}, // IPv4-mapped: looked up as IPv4
		{"2001:db8::1", geo.Place{Country: "FR", Network: "AS64511", Lat: 48.8566, Lon: 2.3522, Radius: 50, HasPoint: true}},
		{"2001:db8::1%eth0", geo.Place{Country: "FR", Network: "AS64511", Lat: 48.8566, Lon: 2.3522, Radius: 50, HasPoint: true}},
		{"1.0.0.1", geo.Place{Country: "AU"}},                                  // no location
		{"175.16.199.1", geo.Place{Lat: 43.88, Lon: 125.3228, HasPoint: true}}, // no country
		{"198.51.100.1", geo.Place{Country: "US"}},                             // upper-cased; the bad point dropped
		{"203.0.113.1", geo.Place{}},                                           // AS 0 is no network
		{"8.8.8.8", geo.Place{}},                                               // unlisted
		{"2001:4860::8888", geo.Place{}},                                       // unlisted IPv6
		{"10.1.2.3", geo.Place{}},                                              // private, though listed
		{"127.0.0.1", geo.Place{}},                                             // loopback, though listed
		{"::1", geo.Place{}},
		{"fe80::1", geo.Place{}},         // link-local
		{"fc00::1", geo.Place{}},         // unique local
		{"::ffff:10.1.2.3", geo.Place{}}, // mapped private
		{"0.0.0.0", geo.Place{}},
		{"224.0.0.1", geo.Place{}},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			got, err := loc.Locate(ctx, netip.MustParseAddr(tt.addr))
			if err != nil || got != tt.want {
				t.Fatalf("Locate = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
	if got, err := loc.Locate(ctx, netip.Addr{}); err != nil || got.Known() {
		t.Fatalf("zero Addr: %+v, %v", got, err)
	}
}

// TestKinds: a Country file alone, an ASN file alone, an IPv4-only file,
// and FromBytes.
func TestKinds(t *testing.T) {
	countryOnly, err := maxmind.FromBytes(build(t, "GeoIP2-Country", 6, record{"81.2.69.0/24", country("GB")}))
	if err != nil {
		t.Fatal(err)
	}
	defer countryOnly.Close()
	if p, err := countryOnly.Locate(ctx, netip.MustParseAddr("81.2.69.1")); err != nil || p != (geo.Place{Country: "GB"}) {
		t.Errorf("country: %+v, %v", p, err)
	}
	asnOnly, err := maxmind.FromBytes(asnDB(t))
	if err != nil {
		t.Fatal(err)
	}
	defer asnOnly.Close()
	if p, err := asnOnly.Locate(ctx, netip.MustParseAddr("81.2.69.1")); err != nil || p != (geo.Place{Network: "AS64496"}) {
		t.Errorf("asn: %+v, %v", p, err)
	}
	v4, err := maxmind.FromBytes(build(t, "GeoLite2-Country", 4, record{"81.2.69.0/24", country("GB")}))
	if err != nil {
		t.Fatal(err)
	}
	defer v4.Close()
	for addr, want := range map[string]geo.Place{"81.2.69.1": {Country: "GB"}, "::ffff:81.2.69.1": {Country: "GB"}, "2001:db8::1": {}} {
		if p, err := v4.Locate(ctx, netip.MustParseAddr(addr)); err != nil || p != want {
			t.Errorf("IPv4-only file, %s: %+v, %v", addr, p, err)
		}
	}
}

// TestOpenErrors: every way a file can be wrong is an error at Open that
// wraps geo.ErrUnavailable.
func TestOpenErrors(t *testing.T) {
	good := cityDB(t)
	dir := t.TempDir()
	tests := []struct {
		name  string
		paths func() []string
		also  error
	}{
		{"none", func() []string { return nil }, nil},
		{"missing", func() []string { return []string{filepath.Join(dir, "absent.mmdb")} }, fs.ErrNotExist},
		{"directory", func() []string { return []string{dir} }, nil},
		{"empty", func() []string { return []string{write(t, "empty.mmdb", nil)} }, nil},
		{"garbage", func() []string {
			return []string{write(t, "garbage.mmdb", bytes.Repeat([]byte("not a database "), 100))}
		}, nil},
		{"truncated", func() []string { return []string{write(t, "trunc.mmdb", good[:len(good)/2])} }, nil},
		{"metadata cut", func() []string { return []string{write(t, "cut.mmdb", good[:len(good)-10])} }, nil},
		{"unknown kind", func() []string {
			return []string{write(t, "anon.mmdb", build(t, "GeoIP2-Anonymous-IP", 6, record{"81.2.69.0/24", mmdbtype.Map{"is_anonymous": mmdbtype.Bool(true)}}))}
		}, nil},
		{"two place files", func() []string { return []string{write(t, "a.mmdb", good), write(t, "b.mmdb", good)} }, nil},
		{"two ASN files", func() []string { return []string{write(t, "a.mmdb", asnDB(t)), write(t, "b.mmdb", asnDB(t))} }, nil},
		{"good then missing", func() []string { return []string{write(t, "a.mmdb", good), filepath.Join(dir, "absent.mmdb")} }, fs.ErrNotExist},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loc, err := maxmind.Open(tt.paths()...)
			if loc != nil || !errors.Is(err, geo.ErrUnavailable) || tt.also != nil && !errors.Is(err, tt.also) {
				t.Fatalf("Open = %v, %v", loc, err)
			}
		})
	}
	if loc, err := maxmind.FromBytes(good[:100]); loc != nil || !errors.Is(err, geo.ErrUnavailable) {
		t.Fatalf("FromBytes truncated = %v, %v", loc, err)
	}
}

// TestCorruptTree: a file whose metadata reads but whose search tree
// points nowhere opens, and each lookup fails closed with an error, never
// a guess and never a panic.
func TestCorruptTree(t *testing.T) {
	b := cityDB(t)
	for i := range 64 { // the root nodes' records
		b[i] = 0xff
	}
	loc, err := maxmind.FromBytes(b)
	if err != nil {
		t.Skipf("the corruption was caught at open: %v", err)
	}
	defer loc.Close()
	for _, a := range []string{"81.2.69.1", "2001:db8::1", "8.8.8.8"} {
		if p, err := loc.Locate(ctx, netip.MustParseAddr(a)); !errors.Is(err, geo.ErrUnavailable) || p.Known() {
			t.Errorf("%s: %+v, %v", a, p, err)
		}
	}
}

func TestClose(t *testing.T) {
	loc, err := maxmind.Open(write(t, "city.mmdb", cityDB(t)))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 200 {
				p, err := loc.Locate(ctx, netip.MustParseAddr("81.2.69.1"))
				if err != nil && !errors.Is(err, geo.ErrUnavailable) || err == nil && p.Country != "GB" {
					t.Errorf("Locate = %+v, %v", p, err)
					return
				}
			}
		})
	}
	if err := loc.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if _, err := loc.Locate(ctx, netip.MustParseAddr("81.2.69.1")); !errors.Is(err, geo.ErrUnavailable) {
		t.Fatalf("after Close: %v", err)
	}
	if err := loc.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}
