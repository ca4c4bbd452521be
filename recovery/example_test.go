package recovery_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	otptotp "github.com/pquerna/otp/totp"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/recovery"
	"github.com/mfakit/mfa/store/memstore"
	"github.com/mfakit/mfa/totp"
)

// Alice lost her authenticator app: a case, an operator's approval, the
// waiting period, one redemption, a new factor.
func Example() {
	ctx := context.Background()
	now := time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	st := memstore.New()
	tf, _ := totp.New(totp.Config{Issuer: "Example"})
	keyring, _ := mfa.NewKeyring(mfa.Key{ID: "2026-01", Secret: bytes.Repeat([]byte{1}, 32)})
	v, _ := mfa.New(mfa.Config{Store: st, Factors: []mfa.Factor{tf}, Sealer: keyring, HashKey: bytes.Repeat([]byte{2}, 32), Now: clock})

	// Alice's factor, before she lost it.
	en, _ := v.BeginEnrollment(ctx, mfa.EnrollRequest{UserID: "alice", Kind: mfa.KindTOTP})
	setup, _ := mfa.ShowAs[*totp.Setup](en.Show)
	code, _ := otptotp.GenerateCode(setup.Secret, now)
	_, _ = v.ConfirmEnrollment(ctx, mfa.ConfirmRequest{UserID: "alice", FactorID: en.FactorID, Response: code})

	m, err := recovery.New(recovery.Config{
		Store: st, Verifier: v, Now: clock,
		Notify: func(_ context.Context, e recovery.Event) error {
			fmt.Println("notice to alice:", e.Type) // every channel on file
			return nil
		},
	})
	if err != nil {
		panic(err)
	}

	// After the application's own checks (password, emailed link):
	now = now.Add(time.Hour)
	o, _ := m.Open(ctx, recovery.OpenRequest{UserID: "alice", Reason: "phone lost", Validator: "password+email-link",
		Source: recovery.Source{IP: "192.0.2.7"}})
	c, _ := m.Approve(ctx, recovery.Decision{CaseID: o.Case.ID, Operator: "bob", Note: "called alice back"})
	fmt.Println("takes effect after", c.NotBefore.Sub(c.Created))

	_, err = m.Redeem(ctx, recovery.RedeemRequest{UserID: "alice", Token: o.Token})
	fmt.Println("at once:", errors.Is(err, recovery.ErrWaiting))

	now = now.Add(24 * time.Hour)
	g, _ := m.Redeem(ctx, recovery.RedeemRequest{UserID: "alice", Token: o.Token})
	res := g.Result() // start the recovery session from this
	fmt.Println("recovery session:", res.AMR, "AAL", res.AAL)

	en, _ = m.BeginEnrollment(ctx, mfa.EnrollRequest{UserID: "alice", Kind: mfa.KindTOTP})
	setup, _ = mfa.ShowAs[*totp.Setup](en.Show)
	code, _ = otptotp.GenerateCode(setup.Secret, now)
	_, err = m.ConfirmEnrollment(ctx, mfa.ConfirmRequest{UserID: "alice", FactorID: en.FactorID, Response: code})
	list, _ := v.Factors(ctx, "alice")
	fmt.Println("new factor:", err == nil, "factors:", len(list))
	// Output:
	// notice to alice: recovery.opened
	// notice to alice: recovery.approved
	// takes effect after 24h0m0s
	// at once: true
	// recovery session: [rec] AAL 1
	// notice to alice: recovery.completed
	// new factor: true factors: 1
}
