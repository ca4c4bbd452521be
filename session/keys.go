package session

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"slices"

	"github.com/golang-jwt/jwt/v5"
)

// Algorithms a [Key] can have. Each key has exactly one.
const (
	// EdDSA is Ed25519 (RFC 8037), the default.
	EdDSA = "EdDSA"
	// ES256 is ECDSA on P-256 with SHA-256 (RFC 7518 §3.4).
	ES256 = "ES256"
	// HS256 is HMAC-SHA256 with a shared secret. Only a caller who builds
	// one with [NewHS256Key] gets it; it is never published in a JWKS, so
	// only this Manager (and whoever shares the secret) can verify.
	HS256 = "HS256"
)

// MinHS256SecretLen is the shortest HS256 secret accepted: 256 bits, the
// output size of SHA-256 (RFC 7518 §3.2).
const MinHS256SecretLen = 32

// maxKeyIDLen bounds a kid; it travels in every token header.
const maxKeyIDLen = 64

// Key is one signing or verification key with its ID (the JWT "kid"
// header) and its one algorithm. A token whose alg differs from the
// algorithm of the key its kid names is refused, whatever the signature.
type Key struct {
	id        string
	alg       string
	method    jwt.SigningMethod
	signKey   any              // nil for a verification-only key
	verifyKey any              // what the jwt method's Verify expects
	public    crypto.PublicKey // nil for HS256: never published
}

// ID returns the key ID.
func (k *Key) ID() string { return k.id }

// Algorithm returns the key's one algorithm: EdDSA, ES256 or HS256.
func (k *Key) Algorithm() string { return k.alg }

// Public returns the public key (ed25519.PublicKey or *ecdsa.PublicKey),
// or nil for an HS256 key.
func (k *Key) Public() crypto.PublicKey { return k.public }

// CanSign reports whether the key holds private material.
func (k *Key) CanSign() bool { return k.signKey != nil }

func checkKeyID(kid string) error {
	if kid == "" || len(kid) > maxKeyIDLen {
		return fmt.Errorf("%w: key ID must be 1 to %d characters", ErrConfig, maxKeyIDLen)
	}
	for i := 0; i < len(kid); i++ {
		if c := kid[i]; c <= ' ' || c >= 0x7f || c == '"' || c == '\\' {
			return fmt.Errorf("%w: key ID must be printable ASCII without spaces or quotes", ErrConfig)
		}
	}
	return nil
}

// GenerateEd25519Key returns a new Ed25519 key with the given ID, its seed
// read from random (crypto/rand when nil). Every instance of a stateless
// service must verify with the same keys: generate once, store the PEM
// from [Key.MarshalPEM] in a secret manager, and load it with
// [ParseKeyPEM]; a key generated at start-up suits one instance or tests.
func GenerateEd25519Key(kid string, random io.Reader) (*Key, error) {
	if random == nil {
		random = rand.Reader
	}
	seed := make([]byte, ed25519.SeedSize)
	defer clear(seed)
	if _, err := io.ReadFull(random, seed); err != nil {
		return nil, fmt.Errorf("mfa: session: random: %w", err)
	}
	return NewEd25519Key(kid, ed25519.NewKeyFromSeed(seed))
}

// NewEd25519Key wraps an Ed25519 private key.
func NewEd25519Key(kid string, priv ed25519.PrivateKey) (*Key, error) {
	if err := checkKeyID(kid); err != nil {
		return nil, err
	}
	if len(priv) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("%w: Ed25519 private key must be %d bytes", ErrConfig, ed25519.PrivateKeySize)
	}
	priv = slices.Clone(priv)
	pub := priv.Public().(ed25519.PublicKey)
	return &Key{id: kid, alg: EdDSA, method: jwt.SigningMethodEdDSA, signKey: priv, verifyKey: pub, public: pub}, nil
}

