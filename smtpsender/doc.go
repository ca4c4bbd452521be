// Package smtpsender delivers the codes of package email over SMTP, with
// github.com/wneessen/go-mail. It is a module of its own
// (github.com/mfakit/mfa/smtpsender), so only applications that send
// mail this way pull the client library.
//
//	cfg, err := smtpsender.FromURL("smtp://user:pass@smtp.example.com:587?from=no-reply@example.com")
//	s, err := smtpsender.New(cfg)
//	f, err := email.New(email.Config{Sender: s, Issuer: "Example"})
//
// Each Send opens one connection, delivers one message (plain text with
// an HTML alternative) and closes it, so nothing is kept between the
// requests of a stateless service; Config.Timeout and the context bound
// it.
//
// # Security
//
//   - TLS is required by default: STARTTLS, refused if the server does not
//     offer it (the credentials are never sent in clear), or implicit TLS
//     (SMTPS). Certificates are checked against the system roots unless
//     Config.TLSConfig says otherwise. Plain SMTP is accepted only to a
//     loopback host (a local relay, a test server).
//   - Header injection: the recipient must be one plain address (no line
//     break, comma or angle bracket) and the subject loses every control
//     character before go-mail encodes it.
//   - An error from Send may name the server's reply, which may quote the
//     recipient: it is for the application's logs. The Verifier never
//     puts it in an event.
//
// The integration test runs against a real SMTP server (maildev, which
// .ci/run installs from the npm registry at a pinned version and starts
// on loopback) and reads back through maildev's REST API the message that
// actually arrived. It reads MFA_TEST_SMTP_URL and MFA_TEST_MAILDEV_API
// and skips when the first is unset.
package smtpsender
