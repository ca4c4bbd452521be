package timed_test

import (
	"bytes"
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/internal/testkit"
	"github.com/mfakit/mfa/store/memstore"
	"github.com/mfakit/mfa/store/timed"
	"github.com/mfakit/mfa/totp"
)

// benchVerifier is one Verifier on its own memstore with one TOTP factor,
// and a clock each verification moves a step, so every code is fresh.
type benchVerifier struct {
	v      *mfa.Verifier
	clock  *testkit.Clock
	fid    string
	secret string
}

func newBenchVerifier(b *testing.B, wrap func(timed.VerifierStore) timed.VerifierStore) *benchVerifier {
	ctx := context.Background()
	clock := testkit.NewClock(testkit.T0)
	tf, err := totp.New(totp.Config{Issuer: "Bench"})
	if err != nil {
		b.Fatal(err)
	}
	keyring, err := mfa.NewKeyring(mfa.Key{ID: "k1", Secret: bytes.Repeat([]byte{1}, 32)})
	if err != nil {
		b.Fatal(err)
	}
	v, err := mfa.New(mfa.Config{
		Store: wrap(memstore.New()), Factors: []mfa.Factor{tf}, Sealer: keyring,
		HashKey: bytes.Repeat([]byte{2}, 32), Now: clock.Now, Rand: testkit.Rand(1),
	})
	if err != nil {
		b.Fatal(err)
	}
	en, err := v.BeginEnrollment(ctx, mfa.EnrollRequest{UserID: "alice", Kind: mfa.KindTOTP})
	if err != nil {
		b.Fatal(err)
	}
	setup, err := mfa.ShowAs[*totp.Setup](en.Show)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := v.ConfirmEnrollment(ctx, mfa.ConfirmRequest{UserID: "alice", FactorID: en.FactorID, Response: testkit.TOTPCode(b, setup.Secret, clock.Now())}); err != nil {
		b.Fatal(err)
	}
	return &benchVerifier{v: v, clock: clock, fid: en.FactorID, secret: setup.Secret}
}

// verify makes one successful verification (Hit with Load, then Advance
// with Reset: two store calls).
func (bv *benchVerifier) verify(b *testing.B) {
	code := testkit.TOTPCode(b, bv.secret, bv.clock.Step())
	if _, err := bv.v.Verify(context.Background(), mfa.VerifyRequest{UserID: "alice", FactorID: bv.fid, Response: code}); err != nil {
		b.Fatal(err)
	}
}

func bare(s timed.VerifierStore) timed.VerifierStore { return s }

func timedNoop(b *testing.B) func(timed.VerifierStore) timed.VerifierStore {
	tm, err := timed.New(timed.Config{Observer: timed.ObserverFunc(func(context.Context, timed.Call) {})})
	if err != nil {
		b.Fatal(err)
	}
	return tm.ForVerifier
}

// BenchmarkVerify is a successful TOTP verification on memstore (code
// generation included), without and with the timing wrapper reporting to
// an Observer that does nothing.
func BenchmarkVerify(b *testing.B) {
	for _, c := range []struct {
		name string
		wrap func(timed.VerifierStore) timed.VerifierStore
	}{{"bare", bare}, {"timed", timedNoop(b)}} {
		b.Run(c.name, func(b *testing.B) {
			bv := newBenchVerifier(b, c.wrap)
			b.ReportAllocs()
			for b.Loop() {
				bv.verify(b)
			}
		})
	}
}

// BenchmarkVerifyRatio runs the pair of BenchmarkVerify in alternating
// phases of 10,000 verifications, with a garbage collection between
// phases and the side that goes first swapped at each round, so both see
// the same machine load, and reports timed ÷ bare.
func BenchmarkVerifyRatio(b *testing.B) {
	const phase = 10000
	plain, wrapped := newBenchVerifier(b, bare), newBenchVerifier(b, timedNoop(b))
	var tBare, tTimed time.Duration
	n := 0
	b.ResetTimer()
	type side struct {
		bv  *benchVerifier
		sum *time.Duration
	}
	order := [2]side{{plain, &tBare}, {wrapped, &tTimed}}
	for n < b.N {
		k := min(phase, b.N-n)
		for _, side := range order {
			runtime.GC()
			t0 := time.Now()
			for range k {
				side.bv.verify(b)
			}
			*side.sum += time.Since(t0)
		}
		n += k
		order[0], order[1] = order[1], order[0] // neither side always goes first
	}
	b.ReportMetric(float64(tBare.Nanoseconds())/float64(n), "bare-ns/op")
	b.ReportMetric(float64(tTimed.Nanoseconds())/float64(n), "timed-ns/op")
	b.ReportMetric(float64(tTimed)/float64(tBare), "timed/bare")
}
