package monitor_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/geo"
	"github.com/mfakit/mfa/internal/testkit"
	"github.com/mfakit/mfa/monitor"
	"github.com/mfakit/mfa/session"
	"github.com/mfakit/mfa/store"
)

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("entropy source unavailable") }

// TestFailuresDeny: a failing store, locator or random source denies a
// right code before it is compared, and refuses a session.
func TestFailuresDeny(t *testing.T) {
	cases := map[string]struct {
		edit   func(*monitor.Config)
		break_ func(*node)
		cause  error
	}{
		"store":   {break_: func(n *node) { n.sig.fail.Store(true) }, cause: errStoreDown},
		"locator": {break_: func(n *node) { n.loc.fail.Store(true) }, cause: geo.ErrUnavailable},
		"rand":    {edit: func(c *monitor.Config) { c.Rand = failingReader{} }},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			n := newNode(t, nil)
			u := n.enroll(t, "alice")
			n.signIn(t, u, mfa.KindTOTP, ipParis)
			n.clk.Add(time.Minute)
			res, err := n.verify(t, u, mfa.KindTOTP, ipParis, true)
			if err != nil {
				t.Fatal(err)
			}
			if c.edit != nil {
				cfg := monitor.Config{Store: n.sig, Locator: n.loc, Now: n.clk.Now}
				c.edit(&cfg)
				m, err := monitor.New(cfg)
				if err != nil {
					t.Fatal(err)
				}
				n.mon = m
			} else {
				c.break_(n)
			}
			n.clk.Add(time.Minute)
			err = n.mon.Guard()(context.Background(), mfa.Attempt{UserID: u.id, Kind: mfa.KindTOTP, IP: ipParis})
			if !errors.Is(err, monitor.ErrUnavailable) || (c.cause != nil && !errors.Is(err, c.cause)) {
				t.Fatalf("guard: %v", err)
			}
			if c.edit == nil {
				// Through the Verifier: denied, and the code is still
				// good once the store is back (nothing was consumed).
				_, err := n.verify(t, u, mfa.KindTOTP, ipParis, true)
				if !errors.Is(err, mfa.ErrDenied) || !errors.Is(err, monitor.ErrUnavailable) {
					t.Fatalf("verify: %v", err)
				}
				n.sig.fail.Store(false)
				n.loc.fail.Store(false)
				if _, err := n.verify(t, u, mfa.KindTOTP, ipParis, true); err != nil {
					t.Fatalf("after recovery: %v", err)
				}
				c.break_(n)
			}
			err = n.mon.SessionHook()(context.Background(), session.Event{Type: session.EventStarted, UserID: u.id, SessionID: "s", IP: ipParis, AAL: res.AAL})
			if !errors.Is(err, monitor.ErrUnavailable) {
				t.Fatalf("session hook: %v", err)
			}
		})
	}
	t.Run("session refused", func(t *testing.T) {
		n := newNode(t, nil)
		u := n.enroll(t, "alice")
		res, err := n.verify(t, u, mfa.KindTOTP, ipParis, true)
		if err != nil {
			t.Fatal(err)
		}
		n.sig.fail.Store(true)
		if tok, err := n.sessions.Start(context.Background(), u.id, res); tok != nil || !errors.Is(err, monitor.ErrUnavailable) {
			t.Fatalf("Start = %v, %v", tok, err)
		}
	})
}

// corruptSignals returns a malformed record in every list.
type corruptSignals struct{ data []byte }

func (c corruptSignals) Observe(_ context.Context, now time.Time, sights ...store.Sighting) ([][]store.Signal, error) {
	lists := make([][]store.Signal, len(sights))
	for i := range lists {
		lists[i] = []store.Signal{{Time: now, Expires: now.Add(time.Hour), Data: c.data}}
	}
	return lists, nil
}

