package mfa_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/factor"
	"github.com/mfakit/mfa/internal/testkit"
	"github.com/mfakit/mfa/totp"
)

// sentinels is every sentinel the Verifier documents.
var sentinels = []error{
	mfa.ErrInvalidInput, mfa.ErrMalformedResponse, mfa.ErrWrongCode, mfa.ErrReplayed,
	mfa.ErrRateLimited, mfa.ErrLocked, mfa.ErrExpired, mfa.ErrChallengeMismatch,
	mfa.ErrNotFound, mfa.ErrNotEnrolled, mfa.ErrUnsupportedKind, mfa.ErrStepUpRequired,
	mfa.ErrSealed, mfa.ErrDenied, mfa.ErrStore, mfa.ErrConfig, mfa.ErrInternal,
}

func wrapsSentinel(err error) bool {
	for _, s := range sentinels {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

// failingReader is a random source that has failed.
type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("entropy source unavailable") }

// rawFactor returns errors that wrap no sentinel from every method.
type rawFactor struct{}

func (rawFactor) Kind() mfa.Kind { return "raw" }

func (rawFactor) Enroll(context.Context, factor.EnrollInput) (factor.Enrolled, error) {
	return factor.Enrolled{}, errors.New("raw enrol failure")
}

func (rawFactor) Verify(context.Context, factor.VerifyInput) (factor.Match, error) {
	return factor.Match{}, errors.New("raw check failure")
}

func (rawFactor) Challenge(context.Context, factor.ChallengeInput) (factor.Issued, error) {
	return factor.Issued{}, errors.New("raw challenge failure")
}

// Every error a Verifier returns wraps a sentinel, including a failing
// random source and a factor's own unclassified errors.
func TestErrorsWrapASentinel(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		edit func(*mfa.Config)
		call func(e *env) error
		want error
	}{
		{
			name: "random source fails at enrolment",
			edit: func(c *mfa.Config) { c.Rand = failingReader{} },
			call: func(e *env) error {
				_, err := e.v.BeginEnrollment(ctx, mfa.EnrollRequest{UserID: "alice", Kind: mfa.KindTOTP})
				return err
			},
			want: mfa.ErrInternal,
		},
		{
			name: "factor's raw enrol error",
			edit: func(c *mfa.Config) { c.Factors = append(c.Factors, rawFactor{}) },
			call: func(e *env) error {
				_, err := e.v.BeginEnrollment(ctx, mfa.EnrollRequest{UserID: "alice", Kind: "raw"})
				return err
			},
			want: mfa.ErrInternal,
		},
		{
			name: "factor's raw challenge error",
			edit: func(c *mfa.Config) { c.Factors = append(c.Factors, rawFactor{}) },
			call: func(e *env) error {
				_, err := e.v.Challenge(ctx, mfa.ChallengeRequest{UserID: "alice", Kind: "raw", Binding: "b"})
				return err
			},
			want: mfa.ErrInternal,
		},
		{
			name: "challenge for a kind that takes none",
			call: func(e *env) error {
				_, err := e.v.Challenge(ctx, mfa.ChallengeRequest{UserID: "alice", Kind: mfa.KindTOTP})
				return err
			},
			want: mfa.ErrUnsupportedKind,
		},
		{
			name: "oversized user ID",
			call: func(e *env) error {
				_, err := e.v.Factors(ctx, string(make([]byte, 1000)))
				return err
			},
			want: mfa.ErrInvalidInput,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var edits []func(*mfa.Config)
			if tt.edit != nil {
				edits = append(edits, tt.edit)
			}
			e := newEnv(t, edits...)
			err := tt.call(e)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if !wrapsSentinel(err) {
				t.Fatalf("err = %v wraps no sentinel", err)
			}
		})
	}
}

// A factor's unclassified check error is a wrong code: it denies and
// shows nothing of its text to the event stream.
func TestRawCheckErrorIsWrongCode(t *testing.T) {
	e := newEnv(t)
	id, _ := e.enrollTOTP(t, "alice")
	e2 := newEnv(t, func(c *mfa.Config) { c.Store = e.st; c.Factors = []mfa.Factor{rawTOTP{}} })
	_, err := e2.v.Verify(context.Background(), mfa.VerifyRequest{UserID: "alice", FactorID: id, Response: "123456"})
	if !errors.Is(err, mfa.ErrWrongCode) {
		t.Fatalf("err = %v, want ErrWrongCode", err)
	}
	for _, ev := range e2.events {
		if ev.Reason != "" && ev.Reason != mfa.ErrWrongCode.Error() {
			t.Fatalf("event reason %q quotes the cause", ev.Reason)
		}
	}
}

// rawTOTP claims the totp kind and fails every check with a raw error.
type rawTOTP struct{}

func (rawTOTP) Kind() mfa.Kind { return mfa.KindTOTP }

