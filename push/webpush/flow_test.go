package webpush_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/internal/testkit"
	"github.com/mfakit/mfa/push"
	"github.com/mfakit/mfa/store/memstore"
)

// TestSignInByWebPush: the Verifier's Challenge delivers the request
// through the Notifier; the device decrypts it, answers, and the
// sign-in completes.
func TestSignInByWebPush(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	clk := testkit.NewClock(testkit.T0)
	n, _ := newNotifier(t, s, testkit.T0)
	st := memstore.New()
	key := bytes.Repeat([]byte{1}, 32)
	pf, err := push.New(push.Config{Store: st, HashKey: key, Notifier: n, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	kr, _ := mfa.NewKeyring(mfa.Key{ID: "k", Secret: key})
	v, err := mfa.New(mfa.Config{Store: st, Factors: []mfa.Factor{pf}, Sealer: kr, HashKey: key, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	en, err := v.BeginEnrollment(ctx, mfa.EnrollRequest{UserID: "alice", Kind: push.Kind})
	if err != nil {
		t.Fatal(err)
	}
	b, d := newBrowser(t), testkit.NewPushDevice(t, false)
	body := d.Register(t, en.Show.(*push.Pairing).Code, "Laptop", b.subscription(s.srv.URL+"/sub"))
	if _, err := v.ConfirmEnrollment(ctx, mfa.ConfirmRequest{UserID: "alice", ChallengeID: en.ChallengeID, Response: string(body)}); err != nil {
		t.Fatal(err)
	}
	ic, err := v.Challenge(ctx, mfa.ChallengeRequest{UserID: "alice", Kind: push.Kind, Binding: "b"})
	if err != nil {
		t.Fatal(err)
	}
	p := ic.Show.(*push.Prompt)
	if len(s.bodies) != 1 {
		t.Fatalf("%d messages delivered", len(s.bodies))
	}
	pt, err := decrypt(b.priv, b.auth, s.bodies[0])
	if err != nil {
		t.Fatal(err)
	}
	var req push.Request
	if err := json.Unmarshal(pt, &req); err != nil || req.RequestID != p.RequestID {
		t.Fatalf("delivered %s", pt)
	}
	if err := pf.Answer(ctx, d.Answer(t, req.RequestID, p.Number, push.Approve, clk.Now().Unix())); err != nil {
		t.Fatal(err)
	}
	ans, err := pf.Answered(ctx, "alice", p.RequestID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(ctx, mfa.VerifyRequest{UserID: "alice", FactorID: ans.FactorID, Response: ans.Response, ChallengeID: ic.ID, Binding: "b"}); err != nil {
		t.Fatal(err)
	}
	// A lapsed subscription fails the next push closed.
	s.status = 410
	if _, err := v.Challenge(ctx, mfa.ChallengeRequest{UserID: "alice", Kind: push.Kind, Binding: "b"}); !errors.Is(err, push.ErrNotify) {
		t.Fatalf("push to a gone subscription: %v", err)
	}
}
