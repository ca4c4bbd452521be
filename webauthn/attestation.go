package webauthn

import (
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/go-webauthn/webauthn/protocol"

	"github.com/mfakit/mfa/factor"
)

// ErrAttestationUntrusted refuses a registration under
// Config.RequireTrustedAttestation whose attestation statement is missing,
// does not verify, or does not chain to one of Config.AttestationRoots. It
// wraps [mfa.ErrWrongCode]; the message says which.
var ErrAttestationUntrusted = fmt.Errorf("%w: webauthn: the key's attestation does not chain to a trusted root", factor.ErrWrongCode)

// RootsFromPEM returns a pool of the certificates in pemCerts, for
// Config.AttestationRoots: the roots of the authenticator vendors (or the
// attestation CAs of an enterprise) the operator trusts, as published in
// their metadata statements. Unlike x509.CertPool.AppendCertsFromPEM it
// fails on anything that is not a certificate, and on no certificate at
// all, so a wrong file is a configuration error rather than an empty trust
// list. Errors wrap [mfa.ErrConfig].
func RootsFromPEM(pemCerts []byte) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	n := 0
	for rest := pemCerts; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("%w: webauthn: attestation roots: PEM block %q is not a certificate", factor.ErrConfig, b.Type)
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: webauthn: attestation roots: %w", factor.ErrConfig, err)
		}
		pool.AddCert(c)
		n++
	}
	if n == 0 {
		return nil, fmt.Errorf("%w: webauthn: attestation roots: no PEM certificate", factor.ErrConfig)
	}
	return pool, nil
}

// sanOID is the subjectAltName extension. A TPM attestation certificate
// marks it critical and fills it with a directory name (TPM manufacturer,
// model, version), which go-webauthn's tpm verification has checked and
// crypto/x509 does not know, so it would refuse the chain for it.
var sanOID = asn1.ObjectIdentifier{2, 5, 29, 17}

// trustedChain reports whether a verified attestation statement's
// certificate chain (x5c: the attestation certificate first, then any
// intermediates) leads at now to one of roots, or to the attestation
// roots the metadata lists for the credential's model (aaguid). When it
// does not, the error says why. Statements without x5c (none, self, and
// formats that carry their chain elsewhere) are never trusted.
func trustedChain(obj *protocol.AttestationObject, aaguid []byte, roots *x509.CertPool, mds models, now time.Time) (bool, error) {
	if roots == nil && mds == nil {
		return false, nil
	}
	raw, ok := obj.AttStatement["x5c"].([]any)
	if !ok || len(raw) == 0 {
		return false, errors.New("the statement carries no certificate chain")
	}
	certs := make([]*x509.Certificate, 0, len(raw))
	for _, r := range raw {
		der, ok := r.([]byte)
		if !ok {
			return false, errors.New("x5c holds something other than a certificate")
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return false, fmt.Errorf("x5c: %w", err)
		}
		certs = append(certs, c)
	}
	if protocol.AttestationFormat(obj.Format) == protocol.AttestationFormatTPM {
		c := *certs[0]
		c.UnhandledCriticalExtensions = slices.DeleteFunc(slices.Clone(c.UnhandledCriticalExtensions),
			func(id asn1.ObjectIdentifier) bool { return id.Equal(sanOID) })
		certs[0] = &c
	}
	var errs []error
	if roots != nil {
		err := verifyChain(certs, roots, now)
		if err == nil {
			return true, nil
		}
		errs = append(errs, err)
	}
	if mds != nil {
		err := mds.vouch(aaguid, certs, now)
		if err == nil {
			return true, nil
		}
		errs = append(errs, fmt.Errorf("metadata: %w", err))
	}
	return false, errors.Join(errs...)
}

// verifyChain verifies certs[0] through certs[1:] to roots at now.
func verifyChain(certs []*x509.Certificate, roots *x509.CertPool, now time.Time) error {
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	_, err := certs[0].Verify(x509.VerifyOptions{
		Roots: roots, Intermediates: inter, CurrentTime: now,
		// Attestation certificates carry no TLS key usage; TPM AIK
		// certificates carry one crypto/x509 does not know.
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	})
	return err
}

// hasRoots reports whether pool holds any certificate.
func hasRoots(pool *x509.CertPool) bool {
	return pool != nil && !pool.Equal(x509.NewCertPool())
}
