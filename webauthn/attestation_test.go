package webauthn_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/internal/testkit"
	"github.com/mfakit/mfa/store"
	"github.com/mfakit/mfa/webauthn"
)

// otherCA is a vendor the tests' relying party does not trust.
var otherCA = testkit.NewAttestationCA("mfa other vendor")

// keyKinds are the attestations a security key with a PIN may give, in an
// environment that trusts vendorCA, with what each must reach.
var keyKinds = []struct {
	name      string
	make      func() *testkit.Authenticator
	tweak     []testkit.Tweak
	trusted   bool
	attType   string // Credential.AttestationType
	format    string
	invalid   bool
	amr0      string
	aal       mfa.AAL
	whyOnFail string // what a refusal under RequireTrustedAttestation says
}{
	{name: "packed from a configured root", trusted: true, attType: "basic_full", format: "packed", amr0: "hwk", aal: mfa.AAL3,
		make: func() *testkit.Authenticator {
			return testkit.NewAuthenticator(origin, testkit.FlagUV).Attested(vendorCA)
		}},
	{name: "packed from an unconfigured root", attType: "basic_full", format: "packed", amr0: "pop", aal: mfa.AAL2,
		whyOnFail: "certificate signed by unknown authority",
		make: func() *testkit.Authenticator {
			return testkit.NewAuthenticator(origin, testkit.FlagUV).Attested(otherCA)
		}},
	{name: "self attestation", attType: "basic_surrogate", format: "packed", amr0: "pop", aal: mfa.AAL2,
		whyOnFail: "no certificate chain",
		make: func() *testkit.Authenticator {
			a := testkit.NewAuthenticator(origin, testkit.FlagUV)
			a.Statement = testkit.StatementSelf
			return a
		}},
	{name: "none (a virtual authenticator)", attType: "none", format: "none", amr0: "pop", aal: mfa.AAL2,
		whyOnFail: "sent no attestation",
		make:      func() *testkit.Authenticator { return testkit.NewAuthenticator(origin, testkit.FlagUV) }},
	{name: "packed statement that does not verify", attType: "none", format: "packed", invalid: true, amr0: "pop", aal: mfa.AAL2,
		tweak:     []testkit.Tweak{testkit.TamperSignature()},
		whyOnFail: "did not verify",
		make: func() *testkit.Authenticator {
			return testkit.NewAuthenticator(origin, testkit.FlagUV).Attested(vendorCA)
		}},
}

// TestAttestationDecidesAAL3: the trust decision is made at registration,
// recorded in the credential, and applied at every sign-in.
func TestAttestationDecidesAAL3(t *testing.T) {
	for _, tc := range keyKinds {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, trusted)
			a := tc.make()
			id, cc := e.beginRegistration(t, "alice")
			reg, err := e.v.ConfirmEnrollment(context.Background(), mfa.ConfirmRequest{
				UserID: "alice", ChallengeID: id, Response: a.Create(cc, tc.tweak...), Name: "Key",
			})
			if err != nil {
				t.Fatal(err)
			}
			want := []string{tc.amr0, "user"}
			if !slices.Equal(reg.AMR, want) || reg.AAL != tc.aal {
				t.Fatalf("registration: amr %v AAL %d, want %v %d", reg.AMR, reg.AAL, want, tc.aal)
			}
			c := e.credential(t, "alice", reg.FactorID)
			if c.AttestationTrusted != tc.trusted || c.AttestationType != tc.attType || c.AttestationFormat != tc.format ||
				c.AttestationInvalid != tc.invalid || string(c.AAGUID) != "mfa-test-authnr!" {
				t.Fatalf("credential %+v", c)
			}
			if lvl, why := c.Level(); lvl != tc.aal || (tc.aal == mfa.AAL2 && !strings.Contains(why, "no attestation that chains to a configured trust anchor")) {
				t.Fatalf("Level() = %d, %q", lvl, why)
			}
			for i := range 2 {
				chID, opts := e.challenge(t, "alice", "", "p")
				res, err := e.verify("alice", chID, "p", a.Get(opts))
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(res.AMR, want) || res.AAL != tc.aal {
					t.Fatalf("sign-in %d: amr %v AAL %d, want %v %d", i+1, res.AMR, res.AAL, want, tc.aal)
				}
			}
		})
	}
}

