package mfa_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/factor"
	"github.com/mfakit/mfa/store"
)

// resolvingFactor is a stand-in for a kind whose response names its factor
// (a WebAuthn credential): the response is "lookup:verdict". Enrolment is
// active at once with Lookup set to the account name.
type resolvingFactor struct{}

func (resolvingFactor) Kind() mfa.Kind { return "resolving" }

func (resolvingFactor) Enroll(_ context.Context, in factor.EnrollInput) (factor.Enrolled, error) {
	return factor.Enrolled{Active: true, Lookup: in.Account}, nil
}

// Challenge records the lookups of the factors it was given.
func (resolvingFactor) Challenge(_ context.Context, in factor.ChallengeInput) (factor.Issued, error) {
	var ids []string
	if in.Factor != nil {
		ids = append(ids, in.Factor.Lookup)
	}
	for _, f := range in.Existing {
		if f.Secret != nil {
			return factor.Issued{}, errors.New("secret passed to Challenge")
		}
		ids = append(ids, f.Lookup)
	}
	return factor.Issued{Data: []byte(strings.Join(ids, ",")), Show: ids}, nil
}

func (resolvingFactor) Resolve(_ context.Context, response string) (string, error) {
	lookup, _, ok := strings.Cut(response, ":")
	if !ok {
		return "", mfa.ErrMalformedResponse
	}
	return lookup, nil
}

func (resolvingFactor) Verify(_ context.Context, in factor.VerifyInput) (factor.Match, error) {
	_, verdict, _ := strings.Cut(in.Response, ":")
	switch verdict {
	case "ok":
		return factor.Match{Counter: in.Factor.Counter + 1, AMR: []string{"hwk"}, AAL: mfa.AAL2, Remaining: -1}, nil
	case "regressed":
		return factor.Match{Notes: []mfa.EventType{mfa.EventSignCountRegressed}}, mfa.ErrReplayed
	}
	return factor.Match{}, mfa.ErrWrongCode
}

// TestResolverFlows covers what the Verifier does for resolving kinds: a
// kind-only challenge lists the user's active factors of that kind, a
// kind-only verification finds the factor from the response (and refuses
// another user's), and notes returned with a refusal are still emitted.
func TestResolverFlows(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, func(c *mfa.Config) { c.Factors = append(c.Factors, resolvingFactor{}) })
	const kind mfa.Kind = "resolving"
	enrol := func(user, lookup string) string {
		t.Helper()
		en, err := e.v.BeginEnrollment(ctx, mfa.EnrollRequest{UserID: user, Kind: kind, Account: lookup, AuthTime: e.clk.Now()})
		if err != nil {
			t.Fatal(err)
		}
		return en.FactorID
	}
	enrol("alice", "a1")
	a2 := enrol("alice", "a2")
	enrol("bob", "b1")
	e.enrollTOTP(t, "alice") // another kind: not listed

	ch, err := e.v.Challenge(ctx, mfa.ChallengeRequest{UserID: "alice", Kind: kind, Binding: "p1"})
	if err != nil {
		t.Fatal(err)
	}
	if got := slices.Sorted(slices.Values(ch.Show.([]string))); !slices.Equal(got, []string{"a1", "a2"}) {
		t.Fatalf("kind-only challenge listed %v, want alice's two factors", got)
	}
	one, err := e.v.Challenge(ctx, mfa.ChallengeRequest{UserID: "alice", FactorID: a2, Binding: "p1"})
	if err != nil {
		t.Fatal(err)
	}
	if got := one.Show.([]string); !slices.Equal(got, []string{"a2"}) {
		t.Fatalf("factor challenge listed %v, want only a2", got)
	}

	// Kind only, user known, two factors: the response picks one.
	res, err := e.v.Verify(ctx, mfa.VerifyRequest{UserID: "alice", Kind: kind, ChallengeID: ch.ID, Binding: "p1", Response: "a2:ok"})
	if err != nil || res.FactorID != a2 || res.UserID != "alice" {
		t.Fatalf("kind-only verify = %+v, %v", res, err)
	}

	// Another user's factor named by alice's response: not found, and
	// alice's challenge is not spent by it.
	ch, err = e.v.Challenge(ctx, mfa.ChallengeRequest{UserID: "alice", Kind: kind, Binding: "p2"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.v.Verify(ctx, mfa.VerifyRequest{UserID: "alice", Kind: kind, ChallengeID: ch.ID, Binding: "p2", Response: "b1:ok"}); !errors.Is(err, mfa.ErrNotFound) {
		t.Fatalf("another user's factor: %v, want ErrNotFound", err)
	}
	if _, err := e.v.Verify(ctx, mfa.VerifyRequest{UserID: "alice", Kind: kind, ChallengeID: ch.ID, Binding: "p2", Response: "nothing"}); !errors.Is(err, mfa.ErrMalformedResponse) {
		t.Fatalf("response naming no factor: %v, want ErrMalformedResponse", err)
	}

	// Notes returned with a refusal follow the failure event.
	e.resetEvents()
	if _, err := e.v.Verify(ctx, mfa.VerifyRequest{UserID: "alice", Kind: kind, ChallengeID: ch.ID, Binding: "p2", Response: "a1:regressed"}); !errors.Is(err, mfa.ErrReplayed) {
		t.Fatalf("refused with notes: %v, want ErrReplayed", err)
	}
	want := []mfa.EventType{mfa.EventReplayRefused, mfa.EventSignCountRegressed}
	if got := e.eventTypes(); !slices.Equal(got, want) {
		t.Fatalf("events = %v, want %v", got, want)
	}
	var rec store.Factor
	list, _ := e.st.ListFactors(ctx, "alice")
	for _, f := range list {
		if f.Lookup == "a1" {
			rec = f
		}
	}
	if rec.Counter != 0 {
		t.Fatalf("refused response moved the counter to %d", rec.Counter)
	}
}

// registeringFactor is a stand-in Registrar whose response is accepted
// when it is "ok".
type registeringFactor struct{ resolvingFactor }

func (registeringFactor) Enroll(context.Context, factor.EnrollInput) (factor.Enrolled, error) {
	return factor.Enrolled{Challenge: []byte("c")}, nil
}

func (registeringFactor) Register(_ context.Context, in factor.RegisterInput) (factor.Enrolled, error) {
	if in.Response != "ok" {
		return factor.Enrolled{}, mfa.ErrWrongCode
	}
	return factor.Enrolled{Lookup: in.FactorID}, nil
}

// TestRegistrationClearsCounters: a confirmed registration leaves no
// failure on the user or on the new factor (whose ID is the enrolment
// challenge's, counted like any attempt).
func TestRegistrationClearsCounters(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, func(c *mfa.Config) { c.Factors = append(c.Factors, registeringFactor{}) })
	en, err := e.v.BeginEnrollment(ctx, mfa.EnrollRequest{UserID: "alice", Kind: "resolving"})
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.v.ConfirmEnrollment(ctx, mfa.ConfirmRequest{UserID: "alice", ChallengeID: en.ChallengeID, Response: "ok"})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []store.CounterKey{
		{Scope: store.ScopeUser, UserID: "alice"},
		{Scope: store.ScopeFactor, UserID: "alice", FactorID: res.FactorID},
	} {
		if st, err := e.st.CounterState(ctx, k); err != nil || st.Failures != 0 {
			t.Fatalf("%s after a confirmed registration: %+v, %v", k, st, err)
		}
	}
}

