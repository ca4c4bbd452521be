package webauthn_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/internal/testkit"
	"github.com/mfakit/mfa/store"
	"github.com/mfakit/mfa/webauthn"
)

// scene is alice and bob, each with one registered security key that
// counts signatures.
type scene struct {
	e          *env
	alice, bob *testkit.Authenticator
	aliceID    string
	bobID      string
}

func newScene(t *testing.T, opts ...options) *scene {
	t.Helper()
	var flags byte
	for _, o := range opts {
		flags |= o.flags
	}
	s := &scene{e: newEnv(t, opts...), alice: testkit.NewAuthenticator(origin, flags), bob: testkit.NewAuthenticator(origin, flags)}
	s.alice.Count, s.bob.Count = 5, 7
	s.aliceID = s.e.register(t, "alice", s.alice)
	s.bobID = s.e.register(t, "bob", s.bob)
	return s
}

// attempt prepares one sign-in attempt (everything that may legitimately
// change the store happens here) and returns the attempt itself.
type attempt func(t *testing.T, s *scene) func() error

// answer is alice's key answering a fresh challenge for alice, tweaked.
func answer(tw ...testkit.Tweak) attempt {
	return func(t *testing.T, s *scene) func() error {
		chID, opts := s.e.challenge(t, "alice", "", "p")
		resp := s.alice.Get(opts, tw...)
		return func() error { _, err := s.e.verify("alice", chID, "p", resp); return err }
	}
}

// respond sends a fixed response to a fresh challenge for alice.
func respond(response string) attempt {
	return func(t *testing.T, s *scene) func() error {
		chID, _ := s.e.challenge(t, "alice", "", "p")
		return func() error { _, err := s.e.verify("alice", chID, "p", response); return err }
	}
}

// padded is a valid assertion grown past size with an extra member.
func padded(size int) attempt {
	return func(t *testing.T, s *scene) func() error {
		chID, opts := s.e.challenge(t, "alice", "", "p")
		resp := s.alice.Get(opts)
		resp = resp[:len(resp)-1] + `,"pad":"` + strings.Repeat("A", size) + `"}`
		return func() error { _, err := s.e.verify("alice", chID, "p", resp); return err }
	}
}

