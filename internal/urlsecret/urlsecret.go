// Package urlsecret tells whether a message quotes part of the password
// a store URL may hold, so the programs of this repository (the example
// app and the operator CLI) never print one.
package urlsecret

import (
	"net/url"
	"strings"
)

// Quoted reports whether text holds a part of what may be a password in
// spec: whatever comes between a ':' and the last '@', as written or
// with its %XX escapes decoded. A user name (the part before the first
// ':') does not count.
func Quoted(spec, text string) bool {
	at := strings.LastIndex(spec, "@")
	if at < 0 {
		return false
	}
	head := spec[:at]
	if _, after, ok := strings.Cut(head, "://"); ok {
		head = after
	}
	parts := strings.Split(head, ":")
	for i, p := range parts {
		if i == 0 && len(parts) > 1 {
			continue // a user name
		}
		for _, q := range []string{p, unescape(p)} {
			if q != "" && strings.Contains(text, q) {
				return true
			}
		}
	}
	return false
}

// unescape is p with its %XX escapes decoded, or p.
func unescape(p string) string {
	if u, err := url.PathUnescape(p); err == nil {
		return u
	}
	return p
}