// A response that names no factor compares nothing, but it still counts
// against the client IP and is reported, so credential spraying is
// limited.
func TestUnresolvedResponseCountsAgainstIP(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, func(c *mfa.Config) { c.Factors = append(c.Factors, resolvingFactor{}) })
	ip := store.CounterKey{Scope: store.ScopeIP, IP: "192.0.2.66"}
	for i := range 20 {
		_, err := e.v.Verify(ctx, mfa.VerifyRequest{Kind: "resolving", Response: "nobody:ok", IP: ip.IP})
		if !errors.Is(err, mfa.ErrNotFound) {
			t.Fatalf("attempt %d: %v", i+1, err)
		}
	}
	if st, _ := e.st.CounterState(ctx, ip); st.Failures != 20 {
		t.Fatalf("ip counter = %d, want 20", st.Failures)
	}
	if _, err := e.v.Verify(ctx, mfa.VerifyRequest{Kind: "resolving", Response: "nobody:ok", IP: ip.IP}); !errors.Is(err, mfa.ErrRateLimited) {
		t.Fatalf("after 20 unresolved responses: %v", err)
	}
	if got := e.eventTypes(); got[0] != mfa.EventVerifyFailed || got[len(got)-1] != mfa.EventRateLimited {
		t.Fatalf("events = %v", got)
	}
}

// A challenge issued to a user (a second step after their password) cannot
// be answered by a request that names no user (a passkey sign-in), which
// would skip the password.
func TestUserlessVerifyRefusesUserChallenge(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, func(c *mfa.Config) { c.Factors = append(c.Factors, resolvingFactor{}) })
	if _, err := e.v.BeginEnrollment(ctx, mfa.EnrollRequest{UserID: "alice", Kind: "resolving", Account: "alice-key"}); err != nil {
		t.Fatal(err)
	}
	c, err := e.v.Challenge(ctx, mfa.ChallengeRequest{UserID: "alice", Kind: "resolving", Binding: "b"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.v.Verify(ctx, mfa.VerifyRequest{Kind: "resolving", ChallengeID: c.ID, Binding: "b", Response: "alice-key:ok"})
	if !errors.Is(err, mfa.ErrChallengeMismatch) {
		t.Fatalf("user-less verify with alice's challenge: %v", err)
	}
	// The reverse: a user-less challenge answered by a request naming the
	// user would report a passkey sign-in for a second step.
	for _, req := range []mfa.VerifyRequest{
		{UserID: "alice", Kind: "resolving", Binding: "b", Response: "alice-key:ok"},
		{UserID: "alice", FactorID: e.factorByLookup(t, "alice", "alice-key"), Binding: "b", Response: "alice-key:ok"},
	} {
		c, err := e.v.Challenge(ctx, mfa.ChallengeRequest{Kind: "resolving", Binding: "b"})
		if err != nil {
			t.Fatal(err)
		}
		req.ChallengeID = c.ID
		if _, err := e.v.Verify(ctx, req); !errors.Is(err, mfa.ErrChallengeMismatch) {
			t.Fatalf("verify naming alice (factor %q) with a user-less challenge: %v", req.FactorID, err)
		}
	}
	// A user-less challenge works for a user-less request.
	c, err = e.v.Challenge(ctx, mfa.ChallengeRequest{Kind: "resolving", Binding: "b"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.v.Verify(ctx, mfa.VerifyRequest{Kind: "resolving", ChallengeID: c.ID, Binding: "b", Response: "alice-key:ok"}); err != nil {
		t.Fatalf("passkey sign-in: %v", err)
	}
}

// factorByLookup returns the ID of the user's factor with that lookup.
func (e *env) factorByLookup(t *testing.T, user, lookup string) string {
	t.Helper()
	list, err := e.st.ListFactors(context.Background(), user)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range list {
		if f.Lookup == lookup {
			return f.ID
		}
	}
	t.Fatalf("%s has no factor %q", user, lookup)
	return ""
}
