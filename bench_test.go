package mfa_test

import (
	"context"
	"testing"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/internal/testkit"
	"github.com/mfakit/mfa/store"
)

// BenchmarkVerifyEnumeration compares, in one run, a wrong code for a
// known user with any code for an unknown user: an application that shows
// both the same message should not give the difference away in time
// either. Limits are off so every attempt reaches the comparison.
func BenchmarkVerifyEnumeration(b *testing.B) {
	e := newEnv(b, func(c *mfa.Config) {
		c.Hooks = nil
		c.Limits = mfa.Limits{User: store.Rule{Free: mfa.MaxFailures}, Factor: store.Rule{Free: 1 << 30}}
	})
	fid, secret := e.enrollTOTP(b, "alice")
	wrong := testkit.WrongTOTPCode(b, secret, e.clk.Now())
	ctx := context.Background()
	run := func(b *testing.B, req mfa.VerifyRequest) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := e.v.Verify(ctx, req); err == nil {
				b.Fatal("accepted")
			}
			b.StopTimer()
			if err := e.v.Unlock(ctx, req.UserID); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
	}
	b.Run("known user, wrong code", func(b *testing.B) {
		run(b, mfa.VerifyRequest{UserID: "alice", FactorID: fid, Response: wrong})
	})
	b.Run("unknown user", func(b *testing.B) {
		run(b, mfa.VerifyRequest{UserID: "mallory", FactorID: fid, Response: wrong})
	})
}
