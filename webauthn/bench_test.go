package webauthn_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	gowebauthn "github.com/go-webauthn/webauthn/webauthn"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/internal/testkit"
	"github.com/mfakit/mfa/store/memstore"
	"github.com/mfakit/mfa/webauthn"
)

// What is compared, per iteration, is the cost of accepting one ES256
// assertion:
//
//   - BenchmarkVerifierVerifyWebAuthn runs the whole Verifier path on
//     memstore: Challenge (draw the challenge, build the options, store it)
//     and Verify (count the attempt and load the factor, take the challenge,
//     parse the JSON, verify it with go-webauthn, compare-and-set the
//     counter, emit events). The challenge is part of the loop because it is
//     single use: every sign-in pays for one.
//   - BenchmarkGoWebAuthnValidateLogin is what an application using
//     go-webauthn alone pays for the same assertion: parse the same JSON
//     (protocol.ParseCredentialRequestResponseBytes, which FinishLogin does
//     too) and ValidateLogin. Its session is made once outside the timer, as
//     such an application keeps it in its own session store.
//
// Both verify the same bytes. The Verifier's random source returns zeros,
// so every challenge it issues is the same and one pre-signed assertion
// (from a key that does not count signatures) answers each of them; signing
// is outside both timers, since a server never signs.
func BenchmarkVerifierVerifyWebAuthn(b *testing.B) {
	ctx := context.Background()
	key := testkit.NewAuthenticator(origin, testkit.FlagUV)
	v, fid, response := benchVerifier(b, key)
	b.ReportAllocs()
	for b.Loop() {
		ch, err := v.Challenge(ctx, mfa.ChallengeRequest{UserID: "alice", FactorID: fid, Binding: "pending"})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := v.Verify(ctx, mfa.VerifyRequest{UserID: "alice", FactorID: fid, ChallengeID: ch.ID, Binding: "pending", Response: response}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGoWebAuthnValidateLogin(b *testing.B) {
	key := testkit.NewAuthenticator(origin, testkit.FlagUV)
	_, _, response := benchVerifier(b, key)
	wa, err := gowebauthn.New(&gowebauthn.Config{RPID: rpID, RPDisplayName: "Example", RPOrigins: []string{origin}})
	if err != nil {
		b.Fatal(err)
	}
	user := &benchUser{handle: key.Handle, creds: []gowebauthn.Credential{{
		ID: key.ID, PublicKey: key.COSEKey(), AttestationType: "none", AttestationFormat: "none",
		Flags: gowebauthn.NewCredentialFlags(protocol.FlagUserPresent | protocol.FlagUserVerified),
	}}}
	_, session, err := wa.BeginLogin(user, gowebauthn.WithChallenge(make([]byte, 32)))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		parsed, err := protocol.ParseCredentialRequestResponseBytes([]byte(response))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := wa.ValidateLogin(user, *session, parsed); err != nil {
			b.Fatal(err)
		}
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// benchVerifier registers key for alice on a Verifier whose challenges are
// all the same, and returns an assertion that answers any of them.
func benchVerifier(b *testing.B, key *testkit.Authenticator) (*mfa.Verifier, string, string) {
	b.Helper()
	ctx := context.Background()
	f, err := webauthn.New(webauthn.Config{RPID: rpID, RPDisplayName: "Example", Origins: []string{origin}})
	if err != nil {
		b.Fatal(err)
	}
	kr, err := mfa.NewKeyring(mfa.Key{ID: "k1", Secret: bytes.Repeat([]byte{1}, 32)})
	if err != nil {
		b.Fatal(err)
	}
	now := time.Date(2026, 3, 4, 5, 6, 0, 0, time.UTC)
	v, err := mfa.New(mfa.Config{
		Store: memstore.New(), Factors: []mfa.Factor{f}, Sealer: kr, HashKey: hashKey,
		Now: func() time.Time { return now }, Rand: zeros{},
		Hooks: []mfa.Hook{func(context.Context, mfa.Event) error { return nil }},
	})
	if err != nil {
		b.Fatal(err)
	}
	en, err := v.BeginEnrollment(ctx, mfa.EnrollRequest{UserID: "alice", Kind: mfa.KindWebAuthn, Account: "alice"})
	if err != nil {
		b.Fatal(err)
	}
	res, err := v.ConfirmEnrollment(ctx, mfa.ConfirmRequest{UserID: "alice", ChallengeID: en.ChallengeID, Response: key.Create(en.Show.(*protocol.CredentialCreation))})
	if err != nil {
		b.Fatal(err)
	}
	ch, err := v.Challenge(ctx, mfa.ChallengeRequest{UserID: "alice", FactorID: res.FactorID, Binding: "pending"})
	if err != nil {
		b.Fatal(err)
	}
	response := key.Get(ch.Show.(*protocol.CredentialAssertion))
	if _, err := v.Verify(ctx, mfa.VerifyRequest{UserID: "alice", FactorID: res.FactorID, ChallengeID: ch.ID, Binding: "pending", Response: response}); err != nil {
		b.Fatal(err)
	}
	return v, res.FactorID, response
}

type benchUser struct {
	handle []byte
	creds  []gowebauthn.Credential
}

func (u *benchUser) WebAuthnID() []byte                           { return u.handle }
func (u *benchUser) WebAuthnName() string                         { return "alice" }
func (u *benchUser) WebAuthnDisplayName() string                  { return "alice" }
func (u *benchUser) WebAuthnCredentials() []gowebauthn.Credential { return u.creds }
