package clientip

import (
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/textproto"
	"strings"
)

// Sentinel errors, matched with errors.Is.
var (
	// ErrConfig: Config is invalid.
	ErrConfig = errors.New("mfa: clientip: invalid config")
	// ErrRemoteAddr: http.Request.RemoteAddr is not an address, with or
	// without a port.
	ErrRemoteAddr = errors.New("mfa: clientip: malformed remote address")
	// ErrHeader: a trusted proxy's header is malformed where the client's
	// hop should be, or names no address for the client.
	ErrHeader = errors.New("mfa: clientip: malformed forwarding header")
)

// Config configures a [Source]. The zero Config reads the remote address
// only.
type Config struct {
	// Header names the header trusted proxies write the client's address
	// in: "X-Forwarded-For", "Forwarded", or a single-value header such as
	// "X-Real-IP" or "CF-Connecting-IP" (any letter case). Default "": the
	// remote address only.
	Header string
	// TrustedProxies are the prefixes of the proxies whose Header is
	// honoured, and whose hops a list skips. Required with Header, refused
	// without it; a prefix of length 0 is refused. IPv4-mapped prefixes
	// are read as IPv4.
	TrustedProxies []netip.Prefix
}

type kind uint8

const (
	kindRemote kind = iota
	kindXFF
	kindForwarded
	kindSingle
)

// Source reads the client address of a request as its Config says. The
// zero Source reads the remote address. It is safe for concurrent use.
type Source struct {
	header  string
	kind    kind
	trusted []netip.Prefix
}

// New validates cfg and returns its Source.
func New(cfg Config) (*Source, error) {
	s := &Source{}
	if cfg.Header == "" {
		if len(cfg.TrustedProxies) > 0 {
			return nil, fmt.Errorf("%w: TrustedProxies without a Header", ErrConfig)
		}
		return s, nil
	}
	if !validToken(cfg.Header) {
		return nil, fmt.Errorf("%w: Header %q is not a header name", ErrConfig, cfg.Header)
	}
	if len(cfg.TrustedProxies) == 0 {
		return nil, fmt.Errorf("%w: Header %q needs TrustedProxies (a header from anyone is the client's to choose)", ErrConfig, cfg.Header)
	}
	s.header = textproto.CanonicalMIMEHeaderKey(cfg.Header)
	switch s.header {
	case "X-Forwarded-For":
		s.kind = kindXFF
	case "Forwarded":
		s.kind = kindForwarded
	default:
		s.kind = kindSingle
	}
	for _, p := range cfg.TrustedProxies {
		if !p.IsValid() {
			return nil, fmt.Errorf("%w: invalid trusted prefix", ErrConfig)
		}
		p = unmapPrefix(p)
		if p.Bits() == 0 {
			return nil, fmt.Errorf("%w: trusted prefix %s trusts every peer", ErrConfig, p)
		}
		s.trusted = append(s.trusted, p)
	}
	return s, nil
}

// unmapPrefix returns p, masked, with an IPv4-mapped prefix as IPv4.
func unmapPrefix(p netip.Prefix) netip.Prefix {
	a := p.Addr()
	if a.Is4In6() && p.Bits() >= 96 {
		return netip.PrefixFrom(a.Unmap(), p.Bits()-96).Masked()
	}
	return p.Masked()
}

// Header returns the canonical name of the header s reads, or "" when it
// reads the remote address only.
func (s *Source) Header() string {
	if s == nil {
		return ""
	}
	return s.header
}

