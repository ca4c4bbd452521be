package monitor

import "errors"

// Errors the Guard returns. The Verifier wraps them in mfa.ErrDenied, so a
// caller matches either with errors.Is.
var (
	// ErrPhishingResistantRequired: the attempt comes from a place the
	// user cannot have reached since their latest sign-in (impossible
	// travel), and its kind is not one of Config.PhishingResistant. An
	// application asks for the security key or passkey instead.
	ErrPhishingResistantRequired = errors.New("mfa: phishing-resistant factor required")
	// ErrAddressFlagged: the client address is trying many accounts
	// (credential stuffing, password spraying); attempts from it are
	// denied until the window passes.
	ErrAddressFlagged = errors.New("mfa: address flagged for attempts across many accounts")
	// ErrUnavailable: the store or the locator failed, or no random
	// nonce could be read; the attempt was denied (fail closed).
	ErrUnavailable = errors.New("mfa: monitoring unavailable")
	// ErrAlertUndelivered: an alert hook failed and Config.DenyOnAlertError
	// is set.
	ErrAlertUndelivered = errors.New("mfa: alert not delivered")
)

// ErrInvalidAlert: an alert given to [AlertLog.Hook] has no Kind or an
// unknown Severity, so it is not recorded.
var ErrInvalidAlert = errors.New("mfa: monitor: alert has no kind or an unknown severity")