// TestRequireTrustedAttestation: with the requirement set, only the key
// attested by a configured root is registered; the others are refused with
// ErrAttestationUntrusted, and nothing is stored.
func TestRequireTrustedAttestation(t *testing.T) {
	for _, tc := range keyKinds {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, trusted, options{factor: func(c *webauthn.Config) { c.RequireTrustedAttestation = true }})
			a := tc.make()
			id, cc := e.beginRegistration(t, "alice")
			res, err := e.v.ConfirmEnrollment(context.Background(), mfa.ConfirmRequest{
				UserID: "alice", ChallengeID: id, Response: a.Create(cc, tc.tweak...), Name: "Key",
			})
			if tc.trusted {
				if err != nil || res.AAL != mfa.AAL3 {
					t.Fatalf("trusted key: %+v, %v", res, err)
				}
				return
			}
			if !errors.Is(err, webauthn.ErrAttestationUntrusted) || !errors.Is(err, mfa.ErrWrongCode) || !strings.Contains(err.Error(), tc.whyOnFail) {
				t.Fatalf("err = %v, want ErrAttestationUntrusted saying %q", err, tc.whyOnFail)
			}
			if list, err := e.st.ListFactors(context.Background(), "alice"); err != nil || len(list) != 0 {
				t.Fatalf("factors after a refusal: %+v, %v", list, err)
			}
		})
	}
}

// Without roots configured, even a key with a valid packed attestation
// reaches AAL2: there is nothing to chain it to.
func TestNoRootsNoAAL3(t *testing.T) {
	e := newEnv(t, options{factor: func(c *webauthn.Config) { c.Attestation = webauthn.AttestationDirect }})
	a := testkit.NewAuthenticator(origin, testkit.FlagUV).Attested(vendorCA)
	reg := e.confirm(t, "alice", a)
	if !slices.Equal(reg.AMR, []string{"pop", "user"}) || reg.AAL != mfa.AAL2 {
		t.Fatalf("registration %+v", reg)
	}
	if c := e.credential(t, "alice", reg.FactorID); c.AttestationTrusted || c.AttestationType != "basic_full" {
		t.Fatalf("credential %+v", c)
	}
}

// oldRecord is a credential record as the encoder before attestation trust
// wrote it (commit 13dadc6), for a key with a PIN that sent a packed
// statement. Such records must decode, and as not attested.
const oldRecord = "0134116f6c642d63726564656e7469616c2d696405a501020326206f6c642d757365722d68616e646c652d3031323334353637383961626364656610000000000000000000000000000000000a62617369635f66756c6c067061636b65640e63726f73732d706c6174666f726d0103757362"

func TestOldRecordIsNotAttested(t *testing.T) {
	data, _ := hex.DecodeString(oldRecord)
	c, err := webauthn.CredentialOf(store.Factor{Kind: string(mfa.KindWebAuthn), Data: data})
	if err != nil {
		t.Fatal(err)
	}
	if c.AttestationTrusted || c.AttestationInvalid || !c.UserVerified || c.AttestationFormat != "packed" || string(c.ID) != "old-credential-id" {
		t.Fatalf("old record read as %+v", c)
	}
	if lvl, _ := c.Level(); lvl != mfa.AAL2 {
		t.Fatalf("old record's level %d", lvl)
	}

	// End to end: an attested key's record rewritten as the old encoder
	// would have written it (the trust bit did not exist) signs in at AAL2.
	e := newEnv(t, trusted)
	a := testkit.NewAuthenticator(origin, testkit.FlagUV).Attested(vendorCA)
	fid := e.register(t, "alice", a)
	f := e.factor(t, "alice", fid)
	f.Data = bytes.Clone(f.Data)
	f.Data[1] &^= 1 << 6
	if err := e.st.UpdateFactor(context.Background(), f); err != nil {
		t.Fatal(err)
	}
	chID, opts := e.challenge(t, "alice", fid, "p")
	res, err := e.verify("alice", chID, "p", a.Get(opts))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.AMR, []string{"pop", "user"}) || res.AAL != mfa.AAL2 {
		t.Fatalf("old record's sign-in: %+v", res)
	}
}

func TestRootsFromPEM(t *testing.T) {
	pool, err := webauthn.RootsFromPEM(append(vendorCA.RootPEM(), otherCA.RootPEM()...))
	if err != nil {
		t.Fatal(err)
	}
	if !pool.Equal(func() *x509.CertPool { p := vendorCA.Pool(); p.AddCert(otherCA.Root); return p }()) {
		t.Fatal("pool does not hold both roots")
	}
	for name, in := range map[string][]byte{
		"empty":       nil,
		"not PEM":     []byte("hello"),
		"private key": []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"),
		"bad DER":     []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
	} {
		if _, err := webauthn.RootsFromPEM(in); !errors.Is(err, mfa.ErrConfig) {
			t.Errorf("%s: err = %v, want ErrConfig", name, err)
		}
	}
}
