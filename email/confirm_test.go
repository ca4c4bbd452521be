package email_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/email"
	"github.com/mfakit/mfa/store"
)

// lostAck is a store whose next UpdateFactor commits and then reports a
// failure, as a connection that drops before the answer arrives does.
type lostAck struct {
	mfa.Store
	armed atomic.Bool
}

func (s *lostAck) UpdateFactor(ctx context.Context, f store.Factor) error {
	err := s.Store.UpdateFactor(ctx, f)
	if err == nil && s.armed.CompareAndSwap(true, false) {
		return errors.New("connection reset by peer")
	}
	return err
}

// An emailed enrolment code whose activation committed but whose answer
// was lost is retried with the same challenge and code: the retry reports
// the factor active, once, and the code signs nobody in.
func TestConfirmRetryAfterLostAnswer(t *testing.T) {
	ctx := context.Background()
	var s *lostAck
	e := newEnv(t, email.Config{Issuer: "Example"}, func(c *mfa.Config) {
		s = &lostAck{Store: c.Store}
		c.Store = s
	})
	confirmed := e.clk.Now()
	en, err := e.v.BeginEnrollment(ctx, mfa.EnrollRequest{UserID: "alice", Kind: email.Kind, Destination: "alice@example.com", AuthTime: confirmed})
	if err != nil {
		t.Fatal(err)
	}
	code := e.box.last(t).Code
	req := mfa.ConfirmRequest{UserID: "alice", FactorID: en.FactorID, ChallengeID: en.ChallengeID, Response: code, IP: "192.0.2.1", AuthTime: confirmed}

	s.armed.Store(true)
	if _, err := e.v.ConfirmEnrollment(ctx, req); !errors.Is(err, mfa.ErrStore) {
		t.Fatalf("confirmation with a lost answer: %v, want ErrStore", err)
	}
	list, err := e.v.Factors(ctx, "alice")
	if err != nil || len(list) != 1 || !list[0].Active {
		t.Fatalf("after the lost answer: %+v, %v; want the factor active", list, err)
	}
	e.clk.Add(10 * time.Second)

	// Another code, or the code under another challenge ID, is not the
	// proof that confirmed the factor.
	other := req
	other.Response = string('0'+(code[0]-'0'+1)%10) + code[1:]
	if _, err := e.v.ConfirmEnrollment(ctx, other); !errors.Is(err, mfa.ErrExpired) {
		t.Fatalf("retry with another code: %v, want ErrExpired", err)
	}
	other = req
	other.ChallengeID = "not-the-challenge"
	if _, err := e.v.ConfirmEnrollment(ctx, other); !errors.Is(err, mfa.ErrExpired) {
		t.Fatalf("retry under another challenge ID: %v, want ErrExpired", err)
	}
	res, err := e.v.ConfirmEnrollment(ctx, req)
	if err != nil || res.FactorID != en.FactorID || res.Kind != email.Kind || res.AAL != mfa.AAL1 || !res.Time.Equal(confirmed) {
		t.Fatalf("retry with the same code: %+v, %v; want the factor reported active as at %v", res, err, confirmed)
	}
	if _, err := e.v.ConfirmEnrollment(ctx, req); !errors.Is(err, mfa.ErrExpired) {
		t.Fatalf("second retry: %v, want ErrExpired (a receipt answers once)", err)
	}
	if _, err := e.v.Verify(ctx, mfa.VerifyRequest{UserID: "alice", FactorID: en.FactorID, ChallengeID: en.ChallengeID, Response: code}); err == nil {
		t.Fatal("the enrolment code signed the user in")
	}
}
