package session_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/session"
)

// echo answers 200 with the verified subject and level.
var echo = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	c, ok := session.ClaimsFrom(r.Context())
	if !ok {
		http.Error(w, "no claims", http.StatusInternalServerError)
		return
	}
	w.Write([]byte(c.Subject + " " + c.ACR))
})

func serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func bearer(tok string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/api", nil)
	if tok != "" {
		r.Header.Set("Authorization", "Bearer "+tok)
	}
	return r
}

func TestMiddleware(t *testing.T) {
	f := newFixture(t)
	aal2 := f.start(t, user, mfa.AAL2)
	revoked := f.start(t, user, mfa.AAL2)
	if err := f.m.Revoke(ctx, user, revoked.Claims.SessionID); err != nil {
		t.Fatal(err)
	}
	pending, _, _ := f.m.IssuePending(ctx, user, []mfa.FactorInfo{{ID: "f1", Kind: mfa.KindTOTP, Active: true}})
	f.clk.Add(20 * time.Minute)
	fresh := f.start(t, user, mfa.AAL3)
	f.clk.Add(time.Minute)
	aal2, _ = f.m.Refresh(ctx, aal2.RefreshToken) // still auth_time t0
	realm := `Bearer realm="` + issuer + `"`

	tests := []struct {
		name    string
		opts    []session.Option
		req     *http.Request
		status  int
		www     string // WWW-Authenticate, exactly
		errCode string // JSON body "error"
	}{
		{"no token", nil, bearer(""), 401, realm, "unauthorized"},
		{"basic scheme", nil, func() *http.Request { r := bearer(""); r.SetBasicAuth("a", "b"); return r }(), 401, realm, "unauthorized"},
		{"valid", nil, bearer(aal2.AccessToken), 200, "", ""},
		{"lowercase scheme", nil, func() *http.Request {
			r := bearer("")
			r.Header.Set("Authorization", "bearer "+aal2.AccessToken)
			return r
		}(), 200, "", ""},
		{"garbage", nil, bearer("abc"), 401, realm + `, error="invalid_token", error_description="the token is malformed"`, "invalid_token"},
		{"pending token", nil, bearer(pending), 401, realm + `, error="invalid_token", error_description="not an access token"`, "invalid_token"},
		{"MinAAL met", []session.Option{session.MinAAL(mfa.AAL2)}, bearer(aal2.AccessToken), 200, "", ""},
		{"MinAAL not met", []session.Option{session.MinAAL(mfa.AAL3)}, bearer(aal2.AccessToken), 401,
			realm + `, error="insufficient_user_authentication", error_description="a higher assurance level is required", acr_values="urn:mfakit:aal3"`, "insufficient_user_authentication"},
		{"MinAAL2 lists both", []session.Option{session.MinAAL(mfa.AAL2), session.MaxAge(5 * time.Minute)}, bearer(aal2.AccessToken), 401,
			realm + `, error="insufficient_user_authentication", error_description="a more recent authentication is required", acr_values="urn:mfakit:aal2 urn:mfakit:aal3", max_age=300`, "insufficient_user_authentication"},
		{"MaxAge met", []session.Option{session.MaxAge(5 * time.Minute)}, bearer(fresh.AccessToken), 200, "", ""},
		{"MaxAge not met", []session.Option{session.MaxAge(10 * time.Minute)}, bearer(aal2.AccessToken), 401,
			realm + `, error="insufficient_user_authentication", error_description="a more recent authentication is required", max_age=600`, "insufficient_user_authentication"},
		{"expired", nil, bearer(revoked.AccessToken), 401, realm + `, error="invalid_token", error_description="the token expired"`, "invalid_token"},
		{"revocation checked, live", []session.Option{session.CheckRevocation()}, bearer(fresh.AccessToken), 200, "", ""},
		{"cookie", []session.Option{session.FromCookie("")}, func() *http.Request {
			r := bearer("")
			r.AddCookie(&http.Cookie{Name: f.m.AccessCookieName(), Value: fresh.AccessToken})
			return r
		}(), 200, "", ""},
		{"cookie ignored without option", nil, func() *http.Request {
			r := bearer("")
			r.AddCookie(&http.Cookie{Name: f.m.AccessCookieName(), Value: fresh.AccessToken})
			return r
		}(), 401, realm, "unauthorized"},
		{"named cookie", []session.Option{session.FromCookie("at")}, func() *http.Request {
			r := bearer("")
			r.AddCookie(&http.Cookie{Name: "at", Value: fresh.AccessToken})
			return r
		}(), 200, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := serve(f.m.Require(tt.opts...)(echo), tt.req)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d; body %s", w.Code, tt.status, w.Body)
			}
			if got := w.Header().Get("WWW-Authenticate"); got != tt.www {
				t.Errorf("WWW-Authenticate:\n got %s\nwant %s", got, tt.www)
			}
			if tt.status == 200 {
				if !strings.HasPrefix(w.Body.String(), user+" urn:mfakit:aal") {
					t.Errorf("handler saw %q", w.Body)
				}
				return
			}
			var body struct{ Error, Error_description string }
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || body.Error != tt.errCode || body.Error_description == "" {
				t.Errorf("body %s (%v): want error %q", w.Body, err, tt.errCode)
			}
			if w.Header().Get("Content-Type") != "application/json" || w.Header().Get("Cache-Control") != "no-store" {
				t.Errorf("headers %v", w.Header())
			}
		})
	}
}

