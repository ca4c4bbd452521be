package policy

import (
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/clientip"
	"github.com/mfakit/mfa/geo"
	"github.com/mfakit/mfa/session"
)

// PhishingResistant lists the amr values of phishing-resistant
// authenticators, for Rule.Methods: "hwk" and "pop", which package
// webauthn reports for a security key or passkey (a WebAuthn credential
// signs only for its own origin). Not "swk": push approvals report it, and
// a push can be approved on a phishing site's behalf.
var PhishingResistant = []string{"hwk", "pop"}

// Config configures a [Policy]. Rules is required; every other field is
// needed only by the rules that use it, and New says which is missing.
type Config struct {
	// Rules are tried in order; the first whose Pattern matches the
	// request decides, and a request no rule matches is refused: end the
	// list with a catch-all rule ("/") to admit the rest. Required.
	Rules []Rule
	// Roles returns the user's roles for a request, as the application
	// keeps them (its user table, the claims it trusts). It is called
	// only when the matching rule names Roles. An error refuses the
	// request as an outage (503). Required when a rule names Roles.
	Roles func(r *http.Request, c *session.AccessClaims) ([]string, error)
	// Locator places the client address for rules that name countries.
	// An error refuses the request as an outage (503). Required when a
	// rule names Countries or DenyCountries.
	Locator geo.Locator
	// ClientIP reads the client address for rules that name networks or
	// countries. Default: the remote address (a nil Source).
	ClientIP *clientip.Source
	// Now is the clock for time windows. Default time.Now.
	Now func() time.Time
}

// Rule is what a route requires. Each condition is checked only when
// set; a request must meet every one. Lists are any-of; a deny list wins
// over an allow list.
type Rule struct {
	// Pattern is an http.ServeMux pattern ("/admin/", "POST /factors/",
	// "GET /users/{id}", "api.example.com/"), matched as a ServeMux
	// matches it: the path cleaned, "/admin" taking the "/admin/" rule it
	// would be redirected to. Required.
	Pattern string
	// Roles: the user must hold at least one (Config.Roles).
	Roles []string
	// MinAAL is the lowest assurance level; a lower token is asked to
	// step up.
	MinAAL mfa.AAL
	// MaxAge is the longest time since the user's last second factor; an
	// older token is asked to step up.
	MaxAge time.Duration
	// Methods are amr values (RFC 8176) of which the verification at the
	// token's auth_time must have used one (its auth_amr claim), e.g.
	// [PhishingResistant]; otherwise the token is asked to step up with
	// one of them. With MaxAge: this kind of factor, this recently.
	Methods []string
	// Networks: the client address must be in one. DenyNetworks: it must
	// be in none. IPv4-mapped prefixes and addresses are read as IPv4.
	Networks, DenyNetworks []netip.Prefix
	// Countries: the client's country (ISO 3166-1 alpha-2, any case) must
	// be one. DenyCountries: it must be none. With either set, an address
	// whose country is unknown (private, unlisted) is refused.
	Countries, DenyCountries []string
	// Windows: the request must come within one, by Config.Now.
	Windows []Window
}

// Window is a span of wall-clock time on some days, in a time zone.
type Window struct {
	// Days the window starts on; empty for every day.
	Days []time.Weekday
	// Start and End are wall-clock times after midnight, at most 24 h.
	// End 0 is the end of the day. End before Start crosses midnight:
	// Friday 22:00 to 06:00 holds until Saturday 06:00. Wall-clock means
	// 09:00 is 09:00 local on either side of a daylight-saving change;
	// an hour that a change skips never comes, and one it repeats counts
	// twice.
	Start, End time.Duration
	// Location is the time zone. Default UTC.
	Location *time.Location
}

