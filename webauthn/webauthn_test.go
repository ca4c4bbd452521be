package webauthn_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/go-webauthn/webauthn/protocol"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/internal/testkit"
	"github.com/mfakit/mfa/webauthn"
)

// TestSecondFactorSignIn runs in an environment that trusts vendorCA: only
// a key attested by it, with user verification and not synced, reaches
// AAL3 and reports "hwk"; an unattested key (as a virtual authenticator
// is) reports "pop" and reaches AAL2 at most.
func TestSecondFactorSignIn(t *testing.T) {
	cases := []struct {
		name     string
		flags    byte
		attested bool
		amr      []string
		aal      mfa.AAL
		synced   bool
	}{
		{"security key, presence only", 0, false, []string{"pop"}, mfa.AAL2, false},
		{"security key with PIN, no attestation", testkit.FlagUV, false, []string{"pop", "user"}, mfa.AAL2, false},
		{"synced passkey with biometric", testkit.FlagUV | testkit.FlagBE | testkit.FlagBS, false, []string{"pop", "user"}, mfa.AAL2, true},
		{"attested security key, presence only", 0, true, []string{"hwk"}, mfa.AAL2, false},
		{"attested security key with PIN", testkit.FlagUV, true, []string{"hwk", "user"}, mfa.AAL3, false},
		{"attested synced passkey", testkit.FlagUV | testkit.FlagBE | testkit.FlagBS, true, []string{"pop", "user"}, mfa.AAL2, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, trusted)
			a := testkit.NewAuthenticator(origin, tc.flags)
			attType := "none"
			if tc.attested {
				a.Attested(vendorCA)
				attType = "basic_full"
			}
			a.Count = 10
			reg := e.confirm(t, "alice", a)
			fid := reg.FactorID
			if !slices.Equal(reg.AMR, tc.amr) || reg.AAL != tc.aal {
				t.Fatalf("registration result = %+v", reg)
			}

			rec := e.factor(t, "alice", fid)
			cred := e.credential(t, "alice", fid)
			if rec.Lookup != webauthn.Lookup(a.ID) || rec.Counter != 10 || !bytes.Equal(cred.ID, a.ID) ||
				cred.BackupEligible != tc.synced || cred.BackupState != tc.synced || cred.SignCount != 10 ||
				!slices.Equal(cred.Transports, []string{"usb", "nfc"}) || cred.AttestationType != attType || cred.AttestationTrusted != tc.attested ||
				cred.Discoverable == nil || !*cred.Discoverable || len(cred.UserHandle) != 32 {
				t.Fatalf("stored record = %+v, credential %+v", rec, cred)
			}

			e.resetEvents()
			chID, opts := e.challenge(t, "alice", "", "pending-1")
			res, err := e.verify("alice", chID, "pending-1", a.Get(opts))
			if err != nil {
				t.Fatal(err)
			}
			if res.UserID != "alice" || res.FactorID != fid || res.Kind != mfa.KindWebAuthn ||
				!slices.Equal(res.AMR, tc.amr) || res.AAL != tc.aal {
				t.Fatalf("result = %+v", res)
			}
			if got := e.factor(t, "alice", fid).Counter; got != 11 {
				t.Fatalf("counter = %d, want 11", got)
			}
			want := []mfa.EventType{mfa.EventChallengeIssued, mfa.EventVerifySucceeded}
			if got := e.eventTypes(); !slices.Equal(got, want) {
				t.Fatalf("events = %v, want %v", got, want)
			}
		})
	}
}

func TestCreationOptions(t *testing.T) {
	e := newEnv(t)
	first := testkit.NewAuthenticator(origin, 0)
	e.register(t, "alice", first)
	_, cc := e.beginRegistration(t, "alice")
	o := cc.Response
	if len(o.Challenge) != 32 || o.RelyingParty.ID != rpID || o.RelyingParty.Name != "Example" ||
		o.User.Name != "alice@example.com" || o.Attestation != protocol.PreferNoAttestation ||
		o.AuthenticatorSelection.ResidentKey != protocol.ResidentKeyRequirementPreferred ||
		o.AuthenticatorSelection.UserVerification != protocol.VerificationPreferred ||
		o.Timeout != 300000 {
		t.Fatalf("options = %+v", o)
	}
	handle, _ := o.User.ID.(protocol.URLEncodedBase64)
	if !bytes.Equal(handle, first.Handle) {
		t.Fatalf("second registration's user handle %x differs from the first's %x", handle, first.Handle)
	}
	if len(o.CredentialExcludeList) != 1 || !bytes.Equal(o.CredentialExcludeList[0].CredentialID, first.ID) {
		t.Fatalf("excludeCredentials = %+v", o.CredentialExcludeList)
	}
	// Another user gets another handle.
	_, other := e.beginRegistration(t, "bob")
	if h, _ := other.Response.User.ID.(protocol.URLEncodedBase64); bytes.Equal(h, handle) || len(h) != 32 {
		t.Fatalf("bob's handle %x", h)
	}
}

