package testkit

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"

	"github.com/fxamacker/cbor/v2"
	"github.com/go-webauthn/webauthn/protocol"
)

// Authenticator data flags (WebAuthn §6.1).
const (
	FlagUP = 0x01 // user present
	FlagUV = 0x04 // user verified
	FlagBE = 0x08 // backup eligible
	FlagBS = 0x10 // backed up
	FlagAT = 0x40 // attested credential data included
)

var b64 = base64.RawURLEncoding

// Authenticator is a software WebAuthn authenticator with one ES256
// credential, "none" attestation unless told otherwise, and a browser's
// client data: enough to produce real registration and assertion
// responses. Tests may read and set its exported fields between
// ceremonies.
type Authenticator struct {
	Origin string // the page's origin the browser reports
	ID     []byte // credential ID
	Count  uint32 // signature counter; 0 means it does not count
	Flags  byte   // extra flags on every response: FlagUV, FlagBE, FlagBS
	Handle []byte // user handle stored at registration (a passkey)

	// Statement is the attestation Create sends: StatementNone (the zero
	// value), StatementSelf, or StatementPacked, which CA signs.
	Statement Statement
	CA        *AttestationCA

	key    *ecdsa.PrivateKey
	aaguid [16]byte
}

// testAAGUID is the AAGUID every Authenticator reports and every
// AttestationCA's certificate names.
var testAAGUID = [16]byte([]byte("mfa-test-authnr!"))

// Attested returns a with packed attestation from ca: a hardware key whose
// model a relying party that trusts ca can verify.
func (a *Authenticator) Attested(ca *AttestationCA) *Authenticator {
	a.Statement, a.CA = StatementPacked, ca
	return a
}

// NewAuthenticator returns an authenticator with a fresh key and a random
// 32-byte credential ID that answers for origin, adding flags to every
// response: FlagUV alone is a security key with a PIN (AAL3 once its
// attestation is trusted, see Attested), with FlagBE|FlagBS a synced
// passkey (AAL2).
func NewAuthenticator(origin string, flags byte) *Authenticator {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	a := &Authenticator{Origin: origin, key: key, ID: make([]byte, 32), Flags: flags}
	if _, err := rand.Read(a.ID); err != nil {
		panic(err)
	}
	a.aaguid = testAAGUID
	return a
}

// Ceremony is one response about to be encoded; a Tweak edits it to make
// bad input.
type Ceremony struct {
	Type, Origin string // client data
	Challenge    []byte // client data
	RPID         string // its SHA-256 heads the authenticator data
	Flags        byte
	Count        uint32
	ID           []byte // credential ID in the response
	UserHandle   []byte // userHandle (assertions); nil leaves it out

	// After signing, each of these (when set) replaces the authenticator
	// data or the signature (an assertion's, or a registration's
	// attestation signature) with what it returns.
	AuthData  func([]byte) []byte
	Signature func([]byte) []byte
}

// Tweak edits a Ceremony before the Authenticator encodes it.
type Tweak func(*Ceremony)

func (a *Authenticator) ceremony(typ string, challenge []byte, rpID string) *Ceremony {
	return &Ceremony{
		Type: typ, Origin: a.Origin, Challenge: challenge, RPID: rpID,
		Flags: FlagUP | a.Flags, Count: a.Count, ID: a.ID, UserHandle: a.Handle,
	}
}

func (c *Ceremony) clientData() []byte {
	b, _ := json.Marshal(struct {
		Type        string `json:"type"`
		Challenge   string `json:"challenge"`
		Origin      string `json:"origin"`
		CrossOrigin bool   `json:"crossOrigin"`
	}{c.Type, b64.EncodeToString(c.Challenge), c.Origin, false})
	return b
}

func (c *Ceremony) authDataHead() []byte {
	h := sha256.Sum256([]byte(c.RPID))
	out := append([]byte(nil), h[:]...)
	out = append(out, c.Flags)
	return binary.BigEndian.AppendUint32(out, c.Count)
}

var ctap2, _ = cbor.CTAP2EncOptions().EncMode()

// COSEKey returns the credential public key as a COSE_Key (EC2, P-256,
// ES256), as registration reports it.
func (a *Authenticator) COSEKey() []byte {
	pub, err := a.key.PublicKey.Bytes() // 0x04 || X || Y
	if err != nil {
		panic(err)
	}
	b, err := ctap2.Marshal(map[int]any{1: 2, 3: -7, -1: 1, -2: pub[1:33], -3: pub[33:65]})
	if err != nil {
		panic(err)
	}
	return b
}

// Create answers navigator.credentials.create with the options a relying
// party showed; the result is the JSON a browser's toJSON() gives. The
// user handle (user.id, as the relying party built it or as it comes back
// from JSON) is kept in Handle for later assertions.
func (a *Authenticator) Create(opts *protocol.CredentialCreation, tweaks ...Tweak) string {
	o := opts.Response
	var handle []byte
	switch id := o.User.ID.(type) {
	case protocol.URLEncodedBase64:
		handle = id
	case string:
		var err error
		if handle, err = b64.DecodeString(id); err != nil {
			panic(fmt.Sprintf("user.id %q: %v", id, err))
		}
	default:
		panic(fmt.Sprintf("user.id is %T", o.User.ID))
	}
	c := a.ceremony("webauthn.create", o.Challenge, o.RelyingParty.ID)
	c.Flags |= FlagAT
	for _, tw := range tweaks {
		tw(c)
	}
	auth := c.authDataHead()
	auth = append(auth, a.aaguid[:]...)
	auth = binary.BigEndian.AppendUint16(auth, uint16(len(c.ID)))
	auth = append(auth, c.ID...)
	auth = append(auth, a.COSEKey()...)
	format, stmt := a.statement(auth, c)
	if c.AuthData != nil {
		auth = c.AuthData(auth)
	}
	att, err := ctap2.Marshal(map[string]any{"fmt": format, "attStmt": stmt, "authData": auth})
	if err != nil {
		panic(err)
	}
	a.Handle = append([]byte(nil), handle...)
	return encode(map[string]any{
		"id": b64.EncodeToString(c.ID), "rawId": b64.EncodeToString(c.ID), "type": "public-key",
		"authenticatorAttachment": "cross-platform",
		"response": map[string]any{
			"clientDataJSON":    b64.EncodeToString(c.clientData()),
			"attestationObject": b64.EncodeToString(att),
			"transports":        []string{"usb", "nfc"},
		},
		"clientExtensionResults": map[string]any{"credProps": map[string]any{"rk": true}},
	})
}

