package main

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/internal/testkit"
	"github.com/mfakit/mfa/session"
)

// api calls a JSON route with an optional Bearer token (no cookies).
func api(t *testing.T, method, u, token string, form url.Values) (*http.Response, map[string]any) {
	t.Helper()
	var body *strings.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	} else {
		body = strings.NewReader("")
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var v map[string]any
	if strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		if err := json.NewDecoder(res.Body).Decode(&v); err != nil {
			t.Fatal(err)
		}
	}
	return res, v
}

func TestAPIWithBearerToken(t *testing.T) {
	srv, c := start(t)
	b := newBrowser(t, srv)
	signUp(t, b, c, "ivan")
	token := b.cookie(accessCookie)

	// The account page shows the token and the curl line that uses it.
	b.get("/").must(t, http.StatusOK, "Try the JSON API", "Authorization: Bearer "+token, "/api/me")

	res, me := api(t, http.MethodGet, srv.URL+"/api/me", token, nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/me with the token: %d %v", res.StatusCode, me)
	}
	if me["acr"] != session.ACRAAL2 || !strings.HasPrefix(me["sub"].(string), "u-") ||
		me["auth_time"] != float64(c.Now().Unix()) || !strings.Contains(strings.Join(anyStrings(me["amr"]), " "), "otp") {
		t.Fatalf("GET /api/me = %v", me)
	}

	// No token: 401 with a bare challenge. A bad one: invalid_token.
	res, body := api(t, http.MethodGet, srv.URL+"/api/me", "", nil)
	if res.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), `Bearer realm="http://localhost:8080"`) {
		t.Fatalf("no token: %d %q %v", res.StatusCode, res.Header.Get("WWW-Authenticate"), body)
	}
	for _, bad := range []string{testkit.FlipChar(token, strings.LastIndex(token, ".")+1), "garbage"} {
		res, _ = api(t, http.MethodGet, srv.URL+"/api/me", bad, nil)
		if res.StatusCode != http.StatusUnauthorized || !strings.Contains(res.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
			t.Fatalf("bad token: %d %q", res.StatusCode, res.Header.Get("WWW-Authenticate"))
		}
	}
	// The browser's cookie alone does not open the API.
	b.get("/api/me").must(t, http.StatusUnauthorized)

	// A pending token (password only) is not an access token.
	b2 := newBrowser(t, srv)
	b2.signIn(t, "ivan").must(t, http.StatusOK, "Enter a code")
	res, _ = api(t, http.MethodGet, srv.URL+"/api/me", b2.cookie(pendingCookie), nil)
	if res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("pending token at /api/me: %d", res.StatusCode)
	}

	// The access token lives five minutes.
	c.Add(5*time.Minute + 10*time.Second)
	res, _ = api(t, http.MethodGet, srv.URL+"/api/me", token, nil)
	if res.StatusCode != http.StatusUnauthorized || !strings.Contains(res.Header.Get("WWW-Authenticate"), "expired") {
		t.Fatalf("expired token: %d %q", res.StatusCode, res.Header.Get("WWW-Authenticate"))
	}
}

