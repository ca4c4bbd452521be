package push_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/push"
	"github.com/mfakit/mfa/store/memstore"
)

// phone stands in for the user's device: it generates its key pair and
// signs with it; the private key never leaves it.
type phone struct {
	key *ecdsa.PrivateKey
	pub string // base64url SPKI DER
	id  string
}

func newPhone() *phone {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	spki, _ := x509.MarshalPKIXPublicKey(key.Public())
	return &phone{key: key, pub: base64.RawURLEncoding.EncodeToString(spki), id: push.DeviceID(spki)}
}

func (p *phone) sign(msg []byte) string {
	h := sha256.Sum256(msg)
	r, s, _ := ecdsa.Sign(rand.Reader, p.key, h[:])
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return base64.RawURLEncoding.EncodeToString(sig)
}

func Example() {
	ctx := context.Background()
	st := memstore.New()
	hashKey := make([]byte, 32) // from your secret manager
	sealKey := make([]byte, 32)
	pf, _ := push.New(push.Config{Store: st, HashKey: hashKey, App: "Example"})
	keyring, _ := mfa.NewKeyring(mfa.Key{ID: "k1", Secret: sealKey})
	v, _ := mfa.New(mfa.Config{Store: st, Factors: []mfa.Factor{pf}, Sealer: keyring, HashKey: hashKey})

	// Pairing: the account page shows the code as a link or QR code; the
	// device sends its registration.
	en, _ := v.BeginEnrollment(ctx, mfa.EnrollRequest{UserID: "alice", Kind: push.Kind})
	pairing, _ := mfa.ShowAs[*push.Pairing](en.Show)
	dev := newPhone()
	body, _ := json.Marshal(push.Registration{Code: pairing.Code, PublicKey: dev.pub, Name: "Phone",
		Sig: dev.sign(push.PairMessage(pairing.Code, dev.pub))})
	reg, code, err := push.ParseRegistration(body)
	if err != nil {
		fmt.Println(err)
		return
	}
	_, err = v.ConfirmEnrollment(ctx, mfa.ConfirmRequest{UserID: code.UserID, ChallengeID: code.ChallengeID, Response: string(body), Name: reg.Name})
	fmt.Println("paired:", err == nil)

	// Sign-in: push, show the number on the sign-in screen.
	ic, _ := v.Challenge(push.WithSignIn(ctx, push.SignIn{IP: "192.0.2.7", Browser: "Firefox"}),
		mfa.ChallengeRequest{UserID: "alice", Kind: push.Kind, Binding: "pending-token-id"})
	prompt, _ := mfa.ShowAs[*push.Prompt](ic.Show)

	// The device polls, the user picks the number shown, the device signs.
	now := time.Now().Unix()
	poll, _ := json.Marshal(push.Poll{DeviceID: dev.id, Time: now, Sig: dev.sign(push.PollMessage(dev.id, now))})
	req, _ := pf.Poll(ctx, poll)
	fmt.Println("device shows:", req.App, req.IP, req.Browser, len(req.Choices), "numbers")
	answer, _ := json.Marshal(push.Answer{RequestID: req.RequestID, DeviceID: dev.id, Number: prompt.Number,
		Decision: push.Approve, Time: now, Sig: dev.sign(push.AnswerMessage(req.RequestID, dev.id, prompt.Number, push.Approve, now))})
	if err := pf.Answer(ctx, answer); err != nil {
		fmt.Println(err)
		return
	}

	// The signing-in browser's poll completes the sign-in.
	ans, _ := pf.Answered(ctx, "alice", prompt.RequestID)
	res, err := v.Verify(ctx, mfa.VerifyRequest{UserID: "alice", FactorID: ans.FactorID, Kind: push.Kind,
		Response: ans.Response, ChallengeID: ic.ID, Binding: "pending-token-id"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("signed in:", res.Kind, res.AMR, "AAL", res.AAL)
	// Output:
	// paired: true
	// device shows: Example 192.0.2.7 Firefox 3 numbers
	// signed in: push [swk mca] AAL 2
}