// TestCorruptRecordsDeny: a record that does not parse denies; one of a
// type this version does not know is skipped.
func TestCorruptRecordsDeny(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		name string
		data []byte
		deny bool
	}{
		{"truncated attempt", []byte{'a', 1, 2}, true},
		{"trailing bytes", append([]byte{'t'}, make([]byte, 8+12+1)...), true},
		{"empty", []byte{}, true},
		{"unknown type", []byte{'?', 1, 2, 3, 4, 5, 6, 7, 8}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			m, err := monitor.New(monitor.Config{Store: corruptSignals{c.data}, Now: testkit.NewClock(testkit.T0).Now})
			if err != nil {
				t.Fatal(err)
			}
			err = m.Guard()(ctx, mfa.Attempt{UserID: "alice", IP: ipParis})
			if c.deny != errors.Is(err, monitor.ErrUnavailable) || (!c.deny && err != nil) {
				t.Fatalf("guard: %v", err)
			}
			err = m.SessionHook()(ctx, session.Event{Type: session.EventStarted, UserID: "alice", SessionID: "s", IP: ipParis})
			if c.deny != errors.Is(err, monitor.ErrUnavailable) || (!c.deny && err != nil) {
				t.Fatalf("session hook: %v", err)
			}
		})
	}
}

// TestShortStoreAnswer: a store that returns fewer lists than asked
// denies.
func TestShortStoreAnswer(t *testing.T) {
	m, err := monitor.New(monitor.Config{Store: shortSignals{}})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Guard()(context.Background(), mfa.Attempt{UserID: "alice", IP: ipParis}); !errors.Is(err, monitor.ErrUnavailable) {
		t.Fatalf("guard: %v", err)
	}
}

type shortSignals struct{}

func (shortSignals) Observe(context.Context, time.Time, ...store.Sighting) ([][]store.Signal, error) {
	return [][]store.Signal{{}}, nil
}

// TestAlertHookErrors: by default a failing alert hook changes no
// decision and is reported; with DenyOnAlertError it denies the attempt
// that raised the alert and refuses what an event reports.
func TestAlertHookErrors(t *testing.T) {
	errHook := errors.New("webhook down")
	failing := func(context.Context, monitor.Alert) error { return errHook }
	var mu sync.Mutex
	var reported []monitor.AlertKind
	report := func(_ context.Context, a monitor.Alert, err error) {
		mu.Lock()
		defer mu.Unlock()
		if errors.Is(err, errHook) {
			reported = append(reported, a.Kind)
		}
	}
	ctx := context.Background()
	t.Run("default", func(t *testing.T) {
		n := newNode(t, nil, func(c *monitor.Config) {
			c.Alerts = append([]monitor.AlertHook{failing}, c.Alerts...)
			c.AlertErrors = report
		})
		u := n.enroll(t, "alice")
		n.signIn(t, u, mfa.KindTOTP, ipParis)
		mu.Lock()
		reported = nil
		mu.Unlock()
		n.clk.Add(30 * time.Minute)
		// Travel is still denied for TOTP and admitted for the key.
		if _, err := n.verify(t, u, mfa.KindTOTP, ipNewYork, true); !errors.Is(err, monitor.ErrPhishingResistantRequired) || errors.Is(err, monitor.ErrAlertUndelivered) {
			t.Fatalf("TOTP: %v", err)
		}
		if _, err := n.verify(t, u, mfa.KindWebAuthn, ipNewYork, true); err != nil {
			t.Fatalf("key: %v", err)
		}
		if err := n.mon.Hook()(ctx, mfa.Event{Type: mfa.EventLocked, UserID: "alice"}); err != nil {
			t.Fatalf("hook: %v", err)
		}
		mu.Lock()
		defer mu.Unlock()
		if len(reported) != 2 || reported[0] != monitor.KindImpossibleTravel || reported[1] != monitor.KindLocked {
			t.Fatalf("reported %v", reported)
		}
		// The other hooks still got every alert.
		if got := kindsOf(n.alerts.take()); len(got) != 2 || got[0] != monitor.KindImpossibleTravel || got[1] != monitor.KindLocked {
			t.Fatalf("delivered %v", got)
		}
	})
	t.Run("deny", func(t *testing.T) {
		var broken atomic.Bool
		n := newNode(t, nil, func(c *monitor.Config) {
			c.Alerts = []monitor.AlertHook{func(ctx context.Context, a monitor.Alert) error {
				if broken.Load() {
					return errHook
				}
				return nil
			}}
			c.AlertErrors = func(context.Context, monitor.Alert, error) {}
			c.DenyOnAlertError = true
		})
		u := n.enroll(t, "alice")
		n.signIn(t, u, mfa.KindTOTP, ipParis)
		broken.Store(true)
		n.clk.Add(30 * time.Minute)
		if _, err := n.verify(t, u, mfa.KindWebAuthn, ipNewYork, true); !errors.Is(err, monitor.ErrAlertUndelivered) || !errors.Is(err, errHook) {
			t.Fatalf("key after travel: %v", err)
		}
		// No alert, no denial.
		n.clk.Add(time.Hour)
		if _, err := n.verify(t, u, mfa.KindWebAuthn, ipParis, true); err != nil {
			t.Fatalf("no alert: %v", err)
		}
		if err := n.mon.Hook()(ctx, mfa.Event{Type: mfa.EventFactorRemoved, UserID: "alice"}); !errors.Is(err, monitor.ErrAlertUndelivered) {
			t.Fatalf("hook: %v", err)
		}
		if err := n.mon.Hook()(ctx, mfa.Event{Type: mfa.EventVerifySucceeded, UserID: "alice"}); err != nil {
			t.Fatalf("hook, no alert: %v", err)
		}
	})
	t.Run("default reporter logs", func(t *testing.T) {
		var buf bytes.Buffer
		old := slog.Default()
		slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
		defer slog.SetDefault(old)
		m, err := monitor.New(monitor.Config{Store: &signals{}, Alerts: []monitor.AlertHook{failing}})
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Hook()(ctx, mfa.Event{Type: mfa.EventLocked, UserID: "alice"}); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(buf.String(), "alert not delivered") || !strings.Contains(buf.String(), "webhook down") {
			t.Fatalf("log: %s", buf.String())
		}
	})
}

