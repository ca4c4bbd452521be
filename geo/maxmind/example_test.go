package maxmind_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
	"github.com/mfakit/mfa/geo/maxmind"
)

// Open a City database (here a small one written on the spot; in
// production GeoLite2-City.mmdb or GeoIP2-City.mmdb) and place addresses.
func Example() {
	dir, _ := os.MkdirTemp("", "mmdb")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "city.mmdb")
	writeCity(path)

	loc, err := maxmind.Open(path)
	if err != nil {
		panic(err) // missing, corrupt, or not a City/Country/ASN file
	}
	defer loc.Close()
	for _, a := range []string{"81.2.69.160", "::ffff:81.2.69.160", "10.0.0.1", "8.8.8.8"} {
		p, err := loc.Locate(context.Background(), netip.MustParseAddr(a))
		fmt.Printf("%s: %q %v %.1f,%.1f±%.0fkm %v\n", a, p.Country, p.HasPoint, p.Lat, p.Lon, p.Radius, err)
	}
	// Output:
	// 81.2.69.160: "GB" true 51.5,-0.1±20km <nil>
	// ::ffff:81.2.69.160: "GB" true 51.5,-0.1±20km <nil>
	// 10.0.0.1: "" false 0.0,0.0±0km <nil>
	// 8.8.8.8: "" false 0.0,0.0±0km <nil>
}

func writeCity(path string) {
	w, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: "GeoLite2-City", RecordSize: 28})
	if err != nil {
		panic(err)
	}
	_, n, _ := net.ParseCIDR("81.2.69.0/24")
	err = w.Insert(n, mmdbtype.Map{
		"country":  mmdbtype.Map{"iso_code": mmdbtype.String("GB")},
		"location": mmdbtype.Map{"latitude": mmdbtype.Float64(51.5142), "longitude": mmdbtype.Float64(-0.0931), "accuracy_radius": mmdbtype.Uint16(20)},
	})
	if err != nil {
		panic(err)
	}
	var b bytes.Buffer
	if _, err := w.WriteTo(&b); err != nil {
		panic(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		panic(err)
	}
}
