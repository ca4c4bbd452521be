package push

import (
	"context"
	"fmt"
	"time"

	"github.com/mfakit/mfa/factor"
	"github.com/mfakit/mfa/store"
)

// Kind is the factor kind of push devices.
const Kind factor.Kind = "push"

// Store is what package push keeps in the application's store, besides
// what the Verifier keeps: short-lived request, answer and pairing records
// (Challenges), the fatigue counters (Hit, CounterState) and the paired
// devices' lookup (FindFactor). The values of store/memstore,
// store/sqlstore and store/redisstore satisfy it; pass the same value as
// mfa.Config.Store.
type Store interface {
	store.Challenges
	// FindFactor finds a paired device by its device ID.
	FindFactor(ctx context.Context, kind, lookup string) (store.Factor, error)
	Hit(ctx context.Context, req store.HitRequest) (store.HitResult, error)
	CounterState(ctx context.Context, key store.CounterKey) (store.CounterState, error)
}

// Config configures a [Factor]. Store and HashKey are required; every
// other field is safe when zero.
type Config struct {
	// Store keeps requests, answers and counters. Required.
	Store Store
	// HashKey keys the IDs of the records push keeps and the hash of each
	// request's number: at least 32 random bytes, kept outside the
	// database. mfa.Config.HashKey may be reused. Required.
	HashKey []byte
	// App names the application on the device's prompt. Default "".
	App string
	// TTL is how long a push request may be answered. Default 2 minutes,
	// which is also the most allowed.
	TTL time.Duration
	// PairingTTL is how long a pairing code may be used. Default 10
	// minutes, which is also the most allowed; the Verifier's ChallengeTTL
	// ends it sooner when shorter.
	PairingTTL time.Duration
	// Choices is how many numbers the device offers, the right one among
	// them. Default 3; between 3 and 9.
	Choices int
	// PerHour caps the pushes sent to one user in a fixed hour. Default 6;
	// negative turns the cap off (the Verifier's IssueLimits still apply).
	PerHour int
	// PauseAfter is how many denials or wrong numbers within PauseFor
	// pause pushes to the user for PauseFor. Default 3; negative never
	// pauses.
	PauseAfter int
	// PauseFor is how long a pause lasts, and the window PauseAfter counts
	// in. Default 1 hour.
	PauseFor time.Duration
	// PollSkew is how far a device's signed poll time may be from the
	// server's clock. Default 1 minute.
	PollSkew time.Duration
	// Notifier delivers requests to devices that registered a way to reach
	// them. Default none: devices poll ([Factor.Poll]).
	Notifier Notifier
	// Hooks receive the device side's events ([EventSuspectedFraud],
	// [EventPaused]). Default none.
	Hooks []Hook
	// Now is the clock of the device endpoints (Answer, Poll, Answered);
	// the Verifier passes its own to Challenge and Verify. Default
	// time.Now.
	Now func() time.Time
}

// Factor is the push factor: give it to mfa.Config.Factors, and call its
// device endpoints ([Factor.Answer], [Factor.Poll]) and the signing-in
// browser's poll ([Factor.Answered]) from your handlers.
type Factor struct {
	cfg    Config
	hasher *factor.Hasher
}

// New validates cfg and returns a Factor.
func New(cfg Config) (*Factor, error) {
	if cfg.Store == nil {
		return nil, fmt.Errorf("%w: push: Store is required", factor.ErrConfig)
	}
	h, err := factor.NewHasher(cfg.HashKey)
	if err != nil {
		return nil, fmt.Errorf("push: HashKey: %w", err)
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&cfg.TTL, 2*time.Minute)
	def(&cfg.PairingTTL, 10*time.Minute)
	def(&cfg.PauseFor, time.Hour)
	def(&cfg.PollSkew, time.Minute)
	if cfg.Choices == 0 {
		cfg.Choices = 3
	}
	if cfg.PerHour == 0 {
		cfg.PerHour = 6
	}
	if cfg.PauseAfter == 0 {
		cfg.PauseAfter = 3
	}
	switch {
	case cfg.TTL < 0 || cfg.TTL > 2*time.Minute:
		return nil, fmt.Errorf("%w: push: TTL must be at most 2 minutes", factor.ErrConfig)
	case cfg.PairingTTL < 0 || cfg.PairingTTL > 10*time.Minute:
		return nil, fmt.Errorf("%w: push: PairingTTL must be at most 10 minutes", factor.ErrConfig)
	case cfg.Choices < 3 || cfg.Choices > 9:
		return nil, fmt.Errorf("%w: push: Choices must be between 3 and 9", factor.ErrConfig)
	case cfg.PauseFor < 0 || cfg.PollSkew < 0:
		return nil, fmt.Errorf("%w: push: negative duration", factor.ErrConfig)
	case len(cfg.App) > 64:
		return nil, fmt.Errorf("%w: push: App longer than 64 bytes", factor.ErrConfig)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.Hooks = append([]Hook(nil), cfg.Hooks...)
	return &Factor{cfg: cfg, hasher: h}, nil
}

// Kind reports [Kind].
func (*Factor) Kind() factor.Kind { return Kind }

// Unguessable marks push as a signature kind (see factor.Unguessable): a
// refused answer is no guess at a secret the server holds, so it counts
// against the device and the client IP, never against the user's lockout
// of the code factors.
func (*Factor) Unguessable() {}

func (f *Factor) emit(ctx context.Context, e Event) error {
	for _, h := range f.cfg.Hooks {
		if err := h(ctx, e); err != nil {
			return fmt.Errorf("push: hook: %w", err)
		}
	}
	return nil
}
