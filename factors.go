package mfa

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mfakit/mfa/factor"
	"github.com/mfakit/mfa/store"
)

// FactorInfo describes an enrolled factor, without its secret.
type FactorInfo struct {
	ID        string
	Kind      Kind
	Name      string
	Active    bool
	Created   time.Time
	Confirmed time.Time
	LastUsed  time.Time
	// Remaining is the number of unused backup codes; -1 for other kinds.
	Remaining int
}

// Factors lists a user's factors, pending ones included.
func (v *Verifier) Factors(ctx context.Context, userID string) ([]FactorInfo, error) {
	if userID == "" {
		return nil, fmt.Errorf("%w: a user ID is required", ErrInvalidInput)
	}
	if err := checkIDs(userID); err != nil {
		return nil, err
	}
	list, err := v.store.ListFactors(ctx, userID)
	if err != nil {
		return nil, wrap(ErrStore, err)
	}
	out := make([]FactorInfo, 0, len(list))
	for _, f := range list {
		info := FactorInfo{
			ID: f.ID, Kind: Kind(f.Kind), Name: f.Name, Active: f.Status == store.StatusActive,
			Created: f.Created, Confirmed: f.Confirmed, LastUsed: f.LastUsed, Remaining: -1,
		}
		if r, ok := v.factors[info.Kind].(factor.Remainer); ok {
			info.Remaining = r.Remaining(f)
		}
		out = append(out, info)
	}
	return out, nil
}

// ChangeRequest names a factor to remove or regenerate.
type ChangeRequest struct {
	UserID   string
	FactorID string
	// AuthTime is when the user last passed a second factor (from a
	// [Result] or a session's auth_time); it must be within
	// Config.FreshFor. Removing a pending factor needs none.
	AuthTime time.Time
}

// RemoveFactor deletes a factor. It takes effect at once: the next
// verification of it fails with ErrNotFound. It emits EventFactorRemoved;
// sessions are ended by a hook that acts on it, such as
// session.Manager.RevokeOnFactorChange.
//
// An active factor needs a fresh AuthTime, else ErrStepUpRequired. A
// pending one is removed without it, and then only while it is still
// pending: if the user confirms the enrolment while the call runs, the
// store refuses the delete and the call fails with ErrStepUpRequired,
// leaving the now active factor in place.
func (v *Verifier) RemoveFactor(ctx context.Context, req ChangeRequest) error {
	if req.UserID == "" || req.FactorID == "" {
		return fmt.Errorf("%w: user and factor IDs are required", ErrInvalidInput)
	}
	if err := checkIDs(req.UserID, req.FactorID); err != nil {
		return err
	}
	now := v.now()
	rec, err := v.store.GetFactor(ctx, req.UserID, req.FactorID)
	if errors.Is(err, store.ErrNotFound) {
		return ErrNotFound
	}
	if err != nil {
		return wrap(ErrStore, err)
	}
	del := v.store.DeleteFactor
	if !v.fresh(req.AuthTime, now) {
		if rec.Status != store.StatusPending {
			return ErrStepUpRequired
		}
		// Without a step-up only a pending factor may go, and the read
		// above may be stale: the store checks the status as it deletes.
		del = v.store.DeletePendingFactor
	}
	if err := del(ctx, req.UserID, req.FactorID); err != nil {
		switch {
		case errors.Is(err, store.ErrNotFound):
			return ErrNotFound
		case errors.Is(err, store.ErrConflict):
			return ErrStepUpRequired // confirmed since it was read
		}
		return wrap(ErrStore, err)
	}
	return v.emit(ctx, Event{Type: EventFactorRemoved, Time: now, UserID: req.UserID, FactorID: req.FactorID, Kind: Kind(rec.Kind), Remaining: -1})
}

// Regenerate replaces a set of backup codes (or any kind active at
// enrolment) with a new set under a new factor ID; the old set stops
// working at once. It needs a fresh verification and emits
// EventCodesRegenerated. Of concurrent calls for one set, one succeeds and
// the others fail with ErrNotFound. The old set is deleted first: if the
// new one then cannot be stored, or a hook refuses it, the call fails and
// the user has no set, which BeginEnrollment can make.
func (v *Verifier) Regenerate(ctx context.Context, req ChangeRequest) (*Enrollment, error) {
	if req.UserID == "" || req.FactorID == "" {
		return nil, fmt.Errorf("%w: user and factor IDs are required", ErrInvalidInput)
	}
	if err := checkIDs(req.UserID, req.FactorID); err != nil {
		return nil, err
	}
	now := v.now()
	if !v.fresh(req.AuthTime, now) {
		return nil, ErrStepUpRequired
	}
	old, err := v.store.GetFactor(ctx, req.UserID, req.FactorID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, wrap(ErrStore, err)
	}
	f, ok := v.factors[Kind(old.Kind)]
	if !ok {
		return nil, ErrUnsupportedKind
	}
	id, err := v.newID()
	if err != nil {
		return nil, err
	}
	en, err := f.Enroll(ctx, factor.EnrollInput{UserID: req.UserID, FactorID: id, Account: req.UserID, Now: now, Rand: v.rand, Hasher: v.hasher})
	if err != nil {
		return nil, internal(err)
	}
	defer clear(en.Secret)
	if !en.Active || en.Challenge != nil {
		return nil, fmt.Errorf("%w: kind %q cannot be regenerated; enrol a new factor", ErrUnsupportedKind, old.Kind)
	}
	// The old set goes first. Of concurrent regenerations only the one
	// that deletes it goes on, so the user never holds two sets; if the
	// new set then cannot be stored, the user has none and BeginEnrollment
	// makes one (the fresh verification still counts).
	if err := v.store.DeleteFactor(ctx, req.UserID, req.FactorID); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("%w: the factor was replaced or removed meanwhile", ErrNotFound)
		}
		return nil, wrap(ErrStore, err)
	}
	if err := v.createFactor(ctx, req.UserID, id, Kind(old.Kind), old.Name, en, now); err != nil {
		return nil, err
	}
	ev := Event{Type: EventCodesRegenerated, Time: now, UserID: req.UserID, FactorID: id, Kind: Kind(old.Kind), Remaining: -1}
	if err := v.emit(ctx, ev); err != nil {
		return nil, v.takeBack(ctx, req.UserID, id, err)
	}
	return &Enrollment{FactorID: id, Kind: Kind(old.Kind), Active: true, Show: en.Show}, nil
}
