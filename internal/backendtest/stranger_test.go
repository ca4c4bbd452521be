package backendtest_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/go-webauthn/webauthn/protocol"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/internal/testkit"
	"github.com/mfakit/mfa/totp"
	"github.com/mfakit/mfa/webauthn"
)

const (
	rpID   = "example.com"
	origin = "https://example.com"
)

// passkeyVerifier is a Verifier with TOTP and WebAuthn over the store s.
func passkeyVerifier(tb testing.TB, s mfa.Store, clk *testkit.Clock) *mfa.Verifier {
	tb.Helper()
	tf, err := totp.New(totp.Config{Issuer: "x"})
	if err != nil {
		tb.Fatal(err)
	}
	wf, err := webauthn.New(webauthn.Config{RPID: rpID, RPDisplayName: "Example", Origins: []string{origin}})
	if err != nil {
		tb.Fatal(err)
	}
	kr, err := mfa.NewKeyring(sealKey)
	if err != nil {
		tb.Fatal(err)
	}
	v, err := mfa.New(mfa.Config{Store: s, Factors: []mfa.Factor{tf, wf}, Sealer: kr, HashKey: hashKey, Now: clk.Now})
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

// registerPasskey registers a as a passkey of user.
func registerPasskey(tb testing.TB, v *mfa.Verifier, clk *testkit.Clock, user string, a *testkit.Authenticator) {
	tb.Helper()
	ctx := context.Background()
	en, err := v.BeginEnrollment(ctx, mfa.EnrollRequest{UserID: user, Kind: mfa.KindWebAuthn, Account: user, AuthTime: clk.Now()})
	if err != nil {
		tb.Fatal(err)
	}
	cc, err := mfa.ShowAs[*protocol.CredentialCreation](en.Show)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := v.ConfirmEnrollment(ctx, mfa.ConfirmRequest{UserID: user, ChallengeID: en.ChallengeID, Response: a.Create(cc), Name: "Key", AuthTime: clk.Now()}); err != nil {
		tb.Fatal(err)
	}
}

// passkeyChallenge issues a user-less challenge, as a sign-in page does
// for anyone who opens it.
func passkeyChallenge(tb testing.TB, v *mfa.Verifier, binding, ip string) (string, *protocol.CredentialAssertion) {
	tb.Helper()
	ch, err := v.Challenge(context.Background(), mfa.ChallengeRequest{Kind: mfa.KindWebAuthn, Binding: binding, IP: ip})
	if err != nil {
		tb.Fatal(err)
	}
	ca, err := mfa.ShowAs[*protocol.CredentialAssertion](ch.Show)
	if err != nil {
		tb.Fatal(err)
	}
	return ch.ID, ca
}

// A stranger who knows only a victim's credential ID sends passkey
// sign-ins that name it: without a challenge, with a challenge of their
// own and a forged signature, from no IP, one IP, or a new IP each time.
// Over a simulated day the victim signs in with TOTP every ten minutes and
// with the passkey at the end: every sign-in succeeds, and the victim's
// failure counter stays at zero, on every backend.
func TestStrangerCannotLockOutThroughPasskeys(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			o := b.open(t)
			clk := newClock()
			v := passkeyVerifier(t, o.concerns, clk)
			victim := randName("victim")
			fid, setup := enrollTOTP(t, v, clk, victim)
			key := testkit.NewAuthenticator(origin, testkit.FlagUV)
			registerPasskey(t, v, clk, victim, key)

			credID := base64.RawURLEncoding.EncodeToString(key.ID)
			bare := fmt.Sprintf(`{"id":%q,"rawId":%q,"type":"public-key","response":{}}`, credID, credID)
			attack := func(n int) {
				ip := ""
				switch n % 3 {
				case 1:
					ip = "203.0.113.9"
				case 2:
					ip = fmt.Sprintf("198.51.100.%d", n%250)
				}
				// No challenge at all.
				if _, err := v.Verify(ctx, mfa.VerifyRequest{Kind: mfa.KindWebAuthn, Response: bare, IP: ip}); err == nil {
					t.Fatal("a bare credential ID signed in")
				}
				// A challenge of the attacker's own and a forged signature:
				// the real key's answer to it, signature tampered.
				chID, opts := passkeyChallenge(t, v, "attacker", ip)
				forged := key.Get(opts, testkit.TamperSignature())
				if _, err := v.Verify(ctx, mfa.VerifyRequest{Kind: mfa.KindWebAuthn, ChallengeID: chID, Binding: "attacker", Response: forged, IP: ip}); err == nil {
					t.Fatal("a forged assertion signed in")
				}
			}

			const rounds = 144 // a day, every ten minutes
			ok, n := 0, 0
			for range rounds {
				for range 5 {
					attack(n)
					n++
				}
				code := testkit.TOTPCode(t, setup.Secret, clk.Now())
				if _, err := v.Verify(ctx, mfa.VerifyRequest{UserID: victim, FactorID: fid, Response: code, IP: "192.0.2.10"}); err == nil {
					ok++
				} else {
					t.Logf("victim's TOTP sign-in at %s: %v", clk.Now().Format(time.Kitchen), err)
				}
				clk.Add(10 * time.Minute)
			}
			if l, err := v.Lockout(ctx, victim); err != nil || l.Failures != 0 || l.Locked {
				t.Errorf("victim's counter after %d attack requests: %+v, %v", 2*n, l, err)
			}
			chID, opts := passkeyChallenge(t, v, "victim-browser", "192.0.2.10")
			res, err := v.Verify(ctx, mfa.VerifyRequest{Kind: mfa.KindWebAuthn, ChallengeID: chID, Binding: "victim-browser", Response: key.Get(opts), IP: "192.0.2.10"})
			if err != nil || res.UserID != victim {
				t.Errorf("victim's passkey sign-in after the attack: %+v, %v", res, err)
			}
			t.Logf("%s: victim signed in %d of %d times with TOTP under %d attack requests", b.name, ok, rounds, 2*n)
			if ok != rounds {
				t.Errorf("victim signed in %d of %d times", ok, rounds)
			}
		})
	}
}

