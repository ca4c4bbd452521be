package monitor_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/monitor"
	"github.com/mfakit/mfa/session"
	"github.com/mfakit/mfa/store/memstore"
)

// TestNewCountryAndNetwork replays a user's sign-ins: the first raises
// nothing, a new network in a known country raises new_network, a new
// country raises both, a known place nothing, and history older than
// the look-back is forgotten.
func TestNewCountryAndNetwork(t *testing.T) {
	n := newNode(t, nil)
	u := n.enroll(t, "alice")
	steps := []struct {
		ip   string
		wait time.Duration
		want []monitor.AlertKind
	}{
		{ipParis, 0, nil},
		{ipParis, 2 * time.Hour, nil},
		{ipParisAlt, 2 * time.Hour, []monitor.AlertKind{monitor.KindNewNetwork}},
		{ipBerlin, 10 * time.Hour, []monitor.AlertKind{monitor.KindNewCountry, monitor.KindNewNetwork}},
		{ipParis, 10 * time.Hour, nil},
		{ipBerlin, 10 * time.Hour, nil},
		{"10.1.2.3", 2 * time.Hour, nil}, // private: no place
		{ipLyon, 2 * time.Hour, nil},     // Lyon: France, Paris's network
		{ipNewYork, 91 * 24 * time.Hour, nil},
		{ipBerlin, 10 * time.Hour, []monitor.AlertKind{monitor.KindNewCountry, monitor.KindNewNetwork}},
	}
	for i, s := range steps {
		n.clk.Add(s.wait)
		n.signIn(t, u, mfa.KindTOTP, s.ip)
		got := n.alerts.take()
		if !slices.Equal(kindsOf(got), s.want) {
			t.Fatalf("step %d (%s): alerts %v, want %v", i, s.ip, kindsOf(got), s.want)
		}
		for _, a := range got {
			if a.UserID != "alice" || a.IP != s.ip || a.Evidence.Event != string(session.EventStarted) || a.Evidence.SessionID == "" || a.Evidence.PrevPlace.Country == "" {
				t.Fatalf("step %d: alert %+v", i, a)
			}
		}
	}
}

// TestImpossibleTravelAtSignIn: a sign-in (with a security key, which
// the Guard admits) half an hour after one on another continent raises
// impossible travel, a new country and network, and simultaneous
// sessions.
func TestImpossibleTravelAtSignIn(t *testing.T) {
	n := newNode(t, nil)
	u := n.enroll(t, "alice")
	n.signIn(t, u, mfa.KindTOTP, ipParis)
	n.clk.Add(30 * time.Minute)
	n.signIn(t, u, mfa.KindWebAuthn, ipNewYork)
	got := n.alerts.take()
	// The Guard saw the attempt first, admitted the key and alerted; the
	// session hook does not alert about the same travel again.
	want := []monitor.AlertKind{monitor.KindImpossibleTravel, monitor.KindNewCountry, monitor.KindNewNetwork, monitor.KindSimultaneousSessions}
	if !slices.Equal(kindsOf(got), want) {
		t.Fatalf("alerts %v, want %v", kindsOf(got), want)
	}
	tr := got[0]
	if tr.Evidence.Denied || tr.Evidence.FactorKind != mfa.KindWebAuthn || tr.Evidence.Event != "" {
		t.Fatalf("travel alert %+v", tr)
	}
	// Without the Guard's attempt, the sign-in itself raises it.
	n.clk.Add(30 * time.Minute)
	res, err := n.verify(t, u, mfa.KindWebAuthn, "", true)
	if err != nil {
		t.Fatal(err)
	}
	res.IP = ipSydney
	if _, err := n.sessions.Start(context.Background(), u.id, res); err != nil {
		t.Fatal(err)
	}
	got = only(n.alerts.take(), monitor.KindImpossibleTravel)
	if len(got) != 1 {
		t.Fatalf("alerts %v", kindsOf(got))
	}
	tr = got[0]
	if tr.Severity != monitor.SeverityCritical || tr.Evidence.PrevIP != ipNewYork || tr.Evidence.Event != string(session.EventStarted) || tr.Evidence.SpeedKmh < 10000 || tr.Evidence.OtherSessionID == "" {
		t.Fatalf("travel alert %+v", tr)
	}
}

