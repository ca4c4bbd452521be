package recovery_test

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/backupcodes"
	"github.com/mfakit/mfa/internal/testkit"
	"github.com/mfakit/mfa/recovery"
	"github.com/mfakit/mfa/store/memstore"
	"github.com/mfakit/mfa/totp"
)

var (
	t0  = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	ctx = context.Background()
)

type env struct {
	clk  *testkit.Clock
	st   *memstore.Store
	v    *mfa.Verifier
	m    *recovery.Manager
	mu   sync.Mutex
	evs  []recovery.Event
	sent []recovery.Event // notifications
	// secret is alice's TOTP seed, factor her factor's ID.
	secret, factor string
}

func (e *env) types() []recovery.EventType {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []recovery.EventType
	for _, ev := range e.evs {
		out = append(out, ev.Type)
	}
	return out
}

// newEnv builds a Verifier and a Manager on one memstore, with alice
// holding one active TOTP factor. hook installs the Manager's mfa.Hook.
func newEnv(t *testing.T, hook bool, mods ...func(*recovery.Config)) *env {
	t.Helper()
	e := &env{clk: testkit.NewClock(t0), st: memstore.New()}
	tf, err := totp.New(totp.Config{Issuer: "test"})
	if err != nil {
		t.Fatal(err)
	}
	kr, err := mfa.NewKeyring(mfa.Key{ID: "k1", Secret: bytes.Repeat([]byte{1}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	var m *recovery.Manager
	codes, err := backupcodes.New(backupcodes.Config{})
	if err != nil {
		t.Fatal(err)
	}
	vcfg := mfa.Config{Store: e.st, Factors: []mfa.Factor{tf, codes}, Sealer: kr, HashKey: bytes.Repeat([]byte{2}, 32), Now: e.clk.Now, Rand: testkit.Rand(1)}
	if hook {
		vcfg.Hooks = []mfa.Hook{func(ctx context.Context, ev mfa.Event) error { return m.Hook()(ctx, ev) }}
	}
	e.v, err = mfa.New(vcfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg := recovery.Config{
		Store: e.st, Verifier: e.v, Now: e.clk.Now, Rand: testkit.Rand(3),
		Notify: func(_ context.Context, ev recovery.Event) error {
			e.mu.Lock()
			defer e.mu.Unlock()
			e.sent = append(e.sent, ev)
			return nil
		},
		Hooks: []recovery.Hook{func(_ context.Context, ev recovery.Event) error {
			e.mu.Lock()
			defer e.mu.Unlock()
			e.evs = append(e.evs, ev)
			return nil
		}},
	}
	for _, mod := range mods {
		mod(&cfg)
	}
	m, err = recovery.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.m = m
	e.secret, e.factor = e.enrolTOTP(t, "alice", time.Time{})
	return e
}

// enrolTOTP enrols and confirms a TOTP factor, through the Verifier or,
// with a non-zero authTime, as the caller says.
func (e *env) enrolTOTP(t *testing.T, user string, authTime time.Time) (secret, id string) {
	t.Helper()
	en, err := e.v.BeginEnrollment(ctx, mfa.EnrollRequest{UserID: user, Kind: mfa.KindTOTP, AuthTime: authTime})
	if err != nil {
		t.Fatal(err)
	}
	setup, err := mfa.ShowAs[*totp.Setup](en.Show)
	if err != nil {
		t.Fatal(err)
	}
	code := testkit.TOTPCode(t, setup.Secret, e.clk.Step())
	if _, err := e.v.ConfirmEnrollment(ctx, mfa.ConfirmRequest{UserID: user, FactorID: en.FactorID, Response: code, AuthTime: authTime}); err != nil {
		t.Fatal(err)
	}
	return setup.Secret, en.FactorID
}

func (e *env) open(t *testing.T, user, ip string) *recovery.Opened {
	t.Helper()
	o, err := e.m.Open(ctx, recovery.OpenRequest{UserID: user, Source: recovery.Source{IP: ip, UserAgent: "test"}, Reason: "lost my phone", Validator: "password+email-link"})
	if err != nil {
		t.Fatal(err)
	}
	return o
}
