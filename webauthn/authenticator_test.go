package webauthn_test

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
	flagUP = 0x01
	flagUV = 0x04
	flagBE = 0x08
	flagBS = 0x10
	flagAT = 0x40
)

var b64 = base64.RawURLEncoding

// authenticator is a software WebAuthn authenticator with one ES256
// credential, "none" attestation and a browser's client data: enough to
// produce real registration and assertion responses.
type authenticator struct {
	origin string // the page's origin the browser reports
	key    *ecdsa.PrivateKey
	id     []byte // credential ID
	aaguid [16]byte
	count  uint32 // signature counter; 0 means it does not count
	flags  byte   // extra flags on every response: flagUV, flagBE, flagBS
	handle []byte // user handle stored at registration (a passkey)
}

func newAuthenticator(origin string, flags byte) *authenticator {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	a := &authenticator{origin: origin, key: key, id: make([]byte, 32), flags: flags}
	if _, err := rand.Read(a.id); err != nil {
		panic(err)
	}
	copy(a.aaguid[:], "mfa-test-authnr!")
	return a
}

// ceremony is one response about to be encoded; tweaks edit it to make bad
// input.
type ceremony struct {
	typ, origin string
	challenge   []byte
	rpID        string
	flags       byte
	count       uint32
	id          []byte // credential ID in the response
	handle      []byte // userHandle (assertions)
	// after signing:
	authData  func([]byte) []byte
	signature func([]byte) []byte
}

type tweak func(*ceremony)

func (a *authenticator) ceremony(typ string, challenge []byte, rpID string) *ceremony {
	return &ceremony{
		typ: typ, origin: a.origin, challenge: challenge, rpID: rpID,
		flags: flagUP | a.flags, count: a.count, id: a.id, handle: a.handle,
	}
}

func (c *ceremony) clientData() []byte {
	b, _ := json.Marshal(struct {
		Type        string `json:"type"`
		Challenge   string `json:"challenge"`
		Origin      string `json:"origin"`
		CrossOrigin bool   `json:"crossOrigin"`
	}{c.typ, b64.EncodeToString(c.challenge), c.origin, false})
	return b
}

func (c *ceremony) authDataHead() []byte {
	h := sha256.Sum256([]byte(c.rpID))
	out := append([]byte(nil), h[:]...)
	out = append(out, c.flags)
	return binary.BigEndian.AppendUint32(out, c.count)
}

var ctap2, _ = cbor.CTAP2EncOptions().EncMode()

// coseKey is the credential public key as a COSE_Key (EC2, P-256, ES256).
func (a *authenticator) coseKey() []byte {
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

// create answers navigator.credentials.create with the options the
// Verifier showed; the result is the JSON a browser's toJSON() gives.
func (a *authenticator) create(opts *protocol.CredentialCreation, tweaks ...tweak) string {
	o := opts.Response
	handle, ok := o.User.ID.(protocol.URLEncodedBase64)
	if !ok {
		panic(fmt.Sprintf("user.id is %T", o.User.ID))
	}
	c := a.ceremony("webauthn.create", o.Challenge, o.RelyingParty.ID)
	c.flags |= flagAT
	for _, tw := range tweaks {
		tw(c)
	}
	auth := c.authDataHead()
	auth = append(auth, a.aaguid[:]...)
	auth = binary.BigEndian.AppendUint16(auth, uint16(len(c.id)))
	auth = append(auth, c.id...)
	auth = append(auth, a.coseKey()...)
	if c.authData != nil {
		auth = c.authData(auth)
	}
	att, err := ctap2.Marshal(map[string]any{"fmt": "none", "attStmt": map[string]any{}, "authData": auth})
	if err != nil {
		panic(err)
	}
	a.handle = append([]byte(nil), handle...)
	return encode(map[string]any{
		"id": b64.EncodeToString(c.id), "rawId": b64.EncodeToString(c.id), "type": "public-key",
		"authenticatorAttachment": "cross-platform",
		"response": map[string]any{
			"clientDataJSON":    b64.EncodeToString(c.clientData()),
			"attestationObject": b64.EncodeToString(att),
			"transports":        []string{"usb", "nfc"},
		},
		"clientExtensionResults": map[string]any{"credProps": map[string]any{"rk": true}},
	})
}

// get answers navigator.credentials.get. The counter moves first when the
// authenticator counts.
func (a *authenticator) get(opts *protocol.CredentialAssertion, tweaks ...tweak) string {
	if a.count > 0 {
		a.count++
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
	if c.authData != nil {
		auth = c.authData(auth)
	}
	if c.signature != nil {
		sig = c.signature(sig)
	}
	resp := map[string]any{
		"clientDataJSON":    b64.EncodeToString(cd),
		"authenticatorData": b64.EncodeToString(auth),
		"signature":         b64.EncodeToString(sig),
	}
	if c.handle != nil {
		resp["userHandle"] = b64.EncodeToString(c.handle)
	}
	return encode(map[string]any{
		"id": b64.EncodeToString(c.id), "rawId": b64.EncodeToString(c.id), "type": "public-key",
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

// Tweaks.
func withOrigin(o string) tweak        { return func(c *ceremony) { c.origin = o } }
func withType(typ string) tweak        { return func(c *ceremony) { c.typ = typ } }
func withRPID(id string) tweak         { return func(c *ceremony) { c.rpID = id } }
func withChallenge(b []byte) tweak     { return func(c *ceremony) { c.challenge = b } }
func withFlags(f byte) tweak           { return func(c *ceremony) { c.flags = f } }
func withoutFlags(f byte) tweak        { return func(c *ceremony) { c.flags &^= f } }
func withCount(n uint32) tweak         { return func(c *ceremony) { c.count = n } }
func withUserHandle(h []byte) tweak    { return func(c *ceremony) { c.handle = h } }
func withCredentialID(id []byte) tweak { return func(c *ceremony) { c.id = id } }

func flipLast(b []byte) []byte {
	b = append([]byte(nil), b...)
	b[len(b)-1] ^= 0x01
	return b
}

func tamperSignature() tweak { return func(c *ceremony) { c.signature = flipLast } }

// tamperAuthData changes the counter bytes after signing.
func tamperAuthData() tweak {
	return func(c *ceremony) {
		c.authData = func(b []byte) []byte {
			b = append([]byte(nil), b...)
			b[36] ^= 0x01
			return b
		}
	}
}
