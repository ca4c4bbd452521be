// Package label maps what the library reports (events, reasons, kinds,
// store operations, alerts) to metric label values drawn from closed sets,
// for every metrics adapter alike. Anything outside a set becomes [Other],
// so no input, identifier or address can ever become a label value and the
// number of series stays bounded whatever a client sends.
package label

import (
	"fmt"
	"strings"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/session"
	"github.com/mfakit/mfa/store/timed"
)

const (
	// Other stands for any value outside a closed set.
	Other = "other"
	// None stands for an empty value (an event with no kind or reason).
	None = "none"
)

// Outcomes of a verification, as the verifications counter labels them.
const (
	Succeeded     = "succeeded"
	Failed        = "failed"
	ReplayRefused = "replay_refused"
	RateLimited   = "rate_limited"
	Locked        = "locked"
)

// Kinds are the factor kinds of this module, which every Set knows.
var Kinds = []string{"totp", "backup_codes", "webauthn", "email", "sms", "push"}

// AlertKinds are the alert kinds a Set knows when it is given none.
var AlertKinds = []string{
	"spraying", "method_switching", "new_country", "new_network", "impossible_travel",
	"simultaneous_sessions", "rate_limited", "locked", "replay", "clone_suspected",
	"token_reuse", "enrolled", "method_changed", "recovery",
}

// Severities are the alert severities, lowest first.
var Severities = []string{"info", "warning", "critical"}

// reasons maps each sentinel's text, which is what Event.Reason carries,
// to a short label.
var reasons = map[string]string{
	mfa.ErrInvalidInput.Error():      "invalid_input",
	mfa.ErrMalformedResponse.Error(): "malformed_response",
	mfa.ErrWrongCode.Error():         "wrong_code",
	mfa.ErrReplayed.Error():          "replayed",
	mfa.ErrRateLimited.Error():       "rate_limited",
	mfa.ErrLocked.Error():            "locked",
	mfa.ErrExpired.Error():           "expired",
	mfa.ErrChallengeMismatch.Error(): "challenge_mismatch",
	mfa.ErrNotFound.Error():          "not_found",
	mfa.ErrNotEnrolled.Error():       "not_enrolled",
	mfa.ErrUnsupportedKind.Error():   "unsupported_kind",
	mfa.ErrStepUpRequired.Error():    "step_up_required",
	mfa.ErrSealed.Error():            "sealed",
	mfa.ErrDenied.Error():            "denied",
	mfa.ErrStore.Error():             "store",
	mfa.ErrConfig.Error():            "config",
	mfa.ErrInternal.Error():          "internal",
}

// Reason maps an Event.Reason to its label: None when empty, Other when
// it is no sentinel's text.
func Reason(r string) string {
	if r == "" {
		return None
	}
	if l, ok := reasons[r]; ok {
		return l
	}
	return Other
}

// Verification maps a verification event to its outcome label; ok is
// false for any other event.
func Verification(t mfa.EventType) (outcome string, ok bool) {
	switch t {
	case mfa.EventVerifySucceeded:
		return Succeeded, true
	case mfa.EventVerifyFailed:
		return Failed, true
	case mfa.EventReplayRefused:
		return ReplayRefused, true
	case mfa.EventRateLimited:
		return RateLimited, true
	case mfa.EventLocked:
		return Locked, true
	}
	return "", false
}

// eventTypes are the event types of the Verifier and of this module's
// factors (packages email, sms and push name theirs; the tests hold these
// to those constants).
var eventTypes = map[mfa.EventType]bool{
	mfa.EventEnrollBegun: true, mfa.EventEnrollConfirmed: true, mfa.EventFactorRemoved: true,
	mfa.EventChallengeIssued: true, mfa.EventChallengeResent: true, mfa.EventIssueFailed: true, mfa.EventIssueCapped: true,
	mfa.EventVerifySucceeded: true, mfa.EventVerifyFailed: true, mfa.EventReplayRefused: true,
	mfa.EventRateLimited: true, mfa.EventLocked: true, mfa.EventUnlocked: true,
	mfa.EventCodesRegenerated: true, mfa.EventBackupCodeUsed: true, mfa.EventBackupCodesLow: true,
	mfa.EventSignCountRegressed: true,
	"email.used":                true,
	"sms.restricted_used":       true,
	"push.suspected_fraud":      true,
	"push.paused":               true,
}

// EventType maps an event type to its label: itself when known, else Other.
func EventType(t mfa.EventType) string {
	if eventTypes[t] {
		return string(t)
	}
	return Other
}

// Challenge maps a challenge event to its outcome label; ok is false for
// any other event.
func Challenge(t mfa.EventType) (outcome string, ok bool) {
	switch t {
	case mfa.EventChallengeIssued:
		return "issued", true
	case mfa.EventChallengeResent:
		return "resent", true
	case mfa.EventIssueCapped:
		return "capped", true
	case mfa.EventIssueFailed:
		return "failed", true
	}
	return "", false
}

