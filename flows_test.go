package mfa_test

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/backupcodes"
	"github.com/mfakit/mfa/factor"
	"github.com/mfakit/mfa/store"
	"github.com/mfakit/mfa/totp"
)

// oobFactor is a stand-in for a challenge kind (an emailed code): its
// challenge holds the keyed hash of a fixed code.
type oobFactor struct{ code string }

func (oobFactor) Kind() mfa.Kind { return kindOOB }

// kindOOB is the stand-in kind's name.
const kindOOB mfa.Kind = "test_oob"

func (oobFactor) Enroll(context.Context, factor.EnrollInput) (factor.Enrolled, error) {
	return factor.Enrolled{Active: true}, nil
}

func (o oobFactor) Challenge(_ context.Context, in factor.ChallengeInput) (factor.Issued, error) {
	h := in.Hasher.Sum("test/oob", []byte(o.code))
	return factor.Issued{Data: h[:], Show: "sent"}, nil
}

func (oobFactor) Verify(_ context.Context, in factor.VerifyInput) (factor.Match, error) {
	h := in.Hasher.Sum("test/oob", []byte(in.Response))
	if subtle.ConstantTimeCompare(h[:], in.Challenge.Data) != 1 {
		return factor.Match{}, mfa.ErrWrongCode
	}
	return factor.Match{Counter: in.Factor.Counter, AMR: []string{"otp"}, AAL: mfa.AAL2, Remaining: -1}, nil
}

// keyFactor is a stand-in for a Registrar kind (a security key): enrolment
// is a challenge, the response must echo it, and its Lookup is unique.
type keyFactor struct{}

func (keyFactor) Kind() mfa.Kind { return mfa.KindWebAuthn }

func (keyFactor) Enroll(context.Context, factor.EnrollInput) (factor.Enrolled, error) {
	return factor.Enrolled{Challenge: []byte("register-me"), Show: "options"}, nil
}

func (keyFactor) Register(_ context.Context, in factor.RegisterInput) (factor.Enrolled, error) {
	if string(in.Challenge.Data) != "register-me" || !strings.HasPrefix(in.Response, "cred:") {
		return factor.Enrolled{}, mfa.ErrWrongCode
	}
	return factor.Enrolled{Lookup: in.Response, Data: []byte("public key")}, nil
}

func (keyFactor) Verify(context.Context, factor.VerifyInput) (factor.Match, error) {
	return factor.Match{}, mfa.ErrWrongCode
}

func TestChallengeFlow(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, func(c *mfa.Config) {
		c.Factors = append(c.Factors, oobFactor{code: "424242"})
		c.Limits.User.Free, c.Limits.Factor.Free = 20, 20
	})
	en, err := e.v.BeginEnrollment(ctx, mfa.EnrollRequest{UserID: "alice", Kind: kindOOB})
	if err != nil || !en.Active {
		t.Fatalf("enrol = %+v, %v", en, err)
	}
	issue := func(user, binding string) string {
		t.Helper()
		c, err := e.v.Challenge(ctx, mfa.ChallengeRequest{UserID: user, FactorID: en.FactorID, Binding: binding})
		if err != nil {
			t.Fatal(err)
		}
		if c.Show != "sent" || !c.Expires.Equal(e.clk.Now().Add(5*time.Minute)) {
			t.Fatalf("challenge = %+v", c)
		}
		return c.ID
	}
	verify := func(id, binding, code string) error {
		_, err := e.v.Verify(ctx, mfa.VerifyRequest{UserID: "alice", FactorID: en.FactorID, ChallengeID: id, Binding: binding, Response: code})
		return err
	}
	id := issue("alice", "pending-1")
	if err := verify(id, "pending-1", "424242"); err != nil {
		t.Fatal(err)
	}
	if err := verify(id, "pending-1", "424242"); !errors.Is(err, mfa.ErrExpired) {
		t.Fatalf("challenge used twice: %v", err)
	}
	id = issue("alice", "pending-1")
	if err := verify(id, "pending-2", "424242"); !errors.Is(err, mfa.ErrChallengeMismatch) {
		t.Fatalf("other sign-in attempt: %v", err)
	}
	if err := verify(id, "pending-1", "424242"); !errors.Is(err, mfa.ErrExpired) {
		t.Fatalf("a mismatched attempt must consume the challenge: %v", err)
	}
	id = issue("alice", "b")
	e.clk.Add(5 * time.Minute)
	if err := verify(id, "b", "424242"); !errors.Is(err, mfa.ErrExpired) {
		t.Fatalf("expired challenge: %v", err)
	}
	if err := verify("", "b", "424242"); !errors.Is(err, mfa.ErrExpired) {
		t.Fatalf("no challenge: %v", err)
	}
	id = issue("alice", "b")
	if err := verify(id, "b", "000000"); !errors.Is(err, mfa.ErrWrongCode) {
		t.Fatalf("wrong code: %v", err)
	}
	if _, err := e.v.Challenge(ctx, mfa.ChallengeRequest{UserID: "bob", FactorID: en.FactorID}); !errors.Is(err, mfa.ErrNotFound) {
		t.Fatalf("challenge for another user's factor: %v", err)
	}
	if _, err := e.v.Challenge(ctx, mfa.ChallengeRequest{UserID: "alice", Kind: mfa.KindTOTP}); !errors.Is(err, mfa.ErrUnsupportedKind) {
		t.Fatalf("challenge for TOTP: %v", err)
	}
	if _, err := e.v.Challenge(ctx, mfa.ChallengeRequest{UserID: "alice", FactorID: en.FactorID, Binding: "mfa/enroll"}); !errors.Is(err, mfa.ErrInvalidInput) {
		t.Fatalf("reserved binding: %v", err)
	}
}

