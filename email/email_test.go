package email_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/email"
	"github.com/mfakit/mfa/internal/testkit"
	"github.com/mfakit/mfa/sentcode"
	"github.com/mfakit/mfa/store/memstore"
)

// outbox is a Sender that keeps what it was given.
type outbox struct {
	mu   sync.Mutex
	msgs []sentcode.Message
	err  error
	wait bool // block until the context ends
}

func (o *outbox) Send(ctx context.Context, m sentcode.Message) error {
	if o.wait {
		<-ctx.Done()
		return ctx.Err()
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.err != nil {
		return o.err
	}
	o.msgs = append(o.msgs, m)
	return nil
}

func (o *outbox) last(t *testing.T) sentcode.Message {
	t.Helper()
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.msgs) == 0 {
		t.Fatal("nothing sent")
	}
	return o.msgs[len(o.msgs)-1]
}

type env struct {
	v   *mfa.Verifier
	clk *testkit.Clock
	box *outbox
	log bytes.Buffer
	mu  sync.Mutex
	st  *memstore.Store
}

func (e *env) Write(p []byte) (int, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.log.Write(p)
}

func newEnv(t *testing.T, cfg email.Config, edit ...func(*mfa.Config)) *env {
	t.Helper()
	e := &env{clk: testkit.NewClock(testkit.T0), box: &outbox{}, st: memstore.New()}
	if cfg.Sender == nil {
		cfg.Sender = e.box
	}
	f, err := email.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	kr, _ := mfa.NewKeyring(mfa.Key{ID: "k1", Secret: bytes.Repeat([]byte{1}, 32)})
	c := mfa.Config{
		Store: e.st, Factors: []mfa.Factor{f}, Sealer: kr, HashKey: bytes.Repeat([]byte{2}, 32),
		Now: e.clk.Now, Rand: testkit.Rand(3), Hooks: []mfa.Hook{mfa.SlogHook(slog.New(slog.NewTextHandler(e, nil)))},
	}
	for _, ed := range edit {
		ed(&c)
	}
	if e.v, err = mfa.New(c); err != nil {
		t.Fatal(err)
	}
	return e
}

// enroll enrols and confirms addr for user and returns the factor ID.
func (e *env) enroll(t *testing.T, user, addr string) string {
	t.Helper()
	ctx := context.Background()
	en, err := e.v.BeginEnrollment(ctx, mfa.EnrollRequest{UserID: user, Kind: email.Kind, Destination: addr, AuthTime: e.clk.Now()})
	if err != nil {
		t.Fatal(err)
	}
	m := e.box.last(t)
	if m.Purpose != sentcode.PurposeEnroll {
		t.Fatalf("purpose %q", m.Purpose)
	}
	if _, err := e.v.ConfirmEnrollment(ctx, mfa.ConfirmRequest{UserID: user, FactorID: en.FactorID, ChallengeID: en.ChallengeID, Response: m.Code, AuthTime: e.clk.Now()}); err != nil {
		t.Fatal(err)
	}
	e.clk.Add(time.Minute) // past the cool-down
	return en.FactorID
}

// challenge asks for a sign-in code and returns the challenge and the code.
func (e *env) challenge(t *testing.T, user, fid, binding string) (*mfa.IssuedChallenge, string) {
	t.Helper()
	ch, err := e.v.Challenge(context.Background(), mfa.ChallengeRequest{UserID: user, FactorID: fid, Binding: binding})
	if err != nil {
		t.Fatal(err)
	}
	return ch, e.box.last(t).Code
}

func TestSignIn(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, email.Config{Issuer: "Example"})
	fid := e.enroll(t, "alice", "Alice@Bücher.Example")
	ch, code := e.challenge(t, "alice", fid, "pending-1")
	m := e.box.last(t)
	if m.To != "Alice@xn--bcher-kva.example" || len(code) != 6 || m.Purpose != sentcode.PurposeSignIn {
		t.Fatalf("sent %+v", m)
	}
	sent, err := mfa.ShowAs[*sentcode.Sent](ch.Show)
	if err != nil || sent.Masked != "A•••@bücher.example" || !sent.Expires.Equal(e.clk.Now().Add(5*time.Minute)) {
		t.Fatalf("show %+v %v", sent, err)
	}
	typed := code[:3] + " " + string([]rune("０１２３４５６７８９")[code[3]-'0']) + code[4:]
	res, err := e.v.Verify(ctx, mfa.VerifyRequest{UserID: "alice", FactorID: fid, ChallengeID: ch.ID, Binding: "pending-1", Response: typed})
	if err != nil {
		t.Fatal(err)
	}
	if res.AAL != mfa.AAL1 || res.Restricted || strings.Join(res.AMR, " ") != "otp mca" {
		t.Fatalf("result %+v", res)
	}
	// Nothing logged holds the code or the address.
	log := e.log.String()
	if strings.Contains(log, code) || strings.Contains(strings.ToLower(log), "alice@") || strings.Contains(log, "bcher") {
		t.Fatalf("log holds a secret:\n%s", log)
	}
	if !strings.Contains(log, "email.used") {
		t.Fatalf("no use event in\n%s", log)
	}
}

