// Package maxmind is a geo.Locator over MaxMind DB files: GeoIP2 or
// GeoLite2 City or Country for the country and the point, and optionally
// GeoIP2 ISP or GeoLite2 ASN for the network ("AS<number>").
//
//	loc, err := maxmind.Open("GeoLite2-City.mmdb", "GeoLite2-ASN.mmdb")
//	if err != nil { ... } // missing, corrupt or of an unknown kind
//	defer loc.Close()
//	place, err := loc.Locate(ctx, addr)
//
// Files are memory-mapped by github.com/oschwald/maxminddb-golang/v2 and
// read locally: no lookup touches the network. [FromBytes] reads databases
// already in memory (embedded, or fetched by the application from its own
// storage at start).
//
// # Security
//
//   - A missing, truncated or corrupt file, or one of a kind this package
//     does not read, is an error at Open wrapping geo.ErrUnavailable, so a
//     service that needs places fails at start rather than answering
//     "unknown" for every address. Corruption deeper in a file that opens
//     is an error wrapping geo.ErrUnavailable at the lookup that meets it:
//     a route policy refuses that request (fail closed).
//   - Private, loopback, link-local, multicast and unspecified addresses
//     are the zero Place without a lookup, whatever the file says, as is
//     an address the file does not list (and an IPv6 address in an
//     IPv4-only file). IPv4-mapped IPv6 addresses are looked up as IPv4.
//   - Only the country's ISO code, the location's latitude, longitude and
//     accuracy radius, and the autonomous system number are read.
//   - Locate is safe for concurrent use, and Close waits for lookups in
//     progress: a file is never unmapped under a reader.
//   - A database is an estimate and ages; refresh it as MaxMind's licence
//     allows, by opening the new file and swapping Locators.
package maxmind
