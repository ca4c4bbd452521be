package smtpsender_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/sentcode"
	"github.com/mfakit/mfa/smtpsender"
)

// server reads MFA_TEST_SMTP_URL (an smtp+plain:// or smtp:// URL of a
// maildev server, with its username and password) and
// MFA_TEST_MAILDEV_API (its REST API), and skips when the first is unset.
func server(t *testing.T) (smtpsender.Config, string) {
	t.Helper()
	raw := os.Getenv("MFA_TEST_SMTP_URL")
	if raw == "" {
		t.Skip("MFA_TEST_SMTP_URL not set")
	}
	api := os.Getenv("MFA_TEST_MAILDEV_API")
	if api == "" {
		t.Fatal("MFA_TEST_SMTP_URL is set but MFA_TEST_MAILDEV_API is not")
	}
	cfg, err := smtpsender.FromURL(raw)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.DialTimeout("tcp", net.JoinHostPort(cfg.Host, fmt.Sprint(cfg.Port)), 5*time.Second)
	if err != nil {
		t.Fatalf("MFA_TEST_SMTP_URL is set but the server does not answer: %v", err)
	}
	c.Close()
	cfg.From = "MFA Test <no-reply@example.com>"
	return cfg, strings.TrimRight(api, "/")
}

// arrived is the part of maildev's message JSON the test reads.
type arrived struct {
	Subject string `json:"subject"`
	Text    string `json:"text"`
	HTML    string `json:"html"`
	To      []struct {
		Address string `json:"address"`
	} `json:"to"`
	From []struct {
		Address string `json:"address"`
	} `json:"from"`
	Headers map[string]any `json:"headers"`
}

// fetch returns the messages maildev received for to.
func fetch(t *testing.T, api, to string) []arrived {
	t.Helper()
	resp, err := http.Get(api + "/api/email")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var all []arrived
	if err := json.NewDecoder(resp.Body).Decode(&all); err != nil {
		t.Fatal(err)
	}
	var out []arrived
	for _, m := range all {
		for _, r := range m.To {
			if r.Address == to {
				out = append(out, m)
			}
		}
	}
	return out
}

func randomRecipient(t *testing.T) string {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "user-" + hex.EncodeToString(b) + "@example.com"
}

// A message sent through the real server arrives with the code in both
// bodies and the subject the template made, and nothing else in its
// headers.
func TestDelivery(t *testing.T) {
	base, api := server(t)
	modes := map[string]smtpsender.Config{"as configured": base}
	for name, cfg := range modes {
		t.Run(name, func(t *testing.T) {
			s, err := smtpsender.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			to := randomRecipient(t)
			m := sentcode.Message{Kind: "email", To: to, Code: "402913", Purpose: sentcode.PurposeSignIn, Valid: 5 * time.Minute, Locale: "en"}
			if err := (sentcode.DefaultTemplate{Issuer: "Example\r\nBcc: evil@example.com"}).Render(&m); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := s.Send(ctx, m); err != nil {
				t.Fatal(err)
			}
			got := fetch(t, api, to)
			if len(got) != 1 {
				t.Fatalf("%d messages arrived for %s", len(got), to)
			}
			a := got[0]
			if a.Subject != m.Subject || !strings.Contains(a.Text, "402913") || !strings.Contains(a.HTML, "402913") {
				t.Fatalf("arrived: subject %q text %q html %q", a.Subject, a.Text, a.HTML)
			}
			if len(a.To) != 1 || len(a.From) != 1 || a.From[0].Address != "no-reply@example.com" {
				t.Fatalf("arrived to %v from %v", a.To, a.From)
			}
			if _, ok := a.Headers["bcc"]; ok {
				t.Fatal("a Bcc header arrived")
			}
		})
	}
}

func TestWrongPassword(t *testing.T) {
	cfg, _ := server(t)
	if cfg.Username == "" {
		t.Skip("MFA_TEST_SMTP_URL names no user")
	}
	cfg.Password = "wrong"
	s, err := smtpsender.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), sentcode.Message{To: randomRecipient(t), Subject: "s", Text: "t"}); err == nil {
		t.Fatal("sent with a wrong password")
	}
}

// STARTTLS is required: a server that does not offer it gets nothing,
// the credentials least of all.
func TestSTARTTLSRequired(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		// The client may leave the connection open after its refusal.
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		r := bufio.NewReader(c)
		fmt.Fprint(c, "220 test ESMTP\r\n")
		var seen []string
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				break
			}
			seen = append(seen, strings.TrimSpace(line))
			switch {
			case strings.HasPrefix(line, "EHLO"):
				fmt.Fprint(c, "250-test\r\n250 AUTH PLAIN\r\n")
			case strings.HasPrefix(line, "QUIT"):
				fmt.Fprint(c, "221 bye\r\n")
			default:
				fmt.Fprint(c, "502 no\r\n")
			}
		}
		got <- strings.Join(seen, "|")
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	s, err := smtpsender.New(smtpsender.Config{Host: "127.0.0.1", Port: port, From: "a@example.com", Username: "u", Password: "p"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), sentcode.Message{To: "b@example.com", Subject: "s", Text: "123456"}); err == nil {
		t.Fatal("sent without STARTTLS")
	}
	ln.Close()
	if seen := <-got; strings.Contains(seen, "AUTH") || strings.Contains(seen, "MAIL") {
		t.Fatalf("the client went on without TLS: %s", seen)
	}
}

func TestConfig(t *testing.T) {
	bad := []smtpsender.Config{
		{},
		{Host: "smtp.example.com"},
		{Host: "smtp.example.com", From: "not an address"},
		{Host: "smtp.example.com", From: "a@example.com", Security: smtpsender.Plain},
		{Host: "smtp.example.com", From: "a@example.com", Timeout: -1},
		{Host: "smtp.example.com", From: "a@example.com", Security: 9},
	}
	for _, c := range bad {
		if _, err := smtpsender.New(c); !errors.Is(err, mfa.ErrConfig) {
			t.Errorf("%+v: %v", c, err)
		}
	}
	for _, raw := range []string{"http://x", "smtp://h:port", "::"} {
		if _, err := smtpsender.FromURL(raw); !errors.Is(err, mfa.ErrConfig) {
			t.Errorf("%s: %v", raw, err)
		}
	}
	c, err := smtpsender.FromURL("smtps://u:p%40ss@mail.example.com?from=x@example.com")
	if err != nil || c.Security != smtpsender.ImplicitTLS || c.Password != "p@ss" || c.From != "x@example.com" || c.Host != "mail.example.com" {
		t.Fatalf("%+v %v", c, err)
	}
	s, err := smtpsender.New(smtpsender.Config{Host: "127.0.0.1", From: "a@example.com", Security: smtpsender.Plain})
	if err != nil {
		t.Fatal(err)
	}
	// A recipient carrying a header is refused before any connection.
	err = s.Send(context.Background(), sentcode.Message{To: "a@example.com\r\nBcc: b@example.com", Text: "t"})
	if !errors.Is(err, mfa.ErrInvalidInput) {
		t.Fatalf("header in the recipient: %v", err)
	}
}
