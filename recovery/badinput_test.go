package recovery_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/internal/testkit"
	"github.com/mfakit/mfa/recovery"
	"github.com/mfakit/mfa/store"
)

type ctxT = context.Context

// Every refused request leaves the store as it was: no case, no move.
func TestOpenBadInput(t *testing.T) {
	e := newEnv(t, false)
	tests := []struct {
		name string
		req  recovery.OpenRequest
		want error
	}{
		{"no user", recovery.OpenRequest{Validator: "v"}, recovery.ErrInvalidInput},
		{"no validator", recovery.OpenRequest{UserID: "alice"}, recovery.ErrInvalidInput},
		{"control character", recovery.OpenRequest{UserID: "alice", Validator: "v", Reason: "a\nb"}, recovery.ErrInvalidInput},
		{"not UTF-8", recovery.OpenRequest{UserID: "alice", Validator: "v", Source: recovery.Source{UserAgent: "\xff"}}, recovery.ErrInvalidInput},
		{"long reason", recovery.OpenRequest{UserID: "alice", Validator: "v", Reason: strings.Repeat("x", 5000)}, recovery.ErrInvalidInput},
		{"long user", recovery.OpenRequest{UserID: strings.Repeat("u", 300), Validator: "v"}, recovery.ErrInvalidInput},
		{"unknown user", recovery.OpenRequest{UserID: "mallory", Validator: "v"}, recovery.ErrNoFactors},
	}
	for _, tt := range tests {
		_, err := e.m.Open(ctx, tt.req)
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
		if err != nil && strings.Contains(err.Error(), "a\nb") {
			t.Errorf("%s: the error quotes the input", tt.name)
		}
	}
	for _, u := range []string{"alice", "mallory"} {
		if cs, _ := e.m.Cases(ctx, u); len(cs) != 0 {
			t.Fatalf("%s has %d cases after refused requests", u, len(cs))
		}
	}
	if q, _ := e.m.Queue(ctx, 10); len(q) != 0 {
		t.Fatalf("queue holds %d cases", len(q))
	}
}

func TestRedeemBadInput(t *testing.T) {
	e := newEnv(t, false)
	e.enrolTOTP(t, "bob", time.Time{})
	o := e.open(t, "alice", "")
	if _, err := e.m.Approve(ctx, recovery.Decision{CaseID: o.Case.ID, Operator: "op"}); err != nil {
		t.Fatal(err)
	}
	e.clk.Add(24 * time.Hour)
	id, secret, _ := strings.Cut(o.Token, ".")
	tests := []struct {
		name, user, token string
		want              error
	}{
		{"empty", "alice", "", recovery.ErrInvalidGrant},
		{"no dot", "alice", id + secret, recovery.ErrInvalidGrant},
		{"wrong secret", "alice", id + ".x" + secret[1:], recovery.ErrInvalidGrant},
		{"unknown case", "alice", "nope." + secret, recovery.ErrInvalidGrant},
		{"another user", "bob", o.Token, recovery.ErrInvalidGrant},
		{"no user", "", o.Token, recovery.ErrInvalidInput},
		{"huge", "alice", strings.Repeat("a", 1000) + "." + secret, recovery.ErrInvalidGrant},
	}
	for _, tt := range tests {
		_, err := e.m.Redeem(ctx, recovery.RedeemRequest{UserID: tt.user, Token: tt.token})
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
		if err != nil && strings.Contains(err.Error(), secret) {
			t.Errorf("%s: the error quotes the token", tt.name)
		}
	}
	if c, _ := e.m.Case(ctx, o.Case.ID); c.State != recovery.Approved {
		t.Fatalf("state after refused redemptions: %q", c.State)
	}
	// After the grant's lifetime: expired, and still unused.
	e.clk.Add(24 * time.Hour)
	if _, err := e.m.Redeem(ctx, recovery.RedeemRequest{UserID: "alice", Token: o.Token}); !errors.Is(err, recovery.ErrExpired) {
		t.Fatalf("Redeem after expiry: %v", err)
	}
}

