package totp_test

import (
	"bytes"
	"context"
	"encoding/base32"
	"errors"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/store"
	"github.com/mfakit/mfa/store/memstore"
	"github.com/mfakit/mfa/totp"
	"github.com/pquerna/otp"
	ptotp "github.com/pquerna/otp/totp"
)

var benchAlgs = []totp.Algorithm{totp.SHA1, totp.SHA256, totp.SHA512}

// BenchmarkHOTP is the internal code computation: one HMAC and truncation.
func BenchmarkHOTP(b *testing.B) {
	for _, alg := range benchAlgs {
		b.Run(alg.String(), func(b *testing.B) {
			b.ReportAllocs()
			var sink uint32
			for i := 0; b.Loop(); i++ {
				sink ^= totp.HOTP(alg, seedSHA1, uint64(i), 6)
			}
			_ = sink
		})
	}
}

// BenchmarkFactorVerify is Factor.Verify alone (skew ±1: three codes), on a
// right code at an advancing clock and on a wrong code.
func BenchmarkFactorVerify(b *testing.B) {
	for _, alg := range benchAlgs {
		f := newFactor(b, totp.Config{Algorithm: alg})
		b.Run(alg.String()+"/right", func(b *testing.B) {
			const n = 1024
			codes := make([]string, n) // precomputed: no formatting in the loop
			for i := range codes {
				codes[i] = fmt.Sprintf("%06d", totp.HOTP(alg, seedSHA1, uint64(1e8+i), 6))
			}
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				j := i % n
				if _, err := verify(f, seedSHA1, 0, time.Unix(int64(1e8+j)*30, 0), codes[j]); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(alg.String()+"/wrong", func(b *testing.B) {
			now := time.Unix(1700000015, 0)
			wrong := wrongCode(b, alg, now, 6)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := verify(f, seedSHA1, 0, now, wrong); err == nil {
					b.Fatal("wrong code matched")
				}
			}
		})
	}
}

// wrongCode returns a well-formed code that matches no step of the ±1
// window at now for seedSHA1.
func wrongCode(tb testing.TB, alg totp.Algorithm, now time.Time, digits int) string {
	return wrongCodeFor(tb, alg, seedSHA1, now, digits)
}

// wrongCodeFor returns a well-formed code that matches no step of the ±1
// window at now for seed.
func wrongCodeFor(tb testing.TB, alg totp.Algorithm, seed []byte, now time.Time, digits int) string {
	tb.Helper()
	step := uint64(now.Unix() / 30)
	for c := uint32(0); ; c++ {
		if c != totp.HOTP(alg, seed, step-1, digits) && c != totp.HOTP(alg, seed, step, digits) && c != totp.HOTP(alg, seed, step+1, digits) {
			return fmt.Sprintf("%0*d", digits, c)
		}
	}
}

// BenchmarkPquernaValidateCustomWrongCode is the baseline: bare pquerna/otp
// on a wrong code, skew 1, same algorithm and digits. Its SHA1 case is the
// pair of BenchmarkVerifierVerifyTOTPWrongCode; BenchmarkWrongCodeRatio
// runs the two interleaved and reports their ratio.
func BenchmarkPquernaValidateCustomWrongCode(b *testing.B) {
	secret := base32.StdEncoding.EncodeToString(seedSHA1)
	theirs := map[totp.Algorithm]otp.Algorithm{totp.SHA1: otp.AlgorithmSHA1, totp.SHA256: otp.AlgorithmSHA256, totp.SHA512: otp.AlgorithmSHA512}
	for _, alg := range benchAlgs {
		b.Run(alg.String(), func(b *testing.B) {
			now := time.Unix(1700000015, 0)
			wrong := wrongCode(b, alg, now, 6)
			opts := ptotp.ValidateOpts{Period: 30, Skew: 1, Digits: otp.DigitsSix, Algorithm: theirs[alg]}
			b.ReportAllocs()
			for b.Loop() {
				ok, err := ptotp.ValidateCustom(wrong, secret, now, opts)
				if ok || err != nil {
					b.Fatal(ok, err)
				}
			}
		})
	}
}

// BenchmarkVerifierVerifyTOTP is the whole mfa.Verifier path on memstore:
// limits counted up front, seed opened, code checked, step committed with
// a compare-and-set, events. Each iteration submits a new valid code at a
// clock advanced by one period, so nothing is a replay.
func BenchmarkVerifierVerifyTOTP(b *testing.B) {
	ctx := context.Background()
	now := time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC)
	tf := newFactor(b, totp.Config{})
	keyring, err := mfa.NewKeyring(mfa.Key{ID: "k1", Secret: bytes.Repeat([]byte{1}, 32)})
	if err != nil {
		b.Fatal(err)
	}
	v, err := mfa.New(mfa.Config{
		Store:   memstore.New(),
		Factors: []mfa.Factor{tf},
		Sealer:  keyring,
		HashKey: bytes.Repeat([]byte{2}, 32),
		Now:     func() time.Time { return now },
	})
	if err != nil {
		b.Fatal(err)
	}
	en, err := v.BeginEnrollment(ctx, mfa.EnrollRequest{UserID: "alice", Kind: mfa.KindTOTP})
	if err != nil {
		b.Fatal(err)
	}
	seed, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(en.Show.(*totp.Setup).Secret)
	if err != nil {
		b.Fatal(err)
	}
	codeAt := func(t time.Time) string {
		return fmt.Sprintf("%06d", totp.HOTP(totp.SHA1, seed, uint64(t.Unix()/30), 6))
	}
	if _, err := v.ConfirmEnrollment(ctx, mfa.ConfirmRequest{UserID: "alice", FactorID: en.FactorID, Response: codeAt(now)}); err != nil {
		b.Fatal(err)
	}

	// The schedule of times and codes is computed before the timer starts,
	// with the Factor itself: one period later each time, one more when two
	// neighbouring steps share a code (about one in a million), which the
	// Verifier rightly refuses as a replay of the code just accepted.
	times := make([]time.Time, b.N)
	codes := make([]string, b.N)
	counter, t := now.Unix()/30, now
	for i := range codes {
		for tries := 0; ; tries++ {
			t = t.Add(30 * time.Second)
			m, err := verify(tf, seed, counter, t, codeAt(t))
			if err == nil {
				times[i], codes[i], counter = t, codeAt(t), m.Counter
				break
			}
			if tries > 3 {
				b.Fatalf("no acceptable code near %v: %v", t, err)
			}
		}
	}
	// No IP: the Verifier counts every attempt against the IP up front and
	// a success does not clear that counter, so one address would be rate
	// limited after Limits.IP.Free verifications, successes included.
	req := mfa.VerifyRequest{UserID: "alice", FactorID: en.FactorID}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		now = times[i]
		req.Response = codes[i]
		if _, err := v.Verify(ctx, req); err != nil {
			b.Fatalf("iteration %d: %v", i, err)
		}
	}
}

