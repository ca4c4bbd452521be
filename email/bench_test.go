package email_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/backupcodes"
	"github.com/mfakit/mfa/email"
	"github.com/mfakit/mfa/internal/testkit"
	"github.com/mfakit/mfa/sentcode"
	"github.com/mfakit/mfa/store/memstore"
)

// BenchmarkVerify compares, on memstore, a successful Verifier.Verify of
// an emailed code (take the challenge, count, hash and compare, commit)
// with one of a backup code. Issuing the challenges, and regenerating the
// backup codes when a set runs out, are outside the timer; caps are off.
func BenchmarkVerify(b *testing.B) {
	ctx := context.Background()
	clk := testkit.NewClock(testkit.T0)
	var last sentcode.Message
	ef, err := email.New(email.Config{
		Sender: sentcode.SenderFunc(func(_ context.Context, m sentcode.Message) error { last = m; return nil }),
		Caps:   sentcode.Caps{PerDestination: -1, Cooldown: -1},
	})
	if err != nil {
		b.Fatal(err)
	}
	bf, _ := backupcodes.New(backupcodes.Config{Count: backupcodes.MaxCount})
	kr, _ := mfa.NewKeyring(mfa.Key{ID: "k1", Secret: bytes.Repeat([]byte{1}, 32)})
	v, err := mfa.New(mfa.Config{
		Store: memstore.New(), Factors: []mfa.Factor{ef, bf}, Sealer: kr, HashKey: bytes.Repeat([]byte{2}, 32),
		Now: clk.Now, Rand: testkit.Rand(5), Issue: mfa.IssueLimits{PerUser: -1, PerIP: -1, Global: -1},
	})
	if err != nil {
		b.Fatal(err)
	}
	en, err := v.BeginEnrollment(ctx, mfa.EnrollRequest{UserID: "u", Kind: email.Kind, Destination: "u@example.com"})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := v.ConfirmEnrollment(ctx, mfa.ConfirmRequest{UserID: "u", FactorID: en.FactorID, ChallengeID: en.ChallengeID, Response: last.Code}); err != nil {
		b.Fatal(err)
	}
	// Challenges are issued a thousand at a time with the timer stopped,
	// as the backup codes below are regenerated: stopping the timer for
	// every iteration would cost more than what is measured.
	type issued struct{ id, code string }
	var queue []issued
	b.Run("email code", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if len(queue) == 0 {
				b.StopTimer()
				for range 1000 {
					ch, err := v.Challenge(ctx, mfa.ChallengeRequest{UserID: "u", FactorID: en.FactorID, Binding: "b"})
					if err != nil {
						b.Fatal(err)
					}
					queue = append(queue, issued{ch.ID, last.Code})
				}
				b.StartTimer()
			}
			c := queue[0]
			queue = queue[1:]
			if _, err := v.Verify(ctx, mfa.VerifyRequest{UserID: "u", FactorID: en.FactorID, ChallengeID: c.id, Binding: "b", Response: c.code}); err != nil {
				b.Fatal(err)
			}
		}
	})
	set, err := v.BeginEnrollment(ctx, mfa.EnrollRequest{UserID: "u", Kind: mfa.KindBackupCodes, AuthTime: clk.Now()})
	if err != nil {
		b.Fatal(err)
	}
	codes, _ := mfa.ShowAs[*backupcodes.Codes](set.Show)
	fid, i := set.FactorID, 0
	b.Run("backup code", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if i == len(codes.List) {
				b.StopTimer()
				clk.Add(time.Second)
				set, err := v.Regenerate(ctx, mfa.ChangeRequest{UserID: "u", FactorID: fid, AuthTime: clk.Now()})
				if err != nil {
					b.Fatal(err)
				}
				codes, _ = mfa.ShowAs[*backupcodes.Codes](set.Show)
				fid, i = set.FactorID, 0
				b.StartTimer()
			}
			if _, err := v.Verify(ctx, mfa.VerifyRequest{UserID: "u", FactorID: fid, Response: codes.List[i]}); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}
