package mfa

import (
	"crypto/rand"
	"fmt"
	"io"
	"time"
)

// Config configures a [Verifier]. Store, Factors, Sealer and HashKey (or
// HashKeys) are required; every other field is safe when zero.
type Config struct {
	// Store keeps all state. Required.
	Store Store
	// Factors are the kinds offered, at most one per Kind. Required.
	Factors []Factor
	// Sealer encrypts secrets at rest (see [Keyring]). Required.
	Sealer Sealer
	// HashKey keys the hashes of codes and tokens: at least 32 random
	// bytes, kept outside the database. Required unless HashKeys is set.
	HashKey []byte
	// HashKeys replaces HashKey with a ring that rotates: new hashes use
	// the first key, stored hashes name their key, and every key listed
	// still checks them. To rotate away from HashKey, list the new key
	// first and the old one with the empty ID. Default none.
	HashKeys []HashKey
	// Limits are the failure counters' rules. Zero fields take the
	// defaults documented on [Limits].
	Limits Limits
	// Issue caps how many challenges are issued. Zero fields take the
	// defaults documented on [IssueLimits].
	Issue IssueLimits
	// ChallengeTTL is how long a challenge lives. Default 5 minutes; at
	// most 10 minutes.
	ChallengeTTL time.Duration
	// EnrollTTL is how long a pending enrolment may wait for its
	// confirmation. Default 15 minutes.
	EnrollTTL time.Duration
	// FreshFor is how recent a second-factor verification must be to add,
	// remove or regenerate a factor. Default 10 minutes.
	FreshFor time.Duration
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Rand is the source of IDs and secrets. Default crypto/rand.Reader.
	Rand io.Reader
	// Hooks receive every event. Default none.
	Hooks []Hook
	// Guard runs before every verification and may deny it. Default none.
	Guard Guard
	// RefuseRestricted refuses restricted authenticators (SMS codes, see
	// [factor.Restricted]): no challenge is issued and no enrolment
	// begins for them (ErrUnsupportedKind). Default false: they are
	// allowed, their results say Restricted.
	RefuseRestricted bool
}

// New validates cfg and returns a Verifier.
func New(cfg Config) (*Verifier, error) {
	if cfg.Store == nil {
		return nil, fmt.Errorf("%w: Store is required", ErrConfig)
	}
	if cfg.Sealer == nil {
		return nil, fmt.Errorf("%w: Sealer is required", ErrConfig)
	}
	if len(cfg.Factors) == 0 {
		return nil, fmt.Errorf("%w: at least one Factor is required", ErrConfig)
	}
	h, err := hasherFor(cfg)
	if err != nil {
		return nil, err
	}
	limits, err := cfg.Limits.withDefaults()
	if err != nil {
		return nil, err
	}
	issue, err := cfg.Issue.withDefaults()
	if err != nil {
		return nil, err
	}
	v := &Verifier{
		store:            cfg.Store,
		factors:          make(map[Kind]Factor, len(cfg.Factors)),
		sealer:           cfg.Sealer,
		hasher:           h,
		limits:           limits,
		issue:            issue,
		challengeTTL:     orDefault(cfg.ChallengeTTL, 5*time.Minute),
		enrollTTL:        orDefault(cfg.EnrollTTL, 15*time.Minute),
		freshFor:         orDefault(cfg.FreshFor, 10*time.Minute),
		now:              cfg.Now,
		rand:             cfg.Rand,
		hooks:            append([]Hook(nil), cfg.Hooks...),
		guard:            cfg.Guard,
		refuseRestricted: cfg.RefuseRestricted,
	}
	for _, f := range cfg.Factors {
		if f == nil || f.Kind() == "" {
			return nil, fmt.Errorf("%w: nil factor or empty kind", ErrConfig)
		}
		if _, dup := v.factors[f.Kind()]; dup {
			return nil, fmt.Errorf("%w: two factors of kind %q", ErrConfig, f.Kind())
		}
		v.factors[f.Kind()] = f
	}
	v.decoyKind = v.pickDecoyKind(cfg.Factors)
	if v.challengeTTL < 0 || v.challengeTTL > 10*time.Minute {
		return nil, fmt.Errorf("%w: ChallengeTTL must be at most 10 minutes", ErrConfig)
	}
	if v.enrollTTL < 0 || v.freshFor < 0 {
		return nil, fmt.Errorf("%w: negative duration", ErrConfig)
	}
	if v.now == nil {
		v.now = time.Now
	}
	if v.rand == nil {
		v.rand = rand.Reader
	}
	return v, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}