// Trusted reports whether addr is one of the trusted proxies.
func (s *Source) Trusted(addr netip.Addr) bool {
	if s == nil {
		return false
	}
	addr = addr.Unmap()
	for _, p := range s.trusted {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// Addr returns the client's address: unmapped, without a zone. An error
// wraps [ErrRemoteAddr] or [ErrHeader]. A nil or zero Source reads the
// remote address.
func (s *Source) Addr(r *http.Request) (netip.Addr, error) {
	peer, err := ParseRemoteAddr(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}, err
	}
	if s == nil || s.kind == kindRemote || !s.Trusted(peer) {
		return peer, nil
	}
	lines := r.Header.Values(s.header)
	if len(lines) == 0 {
		return peer, nil // the trusted proxy is itself the client
	}
	switch s.kind {
	case kindSingle:
		if len(lines) > 1 {
			return netip.Addr{}, fmt.Errorf("%w: %d %s lines", ErrHeader, len(lines), s.header)
		}
		return parseHop(lines[0], false)
	case kindXFF:
		return s.walk(lines, nextXFF)
	default:
		return s.walk(lines, nextForwarded)
	}
}

// walk reads the hops of lines from the right, returning the first that is
// not a trusted proxy, or the leftmost when all are. next splits the last
// hop off a line: it returns the rest and the hop's address.
func (s *Source) walk(lines []string, next func(string) (string, bool, netip.Addr, error)) (netip.Addr, error) {
	var last netip.Addr
	for i := len(lines) - 1; i >= 0; i-- {
		for rest, more := lines[i], true; more; {
			var a netip.Addr
			var err error
			rest, more, a, err = next(rest)
			if err != nil {
				return netip.Addr{}, err
			}
			if !s.Trusted(a) {
				return a, nil
			}
			last = a
		}
	}
	return last, nil
}

// nextXFF splits the last hop off an X-Forwarded-For line; more reports
// whether rest holds another.
func nextXFF(line string) (rest string, more bool, a netip.Addr, err error) {
	hop := line
	if i := strings.LastIndexByte(line, ','); i >= 0 {
		rest, hop, more = line[:i], line[i+1:], true
	}
	a, err = parseHop(hop, false)
	return rest, more, a, err
}

// nextForwarded splits the last element off a Forwarded line (RFC 7239
// §4) and reads its for= node. It scans from the right, tracking quoted
// strings, so what lies to the left of the hop it returns (possibly the
// client's own text) is never read.
func nextForwarded(line string) (rest string, more bool, a netip.Addr, err error) {
	elem := line
	if i := lastUnquoted(line, ','); i >= 0 {
		rest, elem, more = line[:i], line[i+1:], true
	}
	for pair := range splitQuoted(elem, ';') {
		name, value, ok := strings.Cut(pair, "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(name), "for") {
			continue
		}
		if value, err = unquote(strings.TrimSpace(value)); err == nil {
			a, err = parseHop(value, true)
		}
		return rest, more, a, err
	}
	return "", false, netip.Addr{}, fmt.Errorf("%w: Forwarded element without for=", ErrHeader)
}

// lastUnquoted returns the index of the last sep in s outside quoted
// strings, scanning from the right, or -1.
func lastUnquoted(s string, sep byte) int {
	quoted := false
	for i := len(s) - 1; i >= 0; i-- {
		switch s[i] {
		case '"':
			if !escaped(s, i) {
				quoted = !quoted
			}
		case sep:
			if !quoted {
				return i
			}
		}
	}
	return -1
}

// escaped reports whether the quote at line[i] follows an odd run of
// backslashes (a quoted-pair).
func escaped(line string, i int) bool {
	n := 0
	for j := i - 1; j >= 0 && line[j] == '\\'; j-- {
		n++
	}
	return n%2 == 1
}

// splitQuoted yields the parts of s between seps outside quoted strings.
func splitQuoted(s string, sep byte) func(func(string) bool) {
	return func(yield func(string) bool) {
		quoted, start := false, 0
		for i := 0; i < len(s); i++ {
			switch c := s[i]; {
			case c == '\\' && quoted:
				i++
			case c == '"':
				quoted = !quoted
			case c == sep && !quoted:
				if !yield(s[start:i]) {
					return
				}
				start = i + 1
			}
		}
		yield(s[start:])
	}
}

// unquote reads an RFC 9110 token or quoted-string.
func unquote(v string) (string, error) {
	if len(v) == 0 || v[0] != '"' {
		return v, nil
	}
	if len(v) < 2 || v[len(v)-1] != '"' || escaped(v, len(v)-1) {
		return "", fmt.Errorf("%w: unterminated quoted string", ErrHeader)
	}
	v = v[1 : len(v)-1]
	if strings.IndexByte(v, '\\') < 0 {
		return v, nil
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] == '\\' && i+1 < len(v) {
			i++
		}
		b.WriteByte(v[i])
	}
	return b.String(), nil
}

// ParseRemoteAddr reads an http.Request.RemoteAddr: "host:port",
// "[v6]:port", or a bare address as some adapters set it. The result is
// unmapped and without a zone (a link-local peer's zone names this host's
// interface, which is no part of the client's identity). An error wraps
// [ErrRemoteAddr].
func ParseRemoteAddr(s string) (netip.Addr, error) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().WithZone("").Unmap(), nil
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return a.WithZone("").Unmap(), nil
	}
	return netip.Addr{}, fmt.Errorf("%w: %q", ErrRemoteAddr, clip(s))
}

// parseHop reads one hop of a header: an address, "v4:port", "[v6]" or
// "[v6]:port", with optional surrounding whitespace. obfPort allows the
// RFC 7239 obfuscated port ("_abc"). Zones and anything else are refused:
// a zone is meaningless beyond the host that wrote it.
func parseHop(hop string, obfPort bool) (netip.Addr, error) {
	hop = strings.Trim(hop, " \t")
	host := hop
	if strings.HasPrefix(hop, "[") {
		end := strings.IndexByte(hop, ']')
		if end < 0 || !validPort(hop[end+1:], obfPort) {
			return netip.Addr{}, badHop(hop)
		}
		host = hop[1:end]
		if a, err := netip.ParseAddr(host); err != nil || !a.Is6() {
			return netip.Addr{}, badHop(hop)
		}
	} else if i := strings.IndexByte(hop, ':'); i >= 0 && strings.Count(hop, ":") == 1 {
		if !validPort(hop[i:], obfPort) {
			return netip.Addr{}, badHop(hop)
		}
		host = hop[:i]
	}
	a, err := netip.ParseAddr(host)
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, badHop(hop)
	}
	return a.Unmap(), nil
}

// validPort reports whether s is "" or ":" followed by a port.
func validPort(s string, obf bool) bool {
	if s == "" {
		return true
	}
	if s[0] != ':' || len(s) < 2 {
		return false
	}
	s = s[1:]
	if obf && s[0] == '_' {
		return validToken(s)
	}
	if len(s) > 5 {
		return false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n <= 65535
}

func badHop(hop string) error {
	switch {
	case hop == "":
		return fmt.Errorf("%w: empty hop", ErrHeader)
	case strings.EqualFold(hop, "unknown") || hop[0] == '_':
		return fmt.Errorf("%w: the client hop is unknown or obfuscated", ErrHeader)
	}
	return fmt.Errorf("%w: hop %q is not an address", ErrHeader, clip(hop))
}

// clip bounds what of client-supplied text an error repeats.
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

// validToken reports whether s is an RFC 9110 token.
func validToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			continue
		}
		if !strings.ContainsRune("!#$%&'*+-.^_`|~", rune(c)) {
			return false
		}
	}
	return true
}
