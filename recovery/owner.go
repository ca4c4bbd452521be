package recovery

import (
	"context"
	"errors"
	"time"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/store"
)

// hasFactors refuses a user without an active factor.
func (m *Manager) hasFactors(ctx context.Context, userID string) error {
	list, err := m.store.ListFactors(ctx, userID)
	if err != nil {
		return wrap(ErrStore, err)
	}
	for _, f := range list {
		if f.Status == store.StatusActive {
			return nil
		}
	}
	return ErrNoFactors
}

// ownerBack reports whether a factor of the user was used after since.
func (m *Manager) ownerBack(ctx context.Context, userID string, since time.Time) (bool, error) {
	list, err := m.store.ListFactors(ctx, userID)
	if err != nil {
		return false, wrap(ErrStore, err)
	}
	for _, f := range list {
		if f.Status == store.StatusActive && f.LastUsed.After(since) {
			return true, nil
		}
	}
	return false, nil
}

// Cancel withdraws an open case (pending or approved): the requester
// changed their mind, or an operator closes it. actor is who did it.
func (m *Manager) Cancel(ctx context.Context, caseID, actor, note string) (Case, error) {
	if err := checkText(maxText, actor, note); err != nil {
		return Case{}, err
	}
	c, _, err := m.get(ctx, caseID)
	if err != nil {
		return Case{}, err
	}
	if !c.State.Open() {
		return Case{}, ErrState
	}
	return m.cancel(ctx, c, actor, note)
}

func (m *Manager) cancel(ctx context.Context, c Case, actor, note string) (Case, error) {
	out, err := m.move(ctx, c, c.State, Cancelled, Action{Type: EventCancelled, Actor: actor, Note: note}, time.Time{}, time.Time{})
	if err != nil {
		return Case{}, err
	}
	return out, m.emit(ctx, Event{Type: EventCancelled, Time: out.Updated, CaseID: c.ID, UserID: c.UserID, Actor: actor})
}

// OwnerReturned cancels every open case of a user: the owner has just
// signed in with one of their factors. It returns how many it cancelled.
func (m *Manager) OwnerReturned(ctx context.Context, userID string) (int, error) {
	cases, err := m.Cases(ctx, userID)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, c := range cases {
		if !c.State.Open() {
			continue
		}
		_, err := m.cancel(ctx, c, ActorOwner, "the owner signed in")
		switch {
		case err == nil:
			n++
		case !errors.Is(err, ErrState): // ErrState: closed meanwhile
			return n, err
		}
	}
	return n, nil
}

// Hook returns an mfa.Hook for mfa.Config.Hooks that cancels the user's
// open cases on every successful verification (EventVerifySucceeded).
// It costs one store call per successful sign-in (two when a case is
// open); without it the owner's return is still seen, from the factors'
// last use, when a case is approved or redeemed. An error denies the
// sign-in (fail closed).
func (m *Manager) Hook() mfa.Hook {
	return func(ctx context.Context, e mfa.Event) error {
		if e.Type != mfa.EventVerifySucceeded || e.UserID == "" {
			return nil
		}
		_, err := m.OwnerReturned(ctx, e.UserID)
		return err
	}
}
