package webauthn

import (
	"crypto/x509"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"golang.org/x/net/publicsuffix"

	"github.com/mfakit/mfa/factor"
)

// UserVerification says whether the authenticator must verify the user
// (a PIN or a biometric) as well as test their presence.
type UserVerification int

const (
	// UserVerificationPreferred asks for verification and accepts an
	// assertion without it; such a sign-in reaches AAL2, not AAL3. The
	// zero value and the default.
	UserVerificationPreferred UserVerification = iota
	// UserVerificationRequired refuses any response without the UV flag.
	UserVerificationRequired
	// UserVerificationDiscouraged asks the authenticator not to verify
	// the user (a plain touch of a security key).
	UserVerificationDiscouraged
)

func (u UserVerification) protocol() protocol.UserVerificationRequirement {
	switch u {
	case UserVerificationRequired:
		return protocol.VerificationRequired
	case UserVerificationDiscouraged:
		return protocol.VerificationDiscouraged
	}
	return protocol.VerificationPreferred
}

// ResidentKey says whether registration asks for a discoverable credential
// (a passkey), which lets the user sign in without typing a username.
type ResidentKey int

const (
	// ResidentKeyPreferred asks for a discoverable credential and accepts
	// one that is not. The zero value and the default.
	ResidentKeyPreferred ResidentKey = iota
	// ResidentKeyRequired makes the browser refuse authenticators that
	// cannot store a discoverable credential.
	ResidentKeyRequired
	// ResidentKeyDiscouraged asks for a server-side credential, as a
	// second-factor security key would hold.
	ResidentKeyDiscouraged
)

func (r ResidentKey) protocol() protocol.ResidentKeyRequirement {
	switch r {
	case ResidentKeyRequired:
		return protocol.ResidentKeyRequirementRequired
	case ResidentKeyDiscouraged:
		return protocol.ResidentKeyRequirementDiscouraged
	}
	return protocol.ResidentKeyRequirementPreferred
}

// SignCountPolicy is what Verify does when an authenticator's signature
// counter did not grow (WebAuthn §6.1.1): a sign of a cloned authenticator.
// Either way the Verifier emits [mfa.EventSignCountRegressed].
type SignCountPolicy int

const (
	// SignCountRefuse refuses the assertion with [ErrSignCountRegressed].
	// The zero value and the default: a regression is evidence of a clone,
	// and authenticators that do not count (most synced passkeys) always
	// report zero, which is not a regression.
	SignCountRefuse SignCountPolicy = iota
	// SignCountAcceptAndFlag accepts the assertion, keeps the stored count
	// and marks the credential (Credential.CloneWarning).
	SignCountAcceptAndFlag
)

// Attestation is the attestation conveyance preference sent at
// registration.
type Attestation int

const (
	// AttestationNone asks for no attestation statement: the privacy
	// preserving choice, and the default.
	AttestationNone Attestation = iota
	// AttestationIndirect lets the client replace the statement with an
	// anonymised one.
	AttestationIndirect
	// AttestationDirect asks for the authenticator's own statement. It is
	// verified, its type, format and trust recorded; it is a trust
	// decision only when its chain leads to one of Config.AttestationRoots.
	AttestationDirect
)

func (a Attestation) protocol() protocol.ConveyancePreference {
	switch a {
	case AttestationIndirect:
		return protocol.PreferIndirectAttestation
	case AttestationDirect:
		return protocol.PreferDirectAttestation
	}
	return protocol.PreferNoAttestation
}

// Limits on Config.
const (
	// DefaultTimeout is the ceremony timeout when Config.Timeout is zero.
	DefaultTimeout = 5 * time.Minute
	// MaxTimeout is the longest Config.Timeout accepted, the same ceiling
	// as the Verifier's challenge lifetime.
	MaxTimeout = 10 * time.Minute
)

