package mfa

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/mfakit/mfa/factor"
	"github.com/mfakit/mfa/store"
)

// Result is a successful verification or confirmation.
type Result struct {
	UserID   string
	FactorID string
	Kind     Kind
	// AMR holds RFC 8176 values, e.g. "otp", "hwk", "user".
	AMR []string
	// AAL is the level a password plus this factor reaches.
	AAL  AAL
	Time time.Time
	// Remaining is the number of backup codes left; -1 for other kinds.
	Remaining int
	// Restricted: the factor is a restricted authenticator under NIST SP
	// 800-63B (an SMS code): at most AAL2, and a policy may want more.
	Restricted bool
	// IP is the client address the request named (VerifyRequest.IP or
	// ConfirmRequest.IP), so that a session started from this result can
	// say where it started.
	IP string
}

// VerifyRequest asks to check one response.
type VerifyRequest struct {
	// UserID is the user signing in. It may be empty only for a kind that
	// names its user from the response (a discoverable passkey).
	UserID string
	// FactorID names the factor. When empty, Kind picks the user's only
	// active factor of that kind.
	FactorID string
	Kind     Kind
	// Response is what the user entered or the client sent.
	Response string
	// ChallengeID names the challenge, for kinds that issue one.
	ChallengeID string
	// Binding must equal the Binding the challenge was issued with.
	Binding string
	// IP is the client's address, for the per-IP counter. Optional.
	IP string
}

// Verify checks one response. The attempt is counted against the user,
// factor and IP counters before anything is compared; the accepted value
// is consumed atomically; any error on the way denies the attempt.
//
// Errors wrap ErrRateLimited (a [RateLimitError]) or ErrLocked when the
// attempt was refused uncounted, and otherwise the reason it failed:
// ErrWrongCode, ErrMalformedResponse, ErrReplayed, ErrExpired,
// ErrChallengeMismatch, ErrNotFound, ErrNotEnrolled; or ErrStore, ErrSealed,
// ErrDenied when the server side failed.
func (v *Verifier) Verify(ctx context.Context, req VerifyRequest) (*Result, error) {
	if err := checkRequest(req); err != nil {
		return nil, err
	}
	// A request that names no user is a passkey sign-in: the response names
	// the user, so the attempt must cost that user nothing, and it may
	// only answer a challenge issued to no user.
	userless := req.UserID == ""
	if err := v.name(ctx, &req); err != nil {
		return nil, err
	}
	// The challenge is taken before anything is counted against the user:
	// an attempt that carries no live challenge issued for it counts
	// against the client IP only.
	var ch *store.Challenge
	kind := req.Kind
	if req.ChallengeID != "" || v.challenged(kind) {
		c, err := v.answered(ctx, req, userless)
		if err != nil {
			return nil, v.failByIP(ctx, req, err)
		}
		ch, kind = &c, Kind(c.Kind)
	}
	// The counters are reused from one verification to the next (Hit must
	// not keep them). Without a defer: one here would be a heap-style
	// deferred call, and a panic only costs the pool a buffer.
	cbuf := counterBufs.Get().(*[3]store.Counter)
	res, err := v.verifyCounted(ctx, req, ch, kind, userless, cbuf[:0])
	putCounterBuf(cbuf)
	return res, err
}