// Sentinel errors, matched with errors.Is. Every refusal also matches
// session.ErrForbidden, so the middleware answers it with 403.
var (
	// ErrConfig: Config is invalid.
	ErrConfig = errors.New("mfa: policy: invalid config")
	// ErrNoRule: no rule matches the request.
	ErrNoRule = errors.New("mfa: policy: no rule for the route")
	// ErrRole: the user holds none of the rule's roles.
	ErrRole = errors.New("mfa: policy: role required")
	// ErrNetwork: the client address is outside the rule's networks, in
	// a denied one, or could not be read (the cause wraps clientip's).
	ErrNetwork = errors.New("mfa: policy: network not allowed")
	// ErrCountry: the client's country is not allowed, or unknown where
	// countries are restricted.
	ErrCountry = errors.New("mfa: policy: country not allowed")
	// ErrTime: the request is outside the rule's windows.
	ErrTime = errors.New("mfa: policy: outside the allowed time")
	// ErrRoles: Config.Roles failed; not a refusal but an outage (503).
	ErrRoles = errors.New("mfa: policy: roles unavailable")
)

// refusal is a decision against the request: its reason, the pattern of
// the rule that made it, and session.ErrForbidden all match.
type refusal struct {
	reason  error
	pattern string
	cause   error
}

func (e *refusal) Error() string {
	s := e.reason.Error()
	if e.pattern != "" {
		s += ` (rule "` + e.pattern + `")`
	}
	if e.cause != nil {
		s += ": " + e.cause.Error()
	}
	return s
}

func (e *refusal) Unwrap() []error {
	if e.cause != nil {
		return []error{e.reason, session.ErrForbidden, e.cause}
	}
	return []error{e.reason, session.ErrForbidden}
}

// Policy decides what each request needs; it implements
// session.Decider. It is safe for concurrent use.
type Policy struct {
	rules   []rule
	roles   func(*http.Request, *session.AccessClaims) ([]string, error)
	locator geo.Locator
	src     *clientip.Source
	now     func() time.Time
}

type rule struct {
	Rule
	mux     *http.ServeMux
	windows []window
	place   bool // needs the client address
}

// New validates cfg and returns its Policy.
func New(cfg Config) (*Policy, error) {
	if len(cfg.Rules) == 0 {
		return nil, fmt.Errorf("%w: no Rules (every request would be refused)", ErrConfig)
	}
	p := &Policy{roles: cfg.Roles, locator: cfg.Locator, src: cfg.ClientIP, now: cfg.Now}
	if p.now == nil {
		p.now = time.Now
	}
	for i, r := range cfg.Rules {
		c, err := compile(r)
		if err != nil {
			return nil, fmt.Errorf("%w: Rules[%d] %q: %v", ErrConfig, i, r.Pattern, err)
		}
		switch {
		case len(c.Roles) > 0 && p.roles == nil:
			return nil, fmt.Errorf("%w: Rules[%d] %q names Roles but Config.Roles is nil", ErrConfig, i, r.Pattern)
		case len(c.Countries)+len(c.DenyCountries) > 0 && p.locator == nil:
			return nil, fmt.Errorf("%w: Rules[%d] %q names countries but Config.Locator is nil", ErrConfig, i, r.Pattern)
		}
		p.rules = append(p.rules, c)
	}
	return p, nil
}

// compile validates r and copies what the caller could still change.
func compile(r Rule) (c rule, err error) {
	if r.Pattern == "" {
		return c, errors.New("a Pattern is required")
	}
	c.mux = http.NewServeMux()
	func() {
		defer func() {
			if v := recover(); v != nil {
				err = fmt.Errorf("bad pattern: %v", v)
			}
		}()
		c.mux.Handle(r.Pattern, http.NotFoundHandler())
	}()
	if err != nil {
		return c, err
	}
	if r.MinAAL < 0 || r.MinAAL > mfa.AAL3 || r.MaxAge < 0 {
		return c, errors.New("MinAAL or MaxAge out of range")
	}
	if slices.Contains(r.Methods, "") || slices.Contains(r.Roles, "") {
		return c, errors.New("an empty Methods or Roles value")
	}
	c.Rule = r
	c.Roles, c.Methods = slices.Clone(r.Roles), slices.Clone(r.Methods)
	if c.Networks, err = prefixes(r.Networks); err == nil {
		c.DenyNetworks, err = prefixes(r.DenyNetworks)
	}
	if err == nil {
		if c.Countries, err = countries(r.Countries); err == nil {
			c.DenyCountries, err = countries(r.DenyCountries)
		}
	}
	if err != nil {
		return c, err
	}
	for _, w := range r.Windows {
		cw, err := compileWindow(w)
		if err != nil {
			return c, err
		}
		c.windows = append(c.windows, cw)
	}
	c.place = len(c.Networks)+len(c.DenyNetworks)+len(c.Countries)+len(c.DenyCountries) > 0
	return c, nil
}

