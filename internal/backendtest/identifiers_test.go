package backendtest_test

import (
	"context"
	"errors"
	"testing"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/internal/testkit"
)

// Identifiers a backend could not keep alike (a NUL byte, invalid UTF-8, a
// control character, an oversized value) are refused with ErrInvalidInput
// before the store sees them, identically on every backend; nothing is
// counted or stored.
func TestBadIdentifiersRefusedAlike(t *testing.T) {
	bad := map[string]string{
		"NUL":           "al\x00ice",
		"invalid UTF-8": "al\xffice",
		"newline":       "alice\nlevel=admin",
		"DEL":           "alice\x7f",
		"C1 control":    "alice\u0085",
		"oversized":     string(make([]byte, 257)),
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			o := b.open(t)
			clk := newClock()
			v := passkeyVerifier(t, o.concerns, clk)
			user := randName("alice")
			fid, setup := enrollTOTP(t, v, clk, user)
			for name, id := range bad {
				calls := map[string]func() error{
					"Verify user": func() error {
						_, err := v.Verify(ctx, mfa.VerifyRequest{UserID: id, FactorID: fid, Response: "123456"})
						return err
					},
					"Verify factor": func() error {
						_, err := v.Verify(ctx, mfa.VerifyRequest{UserID: user, FactorID: id, Response: "123456"})
						return err
					},
					"Verify IP": func() error {
						_, err := v.Verify(ctx, mfa.VerifyRequest{UserID: user, FactorID: fid, Response: "123456", IP: id})
						return err
					},
					"Verify challenge and binding": func() error {
						_, err := v.Verify(ctx, mfa.VerifyRequest{Kind: mfa.KindWebAuthn, ChallengeID: id, Binding: id, Response: "{}"})
						return err
					},
					"BeginEnrollment": func() error {
						_, err := v.BeginEnrollment(ctx, mfa.EnrollRequest{UserID: id, Kind: mfa.KindTOTP})
						return err
					},
					"BeginEnrollment name": func() error {
						_, err := v.BeginEnrollment(ctx, mfa.EnrollRequest{UserID: user, Kind: mfa.KindTOTP, Name: id, AuthTime: clk.Now()})
						return err
					},
					"ConfirmEnrollment": func() error {
						_, err := v.ConfirmEnrollment(ctx, mfa.ConfirmRequest{UserID: user, FactorID: id, Response: "123456"})
						return err
					},
					"Challenge": func() error {
						_, err := v.Challenge(ctx, mfa.ChallengeRequest{Kind: mfa.KindWebAuthn, Binding: "b", IP: id})
						return err
					},
					"RemoveFactor": func() error {
						return v.RemoveFactor(ctx, mfa.ChangeRequest{UserID: id, FactorID: fid, AuthTime: clk.Now()})
					},
					"Factors": func() error {
						_, err := v.Factors(ctx, id)
						return err
					},
					"Unlock": func() error { return v.Unlock(ctx, id) },
				}
				for call, f := range calls {
					if err := f(); !errors.Is(err, mfa.ErrInvalidInput) || errors.Is(err, mfa.ErrStore) {
						t.Errorf("%s with a %s identifier: %v, want ErrInvalidInput", call, name, err)
					}
				}
			}
			// Nothing was counted against the user, and the user's factor
			// still works.
			if l, err := v.Lockout(ctx, user); err != nil || l.Failures != 0 {
				t.Fatalf("user's counter after refused identifiers: %+v, %v", l, err)
			}
			code := testkit.TOTPCode(t, setup.Secret, clk.Now())
			if _, err := v.Verify(ctx, mfa.VerifyRequest{UserID: user, FactorID: fid, Response: code}); err != nil {
				t.Fatalf("the user's own sign-in: %v", err)
			}
		})
	}
}
