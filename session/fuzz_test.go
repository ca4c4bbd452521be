package session_test

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/session"
)

// FuzzVerifyAccess: the JWT parser never panics, refuses every input with
// an ErrInvalidToken, and accepts nothing but the exact token it issued
// (Ed25519 signatures are not malleable and base64 is decoded strictly).
func FuzzVerifyAccess(f *testing.F) {
	fx := newFixture(f, deterministic)
	good := fx.start(f, user, mfa.AAL2).AccessToken
	pending, _, _ := fx.m.IssuePending(ctx, user, []mfa.FactorInfo{{ID: "f1", Kind: mfa.KindTOTP, Active: true}})
	for _, s := range []string{good, pending, "", "a.b.c", good[:len(good)-1], strings.ToUpper(good), good + "=", "e30.e30.e30"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		c, err := fx.m.VerifyAccess(tok)
		if err == nil {
			if tok != good || c.Subject != user {
				t.Fatalf("accepted a token it did not issue: %q", tok)
			}
			return
		}
		if !errors.Is(err, session.ErrInvalidToken) {
			t.Fatalf("error %v is not ErrInvalidToken", err)
		}
		if _, err := fx.m.VerifyPending(tok); err == nil && tok != pending {
			t.Fatalf("accepted a pending token it did not issue: %q", tok)
		}
	})
}

// FuzzRefreshToken: the opaque-token parser never panics and nothing but
// a current refresh token rotates.
func FuzzRefreshToken(f *testing.F) {
	fx := newFixture(f, deterministic)
	live := fx.start(f, user, mfa.AAL2).RefreshToken
	for _, s := range []string{live, "", ".", live[:22], live + "A", strings.Repeat("A", 22) + "." + strings.Repeat("A", 43)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		if tok == live {
			return // rotating it would retire the seed for every later input
		}
		_, err := fx.m.Refresh(ctx, tok)
		if err == nil || !errors.Is(err, session.ErrInvalidToken) {
			t.Fatalf("Refresh(%q) = %v, want an ErrInvalidToken", tok, err)
		}
		if err := fx.m.CheckDevice(ctx, user, tok); !errors.Is(err, session.ErrDevice) {
			t.Fatalf("CheckDevice(%q) = %v, want ErrDevice", tok, err)
		}
	})
}

// deterministic makes IDs and secrets the same in every fuzzing worker, so
// the seed tokens of one process are the tokens of every other.
func deterministic(c *session.Config) {
	c.Rand = rand.NewChaCha8([32]byte{1})
}
