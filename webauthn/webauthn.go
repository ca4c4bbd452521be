package webauthn

import (
	"bytes"
	"crypto/subtle"
	"errors"
	"fmt"

	"github.com/go-webauthn/webauthn/protocol"
	gowebauthn "github.com/go-webauthn/webauthn/webauthn"

	"github.com/mfakit/mfa/factor"
)

// AMR values (RFC 8176) a match reports.
const (
	// AMRKey is reported for a match with a credential whose attestation
	// chained to a configured root at registration (and that cannot be
	// synced): proof of possession of a hardware-secured key.
	AMRKey = "hwk"
	// AMRProofOfPossession is reported instead of AMRKey for every other
	// credential: proof of possession of a key whose protection, hardware
	// or software, nothing attested (RFC 8176 "pop").
	AMRProofOfPossession = "pop"
	// AMRUserVerified is added when the authenticator verified the user
	// (PIN or biometric), as the issue this package implements asks.
	AMRUserVerified = "user"
	// AMRMultiFactor is added to a passkey sign-in (no password first)
	// with user verification: the one credential was two factors.
	AMRMultiFactor = "mfa"
)

// Response size limits: larger responses are refused before parsing.
const (
	// MaxRegistrationSize bounds a registration response (attestation
	// certificate chains make them the larger of the two).
	MaxRegistrationSize = 32 << 10
	// MaxAssertionSize bounds a sign-in response.
	MaxAssertionSize = 16 << 10
)

// challengeLen is the number of random bytes in every challenge (WebAuthn
// asks for at least 16).
const challengeLen = 32

// userHandleDomain labels the keyed hash a user handle is derived from.
const userHandleDomain = "mfa/webauthn/user-handle"

// ErrSignCountRegressed refuses an assertion whose signature counter did not
// grow under [SignCountRefuse]. It wraps [mfa.ErrReplayed].
var ErrSignCountRegressed = fmt.Errorf("%w: webauthn: signature counter did not increase (possible cloned authenticator)", factor.ErrReplayed)

// Factor is the WebAuthn factor: security keys and passkeys. It implements
// [mfa.Factor], [mfa.Registrar] (registration), [mfa.Challenger] (assertion
// options) and [mfa.Resolver] (passkey sign-in without a username). It is
// safe for concurrent use and keeps no state between calls.
type Factor struct {
	cfg Config
	wa  *gowebauthn.WebAuthn
	mds models // from Config.MetadataBLOB; nil without one
}

var (
	_ factor.Factor     = (*Factor)(nil)
	_ factor.Registrar  = (*Factor)(nil)
	_ factor.Challenger = (*Factor)(nil)
	_ factor.Resolver   = (*Factor)(nil)
)

// New validates cfg and returns a Factor. Errors wrap [mfa.ErrConfig].
func New(cfg Config) (*Factor, error) {
	cfg.Origins = append([]string(nil), cfg.Origins...)
	origins, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	wa, err := gowebauthn.New(&gowebauthn.Config{
		RPID:                  cfg.RPID,
		RPDisplayName:         cfg.RPDisplayName,
		RPOrigins:             origins,
		AttestationPreference: cfg.Attestation.protocol(),
		Timeouts: gowebauthn.TimeoutsConfig{
			Login:        gowebauthn.TimeoutConfig{Timeout: cfg.Timeout, TimeoutUVD: cfg.Timeout},
			Registration: gowebauthn.TimeoutConfig{Timeout: cfg.Timeout, TimeoutUVD: cfg.Timeout},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("%w: webauthn: %w", factor.ErrConfig, err)
	}
	cfg.Origins = origins
	f := &Factor{cfg: cfg, wa: wa}
	if cfg.MetadataBLOB != nil {
		if f.mds, err = loadMetadata(cfg.MetadataBLOB, cfg.MetadataRoot); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// Kind returns mfa.KindWebAuthn.
func (f *Factor) Kind() factor.Kind { return factor.KindWebAuthn }

func containsID(ids [][]byte, id []byte) bool {
	for _, x := range ids {
		if bytes.Equal(x, id) {
			return true
		}
	}
	return false
}

func decodeSession(data []byte) (*gowebauthn.SessionData, error) {
	var s gowebauthn.SessionData
	if rest, err := s.UnmarshalMsg(data); err != nil || len(rest) != 0 || s.Challenge == "" {
		return nil, fmt.Errorf("%w: webauthn: challenge state unreadable", factor.ErrChallengeMismatch)
	}
	return &s, nil
}

// checkChallenge compares the challenge the client signed with the one
// issued, before anything else is checked, so a response to another
// challenge is reported as such.
func checkChallenge(s *gowebauthn.SessionData, got string) error {
	if subtle.ConstantTimeCompare([]byte(s.Challenge), []byte(got)) != 1 {
		return fmt.Errorf("%w: webauthn: the response was made for another challenge", factor.ErrChallengeMismatch)
	}
	return nil
}

// refusal wraps a go-webauthn error in sentinel, keeping its details (which
// name the failed check) in the message.
func refusal(sentinel error, what string, err error) error {
	var pe *protocol.Error
	if errors.As(err, &pe) && pe.DevInfo != "" {
		return fmt.Errorf("%w: webauthn: %s: %w (%s)", sentinel, what, err, pe.DevInfo)
	}
	return fmt.Errorf("%w: webauthn: %s: %w", sentinel, what, err)
}