func TestAssertionBadInput(t *testing.T) {
	required := options{flags: testkit.FlagUV, factor: func(c *webauthn.Config) { c.UserVerification = webauthn.UserVerificationRequired }}
	cases := []struct {
		name string
		opts []options
		try  attempt
		want error
		text string // in the error's message
	}{
		{name: "wrong origin", try: answer(testkit.WithOrigin("https://evil.example")), want: mfa.ErrWrongCode, text: "Error validating origin"},
		{name: "origin on RP ID but not allowed", try: answer(testkit.WithOrigin("https://shop.example.com")), want: mfa.ErrWrongCode, text: "Error validating origin"},
		{name: "wrong RP ID hash", try: answer(testkit.WithRPID("evil.example")), want: mfa.ErrWrongCode, text: "RP Hash mismatch"},
		{name: "registration client data", try: answer(testkit.WithType("webauthn.create")), want: mfa.ErrWrongCode, text: "ceremony type"},
		{name: "response to another challenge", try: answer(testkit.WithChallenge([]byte("0123456789abcdef0123456789abcdef"))), want: mfa.ErrChallengeMismatch, text: "another challenge"},
		{name: "tampered signature", try: answer(testkit.TamperSignature()), want: mfa.ErrWrongCode, text: "signature"},
		{name: "tampered authenticator data", try: answer(testkit.TamperAuthData()), want: mfa.ErrWrongCode, text: "signature"},
		{name: "user presence missing", try: answer(testkit.WithoutFlags(testkit.FlagUP)), want: mfa.ErrWrongCode, text: "User presence required"},
		{name: "user verification missing when required", opts: []options{required}, try: answer(testkit.WithoutFlags(testkit.FlagUV)), want: mfa.ErrWrongCode, text: "User verification required"},
		{name: "backup state without backup eligible", try: answer(testkit.WithFlags(testkit.FlagUP | testkit.FlagBS)), want: mfa.ErrWrongCode, text: "Backup State Flag is true but Backup Eligible flag is false"},
		{name: "backup eligibility changed", try: answer(testkit.WithFlags(testkit.FlagUP | testkit.FlagBE)), want: mfa.ErrWrongCode, text: "Backup Eligible flag inconsistency"},
		{name: "sign count regressed", try: answer(testkit.WithCount(3)), want: webauthn.ErrSignCountRegressed, text: "stored 5, presented 3"},
		{name: "sign count repeated", try: answer(testkit.WithCount(5)), want: mfa.ErrReplayed, text: "did not increase"},
		{name: "malformed JSON", try: respond(`{"id":`), want: mfa.ErrMalformedResponse, text: "not JSON"},
		{name: "JSON that is no assertion", try: respond(`{"id":"AAAA","rawId":"AAAA","type":"public-key"}`), want: mfa.ErrNotFound},
		{name: "id and rawId differ", try: respond(`{"id":"AAAA","rawId":"AAAB","type":"public-key"}`), want: mfa.ErrMalformedResponse, text: "names no credential"},
		{name: "oversized JSON", try: padded(webauthn.MaxAssertionSize), want: mfa.ErrMalformedResponse, text: "longer than 16384 bytes"},
		{name: "oversized JSON for the Verifier", try: padded(70 << 10), want: mfa.ErrMalformedResponse, text: "longer than 65536 bytes"},
		{name: "credential ID over 1023 bytes", try: answer(testkit.WithCredentialID(make([]byte, 1024))), want: mfa.ErrMalformedResponse, text: "longer than 1023 bytes"},
		{name: "unknown credential", try: answer(testkit.WithCredentialID([]byte("not registered anywhere"))), want: mfa.ErrNotFound},
		{
			name: "replayed challenge",
			try: func(t *testing.T, s *scene) func() error {
				chID, opts := s.e.challenge(t, "alice", "", "p")
				resp := s.alice.Get(opts)
				if _, err := s.e.verify("alice", chID, "p", resp); err != nil {
					t.Fatal(err)
				}
				return func() error { _, err := s.e.verify("alice", chID, "p", resp); return err }
			},
			want: mfa.ErrExpired,
		},
		{
			name: "expired challenge",
			try: func(t *testing.T, s *scene) func() error {
				chID, opts := s.e.challenge(t, "alice", "", "p")
				resp := s.alice.Get(opts)
				s.e.clk.Add(webauthn.DefaultTimeout)
				return func() error { _, err := s.e.verify("alice", chID, "p", resp); return err }
			},
			want: mfa.ErrExpired,
		},
		{
			name: "challenge of another user",
			try: func(t *testing.T, s *scene) func() error {
				chID, opts := s.e.challenge(t, "bob", "", "p")
				resp := s.alice.Get(opts)
				return func() error { _, err := s.e.verify("alice", chID, "p", resp); return err }
			},
			want: mfa.ErrChallengeMismatch,
		},
		{
			name: "challenge of another sign-in attempt",
			try: func(t *testing.T, s *scene) func() error {
				chID, opts := s.e.challenge(t, "alice", "", "p")
				resp := s.alice.Get(opts)
				return func() error { _, err := s.e.verify("alice", chID, "other", resp); return err }
			},
			want: mfa.ErrChallengeMismatch,
		},
		{
			name: "challenge for another of the user's keys",
			try: func(t *testing.T, s *scene) func() error {
				second := testkit.NewAuthenticator(origin, 0)
				s.e.register(t, "alice", second)
				chID, opts := s.e.challenge(t, "alice", s.aliceID, "p")
				resp := second.Get(opts)
				return func() error { _, err := s.e.verify("alice", chID, "p", resp); return err }
			},
			want: mfa.ErrChallengeMismatch,
		},
		{
			name: "credential of another user",
			try: func(t *testing.T, s *scene) func() error {
				chID, opts := s.e.challenge(t, "alice", "", "p")
				resp := s.bob.Get(opts)
				return func() error { _, err := s.e.verify("alice", chID, "p", resp); return err }
			},
			want: mfa.ErrNotFound, text: "another user",
		},
		{
			name: "credential of another user, factor named",
			try: func(t *testing.T, s *scene) func() error {
				chID, opts := s.e.challenge(t, "alice", s.aliceID, "p")
				resp := s.bob.Get(opts)
				return func() error {
					_, err := s.e.v.Verify(context.Background(), mfa.VerifyRequest{UserID: "alice", FactorID: s.aliceID, ChallengeID: chID, Binding: "p", Response: resp})
					return err
				}
			},
			want: mfa.ErrWrongCode, text: "another credential",
		},
		{
			name: "passkey challenge answered without the user's handle",
			try: func(t *testing.T, s *scene) func() error {
				chID, opts := s.e.challenge(t, "", "", "p")
				resp := s.alice.Get(opts, testkit.WithFlags(testkit.FlagUP|testkit.FlagUV), testkit.WithUserHandle(nil))
				return func() error { _, err := s.e.verify("", chID, "p", resp); return err }
			},
			want: mfa.ErrWrongCode, text: "blank User Handle",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newScene(t, tc.opts...)
			try := tc.try(t, s)
			before := snapshotFactors(t, s)
			err := try()
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.text) {
				t.Fatalf("err = %v, want %v mentioning %q", err, tc.want, tc.text)
			}
			if after := snapshotFactors(t, s); !sameFactors(before, after) {
				t.Fatalf("stored credentials changed:\n%+v\n%+v", before, after)
			}
		})
	}
}

