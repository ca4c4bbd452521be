package webauthn

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/go-webauthn/webauthn/protocol"
	gowebauthn "github.com/go-webauthn/webauthn/webauthn"

	"github.com/mfakit/mfa/factor"
	"github.com/mfakit/mfa/store"
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

// Enroll begins a registration. Enrolled.Challenge is the ceremony state
// the Verifier stores as the enrolment challenge; Enrolled.Show is the
// *protocol.CredentialCreation to send to the browser as JSON, for
// navigator.credentials.create (its "publicKey" member). The user handle is
// the one of the user's existing credentials, or a keyed hash of the user
// ID: stable, opaque, 32 bytes. Existing credentials are excluded so an
// authenticator is not registered twice.
func (f *Factor) Enroll(_ context.Context, in factor.EnrollInput) (factor.Enrolled, error) {
	var handle []byte
	exclude := make([]protocol.CredentialDescriptor, 0, len(in.Existing))
	for _, r := range in.Existing {
		c, err := decodeCredential(r.Data)
		if err != nil {
			return factor.Enrolled{}, fmt.Errorf("%w: factor %s: %w", factor.ErrStore, r.ID, err)
		}
		if handle == nil {
			handle = c.UserHandle
		}
		lc := c.library(0)
		exclude = append(exclude, lc.Descriptor())
	}
	if handle == nil {
		if in.Hasher == nil {
			return factor.Enrolled{}, fmt.Errorf("%w: webauthn: no hasher", factor.ErrInvalidInput)
		}
		sum := in.Hasher.Sum(userHandleDomain, []byte(in.UserID))
		handle = sum[:]
	}
	challenge, err := newChallenge(in.Rand)
	if err != nil {
		return factor.Enrolled{}, err
	}
	name := in.Account
	if name == "" {
		name = in.UserID
	}
	creation, session, err := f.wa.BeginRegistration(&account{handle: handle, name: name},
		gowebauthn.WithAuthenticatorSelection(protocol.AuthenticatorSelection{UserVerification: f.cfg.UserVerification.protocol()}),
		gowebauthn.WithResidentKeyRequirement(f.cfg.ResidentKey.protocol()),
		gowebauthn.WithExclusions(exclude),
		gowebauthn.WithExtensions(gowebauthn.WithExtensionCredProps()),
		withRegistrationChallenge(challenge),
	)
	if err != nil {
		return factor.Enrolled{}, fmt.Errorf("webauthn: begin registration: %w", err)
	}
	state, err := session.MarshalMsg(nil)
	if err != nil {
		return factor.Enrolled{}, fmt.Errorf("webauthn: encode session: %w", err)
	}
	return factor.Enrolled{Challenge: state, Show: creation}, nil
}

// withRegistrationChallenge replaces go-webauthn's challenge with one drawn
// from the Verifier's random source.
func withRegistrationChallenge(c []byte) gowebauthn.RegistrationOption {
	return func(o *protocol.PublicKeyCredentialCreationOptions) error {
		o.Challenge = c
		return nil
	}
}

func newChallenge(r io.Reader) ([]byte, error) {
	if r == nil {
		return nil, fmt.Errorf("%w: webauthn: no random source", factor.ErrInvalidInput)
	}
	c := make([]byte, challengeLen)
	if _, err := io.ReadFull(r, c); err != nil {
		return nil, fmt.Errorf("webauthn: random: %w", err)
	}
	return c, nil
}