func TestRegistrarFlow(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, func(c *mfa.Config) { c.Factors = append(c.Factors, keyFactor{}) })
	begin := func(user string) *mfa.Enrollment {
		t.Helper()
		en, err := e.v.BeginEnrollment(ctx, mfa.EnrollRequest{UserID: user, Kind: mfa.KindWebAuthn, AuthTime: e.clk.Now()})
		if err != nil || en.ChallengeID == "" || en.FactorID != "" || en.Show != "options" {
			t.Fatalf("begin = %+v, %v", en, err)
		}
		return en
	}
	en := begin("alice")
	if _, err := e.v.ConfirmEnrollment(ctx, mfa.ConfirmRequest{UserID: "bob", ChallengeID: en.ChallengeID, Response: "cred:1"}); !errors.Is(err, mfa.ErrChallengeMismatch) {
		t.Fatalf("another user's enrolment challenge: %v", err)
	}
	en = begin("alice")
	res, err := e.v.ConfirmEnrollment(ctx, mfa.ConfirmRequest{UserID: "alice", ChallengeID: en.ChallengeID, Response: "cred:1", Name: "Blue key"})
	if err != nil || res.Kind != mfa.KindWebAuthn {
		t.Fatalf("confirm = %+v, %v", res, err)
	}
	if _, err := e.v.ConfirmEnrollment(ctx, mfa.ConfirmRequest{UserID: "alice", ChallengeID: en.ChallengeID, Response: "cred:2"}); !errors.Is(err, mfa.ErrExpired) {
		t.Fatalf("enrolment challenge reused: %v", err)
	}
	list, _ := e.v.Factors(ctx, "alice")
	if len(list) != 1 || list[0].Name != "Blue key" || !list[0].Active {
		t.Fatalf("factors = %+v", list)
	}
	// The same credential cannot be registered to another user.
	en = begin("bob")
	if _, err := e.v.ConfirmEnrollment(ctx, mfa.ConfirmRequest{UserID: "bob", ChallengeID: en.ChallengeID, Response: "cred:1"}); !errors.Is(err, mfa.ErrInvalidInput) {
		t.Fatalf("duplicate credential: %v", err)
	}
	// An enrolment challenge is never a sign-in challenge.
	en = begin("bob")
	if _, err := e.v.Verify(ctx, mfa.VerifyRequest{UserID: "bob", Kind: mfa.KindWebAuthn, ChallengeID: en.ChallengeID, Binding: "mfa/enroll", Response: "x"}); !errors.Is(err, mfa.ErrInvalidInput) {
		t.Fatalf("enrolment challenge presented at sign-in: %v", err)
	}
}

