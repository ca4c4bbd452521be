package mfa

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/mfakit/mfa/factor"
	"github.com/mfakit/mfa/store"
)

// ConfirmRequest confirms a pending enrolment with a first proof.
type ConfirmRequest struct {
	UserID   string
	FactorID string // the pending factor (kinds without a Registrar)
	// ChallengeID is the enrolment challenge: alone for Registrar kinds
	// (WebAuthn); with FactorID for kinds confirmed by a sent code.
	ChallengeID string
	Response    string
	Name        string // Registrar kinds: the new factor's name
	IP          string
	// AuthTime is when the session last passed a second factor. It is
	// needed only if the user gained another active factor after this
	// enrolment began (BeginEnrollment asked for no fresh verification
	// then, and would now); it must then be within Config.FreshFor, or
	// the confirmation fails with ErrStepUpRequired.
	AuthTime time.Time
}

// ConfirmEnrollment makes a pending factor active once the user proves
// they hold it (a first TOTP code, a WebAuthn attestation). It is counted
// and limited exactly like Verify.
func (v *Verifier) ConfirmEnrollment(ctx context.Context, req ConfirmRequest) (*Result, error) {
	if req.ChallengeID != "" && req.FactorID == "" {
		return v.register(ctx, req)
	}
	return v.confirm(ctx, req)
}

// confirm activates a pending factor with its first proof: counted and
// checked exactly as Verify, then activated in the same update that
// re-seals a secret opened with an old key.
func (v *Verifier) confirm(ctx context.Context, req ConfirmRequest) (*Result, error) {
	vr := VerifyRequest{UserID: req.UserID, FactorID: req.FactorID, Response: req.Response, IP: req.IP, ChallengeID: req.ChallengeID}
	if err := checkRequest(vr); err != nil {
		return nil, err
	}
	if req.UserID == "" || req.FactorID == "" {
		return nil, fmt.Errorf("%w: user and factor IDs are required", ErrInvalidInput)
	}
	// A code sent to a new destination: its challenge is taken before
	// anything is counted against the user, as in Verify. A retry whose
	// challenge was used by the confirmation it repeats holds the receipt
	// instead.
	ch, held, err := v.enrolmentChallenge(ctx, vr)
	if err != nil {
		return nil, err
	}
	a := new(attempt)
	err = v.admit(ctx, a, vr, v.counters(vr, "", false), Attempt{UserID: req.UserID, FactorID: req.FactorID, IP: req.IP, Confirm: true})
	if err != nil {
		switch {
		case ch != nil && refused(err):
			err = v.putBack(ctx, *ch, err)
		case held != nil && refused(err):
			err = v.putBack(ctx, held.c, err)
		}
		return nil, err
	}
	if err := v.recount(ctx, a, vr, false); err != nil {
		return nil, err
	}
	_, challenged := a.factor.(factor.Challenger)
	switch {
	case a.rec.Status == store.StatusPending && challenged && ch == nil:
		return nil, v.fail(ctx, a.ev, fmt.Errorf("%w: a challenge ID is required", ErrExpired))
	case ch != nil && ch.Kind != a.rec.Kind:
		return nil, v.fail(ctx, a.ev, ErrChallengeMismatch)
	}
	switch {
	case a.rec.Status != store.StatusPending:
		// A retry of a confirmation whose answer was lost: the same proof
		// reports the factor active once, and signs nobody in.
		if held == nil {
			held = v.takeReceipt(ctx, req.UserID, req.FactorID, req.ChallengeID, req.Response, a.now)
		}
		if res, err := v.receipt(ctx, a, held); res != nil || err != nil {
			return res, err
		}
		return nil, v.fail(ctx, a.ev, fmt.Errorf("%w: already confirmed", ErrNotEnrolled))
	case !a.now.Before(a.rec.Created.Add(v.enrollTTL)):
		return nil, v.fail(ctx, a.ev, fmt.Errorf("%w: enrolment not confirmed in time", ErrExpired))
	}
	if err := v.stillFresh(ctx, req.UserID, req.FactorID, a.rec.Created, req.AuthTime, a.now); err != nil {
		return nil, v.fail(ctx, a.ev, err)
	}
	p, err := v.prove(ctx, a, req.Response, ch)
	if err != nil {
		return nil, err
	}
	defer clear(p.secret)
	if p.stale {
		if err := v.reseal(ctx, &a.rec, p.secret); err != nil {
			return nil, v.fail(ctx, a.ev, err)
		}
	}
	// The receipt goes first: if the activation below commits and its
	// answer is lost, a retry with the same proof finds it.
	if err := v.writeReceipt(ctx, a, req.ChallengeID, req.Response, p.match); err != nil {
		return nil, v.fail(ctx, a.ev, err)
	}
	a.rec.Status, a.rec.Confirmed = store.StatusActive, a.now
	if err := v.save(ctx, a.rec); err != nil {
		return nil, v.fail(ctx, a.ev, err)
	}
	return v.succeed(ctx, a, p.match, EventEnrollConfirmed)
}

