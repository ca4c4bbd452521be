package session_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/session"
	"github.com/mfakit/mfa/store/memstore"
)

// The whole flow: a pending token after the password, a session after the
// second factor, a route that wants AAL3, and a step-up.
func Example() {
	ctx := context.Background()
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }

	key, _ := session.GenerateEd25519Key("2030-01", nil) // in production: ParseKeyPEM from a secret store
	keys, _ := session.NewKeySet(key)
	hasher, _ := mfa.NewHasher(make([]byte, 32)) // in production: the Verifier's Hasher()
	m, err := session.New(session.Config{
		Issuer: "https://app.example", Audience: "https://app.example",
		Store: memstore.New(), Hasher: hasher, Keys: keys, Now: clock,
	})
	if err != nil {
		panic(err)
	}

	// 1. The password was right: hand out a pending token.
	pending, _, _ := m.IssuePending(ctx, "alice", []mfa.FactorInfo{{ID: "t1", Kind: mfa.KindTOTP, Active: true}})
	pc, _ := m.VerifyPending(pending)
	fmt.Println("pending for", pc.Subject, "offers totp:", pc.OffersKind(mfa.KindTOTP))

	// 2. The Verifier accepted a TOTP code (Binding: pc.Binding()).
	res := &mfa.Result{UserID: "alice", FactorID: "t1", Kind: mfa.KindTOTP, AMR: []string{"otp"}, AAL: mfa.AAL2, Time: now}
	tokens, _ := m.Start(ctx, pc.Subject, res)
	fmt.Println("signed in at", tokens.Claims.ACR, tokens.Claims.AMR)

	// 3. A route that needs a hardware key asks for a step-up.
	admin := m.Require(session.MinAAL(mfa.AAL3))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := session.ClaimsFrom(r.Context())
		fmt.Fprint(w, "hello ", c.Subject)
	}))
	call := func(access string) {
		r := httptest.NewRequest("GET", "/admin", nil)
		r.Header.Set("Authorization", "Bearer "+access)
		w := httptest.NewRecorder()
		admin.ServeHTTP(w, r)
		fmt.Println(strings.TrimSpace(fmt.Sprint(w.Code, " ", w.Header().Get("WWW-Authenticate"))))
		fmt.Println(strings.TrimSpace(w.Body.String()))
	}
	call(tokens.AccessToken)

	// 4. The user passes a WebAuthn assertion: step up in place.
	res = &mfa.Result{UserID: "alice", FactorID: "w1", Kind: mfa.KindWebAuthn, AMR: []string{"hwk"}, AAL: mfa.AAL3, Time: now}
	tokens, _ = m.StepUp(ctx, tokens.RefreshToken, res)
	call(tokens.AccessToken)

	// Output:
	// pending for alice offers totp: true
	// signed in at urn:mfakit:aal2 [otp mfa]
	// 401 Bearer realm="https://app.example", error="insufficient_user_authentication", error_description="a higher assurance level is required", acr_values="urn:mfakit:aal3"
	// {"error":"insufficient_user_authentication","error_description":"a higher assurance level is required"}
	// 200
	// hello alice
}
