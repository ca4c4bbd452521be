package push_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/internal/testkit"
	"github.com/mfakit/mfa/push"
)

// TestBadAnswers sends each kind of bad answer to the device endpoint and
// checks it is refused with a clear error and leaves the request
// answerable: the right answer afterwards still signs in.
func TestBadAnswers(t *testing.T) {
	sig := func(body []byte) []byte { // a forged signature: one byte changed
		var a push.Answer
		if err := json.Unmarshal(body, &a); err != nil {
			t.Fatal(err)
		}
		a.Sig = testkit.FlipChar(a.Sig, 5)
		b, _ := json.Marshal(a)
		return b
	}
	tests := []struct {
		name string
		body func(t *testing.T, e *env, d, other, stranger *testkit.PushDevice, p *push.Prompt) []byte
		want error
	}{
		{"forged signature", func(t *testing.T, e *env, d, _, _ *testkit.PushDevice, p *push.Prompt) []byte {
			return sig(d.Answer(t, p.RequestID, p.Number, push.Approve, e.clk.Now().Unix()))
		}, push.ErrBadSignature},
		{"another device's key", func(t *testing.T, e *env, d, other, _ *testkit.PushDevice, p *push.Prompt) []byte {
			// other signs, claiming to be d.
			a := push.Answer{RequestID: p.RequestID, DeviceID: d.ID, Number: p.Number, Decision: push.Approve, Time: e.clk.Now().Unix()}
			a.Sig = other.Sign(t, push.AnswerMessage(a.RequestID, a.DeviceID, a.Number, a.Decision, a.Time))
			b, _ := json.Marshal(a)
			return b
		}, push.ErrBadSignature},
		{"another user's device", func(t *testing.T, e *env, _, _, stranger *testkit.PushDevice, p *push.Prompt) []byte {
			return stranger.Answer(t, p.RequestID, p.Number, push.Approve, e.clk.Now().Unix())
		}, mfa.ErrChallengeMismatch},
		{"unpaired key", func(t *testing.T, e *env, _, _, _ *testkit.PushDevice, p *push.Prompt) []byte {
			return newDevice(t).Answer(t, p.RequestID, p.Number, push.Approve, e.clk.Now().Unix())
		}, push.ErrUnknownDevice},
		{"unknown request", func(t *testing.T, e *env, d, _, _ *testkit.PushDevice, p *push.Prompt) []byte {
			return d.Answer(t, "AAAAAAAAAAAAAAAAAAAAAA", p.Number, push.Approve, e.clk.Now().Unix())
		}, mfa.ErrExpired},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			ctx := context.Background()
			d, fid := e.pair(t, "alice", false)
			other, _ := e.pair(t, "alice", true)
			stranger, _ := e.pair(t, "mallory", false)
			// A push to d alone, so other is a device of the user that was
			// not asked.
			ic, err := e.v.Challenge(ctx, mfa.ChallengeRequest{UserID: "alice", FactorID: fid, Binding: "b"})
			if err != nil {
				t.Fatal(err)
			}
			p := ic.Show.(*push.Prompt)
			err = e.pf.Answer(ctx, tc.body(t, e, d, other, stranger, p))
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if strings.Contains(err.Error(), p.RequestID) {
				t.Fatalf("error quotes input: %v", err)
			}
			if _, err := e.pf.Answered(ctx, "alice", p.RequestID); !errors.Is(err, push.ErrPending) {
				t.Fatalf("a refused answer was recorded: %v", err)
			}
			if err := e.pf.Answer(ctx, d.Answer(t, p.RequestID, p.Number, push.Approve, e.clk.Now().Unix())); err != nil {
				t.Fatalf("the right answer after a refused one: %v", err)
			}
			if _, err := e.complete("alice", ic, p, "b"); err != nil {
				t.Fatalf("sign-in after a refused answer: %v", err)
			}
		})
	}
}

