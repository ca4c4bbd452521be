package monitor

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"math"
	"net/netip"
	"time"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/geo"
	"github.com/mfakit/mfa/store"
)

// parseAddr reads a client address. IPv4-mapped IPv6 is unmapped, so
// ::ffff:192.0.2.1 and 192.0.2.1 are one address, and a zone is dropped.
// Anything else (empty, a header's comma-separated list, a port, a name)
// is the invalid Addr: unknown, with no address list and no place.
func parseAddr(s string) netip.Addr {
	if s == "" || len(s) > 64 {
		return netip.Addr{}
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}
	}
	return a.WithZone("").Unmap()
}

// addressKey names an address's list: an IPv4 address alone, an IPv6
// address by its /64, the block a single subscriber or host is usually
// given, so that an attacker cannot spread attempts over the 2^64
// addresses of one network to stay under the threshold.
func addressKey(a netip.Addr) string {
	if a.Is4() {
		return keyPrefix + "i/" + a.String()
	}
	return keyPrefix + "i/" + netip.PrefixFrom(a, 64).Masked().String()
}

const keyPrefix = "mfa/mon/"

// userKey names one of a user's lists (list is 'a' for attempts, 's' for
// sign-ins). The list's letter comes before the ID, so no ID can name an
// address list or another kind of list; the ID is escaped to letters,
// digits and ".-_@+", so a backend sees only plain text (no "{" to steer
// a Redis Cluster hash slot, no separator of its own); an ID whose
// escaped form would be too long is named by its SHA-256 under the
// upper-case letter, a namespace no escaped ID reaches, never cut short
// (two long IDs sharing a prefix would then share a list).
func userKey(list byte, userID string) string {
	const hex = "0123456789ABCDEF"
	b := make([]byte, 0, len(keyPrefix)+2+len(userID))
	b = append(b, keyPrefix...)
	b = append(b, list, '/')
	for i := 0; i < len(userID); i++ {
		c := userID[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '.', c == '_', c == '-', c == '@', c == '+':
			b = append(b, c)
		default:
			b = append(b, '%', hex[c>>4], hex[c&15])
		}
		if len(b) > store.MaxSignalKey {
			sum := sha256.Sum256([]byte(userID))
			return keyPrefix + string(list-'a'+'A') + "/" + base64.RawURLEncoding.EncodeToString(sum[:])
		}
	}
	return string(b)
}

// userTag stands for a user in an address list: enough of a hash to tell
// users apart, never the ID.
type userTag [12]byte

func tagOf(userID string) userTag {
	sum := sha256.Sum256([]byte(userID))
	return userTag(sum[:12])
}

// Record types, the first byte of Signal.Data.
const (
	recAttempt  byte = 'a' // user's attempts: an attempt of a kind from a place
	recTried    byte = 't' // address list: a user's attempt
	recSignedIn byte = 's' // address list: a user's sign-in
	recSignIn   byte = 'g' // user's sign-ins: a session started or stepped up
	recEnded    byte = 'e' // user's sign-ins: a session revoked
	recEndedAll byte = 'x' // user's sign-ins: every session before it revoked
)

// maxField bounds each text field of a record, so a record stays far
// within store.MaxSignalData whatever a locator returns.
const maxField = 64

// record is one decoded Signal. nonce tells a caller its own record in a
// list another instance may be writing to at the same time.
type record struct {
	typ     byte
	nonce   uint64
	time    time.Time
	kind    mfa.Kind
	ip      string
	place   geo.Place
	user    userTag
	session string
	aal     mfa.AAL
	live    time.Time // recSignIn: counts as live until
}

func (r *record) encode() []byte {
	b := make([]byte, 0, 96)
	b = append(b, r.typ)
	b = binary.BigEndian.AppendUint64(b, r.nonce)
	switch r.typ {
	case recAttempt:
		b = appendString(b, string(r.kind))
		b = appendString(b, r.ip)
		b = appendPlace(b, r.place)
	case recTried, recSignedIn:
		b = append(b, r.user[:]...)
	case recSignIn:
		b = appendString(b, r.session)
		b = appendString(b, r.ip)
		b = appendPlace(b, r.place)
		b = append(b, byte(r.aal))
		b = binary.AppendVarint(b, r.live.Unix())
	case recEnded:
		b = appendString(b, r.session)
	}
	return b
}