// verifyCounted is Verify once the request is named and its challenge
// taken: it counts the attempt against the counters appended to cs, then
// checks and commits the response.
func (v *Verifier) verifyCounted(ctx context.Context, req VerifyRequest, ch *store.Challenge, kind Kind, userless bool, cs []store.Counter) (*Result, error) {
	// a stays on the stack: no callee keeps it.
	var attempt attempt
	a := &attempt
	err := v.admit(ctx, a, req, v.appendCounters(cs, req, kind, userless),
		Attempt{UserID: req.UserID, FactorID: req.FactorID, Kind: kind, IP: req.IP})
	if err != nil {
		if ch != nil && refused(err) {
			// Nothing was compared: the challenge goes back, usable once
			// the delay is over.
			err = v.putBack(ctx, *ch, err)
		}
		return nil, err
	}
	// The kind was unknown until the factor was loaded: take back what a
	// factor of its kind must not be charged.
	if err := v.recount(ctx, a, req, userless); err != nil {
		return nil, err
	}
	switch _, challenged := a.factor.(factor.Challenger); {
	case a.rec.Status != store.StatusActive:
		return nil, v.fail(ctx, a.ev, ErrNotEnrolled)
	case challenged && ch == nil:
		return nil, v.fail(ctx, a.ev, fmt.Errorf("%w: a challenge ID is required", ErrExpired))
	case ch != nil && ch.Kind != a.rec.Kind:
		return nil, v.fail(ctx, a.ev, ErrChallengeMismatch)
	}
	return v.proveAndSucceed(ctx, a, req.Response, ch)
}

// proveAndSucceed proves the response, re-seals a secret opened with an
// old key and reports the success. Its few returns keep the deferred
// clearing of the secret a direct call.
func (v *Verifier) proveAndSucceed(ctx context.Context, a *attempt, response string, ch *store.Challenge) (*Result, error) {
	p, err := v.prove(ctx, a, response, ch)
	if err != nil {
		return nil, err
	}
	defer clear(p.secret)
	if p.stale {
		if err := v.reseal(ctx, &a.rec, p.secret); err != nil {
			return nil, v.fail(ctx, a.ev, err)
		}
		if err := v.save(ctx, a.rec); err != nil {
			return nil, v.fail(ctx, a.ev, err)
		}
	}
	return v.succeed(ctx, a, p.match, EventVerifySucceeded)
}

// counterBufs holds the counters of verifications: a slice handed to
// Store.Hit escapes, so it would otherwise be allocated at every one.
var counterBufs = sync.Pool{New: func() any { return new([3]store.Counter) }}

func putCounterBuf(b *[3]store.Counter) {
	clear(b[:])
	counterBufs.Put(b)
}

// checkRequest refuses, before anything is counted, a request whose
// fields are too long or that uses the binding reserved for enrolment.
func checkRequest(req VerifyRequest) error {
	if err := checkIDs(req.UserID, req.FactorID, req.ChallengeID, req.Binding, req.IP, string(req.Kind)); err != nil {
		return err
	}
	if len(req.Response) > maxResponseLen {
		return fmt.Errorf("%w: response longer than %d bytes", ErrMalformedResponse, maxResponseLen)
	}
	if req.Binding == enrollBinding {
		return fmt.Errorf("%w: reserved binding", ErrInvalidInput)
	}
	return nil
}

// attempt is one admitted attempt: counted against cs, with its factor's
// record loaded in the same store call.
type attempt struct {
	rec    store.Factor
	factor Factor
	cs     []store.Counter
	// counted is the kind cs was made for: the Attempt's, which may be
	// empty (unknown until the factor was loaded).
	counted Kind
	ev      Event // reports the attempt; Type and Reason are set on emit
	now     time.Time
}

// admit runs the Guard, then counts the attempt against the user, factor
// and IP counters and loads the factor, in one store call: nothing is
// compared until the store has admitted and recorded the attempt as a
// failure. cs are the counters of at.Kind.
func (v *Verifier) admit(ctx context.Context, a *attempt, req VerifyRequest, cs []store.Counter, at Attempt) error {
	now := v.now()
	ev := Event{UserID: req.UserID, FactorID: req.FactorID, Kind: req.Kind, IP: req.IP, Time: now, Remaining: -1}
	if v.guard != nil {
		if err := v.guard(ctx, at); err != nil {
			return v.fail(ctx, ev, wrap(ErrDenied, err))
		}
	}
	hit, err := v.hit(ctx, now, cs, store.FactorRef{UserID: req.UserID, ID: req.FactorID})
	if err != nil {
		return v.fail(ctx, ev, err)
	}
	if !hit.Admitted {
		return v.refuse(ctx, ev, hit)
	}
	if !hit.Found {
		v.decoy(ctx, req.Kind, req.Response, now)
		return v.fail(ctx, ev, ErrNotFound)
	}
	ev.Kind = Kind(hit.Factor.Kind)
	if req.Kind != "" && req.Kind != ev.Kind {
		return v.fail(ctx, ev, ErrNotFound)
	}
	f, ok := v.factors[ev.Kind]
	if !ok {
		return v.fail(ctx, ev, ErrUnsupportedKind)
	}
	*a = attempt{rec: hit.Factor, factor: f, cs: cs, counted: at.Kind, ev: ev, now: now}
	return nil
}