// TestRefusedAnswers: a denial and a wrong number are recorded, reported
// as suspected fraud when they arrive, refused by Verify, and pause the
// user's pushes after PauseAfter of them.
func TestRefusedAnswers(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	d, _ := e.pair(t, "alice", false)
	for i, tc := range []struct {
		decision string
		wrongNum bool
		want     error
	}{
		{push.Deny, false, push.ErrDenied},
		{push.Approve, true, push.ErrWrongNumber},
		{push.Deny, true, push.ErrDenied},
	} {
		ic, p := e.challenge(t, "alice", "b")
		req, err := e.pf.Poll(ctx, d.Poll(t, e.clk.Now().Unix()))
		if err != nil {
			t.Fatal(err)
		}
		n := p.Number
		if tc.wrongNum {
			n = wrong(req, n)
		}
		if err := e.pf.Answer(ctx, d.Answer(t, p.RequestID, n, tc.decision, e.clk.Now().Unix())); err != nil {
			t.Fatal(err)
		}
		if got := e.events(push.EventSuspectedFraud); got != i+1 {
			t.Fatalf("%d fraud events, want %d", got, i+1)
		}
		_, err = e.complete("alice", ic, p, "b")
		if !errors.Is(err, tc.want) || !errors.Is(err, mfa.ErrWrongCode) {
			t.Fatalf("verify: %v, want %v", err, tc.want)
		}
		lo, err := e.v.Lockout(ctx, "alice")
		if err != nil {
			t.Fatal(err)
		}
		if lo.Failures != 0 {
			t.Fatalf("a refused push fed the user's lockout: %+v", lo)
		}
	}
	if e.events(push.EventPaused) != 1 {
		t.Fatal("no pause event after 3 refusals")
	}
	_, err := e.v.Challenge(ctx, mfa.ChallengeRequest{UserID: "alice", Kind: push.Kind, Binding: "b"})
	if !errors.Is(err, push.ErrPaused) {
		t.Fatalf("push while paused: %v", err)
	}
	e.clk.Add(time.Hour)
	e.challenge(t, "alice", "b")
}

