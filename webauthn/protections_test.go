package webauthn_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/internal/testkit"
	"github.com/mfakit/mfa/store"
)

// TestRateLimitBeforeCompare: failures are counted before any signature is
// checked; once the limit is reached even a valid assertion is refused
// without reaching the WebAuthn check, and its challenge stays usable.
func TestRateLimitBeforeCompare(t *testing.T) {
	e := newEnv(t)
	a := testkit.NewAuthenticator(origin, 0)
	fid := e.register(t, "alice", a)
	for i := range 5 {
		chID, opts := e.challenge(t, "alice", fid, "p")
		if _, err := e.verify("alice", chID, "p", a.Get(opts, testkit.TamperSignature())); !errors.Is(err, mfa.ErrWrongCode) {
			t.Fatalf("failure %d: %v", i+1, err)
		}
	}
	if got := e.f.count(); got != 5 {
		t.Fatalf("%d responses checked, want 5", got)
	}
	chID, opts := e.challenge(t, "alice", fid, "p")
	valid := a.Get(opts)
	_, err := e.verify("alice", chID, "p", valid)
	var rl *mfa.RateLimitError
	if !errors.As(err, &rl) || !errors.Is(err, mfa.ErrRateLimited) || !rl.RetryAfter.Equal(e.clk.Now().Add(30*time.Second)) {
		t.Fatalf("sixth attempt: %v", err)
	}
	if got := e.f.count(); got != 5 {
		t.Fatalf("a rate-limited response reached the check (%d checks)", got)
	}
	e.clk.Add(30 * time.Second)
	if _, err := e.verify("alice", chID, "p", valid); err != nil {
		t.Fatalf("after the delay: %v", err)
	}
	// The success cleared the user's failures.
	if st, err := e.st.CounterState(context.Background(), store.CounterKey{Scope: store.ScopeUser, UserID: "alice"}); err != nil || st.Failures != 0 {
		t.Fatalf("user counter after success: %+v, %v", st, err)
	}
}

// TestLockout: the 101st attempt after 100 consecutive failures is refused
// even with a valid assertion, until an operator unlocks.
func TestLockout(t *testing.T) {
	e := newEnv(t)
	a := testkit.NewAuthenticator(origin, 0)
	fid := e.register(t, "alice", a)
	for i := range mfa.MaxFailures {
		chID, opts := e.challenge(t, "alice", fid, "p")
		if _, err := e.verify("alice", chID, "p", a.Get(opts, testkit.WithoutFlags(testkit.FlagUP))); !errors.Is(err, mfa.ErrWrongCode) {
			t.Fatalf("failure %d: %v", i+1, err)
		}
		e.clk.Add(time.Hour) // past any delay: only the cap is left
	}
	chID, opts := e.challenge(t, "alice", fid, "p")
	valid := a.Get(opts)
	if _, err := e.verify("alice", chID, "p", valid); !errors.Is(err, mfa.ErrLocked) {
		t.Fatalf("attempt 101: %v, want ErrLocked", err)
	}
	if err := e.v.Unlock(context.Background(), "alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.verify("alice", chID, "p", valid); err != nil {
		t.Fatalf("after unlock: %v", err)
	}
}

// TestConcurrentUseOfOneAssertion: many instances racing with the same
// assertion get exactly one success.
func TestConcurrentUseOfOneAssertion(t *testing.T) {
	e := newEnv(t)
	a := testkit.NewAuthenticator(origin, 0)
	a.Count = 1
	fid := e.register(t, "alice", a)
	chID, opts := e.challenge(t, "alice", fid, "p")
	resp := a.Get(opts)
	const n = 32
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { _, errs[i] = e.verify("alice", chID, "p", resp) })
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, mfa.ErrExpired), errors.Is(err, mfa.ErrRateLimited):
		default:
			t.Errorf("unexpected error: %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d successes, want exactly 1", ok)
	}
	if got := e.factor(t, "alice", fid).Counter; got != 2 {
		t.Fatalf("counter = %d, want 2", got)
	}
}

// TestConcurrentAssertionsWithOneCount: two assertions for two challenges
// that carry the same counter value (a cloned key used twice at once):
// the compare-and-set on the counter admits one.
func TestConcurrentAssertionsWithOneCount(t *testing.T) {
	for range 20 {
		e := newEnv(t)
		a := testkit.NewAuthenticator(origin, 0)
		a.Count = 1
		fid := e.register(t, "alice", a)
		c1, o1 := e.challenge(t, "alice", fid, "p")
		c2, o2 := e.challenge(t, "alice", fid, "p")
		r1, r2 := a.Get(o1, testkit.WithCount(2)), a.Get(o2, testkit.WithCount(2))
		var wg sync.WaitGroup
		var e1, e2 error
		wg.Go(func() { _, e1 = e.verify("alice", c1, "p", r1) })
		wg.Go(func() { _, e2 = e.verify("alice", c2, "p", r2) })
		wg.Wait()
		if (e1 == nil) == (e2 == nil) || (!errors.Is(e1, mfa.ErrReplayed) && !errors.Is(e2, mfa.ErrReplayed)) {
			t.Fatalf("errors %v and %v: want one success and one replay", e1, e2)
		}
	}
}

