package session_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/session"
)

// jwksKeys parses a JWKS document by hand, as a gateway would, into
// verification keys by kid with their algorithm.
func jwksKeys(t *testing.T, doc []byte) map[string]struct {
	alg string
	key any
} {
	t.Helper()
	var set struct {
		Keys []struct {
			Kty, Crv, X, Y, Kid, Alg, Use string
		} `json:"keys"`
	}
	if err := json.Unmarshal(doc, &set); err != nil {
		t.Fatal(err)
	}
	out := map[string]struct {
		alg string
		key any
	}{}
	for _, k := range set.Keys {
		if k.Use != "sig" || k.Kid == "" {
			t.Fatalf("key %+v: want use sig and a kid", k)
		}
		x, err := base64.RawURLEncoding.DecodeString(k.X)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case k.Kty == "OKP" && k.Crv == "Ed25519" && k.Alg == "EdDSA":
			out[k.Kid] = struct {
				alg string
				key any
			}{k.Alg, ed25519.PublicKey(x)}
		case k.Kty == "EC" && k.Crv == "P-256" && k.Alg == "ES256":
			y, err := base64.RawURLEncoding.DecodeString(k.Y)
			if err != nil {
				t.Fatal(err)
			}
			pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
			if err != nil {
				t.Fatal(err)
			}
			out[k.Kid] = struct {
				alg string
				key any
			}{k.Alg, pub}
		default:
			t.Fatalf("unexpected key %+v", k)
		}
	}
	return out
}

// TestJWKSVerifiesTokens: a token issued by the package verifies with
// nothing but the JWKS document and plain golang-jwt, for each algorithm,
// across a rotation (old key still published for verification).
func TestJWKSVerifiesTokens(t *testing.T) {
	old, err := session.GenerateEd25519Key("old", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, alg := range []string{session.EdDSA, session.ES256} {
		t.Run(alg, func(t *testing.T) {
			var signing *session.Key
			if alg == session.EdDSA {
				signing, err = session.GenerateEd25519Key("new", nil)
			} else {
				signing, err = session.GenerateES256Key("new")
			}
			if err != nil {
				t.Fatal(err)
			}
			f := newFixture(t, func(c *session.Config) {
				ks, err := session.NewKeySet(signing, old)
				if err != nil {
					t.Fatal(err)
				}
				c.Keys = ks
			})
			tok := f.start(t, user, mfa.AAL2).AccessToken
			if _, err := f.m.VerifyAccess(tok); err != nil {
				t.Fatalf("the Manager refuses its own %s token: %v", alg, err)
			}

			srv := httptest.NewServer(f.m.JWKS())
			defer srv.Close()
			resp, err := http.Get(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			doc, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.Header.Get("Cache-Control") == "" || resp.Header.Get("Content-Type") != "application/json" {
				t.Errorf("headers = %v", resp.Header)
			}
			keys := jwksKeys(t, doc)
			if len(keys) != 2 {
				t.Fatalf("JWKS has %d keys, want 2: %s", len(keys), doc)
			}
			parsed, err := jwt.Parse(tok, func(tk *jwt.Token) (any, error) {
				k, ok := keys[fmt.Sprint(tk.Header["kid"])]
				if !ok || k.alg != tk.Method.Alg() {
					return nil, fmt.Errorf("no key for %v", tk.Header)
				}
				return k.key, nil
			}, jwt.WithValidMethods([]string{alg}), jwt.WithAudience(audience), jwt.WithIssuer(issuer), jwt.WithTimeFunc(f.clk.Now))
			if err != nil {
				t.Fatalf("verifying with the JWKS alone: %v", err)
			}
			if sub, _ := parsed.Claims.GetSubject(); sub != user {
				t.Errorf("sub = %q", sub)
			}
		})
	}
}

func TestJWKSMethod(t *testing.T) {
	f := newFixture(t)
	w := httptest.NewRecorder()
	f.m.JWKS().ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/.well-known/jwks.json", nil))
	if w.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST: code %d", w.Code)
	}
}