// enrolmentChallenge takes the enrolment challenge a confirmation names,
// if any: it must be this user's, for this factor, under the enrolment
// binding. When it is gone, the factor's receipt may hold this challenge
// and response: the confirmation is then a retry of one that activated
// the factor, and the receipt is returned held. Anything else is charged
// to the client IP alone.
func (v *Verifier) enrolmentChallenge(ctx context.Context, vr VerifyRequest) (*store.Challenge, *heldReceipt, error) {
	if vr.ChallengeID == "" {
		return nil, nil, nil
	}
	now := v.now()
	c, err := v.takeChallenge(ctx, vr.ChallengeID, now)
	if errors.Is(err, ErrExpired) {
		if held := v.takeReceipt(ctx, vr.UserID, vr.FactorID, vr.ChallengeID, vr.Response, now); held != nil {
			return nil, held, nil
		}
	}
	if err == nil && (c.Binding != enrollBinding || c.UserID != vr.UserID || c.FactorID != vr.FactorID) {
		err = ErrChallengeMismatch
	}
	if err != nil {
		return nil, nil, v.failByIP(ctx, vr, err)
	}
	return &c, nil, nil
}

// receiptDomain keys the hash under which a confirmation's proof is kept,
// and the ID of the record that keeps it.
const receiptDomain = "mfa/confirm-receipt/v1"

// receiptID is the challenge ID of a factor's confirmation receipt: a
// keyed hash, so no client can name (or take) another's.
func (v *Verifier) receiptID(userID, factorID string) string {
	h := v.hasher.Sum(receiptDomain+"/id", []byte(userID), []byte(factorID))
	return idEncoding.EncodeToString(h[:20])
}

// receiptBody is what a receipt keeps: the keyed hash of the proof and the
// result the confirmation reported.
type receiptBody struct {
	Proof []byte   `json:"p"`
	AMR   []string `json:"amr"`
	AAL   AAL      `json:"aal"`
}

// receiptProof is the keyed hash a receipt keeps: of the response and, for
// a kind confirmed by a sent code, of the enrolment challenge it answered.
func (v *Verifier) receiptProof(userID, factorID, challengeID, response string) [32]byte {
	if challengeID == "" {
		return v.hasher.Sum(receiptDomain, []byte(userID), []byte(factorID), []byte(response))
	}
	return v.hasher.Sum(receiptDomain, []byte(userID), []byte(factorID), []byte(response), []byte(challengeID))
}

// writeReceipt stores, for as long as a challenge lives, a keyed hash of
// the proof that is confirming a factor, under the reserved enrolment
// binding, which no sign-in can present.
func (v *Verifier) writeReceipt(ctx context.Context, a *attempt, challengeID, response string, m factor.Match) error {
	h := v.receiptProof(a.rec.UserID, a.rec.ID, challengeID, response)
	data, err := json.Marshal(receiptBody{Proof: h[:], AMR: m.AMR, AAL: m.AAL})
	if err != nil {
		return wrap(ErrInternal, err)
	}
	c := store.Challenge{
		ID: v.receiptID(a.rec.UserID, a.rec.ID), UserID: a.rec.UserID, FactorID: a.rec.ID, Kind: a.rec.Kind,
		Binding: enrollBinding, Data: data, Created: a.now, Expires: a.now.Add(v.challengeTTL),
	}
	if err := v.store.PutChallenge(ctx, c); err != nil {
		return wrap(ErrStore, err)
	}
	return nil
}

// heldReceipt is a receipt taken from the store whose proof matched.
type heldReceipt struct {
	c    store.Challenge
	body receiptBody
}

