package recovery

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mfakit/mfa"
)

// Decision is an operator's review of one case.
type Decision struct {
	CaseID string
	// Operator is the reviewer's user ID. Required; an operator cannot
	// decide their own case.
	Operator string
	Note     string
}

func (m *Manager) decision(ctx context.Context, d Decision) (Case, error) {
	if err := checkID("an operator", d.Operator); err != nil {
		return Case{}, err
	}
	if err := checkText(maxText, d.Note); err != nil {
		return Case{}, err
	}
	c, _, err := m.get(ctx, d.CaseID)
	if err != nil {
		return Case{}, err
	}
	if c.UserID == d.Operator {
		return Case{}, fmt.Errorf("%w: nobody reviews their own case", ErrForbidden)
	}
	if c.State != Pending {
		return Case{}, ErrState
	}
	return c, nil
}

// Approve approves a pending case. The approval takes effect when the
// waiting period since the case was opened has passed (Case.NotBefore);
// the grant can then be redeemed until Case.Expires. A case whose review
// came too late (past its PendingTTL), or whose owner has used a factor
// since it was opened, is not approved: the first is ErrExpired, the
// second cancels the case and is ErrOwnerActive. Of concurrent decisions
// on one case exactly one succeeds; the others get ErrState.
func (m *Manager) Approve(ctx context.Context, d Decision) (Case, error) {
	c, err := m.decision(ctx, d)
	if err != nil {
		return Case{}, err
	}
	return m.approve(ctx, c, d.Operator, d.Note)
}

func (m *Manager) approve(ctx context.Context, c Case, actor, note string) (Case, error) {
	now := m.now()
	if !now.Before(c.Expires) {
		return Case{}, ErrExpired
	}
	if err := m.checkOwner(ctx, c); err != nil {
		return Case{}, err
	}
	from := c.Created.Add(m.wait)
	if now.After(from) {
		from = now
	}
	out, err := m.move(ctx, c, Pending, Approved, Action{Type: EventApproved, Actor: actor, Note: note}, from, from.Add(m.grantTTL))
	if err != nil {
		return Case{}, err
	}
	if err := m.emit(ctx, Event{Type: EventApproved, Time: out.Updated, CaseID: c.ID, UserID: c.UserID, Actor: actor}); err != nil {
		// An approval that was not audited, or not told to the user, does
		// not stand.
		return Case{}, errors.Join(err, m.withdraw(ctx, out, Approved, "the approval was not delivered"))
	}
	return out, nil
}

// withdraw cancels a case whose last move a hook or the notifier refused.
func (m *Manager) withdraw(ctx context.Context, c Case, from State, note string) error {
	_, err := m.move(ctx, c, from, Cancelled, Action{Type: EventCancelled, Actor: ActorAuto, Note: note}, noTime, noTime)
	return err
}

// checkOwner cancels c and returns ErrOwnerActive when a factor of the
// user was used after c was opened.
func (m *Manager) checkOwner(ctx context.Context, c Case) error {
	back, err := m.ownerBack(ctx, c.UserID, c.Created)
	if err != nil || !back {
		return err
	}
	if _, err := m.cancel(ctx, c, ActorOwner, "a factor was used after the case was opened"); err != nil && !errors.Is(err, ErrState) {
		return errors.Join(ErrOwnerActive, err)
	}
	return ErrOwnerActive
}

// Deny refuses a pending case. Of concurrent decisions on one case
// exactly one succeeds; the others get ErrState.
func (m *Manager) Deny(ctx context.Context, d Decision) (Case, error) {
	c, err := m.decision(ctx, d)
	if err != nil {
		return Case{}, err
	}
	out, err := m.move(ctx, c, Pending, Denied, Action{Type: EventDenied, Actor: d.Operator, Note: d.Note}, time.Time{}, time.Time{})
	if err != nil {
		return Case{}, err
	}
	return out, m.emit(ctx, Event{Type: EventDenied, Time: out.Updated, CaseID: c.ID, UserID: c.UserID, Actor: d.Operator})
}

// RedeemRequest presents a grant token.
type RedeemRequest struct {
	// UserID is the user the application identified (its own checks, as
	// when the case was opened); the grant must be theirs.
	UserID string
	Token  string
	IP     string
}

// Grant is a redeemed approval: it lets its user enrol one new factor
// before Expires, in a recovery session (see [Grant.Result]).
type Grant struct {
	CaseID  string
	UserID  string
	Time    time.Time // the redemption
	Expires time.Time // the new factor must be confirmed before this
}