func prefixes(ps []netip.Prefix) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, p := range ps {
		if !p.IsValid() {
			return nil, errors.New("an invalid network prefix")
		}
		if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

func countries(cs []string) ([]string, error) {
	var out []string
	for _, c := range cs {
		u := strings.ToUpper(c)
		if len(u) != 2 || u[0] < 'A' || u[0] > 'Z' || u[1] < 'A' || u[1] > 'Z' {
			return nil, fmt.Errorf("country %q is not an ISO 3166-1 alpha-2 code", c)
		}
		out = append(out, u)
	}
	return out, nil
}

// Decide implements session.Decider: the first rule matching r decides.
// A refusal wraps session.ErrForbidden and one of ErrNoRule, ErrRole,
// ErrNetwork, ErrCountry or ErrTime; an outage wraps ErrRoles or the
// Locator's error (geo.ErrUnavailable).
func (p *Policy) Decide(r *http.Request, c *session.AccessClaims) (session.Requirement, error) {
	var ru *rule
	for i := range p.rules {
		if _, pat := p.rules[i].mux.Handler(r); pat != "" {
			ru = &p.rules[i]
			break
		}
	}
	if ru == nil {
		return session.Requirement{}, &refusal{reason: ErrNoRule}
	}
	if err := p.check(r, c, ru); err != nil {
		return session.Requirement{}, err
	}
	return session.Requirement{MinAAL: ru.MinAAL, MaxAge: ru.MaxAge, AMR: ru.Methods}, nil
}

// check applies ru's conditions, cheapest first: time, network, roles,
// country.
func (p *Policy) check(r *http.Request, c *session.AccessClaims, ru *rule) error {
	if len(ru.windows) > 0 {
		now := p.now()
		if !slices.ContainsFunc(ru.windows, func(w window) bool { return w.contains(now) }) {
			return &refusal{reason: ErrTime, pattern: ru.Pattern}
		}
	}
	var addr netip.Addr
	if ru.place {
		a, err := p.src.Addr(r)
		if err != nil {
			return &refusal{reason: ErrNetwork, pattern: ru.Pattern, cause: err}
		}
		addr = a // unmapped by clientip
		if inAny(ru.DenyNetworks, addr) || len(ru.Networks) > 0 && !inAny(ru.Networks, addr) {
			return &refusal{reason: ErrNetwork, pattern: ru.Pattern}
		}
	}
	if len(ru.Roles) > 0 {
		roles, err := p.roles(r, c)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrRoles, err)
		}
		if !slices.ContainsFunc(roles, func(s string) bool { return slices.Contains(ru.Roles, s) }) {
			return &refusal{reason: ErrRole, pattern: ru.Pattern}
		}
	}
	if len(ru.Countries)+len(ru.DenyCountries) > 0 {
		place, err := p.locator.Locate(r.Context(), addr)
		if err != nil {
			return fmt.Errorf("mfa: policy: locate: %w", err)
		}
		cc := strings.ToUpper(place.Country)
		if cc == "" || slices.Contains(ru.DenyCountries, cc) || len(ru.Countries) > 0 && !slices.Contains(ru.Countries, cc) {
			return &refusal{reason: ErrCountry, pattern: ru.Pattern}
		}
	}
	return nil
}

func inAny(ps []netip.Prefix, a netip.Addr) bool {
	return slices.ContainsFunc(ps, func(p netip.Prefix) bool { return p.Contains(a) })
}

// Compile-time check that Policy is a session.Decider.
var _ session.Decider = (*Policy)(nil)
