package mfa

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/mfakit/mfa/factor"
	"github.com/mfakit/mfa/store"
)

// Events of issuing a challenge, beside EventChallengeIssued.
const (
	// EventChallengeResent: a challenge replaced an earlier one
	// ([ChallengeRequest.Replaces]); for a sending kind, a code was sent
	// again. It follows EventChallengeIssued.
	EventChallengeResent EventType = "challenge.resent"
	// EventIssueFailed: the factor could not make the challenge (a sender
	// failed or timed out); nothing usable was stored.
	EventIssueFailed EventType = "challenge.issue_failed"
	// EventIssueCapped: a cap the factor declared (per destination, per
	// country, a resend cool-down) refused a challenge. The Verifier's own
	// caps report EventRateLimited.
	EventIssueCapped EventType = "challenge.capped"
)

// scopeIssueCap counts challenges against a cap a factor declared
// ([factor.IssueCap]); the key is in FactorID, prefixed by the kind.
const scopeIssueCap store.Scope = "issue_cap"

// issuance is one challenge about to be issued.
type issuance struct {
	userID    string
	kind      Kind
	rec       *store.Factor  // nil for a kind-wide or user-less challenge
	secret    []byte         // rec's opened secret
	existing  []store.Factor // the user's factors of kind, when rec is nil
	binding   string
	enrolling bool   // a pending factor's enrolment challenge
	replaces  string // the ID of the challenge this one replaces
	resend    bool   // replaces names a challenge that was still live
	ev        Event
	// base are the issuance counters already counted; a refusal by the
	// factor's caps takes their counts back.
	base []store.Counter
	// withBase: base is not yet counted and goes into the caps' Hit.
	withBase bool
}

// restricted reports whether kind is a restricted authenticator.
func (v *Verifier) restricted(kind Kind) bool {
	_, ok := v.factors[kind].(factor.Restricted)
	return ok
}

// refused reports the error for a restricted kind the configuration
// refuses, or nil.
func (v *Verifier) refusedKind(kind Kind) error {
	if v.refuseRestricted && v.restricted(kind) {
		return fmt.Errorf("%w: kind %q is a restricted authenticator, refused by Config.RefuseRestricted", ErrUnsupportedKind, kind)
	}
	return nil
}

// replace takes the challenge a resend replaces out of use. It must be of
// the same user, factor and binding; one already gone is no error.
func (v *Verifier) replace(ctx context.Context, id string, is *issuance) error {
	c, err := v.store.TakeChallenge(ctx, id, is.ev.Time)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return wrap(ErrStore, err)
	}
	factorID := ""
	if is.rec != nil {
		factorID = is.rec.ID
	}
	if c.UserID != is.userID || c.FactorID != factorID || Kind(c.Kind) != is.kind || c.Binding != is.binding {
		return ErrChallengeMismatch
	}
	is.resend = true
	return nil
}

// makeChallenge counts the factor's own caps, has the factor make (and perhaps
// send) the challenge, stores it and reports it.
func (v *Verifier) makeChallenge(ctx context.Context, is issuance) (*IssuedChallenge, error) {
	c := v.factors[is.kind].(factor.Challenger)
	if err := v.refusedKind(is.kind); err != nil {
		return nil, err
	}
	now := is.ev.Time
	in := factor.ChallengeInput{
		UserID: is.userID, Factor: is.rec, Secret: is.secret, Existing: is.existing,
		Now: now, Rand: v.rand, Hasher: v.hasher, Enrolling: is.enrolling,
	}
	if err := v.admitCaps(ctx, is, in); err != nil {
		return nil, err
	}
	// The earlier code dies only once the new one is admitted, so a
	// resend refused by a cap leaves it working.
	if is.replaces != "" {
		if err := v.replace(ctx, is.replaces, &is); err != nil {
			return nil, err
		}
		in.Resend = is.resend
	}
	iss, err := c.Challenge(ctx, in)
	if err != nil {
		ev := is.ev
		ev.Type, ev.Reason = EventIssueFailed, reason(internal(err))
		return nil, errors.Join(internal(err), v.emit(ctx, ev))
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
		ID: id, UserID: is.userID, Kind: string(is.kind), Binding: is.binding,
		Data: iss.Data, Created: now, Expires: now.Add(ttl),
	}
	if is.rec != nil {
		sc.FactorID = is.rec.ID
	}
	if err := v.store.PutChallenge(ctx, sc); err != nil {
		return nil, wrap(ErrStore, err)
	}
	ev := is.ev
	ev.Type = EventChallengeIssued
	if err := v.emit(ctx, ev); err != nil {
		return nil, err
	}
	if is.resend {
		ev.Type = EventChallengeResent
		if err := v.emit(ctx, ev); err != nil {
			return nil, err
		}
	}
	return &IssuedChallenge{ID: id, Kind: is.kind, Expires: sc.Expires, Show: iss.Show}, nil
}

