package email_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/email"
	"github.com/mfakit/mfa/sentcode"
	"github.com/mfakit/mfa/store/memstore"
)

// An emailed code: enrolment sends one to the new address, sign-in
// another. The Sender here keeps the last message; yours sends it (package
// smtpsender, or sentcode.Console while developing).
func Example() {
	ctx := context.Background()
	var last sentcode.Message
	f, _ := email.New(email.Config{
		Issuer: "Example",
		Sender: sentcode.SenderFunc(func(_ context.Context, m sentcode.Message) error { last = m; return nil }),
	})
	keyring, _ := mfa.NewKeyring(mfa.Key{ID: "k1", Secret: bytes.Repeat([]byte{1}, 32)})
	now := time.Now()
	v, err := mfa.New(mfa.Config{
		Store: memstore.New(), Factors: []mfa.Factor{f}, Sealer: keyring, HashKey: bytes.Repeat([]byte{2}, 32),
		Now: func() time.Time { return now },
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}

	en, _ := v.BeginEnrollment(ctx, mfa.EnrollRequest{UserID: "u1", Kind: email.Kind, Destination: "jo@example.com"})
	setup, _ := mfa.ShowAs[*sentcode.Setup](en.Show)
	fmt.Println("code sent to", setup.Masked, "subject:", last.Subject)
	if _, err := v.ConfirmEnrollment(ctx, mfa.ConfirmRequest{UserID: "u1", FactorID: en.FactorID, ChallengeID: en.ChallengeID, Response: last.Code}); err != nil {
		fmt.Println(err)
		return
	}

	// Sign-in, later (a second code to one address within 30 s is refused),
	// after the password check: Binding is your pending token's ID.
	now = now.Add(time.Minute)
	ch, err := v.Challenge(ctx, mfa.ChallengeRequest{UserID: "u1", FactorID: en.FactorID, Binding: "pending-token-id"})
	if err != nil {
		fmt.Println(err) // a RateLimitError when a send cap is reached
		return
	}
	typed := last.Code[:3] + " " + last.Code[3:] // as the user typed it
	res, err := v.Verify(ctx, mfa.VerifyRequest{UserID: "u1", FactorID: en.FactorID, ChallengeID: ch.ID, Binding: "pending-token-id", Response: typed})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.Kind, res.AAL, strings.Join(res.AMR, ","))
	// Output:
	// code sent to j•••@example.com subject: Example: your verification code
	// email 1 otp,mca
}
