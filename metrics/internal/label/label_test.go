package label_test

import (
	"testing"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/email"
	"github.com/mfakit/mfa/metrics/internal/label"
	"github.com/mfakit/mfa/push"
	"github.com/mfakit/mfa/session"
	"github.com/mfakit/mfa/store/timed"
)

// The names the tables spell out are the constants of the packages that
// define them (package sms, a module of its own, is checked by the
// adapters' tests).
func TestKnownNames(t *testing.T) {
	set, err := label.NewSet(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []mfa.Kind{mfa.KindTOTP, mfa.KindBackupCodes, mfa.KindWebAuthn, email.Kind, push.Kind} {
		if got := set.Kind(k); got != string(k) {
			t.Errorf("Kind(%q) = %q", k, got)
		}
	}
	for _, typ := range []mfa.EventType{email.EventUsed, push.EventSuspectedFraud, push.EventPaused, mfa.EventIssueCapped} {
		if got := label.EventType(typ); got != string(typ) {
			t.Errorf("EventType(%q) = %q", typ, got)
		}
	}
	for _, err := range []error{
		mfa.ErrInvalidInput, mfa.ErrMalformedResponse, mfa.ErrWrongCode, mfa.ErrReplayed, mfa.ErrRateLimited,
		mfa.ErrLocked, mfa.ErrExpired, mfa.ErrChallengeMismatch, mfa.ErrNotFound, mfa.ErrNotEnrolled,
		mfa.ErrUnsupportedKind, mfa.ErrStepUpRequired, mfa.ErrSealed, mfa.ErrDenied, mfa.ErrStore,
		mfa.ErrConfig, mfa.ErrInternal,
	} {
		if got := label.Reason(err.Error()); got == label.Other || got == label.None {
			t.Errorf("Reason(%q) = %q", err, got)
		}
	}
	for _, op := range timed.Ops() {
		if label.Op(op) != string(op) {
			t.Errorf("Op(%q) = %q", op, label.Op(op))
		}
	}
}

// Anything outside a closed set is Other, an empty kind or reason None.
func TestOutsideIsOther(t *testing.T) {
	set, err := label.NewSet([]string{"voice"}, []string{"custom"})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct{ name, got, want string }{
		{"empty kind", set.Kind(""), label.None},
		{"extra kind", set.Kind("voice"), "voice"},
		{"unknown kind", set.Kind("alice@example.com"), label.Other},
		{"kind in capitals", set.Kind("TOTP"), label.Other},
		{"empty reason", label.Reason(""), label.None},
		{"reason with input", label.Reason("mfa: wrong code 123456"), label.Other},
		{"unknown event", label.EventType("verify.failed\x00"), label.Other},
		{"unknown op", label.Op("DROP TABLE"), label.Other},
		{"unknown outcome", label.Outcome("timeout"), label.Other},
	}
	kind, sev := set.Alert("spraying", "fatal") // not in this set's alert kinds
	cases = append(cases, struct{ name, got, want string }{"alert kind", kind, label.Other},
		struct{ name, got, want string }{"severity", sev, label.Other})
	kind, sev = set.Alert("custom", "critical")
	cases = append(cases, struct{ name, got, want string }{"custom alert kind", kind, "custom"},
		struct{ name, got, want string }{"critical", sev, "critical"})
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("%s: %q, want %q", c.name, c.got, c.want)
		}
	}
	if _, ok := label.Verification(mfa.EventUnlocked); ok {
		t.Error("Verification(limit.unlocked) reports a verification")
	}
	if _, _, _, ok := label.SessionEvent(session.Event{Type: "session.hijacked"}); ok {
		t.Error("SessionEvent accepts an unknown type")
	}
	// A revocation of one session adds one, a user-wide one its Count.
	for _, c := range []struct {
		e    session.Event
		want int
	}{
		{session.Event{Type: session.EventRevoked, SessionID: "s"}, 1},
		{session.Event{Type: session.EventRevoked, Count: 4}, 4},
		{session.Event{Type: session.EventRevoked, Count: -1}, 0},
		{session.Event{Type: session.EventDeviceRevoked, DeviceID: "d"}, 1},
		{session.Event{Type: session.EventDeviceRevoked, Count: 2}, 2},
	} {
		if _, _, n, _ := label.SessionEvent(c.e); n != c.want {
			t.Errorf("SessionEvent(%+v) adds %d, want %d", c.e, n, c.want)
		}
	}
}

func TestNewSetRefuses(t *testing.T) {
	for _, c := range []struct {
		name          string
		kinds, alerts []string
	}{
		{"other", []string{"other"}, nil},
		{"none", nil, []string{"none"}},
		{"empty", []string{""}, nil},
		{"control", []string{"a\nb"}, nil},
		{"non-ASCII", nil, []string{"é"}},
		{"too long", []string{string(make([]byte, 65))}, nil},
	} {
		if _, err := label.NewSet(c.kinds, c.alerts); err == nil {
			t.Errorf("%s: NewSet accepted it", c.name)
		}
	}
}
