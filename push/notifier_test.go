package push_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/internal/testkit"
	"github.com/mfakit/mfa/push"
)

// notifier records what it is asked to deliver, or fails.
type notifier struct {
	mu   sync.Mutex
	sent []push.Device
	reqs []push.Request
	err  error
}

func (n *notifier) Notify(_ context.Context, d push.Device, r push.Request) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.err != nil {
		return n.err
	}
	n.sent, n.reqs = append(n.sent, d), append(n.reqs, r)
	return nil
}

// pairWith pairs a device that registers sub as its way to be reached,
// and returns it and its factor ID.
func (e *env) pairWith(t *testing.T, user string, sub json.RawMessage) (*testkit.PushDevice, string) {
	t.Helper()
	ctx := context.Background()
	en, err := e.v.BeginEnrollment(ctx, mfa.EnrollRequest{UserID: user, Kind: push.Kind, AuthTime: e.clk.Now()})
	if err != nil {
		t.Fatal(err)
	}
	d := newDevice(t)
	body := d.Register(t, en.Show.(*push.Pairing).Code, "", sub)
	res, err := e.v.ConfirmEnrollment(ctx, mfa.ConfirmRequest{UserID: user, ChallengeID: en.ChallengeID, Response: string(body), AuthTime: e.clk.Now()})
	if err != nil {
		t.Fatal(err)
	}
	return d, res.FactorID
}

// TestNotifierAndDevices: a push to a user with two devices reaches both
// (the Notifier only the one that can be reached); either may answer, and
// once one has, the other's answer is refused.
func TestNotifierAndDevices(t *testing.T) {
	n := &notifier{}
	e := newEnv(t, func(c *push.Config) { c.Notifier = n })
	ctx := context.Background()
	polled, _ := e.pairWith(t, "alice", nil)
	pushed, pushedID := e.pairWith(t, "alice", json.RawMessage(`{"endpoint":"https://push.example/x"}`))
	ic, p := e.challenge(t, "alice", "b")
	if len(n.sent) != 1 || n.sent[0].DeviceID != pushed.ID || string(n.sent[0].Subscription) != `{"endpoint":"https://push.example/x"}` ||
		n.reqs[0].RequestID != p.RequestID || len(n.reqs[0].Choices) != 3 {
		t.Fatalf("notified %+v %+v", n.sent, n.reqs)
	}
	req, err := e.pf.Poll(ctx, polled.Poll(t, e.clk.Now().Unix()))
	if err != nil || req.RequestID != p.RequestID {
		t.Fatalf("the polling device sees %+v, %v", req, err)
	}
	if err := e.pf.Answer(ctx, pushed.Answer(t, p.RequestID, p.Number, push.Approve, e.clk.Now().Unix())); err != nil {
		t.Fatal(err)
	}
	if err := e.pf.Answer(ctx, polled.Answer(t, p.RequestID, p.Number, push.Approve, e.clk.Now().Unix())); !errors.Is(err, mfa.ErrExpired) {
		t.Fatalf("second device's answer: %v", err)
	}
	res, err := e.complete("alice", ic, p, "b")
	if err != nil {
		t.Fatal(err)
	}
	if res.FactorID != pushedID {
		t.Fatalf("signed in with %s, want the device that answered (%s)", res.FactorID, pushedID)
	}

	// A delivery failure fails the push closed and cancels it.
	n.err = errors.New("push service down")
	_, err = e.v.Challenge(ctx, mfa.ChallengeRequest{UserID: "alice", Kind: push.Kind, Binding: "b"})
	if !errors.Is(err, push.ErrNotify) {
		t.Fatalf("challenge with a failing notifier: %v", err)
	}
	req, err = e.pf.Poll(ctx, polled.Poll(t, e.clk.Now().Unix()))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.pf.Answer(ctx, polled.Answer(t, req.RequestID, req.Choices[0], push.Approve, e.clk.Now().Unix())); !errors.Is(err, mfa.ErrExpired) {
		t.Fatalf("answer to a push whose delivery failed: %v", err)
	}
}

// TestHookFailure: a failing hook fails the answer that reported a
// suspected fraud (fail closed), and the refusal still stands.
func TestHookFailure(t *testing.T) {
	e := newEnv(t, func(c *push.Config) {
		c.Hooks = append(c.Hooks, func(context.Context, push.Event) error { return errors.New("hook down") })
	})
	ctx := context.Background()
	d, _ := e.pair(t, "alice", false)
	ic, p := e.challenge(t, "alice", "b")
	if err := e.pf.Answer(ctx, d.Answer(t, p.RequestID, p.Number, push.Deny, e.clk.Now().Unix())); err == nil {
		t.Fatal("a failing hook was ignored")
	}
	if _, err := e.complete("alice", ic, p, "b"); !errors.Is(err, push.ErrDenied) {
		t.Fatalf("verify after a failed hook: %v", err)
	}
}
