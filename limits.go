package mfa

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/mfakit/mfa/factor"
	"github.com/mfakit/mfa/store"
)

// Limits holds the three failure-counter rules. Each attempt is counted
// against all of them before anything is compared; a success clears the
// user and factor counters and takes back only its own count from the IP
// counter, which so counts failures alone.
type Limits struct {
	// User counts one user's consecutive failures across every factor.
	// Defaults: Free 5, Base 30s, Max 1h, Cap 100 (the NIST SP 800-63B
	// ceiling; a larger Cap is refused), TTL 0 (consecutive failures are
	// never forgotten by time; a TTL is refused).
	User store.Rule
	// Factor counts failures of one factor. Defaults: Free 5, Base 30s,
	// Max 1h, no cap, TTL 24h.
	Factor store.Rule
	// IP counts failures from one client address across users. Defaults:
	// Free 20, Base 30s, Max 1h, no cap, TTL 1h. Applied only when a
	// request names an IP.
	IP store.Rule
}

// MaxFailures is the most consecutive failures any configuration allows
// before the second factor locks.
const MaxFailures = 100

func withDefaults(r, d store.Rule) store.Rule {
	if r.Free == 0 {
		r.Free = d.Free
	}
	if r.Base == 0 {
		r.Base = d.Base
	}
	if r.Max == 0 {
		r.Max = d.Max
	}
	if r.Cap == 0 {
		r.Cap = d.Cap
	}
	if r.TTL == 0 {
		r.TTL = d.TTL
	}
	return r
}

func (l Limits) withDefaults() (Limits, error) {
	l.User = withDefaults(l.User, store.Rule{Free: 5, Base: 30 * time.Second, Max: time.Hour, Cap: MaxFailures})
	l.Factor = withDefaults(l.Factor, store.Rule{Free: 5, Base: 30 * time.Second, Max: time.Hour, TTL: 24 * time.Hour})
	l.IP = withDefaults(l.IP, store.Rule{Free: 20, Base: 30 * time.Second, Max: time.Hour, TTL: time.Hour})
	for name, r := range map[string]store.Rule{"User": l.User, "Factor": l.Factor, "IP": l.IP} {
		if r.Free < 0 || r.Base < 0 || r.Max < 0 || r.Cap < 0 || r.TTL < 0 || r.Max < r.Base {
			return l, fmt.Errorf("%w: Limits.%s: negative value or Max below Base", ErrConfig, name)
		}
		if r.Cap > 0 && r.Free > r.Cap {
			return l, fmt.Errorf("%w: Limits.%s: Free above Cap", ErrConfig, name)
		}
	}
	if l.User.Cap > MaxFailures {
		return l, fmt.Errorf("%w: Limits.User.Cap %d is above %d", ErrConfig, l.User.Cap, MaxFailures)
	}
	if l.User.TTL != 0 {
		return l, fmt.Errorf("%w: Limits.User.TTL must be 0: consecutive failures are not forgotten by time", ErrConfig)
	}
	return l, nil
}

// counters are the failure counters an attempt is counted against, by
// who named its user and what its kind can be:
//
//   - a code (TOTP, backup codes, a sent code), for a user the application
//     named: the user's (across every code factor), the factor's and the
//     client IP's;
//   - a signature ([factor.Unguessable]: WebAuthn, push), for a user the
//     application named: the factor's, with the user's cap of consecutive
//     failures, and the IP's; never the user's, as a failure is not a
//     guess and must not lock the code factors;
//   - a response that named its own user (a passkey sign-in): the IP's
//     only, so a stranger who knows a credential ID costs its owner
//     nothing.
//
// An unknown kind (a request that names only a factor ID) is counted as a
// code; [Verifier.recount] takes back what turns out not to apply.
func (v *Verifier) counters(req VerifyRequest, kind Kind, userless bool) []store.Counter {
	return v.appendCounters(make([]store.Counter, 0, 3), req, kind, userless)
}

// appendCounters appends to cs the counters [Verifier.counters] returns.
func (v *Verifier) appendCounters(cs []store.Counter, req VerifyRequest, kind Kind, userless bool) []store.Counter {
	if !userless {
		factorRule := v.limits.Factor
		if v.unguessable(kind) {
			// The user's cap does not see this factor's failures; the
			// factor carries the same cap itself.
			if factorRule.Cap == 0 || factorRule.Cap > v.limits.User.Cap {
				factorRule.Cap = v.limits.User.Cap
			}
		} else {
			cs = append(cs, store.Counter{Key: v.userKey(req.UserID), Rule: v.limits.User})
		}
		cs = append(cs, store.Counter{Key: v.factorKey(req.UserID, req.FactorID), Rule: factorRule})
	}
	if req.IP != "" {
		cs = append(cs, store.Counter{Key: store.CounterKey{Scope: store.ScopeIP, IP: req.IP}, Rule: v.limits.IP})
	}
	return cs
}

func (v *Verifier) userKey(userID string) store.CounterKey {
	return store.CounterKey{Scope: store.ScopeUser, UserID: userID}
}

func (v *Verifier) factorKey(userID, factorID string) store.CounterKey {
	return store.CounterKey{Scope: store.ScopeFactor, UserID: userID, FactorID: factorID}
}

// ipCounters are the IP counters among cs: a success forgives its own
// count on them rather than clearing them.
func ipCounters(cs []store.Counter) []store.Counter {
	var out []store.Counter
	for _, c := range cs {
		if c.Key.Scope == store.ScopeIP {
			out = append(out, c)
		}
	}
	return out
}

// unguessable reports whether kind's responses are signatures.
func (v *Verifier) unguessable(kind Kind) bool {
	if kind == "" {
		return false // no factor has the empty kind (New refuses it)
	}
	_, ok := v.factors[kind].(factor.Unguessable)
	return ok
}

