package recovery

import (
	"context"
	"fmt"

	"github.com/mfakit/mfa"
)

// Operator is who acts in the admin API, as the application's session
// says: their user ID and the level their session reached.
type Operator struct {
	ID  string
	AAL mfa.AAL
}

// Admin is the HTTP-free core of the operators' API: every action checks
// that the operator's session is at AAL2 or better and is audited with
// the operator as actor. The application decides who is an operator
// before calling it.
type Admin struct{ m *Manager }

// Admin returns the operators' API of m.
func (m *Manager) Admin() *Admin { return &Admin{m: m} }

func (a *Admin) check(op Operator) error {
	if err := checkID("an operator", op.ID); err != nil {
		return err
	}
	if op.AAL < mfa.AAL2 {
		return fmt.Errorf("%w: the operator's session is below AAL2", ErrForbidden)
	}
	return nil
}

// Approve is [Manager.Approve] for an operator.
func (a *Admin) Approve(ctx context.Context, op Operator, caseID, note string) (Case, error) {
	if err := a.check(op); err != nil {
		return Case{}, err
	}
	return a.m.Approve(ctx, Decision{CaseID: caseID, Operator: op.ID, Note: note})
}

// Deny is [Manager.Deny] for an operator.
func (a *Admin) Deny(ctx context.Context, op Operator, caseID, note string) (Case, error) {
	if err := a.check(op); err != nil {
		return Case{}, err
	}
	return a.m.Deny(ctx, Decision{CaseID: caseID, Operator: op.ID, Note: note})
}

// Queue is [Manager.Queue] for an operator.
func (a *Admin) Queue(ctx context.Context, op Operator, limit int) ([]Case, error) {
	if err := a.check(op); err != nil {
		return nil, err
	}
	return a.m.Queue(ctx, limit)
}

// Lockout reads a user's failure counter ([mfa.Verifier.Lockout]).
func (a *Admin) Lockout(ctx context.Context, op Operator, userID string) (mfa.Lockout, error) {
	if err := a.check(op); err != nil {
		return mfa.Lockout{}, err
	}
	return a.m.v.Lockout(ctx, userID)
}

// Unlock clears a user's lockout ([mfa.Verifier.Unlock]) and emits
// EventUnlocked with the operator as actor.
func (a *Admin) Unlock(ctx context.Context, op Operator, userID string) error {
	if err := a.check(op); err != nil {
		return err
	}
	if err := a.m.v.Unlock(ctx, userID); err != nil {
		return err
	}
	return a.m.emit(ctx, Event{Type: EventUnlocked, Time: a.m.now(), UserID: userID, Actor: op.ID})
}

// RegenerateCodes replaces a user's backup codes ([mfa.Verifier.Regenerate],
// the operator's review standing in for the user's fresh verification)
// and emits EventCodesRegenerated with the operator as actor. Hand the
// returned codes to the user through a channel on file, never to the
// operator's screen.
func (a *Admin) RegenerateCodes(ctx context.Context, op Operator, userID string) (*mfa.Enrollment, error) {
	if err := a.check(op); err != nil {
		return nil, err
	}
	if op.ID == userID {
		return nil, fmt.Errorf("%w: nobody acts on their own account here", ErrForbidden)
	}
	list, err := a.m.v.Factors(ctx, userID)
	if err != nil {
		return nil, err
	}
	for _, f := range list {
		if f.Kind == mfa.KindBackupCodes && f.Active {
			en, err := a.m.v.Regenerate(ctx, mfa.ChangeRequest{UserID: userID, FactorID: f.ID, AuthTime: a.m.now()})
			if err != nil {
				return nil, err
			}
			return en, a.m.emit(ctx, Event{Type: EventCodesRegenerated, Time: a.m.now(), UserID: userID, Actor: op.ID})
		}
	}
	return nil, fmt.Errorf("%w: the user has no backup codes", mfa.ErrNotEnrolled)
}
