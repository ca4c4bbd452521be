package mfa

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

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
	// ChallengeID names the enrolment challenge of Registrar kinds; pass it
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
	if err := checkIDs(req.UserID, req.Name, req.Account, string(req.Kind)); err != nil {
		return nil, err
	}
	f, ok := v.factors[req.Kind]
	if !ok {
		return nil, ErrUnsupportedKind
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
	en, err := f.Enroll(ctx, EnrollInput{
		UserID: req.UserID, FactorID: id, Account: req.Account,
		Now: now, Rand: v.rand, Hasher: v.hasher, Existing: existing,
	})
	if err != nil {
		return nil, err
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

// enrollBinding marks enrolment challenges so they can never be presented
// as sign-in challenges, and the reverse.
const enrollBinding = "mfa/enroll"

func (v *Verifier) createFactor(ctx context.Context, userID, id string, kind Kind, name string, en Enrolled, now time.Time) error {
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

// register finishes a Registrar kind's enrolment: the challenge is taken
// (single use), the response checked, and an active factor stored.
func (v *Verifier) register(ctx context.Context, req ConfirmRequest) (*Result, error) {
	if req.UserID == "" {
		return nil, fmt.Errorf("%w: a user ID is required", ErrInvalidInput)
	}
	if err := checkIDs(req.UserID, req.ChallengeID, req.Name, req.IP); err != nil {
		return nil, err
	}
	if len(req.Response) > maxResponseLen {
		return nil, fmt.Errorf("%w: response longer than %d bytes", ErrMalformedResponse, maxResponseLen)
	}
	now := v.now()
	ev := Event{UserID: req.UserID, IP: req.IP, Time: now, Remaining: -1}
	if v.guard != nil {
		if err := v.guard(ctx, Attempt{UserID: req.UserID, IP: req.IP, Confirm: true}); err != nil {
			return nil, v.fail(ctx, ev, wrap(ErrDenied, err))
		}
	}
	cs := v.counters(req.UserID, req.ChallengeID, req.IP)
	hit, err := v.store.Hit(ctx, store.HitRequest{Now: now, Counters: cs})
	if err != nil {
		return nil, v.fail(ctx, ev, wrap(ErrStore, err))
	}
	if !hit.Admitted {
		return nil, v.refuse(ctx, ev, hit)
	}
	c, err := v.takeChallenge(ctx, req.ChallengeID, now)
	if err != nil {
		return nil, v.fail(ctx, ev, err)
	}
	ev.Kind = Kind(c.Kind)
	if c.UserID != req.UserID || c.Binding != enrollBinding {
		return nil, v.fail(ctx, ev, ErrChallengeMismatch)
	}
	if err := v.stillFresh(ctx, req.UserID, c.ID, c.Created, req.AuthTime, now); err != nil {
		return nil, v.fail(ctx, ev, err)
	}
	f, ok := v.factors[ev.Kind]
	r, isReg := f.(Registrar)
	if !ok || !isReg {
		return nil, v.fail(ctx, ev, ErrUnsupportedKind)
	}
	en, err := r.Register(ctx, RegisterInput{
		UserID: req.UserID, FactorID: c.ID, Name: req.Name, Challenge: c,
		Response: req.Response, Now: now, Hasher: v.hasher,
	})
	if err != nil {
		return nil, v.fail(ctx, ev, classify(err))
	}
	en.Active = true
	ev.FactorID = c.ID
	if err := v.createFactor(ctx, req.UserID, c.ID, ev.Kind, req.Name, en, now); err != nil {
		return nil, v.fail(ctx, ev, err)
	}
	// The success clears the user's failures and those counted against the
	// challenge ID, which is now the new factor's ID.
	if err := v.store.Reset(ctx, cs[0].Key, cs[1].Key); err != nil {
		return nil, v.fail(ctx, ev, wrap(ErrStore, err))
	}
	ev.Type = EventEnrollConfirmed
	if err := v.emit(ctx, ev); err != nil {
		return nil, v.takeBack(ctx, req.UserID, c.ID, err)
	}
	return &Result{UserID: req.UserID, FactorID: c.ID, Kind: ev.Kind, AMR: slices.Clone(en.AMR), AAL: en.AAL, Time: now, Remaining: -1}, nil
}

func (v *Verifier) fresh(authTime, now time.Time) bool {
	return !authTime.IsZero() && !authTime.After(now) && now.Sub(authTime) <= v.freshFor
}

// stillFresh checks, when an enrolment begun at begun is confirmed, the
// rule BeginEnrollment applied: adding a factor to a user who has an
// active one needs a fresh verification. BeginEnrollment asked for none
// when the user had no active factor; if one was activated since, the
// confirmation needs an AuthTime within FreshFor. Otherwise whoever held
// only the password could begin an enrolment before the user's first one
// and confirm it after, adding their own factor to a protected account.
func (v *Verifier) stillFresh(ctx context.Context, userID, factorID string, begun, authTime, now time.Time) error {
	if v.fresh(authTime, now) {
		return nil
	}
	list, err := v.store.ListFactors(ctx, userID)
	if err != nil {
		return wrap(ErrStore, err)
	}
	for _, r := range list {
		// Times are the Verifier's clock as the store keeps them (to the
		// microsecond or millisecond); two requests of one user do not
		// share an instant outside tests with a frozen clock.
		if r.ID != factorID && r.Status == store.StatusActive && r.Confirmed.After(begun) {
			return ErrStepUpRequired
		}
	}
	return nil
}

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
		if r, ok := v.factors[info.Kind].(Remainer); ok {
			info.Remaining = r.Remaining(f)
		}
		out = append(out, info)
	}
	return out, nil
}

// RemoveRequest removes a factor.
type RemoveRequest struct {
	UserID   string
	FactorID string
	// AuthTime is when the user last passed a second factor; removing an
	// active factor requires it within Config.FreshFor. A pending factor
	// can be removed without it.
	AuthTime time.Time
}

// RemoveFactor deletes a factor. It takes effect at once: the next
// verification of it fails with ErrNotFound. Sessions are not touched; the
// session package revokes them on the EventFactorRemoved event if asked.
//
// An active factor needs a fresh AuthTime, else ErrStepUpRequired. A
// pending one is removed without it, and then only while it is still
// pending: if the user confirms the enrolment while the call runs, the
// store refuses the delete and the call fails with ErrStepUpRequired,
// leaving the now active factor in place.
func (v *Verifier) RemoveFactor(ctx context.Context, req RemoveRequest) error {
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

// RegenerateRequest replaces a factor that is active at enrolment (a
// backup code set) with a new one.
type RegenerateRequest struct {
	UserID   string
	FactorID string
	// AuthTime must be within Config.FreshFor.
	AuthTime time.Time
}

// Regenerate replaces a set of backup codes (or any kind active at
// enrolment) with a new set under a new factor ID; the old set stops
// working at once. It needs a fresh verification and emits
// EventCodesRegenerated. Of concurrent calls for one set, one succeeds and
// the others fail with ErrNotFound. The old set is deleted first: if the
// new one then cannot be stored, or a hook refuses it, the call fails and
// the user has no set, which BeginEnrollment can make.
func (v *Verifier) Regenerate(ctx context.Context, req RegenerateRequest) (*Enrollment, error) {
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
	en, err := f.Enroll(ctx, EnrollInput{UserID: req.UserID, FactorID: id, Account: req.UserID, Now: now, Rand: v.rand, Hasher: v.hasher})
	if err != nil {
		return nil, err
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

// ChallengeRequest asks for a challenge.
type ChallengeRequest struct {
	// UserID may be empty for a user-less challenge (passkey sign-in).
	UserID   string
	FactorID string // optional: a challenge for one factor
	Kind     Kind   // required when FactorID is empty
	// Binding ties the challenge to the sign-in attempt (e.g. the pending
	// token's ID); Verify must present the same.
	Binding string
	IP      string
}

// IssuedChallenge is a stored challenge.
type IssuedChallenge struct {
	ID      string
	Kind    Kind
	Expires time.Time
	// Show is for the client: assertion options, the number to match.
	Show any
}

// Challenge issues a challenge for kinds that need one, stored with a TTL
// and bound to user, factor and binding. Kinds without challenges (TOTP,
// backup codes) return ErrUnsupportedKind.
func (v *Verifier) Challenge(ctx context.Context, req ChallengeRequest) (*IssuedChallenge, error) {
	if err := checkIDs(req.UserID, req.FactorID, req.Binding, req.IP, string(req.Kind)); err != nil {
		return nil, err
	}
	if req.Binding == enrollBinding {
		return nil, fmt.Errorf("%w: reserved binding", ErrInvalidInput)
	}
	now := v.now()
	kind := req.Kind
	var rec *store.Factor
	var secret []byte
	if req.FactorID != "" {
		if req.UserID == "" {
			return nil, fmt.Errorf("%w: a user ID is required with a factor ID", ErrInvalidInput)
		}
		r, err := v.store.GetFactor(ctx, req.UserID, req.FactorID)
		if errors.Is(err, store.ErrNotFound) {
			return nil, ErrNotFound
		}
		if err != nil {
			return nil, wrap(ErrStore, err)
		}
		if r.Status != store.StatusActive {
			return nil, ErrNotEnrolled
		}
		if kind != "" && Kind(r.Kind) != kind {
			return nil, ErrNotFound
		}
		kind, rec = Kind(r.Kind), &r
		var err2 error
		if secret, _, err2 = v.open(ctx, r); err2 != nil {
			return nil, err2
		}
		defer clear(secret)
	}
	f, ok := v.factors[kind]
	if !ok {
		return nil, ErrUnsupportedKind
	}
	c, ok := f.(Challenger)
	if !ok {
		return nil, fmt.Errorf("%w: kind %q takes no challenge", ErrUnsupportedKind, kind)
	}
	var existing []store.Factor
	if rec == nil && req.UserID != "" {
		list, err := v.store.ListFactors(ctx, req.UserID)
		if err != nil {
			return nil, wrap(ErrStore, err)
		}
		for _, r := range list {
			if Kind(r.Kind) == kind && r.Status == store.StatusActive {
				r.Secret = nil
				existing = append(existing, r)
			}
		}
	}
	iss, err := c.Challenge(ctx, ChallengeInput{UserID: req.UserID, Factor: rec, Secret: secret, Existing: existing, Now: now, Rand: v.rand, Hasher: v.hasher})
	if err != nil {
		return nil, err
	}
	ttl := v.challengeTTL
	if iss.TTL > 0 && iss.TTL < ttl {
		ttl = iss.TTL
	}
	id, err := v.newID()
	if err != nil {
		return nil, err
	}
	sc := store.Challenge{
		ID: id, UserID: req.UserID, FactorID: req.FactorID, Kind: string(kind), Binding: req.Binding,
		Data: iss.Data, Created: now, Expires: now.Add(ttl),
	}
	if err := v.store.PutChallenge(ctx, sc); err != nil {
		return nil, wrap(ErrStore, err)
	}
	ev := Event{Type: EventChallengeIssued, Time: now, UserID: req.UserID, FactorID: req.FactorID, Kind: kind, IP: req.IP, Remaining: -1}
	if err := v.emit(ctx, ev); err != nil {
		return nil, err
	}
	return &IssuedChallenge{ID: id, Kind: kind, Expires: sc.Expires, Show: iss.Show}, nil
}
