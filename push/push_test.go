package push_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/push"
)

func TestSignInWithPush(t *testing.T) {
	for _, ed := range []bool{false, true} {
		t.Run(map[bool]string{false: "P-256", true: "Ed25519"}[ed], func(t *testing.T) {
			e := newEnv(t, nil)
			ctx := context.Background()
			d, fid := e.pair(t, "alice", ed)
			ic, p := e.challenge(t, "alice", "attempt-1")
			if p.Number < 10 || p.Number > 99 || !p.Expires.Equal(e.clk.Now().Add(2*time.Minute)) {
				t.Fatalf("prompt %+v", p)
			}
			req, err := e.pf.Poll(ctx, d.Poll(t, e.clk.Now().Unix()))
			if err != nil {
				t.Fatal(err)
			}
			if len(req.Choices) != 3 || !slices.Contains(req.Choices, p.Number) || req.RequestID != p.RequestID ||
				req.IP != "192.0.2.1" || req.Browser != "Firefox on Linux" || req.Place != "Lyon" || req.App != "Example" {
				t.Fatalf("request %+v", req)
			}
			if _, err := e.pf.Poll(ctx, d.Poll(t, e.clk.Now().Unix())); !errors.Is(err, push.ErrNoRequest) {
				t.Fatalf("second poll: %v, want ErrNoRequest", err)
			}
			if _, err := e.complete("alice", ic, p, "attempt-1"); !errors.Is(err, push.ErrPending) {
				t.Fatalf("before the answer: %v, want ErrPending", err)
			}
			e.clk.Add(5 * time.Second)
			if err := e.pf.Answer(ctx, d.Answer(t, p.RequestID, p.Number, push.Approve, e.clk.Now().Unix())); err != nil {
				t.Fatal(err)
			}
			res, err := e.complete("alice", ic, p, "attempt-1")
			if err != nil {
				t.Fatal(err)
			}
			if res.FactorID != fid || res.Kind != push.Kind || res.AAL != mfa.AAL2 || !slices.Equal(res.AMR, []string{"swk", "mca"}) {
				t.Fatalf("result %+v", res)
			}
			if n := e.events(push.EventSuspectedFraud); n != 0 {
				t.Fatalf("%d fraud events on an approval", n)
			}
		})
	}
}

// TestPairing covers listing and the pairing code's single use and expiry.
func TestPairing(t *testing.T) {
	e := newEnv(t, func(c *push.Config) { c.PairingTTL = time.Minute })
	ctx := context.Background()
	_, fid := e.pair(t, "alice", false)
	list, err := e.v.Factors(ctx, "alice")
	if err != nil || len(list) != 1 || list[0].ID != fid || list[0].Name != "Phone" {
		t.Fatalf("factors %+v, %v", list, err)
	}
	begin := func() *push.Pairing {
		en, err := e.v.BeginEnrollment(ctx, mfa.EnrollRequest{UserID: "alice", Kind: push.Kind, AuthTime: e.clk.Now()})
		if err != nil {
			t.Fatal(err)
		}
		return en.Show.(*push.Pairing)
	}
	confirm := func(body []byte) error {
		_, code, err := push.ParseRegistration(body)
		if err != nil {
			return err
		}
		_, err = e.v.ConfirmEnrollment(ctx, mfa.ConfirmRequest{UserID: code.UserID, ChallengeID: code.ChallengeID, Response: string(body), AuthTime: e.clk.Now()})
		return err
	}
	d := newDevice(t)
	p := begin()
	if err := confirm(d.Register(t, p.Code, "", nil)); err != nil {
		t.Fatal(err)
	}
	if err := confirm(newDevice(t).Register(t, p.Code, "", nil)); !errors.Is(err, mfa.ErrExpired) {
		t.Fatalf("code used twice: %v, want ErrExpired", err)
	}
	p = begin()
	e.clk.Add(time.Minute)
	if err := confirm(newDevice(t).Register(t, p.Code, "", nil)); !errors.Is(err, mfa.ErrExpired) {
		t.Fatalf("code after expiry: %v, want ErrExpired", err)
	}
	list, _ = e.v.Factors(ctx, "alice")
	if len(list) != 2 {
		t.Fatalf("%d devices, want 2", len(list))
	}
	// Unpairing needs a fresh verification, as for any factor.
	e.clk.Add(time.Hour)
	if err := e.v.RemoveFactor(ctx, mfa.ChangeRequest{UserID: "alice", FactorID: fid}); !errors.Is(err, mfa.ErrStepUpRequired) {
		t.Fatalf("unpair without step-up: %v", err)
	}
}
