package sqlstore_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/internal/testkit"
	"github.com/mfakit/mfa/store"
	"github.com/mfakit/mfa/totp"
)

// The Verifier tests use fixed keys, so that separate processes sharing a
// database open each other's sealed seeds, and a fixed base time.
var (
	sealKey = mfa.Key{ID: "test-1", Secret: bytes.Repeat([]byte{7}, 32)}
	hashKey = bytes.Repeat([]byte{9}, 32)
	// t0 is the start of a TOTP step.
	t0 = time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC)
)

// gap separates verifications that must each succeed: three TOTP steps, so
// the ±1-step windows never overlap. One step apart, a code equal to the
// next step's (one chance in a million) is accepted as that next step,
// and the next step's code is then rightly refused as replayed.
const gap = 3 * 30 * time.Second

// strictLimits admits 5 failures per user and per factor before a delay.
var strictLimits = mfa.Limits{
	User:   store.Rule{Free: 5},
	Factor: store.Rule{Free: 5},
	IP:     store.Rule{Free: 5},
}

// looseLimits admit the most failures mfa allows before a lock, so that
// concurrent submissions of a valid code are all compared.
var looseLimits = mfa.Limits{
	User:   store.Rule{Free: mfa.MaxFailures, Cap: mfa.MaxFailures},
	Factor: store.Rule{Free: 1000},
	IP:     store.Rule{Free: 1000},
}

// newVerifier returns a Verifier with one TOTP factor on s whose clock is
// now.
func newVerifier(s mfa.Store, now func() time.Time, limits mfa.Limits) (*mfa.Verifier, error) {
	tf, err := totp.New(totp.Config{Issuer: "x"})
	if err != nil {
		return nil, err
	}
	kr, err := mfa.NewKeyring(sealKey)
	if err != nil {
		return nil, err
	}
	return mfa.New(mfa.Config{
		Store:   s,
		Factors: []mfa.Factor{tf},
		Sealer:  kr,
		HashKey: hashKey,
		Limits:  limits,
		Now:     now,
	})
}

// enrol enrols and confirms a TOTP factor for user at t0 through v (whose
// clock must read t0) and returns its ID and seed.
func enrol(t testing.TB, v *mfa.Verifier, user string) (factorID, secret string) {
	t.Helper()
	ctx := context.Background()
	en, err := v.BeginEnrollment(ctx, mfa.EnrollRequest{UserID: user, Kind: mfa.KindTOTP, Name: "phone", Account: user})
	if err != nil {
		t.Fatal(err)
	}
	secret = en.Show.(*totp.Setup).Secret
	if _, err := v.ConfirmEnrollment(ctx, mfa.ConfirmRequest{UserID: user, FactorID: en.FactorID, Response: testkit.TOTPCode(t, secret, t0)}); err != nil {
		t.Fatal(err)
	}
	return en.FactorID, secret
}

// outcome counts the results of verifications.
type outcome struct {
	OK, Wrong, Replayed, Limited, Store, Other int
	// Cut counts the Store errors not caused by a cancelled context.
	Cut   int
	first error // first Other
}

func (o *outcome) add(err error) {
	switch {
	case err == nil:
		o.OK++
	case errors.Is(err, mfa.ErrWrongCode):
		o.Wrong++
	case errors.Is(err, mfa.ErrReplayed):
		o.Replayed++
	case errors.Is(err, mfa.ErrRateLimited), errors.Is(err, mfa.ErrLocked):
		o.Limited++
	case errors.Is(err, mfa.ErrStore):
		o.Store++
		if !errors.Is(err, context.Canceled) {
			o.Cut++
		}
	default:
		o.Other++
		if o.first == nil {
			o.first = err
		}
	}
}

func (o *outcome) merge(p outcome) {
	o.OK += p.OK
	o.Wrong += p.Wrong
	o.Replayed += p.Replayed
	o.Limited += p.Limited
	o.Store += p.Store
	o.Cut += p.Cut
	o.Other += p.Other
	if o.first == nil {
		o.first = p.first
	}
}