// takeReceipt takes a factor's receipt when it holds this very proof. A
// receipt that holds another is put back for the retry that has it (a
// failure to put it back only costs that retry its answer); no receipt,
// or a store failure, is nil.
func (v *Verifier) takeReceipt(ctx context.Context, userID, factorID, challengeID, response string, now time.Time) *heldReceipt {
	c, err := v.store.TakeChallenge(ctx, v.receiptID(userID, factorID), now)
	if err != nil || c.Binding != enrollBinding || c.UserID != userID || c.FactorID != factorID {
		return nil
	}
	var body receiptBody
	if json.Unmarshal(c.Data, &body) != nil {
		return nil
	}
	h := v.receiptProof(userID, factorID, challengeID, response)
	if subtle.ConstantTimeCompare(h[:], body.Proof) != 1 {
		_ = v.store.PutChallenge(ctx, c)
		return nil
	}
	return &heldReceipt{c: c, body: body}
}

// receipt answers a confirmation retried on an active factor whose
// receipt held its proof (one retry is answered): the attempt's counts
// are taken back and the confirmation is reported again, with its
// original time, so it stands for no newer authentication. Anything else
// (no receipt, one too old, a store failure) is not a retry: nil and no
// error, and the caller refuses as before.
func (v *Verifier) receipt(ctx context.Context, a *attempt, held *heldReceipt) (*Result, error) {
	if held == nil || a.rec.Confirmed.IsZero() || !a.now.Before(a.rec.Confirmed.Add(v.challengeTTL)) {
		return nil, nil
	}
	if err := v.store.Advance(ctx, store.Advance{
		UserID: a.rec.UserID, FactorID: a.rec.ID, From: a.rec.Counter, To: a.rec.Counter, Now: a.now,
		Reset:   []store.CounterKey{v.userKey(a.rec.UserID), v.factorKey(a.rec.UserID, a.rec.ID)},
		Forgive: ipCounters(a.cs),
	}); err != nil {
		return nil, nil
	}
	res, err := v.succeed(ctx, a, factor.Match{Counter: a.rec.Counter, AMR: held.body.AMR, AAL: held.body.AAL, Remaining: -1}, EventEnrollConfirmed)
	if err != nil {
		return nil, err
	}
	res.Time = a.rec.Confirmed
	return res, nil
}

// register finishes a [factor.Registrar] kind's enrolment: the challenge is taken
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
	// The challenge is taken first: a registration that carries no live
	// enrolment challenge of this user's counts against the IP only.
	vr := VerifyRequest{UserID: req.UserID, FactorID: req.ChallengeID, IP: req.IP}
	c, err := v.takeChallenge(ctx, req.ChallengeID, now)
	if err == nil && (c.UserID != req.UserID || c.Binding != enrollBinding) {
		err = ErrChallengeMismatch
	}
	if err != nil {
		vr.Kind = Kind(c.Kind)
		return nil, v.failByIP(ctx, vr, err)
	}
	ev.Kind = Kind(c.Kind)
	cs := v.counters(vr, ev.Kind, false)
	hit, err := v.hit(ctx, now, cs, store.FactorRef{})
	if err != nil {
		return nil, v.fail(ctx, ev, err)
	}
	if !hit.Admitted {
		return nil, v.refuse(ctx, ev, hit)
	}
	if err := v.stillFresh(ctx, req.UserID, c.ID, c.Created, req.AuthTime, now); err != nil {
		return nil, v.fail(ctx, ev, err)
	}
	f, ok := v.factors[ev.Kind]
	r, isReg := f.(factor.Registrar)
	if !ok || !isReg {
		return nil, v.fail(ctx, ev, ErrUnsupportedKind)
	}
	en, err := r.Register(ctx, factor.RegisterInput{
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
	if err := v.store.Reset(ctx, v.userKey(req.UserID), v.factorKey(req.UserID, c.ID)); err != nil {
		return nil, v.fail(ctx, ev, wrap(ErrStore, err))
	}
	ev.Type = EventEnrollConfirmed
	if err := v.emit(ctx, ev); err != nil {
		return nil, v.takeBack(ctx, req.UserID, c.ID, err)
	}
	return &Result{UserID: req.UserID, FactorID: c.ID, Kind: ev.Kind, AMR: slices.Clone(en.AMR), AAL: en.AAL, Time: now, Remaining: -1, IP: req.IP}, nil
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