func snapshotFactors(t *testing.T, s *scene) []store.Factor {
	t.Helper()
	var out []store.Factor
	for _, u := range []string{"alice", "bob"} {
		list, err := s.e.st.ListFactors(context.Background(), u)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, list...)
	}
	return out
}

func sameFactors(a, b []store.Factor) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !sameFactor(a[i], b[i]) {
			return false
		}
	}
	return true
}

func TestRegistrationBadInput(t *testing.T) {
	required := options{flags: testkit.FlagUV, factor: func(c *webauthn.Config) { c.UserVerification = webauthn.UserVerificationRequired }}
	// create registers alice's new key with the tweaks.
	create := func(tw ...testkit.Tweak) attempt {
		return func(t *testing.T, s *scene) func() error {
			id, cc := s.e.beginRegistration(t, "alice")
			resp := testkit.NewAuthenticator(origin, 0).Create(cc, tw...)
			return func() error { return confirm(s.e, "alice", id, resp) }
		}
	}
	send := func(response string) attempt {
		return func(t *testing.T, s *scene) func() error {
			id, _ := s.e.beginRegistration(t, "alice")
			return func() error { return confirm(s.e, "alice", id, response) }
		}
	}
	cases := []struct {
		name string
		opts []options
		try  attempt
		want error
		text string
	}{
		{name: "wrong origin", try: create(testkit.WithOrigin("https://evil.example")), want: mfa.ErrWrongCode, text: "Error validating origin"},
		{name: "wrong RP ID hash", try: create(testkit.WithRPID("evil.example")), want: mfa.ErrWrongCode, text: "RP Hash mismatch"},
		{name: "assertion client data", try: create(testkit.WithType("webauthn.get")), want: mfa.ErrWrongCode, text: "ceremony type"},
		{name: "response to another challenge", try: create(testkit.WithChallenge(make([]byte, 32))), want: mfa.ErrChallengeMismatch, text: "another challenge"},
		{name: "user presence missing", try: create(testkit.WithoutFlags(testkit.FlagUP)), want: mfa.ErrWrongCode, text: "User presence required"},
		{name: "user verification missing when required", opts: []options{required}, try: create(), want: mfa.ErrWrongCode, text: "User verification required"},
		{name: "backup state without backup eligible", try: create(testkit.WithFlags(testkit.FlagUP | testkit.FlagAT | testkit.FlagBS)), want: mfa.ErrWrongCode, text: "Backup State Flag is true but Backup Eligible flag is false"},
		{name: "credential ID over 1023 bytes", try: create(testkit.WithCredentialID(make([]byte, 1024))), want: mfa.ErrMalformedResponse, text: "longer than 1023 bytes"},
		{name: "malformed JSON", try: send(`{"id":`), want: mfa.ErrMalformedResponse, text: "not JSON"},
		{name: "JSON that is no registration", try: send(`{"id":"AAAA","rawId":"AAAA","type":"public-key"}`), want: mfa.ErrMalformedResponse, text: "Error parsing attestation response"},
		{name: "oversized JSON", try: send(`"` + strings.Repeat("A", webauthn.MaxRegistrationSize) + `"`), want: mfa.ErrMalformedResponse, text: "longer than 32768 bytes"},
		{
			name: "credential registered to another user",
			try: func(t *testing.T, s *scene) func() error {
				id, cc := s.e.beginRegistration(t, "alice")
				resp := s.bob.Create(cc)
				return func() error { return confirm(s.e, "alice", id, resp) }
			},
			want: store.ErrExists,
		},
		{
			name: "replayed registration",
			try: func(t *testing.T, s *scene) func() error {
				id, cc := s.e.beginRegistration(t, "alice")
				resp := testkit.NewAuthenticator(origin, 0).Create(cc)
				if err := confirm(s.e, "alice", id, resp); err != nil {
					t.Fatal(err)
				}
				return func() error { return confirm(s.e, "alice", id, resp) }
			},
			want: mfa.ErrExpired,
		},
		{
			name: "expired registration",
			try: func(t *testing.T, s *scene) func() error {
				id, cc := s.e.beginRegistration(t, "alice")
				resp := testkit.NewAuthenticator(origin, 0).Create(cc)
				s.e.clk.Add(5 * time.Minute)
				return func() error { return confirm(s.e, "alice", id, resp) }
			},
			want: mfa.ErrExpired,
		},
		{
			name: "registration begun for another user",
			try: func(t *testing.T, s *scene) func() error {
				id, cc := s.e.beginRegistration(t, "bob")
				resp := testkit.NewAuthenticator(origin, 0).Create(cc)
				return func() error { return confirm(s.e, "alice", id, resp) }
			},
			want: mfa.ErrChallengeMismatch,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newScene(t, tc.opts...)
			try := tc.try(t, s)
			before := snapshotFactors(t, s)
			err := try()
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.text) {
				t.Fatalf("err = %v, want %v mentioning %q", err, tc.want, tc.text)
			}
			if after := snapshotFactors(t, s); !sameFactors(before, after) {
				t.Fatalf("stored credentials changed:\n%+v\n%+v", before, after)
			}
		})
	}
}

