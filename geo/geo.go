// Package geo names where a client address is: its country, its network
// and a point on the globe. Detectors (package monitor) and route policy
// (package policy) read places through the [Locator] interface, so the
// database behind it is the application's choice; geo/maxmind reads
// MaxMind GeoIP2 and GeoLite2 files.
//
// # Security
//
// A place is an estimate drawn from a database, and the address it is
// drawn from is only as good as its source: read it with package clientip,
// never from a header the client controls. An unknown place (a private or
// unlisted address) is the zero Place, not an error, so a caller decides
// what unknown means; a database that cannot be read is an error, and a
// verification path that needs the place must fail closed on it.
package geo

import (
	"context"
	"errors"
	"math"
	"net/netip"
)

// ErrUnavailable wraps every failure to read the place database.
var ErrUnavailable = errors.New("mfa: geolocation unavailable")

// Place is where an address is, as far as the database knows.
type Place struct {
	// Country is the ISO 3166-1 alpha-2 code in upper case, "" when
	// unknown.
	Country string
	// Network names the network the address belongs to, e.g. "AS64496";
	// "" when unknown.
	Network string
	// Lat and Lon are degrees; meaningful only when HasPoint.
	Lat, Lon float64
	// Radius is the database's accuracy radius in kilometres; 0 when it
	// gives none.
	Radius   float64
	HasPoint bool
}

// Known reports whether p says anything at all.
func (p Place) Known() bool { return p.Country != "" || p.Network != "" || p.HasPoint }

// Locator finds the place of an address. Locate returns the zero Place
// and no error for an address the database does not know (private,
// loopback, unlisted); an error wraps ErrUnavailable. It must be safe for
// concurrent use and must not do network I/O on the verification path.
type Locator interface {
	Locate(ctx context.Context, addr netip.Addr) (Place, error)
}

// LocatorFunc adapts a function to [Locator].
type LocatorFunc func(ctx context.Context, addr netip.Addr) (Place, error)

// Locate calls f.
func (f LocatorFunc) Locate(ctx context.Context, addr netip.Addr) (Place, error) { return f(ctx, addr) }

// earthRadiusKm is the mean radius of the Earth.
const earthRadiusKm = 6371.0088

// Distance returns the great-circle distance between two points in
// kilometres (haversine), less both accuracy radii (never below 0): the
// shortest distance the two places can be apart. It is 0 when either has
// no point.
func Distance(a, b Place) float64 {
	if !a.HasPoint || !b.HasPoint {
		return 0
	}
	rad := math.Pi / 180
	dLat := (b.Lat - a.Lat) * rad
	dLon := (b.Lon - a.Lon) * rad
	h := math.Sin(dLat/2)*math.Sin(dLat/2) +
		math.Cos(a.Lat*rad)*math.Cos(b.Lat*rad)*math.Sin(dLon/2)*math.Sin(dLon/2)
	d := 2 * earthRadiusKm * math.Asin(math.Min(1, math.Sqrt(h)))
	return math.Max(0, d-a.Radius-b.Radius)
}
