package testkit

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"

	"encoding/json"
	"testing"

	"github.com/mfakit/mfa/push"
)

// PushDevice is a push device for tests: it holds its own key pair, as a
// phone or a browser would, and builds the signed bodies it sends.
type PushDevice struct {
	key  crypto.Signer
	SPKI []byte
	ID   string // push.DeviceID of SPKI
}

// NewPushDevice makes a device with a fresh P-256 key, or an Ed25519 key
// when ed is set.
func NewPushDevice(tb testing.TB, ed bool) *PushDevice {
	tb.Helper()
	var key crypto.Signer
	var err error
	if ed {
		_, key, err = ed25519.GenerateKey(rand.Reader)
	} else {
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	if err != nil {
		tb.Fatal(err)
	}
	spki, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		tb.Fatal(err)
	}
	return &PushDevice{key: key, SPKI: spki, ID: push.DeviceID(spki)}
}

// Sign signs msg as the device's WebCrypto would: Ed25519, or ECDSA over
// SHA-256 as r||s.
func (d *PushDevice) Sign(tb testing.TB, msg []byte) string {
	tb.Helper()
	if k, ok := d.key.(ed25519.PrivateKey); ok {
		return b64.EncodeToString(ed25519.Sign(k, msg))
	}
	h := sha256.Sum256(msg)
	r, s, err := ecdsa.Sign(rand.Reader, d.key.(*ecdsa.PrivateKey), h[:])
	if err != nil {
		tb.Fatal(err)
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return b64.EncodeToString(sig)
}

func mustJSON(tb testing.TB, v any) []byte {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// Register returns the device's pairing body for code.
func (d *PushDevice) Register(tb testing.TB, code, name string, sub json.RawMessage) []byte {
	tb.Helper()
	pub := b64.EncodeToString(d.SPKI)
	return mustJSON(tb, push.Registration{Code: code, PublicKey: pub, Name: name, Subscription: sub, Sig: d.Sign(tb, push.PairMessage(code, pub))})
}

// Answer returns the device's signed answer body.
func (d *PushDevice) Answer(tb testing.TB, requestID string, number int, decision string, unix int64) []byte {
	tb.Helper()
	return mustJSON(tb, push.Answer{
		RequestID: requestID, DeviceID: d.ID, Number: number, Decision: decision, Time: unix,
		Sig: d.Sign(tb, push.AnswerMessage(requestID, d.ID, number, decision, unix)),
	})
}

// Poll returns the device's signed poll body.
func (d *PushDevice) Poll(tb testing.TB, unix int64) []byte {
	tb.Helper()
	return mustJSON(tb, push.Poll{DeviceID: d.ID, Time: unix, Sig: d.Sign(tb, push.PollMessage(d.ID, unix))})
}
