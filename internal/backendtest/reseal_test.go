package backendtest_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/internal/testkit"
	"github.com/mfakit/mfa/totp"
)

var newSealKey = mfa.Key{ID: "k2", Secret: bytes.Repeat([]byte{0x25}, 32)}

// sealedWith is a Verifier on s whose keyring seals with primary and
// opens with older too.
func sealedWith(tb testing.TB, s mfa.Store, clk *testkit.Clock, primary mfa.Key, older ...mfa.Key) *mfa.Verifier {
	tb.Helper()
	tf, err := totp.New(totp.Config{Issuer: "x"})
	if err != nil {
		tb.Fatal(err)
	}
	kr, err := mfa.NewKeyring(primary, older...)
	if err != nil {
		tb.Fatal(err)
	}
	v, err := mfa.New(mfa.Config{Store: s, Factors: []mfa.Factor{tf}, Sealer: kr, HashKey: hashKey, Now: clk.Now})
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

// pendingTOTP begins n TOTP enrolments (each a factor with a sealed seed)
// and returns the users and their setups.
func pendingTOTP(tb testing.TB, v *mfa.Verifier, prefix string, n int) (users, factors []string, setups []*totp.Setup) {
	tb.Helper()
	for i := range n {
		u := fmt.Sprintf("%s-%d", prefix, i)
		en, err := v.BeginEnrollment(context.Background(), mfa.EnrollRequest{UserID: u, Kind: mfa.KindTOTP, Account: u})
		if err != nil {
			tb.Fatal(err)
		}
		users, factors, setups = append(users, u), append(factors, en.FactorID), append(setups, en.Show.(*totp.Setup))
	}
	return users, factors, setups
}

// After the sealing key rotates, Reseal re-seals every secret under the
// new key in batches, stops when its context ends and resumes from the
// cursor it reported, and a second run finds nothing to do; then the old
// key can leave the keyring and every factor still opens. On every
// backend.
func TestResealRetiresOldKey(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			o := b.open(t)
			clk := newClock()
			old := sealedWith(t, o.concerns, clk, sealKey)
			users, factors, setups := pendingTOTP(t, old, randName("reseal"), 7)

			rotated := sealedWith(t, o.concerns, clk, newSealKey, sealKey)
			ctx, cancel := context.WithCancel(context.Background())
			var seen []mfa.ResealProgress
			p, err := rotated.Reseal(ctx, mfa.ResealOptions{Batch: 3, Progress: func(p mfa.ResealProgress) {
				seen = append(seen, p)
				cancel() // stop after the first batch
			}})
			if !errors.Is(err, context.Canceled) || len(seen) != 1 || p.Cursor == "" || p.Resealed == 0 {
				t.Fatalf("first run: %+v, %v, progress %+v", p, err, seen)
			}
			first := p.Resealed
			p, err = rotated.Reseal(context.Background(), mfa.ResealOptions{Cursor: p.Cursor, Batch: 3})
			if err != nil || p.Cursor != "" || p.Failed != 0 {
				t.Fatalf("resumed run: %+v, %v", p, err)
			}
			if got := first + p.Resealed + p.Skipped; got < 7 {
				t.Fatalf("resealed %d + %d of 7", first, p.Resealed)
			}
			p, err = rotated.Reseal(context.Background(), mfa.ResealOptions{})
			if err != nil || p.Resealed != 0 || p.Current < 7 {
				t.Fatalf("second walk: %+v, %v, want nothing left to re-seal", p, err)
			}

			retired := sealedWith(t, o.concerns, clk, newSealKey)
			for i, u := range users {
				code := testkit.TOTPCode(t, setups[i].Secret, clk.Now())
				if _, err := retired.ConfirmEnrollment(context.Background(), mfa.ConfirmRequest{UserID: u, FactorID: factors[i], Response: code}); err != nil {
					t.Fatalf("%s after the old key left: %v", u, err)
				}
			}
		})
	}
}

// BenchmarkReseal measures re-seal throughput: walks over 500 factors in
// batches of 100, each re-sealing every secret (the keys swap roles from
// one walk to the next).
func BenchmarkReseal(b *testing.B) {
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			o := be.open(b)
			clk := newClock()
			const n = 500
			pendingTOTP(b, sealedWith(b, o.concerns, clk, sealKey), randName("bench"), n)
			ring := []*mfa.Verifier{
				sealedWith(b, o.concerns, clk, newSealKey, sealKey),
				sealedWith(b, o.concerns, clk, sealKey, newSealKey),
			}
			b.ResetTimer()
			for i := range b.N {
				p, err := ring[i%2].Reseal(context.Background(), mfa.ResealOptions{})
				if err != nil || p.Resealed != n {
					b.Fatalf("%+v, %v", p, err)
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "factors/s")
		})
	}
}