// GenerateES256Key returns a new ECDSA P-256 key. It takes no random
// source: since Go 1.26 ecdsa.GenerateKey always uses a secure one.
func GenerateES256Key(kid string) (*Key, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("mfa: session: generate ES256 key: %w", err)
	}
	return NewES256Key(kid, priv)
}

// NewES256Key wraps an ECDSA private key on P-256.
func NewES256Key(kid string, priv *ecdsa.PrivateKey) (*Key, error) {
	if err := checkKeyID(kid); err != nil {
		return nil, err
	}
	if priv == nil || priv.Curve != elliptic.P256() {
		return nil, fmt.Errorf("%w: ES256 needs a P-256 private key", ErrConfig)
	}
	return &Key{id: kid, alg: ES256, method: jwt.SigningMethodES256, signKey: priv, verifyKey: &priv.PublicKey, public: &priv.PublicKey}, nil
}

// NewPublicKey wraps a public key (ed25519.PublicKey or a P-256
// *ecdsa.PublicKey) for verification only: a retired signing key kept
// until the last token it signed has expired.
func NewPublicKey(kid string, pub crypto.PublicKey) (*Key, error) {
	if err := checkKeyID(kid); err != nil {
		return nil, err
	}
	switch p := pub.(type) {
	case ed25519.PublicKey:
		if len(p) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("%w: Ed25519 public key must be %d bytes", ErrConfig, ed25519.PublicKeySize)
		}
		p = slices.Clone(p)
		return &Key{id: kid, alg: EdDSA, method: jwt.SigningMethodEdDSA, verifyKey: p, public: p}, nil
	case *ecdsa.PublicKey:
		if p == nil || p.Curve != elliptic.P256() {
			return nil, fmt.Errorf("%w: ES256 needs a P-256 public key", ErrConfig)
		}
		return &Key{id: kid, alg: ES256, method: jwt.SigningMethodES256, verifyKey: p, public: p}, nil
	}
	return nil, fmt.Errorf("%w: unsupported public key type %T", ErrConfig, pub)
}

// NewHS256Key returns an HS256 key over a copy of secret, which must be at
// least [MinHS256SecretLen] random bytes. Prefer Ed25519: anyone who can
// verify an HS256 token can also forge one, and the key is never
// published in the JWKS, so gateways cannot verify it.
func NewHS256Key(kid string, secret []byte) (*Key, error) {
	if err := checkKeyID(kid); err != nil {
		return nil, err
	}
	if len(secret) < MinHS256SecretLen {
		return nil, fmt.Errorf("%w: HS256 secret is %d bytes, want at least %d", ErrConfig, len(secret), MinHS256SecretLen)
	}
	s := slices.Clone(secret)
	return &Key{id: kid, alg: HS256, method: jwt.SigningMethodHS256, signKey: s, verifyKey: s}, nil
}

// ParseKeyPEM reads a key from PEM: a PKCS #8 "PRIVATE KEY" (Ed25519 or
// P-256), a SEC 1 "EC PRIVATE KEY", or a PKIX "PUBLIC KEY" (verification
// only).
func ParseKeyPEM(kid string, data []byte) (*Key, error) {
	b, _ := pem.Decode(data)
	if b == nil {
		return nil, fmt.Errorf("%w: no PEM block", ErrConfig)
	}
	switch b.Type {
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrConfig, err)
		}
		switch p := k.(type) {
		case ed25519.PrivateKey:
			return NewEd25519Key(kid, p)
		case *ecdsa.PrivateKey:
			return NewES256Key(kid, p)
		}
		return nil, fmt.Errorf("%w: unsupported private key type %T", ErrConfig, k)
	case "EC PRIVATE KEY":
		p, err := x509.ParseECPrivateKey(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrConfig, err)
		}
		return NewES256Key(kid, p)
	case "PUBLIC KEY":
		p, err := x509.ParsePKIXPublicKey(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrConfig, err)
		}
		return NewPublicKey(kid, p)
	}
	return nil, fmt.Errorf("%w: unsupported PEM block %q", ErrConfig, b.Type)
}

