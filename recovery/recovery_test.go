package recovery_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/internal/testkit"
	"github.com/mfakit/mfa/recovery"
	"github.com/mfakit/mfa/totp"
)

// The whole way back: open, approve, wait, redeem once, enrol one TOTP
// factor, sign in with it; the lost factor is gone.
func TestFlow(t *testing.T) {
	e := newEnv(t, true)
	o := e.open(t, "alice", "192.0.2.1")
	if o.Case.State != recovery.Pending || len(e.sent) != 1 || e.sent[0].Type != recovery.EventOpened {
		t.Fatalf("after Open: state %q, notices %v", o.Case.State, e.sent)
	}
	c, err := e.m.Approve(ctx, recovery.Decision{CaseID: o.Case.ID, Operator: "op", Note: "called the user"})
	if err != nil {
		t.Fatal(err)
	}
	if want := o.Case.Created.Add(24 * time.Hour); !c.NotBefore.Equal(want) {
		t.Fatalf("NotBefore %v, want %v (the default 24 h wait)", c.NotBefore, want)
	}
	_, err = e.m.Redeem(ctx, recovery.RedeemRequest{UserID: "alice", Token: o.Token})
	if !errors.Is(err, recovery.ErrWaiting) {
		t.Fatalf("Redeem during the wait: %v", err)
	}
	e.clk.Add(24 * time.Hour)
	g, err := e.m.Redeem(ctx, recovery.RedeemRequest{UserID: "alice", Token: o.Token})
	if err != nil {
		t.Fatal(err)
	}
	if res := g.Result(); res.AAL != mfa.AAL1 || !slices.Equal(res.AMR, []string{recovery.AMR}) {
		t.Fatalf("recovery result: %+v", res)
	}
	if _, err := e.m.Redeem(ctx, recovery.RedeemRequest{UserID: "alice", Token: o.Token}); !errors.Is(err, recovery.ErrState) {
		t.Fatalf("second Redeem: %v", err)
	}

	en, err := e.m.BeginEnrollment(ctx, mfa.EnrollRequest{UserID: "alice", Kind: mfa.KindTOTP})
	if err != nil {
		t.Fatal(err)
	}
	setup, _ := mfa.ShowAs[*totp.Setup](en.Show)
	code := testkit.TOTPCode(t, setup.Secret, e.clk.Step())
	if _, err := e.m.ConfirmEnrollment(ctx, mfa.ConfirmRequest{UserID: "alice", FactorID: en.FactorID, Response: code}); err != nil {
		t.Fatal(err)
	}
	list, _ := e.v.Factors(ctx, "alice")
	if len(list) != 1 || list[0].ID != en.FactorID {
		t.Fatalf("factors after recovery: %+v, want only the new one", list)
	}
	got, _ := e.m.Case(ctx, o.Case.ID)
	if got.State != recovery.Completed || len(got.History) != 4 {
		t.Fatalf("case: %q, history %+v", got.State, got.History)
	}
	if got.History[1].Actor != "op" || got.History[1].Note != "called the user" {
		t.Fatalf("approval audit: %+v", got.History[1])
	}
	// A second enrolment under the spent grant is refused.
	if _, err := e.m.BeginEnrollment(ctx, mfa.EnrollRequest{UserID: "alice", Kind: mfa.KindTOTP}); !errors.Is(err, recovery.ErrState) {
		t.Fatalf("BeginEnrollment after completion: %v", err)
	}
	// Sign in with the new factor.
	if _, err := e.v.Verify(ctx, mfa.VerifyRequest{UserID: "alice", FactorID: en.FactorID, Response: testkit.TOTPCode(t, setup.Secret, e.clk.Step())}); err != nil {
		t.Fatal(err)
	}
	want := []recovery.EventType{recovery.EventOpened, recovery.EventApproved, recovery.EventRefused, recovery.EventRedeemed, recovery.EventRefused, recovery.EventCompleted}
	if got := e.types(); !slices.Equal(got, want) {
		t.Fatalf("events %v, want %v", got, want)
	}
}

// The owner signing in cancels the case: through the hook at once, or,
// without it, when the case is next approved or redeemed.
func TestOwnerReturns(t *testing.T) {
	for _, hook := range []bool{true, false} {
		e := newEnv(t, hook)
		o := e.open(t, "alice", "")
		if _, err := e.v.Verify(ctx, mfa.VerifyRequest{UserID: "alice", FactorID: e.factor, Response: testkit.TOTPCode(t, e.secret, e.clk.Step())}); err != nil {
			t.Fatal(err)
		}
		_, err := e.m.Approve(ctx, recovery.Decision{CaseID: o.Case.ID, Operator: "op"})
		want := recovery.ErrOwnerActive
		if hook {
			want = recovery.ErrState
		}
		if !errors.Is(err, want) {
			t.Fatalf("hook %t: Approve after the owner signed in: %v, want %v", hook, err, want)
		}
		c, _ := e.m.Case(ctx, o.Case.ID)
		if c.State != recovery.Cancelled || c.History[len(c.History)-1].Actor != recovery.ActorOwner {
			t.Fatalf("hook %t: case %q, history %+v", hook, c.State, c.History)
		}
	}
}