// statement returns the attestation statement over auth and c's client
// data (WebAuthn §8.2, packed, ES256).
func (a *Authenticator) statement(auth []byte, c *Ceremony) (string, map[string]any) {
	if a.Statement == StatementNone {
		return "none", map[string]any{}
	}
	h := sha256.Sum256(c.clientData())
	signed := append(append([]byte(nil), auth...), h[:]...)
	var sig []byte
	stmt := map[string]any{"alg": -7}
	switch a.Statement {
	case StatementSelf:
		d := sha256.Sum256(signed)
		var err error
		if sig, err = ecdsa.SignASN1(rand.Reader, a.key, d[:]); err != nil {
			panic(err)
		}
	case StatementPacked:
		if a.CA == nil {
			panic("testkit: StatementPacked without a CA")
		}
		sig = a.CA.sign(signed)
		stmt["x5c"] = [][]byte{a.CA.Leaf.Raw}
	default:
		panic(fmt.Sprintf("testkit: unknown statement %d", a.Statement))
	}
	if c.Signature != nil {
		sig = c.Signature(sig)
	}
	stmt["sig"] = sig
	return "packed", stmt
}

// Get answers navigator.credentials.get. The counter moves first when the
// authenticator counts.
func (a *Authenticator) Get(opts *protocol.CredentialAssertion, tweaks ...Tweak) string {
	if a.Count > 0 {
		a.Count++
	}
	c := a.ceremony("webauthn.get", opts.Response.Challenge, opts.Response.RelyingPartyID)
	for _, tw := range tweaks {
		tw(c)
	}
	auth := c.authDataHead()
	cd := c.clientData()
	h := sha256.Sum256(cd)
	digest := sha256.Sum256(append(append([]byte(nil), auth...), h[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, a.key, digest[:])
	if err != nil {
		panic(err)
	}
	if c.AuthData != nil {
		auth = c.AuthData(auth)
	}
	if c.Signature != nil {
		sig = c.Signature(sig)
	}
	resp := map[string]any{
		"clientDataJSON":    b64.EncodeToString(cd),
		"authenticatorData": b64.EncodeToString(auth),
		"signature":         b64.EncodeToString(sig),
	}
	if c.UserHandle != nil {
		resp["userHandle"] = b64.EncodeToString(c.UserHandle)
	}
	return encode(map[string]any{
		"id": b64.EncodeToString(c.ID), "rawId": b64.EncodeToString(c.ID), "type": "public-key",
		"authenticatorAttachment": "cross-platform",
		"response":                resp,
		"clientExtensionResults":  map[string]any{},
	})
}

func encode(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// WithOrigin sets the origin in the client data.
func WithOrigin(o string) Tweak { return func(c *Ceremony) { c.Origin = o } }

// WithType sets the client data's type ("webauthn.create", "webauthn.get").
func WithType(typ string) Tweak { return func(c *Ceremony) { c.Type = typ } }

// WithRPID hashes id into the authenticator data instead of the options'
// RP ID.
func WithRPID(id string) Tweak { return func(c *Ceremony) { c.RPID = id } }

// WithChallenge sets the challenge in the client data.
func WithChallenge(b []byte) Tweak { return func(c *Ceremony) { c.Challenge = b } }

// WithFlags sets the authenticator data flags to f, replacing all of them.
func WithFlags(f byte) Tweak { return func(c *Ceremony) { c.Flags = f } }

// WithoutFlags clears f from the authenticator data flags.
func WithoutFlags(f byte) Tweak { return func(c *Ceremony) { c.Flags &^= f } }

// WithCount sets the signature counter in the authenticator data.
func WithCount(n uint32) Tweak { return func(c *Ceremony) { c.Count = n } }

// WithUserHandle sets an assertion's userHandle; nil leaves it out.
func WithUserHandle(h []byte) Tweak { return func(c *Ceremony) { c.UserHandle = h } }

// WithCredentialID sets the credential ID the response names.
func WithCredentialID(id []byte) Tweak { return func(c *Ceremony) { c.ID = id } }

func flipLast(b []byte) []byte {
	b = append([]byte(nil), b...)
	b[len(b)-1] ^= 0x01
	return b
}

// TamperSignature flips a bit of the signature after signing.
func TamperSignature() Tweak { return func(c *Ceremony) { c.Signature = flipLast } }

// TamperAuthData changes the counter bytes after signing.
func TamperAuthData() Tweak {
	return func(c *Ceremony) {
		c.AuthData = func(b []byte) []byte {
			b = append([]byte(nil), b...)
			b[36] ^= 0x01
			return b
		}
	}
}