// The attempts are still limited: one IP sending bare credential IDs is
// refused once its counter's free failures are spent.
func TestStrangerStillLimitedByIP(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			o := b.open(t)
			clk := newClock()
			v := passkeyVerifier(t, o.concerns, clk)
			victim := randName("victim")
			key := testkit.NewAuthenticator(origin, 0)
			registerPasskey(t, v, clk, victim, key)
			credID := base64.RawURLEncoding.EncodeToString(key.ID)
			bare := fmt.Sprintf(`{"id":%q,"rawId":%q,"type":"public-key","response":{}}`, credID, credID)
			for i := range 20 {
				if _, err := v.Verify(ctx, mfa.VerifyRequest{Kind: mfa.KindWebAuthn, Response: bare, IP: "203.0.113.7"}); !errors.Is(err, mfa.ErrExpired) {
					t.Fatalf("attempt %d: %v, want ErrExpired", i+1, err)
				}
			}
			if _, err := v.Verify(ctx, mfa.VerifyRequest{Kind: mfa.KindWebAuthn, Response: bare, IP: "203.0.113.7"}); !errors.Is(err, mfa.ErrRateLimited) {
				t.Fatalf("attempt 21: %v, want ErrRateLimited", err)
			}
		})
	}
}

// One IP asking for anonymous passkey challenges gets the default cap of
// them per window and no more, on every backend.
func TestChallengeIssueCappedPerIP(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			o := b.open(t)
			clk := newClock()
			v := passkeyVerifier(t, o.concerns, clk)
			ip := "203.0.113." + fmt.Sprint(len(b.name))
			issued := 0
			var last error
			for range 300 {
				_, err := v.Challenge(context.Background(), mfa.ChallengeRequest{Kind: mfa.KindWebAuthn, Binding: "anon", IP: ip})
				if err != nil {
					last = err
					continue
				}
				issued++
			}
			t.Logf("%s: %d of 300 challenges issued to one IP", b.name, issued)
			if issued != 100 || !errors.Is(last, mfa.ErrRateLimited) {
				t.Fatalf("%d challenges issued, last refusal %v; want 100 and ErrRateLimited", issued, last)
			}
		})
	}
}
