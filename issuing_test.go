package mfa_test

import (
	"context"
	"crypto/subtle"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/factor"
)

// sendFactor is a stand-in for a kind that sends codes: its secret is the
// destination, its enrolment is confirmed by a challenge, it declares a
// per-destination cap and a cool-down, and it records what it sent.
type sendFactor struct {
	mu       sync.Mutex
	sent     []string // destinations, in order
	fail     error    // returned by Challenge when set
	perDest  int
	cooldown time.Duration
	code     string
}

const kindSend mfa.Kind = "test_send"

func (*sendFactor) Kind() mfa.Kind { return kindSend }

func (*sendFactor) Enroll(_ context.Context, in factor.EnrollInput) (factor.Enrolled, error) {
	if in.Destination == "" {
		return factor.Enrolled{}, mfa.ErrInvalidInput
	}
	return factor.Enrolled{Secret: []byte(in.Destination), ConfirmByChallenge: true}, nil
}

func (f *sendFactor) IssueCaps(_ context.Context, in factor.ChallengeInput) ([]factor.IssueCap, error) {
	return []factor.IssueCap{
		{Key: "dest/" + string(in.Secret), Max: f.perDest, Window: time.Hour},
		{Key: "cool/" + string(in.Secret), Max: 1, Window: f.cooldown},
	}, nil
}

func (f *sendFactor) Challenge(_ context.Context, in factor.ChallengeInput) (factor.Issued, error) {
	if f.fail != nil {
		return factor.Issued{}, f.fail
	}
	f.mu.Lock()
	f.sent = append(f.sent, string(in.Secret))
	f.mu.Unlock()
	h := in.Hasher.Sum("test/send", []byte(f.code))
	return factor.Issued{Data: h[:], Show: string(in.Secret)}, nil
}

func (*sendFactor) Verify(_ context.Context, in factor.VerifyInput) (factor.Match, error) {
	if in.Challenge == nil {
		return factor.Match{}, mfa.ErrExpired
	}
	h := in.Hasher.Sum("test/send", []byte(in.Response))
	if subtle.ConstantTimeCompare(h[:], in.Challenge.Data) != 1 {
		return factor.Match{}, mfa.ErrWrongCode
	}
	return factor.Match{Counter: in.Factor.Counter, AMR: []string{"otp"}, AAL: mfa.AAL1, Remaining: -1}, nil
}

func (f *sendFactor) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.sent)
}

// restrictedSend is a sendFactor marked restricted (as SMS is).
type restrictedSend struct{ *sendFactor }

func (restrictedSend) Restricted() {}

func sendEnv(t *testing.T, f mfa.Factor, edit ...func(*mfa.Config)) *env {
	t.Helper()
	return newEnv(t, append([]func(*mfa.Config){func(c *mfa.Config) {
		c.Factors = append(c.Factors, f)
	}}, edit...)...)
}

