package session_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/session"
)

// TestNumericDates: exp, nbf, iat and auth_time are RFC 7519 NumericDates,
// JSON numbers. A token signed with the real key that carries one of them
// as a string (golang-jwt would read "1796…" as a date), null, a boolean,
// an object or an array is refused as malformed, by both token types and
// by the middleware. Numbers with a fraction or an exponent are numbers
// (RFC 7519 §2 allows non-integer values) and are accepted.
func TestNumericDates(t *testing.T) {
	f := newFixture(t)
	access := f.start(t, user, mfa.AAL2).AccessToken
	pending, _, err := f.m.IssuePending(ctx, user, []mfa.FactorInfo{{ID: "f1", Kind: mfa.KindTOTP, Active: true}})
	if err != nil {
		t.Fatal(err)
	}
	now := t0.Unix()
	kinds := []struct {
		name   string
		typ    string
		token  string
		verify func(string) error
		dates  []string // the NumericDate claims the kind requires or may carry
	}{
		{"access", "at+jwt", access, func(s string) error { _, err := f.m.VerifyAccess(s); return err }, []string{"exp", "nbf", "iat", "auth_time"}},
		{"pending", "mfa-pending+jwt", pending, func(s string) error { _, err := f.m.VerifyPending(s); return err }, []string{"exp", "nbf", "iat"}},
	}
	// good is a valid value of each claim at t0, as a JSON number.
	good := map[string]int64{"exp": now + 60, "nbf": now - 1, "iat": now - 1, "auth_time": now - 1}
	refused := []struct {
		name  string
		value func(claim string) any
	}{
		{"string", func(c string) any { return fmt.Sprint(good[c]) }},
		{"string with a fraction", func(c string) any { return fmt.Sprint(good[c]) + ".5" }},
		{"string with an exponent", func(c string) any { return "1e10" }},
		{"empty string", func(string) any { return "" }},
		{"null", func(string) any { return nil }},
		{"true", func(string) any { return true }},
		{"false", func(string) any { return false }},
		{"object", func(c string) any { return map[string]any{"n": good[c]} }},
		{"array", func(c string) any { return []any{good[c]} }},
	}
	accepted := []struct {
		name  string
		value func(claim string) any
	}{
		{"integer", func(c string) any { return good[c] }},
		{"fraction", func(c string) any { return json.Number(fmt.Sprint(good[c]) + ".5") }},
		{"exponent", func(c string) any { return json.Number(fmt.Sprintf("%.10e", float64(good[c]))) }},
	}
	mw := f.m.Require()(echo)
	for _, k := range kinds {
		hdr := map[string]any{"typ": k.typ, "kid": "k1"}
		claims := func(mod func(jwt.MapClaims)) string {
			c := jwt.MapClaims{}
			p := jwt.NewParser(jwt.WithJSONNumber())
			if _, _, err := p.ParseUnverified(k.token, c); err != nil {
				t.Fatal(err)
			}
			mod(c)
			return f.forge(t, hdr, c)
		}
		if err := k.verify(claims(func(jwt.MapClaims) {})); err != nil {
			t.Fatalf("%s: control token refused: %v", k.name, err)
		}
		for _, claim := range k.dates {
			for _, r := range refused {
				t.Run(k.name+"/"+claim+"/"+r.name, func(t *testing.T) {
					tok := claims(func(c jwt.MapClaims) { c[claim] = r.value(claim) })
					err := k.verify(tok)
					if !errors.Is(err, session.ErrMalformed) || !errors.Is(err, session.ErrInvalidToken) {
						t.Fatalf("err = %v, want ErrMalformed and ErrInvalidToken", err)
					}
					if !strings.Contains(err.Error(), claim+" is not a JSON number") {
						t.Errorf("error %q does not name the claim", err)
					}
					if k.name != "access" {
						return
					}
					w := serve(mw, bearer(tok))
					if w.Code != http.StatusUnauthorized || !strings.Contains(w.Header().Get("WWW-Authenticate"), `error="invalid_token"`) {
						t.Errorf("middleware: %d %q, want 401 invalid_token", w.Code, w.Header().Get("WWW-Authenticate"))
					}
				})
			}
			for _, a := range accepted {
				t.Run(k.name+"/"+claim+"/"+a.name, func(t *testing.T) {
					tok := claims(func(c jwt.MapClaims) { c[claim] = a.value(claim) })
					if err := k.verify(tok); err != nil {
						t.Fatalf("err = %v", err)
					}
					if k.name == "access" {
						if w := serve(mw, bearer(tok)); w.Code != http.StatusOK {
							t.Errorf("middleware: %d, want 200", w.Code)
						}
					}
				})
			}
		}
		// A fraction is read as a date, not skipped: past the 5 s leeway
		// by half a second is expired.
		t.Run(k.name+"/exp/fraction in the past", func(t *testing.T) {
			tok := claims(func(c jwt.MapClaims) { c["exp"] = json.Number(fmt.Sprint(now-6) + ".5") })
			if err := k.verify(tok); !errors.Is(err, session.ErrExpired) {
				t.Fatalf("err = %v, want ErrExpired", err)
			}
		})
		t.Run(k.name+"/exp/negative", func(t *testing.T) {
			tok := claims(func(c jwt.MapClaims) { c["exp"] = -1 })
			if err := k.verify(tok); !errors.Is(err, session.ErrExpired) {
				t.Fatalf("err = %v, want ErrExpired", err)
			}
		})
		t.Run(k.name+"/exp/out of range", func(t *testing.T) {
			tok := claims(func(c jwt.MapClaims) { c["exp"] = json.Number("1e400") })
			if err := k.verify(tok); !errors.Is(err, session.ErrMalformed) {
				t.Fatalf("err = %v, want ErrMalformed", err)
			}
		})
		// Missing: exp and iat are required of both kinds, auth_time of
		// access tokens; nbf is optional.
		for _, claim := range k.dates {
			t.Run(k.name+"/"+claim+"/missing", func(t *testing.T) {
				err := k.verify(claims(func(c jwt.MapClaims) { delete(c, claim) }))
				if claim == "nbf" {
					if err != nil {
						t.Fatalf("err = %v, nbf is optional", err)
					}
					return
				}
				if !errors.Is(err, session.ErrMalformed) || !errors.Is(err, session.ErrInvalidToken) {
					t.Fatalf("err = %v, want ErrMalformed and ErrInvalidToken", err)
				}
			})
		}
	}
}
