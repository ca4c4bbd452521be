package backendtest_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/internal/testkit"
	"github.com/mfakit/mfa/store"
	"github.com/mfakit/mfa/totp"
)

// lostAck is a store whose next UpdateFactor commits and then reports a
// failure, as a connection that drops before the answer arrives does.
type lostAck struct {
	mfa.Store
	armed atomic.Bool
}

func (s *lostAck) UpdateFactor(ctx context.Context, f store.Factor) error {
	err := s.Store.UpdateFactor(ctx, f)
	if err == nil && s.armed.CompareAndSwap(true, false) {
		return errors.New("connection reset by peer")
	}
	return err
}

// A confirmation whose activation committed but whose answer was lost is
// retried with the same code: the retry reports the factor active, once,
// and the code still signs nobody in. On every backend.
func TestConfirmRetryAfterLostAnswer(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			o := b.open(t)
			clk := newClock()
			s := &lostAck{Store: o.concerns}
			v := passkeyVerifier(t, s, clk)
			user := randName("alice")
			en, err := v.BeginEnrollment(ctx, mfa.EnrollRequest{UserID: user, Kind: mfa.KindTOTP})
			if err != nil {
				t.Fatal(err)
			}
			setup, err := mfa.ShowAs[*totp.Setup](en.Show)
			if err != nil {
				t.Fatal(err)
			}
			code := testkit.TOTPCode(t, setup.Secret, clk.Now())
			req := mfa.ConfirmRequest{UserID: user, FactorID: en.FactorID, Response: code, IP: "192.0.2.1"}

			s.armed.Store(true)
			if _, err := v.ConfirmEnrollment(ctx, req); !errors.Is(err, mfa.ErrStore) {
				t.Fatalf("confirmation with a lost answer: %v, want ErrStore", err)
			}
			list, err := v.Factors(ctx, user)
			if err != nil || len(list) != 1 || !list[0].Active {
				t.Fatalf("after the lost answer: %+v, %v; want the factor active", list, err)
			}

			// Another code is not the proof that confirmed it.
			other := req
			other.Response = testkit.WrongTOTPCode(t, setup.Secret, clk.Now())
			if _, err := v.ConfirmEnrollment(ctx, other); !errors.Is(err, mfa.ErrNotEnrolled) {
				t.Fatalf("retry with another code: %v, want ErrNotEnrolled", err)
			}
			res, err := v.ConfirmEnrollment(ctx, req)
			if err != nil || res.FactorID != en.FactorID || res.Kind != mfa.KindTOTP || res.AAL != mfa.AAL2 {
				t.Fatalf("retry with the same code: %+v, %v; want the factor reported active", res, err)
			}
			if _, err := v.ConfirmEnrollment(ctx, req); !errors.Is(err, mfa.ErrNotEnrolled) {
				t.Fatalf("second retry: %v, want ErrNotEnrolled (a receipt answers once)", err)
			}
			if _, err := v.Verify(ctx, mfa.VerifyRequest{UserID: user, FactorID: en.FactorID, Response: code}); !errors.Is(err, mfa.ErrReplayed) {
				t.Fatalf("sign-in with the confirming code: %v, want ErrReplayed", err)
			}
			// The answered retry cleared the user's failures; the second
			// retry and the replayed sign-in each count one.
			if l, err := v.Lockout(ctx, user); err != nil || l.Failures != 2 {
				t.Fatalf("user failures after the retries: %+v, %v; want 2", l, err)
			}
		})
	}
}
