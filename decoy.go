package mfa

import (
	"context"
	"time"

	"github.com/mfakit/mfa/factor"
	"github.com/mfakit/mfa/store"
)

// decoyAD is the associated data of the decoy secret, which no factor of
// any user shares.
var decoyAD = []byte("mfa/decoy/v1")

// decoy does, for an attempt on a factor that does not exist (an unknown
// user, a factor ID of nobody's), the work a wrong code on one that does
// would: open a sealed secret and run a code factor's check. Whatever it
// finds is thrown away. It narrows the gap in time between "no such user"
// and "wrong code", which an application shows with one message; it is
// not a guarantee of equal time (the store's own work differs).
func (v *Verifier) decoy(ctx context.Context, kind Kind, response string, now time.Time) {
	f, ok := v.factors[kind]
	if !ok || v.challenged(kind) || v.unguessable(kind) {
		if f, ok = v.factors[v.decoyKind]; !ok {
			return
		}
		kind = v.decoyKind
	}
	v.decoyOnce.Do(func() {
		sealed, err := v.sealer.Seal(ctx, make([]byte, 20), decoyAD)
		if err == nil {
			v.decoySealed = sealed
		}
	})
	secret := make([]byte, 20)
	if v.decoySealed != nil {
		if s, _, err := v.sealer.Open(ctx, v.decoySealed, decoyAD); err == nil {
			secret = s
		}
	}
	_, _ = f.Verify(ctx, factor.VerifyInput{
		Factor: store.Factor{Kind: string(kind)}, Secret: secret, Response: response, Now: now, Hasher: v.hasher,
	})
	clear(secret)
}

// pickDecoyKind is the code factor whose check stands in for a missing
// one: the first configured that needs no challenge and is not a signature.
func (v *Verifier) pickDecoyKind(factors []Factor) Kind {
	for _, f := range factors {
		if !v.challenged(f.Kind()) && !v.unguessable(f.Kind()) {
			return f.Kind()
		}
	}
	return ""
}
