package policy_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"time"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/geo"
	"github.com/mfakit/mfa/policy"
	"github.com/mfakit/mfa/session"
	"github.com/mfakit/mfa/store/memstore"
)

// An admin area that needs the admin role and a security key used in the
// last 5 minutes, from France or Germany; the rest of the API needs a
// valid token.
func Example() {
	// Your session manager (see package session).
	key, _ := session.GenerateEd25519Key("k1", bytes.NewReader(make([]byte, ed25519.SeedSize)))
	keys, _ := session.NewKeySet(key)
	hasher, _ := mfa.NewHasher(make([]byte, 32))
	m, err := session.New(session.Config{
		Issuer: "https://app.example", Audience: "https://api.example",
		Store: memstore.New(), Hasher: hasher, Keys: keys,
	})
	if err != nil {
		panic(err)
	}

	// Your role table and geolocation database (geo/maxmind, say).
	roles := map[string][]string{"alice": {"admin"}, "bob": {"staff"}}
	places := map[netip.Addr]geo.Place{
		netip.MustParseAddr("192.0.2.1"): {Country: "FR"},
		netip.MustParseAddr("192.0.2.2"): {Country: "US"},
	}

	pol, err := policy.New(policy.Config{
		Rules: []policy.Rule{{
			Pattern:   "/admin/",
			Roles:     []string{"admin"},
			Methods:   policy.PhishingResistant,
			MaxAge:    5 * time.Minute,
			Countries: []string{"FR", "DE"},
		}, {
			Pattern: "/",
		}},
		Roles: func(r *http.Request, c *session.AccessClaims) ([]string, error) {
			return roles[c.Subject], nil
		},
		Locator: geo.LocatorFunc(func(_ context.Context, a netip.Addr) (geo.Place, error) {
			return places[a], nil
		}),
	})
	if err != nil {
		panic(err)
	}
	api := m.Require(session.Policy(pol))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "welcome")
	}))

	// Tokens as a sign-in with a security key, or with TOTP, gives them.
	signIn := func(user string, amr ...string) string {
		t, err := m.Start(context.Background(), user, &mfa.Result{UserID: user, AMR: amr, AAL: mfa.AAL2, Time: time.Now(), Remaining: -1})
		if err != nil {
			panic(err)
		}
		return t.AccessToken
	}
	get := func(path, from, token string) {
		r := httptest.NewRequest("GET", path, nil)
		r.RemoteAddr = from + ":443"
		r.Header.Set("Authorization", "Bearer "+token)
		w := httptest.NewRecorder()
		api.ServeHTTP(w, r)
		fmt.Println(path, from, w.Code)
		if c := w.Header().Get("WWW-Authenticate"); c != "" {
			fmt.Println("  ", c)
		}
	}
	aliceKey, aliceTOTP, bobKey := signIn("alice", "pop", "user"), signIn("alice", "otp"), signIn("bob", "hwk")

	get("/admin/alerts", "192.0.2.1", aliceKey)  // admin, key, France
	get("/admin/alerts", "192.0.2.1", aliceTOTP) // asked to step up with a key
	get("/admin/alerts", "192.0.2.2", aliceKey)  // from the US
	get("/admin/alerts", "192.0.2.1", bobKey)    // not an admin
	get("/profile", "192.0.2.2", bobKey)         // the rest of the API
	// Output:
	// /admin/alerts 192.0.2.1 200
	// /admin/alerts 192.0.2.1 401
	//    Bearer realm="https://app.example", error="insufficient_user_authentication", error_description="another authentication method is required", max_age=300
	// /admin/alerts 192.0.2.2 403
	// /admin/alerts 192.0.2.1 403
	// /profile 192.0.2.2 200
}