// wrongCodeSetup is the Verifier side of the wrong-code pair: a Verifier
// on memstore with one confirmed TOTP factor (SHA1, 6 digits, 30 s,
// skew ±1, the defaults), the request carrying a wrong code at now, and
// the factor's seed. The user's limit admits MaxFailures-1 failures
// without delay; unlock clears the counters before the cap is reached.
type wrongCodeSetup struct {
	v      *mfa.Verifier
	req    mfa.VerifyRequest
	seed   []byte
	now    time.Time
	unlock func()
}

// unlockEvery is how many wrong codes a wrongCodeSetup takes between
// unlocks: below the user's cap, and no delay ever applies.
const unlockEvery = mfa.MaxFailures - 1

func newWrongCodeSetup(b *testing.B) wrongCodeSetup {
	b.Helper()
	ctx := context.Background()
	now := time.Unix(1700000015, 0) // the time of the pquerna baseline
	keyring, err := mfa.NewKeyring(mfa.Key{ID: "k1", Secret: bytes.Repeat([]byte{1}, 32)})
	if err != nil {
		b.Fatal(err)
	}
	v, err := mfa.New(mfa.Config{
		Store:   memstore.New(),
		Factors: []mfa.Factor{newFactor(b, totp.Config{})},
		Sealer:  keyring,
		HashKey: bytes.Repeat([]byte{2}, 32),
		Now:     func() time.Time { return now },
		Limits:  mfa.Limits{User: store.Rule{Free: mfa.MaxFailures}, Factor: store.Rule{Free: 1 << 30}},
	})
	if err != nil {
		b.Fatal(err)
	}
	en, err := v.BeginEnrollment(ctx, mfa.EnrollRequest{UserID: "alice", Kind: mfa.KindTOTP})
	if err != nil {
		b.Fatal(err)
	}
	seed, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(en.Show.(*totp.Setup).Secret)
	if err != nil {
		b.Fatal(err)
	}
	code := fmt.Sprintf("%06d", totp.HOTP(totp.SHA1, seed, uint64(now.Unix()/30), 6))
	if _, err := v.ConfirmEnrollment(ctx, mfa.ConfirmRequest{UserID: "alice", FactorID: en.FactorID, Response: code}); err != nil {
		b.Fatal(err)
	}
	req := mfa.VerifyRequest{UserID: "alice", FactorID: en.FactorID, Response: wrongCodeFor(b, totp.SHA1, seed, now, 6)}
	unlock := func() {
		if err := v.Unlock(ctx, "alice"); err != nil {
			b.Fatal(err)
		}
	}
	return wrongCodeSetup{v: v, req: req, seed: seed, now: now, unlock: unlock}
}

