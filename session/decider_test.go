package session_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/session"
)

// fixed is a Decider that always answers req, err and counts its calls.
type fixed struct {
	req   session.Requirement
	err   error
	calls atomic.Int32
}

func (d *fixed) Decide(r *http.Request, c *session.AccessClaims) (session.Requirement, error) {
	d.calls.Add(1)
	if c == nil || c.Subject == "" || r == nil {
		return session.Requirement{}, errors.New("called without claims")
	}
	return d.req, d.err
}

func TestPolicyHook(t *testing.T) {
	f := newFixture(t)
	otp := f.start(t, user, mfa.AAL2)
	key, err := f.m.Start(ctx, user, f.result(user, mfa.AAL3, "hwk", "user"))
	if err != nil {
		t.Fatal(err)
	}
	// A key at sign-in, then a TOTP step-up: amr holds hwk, the
	// verification at auth_time did not use it.
	keyThenOTP, err := f.m.Start(ctx, user, f.result(user, mfa.AAL2, "hwk", "user"))
	if err != nil {
		t.Fatal(err)
	}
	keyThenOTP, err = f.m.StepUp(ctx, keyThenOTP.RefreshToken, f.result(user, mfa.AAL2, "otp"))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(keyThenOTP.Claims.AMR, "hwk") || !slices.Equal(keyThenOTP.Claims.AuthAMR, []string{"otp"}) {
		t.Fatalf("after the step-up: amr %v, auth_amr %v", keyThenOTP.Claims.AMR, keyThenOTP.Claims.AuthAMR)
	}
	f.clk.Add(3 * time.Minute)
	realm := `Bearer realm="` + issuer + `"`
	refused := fmt.Errorf("%w: no admin role", session.ErrForbidden)
	phr := []string{"hwk", "pop"}

	tests := []struct {
		name   string
		opts   []session.Option
		dec    *fixed
		tok    string
		status int
		www    string
		body   string // JSON body "error"
		amr    []string
		err    error // what Denial.Err matches
	}{
		{"no requirement", nil, &fixed{}, otp.AccessToken, 200, "", "", nil, nil},
		{"forbidden", nil, &fixed{err: refused}, otp.AccessToken, 403, "", "access_denied", nil, session.ErrForbidden},
		{"forbidden before step-up", []session.Option{session.MinAAL(mfa.AAL3)}, &fixed{err: refused}, otp.AccessToken, 403, "", "access_denied", nil, session.ErrForbidden},
		{"decider failed", nil, &fixed{err: errors.New("role store down")}, otp.AccessToken, 503, "", "temporarily_unavailable", nil, session.ErrPolicy},
		{"level out of range", nil, &fixed{req: session.Requirement{MinAAL: 4}}, otp.AccessToken, 503, "", "temporarily_unavailable", nil, session.ErrPolicy},
		{"negative age", nil, &fixed{req: session.Requirement{MaxAge: -1}}, otp.AccessToken, 503, "", "temporarily_unavailable", nil, session.ErrPolicy},
		{"level met", nil, &fixed{req: session.Requirement{MinAAL: mfa.AAL2}}, otp.AccessToken, 200, "", "", nil, nil},
		{"level raised", []session.Option{session.MinAAL(mfa.AAL1)}, &fixed{req: session.Requirement{MinAAL: mfa.AAL3}}, otp.AccessToken, 401,
			realm + `, error="insufficient_user_authentication", error_description="a higher assurance level is required", acr_values="urn:mfakit:aal3"`,
			"insufficient_user_authentication", nil, session.ErrInsufficientAAL},
		{"route level kept", []session.Option{session.MinAAL(mfa.AAL3)}, &fixed{req: session.Requirement{MinAAL: mfa.AAL1}}, otp.AccessToken, 401,
			realm + `, error="insufficient_user_authentication", error_description="a higher assurance level is required", acr_values="urn:mfakit:aal3"`,
			"insufficient_user_authentication", nil, session.ErrInsufficientAAL},
		{"method refused", nil, &fixed{req: session.Requirement{AMR: phr}}, otp.AccessToken, 401,
			realm + `, error="insufficient_user_authentication", error_description="another authentication method is required"`,
			"insufficient_user_authentication", phr, session.ErrMethod},
		{"method with level", nil, &fixed{req: session.Requirement{AMR: phr, MinAAL: mfa.AAL2}}, otp.AccessToken, 401,
			realm + `, error="insufficient_user_authentication", error_description="another authentication method is required", acr_values="urn:mfakit:aal2 urn:mfakit:aal3"`,
			"insufficient_user_authentication", phr, session.ErrMethod},
		{"method accepted", nil, &fixed{req: session.Requirement{AMR: phr}}, key.AccessToken, 200, "", "", nil, nil},
		{"method only at an earlier verification", nil, &fixed{req: session.Requirement{AMR: phr}}, keyThenOTP.AccessToken, 401,
			realm + `, error="insufficient_user_authentication", error_description="another authentication method is required"`,
			"insufficient_user_authentication", phr, session.ErrMethod},
		{"shorter age wins", []session.Option{session.MaxAge(time.Hour)}, &fixed{req: session.Requirement{MaxAge: 2 * time.Minute}}, key.AccessToken, 401,
			realm + `, error="insufficient_user_authentication", error_description="a more recent authentication is required", max_age=120`,
			"insufficient_user_authentication", nil, session.ErrTooOld},
		{"route age shorter", []session.Option{session.MaxAge(2 * time.Minute)}, &fixed{req: session.Requirement{MaxAge: time.Hour}}, key.AccessToken, 401,
			realm + `, error="insufficient_user_authentication", error_description="a more recent authentication is required", max_age=120`,
			"insufficient_user_authentication", nil, session.ErrTooOld},
		{"age met", nil, &fixed{req: session.Requirement{MaxAge: 10 * time.Minute}}, key.AccessToken, 200, "", "", nil, nil},
		{"invalid token: not asked", nil, &fixed{err: refused}, "garbage", 401,
			realm + `, error="invalid_token", error_description="the token is malformed"`, "invalid_token", nil, session.ErrInvalidToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var denial *session.Denial
			opts := append(slices.Clone(tt.opts), session.Policy(tt.dec), session.OnDenied(func(w http.ResponseWriter, r *http.Request, d *session.Denial) {
				denial = d
				f.m.WriteDenial(w, d)
			}))
			w := serve(f.m.Require(opts...)(echo), bearer(tt.tok))
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d; body %s", w.Code, tt.status, w.Body)
			}
			if got := w.Header().Get("WWW-Authenticate"); got != tt.www {
				t.Errorf("WWW-Authenticate:\n got %s\nwant %s", got, tt.www)
			}
			if tt.tok == "garbage" {
				if tt.dec.calls.Load() != 0 {
					t.Error("the Decider was asked about an invalid token")
				}
			} else if tt.dec.calls.Load() != 1 {
				t.Errorf("Decider called %d times", tt.dec.calls.Load())
			}
			if tt.status == 200 {
				return
			}
			var body struct {
				Error, Error_description string
				Amr_values               []string
			}
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || body.Error != tt.body || body.Error_description == "" || !slices.Equal(body.Amr_values, tt.amr) {
				t.Errorf("body %s (%v): want error %q, amr %q", w.Body, err, tt.body, tt.amr)
			}
			if strings.Contains(w.Body.String(), "role store down") || strings.Contains(w.Body.String(), "no admin role") {
				t.Errorf("body tells the cause: %s", w.Body)
			}
			if !errors.Is(denial.Err, tt.err) || !slices.Equal(denial.AMR, tt.amr) {
				t.Errorf("Denial.Err %v, AMR %q", denial.Err, denial.AMR)
			}
			if tt.status == 403 && denial.Claims == nil {
				t.Error("a refusal carries no claims")
			}
		})
	}
}

