package session

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/store"
)

// Option configures [Manager.Require].
type Option func(*policy)

type policy struct {
	minAAL     mfa.AAL
	maxAge     time.Duration
	revocation bool
	cookie     string
	useCookie  bool
	refresh    bool
	onDenied   func(http.ResponseWriter, *http.Request, *Denial)
	decider    Decider
}

// MinAAL requires the access token's level (acr) to be at least a. A lower
// one is answered with an RFC 9470 step-up challenge naming the acr
// values that would do.
func MinAAL(a mfa.AAL) Option { return func(p *policy) { p.minAAL = a } }

// MaxAge requires the access token's auth_time to be no older than d: for
// routes that change factors, email or password, where a recent
// verification is wanted (ASVS 5.0 §7.5.1). An older one, or one more
// than 10 seconds in the future (clocks that disagree), is answered with
// an RFC 9470 step-up challenge carrying max_age.
func MaxAge(d time.Duration) Option { return func(p *policy) { p.maxAge = d } }

// CheckRevocation looks the token's sid up in the store on every request,
// so a revoked (signed out, reused, operator-revoked) or expired session
// is refused at once rather than when its access token expires. It costs
// one store read per request; a store failure refuses the request (503).
func CheckRevocation() Option { return func(p *policy) { p.revocation = true } }

// FromCookie also reads the access token from the named cookie when the
// request has no Authorization header; "" names the cookie that
// [Manager.SetCookies] sets.
func FromCookie(name string) Option {
	return func(p *policy) { p.useCookie, p.cookie = true, name }
}

// AutoRefresh, for browsers holding tokens in cookies: when the access
// cookie is missing or expired and the refresh cookie is present, the
// session is refreshed in place (new cookies on the response) and the
// request proceeds. It implies FromCookie(""). Refresh tokens rotate with
// reuse detection, so two requests racing with one refresh cookie end the
// session (fail closed): use it for page navigations, and let scripts
// that fire parallel requests refresh through [Manager.RefreshHandler].
func AutoRefresh() Option {
	return func(p *policy) { p.refresh, p.useCookie = true, true }
}

// OnDenied replaces the default 401 answer, e.g. to redirect a browser to
// a sign-in or step-up page. fn must write the response;
// [Manager.WriteDenial] writes the default one.
func OnDenied(fn func(w http.ResponseWriter, r *http.Request, d *Denial)) Option {
	return func(p *policy) { p.onDenied = fn }
}

// Error codes of a [Denial] (RFC 6750 §3.1, RFC 9470 §3).
const (
	CodeInvalidToken         = "invalid_token"
	CodeInsufficientUserAuth = "insufficient_user_authentication"
	// CodeAccessDenied answers a [Decider]'s refusal (403): a role, a
	// place or a time no authentication can change. It is not RFC 6750's
	// insufficient_scope, which would send a client after a token with
	// more scope; no token helps.
	CodeAccessDenied = "access_denied"
)

// Denial is why the middleware refused a request.
type Denial struct {
	// Status is 401; 403 when a [Decider] refused the request; 503 when
	// the store or the Decider failed.
	Status int
	// Code is "" when the request had no token, CodeInvalidToken,
	// CodeInsufficientUserAuth when a valid token must be stepped up, or
	// CodeAccessDenied for a Decider's refusal.
	Code string
	// Description is a short, fixed text safe to show.
	Description string
	// ACRValues and MaxAge tell the client what a step-up must reach:
	// levels, in order of preference, and the longest age of auth_time.
	ACRValues []string
	MaxAge    time.Duration
	// AMR, on a step-up denial from a route whose [Decider] restricts
	// methods, lists the RFC 8176 amr values of which the step-up must add
	// one (e.g. "hwk" and "pop" for a security key or passkey). It is in
	// the JSON body as "amr_values"; RFC 9470 has no challenge parameter
	// for it.
	AMR []string
	// Claims are the token's claims when it was valid (a step-up denial).
	Claims *AccessClaims
	// Err is the cause; it matches this package's sentinels.
	Err error
}

func (d *Denial) Error() string { return d.Err.Error() }
func (d *Denial) Unwrap() error { return d.Err }

type claimsKey struct{}

