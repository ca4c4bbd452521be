package timed

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mfakit/mfa/store"
)

// ErrConfig: the Config given to [New] is invalid.
var ErrConfig = errors.New("mfa: timed: invalid config")

// Op names one store operation: the method's name.
type Op string

// The operations, one per method of the store concerns.
const (
	OpCreateFactor        Op = "CreateFactor"
	OpGetFactor           Op = "GetFactor"
	OpFindFactor          Op = "FindFactor"
	OpListFactors         Op = "ListFactors"
	OpUpdateFactor        Op = "UpdateFactor"
	OpDeleteFactor        Op = "DeleteFactor"
	OpDeletePendingFactor Op = "DeletePendingFactor"
	OpAdvance             Op = "Advance"

	OpHit          Op = "Hit"
	OpReset        Op = "Reset"
	OpForgive      Op = "Forgive"
	OpCounterState Op = "CounterState"

	OpPutChallenge  Op = "PutChallenge"
	OpTakeChallenge Op = "TakeChallenge"

	OpCreateSession      Op = "CreateSession"
	OpGetSession         Op = "GetSession"
	OpRotateRefresh      Op = "RotateRefresh"
	OpRevokeSession      Op = "RevokeSession"
	OpRevokeUserSessions Op = "RevokeUserSessions"
	OpListSessions       Op = "ListSessions"

	OpCreateDevice      Op = "CreateDevice"
	OpGetDevice         Op = "GetDevice"
	OpListDevices       Op = "ListDevices"
	OpDeleteDevice      Op = "DeleteDevice"
	OpDeleteUserDevices Op = "DeleteUserDevices"

	OpCreateCase    Op = "CreateCase"
	OpGetCase       Op = "GetCase"
	OpListCases     Op = "ListCases"
	OpListOpenCases Op = "ListOpenCases"
	OpMoveCase      Op = "MoveCase"

	OpObserve Op = "Observe"

	OpScanFactors Op = "ScanFactors"
	OpSwapSecret  Op = "SwapSecret"

	OpSweep Op = "Sweep"
)

// Ops returns every [Op], in the order the constants are declared: the
// closed set an adapter may pre-declare as label values.
func Ops() []Op {
	return []Op{
		OpCreateFactor, OpGetFactor, OpFindFactor, OpListFactors, OpUpdateFactor, OpDeleteFactor,
		OpDeletePendingFactor, OpAdvance,
		OpHit, OpReset, OpForgive, OpCounterState,
		OpPutChallenge, OpTakeChallenge,
		OpCreateSession, OpGetSession, OpRotateRefresh, OpRevokeSession, OpRevokeUserSessions, OpListSessions,
		OpCreateDevice, OpGetDevice, OpListDevices, OpDeleteDevice, OpDeleteUserDevices,
		OpCreateCase, OpGetCase, OpListCases, OpListOpenCases, OpMoveCase,
		OpObserve,
		OpScanFactors, OpSwapSecret,
		OpSweep,
	}
}

// Outcome says how a store call ended, from the sentinel its error wraps.
// Only OK and the expected refusals (NotFound, Conflict, Exists, Reused)
// are part of normal traffic: a TakeChallenge of an expired challenge is
// NotFound, a lost single-use race is Conflict.
type Outcome string

// The outcomes, checked in this order.
const (
	OK       Outcome = "ok"        // nil error
	NotFound Outcome = "not_found" // store.ErrNotFound
	Conflict Outcome = "conflict"  // store.ErrConflict
	Exists   Outcome = "exists"    // store.ErrExists
	Reused   Outcome = "reused"    // store.ErrReused
	Invalid  Outcome = "invalid"   // store.ErrInvalid
	Error    Outcome = "error"     // any other error: the backend failed
)

// Outcomes returns every [Outcome], in the order above.
func Outcomes() []Outcome {
	return []Outcome{OK, NotFound, Conflict, Exists, Reused, Invalid, Error}
}

// OutcomeOf classifies a store method's error.
func OutcomeOf(err error) Outcome {
	switch {
	case err == nil:
		return OK
	case errors.Is(err, store.ErrNotFound):
		return NotFound
	case errors.Is(err, store.ErrConflict):
		return Conflict
	case errors.Is(err, store.ErrExists):
		return Exists
	case errors.Is(err, store.ErrReused):
		return Reused
	case errors.Is(err, store.ErrInvalid):
		return Invalid
	}
	return Error
}

// Call is one finished store call.
type Call struct {
	Op       Op
	Outcome  Outcome
	Duration time.Duration
}

// Observer receives every finished store call, synchronously, on the
// goroutine that made it, after the backend returned and before the
// caller sees the result. It must be safe for concurrent use, fast, and
// must not block or call the store. It cannot change the call's result.
type Observer interface {
	ObserveStoreCall(ctx context.Context, c Call)
}

// ObserverFunc adapts a function to an [Observer].
type ObserverFunc func(ctx context.Context, c Call)

// ObserveStoreCall calls f.
func (f ObserverFunc) ObserveStoreCall(ctx context.Context, c Call) { f(ctx, c) }

// Config configures a [Timer].
type Config struct {
	// Observer receives every call. Required.
	Observer Observer
	// Now reads the clock that durations are measured with. Default
	// time.Now (whose monotonic reading makes durations immune to
	// wall-clock steps).
	Now func() time.Time
}

// Timer wraps store backends so each of their calls is reported to one
// Observer. It holds no state besides its Config and is safe for
// concurrent use; the values it returns are too, when their backend is.
type Timer struct {
	obs Observer
	now func() time.Time
}

// New returns a Timer, or an error wrapping ErrConfig when c.Observer is
// nil.
func New(c Config) (*Timer, error) {
	if c.Observer == nil {
		return nil, fmt.Errorf("%w: Observer is required", ErrConfig)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return &Timer{obs: c.Observer, now: c.Now}, nil
}

// done reports the call op that began at start and ended with err.
func (t *Timer) done(ctx context.Context, op Op, start time.Time, err error) {
	t.obs.ObserveStoreCall(ctx, Call{Op: op, Outcome: OutcomeOf(err), Duration: t.now().Sub(start)})
}
