package mfa

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"time"

	"github.com/mfakit/mfa/factor"
	"github.com/mfakit/mfa/store"
)

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
	if kind != "" && !v.challenged(kind) {
		return nil, v.noChallenges(kind)
	}
	// Count the issue first: it bounds the reads below as well as the
	// stored challenge and whatever the factor sends.
	ev := Event{Time: now, UserID: req.UserID, FactorID: req.FactorID, Kind: kind, IP: req.IP, Remaining: -1}
	if err := v.admitIssue(ctx, ev); err != nil {
		return nil, err
	}
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
	c, ok := v.factors[kind].(factor.Challenger)
	if !ok {
		return nil, v.noChallenges(kind)
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
	iss, err := c.Challenge(ctx, factor.ChallengeInput{UserID: req.UserID, Factor: rec, Secret: secret, Existing: existing, Now: now, Rand: v.rand, Hasher: v.hasher})
	if err != nil {
		return nil, internal(err)
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
	ev.Type, ev.Kind = EventChallengeIssued, kind
	if err := v.emit(ctx, ev); err != nil {
		return nil, err
	}
	return &IssuedChallenge{ID: id, Kind: kind, Expires: sc.Expires, Show: iss.Show}, nil
}
func (v *Verifier) takeChallenge(ctx context.Context, id string, now time.Time) (store.Challenge, error) {
	if id == "" {
		return store.Challenge{}, fmt.Errorf("%w: a challenge ID is required", ErrExpired)
	}
	c, err := v.store.TakeChallenge(ctx, id, now)
	if errors.Is(err, store.ErrNotFound) {
		return c, ErrExpired
	}
	if err != nil {
		return c, wrap(ErrStore, err)
	}
	return c, nil
}

// matchChallenge checks a taken challenge belongs to this attempt. A
// user-less challenge (passkey sign-in) matches any user.
func matchChallenge(c store.Challenge, userID, factorID string, kind Kind, binding string) error {
	ok := Kind(c.Kind) == kind &&
		(c.UserID == "" || c.UserID == userID) &&
		(c.FactorID == "" || c.FactorID == factorID) &&
		subtle.ConstantTimeCompare([]byte(c.Binding), []byte(binding)) == 1
	if !ok {
		return ErrChallengeMismatch
	}
	return nil
}

// noChallenges is the error for a kind that is not configured or takes no
// challenge.
func (v *Verifier) noChallenges(kind Kind) error {
	if _, ok := v.factors[kind]; !ok {
		return ErrUnsupportedKind
	}
	return fmt.Errorf("%w: kind %q takes no challenge", ErrUnsupportedKind, kind)
}
