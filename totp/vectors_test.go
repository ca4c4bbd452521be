package totp_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"hash"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/factor"
	"github.com/mfakit/mfa/store"
	"github.com/mfakit/mfa/totp"
	"github.com/pquerna/otp"
	ptotp "github.com/pquerna/otp/totp"
)

var (
	seedSHA1   = []byte("12345678901234567890")
	seedSHA256 = []byte("12345678901234567890123456789012")
	seedSHA512 = []byte("1234567890123456789012345678901234567890123456789012345678901234")
)

func newFactor(t testing.TB, cfg totp.Config) *totp.Factor {
	t.Helper()
	if cfg.Issuer == "" {
		cfg.Issuer = "Example"
	}
	f, err := totp.New(cfg)
	if err != nil {
		t.Fatalf("New(%+v): %v", cfg, err)
	}
	return f
}

func verify(f *totp.Factor, seed []byte, counter int64, now time.Time, response string) (factor.Match, error) {
	return f.Verify(context.Background(), factor.VerifyInput{
		Factor:   store.Factor{Kind: string(mfa.KindTOTP), Counter: counter},
		Secret:   seed,
		Response: response,
		Now:      now,
	})
}

// RFC 4226 Appendix D: HOTP values for counters 0..9, reached here through
// TOTP with a 30 s period at a time inside each step.
func TestRFC4226Vectors(t *testing.T) {
	want := []string{"755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"}
	f := newFactor(t, totp.Config{Skew: totp.NoSkew})
	for counter, code := range want {
		t.Run(fmt.Sprint(counter), func(t *testing.T) {
			now := time.Unix(int64(counter)*30+17, 0)
			// Counter -1: nothing accepted yet, so step 0 is acceptable too.
			m, err := verify(f, seedSHA1, -1, now, code)
			if err != nil {
				t.Fatalf("Verify(%s) at step %d: %v", code, counter, err)
			}
			if m.Counter != int64(counter) {
				t.Errorf("Match.Counter = %d, want %d", m.Counter, counter)
			}
			if got := fmt.Sprintf("%06d", totp.HOTP(totp.SHA1, seedSHA1, uint64(counter), 6)); got != code {
				t.Errorf("internal HOTP = %s, want %s", got, code)
			}
		})
	}
}

// RFC 6238 Appendix B: 8 digits, 30 s, three algorithms.
func TestRFC6238Vectors(t *testing.T) {
	tests := []struct {
		unix                 int64
		sha1, sha256, sha512 string
	}{
		{59, "94287082", "46119246", "90693936"},
		{1111111109, "07081804", "68084774", "25091201"},
		{1111111111, "14050471", "67062674", "99943326"},
		{1234567890, "89005924", "91819424", "93441116"},
		{2000000000, "69279037", "90698825", "38618901"},
		{20000000000, "65353130", "77737706", "47863826"},
	}
	algs := []struct {
		alg  totp.Algorithm
		seed []byte
		code func(i int) string
	}{
		{totp.SHA1, seedSHA1, func(i int) string { return tests[i].sha1 }},
		{totp.SHA256, seedSHA256, func(i int) string { return tests[i].sha256 }},
		{totp.SHA512, seedSHA512, func(i int) string { return tests[i].sha512 }},
	}
	for _, a := range algs {
		f := newFactor(t, totp.Config{Algorithm: a.alg, Digits: 8, Skew: totp.NoSkew})
		for i, tt := range tests {
			code := a.code(i)
			t.Run(fmt.Sprintf("%v/%d", a.alg, tt.unix), func(t *testing.T) {
				m, err := verify(f, a.seed, 0, time.Unix(tt.unix, 0), code)
				if err != nil {
					t.Fatalf("Verify(%s): %v", code, err)
				}
				if want := tt.unix / 30; m.Counter != want {
					t.Errorf("Match.Counter = %d, want %d", m.Counter, want)
				}
				if m.AAL != mfa.AAL2 || len(m.AMR) != 1 || m.AMR[0] != "otp" || m.Remaining != -1 {
					t.Errorf("Match = %+v, want AAL2, AMR [otp], Remaining -1", m)
				}
			})
		}
	}
}

