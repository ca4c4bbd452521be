package timed

import (
	"context"

	"github.com/mfakit/mfa/store"
)

// VerifierStore is what a Verifier keeps: the same method set as
// mfa.Store, so either is assignable to the other.
type VerifierStore interface {
	store.Factors
	store.Counters
	store.Challenges
}

// SessionStore is what a session Manager keeps: the same method set as
// session.Store.
type SessionStore interface {
	store.Sessions
	store.Devices
}

// RecoveryStore is what a recovery Manager keeps: the same method set as
// recovery.Store.
type RecoveryStore interface {
	store.Recovery
	store.Counters
	ListFactors(ctx context.Context, userID string) ([]store.Factor, error)
}

type verifier struct {
	factors
	counters
	challenges
}

type verifierReseal struct {
	verifier
	resealable
}

type verifierSweep struct {
	verifier
	sweeper
}

type verifierResealSweep struct {
	verifier
	resealable
	sweeper
}

// ForVerifier returns s timed, for mfa.Config.Store. The result is a
// [VerifierStore]; it is also a [store.Resealable] if and only if s is one
// (so Verifier.Reseal works through it), and a [store.Sweeper] if and only
// if s is one. It implements no other concern, whatever s does.
func (t *Timer) ForVerifier(s VerifierStore) VerifierStore {
	v := verifier{factors{s, t}, counters{s, t}, challenges{s, t}}
	rs, reseal := s.(store.Resealable)
	sw, sweep := s.(store.Sweeper)
	switch {
	case reseal && sweep:
		return &verifierResealSweep{v, resealable{rs, t}, sweeper{sw, t}}
	case reseal:
		return &verifierReseal{v, resealable{rs, t}}
	case sweep:
		return &verifierSweep{v, sweeper{sw, t}}
	}
	return &v
}

type sessionStore struct {
	sessions
	devices
}

type sessionStoreSweep struct {
	sessionStore
	sweeper
}

// ForSessions returns s timed, for session.Config.Store. The result is a
// [SessionStore]; it is also a [store.Sweeper] if and only if s is one. It
// implements no other concern, whatever s does.
func (t *Timer) ForSessions(s SessionStore) SessionStore {
	v := sessionStore{sessions{s, t}, devices{s, t}}
	if sw, ok := s.(store.Sweeper); ok {
		return &sessionStoreSweep{v, sweeper{sw, t}}
	}
	return &v
}

type recoveryStore struct {
	recovery
	counters
	list interface {
		ListFactors(ctx context.Context, userID string) ([]store.Factor, error)
	}
}

// ListFactors is the one method of store.Factors a recovery Manager uses.
func (w *recoveryStore) ListFactors(ctx context.Context, userID string) ([]store.Factor, error) {
	start := w.recovery.t.now()
	fs, err := w.list.ListFactors(ctx, userID)
	w.recovery.t.done(ctx, OpListFactors, start, err)
	return fs, err
}

type recoveryStoreSweep struct {
	recoveryStore
	sweeper
}

// ForRecovery returns s timed, for recovery.Config.Store. The result is a
// [RecoveryStore]; it is also a [store.Sweeper] if and only if s is one.
// It implements no other concern, whatever s does: not [store.Factors],
// even when s does, since only ListFactors is wrapped.
func (t *Timer) ForRecovery(s RecoveryStore) RecoveryStore {
	v := recoveryStore{recovery{s, t}, counters{s, t}, s}
	if sw, ok := s.(store.Sweeper); ok {
		return &recoveryStoreSweep{v, sweeper{sw, t}}
	}
	return &v
}
