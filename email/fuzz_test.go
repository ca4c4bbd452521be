package email_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/email"
)

func TestParse(t *testing.T) {
	tests := []struct{ in, addr, masked string }{
		{"jo@example.com", "jo@example.com", "j•••@example.com"},
		{"Jo.Smith+mfa@Example.COM", "Jo.Smith+mfa@example.com", "J•••@example.com"},
		{"jo@bücher.example", "jo@xn--bcher-kva.example", "j•••@bücher.example"},
		{"jo@xn--bcher-kva.example", "jo@xn--bcher-kva.example", "j•••@bücher.example"},
		{"jo@ＥＸＡＭＰＬＥ.com", "jo@example.com", "j•••@example.com"},
	}
	for _, tt := range tests {
		d, err := email.Parse(tt.in)
		if err != nil || d.Address != tt.addr || d.Masked != tt.masked || d.Region != "" {
			t.Errorf("Parse(%q) = %+v, %v; want %q %q", tt.in, d, err, tt.addr, tt.masked)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"jo@example.com", "jo@bücher.example", "a@b", "\"a\"@x.y", "a@x.y\r\nBcc: z@x.y", "Jo <jo@x.y>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := email.Parse(s)
		if err != nil {
			if !errors.Is(err, mfa.ErrInvalidInput) || (len(s) > 3 && strings.Contains(err.Error(), s)) {
				t.Fatalf("error %v", err)
			}
			return
		}
		if strings.ContainsAny(d.Address, "\r\n<>\", ") || strings.Count(d.Address, "@") != 1 || len(d.Address) > 254 {
			t.Fatalf("accepted %q as %q", s, d.Address)
		}
		again, err := email.Parse(d.Address)
		if err != nil || again.Address != d.Address {
			t.Fatalf("normal form %q does not parse to itself: %+v %v", d.Address, again, err)
		}
	})
}