// hit counts an attempt against cs and loads ref in one store call; with
// no counter to count (a passkey sign-in that names no IP) it only loads.
func (v *Verifier) hit(ctx context.Context, now time.Time, cs []store.Counter, ref store.FactorRef) (store.HitResult, error) {
	if len(cs) == 0 {
		rec, err := v.store.GetFactor(ctx, ref.UserID, ref.ID)
		if errors.Is(err, store.ErrNotFound) {
			return store.HitResult{Admitted: true}, nil
		}
		if err != nil {
			return store.HitResult{}, wrap(ErrStore, err)
		}
		return store.HitResult{Admitted: true, Found: true, Factor: rec}, nil
	}
	hit, err := v.store.Hit(ctx, store.HitRequest{Now: now, Counters: cs, Load: ref})
	if err != nil {
		return hit, wrap(ErrStore, err)
	}
	return hit, nil
}

// answered takes the challenge a response answers and checks it was
// issued to this user, factor, kind and sign-in attempt. The factor's
// own kind is checked against the challenge's once it is loaded.
func (v *Verifier) answered(ctx context.Context, req VerifyRequest, userless bool) (store.Challenge, error) {
	c, err := v.takeChallenge(ctx, req.ChallengeID, v.now())
	if err != nil {
		return c, err
	}
	if req.Kind != "" && Kind(c.Kind) != req.Kind {
		return c, ErrChallengeMismatch
	}
	if err := matchChallenge(c, req.UserID, req.FactorID, Kind(c.Kind), req.Binding); err != nil {
		return c, err
	}
	// A passkey sign-in answers only a challenge issued to no user, and a
	// challenge issued to no user answers only a passkey sign-in:
	// otherwise its result (amr "mfa", a passkey's level) would stand for
	// a second step it never was.
	if userless != (c.UserID == "") {
		return c, ErrChallengeMismatch
	}
	return c, nil
}

// proof is a response the factor accepted and the store committed.
type proof struct {
	match  factor.Match
	secret []byte // the opened secret; the caller clears it
	stale  bool   // sealed under an old key: re-seal it
}

// prove opens the factor's secret, has the factor check the response and
// commits the accepted value with a compare-and-set that also clears the
// user and factor counters. On success a.rec holds the committed record.
func (v *Verifier) prove(ctx context.Context, a *attempt, response string, ch *store.Challenge) (proof, error) {
	var secret []byte
	var stale bool
	var err error
	if _, blind := a.factor.(factor.ChallengeOnly); !blind {
		if secret, stale, err = v.open(ctx, a.rec); err != nil {
			return proof{}, v.fail(ctx, a.ev, err)
		}
	}
	in := factor.VerifyInput{Factor: a.rec, Secret: secret, Response: response, Challenge: ch, Now: a.now, Hasher: v.hasher}
	m, err := v.check(ctx, a.factor, in, a.ev)
	if err == nil {
		m, err = v.commit(ctx, a, in, m)
	}
	if err != nil {
		clear(secret)
		return proof{}, err
	}
	a.rec = in.Factor
	a.rec.Counter = m.Counter
	if m.Data != nil {
		a.rec.Data = m.Data // committed; a later UpdateFactor must not undo it
	}
	return proof{match: m, secret: secret, stale: stale}, nil
}

// maxCommitTries bounds how often a verification re-checks its response
// after losing the compare-and-set to a concurrent one.
const maxCommitTries = 5