// MarshalPEM encodes the key for storage: PKCS #8 "PRIVATE KEY" for a key
// that can sign, PKIX "PUBLIC KEY" for a verification-only key. HS256
// keys are not encoded; store their secret as the bytes they are.
func (k *Key) MarshalPEM() ([]byte, error) {
	if k.alg == HS256 {
		return nil, fmt.Errorf("%w: HS256 keys have no PEM form", ErrConfig)
	}
	if k.signKey != nil {
		der, err := x509.MarshalPKCS8PrivateKey(k.signKey)
		if err != nil {
			return nil, err
		}
		return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
	}
	der, err := x509.MarshalPKIXPublicKey(k.public)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// KeySet is the one signing key and every key accepted for verification.
// To rotate: add the new key as a verification key on every instance,
// then make it the signing key (keeping the old one for verification),
// then drop the old one once the longest-lived token it signed (the
// pending or access lifetime) has expired. No one is signed out: refresh
// tokens are opaque and do not depend on the keys.
type KeySet struct {
	signing *Key
	byID    map[string]*Key
	algs    []string // the algorithms of the set, for jwt.WithValidMethods
	jwks    []byte
}

// NewKeySet returns a set that signs with signing and verifies with
// signing and every key in verify. Key IDs must be distinct.
func NewKeySet(signing *Key, verify ...*Key) (*KeySet, error) {
	if signing == nil || !signing.CanSign() {
		return nil, fmt.Errorf("%w: the signing key must hold a private key", ErrConfig)
	}
	ks := &KeySet{signing: signing, byID: make(map[string]*Key, 1+len(verify))}
	for _, k := range append([]*Key{signing}, verify...) {
		if k == nil {
			return nil, fmt.Errorf("%w: nil key", ErrConfig)
		}
		if _, dup := ks.byID[k.id]; dup {
			return nil, fmt.Errorf("%w: two keys with ID %q", ErrConfig, k.id)
		}
		ks.byID[k.id] = k
		if !slices.Contains(ks.algs, k.alg) {
			ks.algs = append(ks.algs, k.alg)
		}
	}
	doc, err := ks.marshalJWKS()
	if err != nil {
		return nil, err
	}
	ks.jwks = doc
	return ks, nil
}

// Signing returns the signing key.
func (ks *KeySet) Signing() *Key { return ks.signing }

// JWKS returns the JSON Web Key Set (RFC 7517) of the set's public keys;
// HS256 keys are never included.
func (ks *KeySet) JWKS() []byte { return slices.Clone(ks.jwks) }

type jwk struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y,omitempty"`
	Kid string `json:"kid"`
	Alg string `json:"alg"`
	Use string `json:"use"`
}

func (ks *KeySet) marshalJWKS() ([]byte, error) {
	doc := struct {
		Keys []jwk `json:"keys"`
	}{Keys: []jwk{}}
	b64 := base64.RawURLEncoding
	ids := make([]string, 0, len(ks.byID))
	for id := range ks.byID {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		k := ks.byID[id]
		switch p := k.public.(type) {
		case ed25519.PublicKey:
			doc.Keys = append(doc.Keys, jwk{Kty: "OKP", Crv: "Ed25519", X: b64.EncodeToString(p), Kid: k.id, Alg: k.alg, Use: "sig"})
		case *ecdsa.PublicKey:
			pt, err := p.Bytes() // 0x04 || X || Y, each 32 bytes
			if err != nil {
				return nil, fmt.Errorf("%w: %w", ErrConfig, err)
			}
			doc.Keys = append(doc.Keys, jwk{Kty: "EC", Crv: "P-256", X: b64.EncodeToString(pt[1:33]), Y: b64.EncodeToString(pt[33:]), Kid: k.id, Alg: k.alg, Use: "sig"})
		}
	}
	return json.Marshal(doc)
}
