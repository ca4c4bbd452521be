package mfa_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/store"
)

// issueEnv is an env whose one challenge kind is the stand-in OOB factor,
// enrolled for alice and bob.
func issueEnv(t *testing.T, limits mfa.IssueLimits) *env {
	t.Helper()
	e := newEnv(t, func(c *mfa.Config) {
		c.Factors = append(c.Factors, oobFactor{code: "123456"})
		c.Issue = limits
	})
	for _, u := range []string{"alice", "bob"} {
		if _, err := e.v.BeginEnrollment(context.Background(), mfa.EnrollRequest{UserID: u, Kind: kindOOB}); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// issueUntilRefused asks for challenges until one is refused and returns
// how many were issued and the refusal.
func issueUntilRefused(t *testing.T, e *env, max int, req func(i int) mfa.ChallengeRequest) (int, error) {
	t.Helper()
	for i := range max {
		if _, err := e.v.Challenge(context.Background(), req(i)); err != nil {
			return i, err
		}
	}
	return max, nil
}

func TestIssueLimits(t *testing.T) {
	tests := []struct {
		name   string
		limits mfa.IssueLimits
		req    func(i int) mfa.ChallengeRequest
		want   int
	}{
		{
			name: "per IP, anonymous requests (defaults)",
			req: func(int) mfa.ChallengeRequest {
				return mfa.ChallengeRequest{Kind: kindOOB, Binding: "b", IP: "203.0.113.1"}
			},
			want: 100,
		},
		{
			name: "per user, from many addresses (defaults)",
			req: func(i int) mfa.ChallengeRequest {
				return mfa.ChallengeRequest{UserID: "alice", Kind: kindOOB, Binding: "b", IP: fmt.Sprintf("198.51.100.%d", i)}
			},
			want: 10,
		},
		{
			name:   "global, many users and addresses",
			limits: mfa.IssueLimits{Global: 7, PerUser: -1, PerIP: -1},
			req: func(i int) mfa.ChallengeRequest {
				return mfa.ChallengeRequest{UserID: fmt.Sprintf("u%d", i), Kind: kindOOB, Binding: "b", IP: fmt.Sprintf("198.51.100.%d", i)}
			},
			want: 7,
		},
		{
			name:   "configured per IP",
			limits: mfa.IssueLimits{PerIP: 3},
			req: func(int) mfa.ChallengeRequest {
				return mfa.ChallengeRequest{Kind: kindOOB, Binding: "b", IP: "203.0.113.2"}
			},
			want: 3,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := issueEnv(t, tt.limits)
			n, err := issueUntilRefused(t, e, 5000, tt.req)
			if n != tt.want {
				t.Fatalf("%d challenges issued before refusal, want %d (refusal: %v)", n, tt.want, err)
			}
			var rl *mfa.RateLimitError
			if !errors.As(err, &rl) || !errors.Is(err, mfa.ErrRateLimited) {
				t.Fatalf("refusal: %v, want a RateLimitError", err)
			}
			// The window is fixed: the refusal lasts until it ends, and
			// the next window admits again.
			end := e.clk.Now().Truncate(15 * time.Minute).Add(15 * time.Minute)
			if !rl.RetryAfter.Equal(end) {
				t.Fatalf("RetryAfter = %v, want the window's end %v", rl.RetryAfter, end)
			}
			if got := e.eventTypes(); got[len(got)-1] != mfa.EventRateLimited {
				t.Fatalf("last event %v, want %v", got[len(got)-1], mfa.EventRateLimited)
			}
			e.clk.Set(end.Add(-time.Second))
			if _, err := e.v.Challenge(context.Background(), tt.req(n)); !errors.Is(err, mfa.ErrRateLimited) {
				t.Fatalf("a second before the window ends: %v", err)
			}
			e.clk.Set(end)
			if _, err := e.v.Challenge(context.Background(), tt.req(n+1)); err != nil {
				t.Fatalf("in the next window: %v", err)
			}
		})
	}
}

// A refused issue stores nothing: one IP asking 5,000 times leaves the
// store holding at most its cap of challenges.
func TestIssueLimitBoundsStorage(t *testing.T) {
	e := issueEnv(t, mfa.IssueLimits{})
	var ids []string
	for range 5000 {
		ch, err := e.v.Challenge(context.Background(), mfa.ChallengeRequest{Kind: kindOOB, Binding: "b", IP: "203.0.113.3"})
		if err == nil {
			ids = append(ids, ch.ID)
		}
	}
	if len(ids) != 100 {
		t.Fatalf("%d challenges issued to one IP of 5000 asked, want 100", len(ids))
	}
	// Every issued challenge is stored and takeable; nothing else is.
	for _, id := range ids {
		if _, err := e.st.TakeChallenge(context.Background(), id, e.clk.Now()); err != nil {
			t.Fatalf("issued challenge %s: %v", id, err)
		}
	}
}

// Limits apart: one user's cap does not refuse another, nor does one IP's
// refuse another address.
func TestIssueLimitsAreSeparate(t *testing.T) {
	e := issueEnv(t, mfa.IssueLimits{PerUser: 2, PerIP: 2})
	ctx := context.Background()
	for range 2 {
		if _, err := e.v.Challenge(ctx, mfa.ChallengeRequest{UserID: "alice", Kind: kindOOB, Binding: "b", IP: "192.0.2.1"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.v.Challenge(ctx, mfa.ChallengeRequest{UserID: "alice", Kind: kindOOB, Binding: "b", IP: "192.0.2.2"}); !errors.Is(err, mfa.ErrRateLimited) {
		t.Fatalf("alice's third: %v", err)
	}
	if _, err := e.v.Challenge(ctx, mfa.ChallengeRequest{UserID: "bob", Kind: kindOOB, Binding: "b", IP: "192.0.2.2"}); err != nil {
		t.Fatalf("bob from another IP: %v", err)
	}
	if _, err := e.v.Challenge(ctx, mfa.ChallengeRequest{UserID: "bob", Kind: kindOOB, Binding: "b", IP: "192.0.2.1"}); !errors.Is(err, mfa.ErrRateLimited) {
		t.Fatalf("bob from alice's exhausted IP: %v", err)
	}
	// Issue caps never touch the failure counters.
	if l, err := e.v.Lockout(ctx, "alice"); err != nil || l != (mfa.Lockout{}) {
		t.Fatalf("alice's failure counter: %+v, %v", l, err)
	}
	st, err := e.st.CounterState(ctx, store.CounterKey{Scope: store.ScopeIP, IP: "192.0.2.1"})
	if err != nil || st.Failures != 0 {
		t.Fatalf("IP failure counter: %+v, %v", st, err)
	}
}

// Requests that cannot be challenges (a kind that takes none, an unknown
// kind, bad input) are refused before anything is counted.
func TestIssueBadRequestsCostNothing(t *testing.T) {
	e := issueEnv(t, mfa.IssueLimits{PerIP: 1})
	ctx := context.Background()
	for _, req := range []mfa.ChallengeRequest{
		{Kind: mfa.KindTOTP, Binding: "b", IP: "192.0.2.9"},
		{Kind: "nope", Binding: "b", IP: "192.0.2.9"},
		{Kind: kindOOB, Binding: "mfa/enroll", IP: "192.0.2.9"},
		{Kind: kindOOB, Binding: "b", IP: "192.0.2.9", FactorID: string(make([]byte, 300))},
	} {
		if _, err := e.v.Challenge(ctx, req); err == nil || errors.Is(err, mfa.ErrRateLimited) {
			t.Fatalf("%+v: %v, want a refusal that is not a rate limit", req, err)
		}
	}
	if _, err := e.v.Challenge(ctx, mfa.ChallengeRequest{Kind: kindOOB, Binding: "b", IP: "192.0.2.9"}); err != nil {
		t.Fatalf("the IP's one challenge: %v", err)
	}
}

func TestIssueLimitsConfig(t *testing.T) {
	_, err := mfa.New(mfa.Config{Store: newEnv(t).st, Factors: []mfa.Factor{oobFactor{}}, Sealer: mustKeyring(t), HashKey: hashKey, Issue: mfa.IssueLimits{Window: time.Millisecond}})
	if !errors.Is(err, mfa.ErrConfig) {
		t.Fatalf("a 1 ms window: %v, want ErrConfig", err)
	}
}

func mustKeyring(t *testing.T) *mfa.Keyring {
	t.Helper()
	kr, err := mfa.NewKeyring(testKey("k1", 1))
	if err != nil {
		t.Fatal(err)
	}
	return kr
}
