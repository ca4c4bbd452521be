package webauthn_test

import (
	"bytes"
	"context"
	"sync"
	"testing"

	"github.com/go-webauthn/webauthn/protocol"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/factor"
	"github.com/mfakit/mfa/internal/testkit"
	"github.com/mfakit/mfa/store"
	"github.com/mfakit/mfa/store/memstore"
	"github.com/mfakit/mfa/webauthn"
)

const (
	rpID   = "example.com"
	origin = "https://example.com"
)

// countingFactor counts the responses that reach the WebAuthn check.
type countingFactor struct {
	*webauthn.Factor
	mu       sync.Mutex
	compares int
}

func (f *countingFactor) Verify(ctx context.Context, in factor.VerifyInput) (factor.Match, error) {
	f.mu.Lock()
	f.compares++
	f.mu.Unlock()
	return f.Factor.Verify(ctx, in)
}

func (f *countingFactor) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.compares
}

type env struct {
	v      *mfa.Verifier
	st     mfa.Store
	clk    *testkit.Clock
	f      *countingFactor
	mu     sync.Mutex
	events []mfa.Event
}

var hashKey = bytes.Repeat([]byte{7}, 32)

// vendorCA is the attestation CA of the tests' hardware key vendor; trusted
// configures a Factor that trusts it.
var vendorCA = testkit.NewAttestationCA("mfa test vendor")

// trusted is the options of an environment whose Factor trusts vendorCA's
// root and asks for direct attestation.
var trusted = options{factor: func(c *webauthn.Config) {
	c.AttestationRoots, c.Attestation = vendorCA.Pool(), webauthn.AttestationDirect
}}

type options struct {
	factor   func(*webauthn.Config)
	verifier func(*mfa.Config)
	flags    byte // extra flags of a scene's authenticators
}

func newEnv(t testing.TB, opts ...options) *env {
	t.Helper()
	cfg := webauthn.Config{RPID: rpID, RPDisplayName: "Example", Origins: []string{origin}}
	for _, o := range opts {
		if o.factor != nil {
			o.factor(&cfg)
		}
	}
	f, err := webauthn.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	kr, err := mfa.NewKeyring(mfa.Key{ID: "k1", Secret: bytes.Repeat([]byte{1}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{st: memstore.New(), clk: testkit.NewClock(testkit.T0), f: &countingFactor{Factor: f}}
	vc := mfa.Config{
		Store: e.st, Factors: []mfa.Factor{e.f}, Sealer: kr, HashKey: hashKey,
		Now: e.clk.Now, Rand: testkit.Rand(1),
		Hooks: []mfa.Hook{func(_ context.Context, ev mfa.Event) error {
			e.mu.Lock()
			e.events = append(e.events, ev)
			e.mu.Unlock()
			return nil
		}},
	}
	for _, o := range opts {
		if o.verifier != nil {
			o.verifier(&vc)
		}
	}
	if e.v, err = mfa.New(vc); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) eventTypes() []mfa.EventType {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []mfa.EventType
	for _, ev := range e.events {
		out = append(out, ev.Type)
	}
	return out
}

func (e *env) resetEvents() {
	e.mu.Lock()
	e.events = nil
	e.mu.Unlock()
}

// beginRegistration starts a registration and returns its challenge ID and
// the creation options.
func (e *env) beginRegistration(t testing.TB, user string) (string, *protocol.CredentialCreation) {
	t.Helper()
	en, err := e.v.BeginEnrollment(context.Background(), mfa.EnrollRequest{
		UserID: user, Kind: mfa.KindWebAuthn, Account: user + "@example.com", AuthTime: e.clk.Now(),
	})
	if err != nil {
		t.Fatal(err)
	}
	cc, ok := en.Show.(*protocol.CredentialCreation)
	if !ok || en.ChallengeID == "" {
		t.Fatalf("enrollment = %+v", en)
	}
	return en.ChallengeID, cc
}

// register enrols a for user and returns the factor ID.
func (e *env) register(t testing.TB, user string, a *testkit.Authenticator) string {
	t.Helper()
	return e.confirm(t, user, a).FactorID
}

// confirm enrols a for user and returns the result.
func (e *env) confirm(t testing.TB, user string, a *testkit.Authenticator) *mfa.Result {
	t.Helper()
	id, cc := e.beginRegistration(t, user)
	res, err := e.v.ConfirmEnrollment(context.Background(), mfa.ConfirmRequest{
		UserID: user, ChallengeID: id, Response: a.Create(cc), Name: "Key",
	})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// challenge issues a sign-in challenge; an empty user is a passkey sign-in.
func (e *env) challenge(t testing.TB, user, factorID, binding string) (string, *protocol.CredentialAssertion) {
	t.Helper()
	ch, err := e.v.Challenge(context.Background(), mfa.ChallengeRequest{
		UserID: user, FactorID: factorID, Kind: mfa.KindWebAuthn, Binding: binding,
	})
	if err != nil {
		t.Fatal(err)
	}
	ca, ok := ch.Show.(*protocol.CredentialAssertion)
	if !ok {
		t.Fatalf("challenge shows %T", ch.Show)
	}
	return ch.ID, ca
}

func (e *env) verify(user, challengeID, binding, response string) (*mfa.Result, error) {
	return e.v.Verify(context.Background(), mfa.VerifyRequest{
		UserID: user, Kind: mfa.KindWebAuthn, ChallengeID: challengeID, Binding: binding, Response: response,
	})
}

// factor returns the stored factor.
func (e *env) factor(t testing.TB, user, id string) store.Factor {
	t.Helper()
	f, err := e.st.GetFactor(context.Background(), user, id)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// credential returns the stored credential record.
func (e *env) credential(t testing.TB, user, id string) *webauthn.Credential {
	t.Helper()
	c, err := webauthn.CredentialOf(e.factor(t, user, id))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// sameFactor reports whether a refused attempt left the stored factor as it
// was.
func sameFactor(a, b store.Factor) bool {
	return bytes.Equal(a.Data, b.Data) && a.Counter == b.Counter && a.LastUsed.Equal(b.LastUsed) &&
		a.Status == b.Status && a.Lookup == b.Lookup
}
