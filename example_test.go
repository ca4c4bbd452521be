package mfa_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	otptotp "github.com/pquerna/otp/totp"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/store/memstore"
	"github.com/mfakit/mfa/totp"
)

// Enrol a TOTP factor, sign in with it, and see a replay refused.
func Example() {
	ctx := context.Background()
	now := time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC)

	tf, _ := totp.New(totp.Config{Issuer: "Example"})
	// Real keys come from a secret manager, never from source code.
	keyring, _ := mfa.NewKeyring(mfa.Key{ID: "2026-01", Secret: bytes.Repeat([]byte{1}, 32)})
	v, err := mfa.New(mfa.Config{
		Store:   memstore.New(),
		Factors: []mfa.Factor{tf},
		Sealer:  keyring,
		HashKey: bytes.Repeat([]byte{2}, 32),
		Now:     func() time.Time { return now },
	})
	if err != nil {
		panic(err)
	}

	en, _ := v.BeginEnrollment(ctx, mfa.EnrollRequest{UserID: "alice", Kind: mfa.KindTOTP, Account: "alice@example.com"})
	setup, _ := mfa.ShowAs[*totp.Setup](en.Show) // show setup.URI as a QR code, once
	code, _ := otptotp.GenerateCode(setup.Secret, now)
	_, err = v.ConfirmEnrollment(ctx, mfa.ConfirmRequest{UserID: "alice", FactorID: en.FactorID, Response: code})
	fmt.Println("enrolled:", err == nil)

	now = now.Add(30 * time.Second)
	code, _ = otptotp.GenerateCode(setup.Secret, now)
	res, err := v.Verify(ctx, mfa.VerifyRequest{UserID: "alice", FactorID: en.FactorID, Response: code, IP: "192.0.2.1"})
	if err != nil {
		panic(err)
	}
	fmt.Println(res.Kind, res.AMR, "AAL", res.AAL)

	_, err = v.Verify(ctx, mfa.VerifyRequest{UserID: "alice", FactorID: en.FactorID, Response: code})
	fmt.Println(errors.Is(err, mfa.ErrReplayed))
	// Output:
	// enrolled: true
	// totp [otp] AAL 2
	// true
}
