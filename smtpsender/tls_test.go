package smtpsender_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mfakit/mfa/sentcode"
	"github.com/mfakit/mfa/smtpsender"
)

// tlsServer reads the TLS-capable test server that .ci/run starts:
// MFA_TEST_SMTP_STARTTLS_URL and MFA_TEST_SMTPS_URL (smtp:// and smtps://
// URLs with its username and password), MFA_TEST_SMTP_TLS_CA (the PEM
// certificate it presents, to trust) and MFA_TEST_SMTP_TLS_INBOX (the
// directory it writes each message to, as JSON). It skips when the first
// is unset.
func tlsServer(t *testing.T) (starttls, smtps smtpsender.Config, roots *x509.CertPool, inbox string) {
	t.Helper()
	if os.Getenv("MFA_TEST_SMTP_STARTTLS_URL") == "" {
		t.Skip("MFA_TEST_SMTP_STARTTLS_URL not set")
	}
	get := func(name string) string {
		v := os.Getenv(name)
		if v == "" {
			t.Fatalf("MFA_TEST_SMTP_STARTTLS_URL is set but %s is not", name)
		}
		return v
	}
	conf := func(name string) smtpsender.Config {
		c, err := smtpsender.FromURL(get(name))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		conn, err := net.DialTimeout("tcp", net.JoinHostPort(c.Host, fmt.Sprint(c.Port)), 5*time.Second)
		if err != nil {
			t.Fatalf("%s is set but the server does not answer: %v", name, err)
		}
		conn.Close()
		c.From = "MFA Test <no-reply@example.com>"
		return c
	}
	starttls, smtps = conf("MFA_TEST_SMTP_STARTTLS_URL"), conf("MFA_TEST_SMTPS_URL")
	pem, err := os.ReadFile(get("MFA_TEST_SMTP_TLS_CA"))
	if err != nil {
		t.Fatal(err)
	}
	roots = x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		t.Fatal("MFA_TEST_SMTP_TLS_CA holds no PEM certificate")
	}
	return starttls, smtps, roots, get("MFA_TEST_SMTP_TLS_INBOX")
}

// received is what the test server writes for each message.
type received struct {
	From   string   `json:"from"`
	To     []string `json:"to"`
	Secure bool     `json:"secure"`
	User   string   `json:"user"`
	Data   string   `json:"data"`
}

// inboxFor returns the messages the server received for to.
func inboxFor(t *testing.T, dir, to string) []received {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	var out []received
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var r received
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatalf("%s: %v", filepath.Base(f), err)
		}
		if slices.Contains(r.To, to) {
			out = append(out, r)
		}
	}
	return out
}

// A message sent over STARTTLS and over implicit TLS, with the server's
// certificate trusted, arrives encrypted, authenticated, and whole; with
// the certificate not trusted nothing is sent.
func TestTLSDelivery(t *testing.T) {
	starttls, smtps, roots, inbox := tlsServer(t)
	for name, cfg := range map[string]smtpsender.Config{"STARTTLS": starttls, "SMTPS": smtps} {
		t.Run(name, func(t *testing.T) {
			send := func(cfg smtpsender.Config, to string) error {
				s, err := smtpsender.New(cfg)
				if err != nil {
					t.Fatal(err)
				}
				m := sentcode.Message{Kind: "email", To: to, Code: "402913", Purpose: sentcode.PurposeSignIn, Valid: 5 * time.Minute, Locale: "en"}
				if err := (sentcode.DefaultTemplate{Issuer: "Example"}).Render(&m); err != nil {
					t.Fatal(err)
				}
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				return s.Send(ctx, m)
			}

			// Not trusted: the system roots do not hold the test certificate.
			to := randomRecipient(t)
			err := send(cfg, to)
			var unknown x509.UnknownAuthorityError
			if !errors.As(err, &unknown) {
				t.Fatalf("untrusted certificate: %v, want x509.UnknownAuthorityError", err)
			}
			if got := inboxFor(t, inbox, to); len(got) != 0 {
				t.Fatalf("%d messages arrived over an untrusted connection", len(got))
			}

			trusted := cfg
			trusted.TLSConfig = &tls.Config{RootCAs: roots, ServerName: cfg.Host, MinVersion: tls.VersionTLS12}
			to = randomRecipient(t)
			if err := send(trusted, to); err != nil {
				t.Fatal(err)
			}
			got := inboxFor(t, inbox, to)
			if len(got) != 1 {
				t.Fatalf("%d messages arrived for %s", len(got), to)
			}
			r := got[0]
			if !r.Secure || r.User != cfg.Username || r.From != "no-reply@example.com" {
				t.Fatalf("arrived secure=%v user=%q from=%q", r.Secure, r.User, r.From)
			}
			msg, err := mail.ReadMessage(strings.NewReader(r.Data))
			if err != nil {
				t.Fatal(err)
			}
			if h := msg.Header.Get("To"); !strings.Contains(h, to) {
				t.Fatalf("To: %q", h)
			}
			if s := msg.Header.Get("Subject"); !strings.Contains(s, "Example") {
				t.Fatalf("Subject: %q", s)
			}
			if !strings.Contains(r.Data, "402913") {
				t.Fatal("the code is not in the message that arrived")
			}
		})
	}
}