// challenged reports whether kind answers only a challenge.
func (v *Verifier) challenged(kind Kind) bool {
	if kind == "" {
		return false // no factor has the empty kind (New refuses it)
	}
	_, ok := v.factors[kind].(factor.Challenger)
	return ok
}

// recount takes back the counts an attempt made on counters its factor's
// kind must not be charged: the request named only a factor ID, so it was
// counted as a code before the factor was loaded. A signature kind gets
// its user count back; a kind that needs a challenge, answered without
// one, gets every count but the IP's back, as the attempt carried no
// challenge issued for it.
func (v *Verifier) recount(ctx context.Context, a *attempt, req VerifyRequest, userless bool) error {
	// The counters depend on the kind only through whether it is
	// unguessable: the usual attempt, counted as the code it is, has
	// nothing to take back.
	_, challenger := a.factor.(factor.Challenger)
	_, unguessable := a.factor.(factor.Unguessable)
	if (!challenger || req.ChallengeID != "") && unguessable == v.unguessable(a.counted) {
		return nil
	}
	// The common case takes nothing back: want lives on the stack and is
	// copied only when it replaces a.cs.
	var buf [3]store.Counter
	want := v.appendCounters(buf[:0], req, a.ev.Kind, userless)
	if _, ok := a.factor.(factor.Challenger); ok && req.ChallengeID == "" {
		want = ipCounters(want)
	}
	var back []store.Counter
	for _, c := range a.cs {
		if !slices.ContainsFunc(want, func(w store.Counter) bool { return w.Key == c.Key }) {
			back = append(back, c)
		}
	}
	if len(back) == 0 {
		return nil
	}
	if err := v.store.Forgive(ctx, a.now, back...); err != nil {
		return v.fail(ctx, a.ev, wrap(ErrStore, err))
	}
	a.cs = slices.Clone(want)
	return nil
}

// failByIP reports an attempt that is charged to the client IP alone: its
// response named no factor of the user, or it carried no live challenge
// issued for it. No secret was compared and no user's counter moves, but
// the IP's does, and a failure is emitted, so spraying is limited and
// seen.
func (v *Verifier) failByIP(ctx context.Context, req VerifyRequest, err error) error {
	ev := Event{UserID: req.UserID, FactorID: req.FactorID, Kind: req.Kind, IP: req.IP, Time: v.now(), Remaining: -1}
	if req.IP != "" && !errors.Is(err, ErrStore) {
		ip := store.Counter{Key: store.CounterKey{Scope: store.ScopeIP, IP: req.IP}, Rule: v.limits.IP}
		hit, herr := v.store.Hit(ctx, store.HitRequest{Now: ev.Time, Counters: []store.Counter{ip}})
		if herr != nil {
			return v.fail(ctx, ev, wrap(ErrStore, herr))
		}
		if !hit.Admitted {
			return v.refuse(ctx, ev, hit)
		}
	}
	return v.fail(ctx, ev, err)
}

// refuse reports a rate-limited or locked attempt.
func (v *Verifier) refuse(ctx context.Context, ev Event, hit store.HitResult) error {
	var err error
	if hit.Locked {
		ev.Type, ev.Reason = EventLocked, ErrLocked.Error()
		err = ErrLocked
	} else {
		ev.Type, ev.Reason, ev.RetryAfter = EventRateLimited, ErrRateLimited.Error(), hit.RetryAfter
		err = &RateLimitError{RetryAfter: hit.RetryAfter}
	}
	if herr := v.emit(ctx, ev); herr != nil {
		return errors.Join(err, herr)
	}
	return err
}

// Unlock clears every failure counter of a user: the operator's way out of
// a lock after the cap. It emits EventUnlocked.
func (v *Verifier) Unlock(ctx context.Context, userID string) error {
	if userID == "" {
		return fmt.Errorf("%w: a user ID is required", ErrInvalidInput)
	}
	if err := checkIDs(userID); err != nil {
		return err
	}
	list, err := v.store.ListFactors(ctx, userID)
	if err != nil {
		return wrap(ErrStore, err)
	}
	keys := []store.CounterKey{v.userKey(userID)}
	for _, f := range list {
		keys = append(keys, v.factorKey(userID, f.ID))
	}
	if err := v.store.Reset(ctx, keys...); err != nil {
		return wrap(ErrStore, err)
	}
	return v.emit(ctx, Event{Type: EventUnlocked, Time: v.now(), UserID: userID, Remaining: -1})
}

// Lockout is the state of a user's failure counter, for operators: how
// many consecutive failures it holds and whether it refuses attempts.
type Lockout struct {
	Failures int
	// Locked: the cap was reached; only [Verifier.Unlock] admits again.
	Locked bool
	// RetryAfter is when a delayed user is admitted again; zero when not
	// delayed (or locked).
	RetryAfter time.Time
}

// Lockout reads a user's failure counter without counting anything: the
// operator's view before an [Verifier.Unlock].
func (v *Verifier) Lockout(ctx context.Context, userID string) (Lockout, error) {
	if userID == "" {
		return Lockout{}, fmt.Errorf("%w: a user ID is required", ErrInvalidInput)
	}
	if err := checkIDs(userID); err != nil {
		return Lockout{}, err
	}
	s, err := v.store.CounterState(ctx, v.userKey(userID))
	if err != nil {
		return Lockout{}, wrap(ErrStore, err)
	}
	out := Lockout{Failures: s.Failures}
	if blocked, hard, until := v.limits.User.Blocked(s, v.now()); blocked {
		out.Locked, out.RetryAfter = hard, until
	} else if !s.Expires.IsZero() && !v.now().Before(s.Expires) {
		out.Failures = 0 // forgotten
	}
	return out, nil
}
