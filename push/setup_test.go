package push_test

import (
	"bytes"
	"context"
	"sync"
	"testing"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/internal/testkit"
	"github.com/mfakit/mfa/push"
	"github.com/mfakit/mfa/store/memstore"
)

var hashKey = bytes.Repeat([]byte{7}, 32)

// env is one Verifier with a push factor over one store, a test clock and
// the events both sides reported.
type env struct {
	v   *mfa.Verifier
	pf  *push.Factor
	st  *memstore.Store
	clk *testkit.Clock

	mu     sync.Mutex
	pushEv []push.Event
	mfaEv  []mfa.Event
}

func newEnv(t testing.TB, mod func(*push.Config)) *env {
	t.Helper()
	e := &env{st: memstore.New(), clk: testkit.NewClock(testkit.T0)}
	cfg := push.Config{Store: e.st, HashKey: hashKey, App: "Example", Now: e.clk.Now,
		Hooks: []push.Hook{func(_ context.Context, ev push.Event) error {
			e.mu.Lock()
			defer e.mu.Unlock()
			e.pushEv = append(e.pushEv, ev)
			return nil
		}}}
	if mod != nil {
		mod(&cfg)
	}
	pf, err := push.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	kr, err := mfa.NewKeyring(mfa.Key{ID: "k1", Secret: bytes.Repeat([]byte{9}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	v, err := mfa.New(mfa.Config{Store: e.st, Factors: []mfa.Factor{pf}, Sealer: kr, HashKey: hashKey, Now: e.clk.Now,
		Issue: mfa.IssueLimits{PerUser: -1, PerIP: -1},
		Hooks: []mfa.Hook{func(_ context.Context, ev mfa.Event) error {
			e.mu.Lock()
			defer e.mu.Unlock()
			e.mfaEv = append(e.mfaEv, ev)
			return nil
		}}})
	if err != nil {
		t.Fatal(err)
	}
	e.v, e.pf = v, pf
	return e
}

// pair pairs a new device to user and returns it with its factor ID.
func (e *env) pair(t testing.TB, user string, ed bool) (*testkit.PushDevice, string) {
	t.Helper()
	ctx := context.Background()
	var at = e.clk.Now()
	en, err := e.v.BeginEnrollment(ctx, mfa.EnrollRequest{UserID: user, Kind: push.Kind, AuthTime: at})
	if err != nil {
		t.Fatal(err)
	}
	p, err := mfa.ShowAs[*push.Pairing](en.Show)
	if err != nil {
		t.Fatal(err)
	}
	d := testkit.NewPushDevice(t, ed)
	body := d.Register(t, p.Code, "Phone", nil)
	reg, code, err := push.ParseRegistration(body)
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.v.ConfirmEnrollment(ctx, mfa.ConfirmRequest{UserID: code.UserID, ChallengeID: code.ChallengeID, Response: string(body), Name: reg.Name, AuthTime: at})
	if err != nil {
		t.Fatal(err)
	}
	return d, res.FactorID
}

// challenge pushes to user's devices for the sign-in attempt binding.
func (e *env) challenge(t testing.TB, user, binding string) (*mfa.IssuedChallenge, *push.Prompt) {
	t.Helper()
	ctx := push.WithSignIn(context.Background(), push.SignIn{IP: "192.0.2.1", Browser: "Firefox on Linux", Place: "Lyon"})
	ic, err := e.v.Challenge(ctx, mfa.ChallengeRequest{UserID: user, Kind: push.Kind, Binding: binding, IP: "192.0.2.1"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := mfa.ShowAs[*push.Prompt](ic.Show)
	if err != nil {
		t.Fatal(err)
	}
	return ic, p
}

// complete runs the browser's side: take the answer, then Verify it.
func (e *env) complete(user string, ic *mfa.IssuedChallenge, p *push.Prompt, binding string) (*mfa.Result, error) {
	ctx := context.Background()
	ans, err := e.pf.Answered(ctx, user, p.RequestID)
	if err != nil {
		return nil, err
	}
	return e.v.Verify(ctx, mfa.VerifyRequest{UserID: user, FactorID: ans.FactorID, Kind: push.Kind, Response: ans.Response,
		ChallengeID: ic.ID, Binding: binding, IP: "192.0.2.1"})
}

// wrong returns a choice other than n.
func wrong(r *push.Request, n int) int {
	for _, c := range r.Choices {
		if c != n {
			return c
		}
	}
	return -1
}

func (e *env) events(typ mfa.EventType) (n int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, ev := range e.pushEv {
		if ev.Type == typ {
			n++
		}
	}
	for _, ev := range e.mfaEv {
		if ev.Type == typ {
			n++
		}
	}
	return n
}

func newDevice(t *testing.T) *testkit.PushDevice { return testkit.NewPushDevice(t, false) }
