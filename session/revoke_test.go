package session_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/session"
	"github.com/mfakit/mfa/totp"
)

// A factor change ends the user's other sessions and devices, keeps the
// session that made it, and leaves other users alone.
func TestRevokeOnFactorChange(t *testing.T) {
	for _, typ := range []mfa.EventType{mfa.EventEnrollConfirmed, mfa.EventFactorRemoved, mfa.EventCodesRegenerated} {
		t.Run(string(typ), func(t *testing.T) {
			f := newFixture(t)
			ctx := context.Background()
			current := f.start(t, user, mfa.AAL2)
			f.start(t, user, mfa.AAL2)
			f.start(t, "bob", mfa.AAL2)
			if _, err := f.m.Remember(ctx, user, "laptop", time.Hour); err != nil {
				t.Fatal(err)
			}
			claims, err := f.m.VerifyAccess(current.AccessToken)
			if err != nil {
				t.Fatal(err)
			}
			hook := f.m.RevokeOnFactorChange()
			if err := hook(session.WithClaims(ctx, claims), mfa.Event{Type: typ, UserID: user}); err != nil {
				t.Fatal(err)
			}
			live, err := f.m.Sessions(ctx, user)
			if err != nil {
				t.Fatal(err)
			}
			if len(live) != 1 || live[0].ID != claims.SessionID {
				t.Fatalf("live sessions after %s: %+v, want only %s", typ, live, claims.SessionID)
			}
			if devs, _ := f.m.Devices(ctx, user); len(devs) != 0 {
				t.Fatalf("devices after %s: %+v", typ, devs)
			}
			if others, _ := f.m.Sessions(ctx, "bob"); len(others) != 1 {
				t.Fatalf("bob's sessions: %+v", others)
			}
		})
	}
}

// Without a session in ctx every session ends; other events change
// nothing.
func TestRevokeOnFactorChangeScope(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.start(t, user, mfa.AAL2)
	hook := f.m.RevokeOnFactorChange()
	for _, typ := range []mfa.EventType{mfa.EventVerifySucceeded, mfa.EventVerifyFailed, mfa.EventEnrollBegun, mfa.EventLocked} {
		if err := hook(ctx, mfa.Event{Type: typ, UserID: user}); err != nil {
			t.Fatal(err)
		}
	}
	if live, _ := f.m.Sessions(ctx, user); len(live) != 1 {
		t.Fatalf("sessions after unrelated events: %d, want 1", len(live))
	}
	// Another user's claims in ctx do not protect this user's sessions.
	other := f.accessClaims()
	other.Subject = "mallory"
	if err := hook(session.WithClaims(ctx, other), mfa.Event{Type: mfa.EventFactorRemoved, UserID: user}); err != nil {
		t.Fatal(err)
	}
	if live, _ := f.m.Sessions(ctx, user); len(live) != 0 {
		t.Fatalf("sessions after a removal with no session of the user in ctx: %d, want 0", len(live))
	}
}

// Wired into a Verifier, removing a factor ends the other sessions.
func TestRevokeOnFactorChangeWithVerifier(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	kr, err := mfa.NewKeyring(mfa.Key{ID: "k", Secret: make([]byte, 32)})
	if err != nil {
		t.Fatal(err)
	}
	v, err := mfa.New(mfa.Config{
		Store: f.store, Factors: []mfa.Factor{newTOTP(t)}, Sealer: kr, HashKey: hashKey,
		Now: f.clk.Now, Hooks: []mfa.Hook{f.m.RevokeOnFactorChange()},
	})
	if err != nil {
		t.Fatal(err)
	}
	en, err := v.BeginEnrollment(ctx, mfa.EnrollRequest{UserID: user, Kind: mfa.KindTOTP})
	if err != nil {
		t.Fatal(err)
	}
	f.start(t, user, mfa.AAL2)
	if err := v.RemoveFactor(ctx, mfa.ChangeRequest{UserID: user, FactorID: en.FactorID}); err != nil {
		t.Fatal(err)
	}
	if live, _ := f.m.Sessions(ctx, user); len(live) != 0 {
		t.Fatalf("sessions after RemoveFactor: %d, want 0", len(live))
	}
	if err := v.RemoveFactor(ctx, mfa.ChangeRequest{UserID: user, FactorID: en.FactorID}); !errors.Is(err, mfa.ErrNotFound) {
		t.Fatalf("second remove: %v", err)
	}
}

func newTOTP(t testing.TB) mfa.Factor {
	t.Helper()
	tf, err := totp.New(totp.Config{Issuer: "Example"})
	if err != nil {
		t.Fatal(err)
	}
	return tf
}
