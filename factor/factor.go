package factor

import (
	"context"

	"github.com/mfakit/mfa/store"
)

// Factor is one kind of second factor. It does only its own cryptographic
// check; the Verifier around it (package mfa) counts attempts before the check, opens and
// seals secrets, enforces single use, emits events and fails closed. A
// Factor keeps no state between calls and never reads a clock or a random
// source of its own: both come in the inputs.
type Factor interface {
	// Kind names the factor; one Factor per Kind in a Verifier.
	Kind() Kind
	// Enroll begins enrolment for one user. The returned Secret is sealed by
	// the Verifier before it is stored; Show is handed to the caller once
	// and never stored.
	Enroll(ctx context.Context, in EnrollInput) (Enrolled, error)
	// Verify checks a response against the factor's opened secret and
	// state. On a match it returns the Counter value to commit: the Verifier
	// commits it with a compare-and-set from the stored value, so of two
	// concurrent uses of one value exactly one succeeds (the loser's
	// response is checked again, by another call, against the state the
	// winner left; Verify must depend on its input alone). On no match it
	// returns an error wrapping ErrWrongCode, ErrMalformedResponse or
	// ErrReplayed. A wrong response must cost the same work as a right one.
	Verify(ctx context.Context, in VerifyInput) (Match, error)
}

// Challenger is implemented by kinds that need a challenge before a
// response (WebAuthn assertions, emailed codes, push). The Verifier stores
// the returned Data with a TTL, bound to user, factor and binding, and hands
// it back, taken exactly once, in VerifyInput.Challenge.
type Challenger interface {
	Challenge(ctx context.Context, in ChallengeInput) (Issued, error)
}

// Registrar is implemented by kinds whose enrolment is itself a challenge
// and response (WebAuthn registration). When Enroll returns a non-nil
// Enrolled.Challenge, the Verifier stores it as a challenge instead of a
// pending factor; ConfirmEnrollment then calls Register with it, and the
// Enrolled that Register returns is stored as an active factor.
type Registrar interface {
	Register(ctx context.Context, in RegisterInput) (Enrolled, error)
}

// Resolver is implemented by kinds whose response names its factor on its
// own (a discoverable WebAuthn credential): it returns the factor's
// store.Factor.Lookup so the Verifier can find the user without a username,
// and the factor of a known user when a request names only the kind. It
// returns an error wrapping ErrMalformedResponse when the response names
// no factor.
type Resolver interface {
	Resolve(ctx context.Context, response string) (lookup string, err error)
}

// Remainer is implemented by kinds whose factor is a set of single-use
// values (backup codes), so the Verifier's Factors list can say how many are left.
// It reads only the stored record; -1 means it cannot tell.
type Remainer interface {
	Remaining(f store.Factor) int
}

// Unguessable is implemented by kinds whose response is a signature by a
// private key that never leaves the user's device (WebAuthn, a signed push
// answer). A failed response is not a guess at a secret the server holds,
// so the Verifier counts it against the factor and the client IP but not
// against the user's consecutive-failure lockout, which guards the code
// factors; and that lockout does not refuse it. A response whose user was
// named by the response itself (a passkey sign-in) counts against the
// client IP only.
type Unguessable interface {
	Unguessable()
}

// Restricted is implemented by kinds NIST SP 800-63B calls restricted
// authenticators (SMS codes, over a network that cannot be relied on to
// reach only the user's device). The Verifier marks their results
// Restricted, and refuses them when configured to.
type Restricted interface {
	Restricted()
}

// ChallengeOnly is implemented by [Challenger] kinds whose Verify reads
// only the taken challenge (a sent code, whose hash the challenge holds),
// never the factor's secret: the Verifier then does not open the secret
// to verify (VerifyInput.Secret is nil), which saves a decryption per
// attempt and keeps the secret (a destination) closed where it is not
// needed. Such a secret is re-sealed under a new key where it is opened:
// at Challenge, when the factor sends.
type ChallengeOnly interface {
	ChallengeOnly()
}
