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
// The integration tests run against real SMTP servers that .ci/run
// installs from the npm registry at pinned versions and starts on
// loopback. maildev, which speaks no TLS, takes plain SMTP and returns
// through its REST API the message that actually arrived
// (MFA_TEST_SMTP_URL, MFA_TEST_MAILDEV_API). nodemailer's smtp-server,
// driven by .ci/smtptls with a self-signed certificate made for the run,
// takes STARTTLS and implicit TLS with authentication and writes each
// message it receives to a directory; the test sends over both with the
// certificate trusted, reads what arrived, and checks that the
// certificate is refused when it is not trusted (MFA_TEST_SMTP_STARTTLS_URL,
// MFA_TEST_SMTPS_URL, MFA_TEST_SMTP_TLS_CA, MFA_TEST_SMTP_TLS_INBOX).
// Each test skips when its first variable is unset.
package smtpsender
