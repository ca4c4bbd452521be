package push

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/mfakit/mfa/factor"
)

// Pairing is what BeginEnrollment shows for a push device (its
// Enrollment.Show): a single-use code for the device to pair with. Show it
// as a link or QR code on the signed-in account page only; whoever holds
// the code can pair a device to the account until it expires.
type Pairing struct {
	Code    string
	Expires time.Time // at most Config.PairingTTL away; the Verifier's ChallengeTTL may end it sooner
}

// Link returns base with the code as its fragment (never sent to a
// server by a browser, so it stays out of access logs), for a QR code.
func (p *Pairing) Link(base string) string {
	return base + "#" + url.QueryEscape(p.Code)
}

// PairingCode is what a pairing code names: the user and the enrolment
// challenge (mfa.ConfirmRequest's UserID and ChallengeID).
type PairingCode struct {
	UserID      string
	ChallengeID string
	token       []byte
}

const tokenLen = 32

// ParsePairingCode reads a pairing code: three unpadded base64url parts,
// the user ID, the challenge ID and a 256-bit random token.
func ParsePairingCode(code string) (*PairingCode, error) {
	if len(code) > 2*maxFieldLen {
		return nil, malformed("pairing code too long")
	}
	parts := strings.Split(code, ".")
	if len(parts) != 3 {
		return nil, malformed("pairing code shape")
	}
	u, err1 := b64.DecodeString(parts[0])
	c, err2 := b64.DecodeString(parts[1])
	t, err3 := b64.DecodeString(parts[2])
	if err1 != nil || err2 != nil || err3 != nil || !field(string(u)) || !field(string(c)) || len(t) != tokenLen {
		return nil, malformed("pairing code parts")
	}
	return &PairingCode{UserID: string(u), ChallengeID: string(c), token: t}, nil
}

// pairState is the enrolment challenge's Data: a keyed hash of the token.
type pairState struct {
	Token   []byte    `json:"t"`
	Expires time.Time `json:"e"`
}

const pairDomain = "mfa/push/pair/v1"

// Enroll begins pairing: a 256-bit single-use token, kept only as a keyed
// hash in the enrolment challenge; Show is a *[Pairing] with the code.
func (f *Factor) Enroll(_ context.Context, in factor.EnrollInput) (factor.Enrolled, error) {
	if in.Rand == nil || in.UserID == "" || in.FactorID == "" {
		return factor.Enrolled{}, fmt.Errorf("%w: push: enrolment needs a user, an ID and a random source", factor.ErrInvalidInput)
	}
	token := make([]byte, tokenLen)
	if _, err := io.ReadFull(in.Rand, token); err != nil {
		return factor.Enrolled{}, fmt.Errorf("push: random source: %w", err)
	}
	st := pairState{Expires: in.Now.Add(f.cfg.PairingTTL)}
	sum := f.hasher.Sum(pairDomain, []byte(in.UserID), []byte(in.FactorID), token)
	st.Token = sum[:]
	data, err := json.Marshal(st)
	if err != nil {
		return factor.Enrolled{}, err
	}
	code := b64.EncodeToString([]byte(in.UserID)) + "." + b64.EncodeToString([]byte(in.FactorID)) + "." + b64.EncodeToString(token)
	return factor.Enrolled{Challenge: data, Show: &Pairing{Code: code, Expires: st.Expires}}, nil
}

// Register finishes pairing with the device's [Registration]: the code
// must be this enrolment's, unexpired, and the device must sign it with
// the key it registers. The Verifier took the enrolment challenge before
// calling, so a code pairs at most once.
func (f *Factor) Register(_ context.Context, in factor.RegisterInput) (factor.Enrolled, error) {
	r, pc, err := ParseRegistration([]byte(in.Response))
	if err != nil {
		return factor.Enrolled{}, err
	}
	if pc.UserID != in.UserID || pc.ChallengeID != in.Challenge.ID {
		return factor.Enrolled{}, fmt.Errorf("%w: push: pairing code of another enrolment", factor.ErrChallengeMismatch)
	}
	var st pairState
	if err := json.Unmarshal(in.Challenge.Data, &st); err != nil {
		return factor.Enrolled{}, fmt.Errorf("%w: push: pairing state", factor.ErrSealed)
	}
	sum := f.hasher.Sum(pairDomain, []byte(in.UserID), []byte(in.Challenge.ID), pc.token)
	if subtle.ConstantTimeCompare(sum[:], st.Token) != 1 {
		return factor.Enrolled{}, fmt.Errorf("%w: push: pairing code", factor.ErrWrongCode)
	}
	if !in.Now.Before(st.Expires) {
		return factor.Enrolled{}, fmt.Errorf("%w: push: pairing code expired", factor.ErrExpired)
	}
	spki, err := b64.DecodeString(r.PublicKey)
	if err != nil {
		return factor.Enrolled{}, malformed("public key encoding")
	}
	key, err := parseKey(spki)
	if err != nil {
		return factor.Enrolled{}, err
	}
	sig, err := b64.DecodeString(r.Sig)
	if err != nil || !key.verify(PairMessage(r.Code, r.PublicKey), sig) {
		return factor.Enrolled{}, ErrBadSignature
	}
	data, err := json.Marshal(device{V: 1, Key: spki, Subscription: r.Subscription, Paired: in.Now})
	if err != nil {
		return factor.Enrolled{}, err
	}
	return factor.Enrolled{Data: data, Lookup: DeviceID(spki), AMR: []string{"swk"}, AAL: factor.AAL2}, nil
}