// Register finishes a registration: the response is the JSON of the
// browser's PublicKeyCredential (its toJSON()). The attestation is
// verified (type, challenge, origin allow-list, RP ID hash, user presence,
// user verification when required, BE/BS consistency, algorithm, statement)
// and the credential record returned, with Lookup naming its ID. The
// ceremony is a use of the new authenticator: AMR and AAL say what it
// proved, as for a sign-in.
func (f *Factor) Register(_ context.Context, in factor.RegisterInput) (factor.Enrolled, error) {
	if len(in.Response) > MaxRegistrationSize {
		return factor.Enrolled{}, fmt.Errorf("%w: webauthn: registration response longer than %d bytes", factor.ErrMalformedResponse, MaxRegistrationSize)
	}
	session, err := decodeSession(in.Challenge.Data)
	if err != nil {
		return factor.Enrolled{}, err
	}
	if _, err := credentialID(in.Response); err != nil {
		return factor.Enrolled{}, err
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes([]byte(in.Response))
	if err != nil {
		return factor.Enrolled{}, refusal(factor.ErrMalformedResponse, "registration response", err)
	}
	if err := checkChallenge(session, parsed.Response.CollectedClientData.Challenge); err != nil {
		return factor.Enrolled{}, err
	}
	att := &parsed.Response.AttestationObject
	format := att.Format
	cred, err := f.wa.CreateCredential(&account{handle: session.UserID}, *session, parsed)
	var (
		untrusted error // why the attestation is not evidence of hardware
		invalid   bool  // a statement was sent and did not verify
	)
	if err != nil && format != string(protocol.AttestationFormatNone) {
		// Was it only the statement? Check the rest as if none had been
		// sent: a key whose statement does not verify is still the key
		// the browser saw created, as with "none", and is registered as
		// unattested rather than locking its user out.
		bare := *parsed
		bare.Response.AttestationObject.Format = string(protocol.AttestationFormatNone)
		bare.Response.AttestationObject.AttStatement, bare.Response.AttestationObject.SubStatements = nil, nil
		if c, err2 := f.wa.CreateCredential(&account{handle: session.UserID}, *session, &bare); err2 == nil {
			untrusted = refusal(ErrAttestationUntrusted, "the attestation statement did not verify", err)
			cred, err, invalid = c, nil, true
		}
	}
	if err != nil {
		return factor.Enrolled{}, refusal(factor.ErrWrongCode, "registration refused", err)
	}
	trusted := false
	if untrusted == nil {
		switch ok, why := trustedChain(att, cred.Authenticator.AAGUID, f.cfg.AttestationRoots, f.mds, in.Now); {
		case ok:
			trusted = true
		case f.cfg.AttestationRoots == nil && f.mds == nil:
			untrusted = fmt.Errorf("%w (no attestation roots or metadata are configured)", ErrAttestationUntrusted)
		case format == string(protocol.AttestationFormatNone):
			untrusted = fmt.Errorf("%w (the key sent no attestation)", ErrAttestationUntrusted)
		default:
			untrusted = fmt.Errorf("%w (%s attestation, type %s: %v)", ErrAttestationUntrusted, format, att.Type, why)
		}
	}
	if !trusted && f.cfg.RequireTrustedAttestation {
		return factor.Enrolled{}, untrusted
	}
	if len(cred.ID) == 0 || len(cred.ID) > MaxCredentialIDLen {
		return factor.Enrolled{}, fmt.Errorf("%w: webauthn: credential ID of %d bytes", factor.ErrMalformedResponse, len(cred.ID))
	}
	if len(cred.Transport) > maxTransports {
		return factor.Enrolled{}, fmt.Errorf("%w: webauthn: more than %d transports", factor.ErrMalformedResponse, maxTransports)
	}
	rec := Credential{
		ID:                 cred.ID,
		PublicKey:          cred.PublicKey,
		UserHandle:         session.UserID,
		AAGUID:             cred.Authenticator.AAGUID,
		BackupEligible:     cred.Flags.BackupEligible,
		BackupState:        cred.Flags.BackupState,
		UserVerified:       cred.Flags.UserVerified,
		Discoverable:       cred.Extensions.RK,
		AttestationType:    cred.AttestationType,
		AttestationFormat:  format,
		AttestationTrusted: trusted,
		AttestationInvalid: invalid,
		Attachment:         string(cred.Authenticator.Attachment),
	}
	for _, t := range cred.Transport {
		rec.Transports = append(rec.Transports, string(t))
	}
	data, err := rec.encode()
	if err != nil {
		return factor.Enrolled{}, fmt.Errorf("webauthn: encode credential: %w", err)
	}
	amr, aal := rec.assurance(cred.Flags.UserVerified, false)
	return factor.Enrolled{Data: data, Lookup: Lookup(cred.ID), Counter: int64(cred.Authenticator.SignCount), AMR: amr, AAL: aal}, nil
}

// Challenge issues assertion options. With in.Factor set they allow that
// credential only; with only a user, every credential of in.Existing; with
// no user (passkey sign-in), any discoverable credential, and user
// verification is required. Issued.Show is the *protocol.CredentialAssertion
// to send to the browser as JSON, for navigator.credentials.get.
func (f *Factor) Challenge(_ context.Context, in factor.ChallengeInput) (factor.Issued, error) {
	challenge, err := newChallenge(in.Rand)
	if err != nil {
		return factor.Issued{}, err
	}
	var (
		assertion *protocol.CredentialAssertion
		session   *gowebauthn.SessionData
	)
	if in.UserID == "" {
		assertion, session, err = f.wa.BeginDiscoverableLogin(
			gowebauthn.WithChallenge(challenge),
			gowebauthn.WithUserVerification(protocol.VerificationRequired),
		)
	} else {
		records := in.Existing
		if in.Factor != nil {
			records = []store.Factor{*in.Factor}
		}
		acct := &account{}
		for _, r := range records {
			if r.Kind != string(factor.KindWebAuthn) || r.UserID != in.UserID {
				continue
			}
			c, err := decodeCredential(r.Data)
			if err != nil {
				return factor.Issued{}, fmt.Errorf("%w: factor %s: %w", factor.ErrStore, r.ID, err)
			}
			if acct.handle == nil {
				acct.handle = c.UserHandle
			}
			acct.creds = append(acct.creds, c.library(0))
		}
		if len(acct.creds) == 0 {
			return factor.Issued{}, fmt.Errorf("%w: webauthn: the user has no security key or passkey", factor.ErrNotFound)
		}
		assertion, session, err = f.wa.BeginLogin(acct,
			gowebauthn.WithChallenge(challenge),
			gowebauthn.WithUserVerification(f.cfg.UserVerification.protocol()),
		)
	}
	if err != nil {
		return factor.Issued{}, fmt.Errorf("webauthn: begin login: %w", err)
	}
	state, err := session.MarshalMsg(nil)
	if err != nil {
		return factor.Issued{}, fmt.Errorf("webauthn: encode session: %w", err)
	}
	return factor.Issued{Data: state, TTL: f.cfg.Timeout, Show: assertion}, nil
}

// Resolve returns the Lookup of the credential an assertion names, so the
// Verifier can find its factor (and user) before verifying it.
func (f *Factor) Resolve(_ context.Context, response string) (string, error) {
	if len(response) > MaxAssertionSize {
		return "", fmt.Errorf("%w: webauthn: assertion longer than %d bytes", factor.ErrMalformedResponse, MaxAssertionSize)
	}
	id, err := credentialID(response)
	if err != nil {
		return "", err
	}
	return Lookup(id), nil
}

// credentialID reads the credential ID a response names, checking only
// what names it: id equal to rawId, type "public-key", 1 to 1023 bytes.
func credentialID(response string) ([]byte, error) {
	var msg struct {
		ID    string `json:"id"`
		RawID string `json:"rawId"`
		Type  string `json:"type"`
	}
	if err := json.Unmarshal([]byte(response), &msg); err != nil {
		return nil, fmt.Errorf("%w: webauthn: response is not JSON: %w", factor.ErrMalformedResponse, err)
	}
	id, err := base64.RawURLEncoding.DecodeString(msg.ID)
	switch {
	case err != nil || len(id) == 0 || msg.RawID != msg.ID || msg.Type != string(protocol.PublicKeyCredentialType):
		return nil, fmt.Errorf("%w: webauthn: response names no credential (id, rawId, type)", factor.ErrMalformedResponse)
	case len(id) > MaxCredentialIDLen:
		return nil, fmt.Errorf("%w: webauthn: credential ID longer than %d bytes", factor.ErrMalformedResponse, MaxCredentialIDLen)
	}
	return id, nil
}

// Verify checks an assertion (the JSON of the browser's PublicKeyCredential)
// against the stored credential and the taken challenge: type, challenge,
// origin, RP ID hash, user presence, user verification per policy (always
// for passkey sign-in), BE/BS, signature, and the signature counter. The
// match's Counter is the new count, which the Verifier commits with a
// compare-and-set from the stored one.
func (f *Factor) Verify(_ context.Context, in factor.VerifyInput) (factor.Match, error) {
	if len(in.Response) > MaxAssertionSize {
		return factor.Match{}, fmt.Errorf("%w: webauthn: assertion longer than %d bytes", factor.ErrMalformedResponse, MaxAssertionSize)
	}
	if in.Challenge == nil {
		return factor.Match{}, fmt.Errorf("%w: webauthn: an assertion needs a challenge", factor.ErrExpired)
	}
	session, err := decodeSession(in.Challenge.Data)
	if err != nil {
		return factor.Match{}, err
	}
	rec, err := decodeCredential(in.Factor.Data)
	if err != nil {
		return factor.Match{}, fmt.Errorf("%w: %w", factor.ErrWrongCode, err)
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes([]byte(in.Response))
	if err != nil {
		return factor.Match{}, refusal(factor.ErrMalformedResponse, "assertion", err)
	}
	if !bytes.Equal(parsed.RawID, rec.ID) {
		return factor.Match{}, fmt.Errorf("%w: webauthn: the assertion is from another credential", factor.ErrWrongCode)
	}
	if err := checkChallenge(session, parsed.Response.CollectedClientData.Challenge); err != nil {
		return factor.Match{}, err
	}
	stored := uint32(in.Factor.Counter)
	acct := &account{handle: rec.UserHandle, creds: []gowebauthn.Credential{rec.library(stored)}}
	passkey := len(session.UserID) == 0
	if passkey {
		_, _, err = f.wa.ValidatePasskeyLogin(func(rawID, userHandle []byte) (gowebauthn.User, error) {
			if !bytes.Equal(userHandle, rec.UserHandle) {
				return nil, errors.New("the user handle is not the credential's user")
			}
			return acct, nil
		}, *session, parsed)
	} else {
		if !containsID(session.AllowedCredentialIDs, rec.ID) {
			return factor.Match{}, fmt.Errorf("%w: webauthn: the credential was not allowed by the challenge", factor.ErrChallengeMismatch)
		}
		// The challenge listed all the user's credentials; this check is
		// against the one the Verifier loaded, which the user owns.
		session.AllowedCredentialIDs = [][]byte{rec.ID}
		session.UserID = rec.UserHandle
		_, err = f.wa.ValidateLogin(acct, *session, parsed)
	}
	if err != nil {
		return factor.Match{}, refusal(factor.ErrWrongCode, "assertion refused", err)
	}
	flags := parsed.Response.AuthenticatorData.Flags
	uv := flags.HasUserVerified()
	if passkey && !uv {
		return factor.Match{}, fmt.Errorf("%w: webauthn: passkey sign-in without user verification", factor.ErrWrongCode)
	}

	m := factor.Match{Counter: int64(stored), Remaining: -1}
	next := *rec
	count := parsed.Response.AuthenticatorData.Counter
	switch {
	case count > stored || (count == 0 && stored == 0):
		m.Counter = int64(count)
	case f.cfg.SignCount == SignCountAcceptAndFlag:
		m.Notes = []factor.EventType{factor.EventSignCountRegressed}
		next.CloneWarning = true
	default:
		return factor.Match{Notes: []factor.EventType{factor.EventSignCountRegressed}}, fmt.Errorf("%w (stored %d, presented %d)", ErrSignCountRegressed, stored, count)
	}
	// A key that may have been cloned is no longer proof of a single
	// hardware authenticator: next carries the flag.
	m.AMR, m.AAL = next.assurance(uv, passkey)
	next.BackupState = flags.HasBackupState()
	next.UserVerified = rec.UserVerified || uv
	if next.BackupState != rec.BackupState || next.UserVerified != rec.UserVerified || next.CloneWarning != rec.CloneWarning {
		if m.Data, err = next.encode(); err != nil {
			return factor.Match{}, fmt.Errorf("webauthn: encode credential: %w", err)
		}
	}
	return m, nil
}

// assurance is what a use of the credential proves: possession of the key,
// and with user verification (uv) a second factor on the authenticator.
// See [Credential.Level] for the cap.
func (c *Credential) assurance(uv, passkey bool) ([]string, factor.AAL) {
	most, _ := c.Level()
	amr, aal := []string{AMRProofOfPossession}, factor.AAL2
	if most == factor.AAL3 {
		amr[0] = AMRKey
	}
	if uv {
		amr = append(amr, AMRUserVerified)
		aal = most
		if passkey {
			amr = append(amr, AMRMultiFactor)
		}
	}
	return amr, aal
}

// Level returns the highest assurance level a sign-in with the credential
// can reach (with user verification; without it, AAL2) and why, in a
// sentence an application may show. AAL3 needs all of:
//   - an attestation that chained to Config.AttestationRoots at
//     registration (AttestationTrusted): NIST SP 800-63B asks AAL3
//     authenticators to be hardware-protected, and only attestation is
//     evidence of that;
//   - no backup eligibility: a synced passkey's key can leave the device,
//     and NIST SP 800-63B-4 caps such authenticators at AAL2;
//   - no clone warning: a key whose counter regressed may be a copy.
func (c *Credential) Level() (factor.AAL, string) {
	switch {
	case !c.AttestationTrusted:
		return factor.AAL2, "the key gave no attestation that chains to a configured trust anchor"
	case c.BackupEligible:
		return factor.AAL2, "the key can be synced to other devices (a synced passkey)"
	case c.CloneWarning:
		return factor.AAL2, "the key's signature counter went backwards, so it may be a copy"
	}
	return factor.AAL3, "the key's attestation chains to a configured trust anchor; with user verification it is a hardware-protected multi-factor authenticator"
}

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