func newCodesEnv(t *testing.T, edit ...func(*mfa.Config)) *env {
	bc, err := backupcodes.New(backupcodes.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return newEnv(t, append([]func(*mfa.Config){func(c *mfa.Config) { c.Factors = append(c.Factors, bc) }}, edit...)...)
}

func TestBackupCodes(t *testing.T) {
	ctx := context.Background()
	e := newCodesEnv(t)
	en, err := e.v.BeginEnrollment(ctx, mfa.EnrollRequest{UserID: "alice", Kind: mfa.KindBackupCodes})
	if err != nil || !en.Active {
		t.Fatalf("enrol = %+v, %v", en, err)
	}
	codes := en.Show.(*backupcodes.Codes).List
	if len(codes) != 10 {
		t.Fatalf("%d codes", len(codes))
	}
	e.resetEvents()
	res, err := e.v.Verify(ctx, mfa.VerifyRequest{UserID: "alice", Kind: mfa.KindBackupCodes, Response: strings.ToUpper(codes[3])})
	if err != nil || res.Remaining != 9 || res.Kind != mfa.KindBackupCodes {
		t.Fatalf("verify = %+v, %v", res, err)
	}
	if got := fmt.Sprint(e.eventTypes()); got != fmt.Sprint([]mfa.EventType{mfa.EventVerifySucceeded, mfa.EventBackupCodeUsed}) {
		t.Fatalf("events = %s", got)
	}
	if _, err := e.v.Verify(ctx, mfa.VerifyRequest{UserID: "alice", FactorID: en.FactorID, Response: codes[3]}); !errors.Is(err, mfa.ErrReplayed) {
		t.Fatalf("code used twice: %v", err)
	}
	for i := range 6 {
		if _, err := e.v.Verify(ctx, mfa.VerifyRequest{UserID: "alice", FactorID: en.FactorID, Response: codes[4+i]}); err != nil {
			t.Fatal(err)
		}
	}
	list, err := e.v.Factors(ctx, "alice")
	if err != nil || len(list) != 1 || list[0].Remaining != 3 {
		t.Fatalf("Factors = %+v, %v; want 3 codes left", list, err)
	}
	// 3 left: the low-codes notification fired on the last use.
	if got := e.eventTypes(); got[len(got)-1] != mfa.EventBackupCodesLow {
		t.Fatalf("events = %v", got)
	}
	// Regeneration needs a fresh verification and retires the old set.
	if _, err := e.v.Regenerate(ctx, mfa.ChangeRequest{UserID: "alice", FactorID: en.FactorID}); !errors.Is(err, mfa.ErrStepUpRequired) {
		t.Fatalf("regenerate without step-up: %v", err)
	}
	re, err := e.v.Regenerate(ctx, mfa.ChangeRequest{UserID: "alice", FactorID: en.FactorID, AuthTime: res.Time})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.v.Verify(ctx, mfa.VerifyRequest{UserID: "alice", FactorID: en.FactorID, Response: codes[0]}); !errors.Is(err, mfa.ErrNotFound) {
		t.Fatalf("old set after regeneration: %v", err)
	}
	fresh := re.Show.(*backupcodes.Codes).List
	if _, err := e.v.Verify(ctx, mfa.VerifyRequest{UserID: "alice", Kind: mfa.KindBackupCodes, Response: fresh[0]}); err != nil {
		t.Fatalf("new set: %v", err)
	}
	if got := e.eventTypes(); !contains(got, mfa.EventCodesRegenerated) {
		t.Fatalf("events = %v", got)
	}
	// TOTP cannot be regenerated in place.
	fid, _ := e.enrollTOTP(t, "bob")
	if _, err := e.v.Regenerate(ctx, mfa.ChangeRequest{UserID: "bob", FactorID: fid, AuthTime: e.clk.Now()}); !errors.Is(err, mfa.ErrUnsupportedKind) {
		t.Fatalf("regenerate TOTP: %v", err)
	}
}

func contains(list []mfa.EventType, t mfa.EventType) bool {
	for _, x := range list {
		if x == t {
			return true
		}
	}
	return false
}

// One backup code submitted concurrently is accepted once.
func TestBackupCodeConcurrentUse(t *testing.T) {
	e := newCodesEnv(t, func(c *mfa.Config) {
		c.Limits.User = store.Rule{Free: 100}
		c.Limits.Factor = store.Rule{Free: 100}
	})
	en, err := e.v.BeginEnrollment(context.Background(), mfa.EnrollRequest{UserID: "alice", Kind: mfa.KindBackupCodes})
	if err != nil {
		t.Fatal(err)
	}
	code := en.Show.(*backupcodes.Codes).List[0]
	var ok atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, err := e.v.Verify(context.Background(), mfa.VerifyRequest{UserID: "alice", FactorID: en.FactorID, Response: code})
			if err == nil {
				ok.Add(1)
			} else if !errors.Is(err, mfa.ErrReplayed) {
				t.Errorf("unexpected: %v", err)
			}
		}()
	}
	close(start)
	wg.Wait()
	if ok.Load() != 1 {
		t.Fatalf("%d successes, want 1", ok.Load())
	}
}

