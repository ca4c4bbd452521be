package webauthn

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/go-webauthn/webauthn/protocol"
	gowebauthn "github.com/go-webauthn/webauthn/webauthn"

	"github.com/mfakit/mfa/factor"
	"github.com/mfakit/mfa/store"
)

// MaxCredentialIDLen is the longest credential ID accepted (WebAuthn §5.8.3).
const MaxCredentialIDLen = 1023

// recordVersion is the version of the stored record's encoding.
const recordVersion = 1

// Credential is the credential record kept, in a compact binary encoding,
// in store.Factor.Data: public values only, nothing that has to be sealed.
// Read it with [CredentialOf].
type Credential struct {
	// ID is the credential ID, at most 1023 bytes.
	ID []byte
	// PublicKey is the credential public key as a COSE_Key.
	PublicKey []byte
	// UserHandle is the opaque user.id the credential was created for; a
	// passkey returns it at sign-in and it must match.
	UserHandle []byte
	// AAGUID names the authenticator model (all zero when not attested).
	AAGUID []byte
	// SignCount is the last signature counter accepted. It is not part of
	// Data: it lives in store.Factor.Counter, where the Verifier advances
	// it atomically, and CredentialOf copies it here.
	SignCount uint32
	// Transports are the transports the browser reported at registration
	// ("usb", "nfc", "ble", "hybrid", "internal"), used as hints.
	Transports []string
	// BackupEligible (BE) is fixed at registration: the credential may be
	// synced to other devices (a synced passkey).
	BackupEligible bool
	// BackupState (BS) is whether it is backed up now; it may change.
	BackupState bool
	// UserVerified records that the authenticator has verified the user at
	// least once (at registration or since).
	UserVerified bool
	// Discoverable is the credProps "rk" output: whether the browser made
	// a passkey. Nil when the browser did not say.
	Discoverable *bool
	// AttestationType is "none", "basic_surrogate" (self attestation),
	// "basic_full", "attca", ...; AttestationFormat is "none", "packed",
	// "tpm", ... as the authenticator sent it. A statement that did not
	// verify is recorded with type "none" and AttestationInvalid set.
	AttestationType   string
	AttestationFormat string
	// AttestationTrusted is the trust decision made once, at registration:
	// the attestation statement verified and its certificate chain led to
	// one of Config.AttestationRoots. Only such a credential is evidence
	// of a hardware authenticator: it reports "hwk" and can reach AAL3.
	// Records stored before this field existed read as false.
	AttestationTrusted bool
	// AttestationInvalid records that the authenticator sent a statement
	// that did not verify; the key was registered as unattested.
	AttestationInvalid bool
	// Attachment is "platform" or "cross-platform" when the browser said.
	Attachment string
	// CloneWarning is set when a signature counter regressed and
	// SignCountAcceptAndFlag let the sign-in through.
	CloneWarning bool
}

// CredentialOf returns the credential record of a stored WebAuthn factor,
// with SignCount taken from its counter.
func CredentialOf(f store.Factor) (*Credential, error) {
	if f.Kind != string(factor.KindWebAuthn) {
		return nil, fmt.Errorf("%w: webauthn: factor kind is %q", factor.ErrInvalidInput, f.Kind)
	}
	c, err := decodeCredential(f.Data)
	if err != nil {
		return nil, err
	}
	c.SignCount = uint32(f.Counter)
	return c, nil
}

// The record's encoding: a version byte, a flags byte, then each byte
// field as a uvarint length and the bytes: ID, PublicKey, UserHandle,
// AAGUID, AttestationType, AttestationFormat, Attachment, and the
// transports as a uvarint count of such fields. Binary rather than JSON
// because it is decoded on every sign-in.
//
// bitTrusted and bitInvalid came later, in bits that earlier records
// always had clear (and earlier decoders refuse), so a record stored
// before them reads as unattested: at most AAL2.
const (
	bitBE = 1 << iota
	bitBS
	bitUV
	bitClone
	bitRKKnown
	bitRK
	bitTrusted
	bitInvalid
)

// maxField bounds any one field of a record (a COSE RSA-4096 key is about
// 550 bytes).
const maxField = 4096

// maxTransports bounds the transports of a record (WebAuthn defines five).
const maxTransports = 16

