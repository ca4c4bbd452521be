package monitor_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/internal/testkit"
	"github.com/mfakit/mfa/monitor"
	"github.com/mfakit/mfa/session"
	"github.com/mfakit/mfa/store/memstore"
)

// FuzzGuardInput: whatever user ID, address and kind a request carries,
// the Guard's keys and records stay within the store's bounds (memstore
// refuses any beyond, which would deny with ErrUnavailable) and nothing
// panics.
func FuzzGuardInput(f *testing.F) {
	f.Add("alice", "198.51.100.7", "totp")
	f.Add("", "::ffff:198.51.100.7", "")
	f.Add("a/b%c", "fe80::1%eth0", "webauthn")
	f.Add("\x00\xff", "198.51.100.7, 10.0.0.1", "\n")
	st := memstore.New()
	clk := testkit.NewClock(testkit.T0)
	m, err := monitor.New(monitor.Config{Store: st, Locator: &locator{}, Now: clk.Now, SprayUsers: 256, KeepAddress: 256, AllowTravel: true})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, userID, ip, kind string) {
		clk.Add(time.Second)
		ctx := context.Background()
		err := m.Guard()(ctx, mfa.Attempt{UserID: userID, IP: ip, Kind: mfa.Kind(kind)})
		if err != nil && !errors.Is(err, monitor.ErrAddressFlagged) {
			t.Fatalf("guard: %v", err)
		}
		if userID == "" {
			return
		}
		if err := m.SessionHook()(ctx, session.Event{Type: session.EventStarted, UserID: userID, SessionID: kind, IP: ip}); err != nil {
			t.Fatalf("session hook: %v", err)
		}
	})
}

// FuzzStoredRecords: whatever bytes a list holds, the detectors decode
// them without panicking, and deny (ErrUnavailable) or decide.
func FuzzStoredRecords(f *testing.F) {
	f.Add([]byte{'a', 0, 0, 0, 0, 0, 0, 0, 1, 4, 't', 'o', 't', 'p', 0, 0, 0, 0})
	f.Add([]byte{'g', 0, 0, 0, 0, 0, 0, 0, 1, 1, 's', 0, 2, 'F', 'R', 0, 1})
	f.Add([]byte{'t', 1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})
	f.Add([]byte{'x', 1, 2, 3, 4, 5, 6, 7, 8})
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := monitor.New(monitor.Config{Store: corruptSignals{data}, Locator: &locator{}, Now: testkit.NewClock(testkit.T0).Now})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		err = m.Guard()(ctx, mfa.Attempt{UserID: "alice", IP: ipParis, Kind: mfa.KindTOTP})
		if err != nil && !errors.Is(err, monitor.ErrUnavailable) && !errors.Is(err, monitor.ErrPhishingResistantRequired) && !errors.Is(err, monitor.ErrAddressFlagged) {
			t.Fatalf("guard: %v", err)
		}
		err = m.SessionHook()(ctx, session.Event{Type: session.EventStarted, UserID: "alice", SessionID: "s", IP: ipParis})
		if err != nil && !errors.Is(err, monitor.ErrUnavailable) {
			t.Fatalf("session hook: %v", err)
		}
	})
}
