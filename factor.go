package mfa

import (
	"context"
	"io"
	"time"

	"github.com/mfakit/mfa/store"
)

// Kind names a type of second factor.
type Kind string

// The kinds this module provides. A Factor may use another name.
const (
	KindTOTP        Kind = "totp"
	KindBackupCodes Kind = "backup_codes"
	KindWebAuthn    Kind = "webauthn"
	KindEmail       Kind = "email"
	KindSMS         Kind = "sms"
	KindPush        Kind = "push"
)

// AAL is a NIST SP 800-63B authenticator assurance level.
type AAL int

const (
	AAL1 AAL = 1 // single factor
	AAL2 AAL = 2 // two factors
	AAL3 AAL = 3 // two factors, one a phishing-resistant hardware key
)

// Factor is one kind of second factor. It does only its own cryptographic
// check; the [Verifier] around it counts attempts before the check, opens and
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
// values (backup codes), so [Verifier.Factors] can say how many are left.
// It reads only the stored record; -1 means it cannot tell.
type Remainer interface {
	Remaining(f store.Factor) int
}

// EnrollInput is what a Factor gets to begin enrolment.
type EnrollInput struct {
	UserID   string
	FactorID string // chosen by the Verifier
	Account  string // the user's name as an authenticator app shows it
	Now      time.Time
	Rand     io.Reader
	Hasher   *Hasher
	// Existing are the user's other factors of this kind (for exclusion
	// lists); their secrets are not included.
	Existing []store.Factor
}

// Enrolled is what enrolment produced.
type Enrolled struct {
	Secret  []byte // sealed by the Verifier; nil when the kind has none
	Data    []byte // stored as is: public keys, code hashes
	Counter int64  // initial single-use state
	Lookup  string // optional, unique across users for the kind
	// Active: usable at once, no confirmation (backup codes).
	Active bool
	// AMR and AAL describe the proof a Registrar's response gave (the
	// registration ceremony is itself a use of the new authenticator);
	// ConfirmEnrollment reports them in its Result.
	AMR []string
	AAL AAL
	// OnePerUser: a user may hold at most one factor of this kind;
	// BeginEnrollment refuses another and Regenerate replaces it. The
	// store enforces it: unless the kind sets Lookup, the Verifier sets it
	// to the user ID, which the store keeps unique per kind.
	OnePerUser bool
	// Challenge, when non-nil, makes enrolment a challenge and response
	// (see [Registrar]); it is stored, not a factor.
	Challenge []byte
	// Show is for the user, once: a provisioning URI and QR code, a list of
	// codes, creation options. It is never stored or logged.
	Show any
}

// VerifyInput is what a Factor gets to check one response.
type VerifyInput struct {
	Factor   store.Factor // as stored, Secret still sealed
	Secret   []byte       // the opened secret; nil when the kind has none
	Response string
	// Challenge is the taken challenge for kinds that are Challengers.
	Challenge *store.Challenge
	Now       time.Time
	Hasher    *Hasher
}

// Match is a successful check.
type Match struct {
	// Counter is committed atomically from the stored value: for TOTP the
	// matched step, for backup codes the used-code bitmap.
	Counter int64
	// Data, when non-nil, replaces the stored Data in the same commit.
	Data []byte
	// AMR lists RFC 8176 authentication method reference values.
	AMR []string
	// AAL is the level a password plus this factor reaches.
	AAL AAL
	// Remaining is the count of codes left (backup codes); -1 when the kind
	// has no such count.
	Remaining int
	// Notes are extra events to emit after the commit (e.g.
	// EventBackupCodesLow, EventSignCountRegressed), or after the failure
	// event when Verify also returned an error.
	Notes []EventType
}

// ChallengeInput is what a Challenger gets.
type ChallengeInput struct {
	UserID string
	Factor *store.Factor // nil for a user-less challenge (passkey sign-in)
	Secret []byte        // the opened secret, when Factor has one
	// Existing are the user's active factors of the challenge's kind, when
	// the request named a user and a kind but no factor (a WebAuthn
	// assertion that any of the user's keys may answer); their secrets are
	// not included.
	Existing []store.Factor
	Now      time.Time
	Rand     io.Reader
	Hasher   *Hasher
}

// Issued is a challenge a Challenger made.
type Issued struct {
	Data []byte        // stored with the challenge; never a plaintext code
	TTL  time.Duration // 0: Config.ChallengeTTL
	Show any           // for the client: options JSON, the number to match
}

// RegisterInput is what a Registrar gets to finish enrolment.
type RegisterInput struct {
	UserID    string
	FactorID  string
	Name      string
	Challenge store.Challenge
	Response  string
	Now       time.Time
	Hasher    *Hasher
}
