package session_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/session"
)

// TestPendingTokenNotForTheAPI: a verifier that has nothing but the JWKS
// and checks signature, iss, aud and exp but not typ (as API gateways' JWT
// authorizers do) must not take an MFA-pending token, issued after the
// password alone, for an access token (RFC 8725 §2.8, §3.9): the pending
// token must not name the API's audience.
func TestPendingTokenNotForTheAPI(t *testing.T) {
	f := newFixture(t)
	pending, _, err := f.m.IssuePending(context.Background(), user, []mfa.FactorInfo{{ID: "f1", Kind: mfa.KindTOTP, Active: true}})
	if err != nil {
		t.Fatal(err)
	}
	keys := jwksKeys(t, f.m.JWKSDocument())
	gateway := func(tok string) error {
		_, err := jwt.Parse(tok, func(tk *jwt.Token) (any, error) {
			k, ok := keys[fmt.Sprint(tk.Header["kid"])]
			if !ok || k.alg != tk.Method.Alg() {
				return nil, fmt.Errorf("no key for %v", tk.Header)
			}
			return k.key, nil
		}, jwt.WithValidMethods([]string{session.EdDSA}), jwt.WithAudience(audience), jwt.WithIssuer(issuer),
			jwt.WithExpirationRequired(), jwt.WithTimeFunc(f.clk.Now))
		return err
	}
	if err := gateway(f.start(t, user, mfa.AAL2).AccessToken); err != nil {
		t.Fatalf("control: the gateway refuses an access token: %v", err)
	}
	if err := gateway(pending); err == nil {
		t.Fatal("a gateway that ignores typ accepts a pending token as an access token")
	}
	if _, err := f.m.VerifyPending(pending); err != nil {
		t.Fatalf("the Manager refuses its own pending token: %v", err)
	}
}
