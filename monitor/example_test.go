package monitor_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/geo"
	"github.com/mfakit/mfa/monitor"
	"github.com/mfakit/mfa/sentcode"
	"github.com/mfakit/mfa/session"
	"github.com/mfakit/mfa/store/memstore"
)

// One address tries six accounts: the fifth is denied, and one alert
// is raised.
func Example() {
	ctx := context.Background()
	now := time.Date(2026, 3, 4, 5, 6, 0, 0, time.UTC)
	mon, err := monitor.New(monitor.Config{
		Store: memstore.New(), // the application's store
		Now:   func() time.Time { return now },
		Alerts: []monitor.AlertHook{func(_ context.Context, a monitor.Alert) error {
			fmt.Printf("alert %s (%s): %d users from %s\n", a.Kind, a.Severity, a.Evidence.Users, a.IP)
			return nil
		}},
	})
	if err != nil {
		panic(err)
	}
	guard := mon.Guard() // mfa.Config.Guard
	for _, user := range []string{"ann", "bob", "cat", "dan", "eve", "fay"} {
		err := guard(ctx, mfa.Attempt{UserID: user, Kind: mfa.KindTOTP, IP: "::ffff:198.51.100.7"})
		fmt.Println(user, err)
	}
	// Output:
	// ann <nil>
	// bob <nil>
	// cat <nil>
	// dan <nil>
	// alert spraying (critical): 5 users from 198.51.100.7
	// eve mfa: address flagged for attempts across many accounts
	// fay mfa: address flagged for attempts across many accounts
}

// A sign-in in Paris, then an attempt from New York half an hour later:
// TOTP is refused with an error the application matches to ask for the
// security key, which is admitted.
func Example_impossibleTravel() {
	ctx := context.Background()
	now := time.Date(2026, 3, 4, 5, 6, 0, 0, time.UTC)
	locate := geo.LocatorFunc(func(_ context.Context, a netip.Addr) (geo.Place, error) {
		if a == netip.MustParseAddr("192.0.2.10") {
			return geo.Place{Country: "FR", Lat: 48.86, Lon: 2.35, HasPoint: true}, nil
		}
		return geo.Place{Country: "US", Lat: 40.71, Lon: -74.01, HasPoint: true}, nil
	})
	mon, err := monitor.New(monitor.Config{
		Store: memstore.New(), Locator: locate, Now: func() time.Time { return now },
		Alerts: []monitor.AlertHook{func(_ context.Context, a monitor.Alert) error {
			fmt.Printf("alert %s: %s to %s, %.0f km\n", a.Kind, a.Evidence.PrevPlace.Country, a.Place.Country, a.Evidence.DistanceKm)
			return nil
		}},
	})
	if err != nil {
		panic(err)
	}
	// session.Config.Hooks reports the sign-in.
	err = mon.SessionHook()(ctx, session.Event{Type: session.EventStarted, UserID: "alice", SessionID: "s1", IP: "192.0.2.10", AAL: mfa.AAL2})
	if err != nil {
		panic(err)
	}
	now = now.Add(30 * time.Minute)
	err = mon.Guard()(ctx, mfa.Attempt{UserID: "alice", Kind: mfa.KindTOTP, IP: "198.51.100.7"})
	if errors.Is(err, monitor.ErrPhishingResistantRequired) {
		fmt.Println("TOTP refused: ask for the security key")
	}
	err = mon.Guard()(ctx, mfa.Attempt{UserID: "alice", Kind: mfa.KindWebAuthn, IP: "198.51.100.7"})
	fmt.Println("security key:", err)
	// Output:
	// alert impossible_travel: FR to US, 5837 km
	// TOTP refused: ask for the security key
	// security key: <nil>
}

// An administrator is emailed when a factor is removed.
func ExampleNotifyAdmin() {
	sender := sentcode.SenderFunc(func(_ context.Context, m sentcode.Message) error {
		fmt.Printf("To: %s\nSubject: %s\n\n%s", m.To, m.Subject, m.Text)
		return nil
	})
	notify, err := monitor.NotifyAdmin(sender, "security@example.com")
	if err != nil {
		panic(err)
	}
	_ = notify(context.Background(), monitor.Alert{
		Kind: monitor.KindMethodChanged, Severity: monitor.SeverityWarning,
		Time: time.Date(2026, 3, 4, 5, 6, 0, 0, time.UTC), UserID: "alice", IP: "192.0.2.10",
		Evidence: monitor.Evidence{Event: string(mfa.EventFactorRemoved), FactorID: "F1", FactorKind: mfa.KindTOTP},
	})
	// Output:
	// To: security@example.com
	// Subject: Security alert: factor removed or codes regenerated
	//
	// Alert: factor removed or codes regenerated (method_changed)
	// Severity: warning
	// Time: 2026-03-04T05:06:00Z
	// User: "alice"
	// Address: "192.0.2.10"
	// event: "factor.removed"
	// factor_id: "F1"
	// factor_kind: "totp"
	//
	// This message was sent by the sign-in monitor. It holds no code and asks for no action by reply.
}

// Every instance's alerts in one list in the store, for an admin page
// served by any instance.
func ExampleAlertLog() {
	ctx := context.Background()
	now := time.Date(2026, 3, 4, 5, 6, 0, 0, time.UTC)
	st := memstore.New() // the application's store
	log, err := monitor.NewAlertLog(st, monitor.AlertLogConfig{Keep: 100, TTL: 7 * 24 * time.Hour, Now: func() time.Time { return now }})
	if err != nil {
		panic(err)
	}
	mon, err := monitor.New(monitor.Config{Store: st, Now: func() time.Time { return now }, Alerts: []monitor.AlertHook{log.Hook()}})
	if err != nil {
		panic(err)
	}
	for _, user := range []string{"ann", "bob", "cat", "dan", "eve"} {
		_ = mon.Guard()(ctx, mfa.Attempt{UserID: user, Kind: mfa.KindTOTP, IP: "198.51.100.7"})
	}
	alerts, err := log.Recent(ctx) // newest first
	if err != nil {
		panic(err)
	}
	for _, a := range alerts {
		fmt.Println(a.Time.Format(time.RFC3339), a.Kind, a.Severity, a.IP, a.Evidence.Users, "users")
	}
	// Output:
	// 2026-03-04T05:06:00Z spraying critical 198.51.100.7 5 users
}