func TestAALConfig(t *testing.T) {
	e := newEnv(t, email.Config{AAL: mfa.AAL2})
	fid := e.enroll(t, "alice", "a@example.com")
	ch, code := e.challenge(t, "alice", fid, "b")
	res, err := e.v.Verify(context.Background(), mfa.VerifyRequest{UserID: "alice", FactorID: fid, ChallengeID: ch.ID, Binding: "b", Response: code})
	if err != nil || res.AAL != mfa.AAL2 {
		t.Fatalf("%+v %v", res, err)
	}
	if _, err := email.New(email.Config{Sender: &outbox{}, AAL: mfa.AAL3}); !errors.Is(err, mfa.ErrConfig) {
		t.Fatalf("AAL3: %v", err)
	}
	if _, err := email.New(email.Config{}); !errors.Is(err, mfa.ErrConfig) {
		t.Fatalf("no sender: %v", err)
	}
	f, err := email.New(email.Config{Sender: &outbox{}, Digits: 8})
	if err != nil || f.Kind() != email.Kind {
		t.Fatal(err)
	}
}

// Every bad response is refused and leaves the right code unusable only
// when it took its challenge.
func TestBadResponses(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, email.Config{})
	fid := e.enroll(t, "alice", "a@example.com")
	bid := e.enroll(t, "bob", "b@example.com")
	fid2 := e.enroll(t, "alice", "a2@example.com")
	verify := func(user, fid, ch, binding, resp string) error {
		_, err := e.v.Verify(ctx, mfa.VerifyRequest{UserID: user, FactorID: fid, ChallengeID: ch, Binding: binding, Response: resp})
		return err
	}
	tests := []struct {
		name string
		try  func(ch *mfa.IssuedChallenge, code string) error
		want error
	}{
		{"wrong code", func(ch *mfa.IssuedChallenge, code string) error {
			return verify("alice", fid, ch.ID, "b", wrong(code))
		}, mfa.ErrWrongCode},
		{"letters", func(ch *mfa.IssuedChallenge, _ string) error { return verify("alice", fid, ch.ID, "b", "12e456") }, mfa.ErrMalformedResponse},
		{"five digits", func(ch *mfa.IssuedChallenge, code string) error { return verify("alice", fid, ch.ID, "b", code[:5]) }, mfa.ErrMalformedResponse},
		{"60 kB code", func(ch *mfa.IssuedChallenge, _ string) error {
			return verify("alice", fid, ch.ID, "b", strings.Repeat("1", 60<<10))
		}, mfa.ErrMalformedResponse},
		{"1 MB code", func(ch *mfa.IssuedChallenge, _ string) error {
			return verify("alice", fid, ch.ID, "b", strings.Repeat("1", 1<<20))
		}, mfa.ErrMalformedResponse},
		{"another binding", func(ch *mfa.IssuedChallenge, code string) error { return verify("alice", fid, ch.ID, "other", code) }, mfa.ErrChallengeMismatch},
		{"another factor", func(ch *mfa.IssuedChallenge, code string) error { return verify("alice", fid2, ch.ID, "b", code) }, mfa.ErrChallengeMismatch},
		{"another user", func(ch *mfa.IssuedChallenge, code string) error { return verify("bob", bid, ch.ID, "b", code) }, mfa.ErrChallengeMismatch},
		{"no challenge", func(_ *mfa.IssuedChallenge, code string) error { return verify("alice", fid, "", "b", code) }, mfa.ErrExpired},
		{"expired", func(ch *mfa.IssuedChallenge, code string) error {
			e.clk.Add(5 * time.Minute)
			return verify("alice", fid, ch.ID, "b", code)
		}, mfa.ErrExpired},
		{"reused", func(ch *mfa.IssuedChallenge, code string) error {
			if err := verify("alice", fid, ch.ID, "b", code); err != nil {
				return err
			}
			return verify("alice", fid, ch.ID, "b", code)
		}, mfa.ErrExpired},
		{"old code after a resend", func(ch *mfa.IssuedChallenge, code string) error {
			e.clk.Add(time.Minute)
			if _, err := e.v.Challenge(ctx, mfa.ChallengeRequest{UserID: "alice", FactorID: fid, Binding: "b", Replaces: ch.ID}); err != nil {
				return err
			}
			return verify("alice", fid, ch.ID, "b", code)
		}, mfa.ErrExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.clk.Add(time.Hour)
			if err := e.v.Unlock(ctx, "alice"); err != nil {
				t.Fatal(err)
			}
			ch, code := e.challenge(t, "alice", fid, "b")
			if err := tt.try(ch, code); !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if strings.Contains(e.log.String(), code) {
				t.Fatal("the code was logged")
			}
		})
	}
}

