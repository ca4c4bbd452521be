package store

import (
	"context"
	"math"
	"strconv"
	"strings"
	"time"
)

// Scope says what a failure counter counts. The constants below are the
// scopes the Verifier uses today; callers may add others.
type Scope string

const (
	ScopeUser   Scope = "user"   // one user, across all factors
	ScopeFactor Scope = "factor" // one factor of one user
	ScopeIP     Scope = "ip"     // one client address, across users
	// ScopeIssue counts challenges issued, not failures: to one user
	// (UserID set), to one client address (IP set), or to everyone (both
	// empty), each within a fixed Window.
	ScopeIssue Scope = "issue"
)

// CounterKey names one failure counter. Fields a scope does not use are empty.
//
// A backend treats Scope as opaque text, as it does the other fields: it
// keeps the counter under [CounterKey.String] (or an equivalent encoding of
// all its fields) and never refuses or special-cases a scope it does not
// know, so new scopes need no backend change. A backend may use a known
// scope as a placement hint (redisstore shards ScopeIP counters by IP), but
// a counter of any other scope must behave exactly the same.
type CounterKey struct {
	Scope    Scope
	UserID   string
	FactorID string
	IP       string
	// Window, when set, names the fixed time window the counter belongs
	// to, so each window counts afresh (issuance caps). Keys without one
	// keep the encoding they always had.
	Window string
}

// String is the canonical text form of the key, the same in every backend:
// the scope and its fields, each escaped so no user or factor ID can forge
// another key.
func (k CounterKey) String() string {
	fields := [...]string{k.UserID, k.FactorID, k.IP, k.Window}
	n := len(fields)
	if k.Window == "" {
		n-- // the form every key had before windows
	}
	size := len(k.Scope)
	for _, s := range fields[:n] {
		size += len(s) + 2 + len(strconv.Itoa(len(s)))
	}
	var b strings.Builder
	b.Grow(size)
	b.WriteString(string(k.Scope))
	for _, s := range fields[:n] {
		b.WriteByte('|')
		b.WriteString(strconv.Itoa(len(s)))
		b.WriteByte(':')
		b.WriteString(s)
	}
	return b.String()
}

// Rule is the policy of one counter. Backends apply it exactly as
// [Rule.Apply] describes, so every backend locks at the same moment.
type Rule struct {
	// Free is the number of failures admitted without delay. After the
	// Free-th failure every further attempt waits.
	Free int
	// Base is the first delay; each further failure doubles it, up to Max.
	Base, Max time.Duration
	// Cap locks the counter once it reaches Cap failures until a Reset
	// (an operator's unlock, or a success counted before the cap). 0: no cap.
	Cap int
	// TTL forgets an idle counter this long after its last failure. 0 keeps
	// it until reset, as consecutive-failure counts must be.
	TTL time.Duration
}

// Counter is one key and its rule, as passed to [Counters.Hit].
type Counter struct {
	Key  CounterKey
	Rule Rule
}

// CounterState is what a backend keeps per key.
type CounterState struct {
	Failures int
	Until    time.Time // no attempt before this instant
	Expires  time.Time // zero: never (Rule.TTL == 0)
}

// Blocked reports whether the state refuses an attempt at now, and until
// when (zero for a hard lock).
func (r Rule) Blocked(s CounterState, now time.Time) (blocked, hard bool, until time.Time) {
	if !s.Expires.IsZero() && !now.Before(s.Expires) {
		return false, false, time.Time{} // forgotten
	}
	if r.Cap > 0 && s.Failures >= r.Cap {
		return true, true, time.Time{}
	}
	if now.Before(s.Until) {
		return true, false, s.Until
	}
	return false, false, time.Time{}
}

// Apply returns the state after one admitted attempt at now is counted as a
// failure: the count grows by one (from zero when the state had expired),
// the delay is set once the count reaches Free, and the expiry moves.
func (r Rule) Apply(s CounterState, now time.Time) CounterState {
	if !s.Expires.IsZero() && !now.Before(s.Expires) {
		s = CounterState{}
	}
	s.Failures++
	if r.Free > 0 && s.Failures >= r.Free {
		s.Until = now.Add(r.Delay(s.Failures))
	}
	if r.TTL > 0 {
		s.Expires = now.Add(r.TTL)
	}
	return s
}

// Decide applies [Rule.Blocked] to every counter of req, given each one's
// stored state, exactly as [Counters.Hit] must: when any blocks, the refusal
// (Locked for a cap, else the latest Until as RetryAfter); otherwise a
// result with Admitted set. Backends that decide in Go call it so they all
// decide alike.
func Decide(req HitRequest, state func(CounterKey) CounterState) HitResult {
	return decide(req, func(i int) CounterState { return state(req.Counters[i].Key) })
}

