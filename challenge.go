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
	// token's ID); Verify must present the same. It must be empty for a
	// pending factor's enrolment challenge (a resent enrolment code),
	// which is bound to the enrolment.
	Binding string
	IP      string
	// Replaces names an earlier challenge of the same user, factor and
	// binding that this one replaces (a resent code): it is taken out of
	// use before the new one is issued, so its code no longer works, and
	// failure counts are untouched. An earlier challenge already used or
	// expired is no error; one of another user, factor or binding is
	// ErrChallengeMismatch (and is gone). How soon a resend may follow is
	// the factor's cool-down (see [factor.IssueCap]).
	Replaces string
}

// IssuedChallenge is a stored challenge.
type IssuedChallenge struct {
	ID      string
	Kind    Kind
	Expires time.Time
	// Show is for the client: assertion options, the number to match,
	// where a code was sent (masked).
	Show any
}

// Challenge issues a challenge for kinds that need one, stored with a TTL
// and bound to user, factor and binding. Kinds without challenges (TOTP,
// backup codes) return ErrUnsupportedKind.
//
// Issuing is counted before the factor is called ([IssueLimits], and the
// factor's own caps for kinds that send: see [factor.IssueCapper]); a
// refusal is a [RateLimitError]. An error from the factor (a sender that
// failed) leaves no usable challenge and emits EventIssueFailed.
//
// A pending factor whose kind confirms by a challenge (an emailed code)
// takes one too, with an empty Binding: it resends the enrolment code,
// to be answered with ConfirmEnrollment.
func (v *Verifier) Challenge(ctx context.Context, req ChallengeRequest) (*IssuedChallenge, error) {
	if err := checkIDs(req.UserID, req.FactorID, req.Binding, req.IP, string(req.Kind), req.Replaces); err != nil {
		return nil, err
	}
	if req.Binding == enrollBinding {
		return nil, fmt.Errorf("%w: reserved binding", ErrInvalidInput)
	}
	if req.FactorID != "" && req.UserID == "" {
		return nil, fmt.Errorf("%w: a user ID is required with a factor ID", ErrInvalidInput)
	}
	now := v.now()
	kind := req.Kind
	if kind != "" && !v.challenged(kind) {
		return nil, v.noChallenges(kind)
	}
	// Count the issue first: it bounds the read below as well as the
	// stored challenge and whatever the factor sends. The factor is
	// loaded in the same store call.
	ev := Event{Time: now, UserID: req.UserID, FactorID: req.FactorID, Kind: kind, IP: req.IP, Remaining: -1}
	base, hit, err := v.admitIssue(ctx, ev, store.FactorRef{UserID: req.UserID, ID: req.FactorID})
	if err != nil {
		return nil, err
	}
	is := issuance{userID: req.UserID, binding: req.Binding, ev: ev, base: base}
	if req.FactorID != "" {
		if !hit.Found {
			return nil, ErrNotFound
		}
		r := hit.Factor
		if kind != "" && Kind(r.Kind) != kind {
			return nil, ErrNotFound
		}
		kind = Kind(r.Kind)
		switch {
		case r.Status == store.StatusActive:
		case v.confirmsByChallenge(kind):
			if req.Binding != "" {
				return nil, fmt.Errorf("%w: an enrolment challenge takes no binding", ErrInvalidInput)
			}
			is.binding, is.enrolling = enrollBinding, true
		default:
			return nil, ErrNotEnrolled
		}
		secret, stale, err := v.open(ctx, r)
		if err != nil {
			return nil, err
		}
		defer clear(secret)
		if stale {
			// Opened with an old key: sealed again under the current one
			// here, as a ChallengeOnly kind's Verify never opens it.
			if err := v.reseal(ctx, &r, secret); err != nil {
				return nil, err
			}
			if err := v.save(ctx, r); err != nil {
				return nil, err
			}
		}
		is.rec, is.secret = &r, secret
	}
	if _, ok := v.factors[kind].(factor.Challenger); !ok {
		return nil, v.noChallenges(kind)
	}
	is.kind, is.ev.Kind = kind, kind
	if is.rec == nil && req.UserID != "" {
		list, err := v.store.ListFactors(ctx, req.UserID)
		if err != nil {
			return nil, wrap(ErrStore, err)
		}
		for _, r := range list {
			if Kind(r.Kind) == kind && r.Status == store.StatusActive {
				r.Secret = nil
				is.existing = append(is.existing, r)
			}
		}
	}
	is.replaces = req.Replaces
	return v.makeChallenge(ctx, is)
}

// confirmsByChallenge reports whether a pending factor of kind is
// confirmed by answering a challenge: its kind makes challenges but does
// not register (WebAuthn keeps no pending factor).
func (v *Verifier) confirmsByChallenge(kind Kind) bool {
	f := v.factors[kind]
	_, challenger := f.(factor.Challenger)
	_, registrar := f.(factor.Registrar)
	return challenger && !registrar
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
