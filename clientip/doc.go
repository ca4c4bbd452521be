// Package clientip finds the address of the client behind an HTTP
// request: the direct peer (http.Request.RemoteAddr), or, behind reverse
// proxies the application names, the address those proxies report in a
// header.
//
//	src, err := clientip.New(clientip.Config{
//		Header:         "X-Forwarded-For",
//		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
//	})
//	addr, err := src.Addr(r) // a netip.Addr, never IPv4-mapped
//
// The zero [Source] reads the remote address only.
//
// Three kinds of header are understood, by Config.Header's name:
//
//   - "X-Forwarded-For": a comma-separated list, each proxy appending the
//     peer it saw. Several header lines form one list, in order (RFC 9110
//     §5.3).
//   - "Forwarded" (RFC 7239): the same list as elements with a "for="
//     parameter; quoted IPv6 nodes with brackets and ports are read,
//     "unknown" and obfuscated nodes ("_hidden") are not addresses.
//   - any other name ("X-Real-IP", "CF-Connecting-IP", "True-Client-IP"):
//     one address, written by the proxy alone; more than one header line
//     is an error.
//
// # Security
//
// A header is honoured only when the direct peer is one of
// Config.TrustedProxies; from anyone else it is ignored and the peer is the
// client, so a client that talks to the service directly cannot name its
// own address. Lists are walked from the right, the end the trusted proxies
// wrote, skipping addresses of trusted proxies: the first untrusted hop is
// the client, and whatever the client itself put to the left of it (a
// spoofed X-Forwarded-For) is never read, not even parsed. When every hop
// is a trusted proxy, the leftmost is the client.
//
// New refuses a header without trusted proxies and a trusted prefix of
// length 0 (trusting every peer is trusting the header blindly). A header
// that a trusted proxy should have written but that is malformed (garbage,
// a zone, an empty hop, "unknown" where the client should be) is an error
// wrapping [ErrHeader], not a silent fall back to another address; a
// trusted peer that sent no such header is itself the client. Addresses
// come out unmapped (an IPv4-mapped IPv6 address is the IPv4 address) and
// without a zone, so prefix checks and per-address counters see one form.
//
// Name the proxies narrowly: a prefix that covers hosts other than your
// proxies (a shared cloud range) lets those hosts choose the client
// address. A platform that rewrites RemoteAddr for you (some serverless
// adapters) needs no header at all.
package clientip
