package push_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/push"
)

// TestOneAnswerAccepted: of many concurrent identical answers one is
// recorded, and of many concurrent completions of it one signs in.
func TestOneAnswerAccepted(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	d, fid := e.pair(t, "alice", false)
	ic, p := e.challenge(t, "alice", "b")
	body := d.Answer(t, p.RequestID, p.Number, push.Approve, e.clk.Now().Unix())
	const n = 200
	var ok atomic.Int64
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			if e.pf.Answer(ctx, body) == nil {
				ok.Add(1)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 1 {
		t.Fatalf("%d of %d answers recorded, want 1", ok.Load(), n)
	}
	ok.Store(0)
	for range n {
		wg.Go(func() {
			_, err := e.v.Verify(ctx, mfa.VerifyRequest{UserID: "alice", FactorID: fid, Response: string(body), ChallengeID: ic.ID, Binding: "b"})
			if err == nil {
				ok.Add(1)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 1 {
		t.Fatalf("%d of %d verifications succeeded, want 1", ok.Load(), n)
	}
}