// TestRoundTrips counts store calls: the Guard makes exactly one Observe
// per attempt, whatever its outcome; the event hooks make none; a
// session start one.
func TestRoundTrips(t *testing.T) {
	n := newNode(t, nil)
	u := n.enroll(t, "alice")
	ctx := context.Background()
	count := func(what string, want int64, f func()) {
		t.Helper()
		before := n.sig.calls.Load()
		f()
		if got := n.sig.calls.Load() - before; got != want {
			t.Fatalf("%s: %d Observe calls, want %d", what, got, want)
		}
	}
	var res *mfa.Result
	count("successful verification", 1, func() {
		var err error
		if res, err = n.verify(t, u, mfa.KindTOTP, ipParis, true); err != nil {
			t.Fatal(err)
		}
	})
	count("session start", 1, func() {
		if _, err := n.sessions.Start(ctx, u.id, res); err != nil {
			t.Fatal(err)
		}
	})
	count("failed verification", 1, func() { n.verify(t, u, mfa.KindTOTP, ipParis, false) })
	count("verification without an address", 1, func() { n.verify(t, u, mfa.KindTOTP, "", false) })
	count("denied verification", 1, func() {
		n.clk.Add(10 * time.Minute)
		if _, err := n.verify(t, u, mfa.KindTOTP, ipNewYork, true); !errors.Is(err, mfa.ErrDenied) {
			t.Fatal(err)
		}
	})
	count("event hooks", 0, func() {
		for _, ty := range []mfa.EventType{mfa.EventLocked, mfa.EventRateLimited, mfa.EventEnrollConfirmed, mfa.EventFactorRemoved, mfa.EventVerifyFailed} {
			if err := n.mon.Hook()(ctx, mfa.Event{Type: ty, UserID: "alice", IP: ipParis}); err != nil {
				t.Fatal(err)
			}
		}
		if err := n.mon.SessionHook()(ctx, session.Event{Type: session.EventReuseDetected, UserID: "alice"}); err != nil {
			t.Fatal(err)
		}
		if err := n.mon.SessionHook()(ctx, session.Event{Type: session.EventRefreshed, UserID: "alice"}); err != nil {
			t.Fatal(err)
		}
	})
	count("confirmation", 1, func() {
		if err := n.mon.Guard()(ctx, mfa.Attempt{UserID: u.id, IP: ipParis, Confirm: true}); err != nil {
			t.Fatal(err)
		}
	})
	count("confirmation without an address", 0, func() {
		if err := n.mon.Guard()(ctx, mfa.Attempt{UserID: u.id, Confirm: true}); err != nil {
			t.Fatal(err)
		}
	})
	count("revocation", 1, func() {
		if _, err := n.sessions.RevokeUser(ctx, u.id); err != nil {
			t.Fatal(err)
		}
	})
}