// commit consumes the accepted value: of two concurrent uses of one value
// exactly one gets past the compare-and-set. The loser's response is
// checked again against the state the winner left.
func (v *Verifier) commit(ctx context.Context, a *attempt, in factor.VerifyInput, m factor.Match) (factor.Match, error) {
	for tries := 1; ; tries++ {
		err := v.store.Advance(ctx, store.Advance{
			UserID: a.rec.UserID, FactorID: a.rec.ID,
			From: in.Factor.Counter, To: m.Counter, Data: m.Data, Now: a.now,
			// A success clears the user's and the factor's failures, counted
			// by this attempt or not.
			Reset: []store.CounterKey{v.userKey(a.rec.UserID), v.factorKey(a.rec.UserID, a.rec.ID)},
			// The IP counter counts failures only: the success takes back
			// its own count and leaves other users' failures from that
			// address.
			Forgive: ipCounters(a.cs),
		})
		switch {
		case err == nil:
			return m, nil
		case !errors.Is(err, store.ErrConflict):
			return factor.Match{}, v.fail(ctx, a.ev, wrap(ErrStore, err))
		case tries == maxCommitTries:
			return factor.Match{}, v.fail(ctx, a.ev, ErrReplayed)
		}
		// Another use of this factor committed first: a replay of the same
		// value is now refused, another unused backup code still passes.
		fresh, gerr := v.store.GetFactor(ctx, a.rec.UserID, a.rec.ID)
		if errors.Is(gerr, store.ErrNotFound) {
			return factor.Match{}, v.fail(ctx, a.ev, ErrNotFound)
		}
		if gerr != nil {
			return factor.Match{}, v.fail(ctx, a.ev, wrap(ErrStore, gerr))
		}
		in.Factor.Counter, in.Factor.Data = fresh.Counter, fresh.Data
		if m, err = v.check(ctx, a.factor, in, a.ev); err != nil {
			return factor.Match{}, err
		}
	}
}

// check runs the factor's own check and, on a refusal, reports it along
// with any notes the factor returned (a sign-count regression).
func (v *Verifier) check(ctx context.Context, f Factor, in factor.VerifyInput, ev Event) (factor.Match, error) {
	m, err := f.Verify(ctx, in)
	if err == nil {
		return m, nil
	}
	set, ok, err := classified(err)
	err = v.failWith(ctx, ev, err, set, ok)
	if len(m.Notes) > 0 {
		ev.Reason = reason(err)
	}
	for _, t := range m.Notes {
		ev.Type = t
		if herr := v.emit(ctx, ev); herr != nil {
			return factor.Match{}, errors.Join(err, herr)
		}
	}
	return factor.Match{}, err
}

// succeed reports a committed success, and the factor's notes after it.
func (v *Verifier) succeed(ctx context.Context, a *attempt, m factor.Match, typ EventType) (*Result, error) {
	ev := a.ev
	ev.Type, ev.Remaining = typ, m.Remaining
	if err := v.emit(ctx, ev); err != nil {
		return nil, err
	}
	for _, t := range m.Notes {
		ev.Type = t
		if err := v.emit(ctx, ev); err != nil {
			return nil, err
		}
	}
	return &Result{
		UserID: a.rec.UserID, FactorID: a.rec.ID, Kind: ev.Kind,
		AMR: slices.Clone(m.AMR), AAL: m.AAL, Time: a.now, Remaining: m.Remaining,
		Restricted: v.restricted(ev.Kind), IP: ev.IP,
	}, nil
}

// refused reports an attempt the limits refused before any comparison.
func refused(err error) bool {
	return errors.Is(err, ErrRateLimited) || errors.Is(err, ErrLocked) || errors.Is(err, ErrDenied)
}

// putBack stores a taken challenge again after its attempt was refused
// uncompared, and returns err (joined with the store's error if it fails).
func (v *Verifier) putBack(ctx context.Context, c store.Challenge, err error) error {
	if perr := v.store.PutChallenge(ctx, c); perr != nil {
		return errors.Join(err, wrap(ErrStore, perr))
	}
	return err
}
