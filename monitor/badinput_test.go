package monitor_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/monitor"
	"github.com/mfakit/mfa/session"
	"github.com/mfakit/mfa/store"
)

// listWatch wraps a store.Signals and keeps the longest list and the
// longest key and record it saw.
type listWatch struct {
	store.Signals
	maxList, maxKey, maxData int
}

func (w *listWatch) Observe(ctx context.Context, now time.Time, sights ...store.Sighting) ([][]store.Signal, error) {
	for _, s := range sights {
		w.maxKey = max(w.maxKey, len(s.Key))
		w.maxData = max(w.maxData, len(s.Signal.Data))
	}
	lists, err := w.Signals.Observe(ctx, now, sights...)
	for _, l := range lists {
		w.maxList = max(w.maxList, len(l))
	}
	return lists, err
}

// TestFloodStaysBounded: 10,000 attempts from one address, over as many
// user IDs and over one, leave every list at its Keep.
func TestFloodStaysBounded(t *testing.T) {
	n := newNode(t, nil)
	w := &listWatch{Signals: n.sig.Signals}
	n.sig.Signals = w
	ctx := context.Background()
	for i := range 10000 {
		userID := fmt.Sprint("victim", i)
		if i%2 == 1 {
			userID = "alice"
		}
		_, err := n.v.Verify(ctx, mfa.VerifyRequest{UserID: userID, FactorID: "f", Kind: mfa.KindTOTP, Response: "123456", IP: ipAttacker})
		if err == nil {
			t.Fatal("admitted")
		}
		if i%100 == 0 {
			n.clk.Add(time.Second)
		}
	}
	if w.maxList != 64 || w.maxKey > store.MaxSignalKey || w.maxData > store.MaxSignalData {
		t.Fatalf("longest list %d, key %d, record %d", w.maxList, w.maxKey, w.maxData)
	}
	if got := only(n.alerts.take(), monitor.KindSpraying); len(got) != 1 {
		t.Fatalf("spraying alerts: %d", len(got))
	}
	if got := n.sig.calls.Load(); got != 10000 {
		t.Fatalf("%d Observe calls for 10,000 attempts", got)
	}
}

// TestAddresses: spoofed, unknown, private, mapped and IPv6 addresses.
// None fails an attempt by itself; unknown ones have no address list
// and no place; IPv6 addresses count by their /64.
func TestAddresses(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name, ip, wantIP, country string
	}{
		{"empty", "", "", ""},
		{"garbage", "not an address", "", ""},
		{"spoofed X-Forwarded-For list", "198.51.100.7, 10.0.0.1", "", ""},
		{"with a port", "198.51.100.7:443", "", ""},
		{"bracketed", "[2001:db8::1]", "", ""},
		{"very long", strings.Repeat("1", 1000), "", ""},
		{"private", "10.0.0.1", "10.0.0.1", ""},
		{"loopback", "::1", "::1", ""},
		{"IPv4-mapped", "::ffff:198.51.100.7", "198.51.100.7", "US"},
		{"IPv6", "2001:db8:aa::1", "2001:db8:aa::1", "AU"},
		{"IPv6 with a zone", "fe80::1%eth0", "fe80::1", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := newNode(t, nil, func(cfg *monitor.Config) { cfg.SprayUsers = 2 })
			before := n.loc.calls.Load()
			for i := range 2 {
				err := n.mon.Guard()(ctx, mfa.Attempt{UserID: fmt.Sprint("u", i), Kind: mfa.KindTOTP, IP: c.ip})
				switch {
				case c.wantIP == "" && err != nil:
					t.Fatalf("unknown address: %v", err)
				case c.wantIP != "" && i == 1 && !errors.Is(err, monitor.ErrAddressFlagged):
					t.Fatalf("known address, second user: %v", err)
				}
			}
			got := n.alerts.take()
			if c.wantIP == "" {
				if len(got) != 0 || n.loc.calls.Load() != before {
					t.Fatalf("alerts %v; locator called %d times", kindsOf(got), n.loc.calls.Load()-before)
				}
				return
			}
			if len(got) != 1 || got[0].IP != c.wantIP || got[0].Place.Country != c.country {
				t.Fatalf("alerts %+v", got)
			}
		})
	}
	t.Run("one /64", func(t *testing.T) {
		n := newNode(t, nil)
		for i := range 5 {
			err := n.mon.Guard()(ctx, mfa.Attempt{UserID: fmt.Sprint("u", i), IP: fmt.Sprintf("2001:db8:aa:0:%x::1", i+1)})
			if (i == 4) != errors.Is(err, monitor.ErrAddressFlagged) {
				t.Fatalf("attempt %d: %v", i, err)
			}
		}
		for i := range 5 {
			if err := n.mon.Guard()(ctx, mfa.Attempt{UserID: fmt.Sprint("v", i), IP: fmt.Sprintf("2001:db8:aa:%x::1", i+1)}); err != nil {
				t.Fatalf("other /64 %d: %v", i, err)
			}
		}
	})
}

