package recovery

import (
	"context"
	"errors"

	"github.com/mfakit/mfa"
)

// redeemed returns the user's redeemed case whose enrolment window is
// still open.
func (m *Manager) redeemed(ctx context.Context, userID string) (Case, error) {
	cases, err := m.Cases(ctx, userID)
	if err != nil {
		return Case{}, err
	}
	now := m.now()
	for i := len(cases) - 1; i >= 0; i-- {
		if c := cases[i]; c.State == Redeemed {
			if !now.Before(c.Expires) {
				return Case{}, ErrExpired
			}
			return c, nil
		}
	}
	return Case{}, ErrState
}

// BeginEnrollment begins the enrolment of the new factor in a recovery
// session: the user's redeemed grant stands in for the fresh verification
// the Verifier asks for when a user already has factors. Without a
// redeemed grant inside its window it fails (ErrState, ErrExpired) and
// begins nothing.
func (m *Manager) BeginEnrollment(ctx context.Context, req mfa.EnrollRequest) (*mfa.Enrollment, error) {
	if err := checkID("a user ID", req.UserID); err != nil {
		return nil, err
	}
	c, err := m.redeemed(ctx, req.UserID)
	if err != nil {
		return nil, err
	}
	req.AuthTime = c.Updated
	return m.v.BeginEnrollment(ctx, req)
}

// ConfirmEnrollment confirms the new factor and completes the case, once:
// of two confirmations under one grant (two enrolments begun, two
// instances) one completes the case and the other's factor is removed
// again (ErrState). Unless Config.KeepOldFactors, the user's other
// factors are removed: they were declared lost. The recovery session
// should end here; the user signs in with the new factor.
func (m *Manager) ConfirmEnrollment(ctx context.Context, req mfa.ConfirmRequest) (*mfa.Result, error) {
	if err := checkID("a user ID", req.UserID); err != nil {
		return nil, err
	}
	c, err := m.redeemed(ctx, req.UserID)
	if err != nil {
		return nil, err
	}
	req.AuthTime = c.Updated
	res, err := m.v.ConfirmEnrollment(ctx, req)
	if err != nil {
		return nil, err
	}
	drop := func(id string) error {
		err := m.v.RemoveFactor(ctx, mfa.ChangeRequest{UserID: c.UserID, FactorID: id, AuthTime: c.Updated})
		if errors.Is(err, mfa.ErrNotFound) {
			return nil
		}
		return err
	}
	out, err := m.move(ctx, c, Redeemed, Completed, Action{Type: EventCompleted, Actor: c.UserID, Note: "factor " + res.FactorID}, noTime, noTime)
	if err != nil {
		return nil, errors.Join(err, drop(res.FactorID))
	}
	if !m.keepOld {
		list, err := m.v.Factors(ctx, c.UserID)
		if err != nil {
			return nil, err
		}
		for _, f := range list {
			if f.ID != res.FactorID {
				if err := drop(f.ID); err != nil {
					return nil, err
				}
			}
		}
	}
	if err := m.emit(ctx, Event{Type: EventCompleted, Time: out.Updated, CaseID: c.ID, UserID: c.UserID, Actor: c.UserID}); err != nil {
		return nil, err
	}
	return res, nil
}
