package push

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

// answerRecord is what the signing-in browser's poll takes: the device
// that answered and its answer as sent.
type answerRecord struct {
	FactorID string          `json:"f"`
	Answer   json.RawMessage `json:"a"`
}

// Answered is an answer that arrived for a request: pass it to the
// Verifier's Verify as the FactorID and Response, with the challenge's ID
// and the sign-in attempt's Binding.
type Answered struct {
	FactorID string
	Response string
}

// device finds an active paired device and checks sig over msg with its
// key.
func (f *Factor) device(ctx context.Context, deviceID string, msg, sig []byte) (store.Factor, error) {
	rec, err := f.cfg.Store.FindFactor(ctx, string(Kind), deviceID)
	if errors.Is(err, store.ErrNotFound) {
		return rec, ErrUnknownDevice
	}
	if err != nil {
		return rec, fmt.Errorf("%w: %w", factor.ErrStore, err)
	}
	if rec.Status != store.StatusActive {
		return rec, ErrUnknownDevice
	}
	_, key, err := decodeDevice(rec.Data)
	if err != nil {
		return rec, err
	}
	if !key.verify(msg, sig) {
		return rec, ErrBadSignature
	}
	return rec, nil
}

// Answer records a device's signed answer (the body of its POST): the
// signature must be the paired device's, and the request live, not
// cancelled and pushed to that device. Of any number of answers to one
// request, on any number of instances, exactly one is recorded; the
// others wrap factor.ErrExpired. Anything refused changes nothing.
//
// A denial or a wrong number is recorded too, so the signing-in browser
// learns the refusal at once; it is reported as [EventSuspectedFraud] here,
// when it arrives, whether or not anyone completes the sign-in, and counts
// toward pausing the user's pushes (Config.PauseAfter).
func (f *Factor) Answer(ctx context.Context, body []byte) error {
	a, sig, err := ParseAnswer(body)
	if err != nil {
		return err
	}
	now := f.cfg.Now()
	rec, err := f.device(ctx, a.DeviceID, AnswerMessage(a.RequestID, a.DeviceID, a.Number, a.Decision, a.Time), sig)
	if err != nil {
		return err
	}
	rid := f.id(domRequest, a.RequestID)
	c, err := f.cfg.Store.TakeChallenge(ctx, rid, now)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w: push request expired, cancelled or answered", factor.ErrExpired)
	}
	if err != nil {
		return fmt.Errorf("%w: %w", factor.ErrStore, err)
	}
	var st requestState
	if err := json.Unmarshal(c.Data, &st); err != nil {
		return fmt.Errorf("%w: push: stored request", factor.ErrSealed)
	}
	if c.UserID != rec.UserID || c.Binding != recordBinding || !slices.Contains(st.Devices, rec.ID) {
		// Not this device's request: put it back for the device it was
		// sent to.
		if err := f.cfg.Store.PutChallenge(ctx, c); err != nil {
			return fmt.Errorf("%w: %w", factor.ErrStore, err)
		}
		return fmt.Errorf("%w: push request of another device", factor.ErrChallengeMismatch)
	}
	data, err := json.Marshal(answerRecord{FactorID: rec.ID, Answer: body})
	if err != nil {
		return err
	}
	ans := store.Challenge{
		ID: f.id(domAnswer, rec.UserID, a.RequestID), UserID: rec.UserID, FactorID: rec.ID, Kind: string(Kind),
		Binding: recordBinding, Data: data, Created: now, Expires: c.Expires,
	}
	if err := f.cfg.Store.PutChallenge(ctx, ans); err != nil {
		return fmt.Errorf("%w: %w", factor.ErrStore, err)
	}
	var refusal error
	switch {
	case a.Decision != Approve:
		refusal = ErrDenied
	case subtle.ConstantTimeCompare(f.numberHash(a.RequestID, a.Number), st.Number) != 1:
		refusal = ErrWrongNumber
	default:
		return nil
	}
	return f.suspect(ctx, rec, st.IP, refusal, now)
}

// suspect reports a denial or wrong number and counts it toward a pause.
func (f *Factor) suspect(ctx context.Context, rec store.Factor, ip string, refusal error, now time.Time) error {
	ev := Event{Type: EventSuspectedFraud, Time: now, UserID: rec.UserID, FactorID: rec.ID, IP: ip, Reason: refusal.Error()}
	if err := f.emit(ctx, ev); err != nil {
		return err
	}
	if f.cfg.PauseAfter <= 0 {
		return nil
	}
	fc := f.fraudCounter(rec.UserID)
	if _, err := f.cfg.Store.Hit(ctx, store.HitRequest{Now: now, Counters: []store.Counter{fc}}); err != nil {
		return fmt.Errorf("%w: %w", factor.ErrStore, err)
	}
	s, err := f.cfg.Store.CounterState(ctx, fc.Key)
	if err != nil {
		return fmt.Errorf("%w: %w", factor.ErrStore, err)
	}
	if s.Failures == f.cfg.PauseAfter {
		ev.Type = EventPaused
		return f.emit(ctx, ev)
	}
	return nil
}

// Poll answers a device's signed [Poll]: the request waiting for it, if
// any, handed out once (ErrNoRequest when none). The poll's time must be
// within Config.PollSkew of the server's clock.
func (f *Factor) Poll(ctx context.Context, body []byte) (*Request, error) {
	p, sig, err := ParsePoll(body)
	if err != nil {
		return nil, err
	}
	now := f.cfg.Now()
	if d := now.Sub(time.Unix(p.Time, 0)); d > f.cfg.PollSkew || d < -f.cfg.PollSkew {
		return nil, fmt.Errorf("%w: push: poll time too far from the server's", factor.ErrExpired)
	}
	rec, err := f.device(ctx, p.DeviceID, PollMessage(p.DeviceID, p.Time), sig)
	if err != nil {
		return nil, err
	}
	c, err := f.cfg.Store.TakeChallenge(ctx, f.id(domInbox, rec.UserID, rec.ID), now)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNoRequest
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", factor.ErrStore, err)
	}
	var r Request
	if err := json.Unmarshal(c.Data, &r); err != nil {
		return nil, fmt.Errorf("%w: push: stored request", factor.ErrSealed)
	}
	return &r, nil
}

// Answered takes the answer that arrived for the user's request, once:
// the signing-in browser's poll calls it, then passes the result to the
// Verifier's Verify. It wraps ErrPending while no answer has arrived
// (until the request expires; then nothing will).
func (f *Factor) Answered(ctx context.Context, userID, requestID string) (*Answered, error) {
	if !field(userID) || !field(requestID) {
		return nil, fmt.Errorf("%w: push: user or request ID", factor.ErrInvalidInput)
	}
	c, err := f.cfg.Store.TakeChallenge(ctx, f.id(domAnswer, userID, requestID), f.cfg.Now())
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrPending
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", factor.ErrStore, err)
	}
	var ar answerRecord
	if err := json.Unmarshal(c.Data, &ar); err != nil || c.UserID != userID {
		return nil, fmt.Errorf("%w: push: stored answer", factor.ErrSealed)
	}
	return &Answered{FactorID: ar.FactorID, Response: string(ar.Answer)}, nil
}