// SessionEvent maps a session event to the counter it feeds (sessions or
// devices) and its label, and says how much it adds: one, or the Count
// of a user-wide revocation. ok is false for an unknown event.
func SessionEvent(e session.Event) (devices bool, event string, n int, ok bool) {
	n = 1
	switch e.Type {
	case session.EventStarted:
		return false, "started", n, true
	case session.EventRefreshed:
		return false, "refreshed", n, true
	case session.EventSteppedUp:
		return false, "stepped_up", n, true
	case session.EventReuseDetected:
		return false, "reuse_detected", n, true
	case session.EventRevoked:
		if e.SessionID == "" {
			n = max(e.Count, 0)
		}
		return false, "revoked", n, true
	case session.EventDeviceRemembered:
		return true, "remembered", n, true
	case session.EventDeviceRevoked:
		if e.DeviceID == "" {
			n = max(e.Count, 0)
		}
		return true, "revoked", n, true
	}
	return false, "", 0, false
}

// Op maps a store operation to its label: its name when it is one of
// timed.Ops, else Other.
func Op(op timed.Op) string {
	if ops[op] {
		return string(op)
	}
	return Other
}

var ops = func() map[timed.Op]bool {
	m := map[timed.Op]bool{}
	for _, op := range timed.Ops() {
		m[op] = true
	}
	return m
}()

// Outcome maps a store call's outcome to its label: itself when it is
// one of timed.Outcomes, else Other.
func Outcome(o timed.Outcome) string {
	for _, k := range timed.Outcomes() {
		if o == k {
			return string(o)
		}
	}
	return Other
}

// Set holds the closed sets a metrics value was configured with: the
// factor kinds and alert kinds it labels by name.
type Set struct {
	kinds  map[string]bool
	alerts map[string]bool
}

// NewSet returns a Set knowing [Kinds] and extraKinds, and alertKinds
// (AlertKinds when empty). A value that is empty, too long, not printable
// ASCII, or None or Other is refused.
func NewSet(extraKinds, alertKinds []string) (*Set, error) {
	s := &Set{kinds: map[string]bool{}, alerts: map[string]bool{}}
	for _, k := range append(append([]string(nil), Kinds...), extraKinds...) {
		if err := check("kind", k); err != nil {
			return nil, err
		}
		s.kinds[k] = true
	}
	if len(alertKinds) == 0 {
		alertKinds = AlertKinds
	}
	for _, k := range alertKinds {
		if err := check("alert kind", k); err != nil {
			return nil, err
		}
		s.alerts[k] = true
	}
	return s, nil
}

func check(what, v string) error {
	if v == "" || len(v) > 64 || v == None || v == Other || strings.IndexFunc(v, func(r rune) bool { return r <= ' ' || r > '~' }) >= 0 {
		return fmt.Errorf("%s %q: want 1 to 64 printable ASCII characters, not %q or %q", what, v, None, Other)
	}
	return nil
}

// Kind maps a factor kind to its label: None when empty, itself when
// known, else Other.
func (s *Set) Kind(k mfa.Kind) string {
	switch {
	case k == "":
		return None
	case s.kinds[string(k)]:
		return string(k)
	}
	return Other
}

// Alert maps an alert's kind and severity to their labels.
func (s *Set) Alert(kind, severity string) (string, string) {
	if !s.alerts[kind] {
		kind = Other
	}
	switch severity {
	case "info", "warning", "critical":
	default:
		severity = Other
	}
	return kind, severity
}

// Counts is what one Verifier event adds to, as labels: every event counts
// under Type; the other fields are empty unless the event feeds that
// counter.
type Counts struct {
	Kind string // the factor kind's label
	Type string // the event type's label
	// Verification is the outcome of a verification event; Reason then
	// its reason.
	Verification, Reason string
	// Challenge is the outcome of a challenge event.
	Challenge string
	// Enrolment is "begun" or "confirmed".
	Enrolment string
	// Removal: a factor was removed.
	Removal bool
}

// Event returns what e adds to.
func (s *Set) Event(e mfa.Event) Counts {
	c := Counts{Kind: s.Kind(e.Kind), Type: EventType(e.Type)}
	if o, ok := Verification(e.Type); ok {
		c.Verification, c.Reason = o, Reason(e.Reason)
		return c
	}
	if o, ok := Challenge(e.Type); ok {
		c.Challenge = o
		return c
	}
	switch e.Type {
	case mfa.EventEnrollBegun:
		c.Enrolment = "begun"
	case mfa.EventEnrollConfirmed:
		c.Enrolment = "confirmed"
	case mfa.EventFactorRemoved:
		c.Removal = true
	}
	return c
}
