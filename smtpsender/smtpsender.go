package smtpsender

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/mfakit/mfa/factor"
	"github.com/mfakit/mfa/sentcode"
	"github.com/wneessen/go-mail"
)

// Security is how the connection to the server is protected.
type Security int

const (
	// STARTTLS upgrades the connection with STARTTLS and refuses a server
	// that does not offer it. The default.
	STARTTLS Security = iota
	// ImplicitTLS speaks TLS from the first byte (SMTPS, port 465).
	ImplicitTLS
	// Plain sends without TLS. New accepts it only for a loopback host: a
	// relay on the same machine, or a test server.
	Plain
)

// Config configures a [Sender]. Host and From are required; every other
// field is safe when zero.
type Config struct {
	// Host is the SMTP server's name or address. Required.
	Host string
	// Port defaults to 587 (465 with ImplicitTLS).
	Port int
	// Security defaults to STARTTLS, required.
	Security Security
	// TLSConfig, when set, is used for TLS (custom roots, client
	// certificates). Default: the system roots, ServerName Host, TLS 1.2
	// at least.
	TLSConfig *tls.Config
	// Username and Password, when Username is set, authenticate with the
	// strongest mechanism the server offers over TLS (SCRAM, then PLAIN
	// or LOGIN), or with PLAIN over a Plain loopback connection. Default:
	// no authentication.
	Username, Password string
	// From is the sender address, e.g. "Example <no-reply@example.com>".
	// Required.
	From string
	// Timeout bounds connecting and each command. Default 10 seconds; the
	// context of Send bounds the whole delivery too.
	Timeout time.Duration
}

// Sender delivers messages over SMTP with wneessen/go-mail, one
// connection per message (nothing is kept between requests). It
// implements sentcode.Sender.
type Sender struct {
	cfg  Config
	tls  *tls.Config
	opts []mail.Option
}

// New validates cfg and returns a Sender. Errors wrap mfa.ErrConfig.
func New(cfg Config) (*Sender, error) {
	if cfg.Host == "" || cfg.From == "" {
		return nil, fmt.Errorf("%w: smtpsender: Host and From are required", factor.ErrConfig)
	}
	if err := mail.NewMsg().From(cfg.From); err != nil {
		return nil, fmt.Errorf("%w: smtpsender: From: %w", factor.ErrConfig, err)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Timeout < 0 {
		return nil, fmt.Errorf("%w: smtpsender: negative Timeout", factor.ErrConfig)
	}
	tc := cfg.TLSConfig
	if tc == nil {
		tc = &tls.Config{ServerName: cfg.Host, MinVersion: tls.VersionTLS12}
	}
	opts := []mail.Option{mail.WithTimeout(cfg.Timeout), mail.WithTLSConfig(tc)}
	switch cfg.Security {
	case STARTTLS:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory), mail.WithPort(orPort(cfg.Port, 587)))
	case ImplicitTLS:
		// Send's dial function speaks TLS from the first byte. The
		// library's own SSL mode is not used: with a dial function set it
		// would neither begin TLS nor count the connection as encrypted,
		// and so would offer no PLAIN or LOGIN. Seen as a connection that
		// is already TLS, it is encrypted and STARTTLS is not offered.
		opts = append(opts, mail.WithTLSPolicy(mail.TLSOpportunistic), mail.WithPort(orPort(cfg.Port, 465)))
	case Plain:
		if !loopback(cfg.Host) {
			return nil, fmt.Errorf("%w: smtpsender: Plain is for a loopback host only", factor.ErrConfig)
		}
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS), mail.WithPort(orPort(cfg.Port, 25)))
	default:
		return nil, fmt.Errorf("%w: smtpsender: unknown Security", factor.ErrConfig)
	}
	if cfg.Username != "" {
		auth := mail.SMTPAuthAutoDiscover
		if cfg.Security == Plain {
			// Without TLS the library offers no mechanism by itself; on a
			// loopback connection PLAIN exposes nothing.
			auth = mail.SMTPAuthPlainNoEnc
		}
		opts = append(opts, mail.WithSMTPAuth(auth),
			mail.WithUsername(cfg.Username), mail.WithPassword(cfg.Password))
	}
	if _, err := mail.NewClient(cfg.Host, opts...); err != nil {
		return nil, fmt.Errorf("%w: smtpsender: %w", factor.ErrConfig, err)
	}
	return &Sender{cfg: cfg, tls: tc, opts: opts}, nil
}