// enrollSend enrols and confirms a destination for user; the clock moves
// past the cool-down.
func enrollSend(t *testing.T, e *env, f *sendFactor, user, dest string) string {
	t.Helper()
	ctx := context.Background()
	en, err := e.v.BeginEnrollment(ctx, mfa.EnrollRequest{UserID: user, Kind: kindSend, Destination: dest, AuthTime: e.clk.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if en.ChallengeID == "" || en.Active {
		t.Fatalf("enrolment: %+v", en)
	}
	if _, err := e.v.ConfirmEnrollment(ctx, mfa.ConfirmRequest{UserID: user, FactorID: en.FactorID, ChallengeID: en.ChallengeID, Response: f.code, AuthTime: e.clk.Now()}); err != nil {
		t.Fatal(err)
	}
	e.clk.Add(time.Hour)
	return en.FactorID
}

func TestIssueCapsPerDestination(t *testing.T) {
	ctx := context.Background()
	f := &sendFactor{perDest: 2, cooldown: time.Second, code: "111111"}
	e := sendEnv(t, f, func(c *mfa.Config) { c.Issue.PerUser = 3 })
	x := enrollSend(t, e, f, "alice", "x@example.com")
	y := enrollSend(t, e, f, "alice", "y@example.com")
	z := enrollSend(t, e, f, "alice", "z@example.com")
	bx := enrollSend(t, e, f, "bob", "x@example.com")
	sent := f.count()
	ask := func(user, fid string) error {
		e.clk.Add(2 * time.Second) // past the cool-down
		_, err := e.v.Challenge(ctx, mfa.ChallengeRequest{UserID: user, FactorID: fid, Binding: "b"})
		return err
	}
	// The destination's cap counts across users: bob's one and alice's
	// one fill it.
	if err := ask("bob", bx); err != nil {
		t.Fatal(err)
	}
	if err := ask("alice", x); err != nil {
		t.Fatal(err)
	}
	e.resetEvents()
	var rl *mfa.RateLimitError
	if err := ask("alice", x); !errors.As(err, &rl) || rl.RetryAfter.IsZero() {
		t.Fatalf("third code to one destination: %v", err)
	}
	if got := e.eventTypes(); !slices.Contains(got, mfa.EventIssueCapped) {
		t.Fatalf("events %v, want %s", got, mfa.EventIssueCapped)
	}
	if f.count() != sent+2 {
		t.Fatalf("sent %d codes, want %d", f.count()-sent, 2)
	}
	// The refused challenge took back its per-user count: alice has two
	// of her three left.
	for range 2 {
		if err := ask("alice", y); err != nil {
			t.Fatalf("alice's challenges in the window: %v", err)
		}
	}
	if err := ask("alice", z); !errors.As(err, &rl) {
		t.Fatalf("alice's fourth challenge: %v, want the per-user cap", err)
	}
}

func TestIssueCooldown(t *testing.T) {
	ctx := context.Background()
	f := &sendFactor{perDest: 100, cooldown: 30 * time.Second, code: "111111"}
	e := sendEnv(t, f)
	fid := enrollSend(t, e, f, "alice", "a@example.com")
	first, err := e.v.Challenge(ctx, mfa.ChallengeRequest{UserID: "alice", FactorID: fid, Binding: "b"})
	if err != nil {
		t.Fatal(err)
	}
	e.clk.Add(29 * time.Second)
	var rl *mfa.RateLimitError
	_, err = e.v.Challenge(ctx, mfa.ChallengeRequest{UserID: "alice", FactorID: fid, Binding: "b", Replaces: first.ID})
	if !errors.As(err, &rl) || !rl.RetryAfter.Equal(e.clk.Now().Add(time.Second)) {
		t.Fatalf("resend inside the cool-down: %v", err)
	}
	// The refused resend did not take the first code out of use.
	if _, err := e.v.Verify(ctx, mfa.VerifyRequest{UserID: "alice", FactorID: fid, ChallengeID: first.ID, Binding: "b", Response: f.code}); err != nil {
		t.Fatalf("first code after a refused resend: %v", err)
	}
	e.clk.Add(time.Second)
	if _, err := e.v.Challenge(ctx, mfa.ChallengeRequest{UserID: "alice", FactorID: fid, Binding: "b"}); err != nil {
		t.Fatalf("after the cool-down: %v", err)
	}
}

func TestResend(t *testing.T) {
	ctx := context.Background()
	f := &sendFactor{perDest: 100, cooldown: time.Second, code: "111111"}
	e := sendEnv(t, f)
	fid := enrollSend(t, e, f, "alice", "a@example.com")
	issue := func(replaces string) string {
		t.Helper()
		e.clk.Add(time.Second)
		c, err := e.v.Challenge(ctx, mfa.ChallengeRequest{UserID: "alice", FactorID: fid, Binding: "b", Replaces: replaces})
		if err != nil {
			t.Fatal(err)
		}
		return c.ID
	}
	verify := func(ch, code string) error {
		_, err := e.v.Verify(ctx, mfa.VerifyRequest{UserID: "alice", FactorID: fid, ChallengeID: ch, Binding: "b", Response: code})
		return err
	}
	// One failure on an earlier code.
	if err := verify(issue(""), "999999"); !errors.Is(err, mfa.ErrWrongCode) {
		t.Fatal(err)
	}
	old := issue("")
	e.resetEvents()
	fresh := issue(old)
	if got := e.eventTypes(); !slices.Equal(got, []mfa.EventType{mfa.EventChallengeIssued, mfa.EventChallengeResent}) {
		t.Fatalf("events %v", got)
	}
	if err := verify(old, f.code); !errors.Is(err, mfa.ErrExpired) {
		t.Fatalf("the replaced code: %v, want ErrExpired", err)
	}
	lo, err := e.v.Lockout(ctx, "alice")
	if err != nil || lo.Failures != 1 {
		t.Fatalf("failures after a resend: %+v %v, want 1", lo, err)
	}
	if err := verify(fresh, f.code); err != nil {
		t.Fatal(err)
	}
	// A resend naming another user's challenge is refused.
	bid := enrollSend(t, e, f, "bob", "b@example.com")
	bobs, err := e.v.Challenge(ctx, mfa.ChallengeRequest{UserID: "bob", FactorID: bid, Binding: "b"})
	if err != nil {
		t.Fatal(err)
	}
	e.clk.Add(time.Second)
	if _, err := e.v.Challenge(ctx, mfa.ChallengeRequest{UserID: "alice", FactorID: fid, Binding: "b", Replaces: bobs.ID}); !errors.Is(err, mfa.ErrChallengeMismatch) {
		t.Fatalf("resend of another user's challenge: %v", err)
	}
}

func TestEnrollByChallenge(t *testing.T) {
	ctx := context.Background()
	f := &sendFactor{perDest: 100, cooldown: time.Second, code: "111111"}
	e := sendEnv(t, f)
	en, err := e.v.BeginEnrollment(ctx, mfa.EnrollRequest{UserID: "alice", Kind: kindSend, Destination: "a@example.com", IP: "192.0.2.1"})
	if err != nil {
		t.Fatal(err)
	}
	if f.count() != 1 || en.Show != "a@example.com" {
		t.Fatalf("enrolment sent %d codes, show %v", f.count(), en.Show)
	}
	confirm := func(ch, code string) error {
		_, err := e.v.ConfirmEnrollment(ctx, mfa.ConfirmRequest{UserID: "alice", FactorID: en.FactorID, ChallengeID: ch, Response: code})
		return err
	}
	// A pending factor signs nobody in, and takes no sign-in challenge.
	if _, err := e.v.Challenge(ctx, mfa.ChallengeRequest{UserID: "alice", FactorID: en.FactorID, Binding: "b"}); !errors.Is(err, mfa.ErrInvalidInput) {
		t.Fatalf("sign-in challenge for a pending factor: %v", err)
	}
	if err := confirm("", f.code); !errors.Is(err, mfa.ErrExpired) {
		t.Fatalf("confirmation without its challenge: %v", err)
	}
	lo, _ := e.v.Lockout(ctx, "alice")
	if lo.Failures != 0 {
		t.Fatalf("a confirmation without a challenge cost the user %d failures", lo.Failures)
	}
	// Another factor's enrolment challenge does not confirm this one, and
	// costs alice nothing.
	other, err := e.v.BeginEnrollment(ctx, mfa.EnrollRequest{UserID: "alice", Kind: kindSend, Destination: "b@example.com", IP: "192.0.2.1"})
	if err != nil {
		t.Fatal(err)
	}
	if err := confirm(other.ChallengeID, f.code); !errors.Is(err, mfa.ErrChallengeMismatch) {
		t.Fatalf("another factor's enrolment challenge: %v", err)
	}
	if lo, _ := e.v.Lockout(ctx, "alice"); lo.Failures != 0 {
		t.Fatalf("a mismatched challenge cost the user %d failures", lo.Failures)
	}
	// A resent enrolment code replaces the first.
	e.clk.Add(time.Second)
	again, err := e.v.Challenge(ctx, mfa.ChallengeRequest{UserID: "alice", FactorID: en.FactorID, Replaces: en.ChallengeID})
	if err != nil {
		t.Fatal(err)
	}
	if err := confirm(en.ChallengeID, f.code); !errors.Is(err, mfa.ErrExpired) {
		t.Fatalf("the replaced enrolment code: %v", err)
	}
	if err := confirm(again.ID, f.code); err != nil {
		t.Fatal(err)
	}
	list, _ := e.v.Factors(ctx, "alice")
	for _, fi := range list {
		if fi.Active != (fi.ID == en.FactorID) {
			t.Fatalf("factors %+v: want only %s active", list, en.FactorID)
		}
	}
}

func TestSendFailure(t *testing.T) {
	ctx := context.Background()
	f := &sendFactor{perDest: 100, cooldown: time.Second, code: "111111"}
	e := sendEnv(t, f)
	fid := enrollSend(t, e, f, "alice", "a@example.com")
	f.fail = errors.New("smtp: 451 try later")
	e.resetEvents()
	if _, err := e.v.Challenge(ctx, mfa.ChallengeRequest{UserID: "alice", FactorID: fid, Binding: "b"}); !errors.Is(err, mfa.ErrInternal) {
		t.Fatalf("challenge whose send failed: %v", err)
	}
	if got := e.eventTypes(); !slices.Equal(got, []mfa.EventType{mfa.EventIssueFailed}) {
		t.Fatalf("events %v", got)
	}
	// An enrolment whose code cannot be sent leaves no factor.
	if _, err := e.v.BeginEnrollment(ctx, mfa.EnrollRequest{UserID: "bob", Kind: kindSend, Destination: "b@example.com"}); !errors.Is(err, mfa.ErrInternal) {
		t.Fatalf("enrolment whose send failed: %v", err)
	}
	if list, _ := e.v.Factors(ctx, "bob"); len(list) != 0 {
		t.Fatalf("bob has %d factors after a failed send", len(list))
	}
}

func TestRestricted(t *testing.T) {
	ctx := context.Background()
	f := &sendFactor{perDest: 100, cooldown: time.Second, code: "111111"}
	e := sendEnv(t, restrictedSend{f})
	fid := enrollSend(t, e, f, "alice", "+447700900123")
	ch, err := e.v.Challenge(ctx, mfa.ChallengeRequest{UserID: "alice", FactorID: fid, Binding: "b"})
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.v.Verify(ctx, mfa.VerifyRequest{UserID: "alice", FactorID: fid, ChallengeID: ch.ID, Binding: "b", Response: f.code})
	if err != nil || !res.Restricted {
		t.Fatalf("result %+v, %v: want Restricted", res, err)
	}
	refusing := sendEnv(t, restrictedSend{f}, func(c *mfa.Config) { c.RefuseRestricted = true })
	if _, err := refusing.v.BeginEnrollment(ctx, mfa.EnrollRequest{UserID: "alice", Kind: kindSend, Destination: "+447700900123"}); !errors.Is(err, mfa.ErrUnsupportedKind) {
		t.Fatalf("RefuseRestricted enrolment: %v", err)
	}
}

// blindSend is a sendFactor whose Verify needs only the challenge.
type blindSend struct{ *sendFactor }

func (blindSend) ChallengeOnly() {}

// A ChallengeOnly kind's secret is not opened to verify, and is re-sealed
// under the current key when a challenge opens it.
func TestChallengeOnlyReseal(t *testing.T) {
	ctx := context.Background()
	f := &sendFactor{perDest: 100, cooldown: time.Second, code: "111111"}
	e := sendEnv(t, blindSend{f})
	fid := enrollSend(t, e, f, "alice", "a@example.com")
	k2, err := mfa.NewKeyring(testKey("k2", 2), testKey("k1", 1))
	if err != nil {
		t.Fatal(err)
	}
	cfg := e.cfg
	cfg.Sealer = k2
	v2, err := mfa.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ch, err := v2.Challenge(ctx, mfa.ChallengeRequest{UserID: "alice", FactorID: fid, Binding: "b"})
	if err != nil {
		t.Fatal(err)
	}
	rec, err := e.st.GetFactor(ctx, "alice", fid)
	if err != nil || string(rec.Secret[2:4]) != "k2" {
		t.Fatalf("secret after a challenge under k2: key %q, %v", rec.Secret[2:4], err)
	}
	// Verify does not open the secret: a store whose sealed secret no
	// longer opens still verifies the code of a live challenge.
	rec.Secret = []byte("not a ciphertext")
	if err := e.st.UpdateFactor(ctx, rec); err != nil {
		t.Fatal(err)
	}
	if _, err := v2.Verify(ctx, mfa.VerifyRequest{UserID: "alice", FactorID: fid, ChallengeID: ch.ID, Binding: "b", Response: f.code}); err != nil {
		t.Fatalf("verify of a ChallengeOnly kind: %v", err)
	}
}