// refreshedKey holds the tokens AutoRefresh issued for a request.
type refreshedKey struct{}

// ClaimsFrom returns the access-token claims the middleware verified for
// this request.
func ClaimsFrom(ctx context.Context) (*AccessClaims, bool) {
	c, ok := ctx.Value(claimsKey{}).(*AccessClaims)
	return c, ok
}

// WithClaims returns ctx carrying c, as the middleware does; for tests of
// handlers and for adapters (a Lambda authorizer's context).
func WithClaims(ctx context.Context, c *AccessClaims) context.Context {
	return context.WithValue(ctx, claimsKey{}, c)
}

// Require returns middleware that admits a request only with a valid
// access token (from "Authorization: Bearer", or a cookie with
// [FromCookie]) meeting every option, and puts its claims in the request
// context ([ClaimsFrom]). Refusals are 401 with a WWW-Authenticate
// challenge (RFC 6750 §3, RFC 9470 §3) and a JSON body
// {"error":..., "error_description":...}; a [Policy] may also refuse with
// 403. It panics on an option out of
// range (MinAAL above AAL3, a negative MaxAge), as a misconfigured route
// should not start.
func (m *Manager) Require(opts ...Option) func(http.Handler) http.Handler {
	p := &policy{}
	for _, o := range opts {
		o(p)
	}
	if p.minAAL < 0 || p.minAAL > mfa.AAL3 || p.maxAge < 0 {
		panic(fmt.Sprintf("session: Require: MinAAL %d or MaxAge %s out of range", p.minAAL, p.maxAge))
	}
	if p.useCookie && p.cookie == "" {
		p.cookie = m.AccessCookieName()
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, fresh, d := m.authorize(w, r, p)
			if fresh != nil {
				// The request still carries the cookies that were just
				// rotated away; RefreshToken and AccessToken must return the
				// new ones, or a handler that passes the refresh token on
				// (StepUp) would present a retired token and trip reuse
				// detection.
				r = r.WithContext(context.WithValue(r.Context(), refreshedKey{}, fresh))
			}
			if d != nil {
				if p.onDenied != nil {
					p.onDenied(w, r, d)
				} else {
					m.WriteDenial(w, d)
				}
				return
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), claimsKey{}, c)))
		})
	}
}

// authorize is the middleware's whole decision.
//
// fresh holds the new tokens when AutoRefresh rotated the old ones.
func (m *Manager) authorize(w http.ResponseWriter, r *http.Request, p *policy) (c *AccessClaims, fresh *Tokens, d *Denial) {
	tok, fromCookie := p.token(r)
	var err error
	if tok == "" {
		err = ErrNoToken
	} else {
		c = new(AccessClaims)
		if err = m.parse(m.parser, tok, c, m.accessKF); err != nil {
			c = nil
		}
	}
	if p.refresh && (tok == "" || fromCookie && errors.Is(err, ErrExpired)) {
		if rc, rerr := r.Cookie(m.refreshCookieName()); rerr == nil && rc.Value != "" {
			t, ferr := m.Refresh(r.Context(), rc.Value)
			switch {
			case ferr == nil:
				m.SetCookies(w, t)
				c, err, fresh = t.Claims, nil, t
			case errors.Is(ferr, ErrInvalidToken):
				m.ClearCookies(w)
				err = ferr
			default:
				err = ferr
			}
		}
	}
	n := need{minAAL: p.minAAL, maxAge: p.maxAge}
	if err != nil {
		return nil, fresh, m.denial(err, &n, nil)
	}
	if p.revocation {
		if err := m.checkSession(r.Context(), c); err != nil {
			return nil, fresh, m.denial(err, &n, nil)
		}
	}
	if p.decider != nil {
		// Before the step-up checks: a user the policy refuses is not
		// sent to step up first.
		if n, err = p.decide(r, c, n); err != nil {
			return nil, fresh, m.denial(err, &n, c)
		}
	}
	if err := n.meets(c, m.now); err != nil {
		return nil, fresh, m.denial(err, &n, c)
	}
	return c, fresh, nil
}