func (rawTOTP) Enroll(ctx context.Context, in factor.EnrollInput) (factor.Enrolled, error) {
	return rawFactor{}.Enroll(ctx, in)
}

func (rawTOTP) Verify(ctx context.Context, in factor.VerifyInput) (factor.Match, error) {
	return rawFactor{}.Verify(ctx, in)
}

func TestShowAs(t *testing.T) {
	e := newEnv(t)
	en, err := e.v.BeginEnrollment(context.Background(), mfa.EnrollRequest{UserID: "alice", Kind: mfa.KindTOTP})
	if err != nil {
		t.Fatal(err)
	}
	setup, err := mfa.ShowAs[*totp.Setup](en.Show)
	if err != nil || setup.Secret == "" {
		t.Fatalf("ShowAs[*totp.Setup] = %v, %v", setup, err)
	}
	if _, err := mfa.ShowAs[[]string](en.Show); !errors.Is(err, mfa.ErrUnsupportedKind) {
		t.Fatalf("ShowAs of the wrong type: %v, want ErrUnsupportedKind", err)
	}
	if _, err := mfa.ShowAs[*totp.Setup](nil); !errors.Is(err, mfa.ErrUnsupportedKind) {
		t.Fatalf("ShowAs of nil: %v, want ErrUnsupportedKind", err)
	}
}

// Lockout reads the user's counter as failures mount, without counting.
func TestLockout(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	id, secret := e.enrollTOTP(t, "alice")
	wrong := func() {
		t.Helper()
		_, err := e.v.Verify(ctx, mfa.VerifyRequest{UserID: "alice", FactorID: id, Response: testkit.WrongTOTPCode(t, secret, e.clk.Now())})
		if err == nil {
			t.Fatal("a wrong code was accepted")
		}
	}
	read := func() mfa.Lockout {
		t.Helper()
		l, err := e.v.Lockout(ctx, "alice")
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	if l := read(); l != (mfa.Lockout{}) {
		t.Fatalf("fresh user: %+v", l)
	}
	for range 3 {
		wrong()
	}
	if l := read(); l.Failures != 3 || l.Locked || !l.RetryAfter.IsZero() {
		t.Fatalf("after 3 failures: %+v", l)
	}
	if l := read(); l.Failures != 3 {
		t.Fatalf("Lockout counted itself: %+v", l)
	}
	for range 2 {
		wrong()
	}
	if l := read(); l.Failures != 5 || l.Locked || !l.RetryAfter.Equal(e.clk.Now().Add(30*time.Second)) {
		t.Fatalf("after 5 failures: %+v, want RetryAfter %v", l, e.clk.Now().Add(30*time.Second))
	}
	for l := read(); !l.Locked; l = read() {
		e.clk.Add(time.Hour)
		wrong()
	}
	if l := read(); l.Failures != mfa.MaxFailures || !l.RetryAfter.IsZero() {
		t.Fatalf("locked: %+v", l)
	}
	if err := e.v.Unlock(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if l := read(); l != (mfa.Lockout{}) {
		t.Fatalf("after Unlock: %+v", l)
	}
	if _, err := e.v.Lockout(ctx, ""); !errors.Is(err, mfa.ErrInvalidInput) {
		t.Fatalf("empty user: %v", err)
	}
}

// An unknown user costs the same kind of work as a wrong code for a known
// one: a code factor's check runs against a decoy secret (the application
// shows both the same message; see errors.go).
func TestUnknownUserDoesComparableWork(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	fid, secret := e.enrollTOTP(t, "alice")
	wrong := testkit.WrongTOTPCode(t, secret, e.clk.Now())
	before := e.totp.compares.Load()
	if _, err := e.v.Verify(ctx, mfa.VerifyRequest{UserID: "alice", FactorID: fid, Response: wrong}); !errors.Is(err, mfa.ErrWrongCode) {
		t.Fatalf("known user, wrong code: %v", err)
	}
	if _, err := e.v.Verify(ctx, mfa.VerifyRequest{UserID: "mallory", FactorID: fid, Response: wrong}); !errors.Is(err, mfa.ErrNotFound) {
		t.Fatalf("unknown user: %v", err)
	}
	if _, err := e.v.Verify(ctx, mfa.VerifyRequest{UserID: "alice", FactorID: "no-such-factor", Response: wrong}); !errors.Is(err, mfa.ErrNotFound) {
		t.Fatalf("unknown factor: %v", err)
	}
	if got := e.totp.compares.Load() - before; got != 3 {
		t.Fatalf("%d checks ran for one wrong code and two missing factors, want 3", got)
	}
	// The decoy left nothing behind: alice's factor is unchanged and the
	// code she has not used still works.
	if _, err := e.v.Verify(ctx, mfa.VerifyRequest{UserID: "alice", FactorID: fid, Response: e.code(t, secret, 0)}); err != nil {
		t.Fatalf("alice's own code after the decoys: %v", err)
	}
}
