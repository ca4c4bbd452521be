package maxmind

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"sync"

	"github.com/mfakit/mfa/geo"
	"github.com/oschwald/maxminddb-golang/v2"
)

// Locator reads one place database (City or Country) and at most one ASN
// database. It implements geo.Locator and is safe for concurrent use.
type Locator struct {
	mu     sync.RWMutex
	place  *maxminddb.Reader
	asn    *maxminddb.Reader
	closed bool
}

var _ geo.Locator = (*Locator)(nil)

// Open opens MaxMind DB files: a City or Country database, an ASN (or
// ISP) database, or one of each, told apart by their metadata. An error
// wraps geo.ErrUnavailable.
func Open(paths ...string) (*Locator, error) {
	return build(len(paths), func(i int) (*maxminddb.Reader, string, error) {
		r, err := maxminddb.Open(paths[i])
		return r, paths[i], err
	})
}

// FromBytes is [Open] over databases in memory. The Locator keeps the
// slices, which must not change while it is in use.
func FromBytes(dbs ...[]byte) (*Locator, error) {
	return build(len(dbs), func(i int) (*maxminddb.Reader, string, error) {
		r, err := maxminddb.OpenBytes(dbs[i])
		return r, "database " + strconv.Itoa(i), err
	})
}

func build(n int, open func(int) (*maxminddb.Reader, string, error)) (*Locator, error) {
	l := &Locator{}
	fail := func(err error) (*Locator, error) {
		_ = l.Close()
		return nil, err
	}
	if n == 0 {
		return fail(fmt.Errorf("%w: maxmind: no database", geo.ErrUnavailable))
	}
	for i := range n {
		r, name, err := open(i)
		if err != nil {
			return fail(fmt.Errorf("%w: maxmind: %s: %w", geo.ErrUnavailable, name, err))
		}
		typ := r.Metadata.DatabaseType
		slot := &l.place
		switch {
		case strings.Contains(typ, "ASN") || strings.Contains(typ, "ISP"):
			slot = &l.asn
		case strings.Contains(typ, "City") || strings.Contains(typ, "Country") || strings.Contains(typ, "Enterprise"):
		default:
			_ = r.Close()
			return fail(fmt.Errorf("%w: maxmind: %s: database type %q is neither City, Country nor ASN", geo.ErrUnavailable, name, clip(typ)))
		}
		if *slot != nil {
			_ = r.Close()
			return fail(fmt.Errorf("%w: maxmind: %s: a second %q database", geo.ErrUnavailable, name, clip(typ)))
		}
		*slot = r
	}
	return l, nil
}

// clip bounds what of a file's text an error repeats.
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

// placeRecord is what is read of a City or Country record.
type placeRecord struct {
	Country struct {
		ISOCode string `maxminddb:"iso_code"`
	} `maxminddb:"country"`
	Location struct {
		Latitude       *float64 `maxminddb:"latitude"`
		Longitude      *float64 `maxminddb:"longitude"`
		AccuracyRadius uint16   `maxminddb:"accuracy_radius"`
	} `maxminddb:"location"`
}

// asnRecord is what is read of an ASN or ISP record.
type asnRecord struct {
	Number uint32 `maxminddb:"autonomous_system_number"`
}

// Locate implements geo.Locator. An error wraps geo.ErrUnavailable.
func (l *Locator) Locate(_ context.Context, addr netip.Addr) (geo.Place, error) {
	addr = addr.Unmap().WithZone("")
	if !public(addr) {
		return geo.Place{}, nil
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		return geo.Place{}, fmt.Errorf("%w: maxmind: closed", geo.ErrUnavailable)
	}
	var p geo.Place
	if l.place != nil {
		var rec placeRecord
		found, err := lookup(l.place, addr, &rec)
		if err != nil {
			return geo.Place{}, err
		}
		if found {
			if cc := rec.Country.ISOCode; len(cc) == 2 {
				p.Country = strings.ToUpper(cc)
			}
			if lat, lon := rec.Location.Latitude, rec.Location.Longitude; lat != nil && lon != nil && validPoint(*lat, *lon) {
				p.Lat, p.Lon, p.HasPoint = *lat, *lon, true
				p.Radius = float64(rec.Location.AccuracyRadius)
			}
		}
	}
	if l.asn != nil {
		var rec asnRecord
		found, err := lookup(l.asn, addr, &rec)
		if err != nil {
			return geo.Place{}, err
		}
		if found && rec.Number != 0 {
			p.Network = "AS" + strconv.FormatUint(uint64(rec.Number), 10)
		}
	}
	return p, nil
}

// lookup decodes addr's record of r into v; found is false for an address
// r does not list.
func lookup(r *maxminddb.Reader, addr netip.Addr, v any) (found bool, err error) {
	if addr.Is6() && r.Metadata.IPVersion == 4 {
		return false, nil
	}
	res := r.Lookup(addr)
	if err := res.Err(); err != nil {
		return false, fmt.Errorf("%w: maxmind: %w", geo.ErrUnavailable, err)
	}
	if !res.Found() {
		return false, nil
	}
	if err := res.Decode(v); err != nil {
		return false, fmt.Errorf("%w: maxmind: %w", geo.ErrUnavailable, err)
	}
	return true, nil
}

// public reports whether addr may be in a public database at all.
func public(a netip.Addr) bool {
	return a.IsValid() && !a.IsPrivate() && !a.IsLoopback() && !a.IsLinkLocalUnicast() &&
		!a.IsLinkLocalMulticast() && !a.IsMulticast() && !a.IsUnspecified() && !a.IsInterfaceLocalMulticast()
}

func validPoint(lat, lon float64) bool {
	return lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180
}

// Close releases the databases, after any lookup in progress; a Locate
// after Close is an error. It may be called more than once.
func (l *Locator) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	var errs []error
	for _, r := range []*maxminddb.Reader{l.place, l.asn} {
		if r != nil {
			errs = append(errs, r.Close())
		}
	}
	return errors.Join(errs...)
}