// AMR is the RFC 8176-style method reference of a recovery session. It is
// not a registered value: it tells every relying party that the session
// came from a reviewed recovery, not from a factor.
const AMR = "rec"

// Result is what a recovery session starts from (session.Manager.Start):
// AAL1, amr ["rec"], no factor. Routes behind session.MinAAL(mfa.AAL2)
// refuse it, so it reaches only the pages that enrol the new factor.
func (g *Grant) Result() *mfa.Result {
	return &mfa.Result{UserID: g.UserID, Kind: mfa.Kind("recovery"), AMR: []string{AMR}, AAL: mfa.AAL1, Time: g.Time, Remaining: -1}
}

// Redeem uses a grant token, exactly once across every instance: of N
// concurrent redemptions one gets the Grant and the others ErrState. It
// refuses a token that is malformed, wrong or another user's
// (ErrInvalidGrant), a case not approved (ErrState), before its waiting
// period ends (ErrWaiting) or after its grant expired (ErrExpired), and a
// case whose owner used a factor since it was opened (ErrOwnerActive,
// and the case is cancelled). Refusals emit EventRefused and change
// nothing else.
func (m *Manager) Redeem(ctx context.Context, req RedeemRequest) (*Grant, error) {
	g, err := m.redeem(ctx, req)
	if err != nil {
		ev := Event{Type: EventRefused, Time: m.now(), UserID: req.UserID, Actor: req.UserID, IP: req.IP, Reason: reason(err)}
		if g != nil {
			ev.CaseID = g.CaseID
		}
		if herr := m.emit(ctx, ev); herr != nil {
			err = errors.Join(err, herr)
		}
		return nil, err
	}
	return g, nil
}

func (m *Manager) redeem(ctx context.Context, req RedeemRequest) (*Grant, error) {
	if err := checkID("a user ID", req.UserID); err != nil {
		return nil, err
	}
	if err := checkText(maxText, req.IP); err != nil {
		return nil, err
	}
	id, secret, ok := strings.Cut(req.Token, ".")
	if !ok || id == "" || secret == "" || len(req.Token) > 200 {
		return nil, ErrInvalidGrant
	}
	c, rc, err := m.get(ctx, id)
	if errors.Is(err, ErrNotFound) || errors.Is(err, ErrInvalidInput) {
		return nil, ErrInvalidGrant
	}
	if err != nil {
		return nil, err
	}
	ref := &Grant{CaseID: c.ID}
	want := m.tokenHash(id, secret)
	// The user is compared in constant time too, so timing tells nothing
	// about whose case an ID names.
	okUser := subtle.ConstantTimeCompare([]byte(rc.UserID), []byte(req.UserID))
	if subtle.ConstantTimeCompare(rc.Token, want)&okUser != 1 {
		return ref, ErrInvalidGrant
	}
	now := m.now()
	switch {
	case c.State != Approved:
		return ref, ErrState
	case now.Before(c.NotBefore):
		return ref, ErrWaiting
	case !now.Before(c.Expires):
		return ref, ErrExpired
	}
	if err := m.checkOwner(ctx, c); err != nil {
		return ref, err
	}
	out, err := m.move(ctx, c, Approved, Redeemed, Action{Type: EventRedeemed, Actor: req.UserID}, time.Time{}, now.Add(m.enrollWindow))
	if err != nil {
		return ref, err
	}
	g := &Grant{CaseID: c.ID, UserID: c.UserID, Time: out.Updated, Expires: out.Expires}
	if err := m.emit(ctx, Event{Type: EventRedeemed, Time: now, CaseID: c.ID, UserID: c.UserID, Actor: req.UserID, IP: req.IP}); err != nil {
		// The grant is spent and the case closed: no enrolment follows a
		// redemption that was not audited.
		return ref, errors.Join(err, m.withdraw(ctx, out, Redeemed, "the redemption was not audited"))
	}
	return g, nil
}

// reason is the text of the first sentinel of this package err matches.
func reason(err error) string {
	for _, s := range []error{ErrInvalidGrant, ErrState, ErrWaiting, ErrExpired, ErrOwnerActive, ErrInvalidInput, ErrStore, ErrDenied} {
		if errors.Is(err, s) {
			return s.Error()
		}
	}
	return "mfa: recovery: refused"
}
