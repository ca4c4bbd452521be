package session

import (
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/mfakit/mfa"
)

// Requirement is what a [Decider] asks of a request's access token. It
// adds to the route's own [MinAAL] and [MaxAge]: the higher level and the
// shorter age apply.
type Requirement struct {
	// MinAAL is the lowest level (acr) accepted; 0 for any.
	MinAAL mfa.AAL
	// MaxAge is the longest time since auth_time; 0 for any.
	MaxAge time.Duration
	// AMR, when not empty, lists RFC 8176 method references of which the
	// verification at auth_time must have used at least one (the token's
	// auth_amr claim, not the session-wide amr), e.g. only
	// phishing-resistant authenticators (package policy's
	// PhishingResistant). With MaxAge it reads "this kind of factor, this
	// recently": a security key at sign-in and a TOTP step-up since does
	// not meet a requirement of a key.
	AMR []string
}

// Decider decides, per request, what a route needs beyond a valid access
// token: package policy implements it from route, roles, place and time.
//
// Decide is called by [Manager.Require]'s middleware after the token has
// been verified (and, with [CheckRevocation], its session checked), with
// the request and the token's claims, which it must not modify. It returns
// what the token must meet, answered when unmet with an RFC 9470 step-up
// challenge; or an error: one wrapping [ErrForbidden] is a refusal no
// step-up can fix (a role, a place or a time), answered 403; any other
// error means the decision could not be made (a role store or a
// geolocation database failed) and is answered 503. It must be safe for
// concurrent use.
type Decider interface {
	Decide(r *http.Request, c *AccessClaims) (Requirement, error)
}

// DeciderFunc adapts a function to [Decider].
type DeciderFunc func(r *http.Request, c *AccessClaims) (Requirement, error)

// Decide calls f.
func (f DeciderFunc) Decide(r *http.Request, c *AccessClaims) (Requirement, error) { return f(r, c) }

// Policy has every request that passes the route's other options decided
// by d as well (see [Decider]). A Require without Policy never calls one.
func Policy(d Decider) Option { return func(p *policy) { p.decider = d } }

// need is what a token must meet on one request.
type need struct {
	minAAL mfa.AAL
	maxAge time.Duration
	amr    []string
}

// acrAtLeast holds, per level, the acr values of that level and above, in
// order of preference.
var acrAtLeast = [...][]string{
	mfa.AAL1: {ACRAAL1, ACRAAL2, ACRAAL3},
	mfa.AAL2: {ACRAAL2, ACRAAL3},
	mfa.AAL3: {ACRAAL3},
}

// acrValues returns the acr values a step-up to a may reach; nil for 0.
func acrValues(a mfa.AAL) []string {
	if a <= 0 || int(a) >= len(acrAtLeast) {
		return nil
	}
	return slices.Clone(acrAtLeast[a])
}

// decide adds the Decider's requirement to n. A Decider's error is a
// refusal (ErrForbidden, 403) or, fail closed, an outage (ErrPolicy, 503);
// so is a requirement out of range.
func (p *policy) decide(r *http.Request, c *AccessClaims, n need) (need, error) {
	req, err := p.decider.Decide(r, c)
	switch {
	case errors.Is(err, ErrForbidden):
		return n, err
	case err != nil:
		return n, wrap(ErrPolicy, err)
	case req.MinAAL < 0 || req.MinAAL > mfa.AAL3 || req.MaxAge < 0:
		return n, wrap(ErrPolicy, errors.New("requirement out of range"))
	}
	n.minAAL = max(n.minAAL, req.MinAAL)
	if req.MaxAge > 0 && (n.maxAge == 0 || req.MaxAge < n.maxAge) {
		n.maxAge = req.MaxAge
	}
	n.amr = req.AMR
	return n, nil
}

// meets checks c against n at now: level, methods, then age. An auth_time
// more than the longest allowed leeway in the future (clocks that
// disagree, or a token whose auth_time is after its iat) counts as too
// old, so a skewed clock cannot stretch MaxAge.
func (n *need) meets(c *AccessClaims, now func() time.Time) error {
	if n.minAAL > 0 && c.AAL() < n.minAAL {
		return ErrInsufficientAAL
	}
	if len(n.amr) > 0 && !slices.ContainsFunc(c.AuthAMR, func(v string) bool { return slices.Contains(n.amr, v) }) {
		return ErrMethod
	}
	if n.maxAge > 0 {
		if age := now().Sub(c.AuthTime.Time); age > n.maxAge || age < -maxLeeway {
			return ErrTooOld
		}
	}
	return nil
}