// admitCaps counts the caps the factor declares for this challenge (with
// the Verifier's own when is.withBase) in one store call. When one is
// reached nothing is counted there, the counts already made for this
// challenge are taken back, and the refusal is a [RateLimitError].
func (v *Verifier) admitCaps(ctx context.Context, is issuance, in factor.ChallengeInput) error {
	capper, ok := v.factors[is.kind].(factor.IssueCapper)
	var cs []store.Counter
	if is.withBase {
		cs = append(cs, is.base...)
	}
	end := time.Time{}
	if ok && is.rec != nil {
		caps, err := capper.IssueCaps(ctx, in)
		if err != nil {
			return internal(err)
		}
		for _, c := range caps {
			counter, until, err := capCounter(is.kind, c, is.ev.Time)
			if err != nil {
				return err
			}
			if counter != nil {
				cs = append(cs, *counter)
				if until.After(end) {
					end = until
				}
			}
		}
	}
	if len(cs) == 0 {
		return nil
	}
	hit, err := v.store.Hit(ctx, store.HitRequest{Now: is.ev.Time, Counters: cs})
	if err != nil {
		return wrap(ErrStore, err)
	}
	if hit.Admitted {
		return nil
	}
	if !is.withBase && len(is.base) > 0 {
		if err := v.store.Forgive(ctx, is.ev.Time, is.base...); err != nil {
			return wrap(ErrStore, err)
		}
	}
	hit.Locked = false
	if hit.RetryAfter.IsZero() || (!end.IsZero() && hit.RetryAfter.After(end)) {
		hit.RetryAfter = end
	}
	ev := is.ev
	ev.Type, ev.Reason, ev.RetryAfter = EventIssueCapped, ErrRateLimited.Error(), hit.RetryAfter
	err = &RateLimitError{RetryAfter: hit.RetryAfter}
	if herr := v.emit(ctx, ev); herr != nil {
		return errors.Join(err, herr)
	}
	return err
}

// capCounter is the counter of one declared cap at now, and the latest
// instant it can refuse until; nil when the cap is off.
func capCounter(kind Kind, c factor.IssueCap, now time.Time) (*store.Counter, time.Time, error) {
	if c.Max <= 0 {
		return nil, time.Time{}, nil
	}
	if c.Key == "" || c.Window < time.Second {
		return nil, time.Time{}, fmt.Errorf("%w: a factor's issue cap needs a key and a window of a second or more", ErrInternal)
	}
	key := store.CounterKey{Scope: scopeIssueCap, FactorID: strconv.Itoa(len(kind)) + ":" + string(kind) + c.Key}
	rule := store.Rule{Free: c.Max, Base: c.Window, Max: c.Window, TTL: c.Window}
	if c.Max == 1 {
		// A cool-down: the one admitted issue delays the next by Window,
		// and the counter is forgotten Window after it.
		return &store.Counter{Key: key, Rule: rule}, now.Add(c.Window), nil
	}
	w := int64(c.Window / time.Second)
	n := now.Unix() / w
	key.Window = strconv.FormatInt(n, 10)
	return &store.Counter{Key: key, Rule: rule}, time.Unix((n+1)*w, 0).UTC(), nil
}