// TestUserIDsCannotForgeKeys: user IDs holding the key scheme's
// separators, escapes, or too long to be keys as they are, each keep a
// history of their own.
func TestUserIDsCannotForgeKeys(t *testing.T) {
	ctx := context.Background()
	n := newNode(t, nil)
	hook := n.mon.SessionHook()
	long := strings.Repeat("x", 300)
	ids := []string{
		"alice", "alice/", "a/alice", "s/alice", "/alice", "alice%", "%61lice", "alice%2F", "ALICE",
		"i/198.51.100.66", "mfa/mon/s/alice", "alice\x00", "alicé",
		strings.Repeat("y", 246), strings.Repeat("y", 247), long + "1", long + "2",
		strings.Repeat("%", 100), strings.Repeat("/", 100),
	}
	// Each signs in once from France.
	for i, id := range ids {
		n.clk.Add(time.Minute)
		if err := hook(ctx, session.Event{Type: session.EventStarted, UserID: id, SessionID: fmt.Sprint("s", i), IP: ipParis}); err != nil {
			t.Fatalf("%q: %v", id, err)
		}
	}
	n.alerts.take()
	// Then each from Germany, three hours on: every one a new country for
	// that user alone; a shared list would have seen Germany already.
	n.clk.Add(3 * time.Hour)
	for i, id := range ids {
		if err := hook(ctx, session.Event{Type: session.EventStarted, UserID: id, SessionID: fmt.Sprint("t", i), IP: ipBerlin}); err != nil {
			t.Fatalf("%q: %v", id, err)
		}
		got := only(n.alerts.take(), monitor.KindNewCountry)
		if len(got) != 1 || got[0].UserID != id {
			t.Fatalf("%q: %+v", id, got)
		}
	}
}

// TestUnknownUser: an attempt that names no user (a passkey sign-in)
// and no address costs no store call.
func TestUnknownUser(t *testing.T) {
	n := newNode(t, nil)
	if err := n.mon.Guard()(context.Background(), mfa.Attempt{Kind: mfa.KindWebAuthn}); err != nil {
		t.Fatal(err)
	}
	if n.sig.calls.Load() != 0 {
		t.Fatalf("%d store calls", n.sig.calls.Load())
	}
	if err := n.mon.Guard()(context.Background(), mfa.Attempt{Kind: mfa.KindWebAuthn, IP: ipParis}); err != nil || n.sig.calls.Load() != 1 {
		t.Fatalf("%v, %d store calls", err, n.sig.calls.Load())
	}
}

// TestConfirmations: enrolment confirmations from one address, by many
// users, flag nothing, but a flagged address cannot confirm.
func TestConfirmations(t *testing.T) {
	ctx := context.Background()
	n := newNode(t, nil)
	for i := range 10 {
		if err := n.mon.Guard()(ctx, mfa.Attempt{UserID: fmt.Sprint("new", i), IP: ipParis, Confirm: true}); err != nil {
			t.Fatalf("confirmation %d: %v", i, err)
		}
	}
	if err := n.mon.Guard()(ctx, mfa.Attempt{UserID: "x", IP: "", Confirm: true}); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		n.mon.Guard()(ctx, mfa.Attempt{UserID: fmt.Sprint("u", i), Kind: mfa.KindTOTP, IP: ipAttacker})
	}
	if err := n.mon.Guard()(ctx, mfa.Attempt{UserID: "u9", IP: ipAttacker, Confirm: true}); !errors.Is(err, monitor.ErrAddressFlagged) {
		t.Fatalf("flagged address: %v", err)
	}
	if got := kindsOf(n.alerts.take()); len(got) != 1 || got[0] != monitor.KindSpraying {
		t.Fatalf("alerts %v", got)
	}
}