// TestPolicyFutureAuthTime: clocks that disagree. A token whose auth_time
// lies beyond the leeway in the future does not meet a maximum age, from
// a route or a Decider; one within the leeway does.
func TestPolicyFutureAuthTime(t *testing.T) {
	f := newFixture(t)
	for _, tt := range []struct {
		ahead time.Duration
		ok    bool
	}{{0, true}, {5 * time.Second, true}, {11 * time.Second, false}, {time.Hour, false}} {
		c := f.accessClaims()
		c.AuthTime = jwt.NewNumericDate(f.clk.Now().Add(tt.ahead))
		tok := f.forge(t, map[string]any{"typ": "at+jwt", "kid": "k1"}, c)
		for _, opts := range [][]session.Option{
			{session.MaxAge(5 * time.Minute)},
			{session.Policy(&fixed{req: session.Requirement{MaxAge: 5 * time.Minute}})},
		} {
			w := serve(f.m.Require(opts...)(echo), bearer(tok))
			if ok := w.Code == 200; ok != tt.ok {
				t.Errorf("auth_time %s ahead: status %d; %s", tt.ahead, w.Code, w.Header().Get("WWW-Authenticate"))
			}
		}
	}
	// Without a maximum age, auth_time is not judged.
	c := f.accessClaims()
	c.AuthTime = jwt.NewNumericDate(f.clk.Now().Add(time.Hour))
	if w := serve(f.m.Require()(echo), bearer(f.forge(t, map[string]any{"typ": "at+jwt", "kid": "k1"}, c))); w.Code != 200 {
		t.Errorf("no MaxAge: %d", w.Code)
	}
}