// An approved case whose owner returns during the wait is not redeemed.
func TestOwnerReturnsDuringWait(t *testing.T) {
	e := newEnv(t, false)
	o := e.open(t, "alice", "")
	if _, err := e.m.Approve(ctx, recovery.Decision{CaseID: o.Case.ID, Operator: "op"}); err != nil {
		t.Fatal(err)
	}
	e.clk.Add(time.Hour)
	if _, err := e.v.Verify(ctx, mfa.VerifyRequest{UserID: "alice", FactorID: e.factor, Response: testkit.TOTPCode(t, e.secret, e.clk.Step())}); err != nil {
		t.Fatal(err)
	}
	e.clk.Add(24 * time.Hour)
	if _, err := e.m.Redeem(ctx, recovery.RedeemRequest{UserID: "alice", Token: o.Token}); !errors.Is(err, recovery.ErrOwnerActive) {
		t.Fatalf("Redeem after the owner returned: %v", err)
	}
}

func TestCaps(t *testing.T) {
	e := newEnv(t, false, func(c *recovery.Config) { c.Caps = recovery.Caps{PerUser: 2, PerIP: 3} })
	e.enrolTOTP(t, "bob", time.Time{})
	e.open(t, "alice", "192.0.2.9")
	e.open(t, "alice", "192.0.2.9")
	if _, err := e.m.Open(ctx, recovery.OpenRequest{UserID: "alice", Validator: "x"}); !errors.Is(err, recovery.ErrRateLimited) || !errors.Is(err, mfa.ErrRateLimited) {
		t.Fatalf("third case for one user: %v", err)
	}
	e.open(t, "bob", "192.0.2.9")
	if _, err := e.m.Open(ctx, recovery.OpenRequest{UserID: "bob", Validator: "x", Source: recovery.Source{IP: "192.0.2.9"}}); !errors.Is(err, recovery.ErrRateLimited) {
		t.Fatalf("fourth case from one address: %v", err)
	}
	e.clk.Add(24 * time.Hour) // the next window
	e.open(t, "alice", "192.0.2.9")
}

// Of concurrent approvals and denials exactly one decides.
func TestConcurrentDecisions(t *testing.T) {
	e := newEnv(t, false)
	o := e.open(t, "alice", "")
	const n = 32
	errs := make(chan error, n)
	start := make(chan struct{})
	for i := range n {
		go func() {
			<-start
			d := recovery.Decision{CaseID: o.Case.ID, Operator: "op"}
			var err error
			if i%2 == 0 {
				_, err = e.m.Approve(ctx, d)
			} else {
				_, err = e.m.Deny(ctx, d)
			}
			errs <- err
		}()
	}
	close(start)
	ok := 0
	for range n {
		switch err := <-errs; {
		case err == nil:
			ok++
		case !errors.Is(err, recovery.ErrState):
			t.Fatal(err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d decisions succeeded, want 1", ok)
	}
}

func TestNew(t *testing.T) {
	e := newEnv(t, false)
	tests := []struct {
		name string
		cfg  recovery.Config
	}{
		{"no store", recovery.Config{Verifier: e.v, Notify: func(_ ctxT, _ recovery.Event) error { return nil }}},
		{"no verifier", recovery.Config{Store: e.st, Notify: func(_ ctxT, _ recovery.Event) error { return nil }}},
		{"no notifier", recovery.Config{Store: e.st, Verifier: e.v}},
		{"short wait", recovery.Config{Store: e.st, Verifier: e.v, Notify: func(_ ctxT, _ recovery.Event) error { return nil }, Wait: time.Minute}},
		{"negative", recovery.Config{Store: e.st, Verifier: e.v, Notify: func(_ ctxT, _ recovery.Event) error { return nil }, GrantTTL: -1}},
	}
	for _, tt := range tests {
		if _, err := recovery.New(tt.cfg); !errors.Is(err, recovery.ErrConfig) || !errors.Is(err, mfa.ErrConfig) {
			t.Errorf("%s: %v, want ErrConfig", tt.name, err)
		}
	}
}

// An automatic rule approves without review, still behind the waiting
// period; a rule that fails leaves the case to an operator.
func TestAutoApprove(t *testing.T) {
	for _, tt := range []struct {
		name  string
		rule  func(ctxT, recovery.Case) (bool, error)
		state recovery.State
		err   error
	}{
		{"approves", func(ctxT, recovery.Case) (bool, error) { return true, nil }, recovery.Approved, nil},
		{"declines", func(ctxT, recovery.Case) (bool, error) { return false, nil }, recovery.Pending, nil},
		{"fails", func(ctxT, recovery.Case) (bool, error) { return false, errors.New("rule engine down") }, recovery.Pending, recovery.ErrDenied},
	} {
		e := newEnv(t, false, func(c *recovery.Config) { c.AutoApprove = tt.rule })
		o, err := e.m.Open(ctx, recovery.OpenRequest{UserID: "alice", Validator: "v"})
		if !errors.Is(err, tt.err) || o == nil {
			t.Fatalf("%s: Open: %v", tt.name, err)
		}
		c, _ := e.m.Case(ctx, o.Case.ID)
		if c.State != tt.state {
			t.Fatalf("%s: state %q, want %q", tt.name, c.State, tt.state)
		}
		if tt.state == recovery.Approved {
			if c.History[1].Actor != recovery.ActorAuto || !c.NotBefore.Equal(c.Created.Add(24*time.Hour)) {
				t.Fatalf("%s: %+v", tt.name, c)
			}
			if _, err := e.m.Redeem(ctx, recovery.RedeemRequest{UserID: "alice", Token: o.Token}); !errors.Is(err, recovery.ErrWaiting) {
				t.Fatalf("%s: Redeem at once: %v", tt.name, err)
			}
		}
	}
}
