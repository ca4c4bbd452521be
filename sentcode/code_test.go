package sentcode_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/mfakit/mfa/factor"
	"github.com/mfakit/mfa/sentcode"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		in, want string
		err      error
	}{
		{"123456", "123456", nil},
		{" 123 456 ", "123456", nil},
		{"123-456", "123456", nil},
		{"123\u2013456", "123456", nil},             // en dash
		{"１２３４５６", "123456", nil},                   // full-width
		{"١٢٣٤٥٦", "123456", nil},                   // Arabic-Indic
		{"𝟏𝟐𝟑𝟒𝟓𝟔", "123456", nil},                   // mathematical bold
		{"12345a", "", factor.ErrMalformedResponse}, // a letter
		{"12345６", "123456", nil},
		{"123.456", "", factor.ErrMalformedResponse},
		{strings.Repeat("1", 65), "", factor.ErrMalformedResponse},
		{strings.Repeat("1", 1<<20), "", factor.ErrMalformedResponse},
		{"", "", nil},
	}
	for _, tt := range tests {
		got, err := sentcode.Normalize(tt.in)
		if !errors.Is(err, tt.err) || (tt.err == nil && err != nil) || got != tt.want {
			t.Errorf("Normalize(%.20q) = %q, %v; want %q, %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"123456", "１２３ ４５６", "12-34-56", "\u0663", "x", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := sentcode.Normalize(s)
		if err != nil {
			if !errors.Is(err, factor.ErrMalformedResponse) || got != "" {
				t.Fatalf("error %v with output %q", err, got)
			}
			return
		}
		if len(s) > 64 || len(got) > utf8.RuneCountInString(s) {
			t.Fatalf("accepted %d bytes into %d digits", len(s), len(got))
		}
		for i := 0; i < len(got); i++ {
			if got[i] < '0' || got[i] > '9' {
				t.Fatalf("output %q holds a non-digit", got)
			}
		}
		again, err := sentcode.Normalize(got)
		if err != nil || again != got {
			t.Fatalf("not idempotent: %q -> %q, %v", got, again, err)
		}
	})
}

// The subject of the default template stays on one line whatever the
// issuer holds, and the code is in the bodies, never the subject.
func TestDefaultTemplate(t *testing.T) {
	m := sentcode.Message{Kind: "email", To: "a@example.com", Code: "123456", Purpose: sentcode.PurposeSignIn, Valid: 5 * time.Minute}
	if err := (sentcode.DefaultTemplate{Issuer: "Evil\r\nBcc: x@example.com"}).Render(&m); err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(m.Subject, "\r\n") || strings.Contains(m.Subject, m.Code) {
		t.Fatalf("subject %q", m.Subject)
	}
	if !strings.Contains(m.Text, "123456") || !strings.Contains(m.HTML, "123456") || !strings.Contains(m.Text, "5 minutes") {
		t.Fatalf("text %q html %q", m.Text, m.HTML)
	}
	sms := sentcode.Message{Kind: "sms", Code: "654321", Purpose: sentcode.PurposeEnroll, Valid: time.Minute}
	if err := (sentcode.DefaultTemplate{}).Render(&sms); err != nil || sms.HTML != "" || !strings.Contains(sms.Text, "654321 is your verification code") {
		t.Fatalf("sms %+v %v", sms, err)
	}
}

func TestConsoleAndLocale(t *testing.T) {
	var b bytes.Buffer
	c := sentcode.NewConsole(&b)
	ctx := sentcode.WithLocale(context.Background(), "fr")
	if sentcode.Locale(ctx) != "fr" || sentcode.Locale(context.Background()) != "" {
		t.Fatal("locale not carried")
	}
	if err := c.Send(ctx, sentcode.Message{Kind: "email", To: "a@example.com", Subject: "s", Text: "123456 is your code"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "123456") || !strings.Contains(b.String(), "a@example.com") {
		t.Fatalf("console printed %q", b.String())
	}
}

func TestNewConfig(t *testing.T) {
	ok := sentcode.Config{Kind: "k", Channel: chanFunc(nil), Sender: sentcode.SenderFunc(nil)}
	bad := []func(c *sentcode.Config){
		func(c *sentcode.Config) { c.Kind = "" },
		func(c *sentcode.Config) { c.Channel = nil },
		func(c *sentcode.Config) { c.Sender = nil },
		func(c *sentcode.Config) { c.Digits = 5 },
		func(c *sentcode.Config) { c.Digits = 9 },
		func(c *sentcode.Config) { c.TTL = 11 * time.Minute },
		func(c *sentcode.Config) { c.TTL = -1 },
		func(c *sentcode.Config) { c.SendTimeout = -1 },
		func(c *sentcode.Config) { c.Caps.Window = time.Millisecond },
	}
	if _, err := sentcode.New(ok); err != nil {
		t.Fatal(err)
	}
	for i, edit := range bad {
		c := ok
		edit(&c)
		if _, err := sentcode.New(c); !errors.Is(err, factor.ErrConfig) {
			t.Errorf("case %d: %v, want ErrConfig", i, err)
		}
	}
}

type chanFunc func(string) (sentcode.Destination, error)

func (f chanFunc) Parse(s string) (sentcode.Destination, error) { return f(s) }
