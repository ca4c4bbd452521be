package mfa_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/backupcodes"
	"github.com/mfakit/mfa/store"
	"github.com/mfakit/mfa/totp"
)

// TestConfirmAfterAnotherFactorNeedsStepUp: an enrolment begun with only a
// password, while the user had no active factor, cannot be confirmed
// without a fresh verification once the user has activated a factor of
// their own. Otherwise whoever held the password could begin one before
// the user's first enrolment and finish it after, unseen.
func TestConfirmAfterAnotherFactorNeedsStepUp(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name     string
		authTime func(e *env) time.Time
		want     error
	}{
		{"no AuthTime", func(*env) time.Time { return time.Time{} }, mfa.ErrStepUpRequired},
		{"stale AuthTime", func(e *env) time.Time { return e.clk.Now().Add(-time.Hour) }, mfa.ErrStepUpRequired},
		{"AuthTime in the future", func(e *env) time.Time { return e.clk.Now().Add(time.Minute) }, mfa.ErrStepUpRequired},
		{"fresh AuthTime", func(e *env) time.Time { return e.clk.Now() }, nil},
	}
	for _, tt := range tests {
		t.Run("totp/"+tt.name, func(t *testing.T) {
			e := newEnv(t)
			early, err := e.v.BeginEnrollment(ctx, mfa.EnrollRequest{UserID: "alice", Kind: mfa.KindTOTP})
			if err != nil {
				t.Fatal(err)
			}
			e.clk.Add(time.Second)
			e.enrollTOTP(t, "alice") // the user's own first factor
			code := e.code(t, early.Show.(*totp.Setup).Secret, 0)
			e.resetEvents()

			_, err = e.v.ConfirmEnrollment(ctx, mfa.ConfirmRequest{UserID: "alice", FactorID: early.FactorID, Response: code, AuthTime: tt.authTime(e)})
			if !errors.Is(err, tt.want) {
				t.Fatalf("confirm: %v, want %v", err, tt.want)
			}
			rec, gerr := e.st.GetFactor(ctx, "alice", early.FactorID)
			if gerr != nil {
				t.Fatal(gerr)
			}
			if active := rec.Status == store.StatusActive; active != (tt.want == nil) {
				t.Fatalf("factor status %q after %v", rec.Status, err)
			}
			if tt.want != nil && !slices.Equal(e.eventTypes(), []mfa.EventType{mfa.EventVerifyFailed}) {
				t.Fatalf("events = %v, want one failure", e.eventTypes())
			}
		})
	}

	t.Run("registrar", func(t *testing.T) {
		e := newEnv(t, func(c *mfa.Config) { c.Factors = append(c.Factors, keyFactor{}) })
		early, err := e.v.BeginEnrollment(ctx, mfa.EnrollRequest{UserID: "alice", Kind: mfa.KindWebAuthn})
		if err != nil {
			t.Fatal(err)
		}
		e.clk.Add(time.Second)
		e.enrollTOTP(t, "alice")
		_, err = e.v.ConfirmEnrollment(ctx, mfa.ConfirmRequest{UserID: "alice", ChallengeID: early.ChallengeID, Response: "cred:1"})
		if !errors.Is(err, mfa.ErrStepUpRequired) {
			t.Fatalf("register: %v, want ErrStepUpRequired", err)
		}
		if list, _ := e.v.Factors(ctx, "alice"); len(list) != 1 {
			t.Fatalf("factors = %+v, want only the TOTP", list)
		}
	})

	// The ordinary case: the second factor is begun after the first is
	// active (with the fresh verification BeginEnrollment demands), and
	// confirmed without another.
	t.Run("begun after the first factor", func(t *testing.T) {
		e := newEnv(t)
		e.enrollTOTP(t, "alice")
		second, secret := e.enrollTOTP(t, "alice")
		if second == "" || secret == "" {
			t.Fatal("second enrolment failed")
		}
	})
}

