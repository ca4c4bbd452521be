package testkit_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/go-webauthn/webauthn/protocol"
	gowebauthn "github.com/go-webauthn/webauthn/webauthn"

	"github.com/mfakit/mfa/internal/testkit"
)

const origin = "https://example.com"

// user is an account as go-webauthn sees one.
type user struct {
	handle []byte
	creds  []gowebauthn.Credential
}

func (u *user) WebAuthnID() []byte                           { return u.handle }
func (u *user) WebAuthnName() string                         { return "alice" }
func (u *user) WebAuthnDisplayName() string                  { return "Alice" }
func (u *user) WebAuthnCredentials() []gowebauthn.Credential { return u.creds }

func relyingParty(t *testing.T) *gowebauthn.WebAuthn {
	t.Helper()
	wa, err := gowebauthn.New(&gowebauthn.Config{RPID: "example.com", RPDisplayName: "Example", RPOrigins: []string{origin}})
	if err != nil {
		t.Fatal(err)
	}
	return wa
}

// register has go-webauthn, independently of the code under test, check
// a's registration response and returns the credential it made.
func register(t *testing.T, wa *gowebauthn.WebAuthn, u *user, a *testkit.Authenticator, tweaks ...testkit.Tweak) (*gowebauthn.Credential, error) {
	t.Helper()
	// The authenticator reports credProps, as browsers do when asked.
	credProps := gowebauthn.WithExtensions(gowebauthn.WithExtensionCredProps())
	cc, session, err := wa.BeginRegistration(u, credProps)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes([]byte(a.Create(cc, tweaks...)))
	if err != nil {
		t.Fatalf("registration response does not parse: %v", err)
	}
	return wa.CreateCredential(u, *session, parsed)
}

// login has go-webauthn check a's assertion for u.
func login(t *testing.T, wa *gowebauthn.WebAuthn, u *user, a *testkit.Authenticator, tweaks ...testkit.Tweak) (*gowebauthn.Credential, error) {
	t.Helper()
	ca, session, err := wa.BeginLogin(u)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes([]byte(a.Get(ca, tweaks...)))
	if err != nil {
		t.Fatalf("assertion does not parse: %v", err)
	}
	return wa.ValidateLogin(u, *session, parsed)
}

func TestAuthenticatorCreate(t *testing.T) {
	wa := relyingParty(t)
	u := &user{handle: bytes.Repeat([]byte{7}, 32)}
	a := testkit.NewAuthenticator(origin, testkit.FlagUV)
	a.Count = 3
	cred, err := register(t, wa, u, a)
	if err != nil {
		t.Fatalf("registration refused: %v", err)
	}
	if !bytes.Equal(cred.ID, a.ID) || !bytes.Equal(cred.PublicKey, a.COSEKey()) {
		t.Fatalf("credential %x with key %x, want %x with %x", cred.ID, cred.PublicKey, a.ID, a.COSEKey())
	}
	if !cred.Flags.UserPresent || !cred.Flags.UserVerified || cred.Flags.BackupEligible || cred.Authenticator.SignCount != 3 {
		t.Fatalf("flags %+v, count %d; want UP and UV only, count 3", cred.Flags, cred.Authenticator.SignCount)
	}
	if string(cred.Authenticator.AAGUID) != "mfa-test-authnr!" || cred.AttestationFormat != "none" {
		t.Fatalf("AAGUID %q, attestation %q", cred.Authenticator.AAGUID, cred.AttestationFormat)
	}
	if !bytes.Equal(a.Handle, u.handle) {
		t.Fatalf("Handle = %x, want the user's %x", a.Handle, u.handle)
	}

	// Options as a page gets them, through JSON, name the user by a
	// base64url string.
	cc, _, err := wa.BeginRegistration(u)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(cc)
	if err != nil {
		t.Fatal(err)
	}
	var fromJSON protocol.CredentialCreation
	if err := json.Unmarshal(b, &fromJSON); err != nil {
		t.Fatal(err)
	}
	a.Handle = nil
	a.Create(&fromJSON)
	if !bytes.Equal(a.Handle, u.handle) {
		t.Fatalf("from JSON options: Handle = %x, want %x", a.Handle, u.handle)
	}
}

func TestAuthenticatorCreateTweaks(t *testing.T) {
	for _, tc := range []struct {
		name  string
		tweak testkit.Tweak
		text  string // in the error go-webauthn gives
	}{
		{"origin", testkit.WithOrigin("https://evil.example"), "origin"},
		{"type", testkit.WithType("webauthn.get"), "ceremony"},
		{"RP ID", testkit.WithRPID("evil.example"), "RP Hash"},
		{"challenge", testkit.WithChallenge(make([]byte, 32)), "challenge"},
		{"user presence", testkit.WithoutFlags(testkit.FlagUP), "presence"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wa := relyingParty(t)
			a := testkit.NewAuthenticator(origin, 0)
			_, err := register(t, wa, &user{handle: []byte("alice")}, a, tc.tweak)
			if err == nil || !strings.Contains(strings.ToLower(protocolDetails(err)), strings.ToLower(tc.text)) {
				t.Fatalf("err = %v (%s), want one about %s", err, protocolDetails(err), tc.text)
			}
		})
	}
}