// No event or log line carries a secret, code or seed.
func TestEventsCarryNoSecret(t *testing.T) {
	ctx := context.Background()
	e := newCodesEnv(t)
	var secrets []string
	en, err := e.v.BeginEnrollment(ctx, mfa.EnrollRequest{UserID: "alice", Kind: mfa.KindTOTP})
	if err != nil {
		t.Fatal(err)
	}
	setup := en.Show.(*totp.Setup)
	secrets = append(secrets, setup.Secret, strings.ToLower(setup.Secret))
	code := e.code(t, setup.Secret, 0)
	if _, err := e.v.ConfirmEnrollment(ctx, mfa.ConfirmRequest{UserID: "alice", FactorID: en.FactorID, Response: code}); err != nil {
		t.Fatal(err)
	}
	secrets = append(secrets, code)
	_, _ = e.v.Verify(ctx, mfa.VerifyRequest{UserID: "alice", FactorID: en.FactorID, Response: code})     // replay
	_, _ = e.v.Verify(ctx, mfa.VerifyRequest{UserID: "alice", FactorID: en.FactorID, Response: "987654"}) // wrong
	secrets = append(secrets, "987654")
	bc, err := e.v.BeginEnrollment(ctx, mfa.EnrollRequest{UserID: "alice", Kind: mfa.KindBackupCodes, AuthTime: e.clk.Now()})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range bc.Show.(*backupcodes.Codes).List {
		secrets = append(secrets, c, strings.ReplaceAll(c, "-", ""))
	}
	e.clk.Add(time.Hour)
	if _, err := e.v.Verify(ctx, mfa.VerifyRequest{UserID: "alice", FactorID: bc.FactorID, Response: bc.Show.(*backupcodes.Codes).List[0]}); err != nil {
		t.Fatal(err)
	}
	for range 6 { // up to the rate limit
		_, _ = e.v.Verify(ctx, mfa.VerifyRequest{UserID: "alice", FactorID: en.FactorID, Response: "135790", IP: "192.0.2.1"})
	}
	secrets = append(secrets, "135790")

	e.mu.Lock()
	defer e.mu.Unlock()
	dump := e.log.String() + fmt.Sprintf("%+v %#v", e.events, e.events)
	for _, want := range []mfa.EventType{mfa.EventVerifyFailed, mfa.EventReplayRefused, mfa.EventRateLimited, mfa.EventBackupCodeUsed} {
		if !strings.Contains(dump, string(want)) {
			t.Fatalf("the test did not produce %s; it would prove nothing", want)
		}
	}
	for _, s := range secrets {
		if strings.Contains(dump, s) {
			t.Fatalf("events or logs contain the secret %q", s)
		}
	}
}

func TestSecondBackupCodeSetRefused(t *testing.T) {
	ctx := context.Background()
	e := newCodesEnv(t)
	if _, err := e.v.BeginEnrollment(ctx, mfa.EnrollRequest{UserID: "alice", Kind: mfa.KindBackupCodes}); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, e.st, "alice")
	if _, err := e.v.BeginEnrollment(ctx, mfa.EnrollRequest{UserID: "alice", Kind: mfa.KindBackupCodes, AuthTime: e.clk.Now()}); !errors.Is(err, mfa.ErrInvalidInput) {
		t.Fatalf("second set: %v", err)
	}
	if snapshot(t, e.st, "alice") != before {
		t.Fatal("store changed")
	}
}

// dataFactor keeps a secret and rewrites its Data on every use.
type dataFactor struct{}

func (dataFactor) Kind() mfa.Kind { return "data" }

func (dataFactor) Enroll(context.Context, factor.EnrollInput) (factor.Enrolled, error) {
	return factor.Enrolled{Secret: []byte("secret"), Data: []byte("v0"), Active: true}, nil
}

