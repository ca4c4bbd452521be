package totp_test

import (
	"errors"
	"testing"
	"time"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/totp"
	"github.com/pquerna/otp"
)

// FuzzVerify feeds arbitrary responses at arbitrary times. Verify must
// never panic, must accept exactly the codes pquerna/otp computes for the
// steps of the window, and must report the step it matched.
func FuzzVerify(f *testing.F) {
	base := time.Unix(1700000015, 0)
	for _, off := range []int64{-30, 0, 30} {
		f.Add(code(f, seedSHA1, base.Add(time.Duration(off)*time.Second), otp.AlgorithmSHA1, 6, 30), uint32(0), false)
		f.Add(code(f, seedSHA1, base.Add(time.Duration(off)*time.Second), otp.AlgorithmSHA1, 8, 30), uint32(0), true)
	}
	for _, s := range []string{"", "000000", "12345", "1234567", "abcdef", "１２３４５６", " 12345", "\x00\x00\x00\x00\x00\x00", "99999999"} {
		f.Add(s, uint32(12345), false)
	}
	f6 := newFactor(f, totp.Config{})
	f8 := newFactor(f, totp.Config{Digits: 8})
	f.Fuzz(func(t *testing.T, resp string, off uint32, eight bool) {
		fac, digits := f6, 6
		if eight {
			fac, digits = f8, 8
		}
		now := base.Add(time.Duration(off) * time.Second)
		step := now.Unix() / 30
		m, err := verify(fac, seedSHA1, 0, now, resp)

		want := int64(-1) // the step resp is the code of, latest first
		for s := step + 1; s >= step-1; s-- {
			if resp == code(t, seedSHA1, time.Unix(s*30, 0), otp.AlgorithmSHA1, digits, 30) {
				want = s
				break
			}
		}
		switch {
		case want >= 0:
			if err != nil {
				t.Fatalf("Verify(%q) at %d: %v, want a match at step %d", resp, now.Unix(), err, want)
			}
			if m.Counter != want {
				t.Fatalf("Verify(%q) matched step %d, want %d", resp, m.Counter, want)
			}
		case err == nil:
			t.Fatalf("Verify(%q) at %d matched step %d, but it is no code of the window", resp, now.Unix(), m.Counter)
		case !errors.Is(err, mfa.ErrWrongCode) && !errors.Is(err, mfa.ErrMalformedResponse):
			t.Fatalf("Verify(%q): unexpected error %v", resp, err)
		}
	})
}
