package backendtest_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/internal/testkit"
	"github.com/mfakit/mfa/recovery"
	"github.com/mfakit/mfa/totp"
)

// A grant is redeemed exactly once, however many instances (Managers on
// one store) race with it, and exactly one of concurrent approve and deny
// decides. On every backend.
func TestRecoveryExactlyOnce(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			o := b.open(t)
			st, ok := o.concerns.(recovery.Store)
			if !ok {
				t.Fatalf("%T does not keep recovery cases", o.concerns)
			}
			clk := newClock()
			v := passkeyVerifier(t, o.concerns, clk)
			user := randName("alice")
			en, err := v.BeginEnrollment(ctx, mfa.EnrollRequest{UserID: user, Kind: mfa.KindTOTP})
			if err != nil {
				t.Fatal(err)
			}
			setup, _ := mfa.ShowAs[*totp.Setup](en.Show)
			if _, err := v.ConfirmEnrollment(ctx, mfa.ConfirmRequest{UserID: user, FactorID: en.FactorID, Response: testkit.TOTPCode(t, setup.Secret, clk.Now())}); err != nil {
				t.Fatal(err)
			}
			const instances, racers = 4, 32
			ms := make([]*recovery.Manager, instances)
			for i := range ms {
				ms[i], err = recovery.New(recovery.Config{
					Store: st, Verifier: v, Now: clk.Now,
					Notify: func(context.Context, recovery.Event) error { return nil },
				})
				if err != nil {
					t.Fatal(err)
				}
			}
			race := func(fn func(i int) error) (ok int) {
				var wg sync.WaitGroup
				var mu sync.Mutex
				start := make(chan struct{})
				for i := range racers {
					wg.Go(func() {
						<-start
						err := fn(i)
						mu.Lock()
						defer mu.Unlock()
						switch {
						case err == nil:
							ok++
						case !errors.Is(err, recovery.ErrState):
							t.Errorf("racer %d: %v", i, err)
						}
					})
				}
				close(start)
				wg.Wait()
				return ok
			}

			open := func() *recovery.Opened {
				op, err := ms[0].Open(ctx, recovery.OpenRequest{UserID: user, Validator: "test"})
				if err != nil {
					t.Fatal(err)
				}
				return op
			}
			decide := open()
			n := race(func(i int) error {
				d := recovery.Decision{CaseID: decide.Case.ID, Operator: "op"}
				var err error
				if i%2 == 0 {
					_, err = ms[i%instances].Approve(ctx, d)
				} else {
					_, err = ms[i%instances].Deny(ctx, d)
				}
				return err
			})
			if n != 1 {
				t.Fatalf("%d of %d approve and deny decided, want 1", n, racers)
			}

			redeem := open()
			if _, err := ms[1].Approve(ctx, recovery.Decision{CaseID: redeem.Case.ID, Operator: "op"}); err != nil {
				t.Fatal(err)
			}
			clk.Add(25 * time.Hour)
			n = race(func(i int) error {
				_, err := ms[i%instances].Redeem(ctx, recovery.RedeemRequest{UserID: user, Token: redeem.Token})
				return err
			})
			if n != 1 {
				t.Fatalf("%d of %d redemptions succeeded, want 1", n, racers)
			}
			c, err := ms[0].Case(ctx, redeem.Case.ID)
			if err != nil || c.State != recovery.Redeemed {
				t.Fatalf("case after the race: %q, %v", c.State, err)
			}
		})
	}
}