// verifyWrong submits the wrong code once; anything but ErrWrongCode
// fails the benchmark.
func (s wrongCodeSetup) verifyWrong(b *testing.B) {
	if _, err := s.v.Verify(context.Background(), s.req); !errors.Is(err, mfa.ErrWrongCode) {
		b.Fatalf("wrong code: %v", err)
	}
}

// BenchmarkVerifierVerifyTOTPWrongCode is the whole mfa.Verifier path on
// memstore on a wrong code: counted against the user and factor, seed
// opened, three steps compared, failure reported. The pair of
// BenchmarkPquernaValidateCustomWrongCode/SHA1: SHA1, 6 digits, skew ±1,
// the same time and a code matching none of the three steps. The user is
// unlocked every unlockEvery attempts, inside the timing (stopping the
// timer costs more than the unlock): a slight overcount of the Verifier.
func BenchmarkVerifierVerifyTOTPWrongCode(b *testing.B) {
	s := newWrongCodeSetup(b)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if i%unlockEvery == unlockEvery-1 {
			s.unlock()
		}
		s.verifyWrong(b)
	}
}

// BenchmarkWrongCodeRatio runs the pair above in one process, in
// alternating phases of ratioPhase calls each, so both see the same
// machine load, and reports each side's time per call and their ratio
// (verifier/pquerna). A phase is long enough for each side to pay for its
// own garbage collection; a collection between phases, not timed, keeps
// one side's garbage from being collected on the other's time. Run it
// with a fixed -benchtime of a multiple of ratioPhase, e.g. 200000x.
func BenchmarkWrongCodeRatio(b *testing.B) {
	const ratioPhase = 10000
	s := newWrongCodeSetup(b)
	secret := base32.StdEncoding.EncodeToString(s.seed)
	opts := ptotp.ValidateOpts{Period: 30, Skew: 1, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}
	var ours, theirs time.Duration
	n := 0
	b.ResetTimer()
	for n < b.N {
		k := min(ratioPhase, b.N-n)
		runtime.GC()
		t0 := time.Now()
		for i := range k {
			if i%unlockEvery == unlockEvery-1 {
				s.unlock()
			}
			s.verifyWrong(b)
		}
		ours += time.Since(t0)
		s.unlock()
		runtime.GC()
		t0 = time.Now()
		for range k {
			ok, err := ptotp.ValidateCustom(s.req.Response, secret, s.now, opts)
			if ok || err != nil {
				b.Fatal(ok, err)
			}
		}
		theirs += time.Since(t0)
		n += k
	}
	b.ReportMetric(float64(ours.Nanoseconds())/float64(n), "verifier-ns/op")
	b.ReportMetric(float64(theirs.Nanoseconds())/float64(n), "pquerna-ns/op")
	b.ReportMetric(float64(ours)/float64(theirs), "verifier/pquerna")
}
