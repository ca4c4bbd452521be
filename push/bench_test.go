package push_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"testing"

	"github.com/mfakit/mfa/factor"
	"github.com/mfakit/mfa/push"
)

// BenchmarkAnswerVerify compares the factor's whole check of an answer
// (parse the JSON, decode the stored device, verify the signature, compare
// request, device, expiry, decision and the number's keyed hash) with the
// bare signature check it contains. Figures: BENCHMARKS.md.
func BenchmarkAnswerVerify(b *testing.B) {
	for _, alg := range []struct {
		name string
		ed   bool
	}{{"P-256", false}, {"Ed25519", true}} {
		t := b
		e := newEnv(t, nil)
		ctx := context.Background()
		d, fid := e.pair(t, "alice", alg.ed)
		ic, p := e.challenge(t, "alice", "b")
		body := d.Answer(t, p.RequestID, p.Number, push.Approve, e.clk.Now().Unix())
		ch, err := e.st.TakeChallenge(ctx, ic.ID, e.clk.Now())
		if err != nil {
			b.Fatal(err)
		}
		rec, err := e.st.GetFactor(ctx, "alice", fid)
		if err != nil {
			b.Fatal(err)
		}
		h, _ := factor.NewHasher(hashKey)
		in := factor.VerifyInput{Factor: rec, Response: string(body), Challenge: &ch, Now: e.clk.Now(), Hasher: h}
		b.Run(alg.name+"/factor", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := e.pf.Verify(ctx, in); err != nil {
					b.Fatal(err)
				}
			}
		})
		var a push.Answer
		if err := json.Unmarshal(body, &a); err != nil {
			b.Fatal(err)
		}
		sig, _ := base64.RawURLEncoding.DecodeString(a.Sig)
		msg := push.AnswerMessage(a.RequestID, a.DeviceID, a.Number, a.Decision, a.Time)
		pub, err := x509.ParsePKIXPublicKey(d.SPKI)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(alg.name+"/signature", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var ok bool
				switch k := pub.(type) {
				case *ecdsa.PublicKey:
					sum := sha256.Sum256(msg)
					ok = ecdsa.Verify(k, sum[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:]))
				case ed25519.PublicKey:
					ok = ed25519.Verify(k, msg, sig)
				}
				if !ok {
					b.Fatal("signature does not verify")
				}
			}
		})
	}
}