// Config configures a [Factor]. RPID and Origins are required; every other
// field is safe when zero.
type Config struct {
	// RPID is the relying party ID every credential is scoped to: a
	// registrable domain such as "example.com" (or a subdomain of one,
	// "login.example.com"), or "localhost" for development. It cannot be
	// changed later without re-registering every credential. Required.
	RPID string
	// RPDisplayName is the service's name as the browser shows it. Default:
	// RPID.
	RPDisplayName string
	// Origins is the allow-list of web origins a response may come from,
	// e.g. "https://example.com" or "https://login.example.com:8443". Each
	// must be https (http only for localhost), with no path, and its host
	// must be RPID or a subdomain of it. Required.
	Origins []string
	// UserVerification is the policy for registration and second-factor
	// sign-in. Default UserVerificationPreferred. Passkey sign-in (no user
	// named first) always requires verification.
	UserVerification UserVerification
	// ResidentKey is the discoverable-credential preference at
	// registration. Default ResidentKeyPreferred, so keys that can hold a
	// passkey do.
	ResidentKey ResidentKey
	// Timeout is sent to the browser as the ceremony timeout and bounds how
	// long a sign-in challenge lives (the Verifier's ChallengeTTL bounds it
	// too, and registration challenges). Default 5 minutes; at most 10.
	Timeout time.Duration
	// SignCount is the outcome of a signature-counter regression. Default
	// SignCountRefuse.
	SignCount SignCountPolicy
	// Attestation is the attestation conveyance preference. Default
	// AttestationNone. With AttestationRoots or MetadataBLOB set it must be
	// AttestationDirect or AttestationIndirect: asked for none, browsers
	// strip the statement, so no key could ever reach AAL3 and the roots
	// would be dead configuration; New refuses that.
	Attestation Attestation
	// AttestationRoots are the trust anchors for attestation: the root
	// certificates of the authenticator vendors (from their FIDO metadata
	// statements) or of an enterprise attestation CA. A credential whose
	// verified attestation statement chains to one of them at registration
	// is recorded as attested (Credential.AttestationTrusted) and can reach
	// AAL3; every other credential reaches AAL2 at most. Build it with
	// [RootsFromPEM]. Nothing is fetched: the operator supplies the roots
	// and updates them. Default nil: no credential reaches AAL3.
	AttestationRoots *x509.CertPool
	// MetadataBLOB is a FIDO Metadata Service (MDS3) blob, the signed JWT
	// the FIDO Alliance publishes, as the operator downloaded it (read it
	// from a file; nothing is fetched, so refresh the file as its
	// nextUpdate asks). New checks its signature chain to MetadataRoot.
	// A credential is then also attested when its model (AAGUID) is
	// listed, no status report in effect says it is compromised or
	// revoked, its keyProtection includes hardware, tee or secure_element,
	// and its x5c chain leads to the model's attestation roots. Default
	// nil: no metadata.
	MetadataBLOB []byte
	// MetadataRoot is the root the blob's signing certificate must chain
	// to. Default: the FIDO Alliance's MDS root (go-webauthn's
	// metadata.ProductionMDSRoot).
	MetadataRoot *x509.Certificate
	// RequireTrustedAttestation refuses, with [ErrAttestationUntrusted],
	// the registration of a key whose attestation does not chain to
	// AttestationRoots or MetadataBLOB (for deployments that must issue
	// hardware keys only). Default false: such keys are registered and
	// reach AAL2 at most, so users are not locked out. Requires
	// AttestationRoots or MetadataBLOB.
	RequireTrustedAttestation bool
}

