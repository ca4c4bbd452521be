package session

import "errors"

// Sentinel errors, matched with errors.Is. Every refusal of a token (access,
// pending, refresh or device) also matches [ErrInvalidToken], so a caller can
// branch on "the client must sign in again" with one test and on the precise
// reason with another.
var (
	// ErrConfig: Config is invalid.
	ErrConfig = errors.New("mfa: session: invalid config")
	// ErrInvalidToken: the token was refused. Every reason below that is
	// about the token itself wraps it too.
	ErrInvalidToken = errors.New("mfa: session: invalid token")
	// ErrNoToken: the request carried no token.
	ErrNoToken = errors.New("mfa: session: no token")
	// ErrMalformed: the token is not well formed: empty, longer than
	// [MaxTokenLen], not three base64url segments, not JSON, missing a
	// required claim, or with an exp, nbf, iat or auth_time that is not a
	// JSON number.
	ErrMalformed = errors.New("mfa: session: malformed token")
	// ErrAlgorithm: the token's alg is not the algorithm of the key it
	// names, or no key in the set has that algorithm ("none" never does).
	ErrAlgorithm = errors.New("mfa: session: algorithm not allowed")
	// ErrUnknownKey: the token's kid names no key in the KeySet.
	ErrUnknownKey = errors.New("mfa: session: unknown key ID")
	// ErrSignature: the signature does not verify.
	ErrSignature = errors.New("mfa: session: bad signature")
	// ErrWrongType: the token's typ header is not the kind expected (a
	// pending token presented as an access token, or the reverse).
	ErrWrongType = errors.New("mfa: session: wrong token type")
	// ErrWrongIssuer: iss is not Config.Issuer.
	ErrWrongIssuer = errors.New("mfa: session: wrong issuer")
	// ErrWrongAudience: aud does not contain Config.Audience.
	ErrWrongAudience = errors.New("mfa: session: wrong audience")
	// ErrExpired: the token, the session or the remembered device has
	// expired (absolute or idle lifetime).
	ErrExpired = errors.New("mfa: session: expired")
	// ErrNotYetValid: the token's nbf or iat is in the future.
	ErrNotYetValid = errors.New("mfa: session: token not yet valid")
	// ErrRevoked: the session was revoked (signed out, revoked by an
	// operator, or by reuse detection) or is unknown.
	ErrRevoked = errors.New("mfa: session: session revoked")
	// ErrReused: a refresh token that had already been rotated was
	// presented again. The whole session (the refresh-token family) has
	// been revoked in the same operation (RFC 9700 §4.14.2).
	ErrReused = errors.New("mfa: session: refresh token reused; session revoked")
	// ErrWrongUser: the token or result belongs to another user.
	ErrWrongUser = errors.New("mfa: session: token of another user")
	// ErrDevice: the device token is not a remembered device of this user
	// (unknown, forgotten, expired, or another user's).
	ErrDevice = errors.New("mfa: session: device not remembered")
	// ErrInsufficientAAL: a valid token whose assurance level is below the
	// level the route requires; the client should step up.
	ErrInsufficientAAL = errors.New("mfa: session: assurance level too low")
	// ErrTooOld: a valid token whose auth_time is older than the route's
	// maximum age; the client should authenticate again (step up).
	ErrTooOld = errors.New("mfa: session: authentication too old")
	// ErrMethod: a valid token whose amr holds none of the methods a
	// [Decider] accepts for the route; the client should step up with one.
	ErrMethod = errors.New("mfa: session: authentication method not accepted")
	// ErrForbidden: a [Decider] refused the request (a role, a place or a
	// time); no step-up helps. Deciders wrap it.
	ErrForbidden = errors.New("mfa: session: forbidden by policy")
	// ErrPolicy: a [Decider] failed (its role store or geolocation
	// database, say) or returned a requirement out of range; the request
	// was refused.
	ErrPolicy = errors.New("mfa: session: policy unavailable")
	// ErrInvalidResult: the mfa.Result given to Start or StepUp is nil,
	// of another user, without a level, too old or from the future.
	ErrInvalidResult = errors.New("mfa: session: invalid verification result")
	// ErrNotFound: Revoke or ForgetDevice named a session or device the
	// user does not have.
	ErrNotFound = errors.New("mfa: session: not found")
	// ErrStore: the store failed; the operation was refused.
	ErrStore = errors.New("mfa: session: store failure")
	// ErrHook: a hook returned an error; the operation was refused (and a
	// session it had just created or rotated was revoked).
	ErrHook = errors.New("mfa: session: hook failed")
)

// tokenError is a token refusal: its reason and ErrInvalidToken both match.
type tokenError struct {
	reason error
	detail string
}

func (e *tokenError) Error() string {
	if e.detail == "" {
		return e.reason.Error()
	}
	return e.reason.Error() + ": " + e.detail
}

func (e *tokenError) Unwrap() []error {
	if e.reason == ErrInvalidToken {
		return []error{ErrInvalidToken}
	}
	return []error{e.reason, ErrInvalidToken}
}

func refuse(reason error, detail string) error {
	return &tokenError{reason: reason, detail: detail}
}

// wrap joins a sentinel and its cause so errors.Is matches both.
func wrap(sentinel, cause error) error {
	if cause == nil {
		return sentinel
	}
	return &wrapped{sentinel: sentinel, cause: cause}
}

type wrapped struct {
	sentinel, cause error
}

func (e *wrapped) Error() string   { return e.sentinel.Error() + ": " + e.cause.Error() }
func (e *wrapped) Unwrap() []error { return []error{e.sentinel, e.cause} }
