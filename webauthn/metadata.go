package webauthn

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/go-webauthn/webauthn/metadata"
	"github.com/golang-jwt/jwt/v5"

	"github.com/mfakit/mfa/factor"
)

// maxMetadataBLOB bounds Config.MetadataBLOB (the FIDO Alliance's blob is
// a few megabytes).
const maxMetadataBLOB = 64 << 20

// models is what a FIDO MDS3 blob says about each authenticator model,
// by AAGUID.
type models map[[16]byte]*metadata.Entry

// loadMetadata checks a FIDO MDS3 blob (a JWT, signed by a certificate in
// its x5c header that chains to root) and returns its entries by AAGUID.
// It fetches nothing: no x5u, no CRL, no OCSP; the blob is as fresh as the
// file the operator supplies. Entries the metadata package cannot parse,
// and entries without an AAGUID (U2F and UAF models), are left out: they
// vouch for nothing here.
func loadMetadata(blob []byte, root *x509.Certificate) (models, error) {
	fail := func(err error) (models, error) {
		return nil, fmt.Errorf("%w: webauthn: MetadataBLOB: %w", factor.ErrConfig, err)
	}
	if len(blob) > maxMetadataBLOB {
		return fail(fmt.Errorf("longer than %d bytes", maxMetadataBLOB))
	}
	if root == nil {
		der, err := base64.StdEncoding.DecodeString(metadata.ProductionMDSRoot)
		if err != nil {
			return fail(err)
		}
		if root, err = x509.ParseCertificate(der); err != nil {
			return fail(err)
		}
	}
	roots := x509.NewCertPool()
	roots.AddCert(root)
	parser := jwt.NewParser(jwt.WithValidMethods([]string{"ES256", "ES384", "ES512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}))
	tok, err := parser.Parse(string(bytes.TrimSpace(blob)), func(t *jwt.Token) (any, error) {
		if _, ok := t.Header["x5u"]; ok {
			return nil, errors.New("x5u is not followed; supply a blob with x5c")
		}
		raw, _ := t.Header["x5c"].([]any)
		if len(raw) == 0 {
			return nil, errors.New("no x5c header")
		}
		chain := make([]*x509.Certificate, len(raw))
		for i, r := range raw {
			s, _ := r.(string)
			der, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				return nil, fmt.Errorf("x5c[%d]: %w", i, err)
			}
			if chain[i], err = x509.ParseCertificate(der); err != nil {
				return nil, fmt.Errorf("x5c[%d]: %w", i, err)
			}
		}
		inter := x509.NewCertPool()
		for _, c := range chain[1:] {
			inter.AddCert(c)
		}
		if _, err := chain[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter,
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
			return nil, fmt.Errorf("signing certificate: %w", err)
		}
		return chain[0].PublicKey, nil
	})
	if err != nil {
		return fail(err)
	}
	parts := bytes.Split([]byte(tok.Raw), []byte("."))
	body, err := base64.RawURLEncoding.DecodeString(string(parts[1]))
	if err != nil {
		return fail(err)
	}
	var payload metadata.PayloadJSON
	if err := json.Unmarshal(body, &payload); err != nil {
		return fail(err)
	}
	out := models{}
	for _, ej := range payload.Entries {
		e, err := ej.Parse()
		if err != nil || [16]byte(e.AaGUID) == [16]byte{} {
			continue
		}
		out[[16]byte(e.AaGUID)] = &e
	}
	return out, nil
}

// vouch reports whether the blob's entry for the credential's model
// vouches for its attestation chain at now: the model is listed, no
// status in effect says it is compromised or revoked, its keys are not
// kept in software only, and the chain leads to one of its attestation
// roots.
func (m models) vouch(aaguid []byte, certs []*x509.Certificate, now time.Time) error {
	if len(aaguid) != 16 {
		return errors.New("no AAGUID")
	}
	id := fmt.Sprintf("%x", aaguid)
	e := m[[16]byte(aaguid)]
	if e == nil {
		return fmt.Errorf("model %s is not in the metadata", id)
	}
	if err := metadata.ValidateStatusReportsAt(e.StatusReports, nil, metadata.DefaultUndesiredAuthenticatorStatuses(), now); err != nil {
		return fmt.Errorf("model %s: %w", id, err)
	}
	if kp := e.MetadataStatement.KeyProtection; len(kp) == 0 || !slices.ContainsFunc(kp, func(p string) bool {
		return p == "hardware" || p == "tee" || p == "secure_element"
	}) {
		return fmt.Errorf("model %s does not keep its keys in hardware (keyProtection %v)", id, kp)
	}
	roots := x509.NewCertPool()
	for _, c := range e.MetadataStatement.AttestationRootCertificates {
		roots.AddCert(c)
	}
	return verifyChain(certs, roots, now)
}
