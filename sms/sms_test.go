package sms_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/sentcode"
	"github.com/mfakit/mfa/sms"
	"github.com/mfakit/mfa/store/memstore"
)

type outbox struct {
	mu   sync.Mutex
	msgs []sentcode.Message
}

func (o *outbox) Send(_ context.Context, m sentcode.Message) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.msgs = append(o.msgs, m)
	return nil
}

func (o *outbox) last() sentcode.Message {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.msgs[len(o.msgs)-1]
}

func TestParse(t *testing.T) {
	tests := []struct{ in, region, addr, masked, cc string }{
		{"+44 7400 123456", "", "+447400123456", "+44 •••• •••456", "44"},
		{"07400 123456", "GB", "+447400123456", "+44 •••• •••456", "44"},
		{"+1 (201) 555-0123", "", "+12015550123", "+1 •••-•••-•123", "1"},
		{"+33 6 12 34 56 78", "", "+33612345678", "+33 • •• •• •6 78", "33"},
	}
	for _, tt := range tests {
		d, err := sms.Parse(tt.in, tt.region)
		if err != nil || d.Address != tt.addr || d.Region != tt.cc || d.Masked != tt.masked {
			t.Errorf("Parse(%q) = %+v, %v; want %s %s", tt.in, d, err, tt.addr, tt.masked)
		}
	}
	bad := []struct{ in, region string }{
		{"", ""},
		{"7700 900123", ""},            // no country code, no default region
		{"+44 909 8790000", ""},        // UK premium rate
		{"+44 800 0000000", ""},        // UK freephone
		{"+44 20 7946 0000", ""},       // UK fixed line: no SMS
		{"+1 900 555 0123", ""},        // US premium rate
		{"+44 7400 123456\r\n", ""},    // control character
		{"+44 12", ""},                 // too short
		{strings.Repeat("1", 100), ""}, // too long
		{"not a number", "GB"},
	}
	for _, tt := range bad {
		_, err := sms.Parse(tt.in, tt.region)
		if !errors.Is(err, mfa.ErrInvalidInput) {
			t.Errorf("Parse(%q): %v, want ErrInvalidInput", tt.in, err)
		}
		if err != nil && len(tt.in) > 4 && strings.Contains(err.Error(), tt.in) {
			t.Errorf("the error quotes the number: %v", err)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"+447400123456", "+1 201 555 0123", "0044", "+", "+44 909 879 0000", "+８１ ９０"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := sms.Parse(s, "")
		if err != nil {
			if !errors.Is(err, mfa.ErrInvalidInput) {
				t.Fatalf("error %v", err)
			}
			return
		}
		if !strings.HasPrefix(d.Address, "+") || len(d.Address) > 16 || strings.Trim(d.Address[1:], "0123456789") != "" {
			t.Fatalf("accepted %q as %q", s, d.Address)
		}
		again, err := sms.Parse(d.Address, "")
		if err != nil || again.Address != d.Address {
			t.Fatalf("E.164 %q does not parse to itself: %v", d.Address, err)
		}
	})
}

