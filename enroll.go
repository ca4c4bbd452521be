package mfa

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mfakit/mfa/factor"
	"github.com/mfakit/mfa/store"
)

// EnrollRequest begins enrolment of a new factor.
type EnrollRequest struct {
	UserID string
	Kind   Kind
	// Name is shown in the user's factor list, e.g. "Phone" (at most 256
	// bytes).
	Name string
	// Account is the user's name as an authenticator app shows it.
	// Default: UserID.
	Account string
	// Destination is where a sending kind (email, SMS codes) delivers
	// codes: an email address, a phone number. The kind parses it and a
	// code is sent to it at once; the factor is active once that code is
	// confirmed. At most 256 bytes, no control characters.
	Destination string
	// IP is the client's address, for the issuance caps of a kind that
	// sends a code at enrolment. Optional.
	IP string
	// AuthTime is when the user last passed a second factor (from a
	// [Result] or a session's auth_time). A user who already has an active
	// factor must have passed one within Config.FreshFor to add another; a
	// user with none needs nothing here.
	AuthTime time.Time
}

// Enrollment is a begun enrolment.
type Enrollment struct {
	FactorID string
	Kind     Kind
	// ChallengeID names the enrolment challenge of kinds that register
	// (a [factor.Registrar]); pass it
	// to ConfirmEnrollment.
	ChallengeID string
	// Active reports the factor is usable at once (backup codes).
	Active  bool
	Expires time.Time
	// Show is for the user, once: *totp.Setup, *backupcodes.Codes, WebAuthn
	// creation options.
	Show any
}

// BeginEnrollment starts enrolling a factor of req.Kind. For TOTP it stores
// a pending factor with a sealed seed and returns the provisioning URI;
// ConfirmEnrollment with a first code activates it. Kinds that need no
// confirmation (backup codes) are active at once.
func (v *Verifier) BeginEnrollment(ctx context.Context, req EnrollRequest) (*Enrollment, error) {
	if req.UserID == "" {
		return nil, fmt.Errorf("%w: a user ID is required", ErrInvalidInput)
	}
	if err := checkIDs(req.UserID, req.Name, req.Account, string(req.Kind), req.Destination, req.IP); err != nil {
		return nil, err
	}
	f, ok := v.factors[req.Kind]
	if !ok {
		return nil, ErrUnsupportedKind
	}
	if err := v.refusedKind(req.Kind); err != nil {
		return nil, err
	}
	if req.Account == "" {
		req.Account = req.UserID
	}
	now := v.now()
	list, err := v.store.ListFactors(ctx, req.UserID)
	if err != nil {
		return nil, wrap(ErrStore, err)
	}
	var existing []store.Factor
	hasActive := false
	for _, r := range list {
		hasActive = hasActive || r.Status == store.StatusActive
		if Kind(r.Kind) == req.Kind {
			r.Secret = nil
			existing = append(existing, r)
		}
	}
	if hasActive && !v.fresh(req.AuthTime, now) {
		return nil, ErrStepUpRequired
	}
	id, err := v.newID()
	if err != nil {
		return nil, err
	}
	en, err := f.Enroll(ctx, factor.EnrollInput{
		UserID: req.UserID, FactorID: id, Account: req.Account, Destination: req.Destination,
		Now: now, Rand: v.rand, Hasher: v.hasher, Existing: existing,
	})
	if err != nil {
		return nil, internal(err)
	}
	defer clear(en.Secret)
	if en.OnePerUser {
		// A second backup code set would leave two valid sets and make the
		// kind ambiguous at sign-in. Replacing it is Regenerate's job.
		for _, r := range existing {
			if r.Status == store.StatusActive {
				return nil, fmt.Errorf("%w: the user already has an active %s factor; use Regenerate", ErrInvalidInput, req.Kind)
			}
		}
	}
	out := &Enrollment{FactorID: id, Kind: req.Kind, Show: en.Show}
	if en.Challenge != nil {
		c := store.Challenge{
			ID: id, UserID: req.UserID, Kind: string(req.Kind), Binding: enrollBinding,
			Data: en.Challenge, Created: now, Expires: now.Add(v.challengeTTL),
		}
		if err := v.store.PutChallenge(ctx, c); err != nil {
			return nil, wrap(ErrStore, err)
		}
		out.FactorID, out.ChallengeID, out.Expires = "", id, c.Expires
	} else {
		if err := v.createFactor(ctx, req.UserID, id, req.Kind, req.Name, en, now); err != nil {
			return nil, err
		}
		out.Active = en.Active
		if !en.Active {
			out.Expires = now.Add(v.enrollTTL)
		}
		if en.ConfirmByChallenge && !en.Active {
			if err := v.sendEnrollment(ctx, req, id, en, now, out); err != nil {
				return nil, v.takeBack(ctx, req.UserID, id, err)
			}
		}
	}
	typ := EventEnrollBegun
	if en.Active {
		typ = EventEnrollConfirmed
	}
	if err := v.emit(ctx, Event{Type: typ, Time: now, UserID: req.UserID, FactorID: out.FactorID, Kind: req.Kind, Remaining: -1}); err != nil {
		// Nobody will see this seed or these codes: take the factor back,
		// rather than leave an active set no one holds that blocks a new one.
		if out.FactorID != "" {
			err = v.takeBack(ctx, req.UserID, out.FactorID, err)
		}
		return nil, err
	}
	return out, nil
}

