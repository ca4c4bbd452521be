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
	"github.com/mfakit/mfa/store/memstore"
)

// TestSpraying replays attempts for many users from one address, named
// in its IPv4 and its IPv4-mapped IPv6 forms: the fifth distinct user is
// denied and raises one alert, later attempts are denied without
// another, and the window's end admits the address again.
func TestSpraying(t *testing.T) {
	for _, forms := range [][]string{
		{ipAttacker},
		{ipAttacker, "::ffff:" + ipAttacker},
		{"::ffff:" + ipAttacker},
	} {
		t.Run(forms[len(forms)-1], func(t *testing.T) {
			n := newNode(t, nil)
			var users []user
			for i := range 7 {
				users = append(users, n.enroll(t, fmt.Sprintf("user%d", i)))
			}
			ip := func(i int) string { return forms[i%len(forms)] }
			for i := range 4 {
				if _, err := n.verify(t, users[i], mfa.KindTOTP, ip(i), false); !errors.Is(err, mfa.ErrWrongCode) {
					t.Fatalf("attempt %d: %v", i, err)
				}
			}
			if got := n.alerts.take(); len(got) != 0 {
				t.Fatalf("alerts before the threshold: %v", kindsOf(got))
			}
			_, err := n.verify(t, users[4], mfa.KindTOTP, ip(4), true)
			if !errors.Is(err, mfa.ErrDenied) || !errors.Is(err, monitor.ErrAddressFlagged) {
				t.Fatalf("fifth user: %v", err)
			}
			got := n.alerts.take()
			if len(got) != 1 || got[0].Kind != monitor.KindSpraying || got[0].Evidence.Users != 5 ||
				got[0].IP != ipAttacker || got[0].Place.Country != "US" || !got[0].Evidence.Denied || got[0].Severity != monitor.SeverityCritical {
				t.Fatalf("alerts = %+v", got)
			}
			for i := 5; i < 7; i++ {
				if _, err := n.verify(t, users[i], mfa.KindTOTP, ip(i), true); !errors.Is(err, monitor.ErrAddressFlagged) {
					t.Fatalf("user %d after the flag: %v", i, err)
				}
			}
			if _, err := n.verify(t, users[0], mfa.KindTOTP, ip(0), true); !errors.Is(err, monitor.ErrAddressFlagged) {
				t.Fatalf("a user already counted: %v", err)
			}
			if got := n.alerts.take(); len(got) != 0 {
				t.Fatalf("alert raised again: %v", kindsOf(got))
			}
			// Another address is not affected.
			if _, err := n.verify(t, users[5], mfa.KindTOTP, ipParis, true); err != nil {
				t.Fatalf("another address: %v", err)
			}
			n.clk.Add(10*time.Minute + time.Second)
			if _, err := n.verify(t, users[6], mfa.KindTOTP, ip(6), true); err != nil {
				t.Fatalf("after the window: %v", err)
			}
		})
	}
}

// TestSprayingForgivesSignIns: users behind one office address who fail
// once and then sign in do not flag it.
func TestSprayingForgivesSignIns(t *testing.T) {
	n := newNode(t, nil)
	for i := range 8 {
		u := n.enroll(t, fmt.Sprintf("staff%d", i))
		if _, err := n.verify(t, u, mfa.KindTOTP, ipParis, false); !errors.Is(err, mfa.ErrWrongCode) {
			t.Fatalf("staff %d typo: %v", i, err)
		}
		n.signIn(t, u, mfa.KindTOTP, ipParis)
	}
	if got := n.alerts.take(); slices.Contains(kindsOf(got), monitor.KindSpraying) {
		t.Fatalf("alerts = %v", kindsOf(got))
	}
}

