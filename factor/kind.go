package factor

// Kind names a type of second factor.
type Kind string

// The kinds this module implements. A Factor of another kind picks its own
// name.
const (
	KindTOTP        Kind = "totp"
	KindBackupCodes Kind = "backup_codes"
	KindWebAuthn    Kind = "webauthn"
)

// AAL is a NIST SP 800-63B authenticator assurance level.
type AAL int

const (
	AAL1 AAL = 1 // single factor
	AAL2 AAL = 2 // two factors
	AAL3 AAL = 3 // two factors, one a phishing-resistant hardware key
)

// EventType names an event. The Verifier emits its own (package mfa lists
// them); a factor adds its own through [Match.Notes].
type EventType string

// Events the factors of this module add to a match or a refusal.
const (
	EventBackupCodeUsed     EventType = "backup_codes.used"
	EventBackupCodesLow     EventType = "backup_codes.low"
	EventSignCountRegressed EventType = "webauthn.sign_count_regressed"
)
