package push

import (
	"bytes"
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// Size limits of what a device sends.
const (
	// MaxBodyLen is the longest answer, poll or registration body accepted.
	MaxBodyLen = 8 << 10
	// maxSubscriptionLen bounds the stored way to reach a device.
	maxSubscriptionLen = 4 << 10
	// maxFieldLen bounds any identifier or name field.
	maxFieldLen = 256
)

// Decisions a device may send.
const (
	Approve = "approve"
	Deny    = "deny"
)

// Answer is a device's signed answer to one request, as JSON:
//
//	{"request_id": "...", "device_id": "...", "number": 42,
//	 "decision": "approve", "time": 1700000000, "sig": "<base64url>"}
//
// sig signs [AnswerMessage] of the other fields with the device's key.
type Answer struct {
	RequestID string `json:"request_id"`
	DeviceID  string `json:"device_id"`
	Number    int    `json:"number"`
	Decision  string `json:"decision"`
	Time      int64  `json:"time"`
	Sig       string `json:"sig"`
}

// Poll is a device's signed request for what waits for it, as JSON
// {"device_id": "...", "time": 1700000000, "sig": "<base64url>"}; sig
// signs [PollMessage].
type Poll struct {
	DeviceID string `json:"device_id"`
	Time     int64  `json:"time"`
	Sig      string `json:"sig"`
}

// Registration is what a device sends to pair, as JSON:
//
//	{"code": "<pairing code>", "public_key": "<base64url SPKI DER>",
//	 "name": "Phone", "subscription": {...}, "sig": "<base64url>"}
//
// sig signs [PairMessage] of code and public_key. subscription is
// optional: how a [Notifier] reaches the device (a Web Push subscription
// as PushSubscription.toJSON gives it); without one the device polls.
type Registration struct {
	Code         string          `json:"code"`
	PublicKey    string          `json:"public_key"`
	Name         string          `json:"name"`
	Subscription json.RawMessage `json:"subscription,omitempty"`
	Sig          string          `json:"sig"`
}

// decodeStrict decodes one JSON object of at most MaxBodyLen bytes with no
// unknown fields and nothing after it.
func decodeStrict(body []byte, v any) error {
	if len(body) > MaxBodyLen {
		return malformed("body too long")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return malformed("not the expected JSON object")
	}
	if dec.More() {
		return malformed("data after the JSON object")
	}
	return nil
}

// field checks one text field: present, short, valid UTF-8, no control
// characters (a newline would let two signed messages share bytes).
func field(s string) bool {
	if s == "" || len(s) > maxFieldLen || !utf8.ValidString(s) {
		return false
	}
	return !strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f })
}

// ParseAnswer reads an answer body and checks its shape; the signature is
// checked by whoever knows the device's key.
func ParseAnswer(body []byte) (*Answer, []byte, error) {
	var a Answer
	if err := decodeStrict(body, &a); err != nil {
		return nil, nil, err
	}
	if !field(a.RequestID) || !field(a.DeviceID) {
		return nil, nil, malformed("request or device ID")
	}
	if a.Decision != Approve && a.Decision != Deny {
		return nil, nil, malformed("decision")
	}
	if a.Number < 0 || a.Number > 99 || a.Time <= 0 {
		return nil, nil, malformed("number or time")
	}
	sig, err := b64.DecodeString(a.Sig)
	if err != nil || len(sig) != 64 {
		return nil, nil, malformed("signature encoding")
	}
	return &a, sig, nil
}

// ParsePoll reads a poll body and checks its shape.
func ParsePoll(body []byte) (*Poll, []byte, error) {
	var p Poll
	if err := decodeStrict(body, &p); err != nil {
		return nil, nil, err
	}
	if !field(p.DeviceID) || p.Time <= 0 {
		return nil, nil, malformed("device ID or time")
	}
	sig, err := b64.DecodeString(p.Sig)
	if err != nil || len(sig) != 64 {
		return nil, nil, malformed("signature encoding")
	}
	return &p, sig, nil
}

// ParseRegistration reads a pairing body and checks its shape, its code
// and its key; the application passes the user and challenge IDs it
// names to mfa's ConfirmEnrollment, which checks the rest.
func ParseRegistration(body []byte) (*Registration, *PairingCode, error) {
	var r Registration
	if err := decodeStrict(body, &r); err != nil {
		return nil, nil, err
	}
	if len(r.Name) > 64 || !utf8.ValidString(r.Name) || (r.Name != "" && !field(r.Name)) {
		return nil, nil, malformed("name")
	}
	if len(r.Subscription) > maxSubscriptionLen {
		return nil, nil, malformed("subscription too long")
	}
	if len(r.Subscription) > 0 {
		var obj map[string]json.RawMessage
		if json.Unmarshal(r.Subscription, &obj) != nil {
			return nil, nil, malformed("subscription is not a JSON object")
		}
	}
	pc, err := ParsePairingCode(r.Code)
	if err != nil {
		return nil, nil, err
	}
	if !field(r.PublicKey) {
		return nil, nil, malformed("public key")
	}
	return &r, pc, nil
}