// TestEventsCarryNoResponse: events name identifiers and the sentinel,
// never a part of the response.
func TestEventsCarryNoResponse(t *testing.T) {
	e := newEnv(t)
	a := testkit.NewAuthenticator(origin, 0)
	fid := e.register(t, "alice", a)
	var responses []string
	for _, tw := range []testkit.Tweak{testkit.WithOrigin("https://evil.example"), testkit.TamperSignature(), nil} {
		chID, opts := e.challenge(t, "alice", fid, "p")
		var resp string
		if tw == nil {
			resp = a.Get(opts)
		} else {
			resp = a.Get(opts, tw)
		}
		responses = append(responses, resp)
		e.verify("alice", chID, "p", resp)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	failed := 0
	for _, ev := range e.events {
		if ev.Kind != mfa.KindWebAuthn && ev.Type != mfa.EventEnrollBegun {
			t.Errorf("event %s has kind %q", ev.Type, ev.Kind)
		}
		if ev.Type == mfa.EventVerifyFailed {
			failed++
			if ev.Reason != mfa.ErrWrongCode.Error() || ev.UserID != "alice" || ev.FactorID != fid {
				t.Errorf("failure event %+v", ev)
			}
		}
		for _, r := range responses {
			for _, field := range []string{ev.Reason, ev.UserID, ev.FactorID, ev.IP} {
				if field != "" && strings.Contains(r, field) && len(field) > 20 {
					t.Errorf("event %s carries part of a response: %q", ev.Type, field)
				}
			}
		}
	}
	if failed != 2 {
		t.Fatalf("%d failure events, want 2", failed)
	}
}

// failingStore fails one method on demand.
type failingStore struct {
	mfa.Store
	mu   sync.Mutex
	fail string
}

var errBoom = errors.New("boom")

func (f *failingStore) failing(m string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.fail == m
}

func (f *failingStore) Advance(ctx context.Context, req store.Advance) error {
	if f.failing("Advance") {
		return errBoom
	}
	return f.Store.Advance(ctx, req)
}

func (f *failingStore) TakeChallenge(ctx context.Context, id string, now time.Time) (store.Challenge, error) {
	if f.failing("TakeChallenge") {
		return store.Challenge{}, errBoom
	}
	return f.Store.TakeChallenge(ctx, id, now)
}

func (f *failingStore) FindFactor(ctx context.Context, kind, lookup string) (store.Factor, error) {
	if f.failing("FindFactor") {
		return store.Factor{}, errBoom
	}
	return f.Store.FindFactor(ctx, kind, lookup)
}

func (f *failingStore) CreateFactor(ctx context.Context, rec store.Factor) error {
	if f.failing("CreateFactor") {
		return errBoom
	}
	return f.Store.CreateFactor(ctx, rec)
}

// TestFailClosed: a failing store or hook denies a valid assertion and
// leaves the credential as it was.
func TestFailClosed(t *testing.T) {
	for _, method := range []string{"Advance", "TakeChallenge", "FindFactor", "hook"} {
		t.Run(method, func(t *testing.T) {
			fs := &failingStore{}
			hookFails := false
			e := newEnv(t, options{verifier: func(c *mfa.Config) {
				fs.Store = c.Store
				c.Store = fs
				c.Hooks = append(c.Hooks, func(_ context.Context, ev mfa.Event) error {
					if hookFails && ev.Type == mfa.EventVerifySucceeded {
						return errBoom
					}
					return nil
				})
			}})
			a := testkit.NewAuthenticator(origin, testkit.FlagUV)
			a.Count = 1
			fid := e.register(t, "alice", a)
			chID, opts := e.challenge(t, "", "", "p") // passkey sign-in: FindFactor is on the path
			resp := a.Get(opts)
			before := e.factor(t, "alice", fid)
			fs.mu.Lock()
			fs.fail = method
			fs.mu.Unlock()
			hookFails = method == "hook"
			res, err := e.verify("", chID, "p", resp)
			want := mfa.ErrStore
			if method == "hook" {
				want = mfa.ErrDenied
			}
			if res != nil || !errors.Is(err, want) || !errors.Is(err, errBoom) {
				t.Fatalf("verify = %+v, %v; want %v wrapping the cause", res, err, want)
			}
			if method != "hook" && !sameFactor(before, e.factor(t, "alice", fid)) {
				t.Fatalf("stored credential changed")
			}
		})
	}
	t.Run("CreateFactor", func(t *testing.T) {
		fs := &failingStore{fail: "CreateFactor"}
		e := newEnv(t, options{verifier: func(c *mfa.Config) { fs.Store = c.Store; c.Store = fs }})
		id, cc := e.beginRegistration(t, "alice")
		if err := confirm(e, "alice", id, testkit.NewAuthenticator(origin, 0).Create(cc)); !errors.Is(err, mfa.ErrStore) {
			t.Fatalf("confirm: %v, want ErrStore", err)
		}
		if list, _ := e.v.Factors(context.Background(), "alice"); len(list) != 0 {
			t.Fatalf("factors = %+v", list)
		}
	})
}

// TestFailuresSpareTheUsersLockout: failed assertions, which cannot be
// guesses, count against the key and the IP but never against the
// user's consecutive-failure counter that guards the code factors.
func TestFailuresSpareTheUsersLockout(t *testing.T) {
	e := newEnv(t)
	a := testkit.NewAuthenticator(origin, 0)
	fid := e.register(t, "alice", a)
	for i := range 5 {
		chID, opts := e.challenge(t, "alice", fid, "p")
		if _, err := e.verify("alice", chID, "p", a.Get(opts, testkit.TamperSignature())); !errors.Is(err, mfa.ErrWrongCode) {
			t.Fatalf("failure %d: %v", i+1, err)
		}
	}
	ctx := context.Background()
	if l, err := e.v.Lockout(ctx, "alice"); err != nil || l.Failures != 0 {
		t.Fatalf("user counter after 5 failed assertions: %+v, %v", l, err)
	}
	st, err := e.st.CounterState(ctx, store.CounterKey{Scope: store.ScopeFactor, UserID: "alice", FactorID: fid})
	if err != nil || st.Failures != 5 {
		t.Fatalf("factor counter: %+v, %v; want 5 failures", st, err)
	}
}
