package session_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"time"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/session"
	"github.com/mfakit/mfa/store/memstore"
)

// A Decider (package policy builds one from rules) refuses what no step-up
// fixes with 403, and asks for what a step-up fixes per RFC 9470.
func ExamplePolicy() {
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	key, _ := session.GenerateEd25519Key("2030-01", nil)
	keys, _ := session.NewKeySet(key)
	hasher, _ := mfa.NewHasher(make([]byte, 32))
	m, err := session.New(session.Config{
		Issuer: "https://app.example", Audience: "https://app.example",
		Store: memstore.New(), Hasher: hasher, Keys: keys, Now: func() time.Time { return now },
	})
	if err != nil {
		panic(err)
	}
	admins := []string{"alice"}
	decide := session.DeciderFunc(func(r *http.Request, c *session.AccessClaims) (session.Requirement, error) {
		if !slices.Contains(admins, c.Subject) {
			return session.Requirement{}, session.ErrForbidden
		}
		return session.Requirement{AMR: []string{"hwk", "pop"}, MaxAge: 5 * time.Minute}, nil
	})
	admin := m.Require(session.Policy(decide))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "recent alerts")
	}))
	call := func(user string, amr ...string) {
		t, _ := m.Start(context.Background(), user, &mfa.Result{UserID: user, AMR: amr, AAL: mfa.AAL2, Time: now})
		r := httptest.NewRequest("GET", "/admin/", nil)
		r.Header.Set("Authorization", "Bearer "+t.AccessToken)
		w := httptest.NewRecorder()
		admin.ServeHTTP(w, r)
		fmt.Println(strings.TrimSpace(fmt.Sprint(user, " ", amr, " ", w.Code, " ", w.Header().Get("WWW-Authenticate"))))
		fmt.Println("  ", strings.TrimSpace(w.Body.String()))
	}
	call("bob", "hwk")
	call("alice", "otp")
	call("alice", "hwk")
	// Output:
	// bob [hwk] 403
	//    {"error":"access_denied","error_description":"access denied by policy"}
	// alice [otp] 401 Bearer realm="https://app.example", error="insufficient_user_authentication", error_description="another authentication method is required", max_age=300
	//    {"error":"insufficient_user_authentication","error_description":"another authentication method is required","amr_values":["hwk","pop"]}
	// alice [hwk] 200
	//    recent alerts
}