func wrong(code string) string {
	b := []byte(code)
	b[0] = '0' + (b[0]-'0'+1)%10
	return string(b)
}

func TestBadDestinations(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, email.Config{})
	for _, addr := range []string{
		"", "plain", "a@b", "a@-x.example", "Jo <jo@example.com>", "a@example.com\r\nBcc: x@example.com",
		"a@example.com\nSubject: hi", `"a b"@example.com`, "a@[192.0.2.1]", "ü@example.com",
		strings.Repeat("a", 250) + "@example.com", "a,b@example.com",
	} {
		_, err := e.v.BeginEnrollment(ctx, mfa.EnrollRequest{UserID: "alice", Kind: email.Kind, Destination: addr})
		if !errors.Is(err, mfa.ErrInvalidInput) {
			t.Errorf("%.40q: %v, want ErrInvalidInput", addr, err)
		}
		if err != nil && addr != "" && strings.Contains(err.Error(), addr) {
			t.Errorf("the error quotes the address: %v", err)
		}
	}
	if list, _ := e.v.Factors(ctx, "alice"); len(list) != 0 || len(e.box.msgs) != 0 {
		t.Fatalf("bad destinations left %d factors, %d messages", len(list), len(e.box.msgs))
	}
}

// One address, two users: allowed by default, refused with
// UniqueDestination.
func TestUniqueDestination(t *testing.T) {
	ctx := context.Background()
	shared := newEnv(t, email.Config{})
	shared.enroll(t, "alice", "family@example.com")
	shared.enroll(t, "bob", "Family@EXAMPLE.com")

	unique := newEnv(t, email.Config{UniqueDestination: true})
	unique.enroll(t, "alice", "family@example.com")
	_, err := unique.v.BeginEnrollment(ctx, mfa.EnrollRequest{UserID: "bob", Kind: email.Kind, Destination: "family@EXAMPLE.com"})
	if !errors.Is(err, mfa.ErrInvalidInput) {
		t.Fatalf("second user's enrolment of a unique address: %v", err)
	}
	if list, _ := unique.v.Factors(ctx, "bob"); len(list) != 0 {
		t.Fatalf("bob has %d factors", len(list))
	}
}

func TestSenderFailures(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, email.Config{SendTimeout: time.Millisecond})
	fid := e.enroll(t, "alice", "a@example.com")
	for name, set := range map[string]func(){
		"fails":     func() { e.box.err = errors.New("451 a@example.com greylisted") },
		"times out": func() { e.box.wait = true },
	} {
		t.Run(name, func(t *testing.T) {
			e.box.err, e.box.wait = nil, false
			set()
			e.clk.Add(time.Minute)
			_, err := e.v.Challenge(ctx, mfa.ChallengeRequest{UserID: "alice", FactorID: fid, Binding: "b"})
			if !errors.Is(err, sentcode.ErrSendFailed) || !errors.Is(err, mfa.ErrInternal) {
				t.Fatalf("got %v", err)
			}
			if strings.Contains(e.log.String(), "a@example.com") {
				t.Fatal("the address was logged")
			}
			if !strings.Contains(e.log.String(), string(mfa.EventIssueFailed)) {
				t.Fatal("no delivery failure event")
			}
		})
	}
}

func TestSendCaps(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, email.Config{Caps: sentcode.Caps{PerDestination: 3, Cooldown: -1}}, func(c *mfa.Config) { c.Issue.PerUser = 100 })
	fid := e.enroll(t, "alice", "a@example.com")
	e.clk.Add(time.Hour)
	var rl *mfa.RateLimitError
	for i := range 4 {
		_, err := e.v.Challenge(ctx, mfa.ChallengeRequest{UserID: "alice", FactorID: fid, Binding: "b"})
		if (i < 3) != (err == nil) {
			t.Fatalf("challenge %d: %v", i+1, err)
		}
		if i == 3 && !errors.As(err, &rl) {
			t.Fatalf("fourth: %v", err)
		}
	}
	if !strings.Contains(e.log.String(), string(mfa.EventIssueCapped)) {
		t.Fatal("no cap event")
	}
}

// Of many concurrent submissions of one emailed code, one succeeds.
func TestConcurrentSubmissions(t *testing.T) {
	e := newEnv(t, email.Config{})
	fid := e.enroll(t, "alice", "a@example.com")
	ch, code := e.challenge(t, "alice", fid, "b")
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := e.v.Verify(context.Background(), mfa.VerifyRequest{UserID: "alice", FactorID: fid, ChallengeID: ch.ID, Binding: "b", Response: code})
			if err == nil {
				mu.Lock()
				ok++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if ok != 1 {
		t.Fatalf("%d successes, want 1", ok)
	}
}
