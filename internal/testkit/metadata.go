package testkit

import (
	"crypto/ecdsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"fmt"
	"math/big"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// MetadataSigner stands in for the FIDO Metadata Service: a root and a
// signing certificate it issued, which signs MDS3 blobs built in tests.
type MetadataSigner struct {
	Root *x509.Certificate // what Config.MetadataRoot names

	leaf *x509.Certificate
	key  *ecdsa.PrivateKey
}

// NewMetadataSigner returns a signer whose certificates are valid from
// 2000 to 2100.
func NewMetadataSigner(name string) *MetadataSigner {
	rootKey, key := mustKey(), mustKey()
	from, until := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
	root := mustCert(&x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name + " MDS root"},
		NotBefore: from, NotAfter: until, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign,
	}, nil, &rootKey.PublicKey, rootKey)
	leaf := mustCert(&x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: name + " MDS signer"},
		NotBefore: from, NotAfter: until, KeyUsage: x509.KeyUsageDigitalSignature,
	}, root, &key.PublicKey, rootKey)
	return &MetadataSigner{Root: root, leaf: leaf, key: key}
}

// Model is one entry of a blob: the authenticators whose attestation ca
// signs (the AAGUID every Authenticator reports), with a status
// ("FIDO_CERTIFIED_L1", "REVOKED", ...) and a keyProtection list
// ("hardware", "secure_element", "software", ...).
type Model struct {
	CA            *AttestationCA
	Status        string
	KeyProtection []string
}

// BLOB returns a signed MDS3 blob (a JWT with the signing certificate in
// x5c) listing models.
func (s *MetadataSigner) BLOB(models ...Model) []byte {
	std := base64.StdEncoding.EncodeToString
	entries := make([]any, 0, len(models))
	for _, m := range models {
		a := testAAGUID
		id := fmt.Sprintf("%x-%x-%x-%x-%x", a[0:4], a[4:6], a[6:8], a[8:10], a[10:])
		entries = append(entries, map[string]any{
			"aaguid": id,
			"metadataStatement": map[string]any{
				"description": "mfa test authenticator", "aaguid": id, "protocolFamily": "fido2", "schema": 3,
				"attestationTypes":            []string{"basic_full"},
				"keyProtection":               m.KeyProtection,
				"attestationRootCertificates": []string{std(m.CA.Root.Raw)},
			},
			"statusReports":          []any{map[string]any{"status": m.Status, "effectiveDate": "2020-01-01"}},
			"timeOfLastStatusChange": "2020-01-01",
		})
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{
		"legalHeader": "test metadata, not for use", "no": 1, "nextUpdate": "2100-01-01", "entries": entries,
	})
	tok.Header["x5c"] = []string{std(s.leaf.Raw)}
	out, err := tok.SignedString(s.key)
	if err != nil {
		panic(err)
	}
	return []byte(out)
}
