package webauthn_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/internal/testkit"
	"github.com/mfakit/mfa/webauthn"
)

// TestMetadataBLOB: a key is attested through an MDS3 blob (built and
// signed here by a test metadata root) when its model is listed with its
// attestation root, in good standing, with keys kept in hardware.
func TestMetadataBLOB(t *testing.T) {
	mds := testkit.NewMetadataSigner("mfa test")
	hw := []string{"hardware", "secure_element"}
	cases := []struct {
		name  string
		blob  []byte
		key   *testkit.AttestationCA
		aal   mfa.AAL
		amr0  string
		whyNo string
	}{
		{"listed model, certified", mds.BLOB(testkit.Model{CA: vendorCA, Status: "FIDO_CERTIFIED_L1", KeyProtection: hw}), vendorCA, mfa.AAL3, "hwk", ""},
		{"listed model, revoked", mds.BLOB(testkit.Model{CA: vendorCA, Status: "REVOKED", KeyProtection: hw}), vendorCA, mfa.AAL2, "pop", "REVOKED"},
		{"listed model, software keys", mds.BLOB(testkit.Model{CA: vendorCA, Status: "FIDO_CERTIFIED", KeyProtection: []string{"software"}}), vendorCA, mfa.AAL2, "pop", "does not keep its keys in hardware"},
		{"chain to another root than the model's", mds.BLOB(testkit.Model{CA: otherCA, Status: "FIDO_CERTIFIED", KeyProtection: hw}), vendorCA, mfa.AAL2, "pop", "unknown authority"},
		{"model not listed", mds.BLOB(), vendorCA, mfa.AAL2, "pop", "not in the metadata"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, require := range []bool{false, true} {
				e := newEnv(t, options{factor: func(c *webauthn.Config) {
					c.Attestation, c.MetadataBLOB, c.MetadataRoot, c.RequireTrustedAttestation = webauthn.AttestationDirect, tc.blob, mds.Root, require
				}})
				a := testkit.NewAuthenticator(origin, testkit.FlagUV).Attested(tc.key)
				id, cc := e.beginRegistration(t, "alice")
				res, err := e.v.ConfirmEnrollment(context.Background(), mfa.ConfirmRequest{UserID: "alice", ChallengeID: id, Response: a.Create(cc), Name: "Key"})
				if require && tc.aal < mfa.AAL3 {
					if !errors.Is(err, webauthn.ErrAttestationUntrusted) || !strings.Contains(err.Error(), tc.whyNo) {
						t.Fatalf("required: err = %v, want ErrAttestationUntrusted saying %q", err, tc.whyNo)
					}
					continue
				}
				if err != nil {
					t.Fatal(err)
				}
				if res.AAL != tc.aal || !slices.Equal(res.AMR, []string{tc.amr0, "user"}) {
					t.Fatalf("require %v: %+v", require, res)
				}
				if c := e.credential(t, "alice", res.FactorID); c.AttestationTrusted != (tc.aal == mfa.AAL3) {
					t.Fatalf("credential %+v", c)
				}
			}
		})
	}
}

// A blob that is not signed by a chain to the configured metadata root, or
// is no blob at all, is a configuration error: New fails rather than
// running without the trust the operator asked for.
func TestMetadataBLOBChecked(t *testing.T) {
	mds, impostor := testkit.NewMetadataSigner("mfa test"), testkit.NewMetadataSigner("impostor")
	good := mds.BLOB(testkit.Model{CA: vendorCA, Status: "FIDO_CERTIFIED", KeyProtection: []string{"hardware"}})
	tampered := []byte(string(good[:len(good)-4]) + "AAAA")
	base := webauthn.Config{RPID: rpID, Origins: []string{origin}, Attestation: webauthn.AttestationDirect, MetadataRoot: mds.Root}
	for name, blob := range map[string][]byte{
		"signed under another root": impostor.BLOB(),
		"tampered signature":        tampered,
		"not a JWT":                 []byte("hello"),
		"empty":                     {},
	} {
		cfg := base
		cfg.MetadataBLOB = blob
		if _, err := webauthn.New(cfg); !errors.Is(err, mfa.ErrConfig) {
			t.Errorf("%s: err = %v, want ErrConfig", name, err)
		}
	}
	// The default root is the FIDO Alliance's, under which a test blob
	// cannot be signed.
	cfg := base
	cfg.MetadataBLOB, cfg.MetadataRoot = good, nil
	if _, err := webauthn.New(cfg); !errors.Is(err, mfa.ErrConfig) {
		t.Errorf("test blob under the production root: err = %v", err)
	}
	cfg = base
	cfg.MetadataBLOB, cfg.Attestation = good, webauthn.AttestationNone
	if _, err := webauthn.New(cfg); !errors.Is(err, mfa.ErrConfig) {
		t.Errorf("blob with attestation none: err = %v", err)
	}
	cfg = webauthn.Config{RPID: rpID, Origins: []string{origin}, MetadataRoot: mds.Root}
	if _, err := webauthn.New(cfg); !errors.Is(err, mfa.ErrConfig) {
		t.Errorf("root without blob: err = %v", err)
	}
}