// TestCheckRevocation: a revoked session's still-unexpired access token
// passes without the option and is refused with it.
func TestCheckRevocation(t *testing.T) {
	f := newFixture(t)
	tok := f.start(t, user, mfa.AAL2)
	if err := f.m.Revoke(ctx, user, tok.Claims.SessionID); err != nil {
		t.Fatal(err)
	}
	if w := serve(f.m.Require()(echo), bearer(tok.AccessToken)); w.Code != 200 {
		t.Fatalf("without the option: %d", w.Code)
	}
	w := serve(f.m.Require(session.CheckRevocation())(echo), bearer(tok.AccessToken))
	if w.Code != 401 || !strings.Contains(w.Header().Get("WWW-Authenticate"), `error_description="the session was revoked"`) {
		t.Fatalf("with the option: %d %s", w.Code, w.Header())
	}
	g := newFixture(t, func(c *session.Config) { c.Store = failingStore{f.store} })
	if w := serve(g.m.Require(session.CheckRevocation())(echo), bearer(tok.AccessToken)); w.Code != 503 {
		t.Fatalf("store down: %d, want 503 (fail closed)", w.Code)
	}
}

func TestAutoRefresh(t *testing.T) {
	f := newFixture(t)
	tok := f.start(t, user, mfa.AAL2)
	rec := httptest.NewRecorder()
	f.m.SetCookies(rec, tok)
	cookies := rec.Result().Cookies()
	if len(cookies) != 2 {
		t.Fatalf("cookies %v", cookies)
	}
	for _, c := range cookies {
		if !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || !strings.HasPrefix(c.Name, "__Host-") {
			t.Errorf("cookie %s: %+v", c.Name, c)
		}
	}
	f.clk.Add(6 * time.Minute) // access expired, session idle for 6 minutes
	r := bearer("")
	for _, c := range cookies {
		r.AddCookie(c)
	}
	h := f.m.Require(session.AutoRefresh())(echo)
	w := serve(h, r)
	if w.Code != 200 {
		t.Fatalf("auto refresh: %d %s", w.Code, w.Body)
	}
	if len(w.Result().Cookies()) != 2 {
		t.Errorf("new cookies expected, got %v", w.Result().Cookies())
	}
	// The same (now retired) refresh cookie again is reuse: refused, and
	// the cookies are cleared.
	w = serve(h, r)
	if w.Code != 401 || !strings.Contains(w.Header().Get("WWW-Authenticate"), "invalid_token") {
		t.Fatalf("replayed refresh cookie: %d %s", w.Code, w.Header())
	}
	for _, c := range w.Result().Cookies() {
		if c.MaxAge >= 0 {
			t.Errorf("cookie %s not cleared", c.Name)
		}
	}
}

// A handler behind AutoRefresh that passes the refresh token on (a
// step-up) gets the token just issued, not the rotated-away cookie.
func TestAutoRefreshHandsOnNewToken(t *testing.T) {
	f := newFixture(t)
	tok := f.start(t, user, mfa.AAL2)
	rec := httptest.NewRecorder()
	f.m.SetCookies(rec, tok)
	f.clk.Add(6 * time.Minute)
	r := bearer("")
	for _, c := range rec.Result().Cookies() {
		r.AddCookie(c)
	}
	var seen, access string
	h := f.m.Require(session.AutoRefresh())(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen, access = f.m.RefreshToken(r), f.m.AccessToken(r)
	}))
	w := serve(h, r)
	if w.Code != 200 || seen == "" || seen == tok.RefreshToken {
		t.Fatalf("code %d; handler saw the old token: %v", w.Code, seen == tok.RefreshToken)
	}
	var set int
	for _, c := range w.Result().Cookies() {
		if c.Value == seen || c.Value == access {
			set++
		}
	}
	if set != 2 || access == tok.AccessToken {
		t.Fatal("the tokens the handler saw are not the ones set in the cookies")
	}
	if _, err := f.m.Refresh(context.Background(), seen); err != nil {
		t.Fatalf("the handed-on token does not refresh: %v", err)
	}
}

func TestOnDenied(t *testing.T) {
	f := newFixture(t)
	tok := f.start(t, user, mfa.AAL2)
	var got *session.Denial
	h := f.m.Require(session.MinAAL(mfa.AAL3), session.OnDenied(func(w http.ResponseWriter, r *http.Request, d *session.Denial) {
		got = d
		http.Redirect(w, r, "/step-up", http.StatusSeeOther)
	}))(echo)
	w := serve(h, bearer(tok.AccessToken))
	if w.Code != http.StatusSeeOther || got == nil || got.Code != session.CodeInsufficientUserAuth || got.Claims == nil || got.Claims.Subject != user {
		t.Fatalf("code %d denial %+v", w.Code, got)
	}
}