// TestMethodSwitching: three kinds within five minutes raise one alert;
// a fourth attempt raises none; after the window the count starts over.
func TestMethodSwitching(t *testing.T) {
	n := newNode(t, nil)
	u := n.enroll(t, "alice")
	try := func(kind mfa.Kind) {
		t.Helper()
		if _, err := n.verify(t, u, kind, ipParis, false); !errors.Is(err, mfa.ErrWrongCode) && !errors.Is(err, mfa.ErrRateLimited) {
			t.Fatalf("%s: %v", kind, err)
		}
		n.clk.Add(time.Minute)
	}
	try(mfa.KindTOTP)
	try(mfa.KindTOTP)
	try(mfa.KindWebAuthn)
	if got := n.alerts.take(); len(got) != 0 {
		t.Fatalf("two kinds: %v", kindsOf(got))
	}
	try(kindCode)
	got := n.alerts.take()
	if len(got) != 1 || got[0].Kind != monitor.KindMethodSwitching || got[0].UserID != "alice" ||
		!slices.Equal(got[0].Evidence.Kinds, []mfa.Kind{mfa.KindTOTP, mfa.KindWebAuthn, kindCode}) || got[0].Evidence.Denied {
		t.Fatalf("alerts = %+v", got)
	}
	try(mfa.KindTOTP)
	try(kindCode)
	if got := n.alerts.take(); len(got) != 0 {
		t.Fatalf("alert raised again: %v", kindsOf(got))
	}
	n.clk.Add(10 * time.Minute)
	try(mfa.KindTOTP)
	try(mfa.KindWebAuthn)
	try(kindCode)
	// The Verifier's delay has begun by now: its events are alerts too.
	if got := only(n.alerts.take(), monitor.KindMethodSwitching); len(got) != 1 {
		t.Fatalf("a new burst: %v", kindsOf(got))
	}
}

// TestTravelDemandsPhishingResistant: half an hour after a sign-in in
// Paris, an attempt from New York is denied for TOTP with an error the
// app can match, alerted once, and admitted for a security key.
func TestTravelDemandsPhishingResistant(t *testing.T) {
	n := newNode(t, nil)
	u := n.enroll(t, "alice")
	n.signIn(t, u, mfa.KindTOTP, ipParis)
	n.alerts.take()
	n.clk.Add(30 * time.Minute)
	for i := range 2 {
		_, err := n.verify(t, u, mfa.KindTOTP, ipNewYork, true)
		if !errors.Is(err, mfa.ErrDenied) || !errors.Is(err, monitor.ErrPhishingResistantRequired) {
			t.Fatalf("TOTP %d: %v", i, err)
		}
	}
	got := n.alerts.take()
	if len(got) != 1 || got[0].Kind != monitor.KindImpossibleTravel || !got[0].Evidence.Denied ||
		got[0].Evidence.PrevPlace.Country != "FR" || got[0].Place.Country != "US" ||
		got[0].Evidence.DistanceKm < 5000 || got[0].Evidence.SpeedKmh < 10000 || got[0].Evidence.FactorKind != mfa.KindTOTP {
		t.Fatalf("alerts = %+v", got)
	}
	res, err := n.verify(t, u, mfa.KindWebAuthn, ipNewYork, true)
	if err != nil || res.Kind != mfa.KindWebAuthn {
		t.Fatalf("security key: %v, %v", res, err)
	}
	// Lyon is near enough to Paris to be reached in two hours.
	n.clk.Add(2 * time.Hour)
	if _, err := n.verify(t, u, mfa.KindTOTP, ipLyon, true); err != nil {
		t.Fatalf("Lyon: %v", err)
	}
}

// TestTravelAllowedAlertsOnly: with AllowTravel and AllowFlagged the
// Guard alerts and admits.
func TestTravelAllowedAlertsOnly(t *testing.T) {
	n := newNode(t, nil, func(c *monitor.Config) { c.AllowTravel, c.AllowFlagged = true, true })
	u := n.enroll(t, "alice")
	n.signIn(t, u, mfa.KindTOTP, ipParis)
	n.alerts.take()
	n.clk.Add(30 * time.Minute)
	if _, err := n.verify(t, u, mfa.KindTOTP, ipNewYork, true); err != nil {
		t.Fatal(err)
	}
	if got := n.alerts.take(); len(got) != 1 || got[0].Kind != monitor.KindImpossibleTravel || got[0].Evidence.Denied {
		t.Fatalf("alerts = %+v", got)
	}
	for i := range 6 {
		if err := n.mon.Guard()(context.Background(), mfa.Attempt{UserID: fmt.Sprint("u", i), Kind: mfa.KindTOTP, IP: ipAttacker}); err != nil {
			t.Fatal(err)
		}
	}
	if got := n.alerts.take(); len(got) != 1 || got[0].Kind != monitor.KindSpraying || got[0].Evidence.Denied {
		t.Fatalf("alerts = %+v", got)
	}
}