// validate checks cfg, fills defaults and returns the origins normalised
// to scheme://host[:port].
func (cfg *Config) validate() ([]string, error) {
	if err := checkRPID(cfg.RPID); err != nil {
		return nil, err
	}
	if cfg.RPDisplayName == "" {
		cfg.RPDisplayName = cfg.RPID
	}
	if len(cfg.Origins) == 0 {
		return nil, fmt.Errorf("%w: webauthn: at least one origin is required", factor.ErrConfig)
	}
	origins := make([]string, 0, len(cfg.Origins))
	for _, o := range cfg.Origins {
		n, err := checkOrigin(o, cfg.RPID)
		if err != nil {
			return nil, err
		}
		origins = append(origins, n)
	}
	switch {
	case cfg.UserVerification < UserVerificationPreferred || cfg.UserVerification > UserVerificationDiscouraged:
		return nil, fmt.Errorf("%w: webauthn: unknown UserVerification %d", factor.ErrConfig, cfg.UserVerification)
	case cfg.ResidentKey < ResidentKeyPreferred || cfg.ResidentKey > ResidentKeyDiscouraged:
		return nil, fmt.Errorf("%w: webauthn: unknown ResidentKey %d", factor.ErrConfig, cfg.ResidentKey)
	case cfg.SignCount < SignCountRefuse || cfg.SignCount > SignCountAcceptAndFlag:
		return nil, fmt.Errorf("%w: webauthn: unknown SignCount policy %d", factor.ErrConfig, cfg.SignCount)
	case cfg.Attestation < AttestationNone || cfg.Attestation > AttestationDirect:
		return nil, fmt.Errorf("%w: webauthn: unknown Attestation %d", factor.ErrConfig, cfg.Attestation)
	case cfg.Timeout < 0 || cfg.Timeout > MaxTimeout:
		return nil, fmt.Errorf("%w: webauthn: Timeout must be between 0 and %s", factor.ErrConfig, MaxTimeout)
	}
	if cfg.AttestationRoots != nil && !hasRoots(cfg.AttestationRoots) {
		return nil, fmt.Errorf("%w: webauthn: AttestationRoots holds no certificate (leave it nil for none)", factor.ErrConfig)
	}
	anchors := cfg.AttestationRoots != nil || cfg.MetadataBLOB != nil
	if anchors && cfg.Attestation == AttestationNone {
		return nil, fmt.Errorf("%w: webauthn: AttestationRoots and MetadataBLOB need Attestation set to AttestationDirect or AttestationIndirect; with AttestationNone browsers send no statement to check", factor.ErrConfig)
	}
	if cfg.RequireTrustedAttestation && !anchors {
		return nil, fmt.Errorf("%w: webauthn: RequireTrustedAttestation needs AttestationRoots or MetadataBLOB", factor.ErrConfig)
	}
	if cfg.MetadataRoot != nil && cfg.MetadataBLOB == nil {
		return nil, fmt.Errorf("%w: webauthn: MetadataRoot without MetadataBLOB", factor.ErrConfig)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	return origins, nil
}

// checkRPID accepts "localhost" and lower-case DNS names that are not a
// public suffix themselves (a browser refuses "com" or "github.io").
func checkRPID(id string) error {
	if id == "" {
		return fmt.Errorf("%w: webauthn: RPID is required", factor.ErrConfig)
	}
	if id == "localhost" {
		return nil
	}
	if err := protocol.ValidateRPID(id); err != nil {
		return fmt.Errorf("%w: webauthn: RPID %q: %w", factor.ErrConfig, id, err)
	}
	if len(id) > 253 {
		return fmt.Errorf("%w: webauthn: RPID longer than 253 bytes", factor.ErrConfig)
	}
	for _, label := range strings.Split(id, ".") {
		if !validLabel(label) {
			return fmt.Errorf("%w: webauthn: RPID %q is not a lower-case domain name (use the punycode form of international names)", factor.ErrConfig, id)
		}
	}
	if _, err := publicsuffix.EffectiveTLDPlusOne(id); err != nil {
		return fmt.Errorf("%w: webauthn: RPID %q is not a registrable domain: %w", factor.ErrConfig, id, err)
	}
	return nil
}

func validLabel(l string) bool {
	if len(l) == 0 || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
		return false
	}
	for i := 0; i < len(l); i++ {
		c := l[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return true
}

// checkOrigin parses one allowed origin and returns it as
// scheme://host[:port].
func checkOrigin(o, rpID string) (string, error) {
	u, err := url.Parse(o)
	if err != nil {
		return "", fmt.Errorf("%w: webauthn: origin %q: %w", factor.ErrConfig, o, err)
	}
	if u.Opaque != "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.Host == "" {
		return "", fmt.Errorf("%w: webauthn: origin %q must be scheme://host[:port] and nothing more", factor.ErrConfig, o)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 || p[0] == '0' {
			return "", fmt.Errorf("%w: webauthn: origin %q has an invalid port", factor.ErrConfig, o)
		}
	}
	host := u.Hostname()
	if host != strings.ToLower(host) {
		return "", fmt.Errorf("%w: webauthn: origin %q must be lower case", factor.ErrConfig, o)
	}
	local := host == "localhost" || strings.HasSuffix(host, ".localhost")
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && local:
	default:
		return "", fmt.Errorf("%w: webauthn: origin %q must be https (http only for localhost)", factor.ErrConfig, o)
	}
	if host != rpID && !strings.HasSuffix(host, "."+rpID) {
		return "", fmt.Errorf("%w: webauthn: origin %q is not on RPID %q or a subdomain of it", factor.ErrConfig, o, rpID)
	}
	return u.Scheme + "://" + u.Host, nil
}
