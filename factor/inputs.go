package factor

import (
	"io"
	"time"

	"github.com/mfakit/mfa/store"
)

// EnrollInput is what a Factor gets to begin enrolment.
type EnrollInput struct {
	UserID   string
	FactorID string // chosen by the Verifier
	Account  string // the user's name as an authenticator app shows it
	// Destination is where a sending kind delivers codes (an email
	// address, a phone number), as the client typed it; empty for other
	// kinds.
	Destination string
	Now         time.Time
	Rand        io.Reader
	Hasher      *Hasher
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
	// ConfirmByChallenge: the pending factor is confirmed by answering a
	// challenge issued to it (a code sent to the new destination), which
	// BeginEnrollment issues at once under the enrolment binding, and
	// which the kind's [Challenger] makes as for a sign-in.
	ConfirmByChallenge bool
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
	// Enrolling: the challenge confirms a pending factor's enrolment (see
	// [Enrolled.ConfirmByChallenge]) rather than a sign-in.
	Enrolling bool
	// Resend: the challenge replaces an earlier one of the same factor,
	// whose code has just been taken out of use.
	Resend bool
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