func TestAssertionOptions(t *testing.T) {
	e := newEnv(t, options{factor: func(c *webauthn.Config) { c.UserVerification = webauthn.UserVerificationDiscouraged }})
	k1, k2 := testkit.NewAuthenticator(origin, 0), testkit.NewAuthenticator(origin, 0)
	f1 := e.register(t, "alice", k1)
	e.register(t, "alice", k2)
	e.register(t, "bob", testkit.NewAuthenticator(origin, 0))

	ids := func(o *protocol.CredentialAssertion) [][]byte {
		var out [][]byte
		for _, d := range o.Response.AllowedCredentials {
			out = append(out, d.CredentialID)
		}
		return out
	}
	_, all := e.challenge(t, "alice", "", "b")
	if got := ids(all); len(got) != 2 || !slices.ContainsFunc(got, func(b []byte) bool { return bytes.Equal(b, k1.ID) }) ||
		!slices.ContainsFunc(got, func(b []byte) bool { return bytes.Equal(b, k2.ID) }) {
		t.Fatalf("kind-only challenge allows %x", got)
	}
	if all.Response.UserVerification != protocol.VerificationDiscouraged || all.Response.RelyingPartyID != rpID || len(all.Response.Challenge) != 32 {
		t.Fatalf("options = %+v", all.Response)
	}
	_, one := e.challenge(t, "alice", f1, "b")
	if got := ids(one); len(got) != 1 || !bytes.Equal(got[0], k1.ID) {
		t.Fatalf("factor challenge allows %x", got)
	}
	_, passkey := e.challenge(t, "", "", "b")
	if len(passkey.Response.AllowedCredentials) != 0 || passkey.Response.UserVerification != protocol.VerificationRequired {
		t.Fatalf("passkey options = %+v", passkey.Response)
	}
	if _, err := e.v.Challenge(context.Background(), mfa.ChallengeRequest{UserID: "carol", Kind: mfa.KindWebAuthn}); !errors.Is(err, mfa.ErrNotFound) {
		t.Fatalf("challenge for a user without keys: %v", err)
	}
}

// TestPasskeySignIn: alice's passkey is an attested hardware key (AAL3),
// bob's is unattested, as a virtual authenticator's is (AAL2).
func TestPasskeySignIn(t *testing.T) {
	e := newEnv(t, trusted)
	a := testkit.NewAuthenticator(origin, testkit.FlagUV).Attested(vendorCA)
	fid := e.register(t, "alice", a)
	b := testkit.NewAuthenticator(origin, testkit.FlagUV)
	e.register(t, "bob", b)

	chID, opts := e.challenge(t, "", "", "login-1")
	res, err := e.verify("", chID, "login-1", a.Get(opts))
	if err != nil {
		t.Fatal(err)
	}
	if res.UserID != "alice" || res.FactorID != fid || !slices.Equal(res.AMR, []string{"hwk", "user", "mfa"}) || res.AAL != mfa.AAL3 {
		t.Fatalf("result = %+v", res)
	}
	chID, opts = e.challenge(t, "", "", "login-1")
	if res, err = e.verify("", chID, "login-1", b.Get(opts)); err != nil {
		t.Fatal(err)
	}
	if res.UserID != "bob" || !slices.Equal(res.AMR, []string{"pop", "user", "mfa"}) || res.AAL != mfa.AAL2 {
		t.Fatalf("unattested passkey: result = %+v", res)
	}

	bad := []struct {
		name  string
		tweak testkit.Tweak
		want  error
		text  string
	}{
		{"no user verification", testkit.WithoutFlags(testkit.FlagUV), mfa.ErrWrongCode, "User verification required"},
		{"no user handle", testkit.WithUserHandle(nil), mfa.ErrWrongCode, "blank User Handle"},
		{"another user's handle", testkit.WithUserHandle(bytes.Repeat([]byte{9}, 32)), mfa.ErrWrongCode, "not the credential's user"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			before := e.factor(t, "alice", fid)
			chID, opts := e.challenge(t, "", "", "login-2")
			_, err := e.verify("", chID, "login-2", a.Get(opts, tc.tweak))
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.text) {
				t.Fatalf("err = %v, want %v mentioning %q", err, tc.want, tc.text)
			}
			if after := e.factor(t, "alice", fid); !sameFactor(before, after) {
				t.Fatalf("stored credential changed: %+v -> %+v", before, after)
			}
		})
	}
}
