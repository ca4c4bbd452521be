package push

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/mfakit/mfa/factor"
)

// b64 is the encoding of every binary field on the wire: unpadded
// base64url, as WebCrypto-based clients produce it most easily.
var b64 = base64.RawURLEncoding

// Signature algorithms a device key may use.
const (
	AlgES256   = "ES256"   // ECDSA P-256 with SHA-256; signature r||s, 64 bytes (WebCrypto's form)
	AlgEd25519 = "Ed25519" // signature 64 bytes
)

// maxKeyLen bounds a device's public key (SPKI DER); P-256 is 91 bytes.
const maxKeyLen = 256

// DeviceID is a device's ID: the unpadded base64url SHA-256 of its public
// key in SPKI DER form. The device computes it itself; it is unique across
// users, as one key pairs once.
func DeviceID(spki []byte) string {
	sum := sha256.Sum256(spki)
	return b64.EncodeToString(sum[:])
}

// deviceKey is a paired device's public key.
type deviceKey struct {
	alg string
	ec  *ecdsa.PublicKey
	ed  ed25519.PublicKey
}

// parseKey reads a P-256 or Ed25519 public key in SPKI DER form.
func parseKey(spki []byte) (deviceKey, error) {
	if len(spki) == 0 || len(spki) > maxKeyLen {
		return deviceKey{}, malformed("public key size")
	}
	pub, err := x509.ParsePKIXPublicKey(spki)
	if err != nil {
		return deviceKey{}, malformed("public key is not SPKI DER")
	}
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() {
			return deviceKey{}, malformed("ECDSA key is not on P-256")
		}
		return deviceKey{alg: AlgES256, ec: k}, nil
	case ed25519.PublicKey:
		return deviceKey{alg: AlgEd25519, ed: k}, nil
	}
	return deviceKey{}, malformed("public key is neither P-256 nor Ed25519")
}

// verify checks sig over msg. Signature checks take what they take; the
// key is public, so their timing reveals nothing secret.
func (k deviceKey) verify(msg, sig []byte) bool {
	if len(sig) != 64 {
		return false
	}
	switch k.alg {
	case AlgES256:
		h := sha256.Sum256(msg)
		r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
		return ecdsa.Verify(k.ec, h[:], r, s)
	case AlgEd25519:
		return ed25519.Verify(k.ed, msg, sig)
	}
	return false
}

// device is what a paired device's factor record holds in Data: nothing
// secret.
type device struct {
	V            int             `json:"v"`
	Key          []byte          `json:"key"` // SPKI DER
	Subscription json.RawMessage `json:"sub,omitempty"`
	Paired       time.Time       `json:"paired"`
}

func decodeDevice(data []byte) (device, deviceKey, error) {
	var d device
	if err := json.Unmarshal(data, &d); err != nil || d.V != 1 {
		return d, deviceKey{}, fmt.Errorf("%w: push: stored device is malformed", factor.ErrSealed)
	}
	k, err := parseKey(d.Key)
	if err != nil {
		return d, deviceKey{}, fmt.Errorf("%w: push: stored device key: %w", factor.ErrSealed, err)
	}
	return d, k, nil
}

// signed builds the bytes a device signs: a label naming the message, then
// each field on its own line. No field may hold a newline, so no two
// different messages share bytes.
func signed(label string, fields ...string) []byte {
	return []byte(label + "\n" + strings.Join(fields, "\n"))
}

// Signing labels, one per message a device signs.
const (
	labelAnswer = "mfa-push-answer/v1"
	labelPoll   = "mfa-push-poll/v1"
	labelPair   = "mfa-push-pair/v1"
)

// AnswerMessage returns the bytes a device signs to answer a request: the
// label "mfa-push-answer/v1", then the request ID, the device ID, the
// chosen number, the decision and the device's Unix time in seconds, each
// on its own line.
func AnswerMessage(requestID, deviceID string, number int, decision string, unix int64) []byte {
	return signed(labelAnswer, requestID, deviceID, strconv.Itoa(number), decision, strconv.FormatInt(unix, 10))
}

// PollMessage returns the bytes a device signs to poll: the label
// "mfa-push-poll/v1", then the device ID and its Unix time in seconds.
func PollMessage(deviceID string, unix int64) []byte {
	return signed(labelPoll, deviceID, strconv.FormatInt(unix, 10))
}

// PairMessage returns the bytes a device signs to pair: the label
// "mfa-push-pair/v1", then the pairing code and the public key (unpadded
// base64url SPKI DER), proving it holds the private key.
func PairMessage(code, publicKey string) []byte {
	return signed(labelPair, code, publicKey)
}