func TestAuthenticatorGet(t *testing.T) {
	wa := relyingParty(t)
	u := &user{handle: []byte("alice")}
	a := testkit.NewAuthenticator(origin, testkit.FlagUV|testkit.FlagBE|testkit.FlagBS)
	a.Count = 5
	cred, err := register(t, wa, u, a)
	if err != nil {
		t.Fatalf("registration refused: %v", err)
	}
	u.creds = []gowebauthn.Credential{*cred}

	got, err := login(t, wa, u, a)
	if err != nil {
		t.Fatalf("assertion refused: %v", err)
	}
	if got.Authenticator.SignCount != 6 || a.Count != 6 {
		t.Fatalf("after one assertion the counter is %d (authenticator %d), want 6", got.Authenticator.SignCount, a.Count)
	}
	if !got.Flags.UserVerified || !got.Flags.BackupEligible || !got.Flags.BackupState {
		t.Fatalf("flags %+v, want UV, BE and BS", got.Flags)
	}

	for _, tc := range []struct {
		name  string
		tweak testkit.Tweak
	}{
		{"signature", testkit.TamperSignature()},
		{"authenticator data", testkit.TamperAuthData()},
		{"origin", testkit.WithOrigin("https://evil.example")},
		{"credential ID", testkit.WithCredentialID([]byte("another credential"))},
		{"user handle", testkit.WithUserHandle([]byte("bob"))},
	} {
		if _, err := login(t, wa, u, a, tc.tweak); err == nil {
			t.Errorf("%s tweaked: assertion accepted", tc.name)
		}
	}
	if _, err := login(t, wa, u, a); err != nil {
		t.Fatalf("untweaked again: %v", err)
	}
}

// TestAuthenticatorGetEncoding reads an assertion's fields as go-webauthn
// parses them: a Tweak changes only what it names.
func TestAuthenticatorGetEncoding(t *testing.T) {
	a := testkit.NewAuthenticator(origin, 0)
	a.Handle = []byte("alice")
	opts := &protocol.CredentialAssertion{Response: protocol.PublicKeyCredentialRequestOptions{
		Challenge: []byte("0123456789abcdef0123456789abcdef"), RelyingPartyID: "example.com",
	}}
	parse := func(tweaks ...testkit.Tweak) *protocol.ParsedCredentialAssertionData {
		t.Helper()
		p, err := protocol.ParseCredentialRequestResponseBytes([]byte(a.Get(opts, tweaks...)))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}

	p := parse()
	if p.Response.CollectedClientData.Origin != origin || p.Response.CollectedClientData.Type != protocol.AssertCeremony ||
		string(p.Response.UserHandle) != "alice" || !bytes.Equal(p.RawID, a.ID) ||
		p.Response.AuthenticatorData.Flags != protocol.FlagUserPresent || p.Response.AuthenticatorData.Counter != 0 || a.Count != 0 {
		t.Fatalf("untweaked: %+v, %+v", p.Response.CollectedClientData, p.Response.AuthenticatorData)
	}
	if p := parse(testkit.WithUserHandle(nil)); p.Response.UserHandle != nil {
		t.Fatalf("WithUserHandle(nil): userHandle %q", p.Response.UserHandle)
	}
	if p := parse(testkit.WithCount(9), testkit.WithFlags(testkit.FlagUV)); p.Response.AuthenticatorData.Counter != 9 ||
		p.Response.AuthenticatorData.Flags != protocol.FlagUserVerified {
		t.Fatalf("WithCount(9), WithFlags(FlagUV): %+v", p.Response.AuthenticatorData)
	}
	if p := parse(testkit.WithType("webauthn.create"), testkit.WithChallenge([]byte("other"))); p.Response.CollectedClientData.Type != protocol.CreateCeremony ||
		p.Response.CollectedClientData.Challenge != "b3RoZXI" {
		t.Fatalf("WithType, WithChallenge: %+v", p.Response.CollectedClientData)
	}
}

// protocolDetails is what a go-webauthn error says, with the
// developer-facing detail where the specific reason is.
func protocolDetails(err error) string {
	var e *protocol.Error
	if errors.As(err, &e) {
		return e.Details + ": " + e.DevInfo
	}
	if err == nil {
		return ""
	}
	return err.Error()
}