func confirm(e *env, user, challengeID, response string) error {
	_, err := e.v.ConfirmEnrollment(context.Background(), mfa.ConfirmRequest{UserID: user, ChallengeID: challengeID, Response: response})
	return err
}

// TestCredentialIDLimit registers a credential ID of exactly 1023 bytes.
func TestCredentialIDLimit(t *testing.T) {
	e := newEnv(t)
	a := testkit.NewAuthenticator(origin, 0)
	a.ID = make([]byte, webauthn.MaxCredentialIDLen)
	if _, err := rand.Read(a.ID); err != nil {
		t.Fatal(err)
	}
	fid := e.register(t, "alice", a)
	chID, opts := e.challenge(t, "alice", "", "p")
	if res, err := e.verify("alice", chID, "p", a.Get(opts)); err != nil || res.FactorID != fid {
		t.Fatalf("verify = %+v, %v", res, err)
	}
	if l := e.factor(t, "alice", fid).Lookup; len(l) != 43 {
		t.Fatalf("lookup is %d bytes, want 43", len(l))
	}
}

// TestRegistrationManyTransports: a registration response listing more
// transports than a stored record can hold must not store a record that
// cannot be read back, which would leave the user unable to sign in with
// any of their keys or to add another.
func TestRegistrationManyTransports(t *testing.T) {
	s := newScene(t)
	id, cc := s.e.beginRegistration(t, "alice")
	var msg map[string]any
	if err := json.Unmarshal([]byte(testkit.NewAuthenticator(origin, 0).Create(cc)), &msg); err != nil {
		t.Fatal(err)
	}
	ts := make([]string, 17)
	for i := range ts {
		ts[i] = "usb"
	}
	msg["response"].(map[string]any)["transports"] = ts
	resp, err := json.Marshal(msg)
	if err != nil {
		t.Fatal(err)
	}
	err = confirm(s.e, "alice", id, string(resp))
	if !errors.Is(err, mfa.ErrMalformedResponse) {
		t.Errorf("registration with 17 transports: err = %v, want ErrMalformedResponse", err)
	}
	// Whatever the outcome, alice's first key still works.
	chID, opts := s.e.challenge(t, "alice", "", "p")
	if _, err := s.e.verify("alice", chID, "p", s.alice.Get(opts)); err != nil {
		t.Fatalf("alice's key after the registration: %v", err)
	}
}
