package mfa_test

import (
	"context"
	"errors"
	"testing"

	"github.com/mfakit/mfa"
)

// Reseal refuses what it cannot do before touching anything: a store that
// cannot be walked, a batch out of range, a cursor the store did not make.
func TestResealBadInput(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	walkless := newEnv(t, func(c *mfa.Config) { c.Store = struct{ mfa.Store }{c.Store} })
	for _, tc := range []struct {
		name string
		v    *mfa.Verifier
		opts mfa.ResealOptions
		want error
	}{
		{"store without a walk", walkless.v, mfa.ResealOptions{}, mfa.ErrConfig},
		{"negative batch", e.v, mfa.ResealOptions{Batch: -1}, mfa.ErrConfig},
		{"batch too large", e.v, mfa.ResealOptions{Batch: 1001}, mfa.ErrConfig},
		{"foreign cursor", e.v, mfa.ResealOptions{Cursor: "%%%"}, mfa.ErrInvalidInput},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := tc.v.Reseal(ctx, tc.opts); !errors.Is(err, tc.want) {
				t.Fatalf("Reseal = %v, want %v", err, tc.want)
			}
		})
	}
}

// A secret that opens under no key of the ring is counted as Failed and
// left as it is; the walk goes on, re-seals the others and ends with an
// error wrapping ErrSealed.
func TestResealCountsWhatDoesNotOpen(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.enrollTOTP(t, "alice")
	stranger, err := mfa.NewKeyring(testKey("k0", 9))
	if err != nil {
		t.Fatal(err)
	}
	other := newEnv(t, func(c *mfa.Config) { c.Store, c.Sealer = e.st, stranger })
	other.enrollTOTP(t, "bob")

	rotated, err := mfa.NewKeyring(testKey("k2", 2), testKey("k1", 1))
	if err != nil {
		t.Fatal(err)
	}
	v := newEnv(t, func(c *mfa.Config) { c.Store, c.Sealer = e.st, rotated }).v
	p, err := v.Reseal(ctx, mfa.ResealOptions{Batch: 1})
	if !errors.Is(err, mfa.ErrSealed) || p.Failed != 1 || p.Resealed != 1 || p.Scanned != 2 {
		t.Fatalf("Reseal = %+v, %v; want 1 failed, 1 resealed, ErrSealed", p, err)
	}
}
