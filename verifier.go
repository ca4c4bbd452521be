package mfa

import (
	"context"
	"encoding/base32"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/mfakit/mfa/store"
)

// Verifier is the one entry point: it enrols, challenges and verifies every
// factor kind, and around each factor's own check it enforces the limits,
// single use, sealing, events and fail-closed behaviour. It keeps no state
// between calls; any number of Verifiers sharing one store behave as one.
// It is safe for concurrent use.
type Verifier struct {
	store   Store
	factors map[Kind]Factor
	sealer  Sealer
	hasher  *Hasher
	limits  Limits
	issue   IssueLimits
	// decoyKind's check stands in for a factor that does not exist;
	// decoySealed is the secret it opens, sealed on first use.
	decoyKind    Kind
	decoyOnce    sync.Once
	decoySealed  []byte
	challengeTTL time.Duration
	enrollTTL    time.Duration
	freshFor     time.Duration
	now          func() time.Time
	rand         io.Reader
	hooks        []Hook
	guard        Guard
	// refuseRestricted: no challenge or enrolment for restricted kinds.
	refuseRestricted bool
}

// Hasher returns the Verifier's keyed hasher, for packages (sessions,
// devices) that store tokens under the same key.
func (v *Verifier) Hasher() *Hasher { return v.hasher }

// Input size limits; larger values are refused before anything is counted.
const (
	maxIDLen       = 256
	maxResponseLen = 64 << 10
)

// checkIDs refuses, before the store sees them, identifiers a backend
// could not keep alike: longer than maxIDLen bytes, not valid UTF-8
// (PostgreSQL refuses such text), or holding a control character (a NUL,
// a newline that would split a log line). The error never quotes them.
func checkIDs(ids ...string) error {
	for _, id := range ids {
		if len(id) > maxIDLen {
			return fmt.Errorf("%w: identifier longer than %d bytes", ErrInvalidInput, maxIDLen)
		}
		if printableASCII(id) {
			continue // the usual identifier, checked without decoding
		}
		if !utf8.ValidString(id) {
			return fmt.Errorf("%w: identifier is not valid UTF-8", ErrInvalidInput)
		}
		if strings.ContainsFunc(id, unicode.IsControl) {
			return fmt.Errorf("%w: identifier holds a control character", ErrInvalidInput)
		}
	}
	return nil
}

// printableASCII reports whether s holds only bytes from ' ' to '~':
// valid UTF-8 with no control character.
func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// fail reports a failed attempt: an event carrying the sentinel's text (not
// the cause, which may quote input) and the error.
func (v *Verifier) fail(ctx context.Context, ev Event, err error) error {
	set, ok := wrapped(err)
	return v.failWith(ctx, ev, err, set, ok)
}

// failWith is fail given what wrapped returns for err.
func (v *Verifier) failWith(ctx context.Context, ev Event, err error, set uint32, ok bool) error {
	ev.Type = EventVerifyFailed
	if ok {
		if set&(1<<replayedBit) != 0 {
			ev.Type = EventReplayRefused
		}
		ev.Reason = reasonOf(set)
	} else {
		if errors.Is(err, ErrReplayed) {
			ev.Type = EventReplayRefused
		}
		ev.Reason = reason(err)
	}
	if herr := v.emit(ctx, ev); herr != nil {
		return errors.Join(err, herr)
	}
	return err
}

// emit delivers ev to every hook; the first error stops delivery and is
// returned wrapped in ErrDenied.
func (v *Verifier) emit(ctx context.Context, ev Event) error {
	for _, h := range v.hooks {
		if err := h(ctx, ev); err != nil {
			return wrap(ErrDenied, err)
		}
	}
	return nil
}

var idEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// newID returns 128 random bits as base32 text. A failing random source
// wraps ErrInternal.
func (v *Verifier) newID() (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(v.rand, b[:]); err != nil {
		return "", wrap(ErrInternal, fmt.Errorf("random: %w", err))
	}
	return idEncoding.EncodeToString(b[:]), nil
}

// open opens a factor's sealed secret; stale reports it was sealed under
// an old key.
func (v *Verifier) open(ctx context.Context, rec store.Factor) (secret []byte, stale bool, err error) {
	if rec.Secret == nil {
		return nil, false, nil
	}
	if k, ok := v.sealer.(*Keyring); ok {
		secret, stale, err = k.openFactor(rec.Secret, rec.UserID, rec.ID)
	} else {
		secret, stale, err = v.sealer.Open(ctx, rec.Secret, sealAD(rec.UserID, rec.ID))
	}
	if err != nil {
		return nil, false, wrap(ErrSealed, err)
	}
	return secret, stale, nil
}

// reseal seals secret again under the current key into rec.
func (v *Verifier) reseal(ctx context.Context, rec *store.Factor, secret []byte) error {
	if secret == nil {
		return nil
	}
	sealed, err := v.sealer.Seal(ctx, secret, sealAD(rec.UserID, rec.ID))
	if err != nil {
		return wrap(ErrSealed, err)
	}
	rec.Secret = sealed
	return nil
}

// save writes rec's mutable fields back (see store.Factors.UpdateFactor).
func (v *Verifier) save(ctx context.Context, rec store.Factor) error {
	if err := v.store.UpdateFactor(ctx, rec); err != nil {
		return wrap(ErrStore, err)
	}
	return nil
}