func (dataFactor) Verify(_ context.Context, in factor.VerifyInput) (factor.Match, error) {
	if string(in.Secret) != "secret" || in.Response != "ok" {
		return factor.Match{}, mfa.ErrWrongCode
	}
	return factor.Match{Counter: in.Factor.Counter + 1, Data: []byte(fmt.Sprintf("v%d", in.Factor.Counter+1)), AAL: mfa.AAL2, Remaining: -1}, nil
}

// A verification that re-seals under a new key keeps the Data its commit
// wrote.
func TestResealKeepsCommittedData(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, func(c *mfa.Config) { c.Factors = append(c.Factors, dataFactor{}) })
	en, err := e.v.BeginEnrollment(ctx, mfa.EnrollRequest{UserID: "alice", Kind: "data"})
	if err != nil {
		t.Fatal(err)
	}
	rotated, _ := mfa.NewKeyring(testKey("k2", 2), testKey("k1", 1))
	cfg := e.cfg
	cfg.Sealer = rotated
	v2, _ := mfa.New(cfg)
	if _, err := v2.Verify(ctx, mfa.VerifyRequest{UserID: "alice", FactorID: en.FactorID, Response: "ok"}); err != nil {
		t.Fatal(err)
	}
	rec, _ := e.st.GetFactor(ctx, "alice", en.FactorID)
	if string(rec.Data) != "v1" || string(rec.Secret[2:4]) != "k2" {
		t.Fatalf("after re-seal: data %q, key %q", rec.Data, rec.Secret[2:4])
	}
}

// Different unused backup codes submitted at the same moment all pass: a
// verification that loses the compare-and-set checks its code again
// against the state the winner left, instead of calling it a replay.
func TestBackupCodesConcurrentDifferentCodes(t *testing.T) {
	e := newCodesEnv(t)
	en, err := e.v.BeginEnrollment(context.Background(), mfa.EnrollRequest{UserID: "alice", Kind: mfa.KindBackupCodes})
	if err != nil {
		t.Fatal(err)
	}
	codes := en.Show.(*backupcodes.Codes).List
	for round := range 3 {
		var wg sync.WaitGroup
		start := make(chan struct{})
		errs := make([]error, 3)
		for i := range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, errs[i] = e.v.Verify(context.Background(), mfa.VerifyRequest{UserID: "alice", FactorID: en.FactorID, Response: codes[round*3+i]})
			}()
		}
		close(start)
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d, code %d: %v", round, i, err)
			}
		}
	}
	res, err := e.v.Verify(context.Background(), mfa.VerifyRequest{UserID: "alice", FactorID: en.FactorID, Response: codes[9]})
	if err != nil || res.Remaining != 0 {
		t.Fatalf("last code: %+v, %v", res, err)
	}
}

// TestGuardSeesChallengeKind: a request that names only the challenge and
// the factor still tells the Guard the kind it answers, so a Guard can
// ask for a kind (a phishing-resistant one) without the caller repeating
// it; and the Guard's own error stays matchable under ErrDenied.
func TestGuardSeesChallengeKind(t *testing.T) {
	ctx := context.Background()
	errGuard := errors.New("mfa: guard says no")
	var seen []mfa.Attempt
	e := newEnv(t, func(c *mfa.Config) {
		c.Factors = append(c.Factors, oobFactor{code: "424242"})
		c.Guard = func(_ context.Context, a mfa.Attempt) error {
			seen = append(seen, a)
			if len(seen) > 1 {
				return errGuard
			}
			return nil
		}
	})
	en, err := e.v.BeginEnrollment(ctx, mfa.EnrollRequest{UserID: "alice", Kind: kindOOB})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []error{nil, errGuard} {
		c, err := e.v.Challenge(ctx, mfa.ChallengeRequest{UserID: "alice", FactorID: en.FactorID, Binding: "b"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.v.Verify(ctx, mfa.VerifyRequest{UserID: "alice", FactorID: en.FactorID, ChallengeID: c.ID, Binding: "b", Response: "424242"})
		if want == nil && err != nil || want != nil && (!errors.Is(err, mfa.ErrDenied) || !errors.Is(err, want)) {
			t.Fatalf("verify %d: %v", i, err)
		}
		if len(seen) != i+1 || seen[i].Kind != kindOOB {
			t.Fatalf("guard saw %+v", seen)
		}
	}
}