func orPort(p, def int) int {
	if p == 0 {
		return def
	}
	return p
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Send implements sentcode.Sender: a text/plain message with an HTML
// alternative when m.HTML is set. The subject loses any control
// character, and the recipient must be one plain address, so no part of
// the message can add a header.
func (s *Sender) Send(ctx context.Context, m sentcode.Message) error {
	msg := mail.NewMsg()
	if err := msg.From(s.cfg.From); err != nil {
		return err
	}
	if strings.ContainsAny(m.To, "\r\n,<>") {
		return fmt.Errorf("%w: smtpsender: recipient is not one plain address", factor.ErrInvalidInput)
	}
	if err := msg.To(m.To); err != nil {
		return fmt.Errorf("%w: smtpsender: recipient: %w", factor.ErrInvalidInput, err)
	}
	msg.Subject(strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, m.Subject))
	msg.SetDate()
	msg.SetMessageID()
	msg.SetBodyString(mail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(mail.TypeTextHTML, m.HTML)
	}
	if m.Locale != "" {
		msg.SetGenHeader(mail.HeaderContentLang, m.Locale)
	}
	// The connection is closed here whatever happened: a dial the library
	// refuses (no STARTTLS offered) can leave it open otherwise. Implicit
	// TLS is begun here (see New).
	var conn net.Conn
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		var err error
		d := &net.Dialer{Timeout: s.cfg.Timeout}
		if s.cfg.Security == ImplicitTLS {
			conn, err = (&tls.Dialer{NetDialer: d, Config: s.tls}).DialContext(ctx, network, addr)
		} else {
			conn, err = d.DialContext(ctx, network, addr)
		}
		return conn, err
	}
	c, err := mail.NewClient(s.cfg.Host, append(s.opts[:len(s.opts):len(s.opts)], mail.WithDialContextFunc(dial))...)
	if err != nil {
		return err
	}
	err = c.DialAndSendWithContext(ctx, msg)
	if conn != nil {
		_ = conn.Close()
	}
	return err
}

// FromURL reads a Config from a URL, as a command-line flag gives it:
//
//	smtp://user:pass@host:587?from=no-reply@example.com    STARTTLS
//	smtps://user:pass@host:465?from=no-reply@example.com   implicit TLS
//	smtp+plain://127.0.0.1:1025?from=dev@example.com       no TLS, loopback only
//
// The result is still checked by New.
func FromURL(raw string) (Config, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return Config{}, fmt.Errorf("%w: smtpsender: URL does not parse", factor.ErrConfig)
	}
	var c Config
	switch u.Scheme {
	case "smtp":
		c.Security = STARTTLS
	case "smtps":
		c.Security = ImplicitTLS
	case "smtp+plain":
		c.Security = Plain
	default:
		return Config{}, fmt.Errorf("%w: smtpsender: scheme must be smtp, smtps or smtp+plain", factor.ErrConfig)
	}
	c.Host = u.Hostname()
	if p := u.Port(); p != "" {
		if c.Port, err = strconv.Atoi(p); err != nil {
			return Config{}, fmt.Errorf("%w: smtpsender: bad port", factor.ErrConfig)
		}
	}
	if u.User != nil {
		c.Username = u.User.Username()
		c.Password, _ = u.User.Password()
	}
	c.From = u.Query().Get("from")
	return c, nil
}