func anyStrings(v any) []string {
	var out []string
	list, _ := v.([]any)
	for _, x := range list {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

// TestStepUpChallenges: a client with a Bearer token gets RFC 9470
// answers where a browser gets the step-up page.
func TestStepUpChallenges(t *testing.T) {
	a, srv, c := startApp(t)
	b := newBrowser(t, srv)
	acc := signUp(t, b, c, "judy")

	// Too old for a change to the factors: max_age. (A refresh keeps
	// auth_time, so a valid access token can be older than freshFor.)
	c.Add(freshFor + time.Second)
	res, body := api(t, http.MethodPost, srv.URL+"/session/refresh", "", url.Values{"refresh_token": {b.cookie(refreshCookie)}})
	token, _ := body["access_token"].(string)
	if res.StatusCode != http.StatusOK || token == "" {
		t.Fatalf("refresh: %d %v", res.StatusCode, body)
	}
	b.setCookie(refreshCookie, body["refresh_token"].(string)) // the old one is retired
	res, body = api(t, http.MethodPost, srv.URL+"/factors/remove", token, url.Values{"factor_id": {acc.totpID}})
	h := res.Header.Get("WWW-Authenticate")
	if res.StatusCode != http.StatusUnauthorized || !strings.Contains(h, `error="insufficient_user_authentication"`) ||
		!strings.Contains(h, "max_age=600") || body["error"] != session.CodeInsufficientUserAuth {
		t.Fatalf("stale token at /factors/remove: %d %q %v", res.StatusCode, h, body)
	}

	// A route asking for more than AAL2: acr_values.
	strong := httptest.NewServer(a.sessions.Require(session.MinAAL(mfa.AAL3))(http.HandlerFunc(a.apiMe)))
	defer strong.Close()
	res, _ = api(t, http.MethodGet, strong.URL, token, nil)
	h = res.Header.Get("WWW-Authenticate")
	if res.StatusCode != http.StatusUnauthorized || !strings.Contains(h, `error="insufficient_user_authentication"`) ||
		!strings.Contains(h, `acr_values="`+session.ACRAAL3+`"`) {
		t.Fatalf("AAL2 token at an AAL3 route: %d %q", res.StatusCode, h)
	}
	b.get("/").must(t, http.StatusOK, acc.totpID) // nothing was removed
}

func TestSignOutRevokes(t *testing.T) {
	srv, c := start(t)
	b := newBrowser(t, srv)
	signUp(t, b, c, "kate")
	access, refresh := b.cookie(accessCookie), b.cookie(refreshCookie)
	b.signOut(t)
	if b.cookie(accessCookie) != "" || b.cookie(refreshCookie) != "" {
		t.Fatal("cookies left after sign-out")
	}

	// The old access cookie: the pages check the session (CheckRevocation).
	b.setCookie(accessCookie, access)
	b.get("/").must(t, http.StatusOK, "Create an account")
	// The old refresh token gets nothing.
	res, body := api(t, http.MethodPost, srv.URL+"/session/refresh", "", url.Values{"refresh_token": {refresh}})
	if res.StatusCode != http.StatusBadRequest || body["error"] != "invalid_grant" {
		t.Fatalf("refresh after sign-out: %d %v", res.StatusCode, body)
	}
	b.setCookie(refreshCookie, refresh)
	b.get("/").must(t, http.StatusOK, "Create an account")
	// The API is stateless: the access token works until it expires.
	if res, _ := api(t, http.MethodGet, srv.URL+"/api/me", access, nil); res.StatusCode != http.StatusOK {
		t.Fatalf("/api/me: %d", res.StatusCode)
	}
}

// TestRefreshInPlace: pages outlive the five-minute access token, and a
// step-up right after an in-place refresh presents the new refresh token,
// not the retired one (which would revoke the session as reused).
func TestRefreshInPlace(t *testing.T) {
	srv, c := start(t)
	b := newBrowser(t, srv)
	acc := signUp(t, b, c, "leo")
	first := b.cookie(refreshCookie)

	c.Add(freshFor + time.Minute)
	b.get("/").must(t, http.StatusOK, "Your account", "a change will ask for a code first")
	if b.cookie(refreshCookie) == first {
		t.Fatal("the refresh token was not rotated")
	}
	b.post("/factors/remove", url.Values{"factor_id": {acc.totpID}}).must(t, http.StatusOK, "Confirm it's you")
	c.Add(6 * time.Minute) // the access token of the step-up page expires
	b.post("/step-up", url.Values{"kind": {"backup_codes"}, "code": {acc.codes[0]}, "action": {"remove"}, "factor_id": {acc.totpID}}).
		must(t, http.StatusOK, "The factor was removed.")
	b.get("/").must(t, http.StatusOK, "Your account", "Changes within 10 minutes of it need no new code")

	// An hour without a request ends an AAL2 session (idle limit).
	c.Add(time.Hour + time.Minute)
	b.get("/").must(t, http.StatusOK, "Create an account")
}

// TestFactorChangeEndsOtherSessions: removing a factor signs out the
// user's other browsers at once.
func TestFactorChangeEndsOtherSessions(t *testing.T) {
	srv, c := start(t)
	b := newBrowser(t, srv)
	acc := signUp(t, b, c, "mallory")
	other := newBrowser(t, srv)
	c.Add(30 * time.Second)
	other.signIn(t, "mallory")
	other.post("/signin/code", url.Values{"kind": {"totp"}, "code": {testkit.TOTPCode(t, acc.secret, c.Now())}}).
		must(t, http.StatusOK, "Your account")

	b.post("/factors/remove", url.Values{"factor_id": {acc.totpID}}).must(t, http.StatusOK, "The factor was removed.")
	b.get("/").must(t, http.StatusOK, "Your account")
	other.get("/").must(t, http.StatusOK, "Create an account")
}

// TestJWKS: the keys are published, and an access token verifies
// against them with nothing but ed25519.
func TestJWKS(t *testing.T) {
	srv, c := start(t)
	b := newBrowser(t, srv)
	signUp(t, b, c, "nina")
	token := b.cookie(accessCookie)

	res, err := http.Get(srv.URL + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var set struct {
		Keys []struct{ Kty, Crv, X, Kid, Alg string }
	}
	if err := json.NewDecoder(res.Body).Decode(&set); err != nil || res.StatusCode != http.StatusOK || len(set.Keys) != 1 {
		t.Fatalf("JWKS: %d %v %+v", res.StatusCode, err, set)
	}
	k := set.Keys[0]
	if k.Kty != "OKP" || k.Crv != "Ed25519" || k.Alg != "EdDSA" {
		t.Fatalf("JWKS key: %+v", k)
	}
	pub, err := base64.RawURLEncoding.DecodeString(k.X)
	if err != nil || len(pub) != ed25519.PublicKeySize {
		t.Fatalf("JWKS x: %v", err)
	}

	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", token)
	}
	hdr, _ := base64.RawURLEncoding.DecodeString(parts[0])
	var h struct{ Alg, Kid, Typ string }
	if err := json.Unmarshal(hdr, &h); err != nil || h.Alg != "EdDSA" || h.Kid != k.Kid || h.Typ != "at+jwt" {
		t.Fatalf("token header %s (%v), JWKS kid %q", hdr, err, k.Kid)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || !ed25519.Verify(pub, []byte(parts[0]+"."+parts[1]), sig) {
		t.Fatal("the access token does not verify against the JWKS")
	}
}