func appendString(b []byte, s string) []byte {
	if len(s) > maxField {
		s = s[:maxField]
	}
	b = append(b, byte(len(s)))
	return append(b, s...)
}

func appendPlace(b []byte, p geo.Place) []byte {
	b = appendString(b, p.Country)
	b = appendString(b, p.Network)
	if !p.HasPoint {
		return append(b, 0)
	}
	b = append(b, 1)
	for _, f := range [...]float64{p.Lat, p.Lon, p.Radius} {
		b = binary.BigEndian.AppendUint64(b, math.Float64bits(f))
	}
	return b
}

var (
	errMalformed = errors.New("mfa: monitor: malformed record in the store")
	errUnknown   = errors.New("mfa: monitor: record of an unknown type")
)

// decode reads a Signal the monitor wrote. A record of a type it does
// not know (written by a later version) is errUnknown and skipped; any
// other that does not parse is errMalformed.
func decode(s store.Signal) (record, error) {
	d := decoder{b: s.Data}
	r := record{typ: d.byte(), time: s.Time}
	r.nonce = d.uint64()
	switch r.typ {
	case recAttempt:
		r.kind = mfa.Kind(d.string())
		r.ip = d.string()
		r.place = d.place()
	case recTried, recSignedIn:
		copy(r.user[:], d.bytes(len(r.user)))
	case recSignIn:
		r.session = d.string()
		r.ip = d.string()
		r.place = d.place()
		r.aal = mfa.AAL(d.byte())
		r.live = time.Unix(d.varint(), 0)
	case recEnded:
		r.session = d.string()
	case recEndedAll:
	default:
		if d.err {
			return r, errMalformed
		}
		return r, errUnknown
	}
	if d.err || len(d.b) != 0 {
		return r, errMalformed
	}
	return r, nil
}

type decoder struct {
	b   []byte
	err bool
}

func (d *decoder) bytes(n int) []byte {
	if d.err || n > len(d.b) {
		d.err = true
		return nil
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) byte() byte {
	if v := d.bytes(1); v != nil {
		return v[0]
	}
	return 0
}

func (d *decoder) uint64() uint64 {
	if v := d.bytes(8); v != nil {
		return binary.BigEndian.Uint64(v)
	}
	return 0
}

func (d *decoder) string() string {
	n := int(d.byte())
	if n > maxField {
		d.err = true
	}
	return string(d.bytes(n))
}

func (d *decoder) varint() int64 {
	if d.err {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = true
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) place() geo.Place {
	p := geo.Place{Country: d.string(), Network: d.string()}
	switch d.byte() {
	case 0:
	case 1:
		p.HasPoint = true
		p.Lat = math.Float64frombits(d.uint64())
		p.Lon = math.Float64frombits(d.uint64())
		p.Radius = math.Float64frombits(d.uint64())
		if !(p.Lat >= -90 && p.Lat <= 90 && p.Lon >= -180 && p.Lon <= 180 && p.Radius >= 0) {
			d.err = true
		}
	default:
		d.err = true
	}
	return p
}

// list decodes a list, skipping records of unknown types, and returns
// the index of the caller's own record (by nonce), -1 when absent.
func list(sigs []store.Signal, typ byte, nonce uint64) ([]record, int, error) {
	out := make([]record, 0, len(sigs))
	mine := -1
	for _, s := range sigs {
		r, err := decode(s)
		if errors.Is(err, errUnknown) {
			continue
		}
		if err != nil {
			return nil, -1, err
		}
		if r.typ == typ && r.nonce == nonce && mine < 0 {
			mine = len(out)
		}
		out = append(out, r)
	}
	return out, mine, nil
}
