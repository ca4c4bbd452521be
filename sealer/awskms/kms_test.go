package awskms_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/internal/testkit"
	"github.com/mfakit/mfa/sealer/awskms"
	"github.com/mfakit/mfa/store/memstore"
	"github.com/mfakit/mfa/totp"
)

// Against local-kms: data keys made by KMS seal and open secrets; a
// ciphertext under an older data key opens and is reported stale; a
// wrong KMS key or a data key listed under another ID fails New.
func TestLocalKMS(t *testing.T) {
	ctx := context.Background()
	c := localKMS(t)
	cmk, other := newKMSKey(t, c), newKMSKey(t, c)
	k1, err := awskms.NewDataKey(ctx, c, cmk, "k1")
	if err != nil {
		t.Fatal(err)
	}
	k2, err := awskms.NewDataKey(ctx, c, cmk, "k2")
	if err != nil {
		t.Fatal(err)
	}
	old, err := awskms.New(ctx, awskms.Config{Client: c, KMSKeyID: cmk, Keys: []awskms.DataKey{k1}})
	if err != nil {
		t.Fatal(err)
	}
	ad := []byte("user/factor")
	ct, err := old.Seal(ctx, []byte("seed"), ad)
	if err != nil {
		t.Fatal(err)
	}
	rotated, err := awskms.New(ctx, awskms.Config{Client: c, KMSKeyID: cmk, Keys: []awskms.DataKey{k2, k1}})
	if err != nil {
		t.Fatal(err)
	}
	pt, stale, err := rotated.Open(ctx, ct, ad)
	if err != nil || !stale || string(pt) != "seed" {
		t.Fatalf("Open of an old-key ciphertext = %q, %v, %v", pt, stale, err)
	}
	if _, _, err := rotated.Open(ctx, ct, []byte("other/factor")); err == nil {
		t.Fatal("a ciphertext opened under other associated data")
	}

	for _, tc := range []struct {
		name string
		cfg  awskms.Config
	}{
		{"wrong KMS key", awskms.Config{Client: c, KMSKeyID: other, Keys: []awskms.DataKey{k1}}},
		{"data key under another ID", awskms.Config{Client: c, Keys: []awskms.DataKey{{ID: "k2", Wrapped: k1.Wrapped}}}},
		{"corrupt wrapped key", awskms.Config{Client: c, Keys: []awskms.DataKey{{ID: "k1", Wrapped: bytes.Repeat([]byte{1}, 100)}}}},
		{"one bad key of two", awskms.Config{Client: c, Keys: []awskms.DataKey{k2, {ID: "k1", Wrapped: k2.Wrapped}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := awskms.New(ctx, tc.cfg); !errors.Is(err, awskms.ErrUnwrap) || !errors.Is(err, mfa.ErrSealed) {
				t.Fatalf("New = %v, want ErrUnwrap", err)
			}
		})
	}
}

// Verifications make no KMS call: New unwraps each data key once, and
// enrolment, confirmation and any number of verifications afterwards use
// the keys in memory. The count is reported in BENCHMARKS.md.
func TestLocalKMSCallsPerVerification(t *testing.T) {
	ctx := context.Background()
	c := localKMS(t)
	cmk := newKMSKey(t, c)
	k1, err := awskms.NewDataKey(ctx, c, cmk, "k1")
	if err != nil {
		t.Fatal(err)
	}
	k0, err := awskms.NewDataKey(ctx, c, cmk, "k0")
	if err != nil {
		t.Fatal(err)
	}
	cc := &counted{Client: c}
	clk := testkit.NewClock(testkit.T0)
	s, err := awskms.New(ctx, awskms.Config{Client: cc, KMSKeyID: cmk, Keys: []awskms.DataKey{k1, k0}, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	if n := cc.calls.Load(); n != 2 {
		t.Fatalf("New made %d KMS calls, want one per data key (2)", n)
	}
	tf, err := totp.New(totp.Config{Issuer: "x"})
	if err != nil {
		t.Fatal(err)
	}
	v, err := mfa.New(mfa.Config{Store: memstore.New(), Factors: []mfa.Factor{tf}, Sealer: s,
		HashKey: bytes.Repeat([]byte{1}, 32), Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	en, err := v.BeginEnrollment(ctx, mfa.EnrollRequest{UserID: "alice", Kind: mfa.KindTOTP})
	if err != nil {
		t.Fatal(err)
	}
	secret := en.Show.(*totp.Setup).Secret
	if _, err := v.ConfirmEnrollment(ctx, mfa.ConfirmRequest{UserID: "alice", FactorID: en.FactorID, Response: testkit.TOTPCode(t, secret, clk.Now())}); err != nil {
		t.Fatal(err)
	}
	before := cc.calls.Load()
	const n = 20
	for range n {
		clk.Step()
		if _, err := v.Verify(ctx, mfa.VerifyRequest{UserID: "alice", FactorID: en.FactorID, Response: testkit.TOTPCode(t, secret, clk.Now())}); err != nil {
			t.Fatal(err)
		}
	}
	if got := cc.calls.Load() - before; got != 0 {
		t.Fatalf("%d verifications made %d KMS calls, want 0", n, got)
	}
	t.Logf("KMS calls: %d at New (2 data keys), 0 in %d verifications", 2, n)
}