func (p *policy) token(r *http.Request) (tok string, fromCookie bool) {
	if h := r.Header.Get("Authorization"); h != "" {
		const scheme = "Bearer "
		if len(h) > len(scheme) && strings.EqualFold(h[:len(scheme)], scheme) {
			return strings.TrimLeft(h[len(scheme):], " "), false
		}
		return "", false
	}
	if p.useCookie {
		if ck, err := r.Cookie(p.cookie); err == nil {
			return ck.Value, true
		}
	}
	return "", false
}

func (m *Manager) checkSession(ctx context.Context, c *AccessClaims) error {
	s, err := m.store.GetSession(ctx, c.SessionID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return refuse(ErrRevoked, "unknown session")
	case err != nil:
		return wrap(ErrStore, err)
	case s.Revoked || s.UserID != c.Subject:
		return refuse(ErrRevoked, "")
	}
	now := m.now()
	if !now.Before(s.IdleExpires) || !now.Before(s.Expires) {
		return refuse(ErrExpired, "session")
	}
	return nil
}

func (m *Manager) denial(err error, n *need, c *AccessClaims) *Denial {
	d := &Denial{Status: http.StatusUnauthorized, Err: err, Claims: c}
	switch {
	case errors.Is(err, ErrNoToken):
		d.Description = "authentication required"
	case errors.Is(err, ErrInsufficientAAL), errors.Is(err, ErrTooOld), errors.Is(err, ErrMethod):
		d.Code = CodeInsufficientUserAuth
		d.ACRValues, d.MaxAge, d.AMR = acrValues(n.minAAL), n.maxAge, slices.Clone(n.amr)
		switch {
		case errors.Is(err, ErrInsufficientAAL):
			d.Description = "a higher assurance level is required"
		case errors.Is(err, ErrMethod):
			d.Description = "another authentication method is required"
		default:
			d.Description = "a more recent authentication is required"
		}
	case errors.Is(err, ErrForbidden):
		d.Status, d.Code = http.StatusForbidden, CodeAccessDenied
		d.Description = "access denied by policy"
	case errors.Is(err, ErrInvalidToken):
		d.Code = CodeInvalidToken
		d.Description = describe(err)
	default: // the store or a hook failed: deny, but do not blame the token
		d.Status = http.StatusServiceUnavailable
		d.Description = "temporarily unavailable"
	}
	return d
}

// describe gives a fixed, safe error_description for a token refusal.
func describe(err error) string {
	for _, e := range [...]struct {
		err  error
		text string
	}{
		{ErrExpired, "the token expired"},
		{ErrRevoked, "the session was revoked"},
		{ErrReused, "the session was revoked"},
		{ErrWrongType, "not an access token"},
		{ErrNotYetValid, "the token is not valid yet"},
		{ErrMalformed, "the token is malformed"},
	} {
		if errors.Is(err, e.err) {
			return e.text
		}
	}
	return "the token is invalid"
}

// WriteDenial writes the default answer to d: the WWW-Authenticate
// challenge and a JSON body, with Cache-Control: no-store.
func (m *Manager) WriteDenial(w http.ResponseWriter, d *Denial) {
	h := w.Header()
	var b strings.Builder
	b.WriteString(`Bearer realm="`)
	b.WriteString(m.realm)
	b.WriteByte('"')
	if d.Code != "" {
		fmt.Fprintf(&b, `, error="%s", error_description="%s"`, d.Code, d.Description)
		if len(d.ACRValues) > 0 {
			fmt.Fprintf(&b, `, acr_values="%s"`, strings.Join(d.ACRValues, " "))
		}
		if d.MaxAge > 0 {
			b.WriteString(", max_age=")
			b.WriteString(strconv.FormatInt(int64(d.MaxAge/time.Second), 10))
		}
	}
	if d.Status == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", b.String())
	}
	code := d.Code
	switch {
	case d.Status == http.StatusServiceUnavailable:
		code = "temporarily_unavailable"
	case code == "":
		code = "unauthorized"
	}
	writeJSON(w, d.Status, errorBody{Error: code, Description: d.Description, AMR: d.AMR})
}

type errorBody struct {
	Error       string   `json:"error"`
	Description string   `json:"error_description,omitempty"`
	AMR         []string `json:"amr_values,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
