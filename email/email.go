package email

import (
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/mfakit/mfa/factor"
	"github.com/mfakit/mfa/sentcode"
	"golang.org/x/net/idna"
)

// Kind is the factor kind of emailed codes.
const Kind factor.Kind = "email"

// EventUsed is added to each successful use of an emailed code, so a
// monitor can see how often sign-ins rest on email.
const EventUsed factor.EventType = "email.used"

// Config configures a [Factor]. Sender is required; every other field is
// safe when zero.
type Config struct {
	// Sender delivers the codes (package smtpsender, or your own; a
	// sentcode.Console in development). Required.
	Sender sentcode.Sender
	// Template renders the message. Default sentcode.DefaultTemplate
	// with Issuer: English, plain text and HTML.
	Template sentcode.Template
	// Issuer names your service in the default message.
	Issuer string
	// Digits per code: 6 to 8. Default 6.
	Digits int
	// TTL is how long a code works: at most 10 minutes. Default 5 minutes.
	TTL time.Duration
	// SendTimeout bounds one Send. Default 10 seconds.
	SendTimeout time.Duration
	// UniqueDestination: an address may be enrolled by one user only; a
	// second user's enrolment of it fails with mfa.ErrInvalidInput.
	// Default false: several users may share an address.
	UniqueDestination bool
	// Caps limit sends per address, and the resend cool-down. Defaults
	// on sentcode.Caps: 5 per address per hour, 30 s between two.
	Caps sentcode.Caps
	// AAL is the level a password plus an emailed code reaches. Default
	// AAL1: email is not an out-of-band authenticator under NIST SP
	// 800-63B (it proves access to a mailbox, often reachable with the
	// same password, not possession of a device). AAL2 may be set when
	// your policy accepts that; a session then claims AAL2 for it, and
	// routes that require AAL2 accept an email code. Nothing higher.
	AAL factor.AAL
}

// Factor sends one-time codes by email. It implements factor.Factor,
// factor.Challenger and factor.IssueCapper; configure it in
// mfa.Config.Factors.
type Factor struct {
	*sentcode.Factor
}

// New validates cfg and returns a Factor. Errors wrap mfa.ErrConfig.
func New(cfg Config) (*Factor, error) {
	aal := cfg.AAL
	if aal == 0 {
		aal = factor.AAL1
	}
	if aal != factor.AAL1 && aal != factor.AAL2 {
		return nil, fmt.Errorf("%w: email: AAL must be AAL1 or AAL2", factor.ErrConfig)
	}
	caps := cfg.Caps
	caps.PerRegion = 0
	f, err := sentcode.New(sentcode.Config{
		Kind: Kind, Channel: channel{}, Sender: cfg.Sender, Template: cfg.Template, Issuer: cfg.Issuer,
		Digits: cfg.Digits, TTL: cfg.TTL, SendTimeout: cfg.SendTimeout, UniqueDestination: cfg.UniqueDestination,
		Caps: caps, AMR: []string{"otp", "mca"}, AAL: aal, Notes: []factor.EventType{EventUsed},
	})
	if err != nil {
		return nil, err
	}
	return &Factor{f}, nil
}

// maxAddress is the longest address accepted (RFC 5321's path limit less
// the brackets).
const maxAddress = 254

type channel struct{}

// Parse implements sentcode.Channel.
func (channel) Parse(s string) (sentcode.Destination, error) {
	return Parse(s)
}

// Parse reads an email address as a user typed it and returns it
// normalised: the domain lower-cased and in its ASCII (punycode) form, so
// "Jo@Bücher.example" and "Jo@xn--bcher-kva.example" are one address.
// Display names, quoted or non-ASCII local parts, IP-literal domains and
// anything with a control character, space or angle bracket wrap
// factor.ErrInvalidInput; the error never quotes the input.
func Parse(s string) (sentcode.Destination, error) {
	bad := func(why string) (sentcode.Destination, error) {
		return sentcode.Destination{}, fmt.Errorf("%w: email address %s", factor.ErrInvalidInput, why)
	}
	if s == "" || len(s) > maxAddress {
		return bad("empty or too long")
	}
	if strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f || r == '<' || r == '>' || r == '"' || r == ',' }) {
		return bad("holds a space, quote, bracket or control character")
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return bad("is malformed")
	}
	at := strings.LastIndexByte(s, '@')
	local, domain := s[:at], s[at+1:]
	if local == "" || len(local) > 64 {
		return bad("has an empty or too long local part")
	}
	for i := 0; i < len(local); i++ {
		if local[i] >= 0x80 {
			return bad("has a non-ASCII local part, which is not supported")
		}
	}
	if strings.HasPrefix(domain, "[") {
		return bad("has an IP-literal domain, which is not supported")
	}
	ascii, err := idna.Lookup.ToASCII(domain)
	if err != nil || !strings.Contains(ascii, ".") || strings.HasSuffix(ascii, ".") {
		return bad("has an invalid domain")
	}
	addr := local + "@" + strings.ToLower(ascii)
	if len(addr) > maxAddress {
		return bad("is too long")
	}
	display, err := idna.Display.ToUnicode(strings.ToLower(ascii))
	if err != nil {
		display = strings.ToLower(ascii)
	}
	return sentcode.Destination{Address: addr, Masked: local[:1] + "•••@" + display}, nil
}
