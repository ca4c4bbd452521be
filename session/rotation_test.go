package session_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/session"
)

// After the hash key rotates (the old key kept in the ring with the empty
// ID), refresh tokens and remembered devices issued under the old key keep
// working; a refresh replaces the token with one under the new key. Once
// the old key leaves the ring, what it made is refused.
func TestHashKeyRotation(t *testing.T) {
	ctx := context.Background()
	old := newFixture(t)
	tok := old.start(t, user, mfa.AAL2)
	dev, err := old.m.Remember(ctx, user, "laptop", 0)
	if err != nil {
		t.Fatal(err)
	}
	newKey := bytes.Repeat([]byte{10}, 32)
	ring := func(keys ...mfa.HashKey) func(*session.Config) {
		return func(c *session.Config) {
			h, err := mfa.NewHasherRing(keys[0], keys[1:]...)
			if err != nil {
				t.Fatal(err)
			}
			c.Hasher, c.Store = h, old.store
		}
	}
	rotated := newFixture(t, ring(mfa.HashKey{ID: "2027-01", Secret: newKey}, mfa.HashKey{Secret: hashKey}))
	if err := rotated.m.CheckDevice(ctx, user, dev); err != nil {
		t.Fatalf("device remembered under the old key: %v", err)
	}
	if _, err := rotated.m.Refresh(ctx, tok.RefreshToken); err != nil {
		t.Fatalf("refresh token issued under the old key: %v", err)
	}
	// The old token was rotated away: presenting it again is reuse.
	if _, err := rotated.m.Refresh(ctx, tok.RefreshToken); err == nil {
		t.Fatal("a used refresh token was accepted after rotation")
	}
	tok2 := rotated.start(t, user, mfa.AAL2)
	dev2, err := rotated.m.Remember(ctx, user, "phone", 0)
	if err != nil {
		t.Fatal(err)
	}
	retired := newFixture(t, ring(mfa.HashKey{ID: "2027-01", Secret: newKey}))
	if _, err := retired.m.Refresh(ctx, tok2.RefreshToken); err != nil {
		t.Fatalf("new-key token after the old key left the ring: %v", err)
	}
	if err := retired.m.CheckDevice(ctx, user, dev2); err != nil {
		t.Fatalf("new-key device: %v", err)
	}
	if err := retired.m.CheckDevice(ctx, user, dev); !errors.Is(err, session.ErrDevice) {
		t.Fatalf("old-key device after the old key left the ring: %v, want ErrDevice", err)
	}
}