func TestRequirePanicsOnBadOption(t *testing.T) {
	f := newFixture(t)
	defer func() {
		if recover() == nil {
			t.Error("MinAAL(4) must panic at setup")
		}
	}()
	f.m.Require(session.MinAAL(4))
}

func TestInsecureCookies(t *testing.T) {
	f := newFixture(t, func(c *session.Config) { c.InsecureCookies = true })
	w := httptest.NewRecorder()
	f.m.SetCookies(w, f.start(t, user, mfa.AAL2))
	for _, c := range w.Result().Cookies() {
		if c.Secure || strings.HasPrefix(c.Name, "__Host-") || !c.HttpOnly {
			t.Errorf("cookie %+v", c)
		}
	}
}

func TestPendingAndDeviceCookies(t *testing.T) {
	f := newFixture(t)
	tok, pc, err := f.m.IssuePending(ctx, user, []mfa.FactorInfo{{ID: "f1", Kind: mfa.KindTOTP, Active: true}})
	if err != nil {
		t.Fatal(err)
	}
	dev, err := f.m.Remember(ctx, user, "Laptop", 0)
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	f.m.SetPendingCookie(w, tok, pc)
	f.m.SetDeviceCookie(w, dev, 0)
	r := httptest.NewRequest(http.MethodPost, "/mfa", nil)
	for _, c := range w.Result().Cookies() {
		r.AddCookie(c)
	}
	got, err := f.m.Pending(r)
	if err != nil || got.Subject != user {
		t.Fatalf("Pending = %+v, %v", got, err)
	}
	if err := f.m.CheckDevice(ctx, user, f.m.DeviceToken(r)); err != nil {
		t.Fatalf("device cookie: %v", err)
	}
	if _, err := f.m.Pending(httptest.NewRequest(http.MethodPost, "/mfa", nil)); err == nil {
		t.Error("no pending cookie must be an error")
	}
}

func TestRefreshHandler(t *testing.T) {
	f := newFixture(t)
	tok := f.start(t, user, mfa.AAL2)
	form := func(rt string) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/token", strings.NewReader(url.Values{"refresh_token": {rt}}.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return r
	}
	w := serve(f.m.RefreshHandler(), form(tok.RefreshToken))
	var got session.Tokens
	if w.Code != 200 || json.Unmarshal(w.Body.Bytes(), &got) != nil || got.AccessToken == "" || got.RefreshToken == "" || got.TokenType != "Bearer" {
		t.Fatalf("form refresh: %d %s", w.Code, w.Body)
	}
	if w := serve(f.m.RefreshHandler(), form(tok.RefreshToken)); w.Code != 400 || !strings.Contains(w.Body.String(), "invalid_grant") {
		t.Fatalf("reused: %d %s", w.Code, w.Body)
	}
	if w := serve(f.m.RefreshHandler(), httptest.NewRequest(http.MethodGet, "/token", nil)); w.Code != 405 {
		t.Fatalf("GET: %d", w.Code)
	}
	// Cookie form: 204 and new cookies.
	tok = f.start(t, user, mfa.AAL2)
	rec := httptest.NewRecorder()
	f.m.SetCookies(rec, tok)
	r := httptest.NewRequest(http.MethodPost, "/refresh", nil)
	for _, c := range rec.Result().Cookies() {
		r.AddCookie(c)
	}
	if w := serve(f.m.RefreshHandler(), r); w.Code != 204 || len(w.Result().Cookies()) != 2 {
		t.Fatalf("cookie refresh: %d %v", w.Code, w.Result().Cookies())
	}
}

func TestSignOut(t *testing.T) {
	f := newFixture(t)
	tok := f.start(t, user, mfa.AAL2)
	rec := httptest.NewRecorder()
	f.m.SetCookies(rec, tok)
	r := httptest.NewRequest(http.MethodPost, "/signout", nil)
	for _, c := range rec.Result().Cookies() {
		r.AddCookie(c)
	}
	w := httptest.NewRecorder()
	if err := f.m.SignOut(w, r); err != nil {
		t.Fatal(err)
	}
	if cs := w.Result().Cookies(); len(cs) != 3 || cs[0].MaxAge >= 0 {
		t.Errorf("cookies not cleared: %v", cs)
	}
	if _, err := f.m.Refresh(ctx, tok.RefreshToken); err == nil {
		t.Error("session survived sign-out")
	}
	// With only verified claims in the context (Bearer API).
	tok = f.start(t, user, mfa.AAL2)
	r = httptest.NewRequest(http.MethodPost, "/signout", nil).WithContext(session.WithClaims(ctx, tok.Claims))
	if err := f.m.SignOut(httptest.NewRecorder(), r); err != nil {
		t.Fatal(err)
	}
	if _, err := f.m.Refresh(ctx, tok.RefreshToken); err == nil {
		t.Error("session survived sign-out by claims")
	}
}