// TestSimultaneousSessions: a session in Germany while one in France is
// live raises the alert; once the French one is revoked, or has passed
// SessionLive, or every session was revoked, it does not.
func TestSimultaneousSessions(t *testing.T) {
	ctx := context.Background()
	n := newNode(t, nil, func(c *monitor.Config) { c.SessionLive = 24 * time.Hour })
	u := n.enroll(t, "alice")
	paris := n.signIn(t, u, mfa.KindTOTP, ipParis)
	n.clk.Add(3 * time.Hour)
	n.signIn(t, u, mfa.KindTOTP, ipBerlin)
	got := only(n.alerts.take(), monitor.KindSimultaneousSessions)
	if len(got) != 1 || got[0].Evidence.OtherSessionID != paris.Claims.SessionID || got[0].Evidence.PrevPlace.Country != "FR" {
		t.Fatalf("alerts %+v", got)
	}
	// Ending the Paris session: a second German session is alone.
	if err := n.sessions.Revoke(ctx, u.id, paris.Claims.SessionID); err != nil {
		t.Fatal(err)
	}
	n.clk.Add(time.Hour)
	berlin := n.signIn(t, u, mfa.KindTOTP, ipBerlin)
	if got := n.alerts.take(); len(got) != 0 {
		t.Fatalf("after revoking Paris: %v", kindsOf(got))
	}
	// Revoking every session: a French one is alone.
	if _, err := n.sessions.RevokeUser(ctx, u.id); err != nil {
		t.Fatal(err)
	}
	n.clk.Add(3 * time.Hour)
	n.signIn(t, u, mfa.KindTOTP, ipParis)
	if got := n.alerts.take(); len(got) != 0 {
		t.Fatalf("after revoking all: %v", kindsOf(got))
	}
	_ = berlin
	// SessionLive past: a German one 25 hours later is alone.
	n.clk.Add(25 * time.Hour)
	n.signIn(t, u, mfa.KindTOTP, ipBerlin)
	if got := n.alerts.take(); len(got) != 0 {
		t.Fatalf("after SessionLive: %v", kindsOf(got))
	}
	// A step-up of a session is not a second session.
	n.clk.Add(time.Minute)
	tok := n.signIn(t, u, mfa.KindTOTP, ipBerlin)
	n.alerts.take()
	n.clk.Add(time.Minute)
	res, err := n.verify(t, u, mfa.KindWebAuthn, ipBerlin, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.sessions.StepUp(ctx, tok.RefreshToken, res); err != nil {
		t.Fatal(err)
	}
	if got := only(n.alerts.take(), monitor.KindSimultaneousSessions); len(got) != 0 {
		t.Fatalf("step-up: %+v", got)
	}
}

// TestClocksDisagree: two instances whose clocks are ten minutes apart.
// A sign-in written by the slow one sorts before the fast one's, the
// time between them is taken in either direction, and nothing breaks.
func TestClocksDisagree(t *testing.T) {
	st := memstore.New()
	fast, slow := newNode(t, st), newNode(t, st)
	u := fast.enroll(t, "alice")
	slow.clk.Set(fast.clk.Now().Add(-10 * time.Minute))
	fast.signIn(t, u, mfa.KindTOTP, ipParis)
	// The slow instance's attempt is "before" the sign-in: still
	// impossible travel.
	if _, err := slow.verify(t, u, mfa.KindTOTP, ipBerlin, true); !errors.Is(err, monitor.ErrPhishingResistantRequired) {
		t.Fatalf("slow attempt: %v", err)
	}
	if got := slow.alerts.take(); len(got) != 1 || got[0].Kind != monitor.KindImpossibleTravel || got[0].Evidence.PrevTime.Before(slow.clk.Now()) {
		t.Fatalf("slow alerts %+v", got)
	}
	slow.signIn(t, u, mfa.KindWebAuthn, ipBerlin)
	if got := kindsOf(slow.alerts.take()); !slices.Contains(got, monitor.KindImpossibleTravel) {
		t.Fatalf("slow sign-in: %v", got)
	}
	// Two hours on, both clocks: Paris then Berlin 880 km apart is fine.
	fast.clk.Add(2 * time.Hour)
	slow.clk.Add(2 * time.Hour)
	fast.signIn(t, u, mfa.KindTOTP, ipParis)
	fast.alerts.take()
	slow.clk.Add(2 * time.Hour)
	slow.signIn(t, u, mfa.KindTOTP, ipBerlin)
	if got := only(slow.alerts.take(), monitor.KindImpossibleTravel); len(got) != 0 {
		t.Fatalf("reachable: %+v", got)
	}
}

// TestSlowClockFullLists: an instance whose clock is behind writes
// records older than every other in a full list, which the store trims
// at once; its own attempt and sign-in are still judged.
func TestSlowClockFullLists(t *testing.T) {
	ctx := context.Background()
	st := memstore.New()
	fast, slow := newNode(t, st), newNode(t, st)
	u := fast.enroll(t, "alice")
	fast.signIn(t, u, mfa.KindTOTP, ipParis)
	for range 32 {
		fast.clk.Add(time.Second)
		if err := fast.mon.Guard()(ctx, mfa.Attempt{UserID: u.id, Kind: mfa.KindTOTP, IP: ipParis}); err != nil {
			t.Fatal(err)
		}
	}
	slow.clk.Set(fast.clk.Now().Add(-2 * time.Minute))
	if _, err := slow.verify(t, u, mfa.KindTOTP, ipNewYork, true); !errors.Is(err, monitor.ErrPhishingResistantRequired) {
		t.Fatalf("slow attempt: %v", err)
	}
	// Sign-ins: fill the list with 32 from Paris, then one from Berlin
	// on the slow clock.
	for i := range 32 {
		fast.clk.Add(time.Second)
		if err := fast.mon.SessionHook()(ctx, session.Event{Type: session.EventStarted, UserID: u.id, SessionID: fmt.Sprint("p", i), IP: ipParis}); err != nil {
			t.Fatal(err)
		}
	}
	slow.alerts.take()
	if err := slow.mon.SessionHook()(ctx, session.Event{Type: session.EventStarted, UserID: u.id, SessionID: "b", IP: ipBerlin}); err != nil {
		t.Fatal(err)
	}
	want := []monitor.AlertKind{monitor.KindNewCountry, monitor.KindNewNetwork, monitor.KindImpossibleTravel, monitor.KindSimultaneousSessions}
	if got := kindsOf(slow.alerts.take()); !slices.Equal(got, want) {
		t.Fatalf("alerts %v, want %v", got, want)
	}
}
