package mfa

import (
	"context"
	"errors"
	"fmt"
	"time"

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

// counters are the failure counters an attempt on one factor is counted
// against: the user's, the factor's and, when the request names one, the
// client IP's.
func (v *Verifier) counters(userID, factorID, ip string) []store.Counter {
	cs := make([]store.Counter, 2, 3)
	cs[0] = store.Counter{Key: store.CounterKey{Scope: store.ScopeUser, UserID: userID}, Rule: v.limits.User}
	cs[1] = store.Counter{Key: store.CounterKey{Scope: store.ScopeFactor, UserID: userID, FactorID: factorID}, Rule: v.limits.Factor}
	if ip != "" {
		cs = append(cs, store.Counter{Key: store.CounterKey{Scope: store.ScopeIP, IP: ip}, Rule: v.limits.IP})
	}
	return cs
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
	keys := []store.CounterKey{{Scope: store.ScopeUser, UserID: userID}}
	for _, f := range list {
		keys = append(keys, store.CounterKey{Scope: store.ScopeFactor, UserID: userID, FactorID: f.ID})
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
	s, err := v.store.CounterState(ctx, store.CounterKey{Scope: store.ScopeUser, UserID: userID})
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
