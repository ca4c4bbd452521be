package push_test

import (
	"testing"

	"github.com/mfakit/mfa/push"
)

func FuzzParseAnswer(f *testing.F) {
	f.Add([]byte(`{"request_id":"r","device_id":"d","number":42,"decision":"approve","time":1,"sig":""}`))
	f.Add([]byte(`{"request_id":"r","device_id":"d","number":42,"decision":"deny","time":1700000000,"sig":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		a, sig, err := push.ParseAnswer(body)
		if err != nil {
			return
		}
		if len(sig) != 64 || (a.Decision != push.Approve && a.Decision != push.Deny) || a.Number < 0 || a.Number > 99 {
			t.Fatalf("accepted %+v", a)
		}
	})
}

func FuzzParsePoll(f *testing.F) {
	f.Add([]byte(`{"device_id":"d","time":1,"sig":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		if p, sig, err := push.ParsePoll(body); err == nil && (len(sig) != 64 || p.DeviceID == "") {
			t.Fatalf("accepted %+v", p)
		}
	})
}

func FuzzParseRegistration(f *testing.F) {
	f.Add([]byte(`{"code":"YQ.Yg.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","public_key":"k","name":"Phone","subscription":{"endpoint":"https://x"},"sig":"s"}`))
	f.Add([]byte(`{"code":"a.b.c"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		r, pc, err := push.ParseRegistration(body)
		if err != nil {
			return
		}
		if pc.UserID == "" || pc.ChallengeID == "" || r.PublicKey == "" || len(r.Name) > 64 {
			t.Fatalf("accepted %+v %+v", r, pc)
		}
	})
}