func newVerifier(t *testing.T, f *sms.Factor, now *time.Time, edit ...func(*mfa.Config)) *mfa.Verifier {
	t.Helper()
	kr, _ := mfa.NewKeyring(mfa.Key{ID: "k1", Secret: bytes.Repeat([]byte{1}, 32)})
	c := mfa.Config{Store: memstore.New(), Factors: []mfa.Factor{f}, Sealer: kr, HashKey: bytes.Repeat([]byte{2}, 32),
		Now: func() time.Time { return *now }}
	for _, e := range edit {
		e(&c)
	}
	v, err := mfa.New(c)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestSignIn(t *testing.T) {
	ctx := context.Background()
	box := &outbox{}
	f, err := sms.New(sms.Config{Sender: box, Issuer: "Example"})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 4, 5, 6, 0, 0, time.UTC)
	var events []mfa.EventType
	v := newVerifier(t, f, &now, func(c *mfa.Config) {
		c.Hooks = []mfa.Hook{func(_ context.Context, e mfa.Event) error { events = append(events, e.Type); return nil }}
	})
	en, err := v.BeginEnrollment(ctx, mfa.EnrollRequest{UserID: "u", Kind: sms.Kind, Destination: "+44 7400 123456"})
	if err != nil {
		t.Fatal(err)
	}
	if m := box.last(); m.To != "+447400123456" || m.HTML != "" || !strings.Contains(m.Text, m.Code) {
		t.Fatalf("sent %+v", m)
	}
	if _, err := v.ConfirmEnrollment(ctx, mfa.ConfirmRequest{UserID: "u", FactorID: en.FactorID, ChallengeID: en.ChallengeID, Response: box.last().Code}); err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Minute)
	ch, err := v.Challenge(ctx, mfa.ChallengeRequest{UserID: "u", FactorID: en.FactorID, Binding: "b"})
	if err != nil {
		t.Fatal(err)
	}
	res, err := v.Verify(ctx, mfa.VerifyRequest{UserID: "u", FactorID: en.FactorID, ChallengeID: ch.ID, Binding: "b", Response: box.last().Code})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Restricted || res.AAL != mfa.AAL2 || strings.Join(res.AMR, " ") != "sms mca" {
		t.Fatalf("result %+v", res)
	}
	if events[len(events)-1] != sms.EventUsed {
		t.Fatalf("events %v: want %s last", events, sms.EventUsed)
	}
}

func TestRefuseRestricted(t *testing.T) {
	box := &outbox{}
	f, _ := sms.New(sms.Config{Sender: box})
	now := time.Now()
	v := newVerifier(t, f, &now, func(c *mfa.Config) { c.RefuseRestricted = true })
	_, err := v.BeginEnrollment(context.Background(), mfa.EnrollRequest{UserID: "u", Kind: sms.Kind, Destination: "+447400123456"})
	if !errors.Is(err, mfa.ErrUnsupportedKind) || len(box.msgs) != 0 {
		t.Fatalf("%v, %d sent", err, len(box.msgs))
	}
}

// The per-country cap counts across users and numbers.
func TestCountryCap(t *testing.T) {
	ctx := context.Background()
	box := &outbox{}
	f, _ := sms.New(sms.Config{Sender: box, Caps: sentcode.Caps{PerRegion: 3}})
	now := time.Date(2026, 3, 4, 5, 0, 0, 0, time.UTC)
	v := newVerifier(t, f, &now)
	numbers := []string{"+447400123451", "+447400123452", "+447400123453", "+447400123454"}
	var rl *mfa.RateLimitError
	for i, n := range numbers {
		_, err := v.BeginEnrollment(ctx, mfa.EnrollRequest{UserID: n, Kind: sms.Kind, Destination: n})
		if (i < 3) != (err == nil) {
			t.Fatalf("enrolment %d: %v", i, err)
		}
		if i == 3 && !errors.As(err, &rl) {
			t.Fatalf("fourth UK number: %v", err)
		}
	}
	if len(box.msgs) != 3 {
		t.Fatalf("%d sent", len(box.msgs))
	}
	// Another country is not capped by the UK's count.
	if _, err := v.BeginEnrollment(ctx, mfa.EnrollRequest{UserID: "fr", Kind: sms.Kind, Destination: "+33612345678"}); err != nil {
		t.Fatal(err)
	}
}

func TestConfig(t *testing.T) {
	for _, c := range []sms.Config{
		{},
		{Sender: &outbox{}, DefaultRegion: "XX"},
		{Sender: &outbox{}, Regions: []string{"GB", "ZZ"}},
		{Sender: &outbox{}, Digits: 4},
	} {
		if _, err := sms.New(c); !errors.Is(err, mfa.ErrConfig) {
			t.Errorf("%+v: %v", c, err)
		}
	}
	f, err := sms.New(sms.Config{Sender: &outbox{}, Regions: []string{"gb"}})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	v := newVerifier(t, f, &now)
	if _, err := v.BeginEnrollment(context.Background(), mfa.EnrollRequest{UserID: "u", Kind: sms.Kind, Destination: "+33612345678"}); !errors.Is(err, mfa.ErrInvalidInput) {
		t.Fatalf("a number outside Regions: %v", err)
	}
}