// Codes must agree with pquerna/otp for random seeds of every length,
// including keys longer than the hash block (hashed first, RFC 2104).
func TestCrossCheckPquerna(t *testing.T) {
	rng := rand.New(rand.NewChaCha8([32]byte{1}))
	b32 := base32.StdEncoding.WithPadding(base32.NoPadding)
	algs := []struct {
		ours   totp.Algorithm
		theirs otp.Algorithm
	}{
		{totp.SHA1, otp.AlgorithmSHA1},
		{totp.SHA256, otp.AlgorithmSHA256},
		{totp.SHA512, otp.AlgorithmSHA512},
	}
	for _, a := range algs {
		for _, digits := range []int{6, 8} {
			for _, period := range []uint{30, 60, 120} {
				f := newFactor(t, totp.Config{Algorithm: a.ours, Digits: digits, Period: time.Duration(period) * time.Second, Skew: totp.NoSkew})
				for range 50 {
					seed := make([]byte, 1+rng.IntN(200))
					for i := range seed {
						seed[i] = byte(rng.Uint32())
					}
					now := time.Unix(rng.Int64N(1<<33), 0)
					want, err := ptotp.GenerateCodeCustom(b32.EncodeToString(seed), now, ptotp.ValidateOpts{
						Period: period, Digits: otp.Digits(digits), Algorithm: a.theirs,
					})
					if err != nil {
						t.Fatal(err)
					}
					if _, err := verify(f, seed, 0, now, want); err != nil {
						t.Fatalf("%v digits=%d period=%d seed=%x t=%d: pquerna code %s refused: %v",
							a.ours, digits, period, seed, now.Unix(), want, err)
					}
				}
			}
		}
	}
}

// The internal code computation and Verify allocate nothing.
func TestZeroAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under the race detector")
	}
	longKey := bytes.Repeat(seedSHA512, 3) // longer than any block: hashed first
	for _, alg := range []totp.Algorithm{totp.SHA1, totp.SHA256, totp.SHA512} {
		f := newFactor(t, totp.Config{Algorithm: alg, Digits: 8})
		seed := seedSHA512[:20+int(alg)*20]
		now := time.Unix(1111111111, 0)
		right := fmt.Sprintf("%08d", totp.HOTP(alg, seed, uint64(now.Unix()/30), 8))
		if _, err := verify(f, seed, 0, now, right); err != nil {
			t.Fatalf("%v: right code refused: %v", alg, err)
		}
		cases := map[string]func(){
			"hotp":     func() { totp.HOTP(alg, seedSHA512, 1, 6) },
			"long key": func() { totp.HOTP(alg, longKey, 1, 8) },
			"right":    func() { _, _ = verify(f, seed, 0, now, right) },
			"wrong":    func() { _, _ = verify(f, seed, 0, now, "00000000") },
			"bad":      func() { _, _ = verify(f, seed, 0, now, "x") },
		}
		for name, fn := range cases {
			if n := testing.AllocsPerRun(100, fn); n != 0 {
				t.Errorf("%v %s: %v allocs per run, want 0", alg, name, n)
			}
		}
	}
}

// Every offset the dynamic truncation can pick (the last byte's low
// nibble, 0 to 15) gives the code computed the plain way with
// crypto/hmac, for each algorithm and both lengths.
func TestTruncateEveryOffset(t *testing.T) {
	hashes := map[totp.Algorithm]func() hash.Hash{totp.SHA1: sha1.New, totp.SHA256: sha256.New, totp.SHA512: sha512.New}
	for alg, h := range hashes {
		var seen [16]bool
		left := len(seen)
		for counter := uint64(0); left > 0; counter++ {
			if counter > 10000 {
				t.Fatalf("%v: offsets seen %v after %d counters", alg, seen, counter)
			}
			mac := hmac.New(h, seedSHA1)
			_ = binary.Write(mac, binary.BigEndian, counter)
			d := mac.Sum(nil)
			off := d[len(d)-1] & 0x0f
			if !seen[off] {
				seen[off] = true
				left--
			}
			bin := binary.BigEndian.Uint32(d[off:]) & 0x7fffffff
			for _, digits := range []int{6, 8} {
				want := bin % 1000000
				if digits == 8 {
					want = bin % 100000000
				}
				if got := totp.HOTP(alg, seedSHA1, counter, digits); got != want {
					t.Fatalf("%v counter %d (offset %d), %d digits: HOTP = %d, want %d", alg, counter, off, digits, got, want)
				}
			}
		}
	}
}
