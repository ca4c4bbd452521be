package mfa

import (
	"fmt"

	"github.com/mfakit/mfa/factor"
)

// Factor is one kind of second factor, as [Config.Factors] holds them: the
// values of packages totp, backupcodes and webauthn. To write a new kind,
// see package factor.
type Factor = factor.Factor

// Kind names a type of second factor.
type Kind = factor.Kind

// The kinds this module implements.
const (
	KindTOTP        = factor.KindTOTP        // package totp
	KindBackupCodes = factor.KindBackupCodes // package backupcodes
	KindWebAuthn    = factor.KindWebAuthn    // package webauthn
)

// AAL is a NIST SP 800-63B authenticator assurance level.
type AAL = factor.AAL

const (
	AAL1 = factor.AAL1 // single factor
	AAL2 = factor.AAL2 // two factors
	AAL3 = factor.AAL3 // two factors, one a phishing-resistant hardware key
)

// Hasher computes the keyed hashes (HMAC-SHA256) under which codes and
// tokens are stored. [Verifier.Hasher] returns the Verifier's, for
// packages such as session that store tokens under the same key.
type Hasher = factor.Hasher

// MinHashKeyLen is the shortest hash key accepted (256 bits).
const MinHashKeyLen = factor.MinHashKeyLen

// NewHasher returns a Hasher with a copy of key, which must be at least
// MinHashKeyLen bytes; a shorter one wraps ErrConfig.
func NewHasher(key []byte) (*Hasher, error) { return factor.NewHasher(key) }

// ShowAs returns show, the Show field of an [Enrollment] or an
// [IssuedChallenge], as the type its kind documents, for example
//
//	setup, err := mfa.ShowAs[*totp.Setup](en.Show)
//
// It wraps ErrUnsupportedKind when show holds another type.
func ShowAs[T any](show any) (T, error) {
	t, ok := show.(T)
	if !ok {
		var zero T
		return zero, fmt.Errorf("%w: Show holds %T, not %T", ErrUnsupportedKind, show, zero)
	}
	return t, nil
}
