package mfa_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	otptotp "github.com/pquerna/otp/totp"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/factor"
	"github.com/mfakit/mfa/internal/testkit"
	"github.com/mfakit/mfa/store"
	"github.com/mfakit/mfa/store/memstore"
	"github.com/mfakit/mfa/totp"
)

// countingFactor counts how often its inner factor compares a response.
type countingFactor struct {
	mfa.Factor
	compares atomic.Int64
}

func (f *countingFactor) Verify(ctx context.Context, in factor.VerifyInput) (factor.Match, error) {
	f.compares.Add(1)
	return f.Factor.Verify(ctx, in)
}

type env struct {
	v      *mfa.Verifier
	st     mfa.Store
	clk    *testkit.Clock
	totp   *countingFactor
	cfg    mfa.Config
	mu     sync.Mutex
	events []mfa.Event
	log    bytes.Buffer
}

var hashKey = bytes.Repeat([]byte{7}, 32)

func newEnv(t testing.TB, edit ...func(*mfa.Config)) *env {
	t.Helper()
	tf, err := totp.New(totp.Config{Issuer: "Example"})
	if err != nil {
		t.Fatal(err)
	}
	kr, err := mfa.NewKeyring(testKey("k1", 1))
	if err != nil {
		t.Fatal(err)
	}
	e := &env{st: memstore.New(), clk: testkit.NewClock(testkit.T0), totp: &countingFactor{Factor: tf}}
	logger := slog.New(slog.NewTextHandler(&lockedWriter{w: &e.log, mu: &e.mu}, nil))
	e.cfg = mfa.Config{
		Store:   e.st,
		Factors: []mfa.Factor{e.totp},
		Sealer:  kr,
		HashKey: hashKey,
		Now:     e.clk.Now,
		Rand:    testkit.Rand(1),
		Hooks: []mfa.Hook{
			func(_ context.Context, ev mfa.Event) error {
				e.mu.Lock()
				e.events = append(e.events, ev)
				e.mu.Unlock()
				return nil
			},
			mfa.SlogHook(logger),
		},
	}
	for _, f := range edit {
		f(&e.cfg)
	}
	e.v, err = mfa.New(e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (e *env) eventTypes() []mfa.EventType {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []mfa.EventType
	for _, ev := range e.events {
		out = append(out, ev.Type)
	}
	return out
}

func (e *env) resetEvents() {
	e.mu.Lock()
	e.events = nil
	e.mu.Unlock()
}

// code computes the TOTP code for secret at the env's clock plus offset
// steps.
func (e *env) code(t testing.TB, secret string, steps int) string {
	t.Helper()
	c, err := otptotp.GenerateCode(secret, e.clk.Now().Add(time.Duration(steps)*30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// enrollTOTP enrols and confirms a TOTP factor and returns its ID and
// base32 secret. The clock moves one step so the confirming code is spent.
func (e *env) enrollTOTP(t testing.TB, user string) (string, string) {
	t.Helper()
	ctx := context.Background()
	en, err := e.v.BeginEnrollment(ctx, mfa.EnrollRequest{UserID: user, Kind: mfa.KindTOTP, Account: user + "@example.com", AuthTime: e.clk.Now()})
	if err != nil {
		t.Fatal(err)
	}
	setup := en.Show.(*totp.Setup)
	if _, err := e.v.ConfirmEnrollment(ctx, mfa.ConfirmRequest{UserID: user, FactorID: en.FactorID, Response: e.code(t, setup.Secret, 0)}); err != nil {
		t.Fatal(err)
	}
	e.clk.Add(30 * time.Second)
	return en.FactorID, setup.Secret
}

func TestNewValidatesConfig(t *testing.T) {
	tf, _ := totp.New(totp.Config{Issuer: "x"})
	kr, _ := mfa.NewKeyring(testKey("k", 1))
	good := func() mfa.Config {
		return mfa.Config{Store: memstore.New(), Factors: []mfa.Factor{tf}, Sealer: kr, HashKey: hashKey}
	}
	if _, err := mfa.New(good()); err != nil {
		t.Fatalf("zero-valued optional fields: %v", err)
	}
	cases := map[string]func(*mfa.Config){
		"no store":             func(c *mfa.Config) { c.Store = nil },
		"no sealer":            func(c *mfa.Config) { c.Sealer = nil },
		"no factors":           func(c *mfa.Config) { c.Factors = nil },
		"nil factor":           func(c *mfa.Config) { c.Factors = []mfa.Factor{nil} },
		"duplicate kind":       func(c *mfa.Config) { c.Factors = []mfa.Factor{tf, tf} },
		"short hash key":       func(c *mfa.Config) { c.HashKey = make([]byte, 16) },
		"cap above 100":        func(c *mfa.Config) { c.Limits.User.Cap = 101 },
		"ttl on user counter":  func(c *mfa.Config) { c.Limits.User.TTL = time.Hour },
		"negative free":        func(c *mfa.Config) { c.Limits.IP.Free = -1 },
		"max below base":       func(c *mfa.Config) { c.Limits.Factor.Base, c.Limits.Factor.Max = time.Hour, time.Minute },
		"challenge ttl > 10 m": func(c *mfa.Config) { c.ChallengeTTL = 11 * time.Minute },
		"negative fresh":       func(c *mfa.Config) { c.FreshFor = -time.Second },
	}
	for name, edit := range cases {
		t.Run(name, func(t *testing.T) {
			c := good()
			edit(&c)
			if _, err := mfa.New(c); !errors.Is(err, mfa.ErrConfig) {
				t.Fatalf("err = %v, want ErrConfig", err)
			}
		})
	}
}

func TestVerifyTOTP(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	fid, secret := e.enrollTOTP(t, "alice")
	if got := e.eventTypes(); fmt.Sprint(got) != fmt.Sprint([]mfa.EventType{mfa.EventEnrollBegun, mfa.EventEnrollConfirmed}) {
		t.Fatalf("enrolment events = %v", got)
	}
	e.resetEvents()
	res, err := e.v.Verify(ctx, mfa.VerifyRequest{UserID: "alice", FactorID: fid, Response: e.code(t, secret, 0), IP: "192.0.2.1"})
	if err != nil {
		t.Fatal(err)
	}
	if res.UserID != "alice" || res.FactorID != fid || res.Kind != mfa.KindTOTP || res.AAL != mfa.AAL2 ||
		fmt.Sprint(res.AMR) != "[otp]" || !res.Time.Equal(e.clk.Now()) || res.Remaining != -1 {
		t.Fatalf("result = %+v", res)
	}
	if got := e.eventTypes(); fmt.Sprint(got) != fmt.Sprint([]mfa.EventType{mfa.EventVerifySucceeded}) {
		t.Fatalf("events = %v", got)
	}
	// By kind, without naming the factor.
	e.clk.Add(30 * time.Second)
	if _, err := e.v.Verify(ctx, mfa.VerifyRequest{UserID: "alice", Kind: mfa.KindTOTP, Response: e.code(t, secret, 0)}); err != nil {
		t.Fatalf("by kind: %v", err)
	}
	list, err := e.v.Factors(ctx, "alice")
	if err != nil || len(list) != 1 || !list[0].Active || list[0].Kind != mfa.KindTOTP || !list[0].LastUsed.Equal(e.clk.Now()) || list[0].Remaining != -1 {
		t.Fatalf("Factors = %+v, %v", list, err)
	}
}

func TestTOTPReplayRefused(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	fid, secret := e.enrollTOTP(t, "alice")
	verify := func(code string) error {
		_, err := e.v.Verify(ctx, mfa.VerifyRequest{UserID: "alice", FactorID: fid, Response: code})
		return err
	}
	// The code that confirmed enrolment is spent: its step is the last
	// accepted one (the clock moved one step, so it is now the previous).
	if err := verify(e.code(t, secret, -1)); !errors.Is(err, mfa.ErrReplayed) {
		t.Fatalf("confirmation code reused: %v", err)
	}
	now := e.code(t, secret, 0)
	if err := verify(now); err != nil {
		t.Fatal(err)
	}
	e.resetEvents()
	if err := verify(now); !errors.Is(err, mfa.ErrReplayed) {
		t.Fatalf("same code twice: %v", err)
	}
	if got := e.eventTypes(); len(got) != 1 || got[0] != mfa.EventReplayRefused {
		t.Fatalf("events = %v", got)
	}
	// A later step is accepted, and then the earlier (still within skew)
	// is refused: a step at or below the last accepted one never passes.
	if err := verify(e.code(t, secret, 1)); err != nil {
		t.Fatal(err)
	}
	e.clk.Add(30 * time.Second)
	if err := verify(e.code(t, secret, -1)); !errors.Is(err, mfa.ErrReplayed) {
		t.Fatalf("earlier step after a later one: %v", err)
	}
	if err := verify(e.code(t, secret, 0)); !errors.Is(err, mfa.ErrReplayed) {
		t.Fatalf("the accepted step itself: %v", err)
	}
}

// N concurrent submissions of one valid code yield exactly one success.
func TestTOTPConcurrentSameCode(t *testing.T) {
	e := newEnv(t, func(c *mfa.Config) {
		c.Limits.User = store.Rule{Free: 100}
		c.Limits.Factor = store.Rule{Free: 100}
	})
	fid, secret := e.enrollTOTP(t, "alice")
	code := e.code(t, secret, 0)
	const n = 64
	var ok, replayed atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, err := e.v.Verify(context.Background(), mfa.VerifyRequest{UserID: "alice", FactorID: fid, Response: code})
			switch {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, mfa.ErrReplayed):
				replayed.Add(1)
			default:
				t.Errorf("unexpected error: %v", err)
			}
		}()
	}
	close(start)
	wg.Wait()
	if ok.Load() != 1 || replayed.Load() != n-1 {
		t.Fatalf("successes = %d, replays = %d; want 1 and %d", ok.Load(), replayed.Load(), n-1)
	}
}

// Parallel requests cannot get past the limit: 200 concurrent wrong
// guesses against a limit of 5 admit at most 5 comparisons.
func TestLimitBeforeCompare(t *testing.T) {
	e := newEnv(t)
	fid, _ := e.enrollTOTP(t, "alice")
	e.totp.compares.Store(0)
	const n = 200
	var wrong, limited atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, err := e.v.Verify(context.Background(), mfa.VerifyRequest{
				UserID: "alice", FactorID: fid, Response: "000000", IP: fmt.Sprintf("198.51.100.%d", i),
			})
			var rl *mfa.RateLimitError
			switch {
			case errors.Is(err, mfa.ErrWrongCode):
				wrong.Add(1)
			case errors.As(err, &rl) && errors.Is(err, mfa.ErrRateLimited):
				if !rl.RetryAfter.After(e.clk.Now()) {
					t.Errorf("RetryAfter %v is not in the future", rl.RetryAfter)
				}
				limited.Add(1)
			default:
				t.Errorf("unexpected error: %v", err)
			}
		}()
	}
	close(start)
	wg.Wait()
	if c := e.totp.compares.Load(); c > 5 || wrong.Load() != c {
		t.Fatalf("comparisons = %d, wrong-code answers = %d; want at most 5 and equal", c, wrong.Load())
	}
	if wrong.Load()+limited.Load() != n {
		t.Fatalf("wrong %d + limited %d != %d", wrong.Load(), limited.Load(), n)
	}
}