// takeBack deletes a factor stored by a call that is about to fail with
// err, because a hook refused it, so no factor exists whose secret or
// codes were never handed to anyone.
func (v *Verifier) takeBack(ctx context.Context, userID, factorID string, err error) error {
	if derr := v.store.DeleteFactor(ctx, userID, factorID); derr != nil && !errors.Is(derr, store.ErrNotFound) {
		return errors.Join(err, wrap(ErrStore, derr))
	}
	return err
}

// sendEnrollment issues the challenge that confirms a new pending factor
// (a code sent to the new destination), counted against the same caps as
// a sign-in's, and puts its ID and Show into out.
func (v *Verifier) sendEnrollment(ctx context.Context, req EnrollRequest, id string, en factor.Enrolled, now time.Time, out *Enrollment) error {
	if !v.confirmsByChallenge(req.Kind) {
		return fmt.Errorf("%w: kind %q cannot confirm by a challenge", ErrInternal, req.Kind)
	}
	rec, err := v.store.GetFactor(ctx, req.UserID, id)
	if err != nil {
		return wrap(ErrStore, err)
	}
	ev := Event{Time: now, UserID: req.UserID, FactorID: id, Kind: req.Kind, IP: req.IP, Remaining: -1}
	base, _ := v.issueCounters(req.UserID, req.IP, now)
	iss, err := v.makeChallenge(ctx, issuance{
		userID: req.UserID, kind: req.Kind, rec: &rec, secret: en.Secret,
		binding: enrollBinding, enrolling: true, ev: ev, base: base, withBase: true,
	})
	if err != nil {
		return err
	}
	out.ChallengeID = iss.ID
	if out.Show == nil {
		out.Show = iss.Show
	}
	return nil
}

// enrollBinding marks enrolment challenges so they can never be presented
// as sign-in challenges, and the reverse.
const enrollBinding = "mfa/enroll"

func (v *Verifier) createFactor(ctx context.Context, userID, id string, kind Kind, name string, en factor.Enrolled, now time.Time) error {
	rec := store.Factor{
		UserID: userID, ID: id, Kind: string(kind), Name: name, Status: store.StatusPending,
		Lookup: en.Lookup, Data: en.Data, Counter: en.Counter, Created: now,
	}
	if en.OnePerUser && rec.Lookup == "" {
		// The store keeps Lookup unique per kind, so of two concurrent
		// enrolments (two instances, a double click) exactly one stores a
		// set; checking the user's list first could let both through.
		rec.Lookup = userID
	}
	if en.Active {
		rec.Status, rec.Confirmed = store.StatusActive, now
	}
	if en.Secret != nil {
		sealed, err := v.sealer.Seal(ctx, en.Secret, sealAD(userID, id))
		if err != nil {
			return wrap(ErrSealed, err)
		}
		rec.Secret = sealed
	}
	if err := v.store.CreateFactor(ctx, rec); err != nil {
		if errors.Is(err, store.ErrExists) && en.OnePerUser {
			return fmt.Errorf("%w: the user already has a %s factor; use Regenerate: %w", ErrInvalidInput, kind, err)
		}
		if errors.Is(err, store.ErrExists) {
			return fmt.Errorf("%w: factor already registered: %w", ErrInvalidInput, err)
		}
		return wrap(ErrStore, err)
	}
	return nil
}