// TestOneBackupCodeSetUnderConcurrency: concurrent enrolments or
// regenerations (a double click, two instances) leave exactly one set.
func TestOneBackupCodeSetUnderConcurrency(t *testing.T) {
	ctx := context.Background()
	const racers = 32
	race := func(f func() (*mfa.Enrollment, error)) (won []*mfa.Enrollment, errs []error) {
		var (
			wg    sync.WaitGroup
			mu    sync.Mutex
			start = make(chan struct{})
		)
		for range racers {
			wg.Go(func() {
				<-start
				en, err := f()
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					errs = append(errs, err)
				} else {
					won = append(won, en)
				}
			})
		}
		close(start)
		wg.Wait()
		return won, errs
	}
	activeSets := func(e *env) []mfa.FactorInfo {
		list, err := e.v.Factors(ctx, "alice")
		if err != nil {
			t.Fatal(err)
		}
		var out []mfa.FactorInfo
		for _, f := range list {
			if f.Kind == mfa.KindBackupCodes {
				out = append(out, f)
			}
		}
		return out
	}

	e := newCodesEnv(t)
	won, errs := race(func() (*mfa.Enrollment, error) {
		return e.v.BeginEnrollment(ctx, mfa.EnrollRequest{UserID: "alice", Kind: mfa.KindBackupCodes, AuthTime: e.clk.Now()})
	})
	if len(won) != 1 || len(errs) != racers-1 {
		t.Fatalf("concurrent enrolments: %d succeeded, want 1", len(won))
	}
	for _, err := range errs {
		if !errors.Is(err, mfa.ErrInvalidInput) {
			t.Fatalf("losing enrolment: %v, want ErrInvalidInput", err)
		}
	}
	if sets := activeSets(e); len(sets) != 1 || sets[0].ID != won[0].FactorID {
		t.Fatalf("sets after concurrent enrolments: %+v", sets)
	}
	old := won[0]

	won, errs = race(func() (*mfa.Enrollment, error) {
		return e.v.Regenerate(ctx, mfa.ChangeRequest{UserID: "alice", FactorID: old.FactorID, AuthTime: e.clk.Now()})
	})
	if len(won) != 1 {
		t.Fatalf("concurrent regenerations: %d succeeded, want 1 (errors %v)", len(won), errs)
	}
	for _, err := range errs {
		if !errors.Is(err, mfa.ErrNotFound) {
			t.Fatalf("losing regeneration: %v, want ErrNotFound", err)
		}
	}
	if sets := activeSets(e); len(sets) != 1 || sets[0].ID != won[0].FactorID {
		t.Fatalf("sets after concurrent regenerations: %+v", sets)
	}
	// The winner's codes work, by kind alone; the old ones do not.
	newCodes, oldCodes := won[0].Show.(*backupcodes.Codes).List, old.Show.(*backupcodes.Codes).List
	if _, err := e.v.Verify(ctx, mfa.VerifyRequest{UserID: "alice", Kind: mfa.KindBackupCodes, Response: oldCodes[0]}); err == nil {
		t.Fatal("a code of the replaced set was accepted")
	}
	if _, err := e.v.Verify(ctx, mfa.VerifyRequest{UserID: "alice", Kind: mfa.KindBackupCodes, Response: newCodes[0]}); err != nil {
		t.Fatalf("a code of the new set: %v", err)
	}
}

// TestHookRefusalTakesBackTheFactor: when a hook fails after a factor was
// stored, the call fails and the factor is gone, so no active set exists
// whose codes nobody received (it would also block a new set).
func TestHookRefusalTakesBackTheFactor(t *testing.T) {
	ctx := context.Background()
	var refuse sync.Map // event types the hook refuses
	e := newCodesEnv(t, func(c *mfa.Config) {
		c.Hooks = append(c.Hooks, func(_ context.Context, ev mfa.Event) error {
			if _, ok := refuse.Load(ev.Type); ok {
				return errors.New("audit sink down")
			}
			return nil
		})
	})
	noFactors := func(what string) {
		t.Helper()
		if list, err := e.st.ListFactors(ctx, "alice"); err != nil || len(list) != 0 {
			t.Fatalf("%s: factors %+v, %v; want none", what, list, err)
		}
	}

	refuse.Store(mfa.EventEnrollConfirmed, true)
	if _, err := e.v.BeginEnrollment(ctx, mfa.EnrollRequest{UserID: "alice", Kind: mfa.KindBackupCodes}); !errors.Is(err, mfa.ErrDenied) {
		t.Fatalf("backup codes with a refusing hook: %v, want ErrDenied", err)
	}
	noFactors("backup codes refused")
	refuse.Delete(mfa.EventEnrollConfirmed)

	refuse.Store(mfa.EventEnrollBegun, true)
	if _, err := e.v.BeginEnrollment(ctx, mfa.EnrollRequest{UserID: "alice", Kind: mfa.KindTOTP}); !errors.Is(err, mfa.ErrDenied) {
		t.Fatalf("TOTP with a refusing hook: %v, want ErrDenied", err)
	}
	noFactors("TOTP refused")
	refuse.Delete(mfa.EventEnrollBegun)

	en, err := e.v.BeginEnrollment(ctx, mfa.EnrollRequest{UserID: "alice", Kind: mfa.KindBackupCodes})
	if err != nil {
		t.Fatal(err)
	}
	refuse.Store(mfa.EventCodesRegenerated, true)
	if _, err := e.v.Regenerate(ctx, mfa.ChangeRequest{UserID: "alice", FactorID: en.FactorID, AuthTime: e.clk.Now()}); !errors.Is(err, mfa.ErrDenied) {
		t.Fatalf("regenerate with a refusing hook: %v, want ErrDenied", err)
	}
	// The user asked for the old codes to end, and they did; the new set
	// nobody saw is gone too, so a new enrolment is possible.
	noFactors("regeneration refused")
	refuse.Delete(mfa.EventCodesRegenerated)
	if _, err := e.v.BeginEnrollment(ctx, mfa.EnrollRequest{UserID: "alice", Kind: mfa.KindBackupCodes, AuthTime: e.clk.Now()}); err != nil {
		t.Fatalf("a new set after the refused regeneration: %v", err)
	}
}

