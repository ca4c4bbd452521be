package webauthn_test

import (
	"bytes"
	"context"
	"fmt"

	"github.com/go-webauthn/webauthn/protocol"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/internal/testkit"
	"github.com/mfakit/mfa/store/memstore"
	"github.com/mfakit/mfa/webauthn"
)

// browser stands in for navigator.credentials: a software authenticator
// that answers the options with the JSON a browser posts back.
var browser = testkit.NewAuthenticator("https://example.com", testkit.FlagUV)

// A passkey is registered to a signed-in user, who later signs in with it
// without typing a username.
func Example() {
	ctx := context.Background()
	keys, err := webauthn.New(webauthn.Config{
		RPID:          "example.com",
		RPDisplayName: "Example",
		Origins:       []string{"https://example.com"},
	})
	if err != nil {
		panic(err)
	}
	keyring, _ := mfa.NewKeyring(mfa.Key{ID: "k1", Secret: bytes.Repeat([]byte{1}, 32)})
	v, err := mfa.New(mfa.Config{
		Store:   memstore.New(),
		Factors: []mfa.Factor{keys},
		Sealer:  keyring,
		HashKey: bytes.Repeat([]byte{2}, 32), // 32+ random bytes kept outside the database
	})
	if err != nil {
		panic(err)
	}

	// Registration: send en.Show to the page as JSON; it calls
	// navigator.credentials.create and posts the credential back.
	en, err := v.BeginEnrollment(ctx, mfa.EnrollRequest{UserID: "user-42", Kind: mfa.KindWebAuthn, Account: "alice@example.com"})
	if err != nil {
		panic(err)
	}
	creation, _ := mfa.ShowAs[*protocol.CredentialCreation](en.Show)
	fmt.Println("register with", creation.Response.RelyingParty.ID, "for", creation.Response.User.Name)
	if _, err := v.ConfirmEnrollment(ctx, mfa.ConfirmRequest{
		UserID: "user-42", ChallengeID: en.ChallengeID, Name: "Laptop passkey",
		Response: browser.Create(creation),
	}); err != nil {
		panic(err)
	}

	// Passkey sign-in: a challenge for no user, bound to this sign-in
	// attempt (say, a cookie's ID); the credential names the user.
	ch, err := v.Challenge(ctx, mfa.ChallengeRequest{Kind: mfa.KindWebAuthn, Binding: "attempt-7"})
	if err != nil {
		panic(err)
	}
	assertion, err := mfa.ShowAs[*protocol.CredentialAssertion](ch.Show)
	if err != nil {
		panic(err)
	}
	res, err := v.Verify(ctx, mfa.VerifyRequest{
		Kind: mfa.KindWebAuthn, ChallengeID: ch.ID, Binding: "attempt-7",
		Response: browser.Get(assertion),
	})
	if err != nil {
		panic(err)
	}
	// No attestation roots are configured, so nothing shows the key is
	// hardware: "pop", not "hwk", and AAL2 (Config.AttestationRoots).
	fmt.Println("signed in:", res.UserID, res.AMR, "AAL", res.AAL)
	// Output:
	// register with example.com for alice@example.com
	// signed in: user-42 [pop user mfa] AAL 2
}
