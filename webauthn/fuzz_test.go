package webauthn_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/go-webauthn/webauthn/protocol"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/factor"
	"github.com/mfakit/mfa/internal/testkit"
	"github.com/mfakit/mfa/store"
	"github.com/mfakit/mfa/webauthn"
)

// direct drives a Factor without a Verifier, for fuzzing its parsers.
type direct struct {
	f      *webauthn.Factor
	key    *testkit.Authenticator
	rec    store.Factor
	reg    store.Challenge // a registration challenge
	create string          // a valid registration response to it
	login  store.Challenge // a sign-in challenge for rec
	get    string          // a valid assertion for it
}

func newDirect(t testing.TB, passkey bool) *direct {
	t.Helper()
	ctx := context.Background()
	f, err := webauthn.New(webauthn.Config{RPID: rpID, Origins: []string{origin}})
	if err != nil {
		t.Fatal(err)
	}
	h, err := mfa.NewHasher(hashKey)
	if err != nil {
		t.Fatal(err)
	}
	d := &direct{f: f, key: testkit.NewAuthenticator(origin, testkit.FlagUV)}
	d.key.Count = 3
	en, err := f.Enroll(ctx, factor.EnrollInput{UserID: "alice", Rand: testkit.Rand(2), Hasher: h})
	if err != nil {
		t.Fatal(err)
	}
	d.reg = store.Challenge{ID: "r", UserID: "alice", Kind: string(mfa.KindWebAuthn), Data: en.Challenge}
	d.create = d.key.Create(en.Show.(*protocol.CredentialCreation))
	reg, err := f.Register(ctx, factor.RegisterInput{UserID: "alice", FactorID: "f", Challenge: d.reg, Response: d.create, Hasher: h})
	if err != nil {
		t.Fatal(err)
	}
	d.rec = store.Factor{UserID: "alice", ID: "f", Kind: string(mfa.KindWebAuthn), Status: store.StatusActive, Lookup: reg.Lookup, Data: reg.Data, Counter: reg.Counter}
	in := factor.ChallengeInput{UserID: "alice", Factor: &d.rec, Rand: testkit.Rand(3), Hasher: h}
	if passkey {
		in = factor.ChallengeInput{Rand: testkit.Rand(3), Hasher: h}
	}
	iss, err := f.Challenge(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	d.login = store.Challenge{ID: "c", UserID: in.UserID, Kind: string(mfa.KindWebAuthn), Data: iss.Data}
	d.get = d.key.Get(iss.Show.(*protocol.CredentialAssertion))
	return d
}

// known reports whether err wraps a sentinel a caller can branch on.
func known(err error) bool {
	for _, s := range []error{mfa.ErrMalformedResponse, mfa.ErrWrongCode, mfa.ErrReplayed, mfa.ErrChallengeMismatch, mfa.ErrExpired} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

func FuzzVerify(f *testing.F) {
	d := newDirect(f, false)
	p := newDirect(f, true)
	for _, s := range []string{d.get, p.get, "", "{}", "null", `{"id":"","rawId":"","type":"public-key","response":{}}`, d.create} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, response string) {
		for _, d := range []*direct{d, p} {
			ch := d.login
			m, err := d.f.Verify(context.Background(), factor.VerifyInput{Factor: d.rec, Response: response, Challenge: &ch, Now: time.Now()})
			if err != nil {
				if !known(err) {
					t.Fatalf("error wraps no sentinel: %v", err)
				}
				continue
			}
			// Only the genuine assertion, re-encoded, can pass.
			if m.Counter != 4 || len(m.AMR) == 0 || m.AAL < mfa.AAL2 {
				t.Fatalf("accepted %q with %+v", response, m)
			}
		}
	})
}

func FuzzRegister(f *testing.F) {
	d := newDirect(f, false)
	for _, s := range []string{d.create, d.get, "", "{}", `{"id":"AA","rawId":"AA","type":"public-key","response":{"clientDataJSON":"","attestationObject":""}}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, response string) {
		en, err := d.f.Register(context.Background(), factor.RegisterInput{UserID: "alice", FactorID: "f", Challenge: d.reg, Response: response})
		if err != nil {
			if !known(err) {
				t.Fatalf("error wraps no sentinel: %v", err)
			}
			return
		}
		if en.Lookup == "" || len(en.Data) == 0 {
			t.Fatalf("accepted %q with %+v", response, en)
		}
	})
}

func FuzzResolve(f *testing.F) {
	d := newDirect(f, true)
	for _, s := range []string{d.get, "", "{}", `{"id":"AA","rawId":"AA","type":"public-key"}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, response string) {
		lookup, err := d.f.Resolve(context.Background(), response)
		if err != nil {
			if !errors.Is(err, mfa.ErrMalformedResponse) {
				t.Fatalf("error is not ErrMalformedResponse: %v", err)
			}
			return
		}
		if len(lookup) != 43 {
			t.Fatalf("lookup %q", lookup)
		}
	})
}