// TestTwoVerifiersShareHistory: two instances, each with its own
// Verifier, Manager and Monitor, on one store see each other's attempts
// and sign-ins.
func TestTwoVerifiersShareHistory(t *testing.T) {
	st := memstore.New()
	a, b := newNode(t, st), newNode(t, st)
	nodes := []*node{a, b}
	var users []user
	for i := range 6 {
		users = append(users, nodes[i%2].enroll(t, fmt.Sprintf("user%d", i)))
		b.clk.Set(a.clk.Now())
	}
	// Spraying, alternating instances: one alert in all.
	var errs []error
	for i := range 6 {
		_, err := nodes[i%2].verify(t, users[i], mfa.KindTOTP, ipAttacker, false)
		errs = append(errs, err)
	}
	if !errors.Is(errs[3], mfa.ErrWrongCode) || !errors.Is(errs[4], monitor.ErrAddressFlagged) || !errors.Is(errs[5], monitor.ErrAddressFlagged) {
		t.Fatalf("errors = %v", errs)
	}
	if ga, gb := a.alerts.take(), b.alerts.take(); len(ga) != 1 || len(gb) != 0 || ga[0].Kind != monitor.KindSpraying {
		t.Fatalf("alerts: a %v, b %v", kindsOf(ga), kindsOf(gb))
	}
	// A sign-in on a; an attempt from far away on b.
	a.clk.Add(time.Hour)
	b.clk.Set(a.clk.Now())
	a.signIn(t, users[1], mfa.KindTOTP, ipParis)
	b.clk.Add(20 * time.Minute)
	if _, err := b.verify(t, users[1], mfa.KindTOTP, ipNewYork, true); !errors.Is(err, monitor.ErrPhishingResistantRequired) {
		t.Fatalf("b after a's sign-in: %v", err)
	}
	if got := b.alerts.take(); len(got) != 1 || got[0].Kind != monitor.KindImpossibleTravel {
		t.Fatalf("b's alerts: %v", kindsOf(got))
	}
	// Method switching split over the two.
	a.clk.Set(b.clk.Now())
	a.alerts.take()
	a.verify(t, users[2], mfa.KindTOTP, ipParis, false)
	b.verify(t, users[2], mfa.KindWebAuthn, ipParis, false)
	a.verify(t, users[2], kindCode, ipParis, false)
	if ga, gb := a.alerts.take(), b.alerts.take(); len(ga) != 1 || len(gb) != 0 || ga[0].Kind != monitor.KindMethodSwitching {
		t.Fatalf("alerts: a %v, b %v", kindsOf(ga), kindsOf(gb))
	}
}

// TestConcurrentAttemptsRaiseOnce: many attempts at once, on two
// Monitors, cross the spraying threshold; exactly one alert is raised.
func TestConcurrentAttemptsRaiseOnce(t *testing.T) {
	st := memstore.New()
	a, b := newNode(t, st), newNode(t, st)
	done := make(chan error)
	for i := range 40 {
		go func() {
			n := []*node{a, b}[i%2]
			done <- n.mon.Guard()(context.Background(), mfa.Attempt{UserID: fmt.Sprint("u", i), Kind: mfa.KindTOTP, IP: ipAttacker})
		}()
	}
	denied := 0
	for range 40 {
		if err := <-done; errors.Is(err, monitor.ErrAddressFlagged) {
			denied++
		} else if err != nil {
			t.Fatal(err)
		}
	}
	got := append(a.alerts.take(), b.alerts.take()...)
	if len(got) != 1 || got[0].Kind != monitor.KindSpraying || denied != 36 {
		t.Fatalf("alerts %v, denied %d", kindsOf(got), denied)
	}
}
