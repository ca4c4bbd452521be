package sqlstore_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/internal/testkit"
	"github.com/mfakit/mfa/store"
)

// counting records the store calls a Verifier makes.
type counting struct {
	mfa.Store
	mu    sync.Mutex
	calls []string
}

func (c *counting) record(name string) {
	c.mu.Lock()
	c.calls = append(c.calls, name)
	c.mu.Unlock()
}

func (c *counting) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	calls := c.calls
	c.calls = nil
	return calls
}

func (c *counting) Hit(ctx context.Context, req store.HitRequest) (store.HitResult, error) {
	c.record("Hit")
	return c.Store.Hit(ctx, req)
}

func (c *counting) Advance(ctx context.Context, req store.Advance) error {
	c.record("Advance")
	return c.Store.Advance(ctx, req)
}

func (c *counting) GetFactor(ctx context.Context, userID, id string) (store.Factor, error) {
	c.record("GetFactor")
	return c.Store.GetFactor(ctx, userID, id)
}

func (c *counting) ListFactors(ctx context.Context, userID string) ([]store.Factor, error) {
	c.record("ListFactors")
	return c.Store.ListFactors(ctx, userID)
}

func (c *counting) Reset(ctx context.Context, keys ...store.CounterKey) error {
	c.record("Reset")
	return c.Store.Reset(ctx, keys...)
}

func (c *counting) UpdateFactor(ctx context.Context, f store.Factor) error {
	c.record("UpdateFactor")
	return c.Store.UpdateFactor(ctx, f)
}

// TestRoundTrips checks, on each dialect, that a successful TOTP
// verification costs two store calls (Hit with the factor loaded, then
// Advance with the counters reset) and a rate-limited one a single Hit.
func TestRoundTrips(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			s, _ := newStore(t, b)
			cs := &counting{Store: s}
			now := t0
			v, err := newVerifier(cs, func() time.Time { return now }, strictLimits)
			if err != nil {
				t.Fatal(err)
			}
			fid, secret := enrol(t, v, "alice")
			ctx := context.Background()

			now = t0.Add(gap)
			cs.take()
			if _, err := v.Verify(ctx, mfa.VerifyRequest{UserID: "alice", FactorID: fid, IP: "192.0.2.1", Response: testkit.TOTPCode(t, secret, now)}); err != nil {
				t.Fatal(err)
			}
			if got := cs.take(); !slices.Equal(got, []string{"Hit", "Advance"}) {
				t.Errorf("successful verification: store calls %v, want [Hit Advance]", got)
			}

			wrong := testkit.WrongTOTPCode(t, secret, now)
			for range 5 {
				if _, err := v.Verify(ctx, mfa.VerifyRequest{UserID: "alice", FactorID: fid, IP: "192.0.2.1", Response: wrong}); !errors.Is(err, mfa.ErrWrongCode) {
					t.Fatalf("wrong code: %v", err)
				}
			}
			cs.take()
			_, err = v.Verify(ctx, mfa.VerifyRequest{UserID: "alice", FactorID: fid, IP: "192.0.2.1", Response: testkit.TOTPCode(t, secret, now)})
			if !errors.Is(err, mfa.ErrRateLimited) {
				t.Fatalf("sixth attempt: %v, want ErrRateLimited", err)
			}
			if got := cs.take(); !slices.Equal(got, []string{"Hit"}) {
				t.Errorf("rate-limited verification: store calls %v, want [Hit]", got)
			}
		})
	}
}