func TestReplayExpiryCancel(t *testing.T) {
	ctx := context.Background()
	t.Run("replayed answer", func(t *testing.T) {
		e := newEnv(t, nil)
		d, fid := e.pair(t, "alice", false)
		ic, p := e.challenge(t, "alice", "b")
		body := d.Answer(t, p.RequestID, p.Number, push.Approve, e.clk.Now().Unix())
		if err := e.pf.Answer(ctx, body); err != nil {
			t.Fatal(err)
		}
		if err := e.pf.Answer(ctx, body); !errors.Is(err, mfa.ErrExpired) {
			t.Fatalf("second answer: %v", err)
		}
		if _, err := e.complete("alice", ic, p, "b"); err != nil {
			t.Fatal(err)
		}
		if _, err := e.pf.Answered(ctx, "alice", p.RequestID); !errors.Is(err, push.ErrPending) {
			t.Fatalf("answer taken twice: %v", err)
		}
		// The same answer presented straight to Verify again.
		_, err := e.v.Verify(ctx, mfa.VerifyRequest{UserID: "alice", FactorID: fid, Response: string(body), ChallengeID: ic.ID, Binding: "b"})
		if !errors.Is(err, mfa.ErrExpired) {
			t.Fatalf("replay to Verify: %v", err)
		}
		// And against a new challenge: the request ID does not match.
		ic2, _ := e.challenge(t, "alice", "b")
		_, err = e.v.Verify(ctx, mfa.VerifyRequest{UserID: "alice", FactorID: fid, Response: string(body), ChallengeID: ic2.ID, Binding: "b"})
		if !errors.Is(err, mfa.ErrChallengeMismatch) {
			t.Fatalf("replay to a new challenge: %v", err)
		}
	})
	t.Run("after expiry", func(t *testing.T) {
		e := newEnv(t, nil)
		d, fid := e.pair(t, "alice", false)
		ic, p := e.challenge(t, "alice", "b")
		e.clk.Add(2 * time.Minute)
		body := d.Answer(t, p.RequestID, p.Number, push.Approve, e.clk.Now().Unix())
		if err := e.pf.Answer(ctx, body); !errors.Is(err, mfa.ErrExpired) {
			t.Fatalf("answer after expiry: %v", err)
		}
		_, err := e.v.Verify(ctx, mfa.VerifyRequest{UserID: "alice", FactorID: fid, Response: string(body), ChallengeID: ic.ID, Binding: "b"})
		if !errors.Is(err, mfa.ErrExpired) {
			t.Fatalf("verify after expiry: %v", err)
		}
	})
	t.Run("after cancellation", func(t *testing.T) {
		e := newEnv(t, nil)
		d, _ := e.pair(t, "alice", false)
		_, old := e.challenge(t, "alice", "b")
		ic, p := e.challenge(t, "alice", "b2") // cancels old
		if err := e.pf.Answer(ctx, d.Answer(t, old.RequestID, old.Number, push.Approve, e.clk.Now().Unix())); !errors.Is(err, mfa.ErrExpired) {
			t.Fatalf("answer to a cancelled push: %v", err)
		}
		req, err := e.pf.Poll(ctx, d.Poll(t, e.clk.Now().Unix()))
		if err != nil || req.RequestID != p.RequestID {
			t.Fatalf("the device sees %+v, %v; want the new push only", req, err)
		}
		if err := e.pf.Answer(ctx, d.Answer(t, p.RequestID, p.Number, push.Approve, e.clk.Now().Unix())); err != nil {
			t.Fatal(err)
		}
		if _, err := e.complete("alice", ic, p, "b2"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("another attempt's binding", func(t *testing.T) {
		e := newEnv(t, nil)
		d, _ := e.pair(t, "alice", false)
		ic, p := e.challenge(t, "alice", "b")
		if err := e.pf.Answer(ctx, d.Answer(t, p.RequestID, p.Number, push.Approve, e.clk.Now().Unix())); err != nil {
			t.Fatal(err)
		}
		if _, err := e.complete("alice", ic, p, "other"); !errors.Is(err, mfa.ErrChallengeMismatch) {
			t.Fatalf("another binding: %v", err)
		}
	})
	t.Run("another user's request", func(t *testing.T) {
		e := newEnv(t, nil)
		d, _ := e.pair(t, "alice", false)
		_, p := e.challenge(t, "alice", "b")
		if err := e.pf.Answer(ctx, d.Answer(t, p.RequestID, p.Number, push.Approve, e.clk.Now().Unix())); err != nil {
			t.Fatal(err)
		}
		if _, err := e.pf.Answered(ctx, "mallory", p.RequestID); !errors.Is(err, push.ErrPending) {
			t.Fatalf("another user took the answer: %v", err)
		}
	})
}

func TestFlood(t *testing.T) {
	e := newEnv(t, nil)
	e.pair(t, "alice", false)
	for i := 0; i < 6; i++ {
		e.challenge(t, "alice", "b")
	}
	_, err := e.v.Challenge(context.Background(), mfa.ChallengeRequest{UserID: "alice", Kind: push.Kind, Binding: "b"})
	if !errors.Is(err, push.ErrTooMany) {
		t.Fatalf("7th push in an hour: %v", err)
	}
	e.clk.Add(time.Hour)
	e.challenge(t, "alice", "b")
}

func TestMalformed(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	d, fid := e.pair(t, "alice", false)
	ic, p := e.challenge(t, "alice", "b")
	good := string(d.Answer(t, p.RequestID, p.Number, push.Approve, e.clk.Now().Unix()))
	bodies := map[string]string{
		"empty":          "",
		"not JSON":       "approve",
		"array":          "[]",
		"unknown field":  strings.Replace(good, `{`, `{"x":1,`, 1),
		"trailing data":  good + "{}",
		"oversized":      `{"request_id":"` + strings.Repeat("a", push.MaxBodyLen) + `"}`,
		"long ID":        strings.Replace(good, p.RequestID, strings.Repeat("a", 300), 1),
		"newline in ID":  strings.Replace(good, p.RequestID, `a\nb`, 1),
		"bad decision":   strings.Replace(good, `"approve"`, `"yes"`, 1),
		"number too big": strings.Replace(good, `"number":`, `"number":1000`, 1),
		"short sig":      strings.Replace(good, `"sig":"`, `"sig":"AA`, 1)[:len(good)-20] + `"}`,
		"no sig":         `{"request_id":"r","device_id":"d","number":12,"decision":"approve","time":1}`,
	}
	for name, body := range bodies {
		t.Run(name, func(t *testing.T) {
			if err := e.pf.Answer(ctx, []byte(body)); !errors.Is(err, mfa.ErrMalformedResponse) && !errors.Is(err, push.ErrBadSignature) {
				t.Fatalf("Answer: %v", err)
			}
			if _, err := e.pf.Poll(ctx, []byte(body)); !errors.Is(err, mfa.ErrMalformedResponse) {
				t.Fatalf("Poll: %v", err)
			}
			if _, _, err := push.ParseRegistration([]byte(body)); !errors.Is(err, mfa.ErrMalformedResponse) {
				t.Fatalf("ParseRegistration: %v", err)
			}
		})
	}
	if _, err := e.pf.Answered(ctx, "", p.RequestID); !errors.Is(err, mfa.ErrInvalidInput) {
		t.Fatalf("Answered with no user: %v", err)
	}
	if _, err := e.pf.Poll(ctx, d.Poll(t, e.clk.Now().Add(-2*time.Minute).Unix())); !errors.Is(err, mfa.ErrExpired) {
		t.Fatalf("stale poll: %v", err)
	}
	// A malformed response to Verify fails and spends the challenge.
	_, err := e.v.Verify(ctx, mfa.VerifyRequest{UserID: "alice", FactorID: fid, Response: "{}", ChallengeID: ic.ID, Binding: "b"})
	if !errors.Is(err, mfa.ErrMalformedResponse) {
		t.Fatalf("Verify: %v", err)
	}
	// Nothing above answered the request.
	if err := e.pf.Answer(ctx, []byte(good)); err != nil {
		t.Fatal(err)
	}
}
