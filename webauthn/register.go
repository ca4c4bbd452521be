package webauthn

import (
	"context"
	"fmt"
	"io"

	"github.com/go-webauthn/webauthn/protocol"
	gowebauthn "github.com/go-webauthn/webauthn/webauthn"

	"github.com/mfakit/mfa/factor"
)

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
