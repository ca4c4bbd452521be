package monitor

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/email"
	"github.com/mfakit/mfa/sentcode"
)

// PurposeAlert marks the messages [NotifyAdmin] sends: they carry no
// code.
const PurposeAlert sentcode.Purpose = "alert"

// titles are the fixed subjects of admin notifications.
var titles = map[AlertKind]string{
	KindSpraying:             "attempts across many accounts from one address",
	KindMethodSwitching:      "rapid switching between factor kinds",
	KindNewCountry:           "sign-in from a new country",
	KindNewNetwork:           "sign-in from a new network",
	KindImpossibleTravel:     "impossible travel",
	KindSimultaneousSessions: "simultaneous sessions in different countries",
	KindRateLimited:          "failed attempts past the limit",
	KindLocked:               "second factor locked",
	KindReplay:               "one-time value replayed",
	KindCloneSuspected:       "security key may be cloned",
	KindTokenReuse:           "refresh token reused",
	KindEnrolled:             "factor enrolled",
	KindMethodChanged:        "factor removed or codes regenerated",
	KindRecovery:             "account recovery",
}

// NotifyAdmin returns an AlertHook that emails an administrator at to
// through sender (an smtpsender, or any sentcode.Sender) for the alerts
// of the given kinds; with none given, for KindEnrolled,
// KindMethodChanged, KindRecovery and every critical alert.
//
// The message is plain text from a fixed template: its subject is a fixed
// title chosen by the alert's kind, and every value that came from a
// request (user ID, identifiers, network name) appears only in the body,
// quoted as a Go string literal in ASCII, so no input can add a header
// or a line. It carries no code (Message.Code is empty, Purpose is
// PurposeAlert). An invalid address wraps mfa.ErrConfig.
func NotifyAdmin(sender sentcode.Sender, to string, kinds ...AlertKind) (AlertHook, error) {
	if sender == nil {
		return nil, fmt.Errorf("%w: monitor: NotifyAdmin needs a sender", mfa.ErrConfig)
	}
	dest, err := email.Parse(to)
	if err != nil {
		return nil, fmt.Errorf("%w: monitor: NotifyAdmin: %w", mfa.ErrConfig, err)
	}
	kinds = slices.Clone(kinds)
	wanted := func(a Alert) bool {
		if len(kinds) == 0 {
			return a.Severity >= SeverityCritical || a.Kind == KindEnrolled || a.Kind == KindMethodChanged || a.Kind == KindRecovery
		}
		return slices.Contains(kinds, a.Kind)
	}
	return func(ctx context.Context, a Alert) error {
		if !wanted(a) {
			return nil
		}
		title, ok := titles[a.Kind]
		if !ok {
			title = "security alert"
		}
		return sender.Send(ctx, sentcode.Message{
			Kind: string(email.Kind), To: dest.Address, Purpose: PurposeAlert,
			Subject: "Security alert: " + title,
			Text:    notice(title, a),
		})
	}, nil
}

// notice renders the body of an admin notification.
func notice(title string, a Alert) string {
	var b strings.Builder
	line := func(name, value string) {
		b.WriteString(name)
		b.WriteString(": ")
		b.WriteString(value)
		b.WriteByte('\n')
	}
	line("Alert", title+" ("+string(a.Kind)+")")
	line("Severity", a.Severity.String())
	line("Time", a.Time.UTC().Format(time.RFC3339))
	line("User", strconv.QuoteToASCII(a.UserID))
	if a.IP != "" {
		line("Address", strconv.QuoteToASCII(a.IP))
	}
	if a.Place.Country != "" || a.Place.Network != "" {
		line("Place", strconv.QuoteToASCII(strings.TrimSpace(a.Place.Country+" "+a.Place.Network)))
	}
	for _, f := range evidenceFields(a.Evidence) {
		line(f.name, strconv.QuoteToASCII(f.value))
	}
	b.WriteString("\nThis message was sent by the sign-in monitor. It holds no code and asks for no action by reply.\n")
	return b.String()
}