func TestDecisionBadInput(t *testing.T) {
	e := newEnv(t, false)
	denied, cancelled, pending := e.open(t, "alice", ""), e.open(t, "alice", ""), e.open(t, "alice", "")
	if _, err := e.m.Deny(ctx, recovery.Decision{CaseID: denied.Case.ID, Operator: "op"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.m.Cancel(ctx, cancelled.Case.ID, "alice", ""); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		d    recovery.Decision
		want error
	}{
		{"denied case", recovery.Decision{CaseID: denied.Case.ID, Operator: "op"}, recovery.ErrState},
		{"cancelled case", recovery.Decision{CaseID: cancelled.Case.ID, Operator: "op"}, recovery.ErrState},
		{"unknown case", recovery.Decision{CaseID: "nope", Operator: "op"}, recovery.ErrNotFound},
		{"own case", recovery.Decision{CaseID: pending.Case.ID, Operator: "alice"}, recovery.ErrForbidden},
		{"no operator", recovery.Decision{CaseID: pending.Case.ID}, recovery.ErrInvalidInput},
		{"bad note", recovery.Decision{CaseID: pending.Case.ID, Operator: "op", Note: "\x00"}, recovery.ErrInvalidInput},
	}
	for _, tt := range tests {
		if _, err := e.m.Approve(ctx, tt.d); !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
	}
	if c, _ := e.m.Case(ctx, pending.Case.ID); c.State != recovery.Pending || len(c.History) != 1 {
		t.Fatalf("pending case changed: %q %+v", c.State, c.History)
	}
	// A review after PendingTTL is too late.
	e.clk.Add(15 * 24 * time.Hour)
	if _, err := e.m.Approve(ctx, recovery.Decision{CaseID: pending.Case.ID, Operator: "op"}); !errors.Is(err, recovery.ErrExpired) {
		t.Fatalf("late approval: %v", err)
	}
}

// A notifier that fails withdraws the case: nobody recovers an account
// whose owner was not told.
func TestNotifyFails(t *testing.T) {
	e := newEnv(t, false, func(c *recovery.Config) {
		c.Notify = func(context.Context, recovery.Event) error { return errors.New("smtp down") }
	})
	if _, err := e.m.Open(ctx, recovery.OpenRequest{UserID: "alice", Validator: "v"}); !errors.Is(err, recovery.ErrDenied) {
		t.Fatalf("Open with a failing notifier: %v", err)
	}
	cs, _ := e.m.Cases(ctx, "alice")
	if len(cs) != 1 || cs[0].State != recovery.Cancelled {
		t.Fatalf("cases: %+v", cs)
	}
}

// A hook or notifier that refuses an approval or a redemption closes the
// case: nothing goes on from a move that was not audited or told.
func TestHookFailsClosed(t *testing.T) {
	for _, fail := range []recovery.EventType{recovery.EventApproved, recovery.EventRedeemed} {
		e := newEnv(t, false, func(c *recovery.Config) {
			c.Hooks = append(c.Hooks, func(_ context.Context, ev recovery.Event) error {
				if ev.Type == fail {
					return errors.New("audit log down")
				}
				return nil
			})
		})
		o := e.open(t, "alice", "")
		_, err := e.m.Approve(ctx, recovery.Decision{CaseID: o.Case.ID, Operator: "op"})
		if fail == recovery.EventApproved {
			if !errors.Is(err, recovery.ErrDenied) {
				t.Fatalf("Approve with a refusing hook: %v", err)
			}
		} else {
			e.clk.Add(25 * time.Hour)
			if _, err := e.m.Redeem(ctx, recovery.RedeemRequest{UserID: "alice", Token: o.Token}); !errors.Is(err, recovery.ErrDenied) {
				t.Fatalf("Redeem with a refusing hook: %v", err)
			}
			if _, err := e.m.BeginEnrollment(ctx, mfa.EnrollRequest{UserID: "alice", Kind: mfa.KindTOTP}); !errors.Is(err, recovery.ErrState) {
				t.Fatalf("BeginEnrollment after a refused redemption: %v", err)
			}
		}
		if c, _ := e.m.Case(ctx, o.Case.ID); c.State != recovery.Cancelled {
			t.Fatalf("%s refused: case %q, want cancelled", fail, c.State)
		}
	}
}

// failingCases is a store whose case listing fails.
type failingCases struct{ recovery.Store }

func (failingCases) ListCases(context.Context, string) ([]store.RecoveryCase, error) {
	return nil, errors.New("connection refused")
}

// The owner hook fails closed: a store error denies the sign-in.
func TestOwnerHookFailsClosed(t *testing.T) {
	e := newEnv(t, true, func(c *recovery.Config) { c.Store = failingCases{c.Store} })
	_, err := e.v.Verify(ctx, mfa.VerifyRequest{UserID: "alice", FactorID: e.factor, Response: testkit.TOTPCode(t, e.secret, e.clk.Step())})
	if !errors.Is(err, mfa.ErrDenied) {
		t.Fatalf("Verify with a failing hook: %v, want ErrDenied", err)
	}
}
