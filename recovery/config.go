package recovery

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"time"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/store"
)

// Store is what a Manager keeps: cases, the counters of its caps, and a
// read of the user's factors (to see whether the owner came back). Every
// backend of this module implements it.
type Store interface {
	store.Recovery
	store.Counters
	ListFactors(ctx context.Context, userID string) ([]store.Factor, error)
}

// Caps bound how many cases are opened, per user and per client address,
// within fixed windows aligned to the Unix epoch. Each case notifies the
// user and lands in an operator's queue, so a flood costs both.
type Caps struct {
	// Window is the length of the windows. Default 24 hours.
	Window time.Duration
	// PerUser is the most cases opened for one user in a window.
	// Default 3.
	PerUser int
	// PerIP is the most cases opened from one address in a window,
	// whoever they name. Default 10.
	PerIP int
}

// Config configures a [Manager]. Store, Verifier and Notify are required;
// every other field is safe when zero.
type Config struct {
	// Store keeps the cases and the caps' counters. Required.
	Store Store
	// Verifier is the application's; its Hasher keys the grant tokens'
	// hashes, and a recovery's enrolment goes through it. Required.
	Verifier *mfa.Verifier
	// Notify tells the user of every recovery of their account. Required:
	// the owner hearing of a recovery is what the waiting period is for.
	Notify Notifier
	// Wait is the least time between opening a case and its approval
	// taking effect. Default 24 hours (see the package documentation for
	// why); 0 takes the default, and no setting is below 1 hour.
	Wait time.Duration
	// GrantTTL is how long an approval, once in effect, can be redeemed.
	// Default 24 hours.
	GrantTTL time.Duration
	// EnrollWindow is how long after redemption the new factor must be
	// confirmed. Default 10 minutes; keep it at most the Verifier's
	// FreshFor, which refuses the enrolment after that.
	EnrollWindow time.Duration
	// PendingTTL is how long a case may wait for review. Default 14 days.
	PendingTTL time.Duration
	// Caps bound how many cases are opened. Zero fields take the defaults.
	Caps Caps
	// KeepOldFactors keeps the user's other factors when the new one is
	// confirmed. Default false: the user declared them lost, so they are
	// removed at once.
	KeepOldFactors bool
	// AutoApprove, when set, is asked about each new case; true approves
	// it at once (the waiting period still applies). Weaker than review:
	// nobody looks at the case. Default nil: every case waits for an
	// operator.
	AutoApprove func(ctx context.Context, c Case) (bool, error)
	// Hooks receive every event (the audit trail). Default none.
	Hooks []Hook
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Rand is the source of case IDs and tokens. Default crypto/rand.Reader.
	Rand io.Reader
}

// Manager opens, reviews and redeems recovery cases. It keeps no state
// between calls; any number of Managers sharing a store behave as one.
type Manager struct {
	store        Store
	v            *mfa.Verifier
	hasher       *mfa.Hasher
	notify       Notifier
	wait         time.Duration
	grantTTL     time.Duration
	enrollWindow time.Duration
	pendingTTL   time.Duration
	caps         Caps
	keepOld      bool
	auto         func(ctx context.Context, c Case) (bool, error)
	hooks        []Hook
	now          func() time.Time
	rand         io.Reader
}

// MinWait is the shortest waiting period New accepts.
const MinWait = time.Hour

// New validates cfg and returns a Manager.
func New(cfg Config) (*Manager, error) {
	switch {
	case cfg.Store == nil:
		return nil, fmt.Errorf("%w: Store is required", ErrConfig)
	case cfg.Verifier == nil:
		return nil, fmt.Errorf("%w: Verifier is required", ErrConfig)
	case cfg.Notify == nil:
		return nil, fmt.Errorf("%w: Notify is required", ErrConfig)
	case cfg.Wait < 0, cfg.GrantTTL < 0, cfg.EnrollWindow < 0, cfg.PendingTTL < 0, cfg.Caps.Window < 0:
		return nil, fmt.Errorf("%w: negative duration", ErrConfig)
	case cfg.Wait != 0 && cfg.Wait < MinWait:
		return nil, fmt.Errorf("%w: Wait must be at least %s", ErrConfig, MinWait)
	}
	m := &Manager{
		store: cfg.Store, v: cfg.Verifier, hasher: cfg.Verifier.Hasher(), notify: cfg.Notify,
		wait: or(cfg.Wait, 24*time.Hour), grantTTL: or(cfg.GrantTTL, 24*time.Hour),
		enrollWindow: or(cfg.EnrollWindow, 10*time.Minute), pendingTTL: or(cfg.PendingTTL, 14*24*time.Hour),
		caps: cfg.Caps, keepOld: cfg.KeepOldFactors, auto: cfg.AutoApprove,
		hooks: append([]Hook(nil), cfg.Hooks...), now: cfg.Now, rand: cfg.Rand,
	}
	m.caps.Window = or(m.caps.Window, 24*time.Hour)
	if m.caps.PerUser == 0 {
		m.caps.PerUser = 3
	}
	if m.caps.PerIP == 0 {
		m.caps.PerIP = 10
	}
	if m.caps.Window < time.Second {
		return nil, fmt.Errorf("%w: Caps.Window must be at least a second", ErrConfig)
	}
	if m.now == nil {
		m.now = time.Now
	}
	if m.rand == nil {
		m.rand = rand.Reader
	}
	return m, nil
}

func or(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}
