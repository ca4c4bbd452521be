package mfa_test

import (
	"context"
	"errors"
	"testing"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/factor"
	"github.com/mfakit/mfa/store"
)

// signatureFactor is a kind whose responses are signatures: it accepts
// nothing, and keeps no secret.
type signatureFactor struct{}

func (signatureFactor) Kind() mfa.Kind { return "signature" }
func (signatureFactor) Unguessable()   {}
func (signatureFactor) Enroll(context.Context, factor.EnrollInput) (factor.Enrolled, error) {
	return factor.Enrolled{}, nil
}
func (signatureFactor) Verify(context.Context, factor.VerifyInput) (factor.Match, error) {
	return factor.Match{}, factor.ErrWrongCode
}

// TestRecountByKind: a request that names a factor but no kind is counted
// as a code before the factor is loaded; once the factor turns out to be
// a signature kind, the user's count is taken back, and a code factor's
// is kept.
func TestRecountByKind(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, func(c *mfa.Config) { c.Factors = append(c.Factors, signatureFactor{}) })
	if err := e.st.CreateFactor(ctx, store.Factor{UserID: "alice", ID: "sig1", Kind: "signature", Status: store.StatusActive, Created: e.clk.Now()}); err != nil {
		t.Fatal(err)
	}
	totpID, _ := e.enrollTOTP(t, "alice")
	tests := []struct {
		name     string
		req      mfa.VerifyRequest
		failures int // the user's counter afterwards
	}{
		{"signature by factor ID", mfa.VerifyRequest{UserID: "alice", FactorID: "sig1", Response: "x"}, 0},
		{"signature by factor ID and kind", mfa.VerifyRequest{UserID: "alice", FactorID: "sig1", Kind: "signature", Response: "x"}, 0},
		{"code by factor ID", mfa.VerifyRequest{UserID: "alice", FactorID: totpID, Response: "000000"}, 1},
		{"code by factor ID, again", mfa.VerifyRequest{UserID: "alice", FactorID: totpID, Response: "000000"}, 2},
	}
	for _, tt := range tests {
		if _, err := e.v.Verify(ctx, tt.req); err == nil {
			t.Fatalf("%s: Verify succeeded", tt.name)
		} else if !errors.Is(err, mfa.ErrWrongCode) {
			t.Fatalf("%s: Verify error = %v, want ErrWrongCode", tt.name, err)
		}
		l, err := e.v.Lockout(ctx, "alice")
		if err != nil {
			t.Fatal(err)
		}
		if l.Failures != tt.failures {
			t.Errorf("%s: the user's failures = %d, want %d", tt.name, l.Failures, tt.failures)
		}
	}
}
