package recovery_test

import (
	"errors"
	"testing"
	"time"

	"github.com/mfakit/mfa/recovery"
)

// FuzzRedeem presents arbitrary tokens and users to an approved, usable
// case: only its own token, for its own user, redeems it; anything else
// is refused with a sentinel and leaves the case approved.
func FuzzRedeem(f *testing.F) {
	f.Add("alice", "x.y")
	f.Add("alice", "")
	f.Add("", ".")
	f.Add("alice", "....")
	f.Add("alice\x00", "a.b\n")
	f.Fuzz(func(t *testing.T, user, token string) {
		e := newEnv(t, false)
		o := e.open(t, "alice", "")
		if _, err := e.m.Approve(ctx, recovery.Decision{CaseID: o.Case.ID, Operator: "op"}); err != nil {
			t.Fatal(err)
		}
		e.clk.Add(25 * time.Hour)
		g, err := e.m.Redeem(ctx, recovery.RedeemRequest{UserID: user, Token: token})
		if user == "alice" && token == o.Token {
			if err != nil {
				t.Fatalf("the right token: %v", err)
			}
			return
		}
		if g != nil || err == nil {
			t.Fatalf("Redeem(%q, %q) granted", user, token)
		}
		if !errors.Is(err, recovery.ErrInvalidGrant) && !errors.Is(err, recovery.ErrInvalidInput) {
			t.Fatalf("Redeem(%q, %q): %v", user, token, err)
		}
		if c, _ := e.m.Case(ctx, o.Case.ID); c.State != recovery.Approved {
			t.Fatalf("state %q after a refused redemption", c.State)
		}
	})
}
