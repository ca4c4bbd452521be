package session_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/session"
)

// BenchmarkMiddlewareVerify: one request through the middleware with a
// valid Ed25519 access token, no store check.
func BenchmarkMiddlewareVerify(b *testing.B) {
	f := newFixture(b)
	tok := f.start(b, user, mfa.AAL2).AccessToken
	h := f.m.Require()(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	r := httptest.NewRequest(http.MethodGet, "/api", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatal(w.Code)
		}
	}
}

// BenchmarkJWTParseEd25519: the bare golang-jwt parse and verify of the
// same token into the same claims type, the floor the middleware is
// measured against.
func BenchmarkJWTParseEd25519(b *testing.B) {
	f := newFixture(b)
	tok := f.start(b, user, mfa.AAL2).AccessToken
	pub := f.priv.Public()
	p := jwt.NewParser(jwt.WithValidMethods([]string{"EdDSA"}), jwt.WithTimeFunc(f.clk.Now))
	kf := func(*jwt.Token) (any, error) { return pub, nil }
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.ParseWithClaims(tok, new(session.AccessClaims), kf); err != nil {
			b.Fatal(err)
		}
	}
}
