package session_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/internal/testkit"
	"github.com/mfakit/mfa/session"
	"github.com/mfakit/mfa/store/memstore"
)

// t0 is the tests' starting instant; clocks move only when told.
var t0 = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

const (
	issuer   = "https://app.example"
	audience = "https://api.example"
	user     = "alice"
)

// seed is the fixed Ed25519 seed of the fixture's signing key, so tests
// can forge tokens with the real key.
var seed = bytes.Repeat([]byte{7}, ed25519.SeedSize)

var hashKey = bytes.Repeat([]byte{9}, 32)

type fixture struct {
	m     *session.Manager
	clk   *testkit.Clock
	store *memstore.Store
	priv  ed25519.PrivateKey
	mu    sync.Mutex
	evs   []session.Event
}

func (f *fixture) events() []session.EventType {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []session.EventType
	for _, e := range f.evs {
		out = append(out, e.Type)
	}
	return out
}

func newFixture(t testing.TB, mods ...func(*session.Config)) *fixture {
	t.Helper()
	f := &fixture{clk: testkit.NewClock(t0), store: memstore.New(), priv: ed25519.NewKeyFromSeed(seed)}
	key, err := session.GenerateEd25519Key("k1", bytes.NewReader(seed))
	if err != nil {
		t.Fatal(err)
	}
	ks, err := session.NewKeySet(key)
	if err != nil {
		t.Fatal(err)
	}
	h, err := mfa.NewHasher(hashKey)
	if err != nil {
		t.Fatal(err)
	}
	cfg := session.Config{
		Issuer: issuer, Audience: audience, Store: f.store, Hasher: h, Keys: ks,
		Now: f.clk.Now,
		Hooks: []session.Hook{func(_ context.Context, e session.Event) error {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.evs = append(f.evs, e)
			return nil
		}},
	}
	for _, mod := range mods {
		mod(&cfg)
	}
	f.m, err = session.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// result is a verification of user at the fixture's current time.
func (f *fixture) result(uid string, aal mfa.AAL, amr ...string) *mfa.Result {
	if len(amr) == 0 {
		amr = []string{"otp"}
	}
	return &mfa.Result{UserID: uid, FactorID: "f1", Kind: mfa.KindTOTP, AMR: amr, AAL: aal, Time: f.clk.Now(), Remaining: -1}
}

func (f *fixture) start(t testing.TB, uid string, aal mfa.AAL) *session.Tokens {
	t.Helper()
	tok, err := f.m.Start(context.Background(), uid, f.result(uid, aal))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// forge signs arbitrary claims and headers with the fixture's real key.
func (f *fixture) forge(t testing.TB, header map[string]any, claims jwt.Claims) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims)
	for k, v := range header {
		if v == nil {
			delete(tok.Header, k)
		} else {
			tok.Header[k] = v
		}
	}
	s, err := tok.SignedString(f.priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// accessClaims are valid access claims at the fixture's current time.
func (f *fixture) accessClaims() *session.AccessClaims {
	now := f.clk.Now()
	return &session.AccessClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: issuer, Subject: user, Audience: jwt.ClaimStrings{audience},
			ExpiresAt: jwt.NewNumericDate(now.Add(5 * time.Minute)), IssuedAt: jwt.NewNumericDate(now), ID: "jti-1",
		},
		SessionID: "sid-1", AuthTime: jwt.NewNumericDate(now), AMR: []string{"otp", "mfa"}, ACR: session.ACRAAL2,
	}
}
