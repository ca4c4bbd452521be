package backendtest_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/backupcodes"
	"github.com/mfakit/mfa/internal/testkit"
	"github.com/mfakit/mfa/session"
)

// sessions is a session Manager on s hashing with h.
func sessions(tb testing.TB, s concerns, clk *testkit.Clock, h *mfa.Hasher) *session.Manager {
	tb.Helper()
	key, err := session.GenerateEd25519Key("k1", bytes.NewReader(bytes.Repeat([]byte{3}, 32)))
	if err != nil {
		tb.Fatal(err)
	}
	ks, err := session.NewKeySet(key)
	if err != nil {
		tb.Fatal(err)
	}
	m, err := session.New(session.Config{Issuer: "https://i", Audience: "https://a", Store: s, Hasher: h, Keys: ks, Now: clk.Now})
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// The hash key rotates on every backend: backup codes, refresh tokens and
// remembered devices made under the original key keep working while it
// stays in the ring, and those made under the new key (its ID as long as
// allowed, so the stored stamps are as long as they get) keep working
// once it is the only key.
func TestHashKeyRotation(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			o := b.open(t)
			clk := newClock()
			user := randName("rot")
			v := newVerifier(t, o.concerns, clk, mfa.Limits{})
			en, err := v.BeginEnrollment(ctx, mfa.EnrollRequest{UserID: user, Kind: mfa.KindBackupCodes})
			if err != nil {
				t.Fatal(err)
			}
			codes := en.Show.(*backupcodes.Codes).List
			res, err := v.Verify(ctx, mfa.VerifyRequest{UserID: user, Kind: mfa.KindBackupCodes, Response: codes[0]})
			if err != nil {
				t.Fatal(err)
			}
			old := sessions(t, o.concerns, clk, v.Hasher())
			tok, err := old.Start(ctx, user, res)
			if err != nil {
				t.Fatal(err)
			}
			dev, err := old.Remember(ctx, user, "laptop", 0)
			if err != nil {
				t.Fatal(err)
			}

			newKey := mfa.HashKey{ID: strings.Repeat("n", mfa.MaxHashKeyIDLen), Secret: bytes.Repeat([]byte{0x43}, 32)}
			ring, err := mfa.NewHasherRing(newKey, mfa.HashKey{Secret: hashKey})
			if err != nil {
				t.Fatal(err)
			}
			m := sessions(t, o.concerns, clk, ring)
			if _, err := v.Verify(ctx, mfa.VerifyRequest{UserID: user, Kind: mfa.KindBackupCodes, Response: codes[1]}); err != nil {
				t.Fatalf("old-key backup code: %v", err)
			}
			next, err := m.Refresh(ctx, tok.RefreshToken)
			if err != nil {
				t.Fatalf("old-key refresh token: %v", err)
			}
			if err := m.CheckDevice(ctx, user, dev); err != nil {
				t.Fatalf("old-key device: %v", err)
			}
			dev2, err := m.Remember(ctx, user, "phone", 0)
			if err != nil {
				t.Fatal(err)
			}

			only, err := mfa.NewHasherRing(newKey)
			if err != nil {
				t.Fatal(err)
			}
			m = sessions(t, o.concerns, clk, only)
			if _, err := m.Refresh(ctx, next.RefreshToken); err != nil {
				t.Fatalf("new-key refresh token: %v", err)
			}
			if err := m.CheckDevice(ctx, user, dev2); err != nil {
				t.Fatalf("new-key device: %v", err)
			}
			if err := m.CheckDevice(ctx, user, dev); err == nil {
				t.Fatal("a device under a retired key was accepted")
			}
		})
	}
}