func (c *Credential) encode() ([]byte, error) {
	var bits byte
	for _, f := range []struct {
		on  bool
		bit byte
	}{{c.BackupEligible, bitBE}, {c.BackupState, bitBS}, {c.UserVerified, bitUV}, {c.CloneWarning, bitClone},
		{c.Discoverable != nil, bitRKKnown}, {c.Discoverable != nil && *c.Discoverable, bitRK},
		{c.AttestationTrusted, bitTrusted}, {c.AttestationInvalid, bitInvalid}} {
		if f.on {
			bits |= f.bit
		}
	}
	fields := [][]byte{c.ID, c.PublicKey, c.UserHandle, c.AAGUID,
		[]byte(c.AttestationType), []byte(c.AttestationFormat), []byte(c.Attachment)}
	out := []byte{recordVersion, bits}
	for _, f := range fields {
		if len(f) > maxField {
			return nil, errors.New("webauthn: credential field too long to store")
		}
		out = binary.AppendUvarint(out, uint64(len(f)))
		out = append(out, f...)
	}
	if len(c.Transports) > maxTransports {
		return nil, errors.New("webauthn: too many transports to store")
	}
	out = binary.AppendUvarint(out, uint64(len(c.Transports)))
	for _, t := range c.Transports {
		if len(t) > maxField {
			return nil, errors.New("webauthn: transport name too long to store")
		}
		out = binary.AppendUvarint(out, uint64(len(t)))
		out = append(out, t...)
	}
	return out, nil
}

var errRecord = errors.New("webauthn: stored credential unreadable")

func decodeCredential(data []byte) (*Credential, error) {
	if len(data) < 2 || data[0] != recordVersion {
		return nil, errRecord
	}
	bits, rest := data[1], data[2:]
	field := func() ([]byte, bool) {
		n, k := binary.Uvarint(rest)
		if k <= 0 || n > maxField || n > uint64(len(rest)-k) {
			return nil, false
		}
		f := rest[k : k+int(n) : k+int(n)]
		rest = rest[k+int(n):]
		return f, true
	}
	c := &Credential{
		BackupEligible: bits&bitBE != 0, BackupState: bits&bitBS != 0,
		UserVerified: bits&bitUV != 0, CloneWarning: bits&bitClone != 0,
		AttestationTrusted: bits&bitTrusted != 0, AttestationInvalid: bits&bitInvalid != 0,
	}
	if bits&bitRKKnown != 0 {
		rk := bits&bitRK != 0
		c.Discoverable = &rk
	}
	var strs [3][]byte
	for _, dst := range []*[]byte{&c.ID, &c.PublicKey, &c.UserHandle, &c.AAGUID, &strs[0], &strs[1], &strs[2]} {
		f, ok := field()
		if !ok {
			return nil, errRecord
		}
		*dst = f
	}
	c.AttestationType, c.AttestationFormat, c.Attachment = string(strs[0]), string(strs[1]), string(strs[2])
	n, k := binary.Uvarint(rest)
	if k <= 0 || n > maxTransports {
		return nil, errRecord
	}
	rest = rest[k:]
	for range n {
		f, ok := field()
		if !ok {
			return nil, errRecord
		}
		c.Transports = append(c.Transports, string(f))
	}
	if len(rest) != 0 || (c.AttestationTrusted && c.AttestationInvalid) || len(c.ID) == 0 || len(c.ID) > MaxCredentialIDLen || len(c.PublicKey) == 0 || len(c.UserHandle) == 0 {
		return nil, errRecord
	}
	return c, nil
}

// flags returns the stored flags as the authenticator would set them.
func (c *Credential) flags() protocol.AuthenticatorFlags {
	f := protocol.FlagUserPresent
	if c.UserVerified {
		f |= protocol.FlagUserVerified
	}
	if c.BackupEligible {
		f |= protocol.FlagBackupEligible
	}
	if c.BackupState {
		f |= protocol.FlagBackupState
	}
	return f
}

// library returns the record as go-webauthn's Credential, with the given
// sign count.
func (c *Credential) library(signCount uint32) gowebauthn.Credential {
	ts := make([]protocol.AuthenticatorTransport, len(c.Transports))
	for i, t := range c.Transports {
		ts[i] = protocol.AuthenticatorTransport(t)
	}
	return gowebauthn.Credential{
		ID:                c.ID,
		PublicKey:         c.PublicKey,
		AttestationType:   c.AttestationType,
		AttestationFormat: c.AttestationFormat,
		Transport:         ts,
		Flags:             gowebauthn.NewCredentialFlags(c.flags()),
		Authenticator: gowebauthn.Authenticator{
			AAGUID:       c.AAGUID,
			SignCount:    signCount,
			CloneWarning: c.CloneWarning,
			Attachment:   protocol.AuthenticatorAttachment(c.Attachment),
		},
	}
}

// Lookup returns the store.Factor.Lookup of a credential ID: the unpadded
// base64url SHA-256 of the ID. A fixed 43 bytes whatever the ID's length
// (up to 1023 bytes), so every backend can index it as a unique key.
func Lookup(credentialID []byte) string {
	sum := sha256.Sum256(credentialID)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// account is a user as go-webauthn sees one.
type account struct {
	handle []byte
	name   string
	creds  []gowebauthn.Credential
}

func (a *account) WebAuthnID() []byte                           { return a.handle }
func (a *account) WebAuthnName() string                         { return a.name }
func (a *account) WebAuthnDisplayName() string                  { return a.name }
func (a *account) WebAuthnCredentials() []gowebauthn.Credential { return a.creds }

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
