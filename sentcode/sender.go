package sentcode

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"
)

// Purpose says why a code is sent.
type Purpose string

const (
	// PurposeSignIn: the code is a second factor for a sign-in.
	PurposeSignIn Purpose = "sign-in"
	// PurposeEnroll: the code confirms a new destination.
	PurposeEnroll Purpose = "enroll"
)

// Message is one code to deliver. It carries the code in clear: a Sender
// delivers it and must never log it or the destination.
type Message struct {
	// Kind is the factor kind sending it ("email", "sms").
	Kind string
	// To is the normalised destination: an email address with an ASCII
	// (punycode) domain, or an E.164 phone number.
	To      string
	Code    string
	Purpose Purpose
	// Resend: this code replaces one sent earlier.
	Resend  bool
	Expires time.Time
	// Valid is how long the code is valid from when it was sent.
	Valid time.Duration
	// Locale is the BCP 47 tag the application put on the request's
	// context with [WithLocale]; empty when it set none.
	Locale string
	// Subject, Text and HTML are the rendered message ([Template]); an SMS
	// Sender sends Text alone, and HTML is empty for SMS.
	Subject, Text, HTML string
}

// Sender delivers a code. Send returns once the message is accepted for
// delivery (by an SMTP server, an SMS gateway) or fails; an error means
// the code must not be used, and the Verifier stores nothing. Send must
// honour ctx's deadline, and must not log the code or the destination.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// SenderFunc adapts a function to a [Sender].
type SenderFunc func(ctx context.Context, m Message) error

// Send implements [Sender].
func (f SenderFunc) Send(ctx context.Context, m Message) error { return f(ctx, m) }

// Console is a Sender for development: it prints each message, code
// included, to W. Never use it in production: the code is the secret.
type Console struct {
	mu sync.Mutex
	W  io.Writer
}

// NewConsole returns a Console printing to w.
func NewConsole(w io.Writer) *Console { return &Console{W: w} }

// Send implements [Sender].
func (c *Console) Send(_ context.Context, m Message) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, err := fmt.Fprintf(c.W, "[%s to %s] %s\n%s\n", m.Kind, m.To, m.Subject, m.Text)
	return err
}

type localeKey struct{}

// WithLocale returns ctx carrying a BCP 47 language tag (from the
// client's Accept-Language, the user's profile) for the messages sent on
// its behalf: [Message.Locale], which a [Template] uses to translate.
func WithLocale(ctx context.Context, tag string) context.Context {
	return context.WithValue(ctx, localeKey{}, tag)
}

// Locale returns the tag [WithLocale] put on ctx, or "".
func Locale(ctx context.Context) string {
	s, _ := ctx.Value(localeKey{}).(string)
	return s
}