// confirmingStore runs before, when set, at the next DeletePendingFactor:
// the moment between RemoveFactor's read and its delete. Not for
// concurrent use.
type confirmingStore struct {
	mfa.Store
	before func()
}

func (s *confirmingStore) DeletePendingFactor(ctx context.Context, userID, id string) error {
	if f := s.before; f != nil {
		s.before = nil
		f()
	}
	return s.Store.DeletePendingFactor(ctx, userID, id)
}

// TestRemovePendingFactorWithoutStepUp: a pending factor goes without a
// fresh verification, an active one does not, and neither does a pending
// one the user confirms while RemoveFactor runs. Otherwise whoever held
// only the password could delete the user's just-confirmed first factor
// and be back at an account where enrolment needs no step-up.
func TestRemovePendingFactorWithoutStepUp(t *testing.T) {
	ctx := context.Background()
	st := &confirmingStore{}
	e := newEnv(t, func(c *mfa.Config) {
		st.Store = c.Store
		c.Store = st
	})
	status := func(user, id string) store.Status {
		t.Helper()
		f, err := e.st.GetFactor(ctx, user, id)
		if errors.Is(err, store.ErrNotFound) {
			return ""
		}
		if err != nil {
			t.Fatal(err)
		}
		return f.Status
	}

	t.Run("pending", func(t *testing.T) {
		en, err := e.v.BeginEnrollment(ctx, mfa.EnrollRequest{UserID: "alice", Kind: mfa.KindTOTP})
		if err != nil {
			t.Fatal(err)
		}
		e.resetEvents()
		if err := e.v.RemoveFactor(ctx, mfa.ChangeRequest{UserID: "alice", FactorID: en.FactorID}); err != nil {
			t.Fatalf("remove pending without AuthTime: %v", err)
		}
		if s := status("alice", en.FactorID); s != "" {
			t.Fatalf("pending factor after removal: status %q, want gone", s)
		}
		if got := e.eventTypes(); !slices.Equal(got, []mfa.EventType{mfa.EventFactorRemoved}) {
			t.Fatalf("events = %v", got)
		}
	})

	t.Run("active", func(t *testing.T) {
		fid, _ := e.enrollTOTP(t, "bob")
		if err := e.v.RemoveFactor(ctx, mfa.ChangeRequest{UserID: "bob", FactorID: fid}); !errors.Is(err, mfa.ErrStepUpRequired) {
			t.Fatalf("remove active without AuthTime: %v, want ErrStepUpRequired", err)
		}
		if s := status("bob", fid); s != store.StatusActive {
			t.Fatalf("active factor after refused removal: status %q", s)
		}
	})

	t.Run("confirmed meanwhile", func(t *testing.T) {
		en, err := e.v.BeginEnrollment(ctx, mfa.EnrollRequest{UserID: "carol", Kind: mfa.KindTOTP, Account: "carol"})
		if err != nil {
			t.Fatal(err)
		}
		code := e.code(t, en.Show.(*totp.Setup).Secret, 0)
		var confirmErr error
		st.before = func() {
			_, confirmErr = e.v.ConfirmEnrollment(ctx, mfa.ConfirmRequest{UserID: "carol", FactorID: en.FactorID, Response: code})
		}
		e.resetEvents()
		if err := e.v.RemoveFactor(ctx, mfa.ChangeRequest{UserID: "carol", FactorID: en.FactorID}); !errors.Is(err, mfa.ErrStepUpRequired) {
			t.Fatalf("remove a factor confirmed after it was read: %v, want ErrStepUpRequired", err)
		}
		if confirmErr != nil {
			t.Fatalf("the confirmation between read and delete: %v", confirmErr)
		}
		if s := status("carol", en.FactorID); s != store.StatusActive {
			t.Fatalf("factor confirmed during removal: status %q, want active", s)
		}
		if got := e.eventTypes(); slices.Contains(got, mfa.EventFactorRemoved) {
			t.Fatalf("events = %v; no removal expected", got)
		}
	})
}