// DecideStates is [Decide] for a backend that has already read every
// counter: states[i] is the stored state of req.Counters[i].
func DecideStates(req HitRequest, states []CounterState) HitResult {
	return decide(req, func(i int) CounterState { return states[i] })
}

func decide(req HitRequest, state func(int) CounterState) HitResult {
	var res HitResult
	blocked := false
	for i, c := range req.Counters {
		b, hard, until := c.Rule.Blocked(state(i), req.Now)
		switch {
		case !b:
		case hard:
			blocked, res.Locked = true, true
		case until.After(res.RetryAfter):
			blocked, res.RetryAfter = true, until
		default:
			blocked = true
		}
	}
	if res.Locked {
		res.RetryAfter = time.Time{} // only a Reset admits again
	}
	res.Admitted = !blocked
	return res
}

// Forgive returns the state after one counted attempt is taken back, as a
// success does on a counter that counts failures only: one failure less
// (never below zero) and no delay once the count is below Free. A missing
// or expired state is returned unchanged.
func (r Rule) Forgive(s CounterState, now time.Time) CounterState {
	if s.Failures == 0 || (!s.Expires.IsZero() && !now.Before(s.Expires)) {
		return s
	}
	s.Failures--
	if s.Failures < r.Free {
		s.Until = time.Time{}
	}
	return s
}

// Delay is the wait imposed after the given number of failures: Base after
// the Free-th, doubling with each further failure, never above Max. It never
// shrinks as failures grow.
func (r Rule) Delay(failures int) time.Duration {
	if r.Free <= 0 || failures < r.Free || r.Base <= 0 {
		return 0
	}
	d := r.Base
	for i := r.Free; i < failures; i++ {
		if r.Max > 0 && d >= r.Max {
			break
		}
		if d > math.MaxInt64/2 {
			// Doubling would wrap to a negative delay (no Max, or one
			// near the largest Duration): stay at the largest instead.
			d = math.MaxInt64
			break
		}
		d *= 2
	}
	if r.Max > 0 && d > r.Max {
		d = r.Max
	}
	return d
}

// HitRequest is the argument of [Counters.Hit].
type HitRequest struct {
	Now      time.Time
	Counters []Counter
	// Load, when its ID is non-empty, asks for that factor in the same
	// round trip when the attempt is admitted.
	Load FactorRef
}

// HitResult is what [Counters.Hit] decided.
type HitResult struct {
	Admitted bool
	// Locked: some counter reached its Cap; only a Reset admits again.
	Locked bool
	// RetryAfter: when refused by a delay, the earliest instant at which
	// every counter admits again.
	RetryAfter time.Time
	// Found reports that the factor named by HitRequest.Load exists; it is
	// then in Factor. Both are zero when nothing was loaded or the attempt
	// was not admitted.
	Found  bool
	Factor Factor
}

// Counters keeps failure counters. Every attempt is counted before any
// secret is compared: the caller counts it as a failure up front and clears
// the counters in the success commit ([Factors.Advance] with Reset).
type Counters interface {
	// Hit atomically decides and counts one attempt against every counter in
	// req. If any counter is blocked at req.Now (see [Rule.Blocked]) nothing
	// is counted and the result is not admitted: Locked when a cap is
	// reached, else RetryAfter is the latest Until among blocked counters.
	// Otherwise every counter moves to Rule.Apply(state, req.Now) and the
	// attempt is admitted. Of N concurrent hits on a counter with Free f and
	// no earlier failures, at most f are admitted. Hit must not keep
	// req.Counters after it returns: the caller reuses the slice.
	Hit(ctx context.Context, req HitRequest) (HitResult, error)
	// Reset clears the named counters. Clearing a missing counter is not an
	// error.
	Reset(ctx context.Context, keys ...CounterKey) error
	// Forgive moves each named counter to Rule.Forgive(state, now): the
	// same as [Advance.Forgive]. Its caller is [Split.Advance], whose
	// counters live apart from its factors; a backend that keeps both
	// forgives inside Advance instead. A missing counter is not an error.
	Forgive(ctx context.Context, now time.Time, counters ...Counter) error
	// CounterState returns the current state of one counter as stored, for
	// operators (reading why a user is locked) and tests; a missing counter
	// is the zero state.
	CounterState(ctx context.Context, key CounterKey) (CounterState, error)
}