// Attempt 101 fails even with the right code; the count is per account,
// not per IP; delays never shrink; an operator's unlock admits again.
func TestLockoutAfter100Failures(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	fid, secret := e.enrollTOTP(t, "alice")
	var lastDelay time.Duration
	for i := 1; i <= mfa.MaxFailures; i++ {
		ip := fmt.Sprintf("203.0.113.%d", i%250)
		_, err := e.v.Verify(ctx, mfa.VerifyRequest{UserID: "alice", FactorID: fid, Response: "000000", IP: ip})
		if !errors.Is(err, mfa.ErrWrongCode) {
			t.Fatalf("failure %d: %v", i, err)
		}
		if i < 5 {
			continue // no delay yet; a right code now would reset the count
		}
		// Probe with the right code: refused, and not counted.
		_, err = e.v.Verify(ctx, mfa.VerifyRequest{UserID: "alice", FactorID: fid, Response: e.code(t, secret, 0), IP: ip})
		var rl *mfa.RateLimitError
		if i == mfa.MaxFailures {
			if !errors.Is(err, mfa.ErrLocked) {
				t.Fatalf("after %d failures: %v, want ErrLocked", i, err)
			}
			break
		}
		if !errors.As(err, &rl) || !errors.Is(err, mfa.ErrRateLimited) {
			t.Fatalf("after %d failures: %v, want rate limited", i, err)
		}
		d := rl.RetryAfter.Sub(e.clk.Now())
		if d < lastDelay || d < 30*time.Second || d > time.Hour {
			t.Fatalf("after %d failures: delay %v (previous %v)", i, d, lastDelay)
		}
		lastDelay = d
		e.clk.Add(d)
	}
	if lastDelay != time.Hour {
		t.Fatalf("delay never reached the 1 h ceiling: %v", lastDelay)
	}
	st, err := e.st.CounterState(ctx, store.CounterKey{Scope: store.ScopeUser, UserID: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if st.Failures != mfa.MaxFailures {
		t.Fatalf("user counter = %d, want %d", st.Failures, mfa.MaxFailures)
	}
	e.clk.Add(48 * time.Hour)
	if _, err := e.v.Verify(ctx, mfa.VerifyRequest{UserID: "alice", FactorID: fid, Response: e.code(t, secret, 0), IP: "192.0.2.77"}); !errors.Is(err, mfa.ErrLocked) {
		t.Fatalf("attempt 101 with the right code from a new IP, two days later: %v", err)
	}
	if err := e.v.Unlock(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.v.Verify(ctx, mfa.VerifyRequest{UserID: "alice", FactorID: fid, Response: e.code(t, secret, 0)}); err != nil {
		t.Fatalf("after unlock: %v", err)
	}
}

func TestSuccessResetsCounters(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	fid, secret := e.enrollTOTP(t, "alice")
	for range 4 {
		if _, err := e.v.Verify(ctx, mfa.VerifyRequest{UserID: "alice", FactorID: fid, Response: "000000", IP: "192.0.2.1"}); !errors.Is(err, mfa.ErrWrongCode) {
			t.Fatal(err)
		}
	}
	if _, err := e.v.Verify(ctx, mfa.VerifyRequest{UserID: "alice", FactorID: fid, Response: e.code(t, secret, 0), IP: "192.0.2.1"}); err != nil {
		t.Fatal(err)
	}
	for _, k := range []store.CounterKey{
		{Scope: store.ScopeUser, UserID: "alice"},
		{Scope: store.ScopeFactor, UserID: "alice", FactorID: fid},
	} {
		if st, _ := e.st.CounterState(ctx, k); st.Failures != 0 {
			t.Fatalf("%s: %d failures after success", k, st.Failures)
		}
	}
	// The IP counter is not reset by a success: one account's success must
	// not buy an address more guesses against others. The success only
	// takes back its own count.
	if st, _ := e.st.CounterState(ctx, store.CounterKey{Scope: store.ScopeIP, IP: "192.0.2.1"}); st.Failures != 4 {
		t.Fatalf("ip counter = %d, want the 4 failures", st.Failures)
	}
}

// Many users behind one address (an office NAT) can sign in all day: a
// success never counts against the IP.
func TestIPCountsFailuresOnly(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	type user struct{ fid, secret string }
	var users []user
	for i := range 30 {
		fid, secret := e.enrollTOTP(t, fmt.Sprintf("user%d", i))
		users = append(users, user{fid, secret})
	}
	for i, u := range users {
		if _, err := e.v.Verify(ctx, mfa.VerifyRequest{UserID: fmt.Sprintf("user%d", i), FactorID: u.fid, Response: e.code(t, u.secret, 0), IP: "198.51.100.7"}); err != nil {
			t.Fatalf("sign-in %d from one address: %v", i+1, err)
		}
	}
	if st, _ := e.st.CounterState(ctx, store.CounterKey{Scope: store.ScopeIP, IP: "198.51.100.7"}); st.Failures != 0 {
		t.Fatalf("ip counter after 30 successes = %d", st.Failures)
	}
	// Failures from the address still add up across users and limit it.
	for i := range 20 {
		_, err := e.v.Verify(ctx, mfa.VerifyRequest{UserID: fmt.Sprintf("user%d", i), FactorID: users[i].fid, Response: "000000", IP: "198.51.100.7"})
		if !errors.Is(err, mfa.ErrWrongCode) {
			t.Fatalf("failure %d: %v", i+1, err)
		}
	}
	_, err := e.v.Verify(ctx, mfa.VerifyRequest{UserID: "user25", FactorID: users[25].fid, Response: e.code(t, users[25].secret, 0), IP: "198.51.100.7"})
	if !errors.Is(err, mfa.ErrRateLimited) {
		t.Fatalf("after 20 failures from the address: %v", err)
	}
}

func snapshot(t *testing.T, st mfa.Store, users ...string) string {
	t.Helper()
	var b strings.Builder
	for _, u := range users {
		list, err := st.ListFactors(context.Background(), u)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%+v\n", list)
	}
	return b.String()
}

// Bad input gets a clear sentinel and leaves the store unchanged except
// for the failure counters.
func TestVerifyBadInput(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	fid, secret := e.enrollTOTP(t, "alice")
	bobFactor, _ := e.enrollTOTP(t, "bob")
	pending, err := e.v.BeginEnrollment(ctx, mfa.EnrollRequest{UserID: "alice", Kind: mfa.KindTOTP, AuthTime: e.clk.Now()})
	if err != nil {
		t.Fatal(err)
	}
	removed, _ := e.enrollTOTP(t, "carol")
	if err := e.v.RemoveFactor(ctx, mfa.ChangeRequest{UserID: "carol", FactorID: removed, AuthTime: e.clk.Now()}); err != nil {
		t.Fatal(err)
	}
	good := e.code(t, secret, 0)
	cases := []struct {
		name string
		req  mfa.VerifyRequest
		want error
	}{
		{"empty code", mfa.VerifyRequest{UserID: "alice", FactorID: fid, Response: ""}, mfa.ErrMalformedResponse},
		{"short code", mfa.VerifyRequest{UserID: "alice", FactorID: fid, Response: good[:5]}, mfa.ErrMalformedResponse},
		{"long code", mfa.VerifyRequest{UserID: "alice", FactorID: fid, Response: good + "0"}, mfa.ErrMalformedResponse},
		{"oversized", mfa.VerifyRequest{UserID: "alice", FactorID: fid, Response: strings.Repeat("1", 70000)}, mfa.ErrMalformedResponse},
		{"non-digit", mfa.VerifyRequest{UserID: "alice", FactorID: fid, Response: "12a456"}, mfa.ErrMalformedResponse},
		{"unicode digits", mfa.VerifyRequest{UserID: "alice", FactorID: fid, Response: "１２３４５６"}, mfa.ErrMalformedResponse},
		{"leading space", mfa.VerifyRequest{UserID: "alice", FactorID: fid, Response: " " + good}, mfa.ErrMalformedResponse},
		{"trailing space", mfa.VerifyRequest{UserID: "alice", FactorID: fid, Response: good + " "}, mfa.ErrMalformedResponse},
		{"inner space", mfa.VerifyRequest{UserID: "alice", FactorID: fid, Response: good[:3] + " " + good[3:]}, mfa.ErrMalformedResponse},
		{"unknown user", mfa.VerifyRequest{UserID: "mallory", FactorID: fid, Response: good}, mfa.ErrNotFound},
		{"unknown factor", mfa.VerifyRequest{UserID: "alice", FactorID: "nope", Response: good}, mfa.ErrNotFound},
		{"factor of another user", mfa.VerifyRequest{UserID: "alice", FactorID: bobFactor, Response: good}, mfa.ErrNotFound},
		{"unconfirmed factor", mfa.VerifyRequest{UserID: "alice", FactorID: pending.FactorID, Response: good}, mfa.ErrNotEnrolled},
		{"removed factor", mfa.VerifyRequest{UserID: "carol", FactorID: removed, Response: good}, mfa.ErrNotFound},
		{"wrong kind", mfa.VerifyRequest{UserID: "alice", FactorID: fid, Kind: mfa.KindBackupCodes, Response: good}, mfa.ErrNotFound},
		{"empty user", mfa.VerifyRequest{FactorID: fid, Response: good}, mfa.ErrInvalidInput},
		{"no factor or kind", mfa.VerifyRequest{UserID: "alice", Response: good}, mfa.ErrInvalidInput},
		{"oversized user", mfa.VerifyRequest{UserID: strings.Repeat("u", 300), FactorID: fid, Response: good}, mfa.ErrInvalidInput},
		{"reserved binding", mfa.VerifyRequest{UserID: "alice", FactorID: fid, Response: good, Binding: "mfa/enroll"}, mfa.ErrInvalidInput},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := snapshot(t, e.st, "alice", "bob", "carol", "mallory")
			res, err := e.v.Verify(ctx, c.req)
			if !errors.Is(err, c.want) || res != nil {
				t.Fatalf("Verify = %v, %v; want %v", res, err, c.want)
			}
			if after := snapshot(t, e.st, "alice", "bob", "carol", "mallory"); after != before {
				t.Fatalf("store changed:\n%s\n%s", before, after)
			}
			// clear counters so the next case is not rate limited
			for _, u := range []string{"alice", "mallory", "carol"} {
				if err := e.v.Unlock(ctx, u); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
	// The good code still works afterwards: nothing above consumed it.
	if _, err := e.v.Verify(ctx, mfa.VerifyRequest{UserID: "alice", FactorID: fid, Response: good}); err != nil {
		t.Fatal(err)
	}
}

func TestSealedSeedFailures(t *testing.T) {
	ctx := context.Background()
	t.Run("corrupted", func(t *testing.T) {
		e := newEnv(t)
		fid, secret := e.enrollTOTP(t, "alice")
		rec, err := e.st.GetFactor(ctx, "alice", fid)
		if err != nil {
			t.Fatal(err)
		}
		rec.Secret[len(rec.Secret)-3] ^= 0x40
		if err := e.st.UpdateFactor(ctx, rec); err != nil {
			t.Fatal(err)
		}
		before := snapshot(t, e.st, "alice")
		if _, err := e.v.Verify(ctx, mfa.VerifyRequest{UserID: "alice", FactorID: fid, Response: e.code(t, secret, 0)}); !errors.Is(err, mfa.ErrSealed) {
			t.Fatalf("err = %v, want ErrSealed", err)
		}
		if snapshot(t, e.st, "alice") != before {
			t.Fatal("store changed")
		}
	})
	t.Run("moved to another factor", func(t *testing.T) {
		e := newEnv(t)
		f1, _ := e.enrollTOTP(t, "alice")
		f2, secret2 := e.enrollTOTP(t, "bob")
		r1, _ := e.st.GetFactor(ctx, "alice", f1)
		r2, _ := e.st.GetFactor(ctx, "bob", f2)
		r2.Secret = r1.Secret // alice's sealed seed copied into bob's row
		if err := e.st.UpdateFactor(ctx, r2); err != nil {
			t.Fatal(err)
		}
		if _, err := e.v.Verify(ctx, mfa.VerifyRequest{UserID: "bob", FactorID: f2, Response: e.code(t, secret2, 0)}); !errors.Is(err, mfa.ErrSealed) {
			t.Fatalf("err = %v, want ErrSealed", err)
		}
	})
	t.Run("wrong key", func(t *testing.T) {
		e := newEnv(t)
		fid, secret := e.enrollTOTP(t, "alice")
		other, _ := mfa.NewKeyring(testKey("k2", 9))
		cfg := e.cfg
		cfg.Sealer = other
		v2, err := mfa.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := v2.Verify(ctx, mfa.VerifyRequest{UserID: "alice", FactorID: fid, Response: e.code(t, secret, 0)}); !errors.Is(err, mfa.ErrSealed) {
			t.Fatalf("err = %v, want ErrSealed", err)
		}
	})
}

// A seed opened with an old key is re-sealed with the newest.
func TestKeyRotationReseals(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	fid, secret := e.enrollTOTP(t, "alice")
	rotated, _ := mfa.NewKeyring(testKey("k2", 2), testKey("k1", 1))
	cfg := e.cfg
	cfg.Sealer = rotated
	v2, err := mfa.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v2.Verify(ctx, mfa.VerifyRequest{UserID: "alice", FactorID: fid, Response: e.code(t, secret, 0)}); err != nil {
		t.Fatal(err)
	}
	rec, _ := e.st.GetFactor(ctx, "alice", fid)
	if id := string(rec.Secret[2 : 2+rec.Secret[1]]); id != "k2" {
		t.Fatalf("seed sealed with %q after verification, want k2", id)
	}
	e.clk.Add(30 * time.Second)
	if _, err := e.v.Verify(ctx, mfa.VerifyRequest{UserID: "alice", FactorID: fid, Response: e.code(t, secret, 0)}); !errors.Is(err, mfa.ErrSealed) {
		t.Fatalf("old keyring after rotation: %v", err)
	}
	if _, err := v2.Verify(ctx, mfa.VerifyRequest{UserID: "alice", FactorID: fid, Response: e.code(t, secret, 0)}); err != nil {
		t.Fatalf("after re-seal: %v", err)
	}
}

// failingStore fails the named method.
type failingStore struct {
	mfa.Store
	fail string
}

var errBoom = errors.New("boom")

func (f *failingStore) Hit(ctx context.Context, req store.HitRequest) (store.HitResult, error) {
	if f.fail == "Hit" {
		return store.HitResult{Admitted: true, Found: true}, errBoom
	}
	return f.Store.Hit(ctx, req)
}

func (f *failingStore) Advance(ctx context.Context, req store.Advance) error {
	if f.fail == "Advance" {
		return errBoom
	}
	return f.Store.Advance(ctx, req)
}

func (f *failingStore) UpdateFactor(ctx context.Context, rec store.Factor) error {
	if f.fail == "UpdateFactor" {
		return errBoom
	}
	return f.Store.UpdateFactor(ctx, rec)
}

type failingSealer struct{ mfa.Sealer }

func (failingSealer) Open(context.Context, []byte, []byte) ([]byte, bool, error) {
	return nil, false, errBoom
}

// Any error on the verification path denies it.
func TestFailClosed(t *testing.T) {
	ctx := context.Background()
	for _, method := range []string{"Hit", "Advance"} {
		t.Run("store "+method, func(t *testing.T) {
			e := newEnv(t)
			fid, secret := e.enrollTOTP(t, "alice")
			cfg := e.cfg
			cfg.Store = &failingStore{Store: e.st, fail: method}
			v, _ := mfa.New(cfg)
			res, err := v.Verify(ctx, mfa.VerifyRequest{UserID: "alice", FactorID: fid, Response: e.code(t, secret, 0)})
			if res != nil || !errors.Is(err, mfa.ErrStore) || !errors.Is(err, errBoom) {
				t.Fatalf("Verify = %v, %v", res, err)
			}
		})
	}
	t.Run("store UpdateFactor on confirm", func(t *testing.T) {
		e := newEnv(t)
		cfg := e.cfg
		cfg.Store = &failingStore{Store: e.st, fail: "UpdateFactor"}
		v, _ := mfa.New(cfg)
		en, _ := v.BeginEnrollment(ctx, mfa.EnrollRequest{UserID: "alice", Kind: mfa.KindTOTP})
		code := e.code(t, en.Show.(*totp.Setup).Secret, 0)
		res, err := v.ConfirmEnrollment(ctx, mfa.ConfirmRequest{UserID: "alice", FactorID: en.FactorID, Response: code})
		if res != nil || !errors.Is(err, mfa.ErrStore) {
			t.Fatalf("Confirm = %v, %v", res, err)
		}
		if rec, _ := e.st.GetFactor(ctx, "alice", en.FactorID); rec.Status != store.StatusPending {
			t.Fatalf("factor %s after a failed confirmation", rec.Status)
		}
	})
	t.Run("sealer", func(t *testing.T) {
		e := newEnv(t)
		fid, secret := e.enrollTOTP(t, "alice")
		cfg := e.cfg
		cfg.Sealer = failingSealer{cfg.Sealer}
		v, _ := mfa.New(cfg)
		res, err := v.Verify(ctx, mfa.VerifyRequest{UserID: "alice", FactorID: fid, Response: e.code(t, secret, 0)})
		if res != nil || !errors.Is(err, mfa.ErrSealed) {
			t.Fatalf("Verify = %v, %v", res, err)
		}
	})
	t.Run("hook on success", func(t *testing.T) {
		e := newEnv(t)
		fid, secret := e.enrollTOTP(t, "alice")
		cfg := e.cfg
		cfg.Hooks = []mfa.Hook{func(_ context.Context, ev mfa.Event) error {
			if ev.Type == mfa.EventVerifySucceeded {
				return errBoom
			}
			return nil
		}}
		v, _ := mfa.New(cfg)
		res, err := v.Verify(ctx, mfa.VerifyRequest{UserID: "alice", FactorID: fid, Response: e.code(t, secret, 0)})
		if res != nil || !errors.Is(err, mfa.ErrDenied) || !errors.Is(err, errBoom) {
			t.Fatalf("Verify = %v, %v", res, err)
		}
	})
	t.Run("guard", func(t *testing.T) {
		e := newEnv(t)
		fid, secret := e.enrollTOTP(t, "alice")
		cfg := e.cfg
		var seen mfa.Attempt
		cfg.Guard = func(_ context.Context, a mfa.Attempt) error { seen = a; return errBoom }
		v, _ := mfa.New(cfg)
		e.totp.compares.Store(0)
		res, err := v.Verify(ctx, mfa.VerifyRequest{UserID: "alice", FactorID: fid, Response: e.code(t, secret, 0), IP: "192.0.2.9"})
		if res != nil || !errors.Is(err, mfa.ErrDenied) {
			t.Fatalf("Verify = %v, %v", res, err)
		}
		if seen.UserID != "alice" || seen.FactorID != fid || seen.IP != "192.0.2.9" || e.totp.compares.Load() != 0 {
			t.Fatalf("guard saw %+v; compares %d", seen, e.totp.compares.Load())
		}
	})
}

func TestRemoveFactorNeedsFreshVerification(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	fid, secret := e.enrollTOTP(t, "alice")
	res, err := e.v.Verify(ctx, mfa.VerifyRequest{UserID: "alice", FactorID: fid, Response: e.code(t, secret, 0)})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.v.RemoveFactor(ctx, mfa.ChangeRequest{UserID: "alice", FactorID: fid}); !errors.Is(err, mfa.ErrStepUpRequired) {
		t.Fatalf("no auth time: %v", err)
	}
	if err := e.v.RemoveFactor(ctx, mfa.ChangeRequest{UserID: "alice", FactorID: fid, AuthTime: res.Time.Add(time.Hour)}); !errors.Is(err, mfa.ErrStepUpRequired) {
		t.Fatalf("auth time in the future: %v", err)
	}
	e.clk.Add(10*time.Minute + time.Second)
	if err := e.v.RemoveFactor(ctx, mfa.ChangeRequest{UserID: "alice", FactorID: fid, AuthTime: res.Time}); !errors.Is(err, mfa.ErrStepUpRequired) {
		t.Fatalf("stale auth time: %v", err)
	}
	// Adding a second factor needs the same freshness.
	if _, err := e.v.BeginEnrollment(ctx, mfa.EnrollRequest{UserID: "alice", Kind: mfa.KindTOTP, AuthTime: res.Time}); !errors.Is(err, mfa.ErrStepUpRequired) {
		t.Fatalf("enrol with stale auth time: %v", err)
	}
	res, err = e.v.Verify(ctx, mfa.VerifyRequest{UserID: "alice", FactorID: fid, Response: e.code(t, secret, 0)})
	if err != nil {
		t.Fatal(err)
	}
	e.resetEvents()
	if err := e.v.RemoveFactor(ctx, mfa.ChangeRequest{UserID: "alice", FactorID: fid, AuthTime: res.Time}); err != nil {
		t.Fatal(err)
	}
	if got := e.eventTypes(); len(got) != 1 || got[0] != mfa.EventFactorRemoved {
		t.Fatalf("events = %v", got)
	}
	e.clk.Add(30 * time.Second)
	if _, err := e.v.Verify(ctx, mfa.VerifyRequest{UserID: "alice", FactorID: fid, Response: e.code(t, secret, 0)}); !errors.Is(err, mfa.ErrNotFound) {
		t.Fatalf("verify after removal: %v", err)
	}
	// A pending factor can be dropped without a step-up.
	en, err := e.v.BeginEnrollment(ctx, mfa.EnrollRequest{UserID: "alice", Kind: mfa.KindTOTP})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.v.RemoveFactor(ctx, mfa.ChangeRequest{UserID: "alice", FactorID: en.FactorID}); err != nil {
		t.Fatalf("remove pending: %v", err)
	}
}

func TestConfirmEnrollment(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	en, err := e.v.BeginEnrollment(ctx, mfa.EnrollRequest{UserID: "alice", Kind: mfa.KindTOTP, Account: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if en.Active || !en.Expires.Equal(e.clk.Now().Add(15*time.Minute)) {
		t.Fatalf("enrollment = %+v", en)
	}
	secret := en.Show.(*totp.Setup).Secret
	if _, err := e.v.ConfirmEnrollment(ctx, mfa.ConfirmRequest{UserID: "alice", FactorID: en.FactorID, Response: "000000"}); !errors.Is(err, mfa.ErrWrongCode) {
		t.Fatalf("wrong first code: %v", err)
	}
	if _, err := e.v.ConfirmEnrollment(ctx, mfa.ConfirmRequest{UserID: "bob", FactorID: en.FactorID, Response: e.code(t, secret, 0)}); !errors.Is(err, mfa.ErrNotFound) {
		t.Fatalf("another user's pending factor: %v", err)
	}
	if _, err := e.v.ConfirmEnrollment(ctx, mfa.ConfirmRequest{UserID: "alice", FactorID: en.FactorID, Response: e.code(t, secret, 0)}); err != nil {
		t.Fatal(err)
	}
	e.clk.Add(30 * time.Second)
	if _, err := e.v.ConfirmEnrollment(ctx, mfa.ConfirmRequest{UserID: "alice", FactorID: en.FactorID, Response: e.code(t, secret, 0)}); !errors.Is(err, mfa.ErrNotEnrolled) {
		t.Fatalf("confirm twice: %v", err)
	}
	// A pending enrolment expires.
	en2, err := e.v.BeginEnrollment(ctx, mfa.EnrollRequest{UserID: "bob", Kind: mfa.KindTOTP})
	if err != nil {
		t.Fatal(err)
	}
	e.clk.Add(15 * time.Minute)
	if _, err := e.v.ConfirmEnrollment(ctx, mfa.ConfirmRequest{UserID: "bob", FactorID: en2.FactorID, Response: e.code(t, en2.Show.(*totp.Setup).Secret, 0)}); !errors.Is(err, mfa.ErrExpired) {
		t.Fatalf("late confirmation: %v", err)
	}
	if _, err := e.v.BeginEnrollment(ctx, mfa.EnrollRequest{UserID: "bob", Kind: "carrier-pigeon"}); !errors.Is(err, mfa.ErrUnsupportedKind) {
		t.Fatalf("unknown kind: %v", err)
	}
	if _, err := e.v.BeginEnrollment(ctx, mfa.EnrollRequest{Kind: mfa.KindTOTP}); !errors.Is(err, mfa.ErrInvalidInput) {
		t.Fatalf("no user: %v", err)
	}
}
