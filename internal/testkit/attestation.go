package testkit

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"math/big"
	"time"
)

// Statement is the attestation statement an Authenticator puts in a
// registration.
type Statement int

const (
	// StatementNone is "none" attestation, as a browser sends when the
	// relying party asks for none or the authenticator has none (the
	// zero value; a virtual authenticator's usual answer).
	StatementNone Statement = iota
	// StatementSelf is "packed" self attestation: signed by the credential
	// key itself, no certificate.
	StatementSelf
	// StatementPacked is "packed" basic attestation: signed by the
	// attestation key of the Authenticator's CA, with its certificate in
	// x5c.
	StatementPacked
)

// idFidoGenCeAAGUID is the certificate extension naming the authenticator
// model (WebAuthn §8.2.1).
var idFidoGenCeAAGUID = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 45724, 1, 1, 4}

// AttestationCA is a test certificate authority for authenticator
// attestation: a self-signed root and one attestation certificate it
// issued (a batch of authenticators shares one, as real models do). Both
// are valid from 2000 to 2100, so neither the tests' clocks nor the real
// one fall outside them.
type AttestationCA struct {
	Root *x509.Certificate // the trust anchor an operator would configure
	Leaf *x509.Certificate // the attestation certificate, issued by Root

	leafKey *ecdsa.PrivateKey
}

// NewAttestationCA returns a CA named name whose attestation certificate
// meets WebAuthn §8.2.1 (packed) and names the AAGUID every Authenticator
// of this package reports.
func NewAttestationCA(name string) *AttestationCA {
	rootKey := mustKey()
	leafKey := mustKey()
	from, until := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
	root := mustCert(&x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name + " root", Organization: []string{name}},
		NotBefore: from, NotAfter: until, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}, nil, &rootKey.PublicKey, rootKey)
	aaguid, err := asn1.Marshal(testAAGUID[:])
	if err != nil {
		panic(err)
	}
	leaf := mustCert(&x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject: pkix.Name{Country: []string{"US"}, Organization: []string{name},
			OrganizationalUnit: []string{"Authenticator Attestation"}, CommonName: name + " authenticator"},
		NotBefore: from, NotAfter: until, BasicConstraintsValid: true,
		KeyUsage:        x509.KeyUsageDigitalSignature,
		ExtraExtensions: []pkix.Extension{{Id: idFidoGenCeAAGUID, Value: aaguid}},
	}, root, &leafKey.PublicKey, rootKey)
	return &AttestationCA{Root: root, Leaf: leaf, leafKey: leafKey}
}

// Pool returns a pool holding the root alone.
func (ca *AttestationCA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.Root)
	return p
}

// RootPEM returns the root certificate in PEM, as an operator's file
// would hold it.
func (ca *AttestationCA) RootPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Root.Raw})
}

// sign signs data with the attestation key (ES256).
func (ca *AttestationCA) sign(data []byte) []byte {
	h := sha256.Sum256(data)
	sig, err := ecdsa.SignASN1(rand.Reader, ca.leafKey, h[:])
	if err != nil {
		panic(err)
	}
	return sig
}

func mustKey() *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	return k
}

// mustCert issues tmpl signed by key; a nil parent makes it self-signed.
func mustCert(tmpl, parent *x509.Certificate, pub *ecdsa.PublicKey, key *ecdsa.PrivateKey) *x509.Certificate {
	if parent == nil {
		parent = tmpl
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, key)
	if err != nil {
		panic(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		panic(err)
	}
	return c
}