// TestDeciderFunc: the adapter calls the function.
func TestDeciderFunc(t *testing.T) {
	d := session.DeciderFunc(func(*http.Request, *session.AccessClaims) (session.Requirement, error) {
		return session.Requirement{MinAAL: mfa.AAL3}, nil
	})
	if req, err := d.Decide(nil, nil); err != nil || req.MinAAL != mfa.AAL3 {
		t.Fatal(req, err)
	}
}

// nopWriter is a ResponseWriter that allocates nothing.
type nopWriter struct{ h http.Header }

func (w nopWriter) Header() http.Header         { return w.h }
func (w nopWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w nopWriter) WriteHeader(int)             {}

// TestRequireAllocs: a Require without a Policy allocates no more per
// request than the JWT parse it is built on plus the fixed few it needed
// before policies existed (the strict date check, the request's new
// context), whatever options it has.
func TestRequireAllocs(t *testing.T) {
	f := newFixture(t)
	tok := f.start(t, user, mfa.AAL2).AccessToken
	pub := f.priv.Public()
	p := jwt.NewParser(jwt.WithValidMethods([]string{"EdDSA"}), jwt.WithTimeFunc(f.clk.Now))
	kf := func(*jwt.Token) (any, error) { return pub, nil }
	floor := testing.AllocsPerRun(200, func() {
		if _, err := p.ParseWithClaims(tok, new(session.AccessClaims), kf); err != nil {
			t.Fatal(err)
		}
	})
	r := httptest.NewRequest(http.MethodGet, "/api", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	w := nopWriter{h: http.Header{}}
	noop := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	for name, opts := range map[string][]session.Option{
		"bare":            nil,
		"level and age":   {session.MinAAL(mfa.AAL2), session.MaxAge(time.Hour)},
		"with cookie too": {session.FromCookie(""), session.MinAAL(mfa.AAL1)},
	} {
		h := f.m.Require(opts...)(noop)
		got := testing.AllocsPerRun(200, func() { h.ServeHTTP(w, r) })
		if got > floor+12 {
			t.Errorf("%s: %v allocations per request, parse alone %v", name, got, floor)
		}
	}
}
