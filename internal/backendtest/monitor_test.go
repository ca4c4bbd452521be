package backendtest_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/internal/testkit"
	"github.com/mfakit/mfa/monitor"
	"github.com/mfakit/mfa/store"
	"github.com/mfakit/mfa/totp"
)

// alerts collects the alerts of any number of Monitors.
type alerts struct {
	mu   sync.Mutex
	list []monitor.Alert
}

func (a *alerts) hook(_ context.Context, al monitor.Alert) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.list = append(a.list, al)
	return nil
}

func (a *alerts) count(kind monitor.AlertKind) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, al := range a.list {
		if al.Kind == kind {
			n++
		}
	}
	return n
}

// randIP returns a random address in 198.18.0.0/15, so runs on a shared
// database never meet each other's lists.
func randIP() string {
	var b [2]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return fmt.Sprintf("198.%d.%d.%d", 18+b[0]%2, b[1], 1+b[0]%250)
}

// monitoredVerifier is a Verifier on s whose Guard is a Monitor on the
// same store, as one instance of an application would run them.
func monitoredVerifier(tb testing.TB, s mfa.Store, clk *testkit.Clock, sink *alerts) *mfa.Verifier {
	tb.Helper()
	sig, ok := s.(store.Signals)
	if !ok {
		tb.Fatalf("%T keeps no signal lists", s)
	}
	m, err := monitor.New(monitor.Config{Store: sig, Now: clk.Now, Alerts: []monitor.AlertHook{sink.hook}})
	if err != nil {
		tb.Fatal(err)
	}
	return newVerifier(tb, s, clk, mfa.Limits{}, func(c *mfa.Config) {
		c.Guard, c.Hooks = m.Guard(), []mfa.Hook{m.Hook()}
	})
}

// TestMonitorAcrossInstances: two Verifiers, each with its own Monitor,
// on one store of every backend, as two instances of an application.
// Wrong codes for five users from one address, split between the two,
// flag the address once: exactly one spraying alert between them, and
// the fifth attempt and every later one are denied, on either instance,
// before any code is compared.
func TestMonitorAcrossInstances(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			o := b.open(t)
			clk := newClock()
			sink := new(alerts)
			a := monitoredVerifier(t, o.concerns, clk, sink)
			bv := monitoredVerifier(t, o.concerns, clk, sink)
			ctx := context.Background()
			users := make([]string, 6)
			codes := make([]*totp.Setup, len(users))
			fids := make([]string, len(users))
			for i := range users {
				users[i] = randName("spray-")
				fids[i], codes[i] = enrollTOTP(t, a, clk, users[i])
			}
			ip := randIP() // a fresh address per run on a shared database
			for i, u := range users {
				v := a
				if i%2 == 1 {
					v = bv
				}
				_, err := v.Verify(ctx, mfa.VerifyRequest{UserID: u, FactorID: fids[i], IP: ip,
					Response: testkit.WrongTOTPCode(t, codes[i].Secret, clk.Now())})
				switch {
				case i < 4 && !errors.Is(err, mfa.ErrWrongCode):
					t.Fatalf("attempt %d: %v, want a wrong code", i+1, err)
				case i >= 4 && (!errors.Is(err, mfa.ErrDenied) || !errors.Is(err, monitor.ErrAddressFlagged)):
					t.Fatalf("attempt %d: %v, want denied for the flagged address", i+1, err)
				}
				clk.Add(time.Second)
			}
			if n := sink.count(monitor.KindSpraying); n != 1 {
				t.Fatalf("%d spraying alerts between the two instances, want 1", n)
			}
			// The right code from the flagged address is denied too; from
			// another address it is admitted.
			_, err := bv.Verify(ctx, mfa.VerifyRequest{UserID: users[0], FactorID: fids[0], IP: ip,
				Response: testkit.TOTPCode(t, codes[0].Secret, clk.Now())})
			if !errors.Is(err, monitor.ErrAddressFlagged) {
				t.Fatalf("right code from the flagged address: %v", err)
			}
			if _, err := a.Verify(ctx, mfa.VerifyRequest{UserID: users[0], FactorID: fids[0], IP: randIP(),
				Response: testkit.TOTPCode(t, codes[0].Secret, clk.Now())}); err != nil {
				t.Fatalf("right code from another address: %v", err)
			}
		})
	}
}

// TestMonitorWireRoundTrips counts, on the wire, what the monitor's Guard
// adds to a verification on every networked backend: one round trip (on
// a Redis Cluster, one per node its lists hash to, sent at once; on
// MongoDB two, three once a list is full).
func TestMonitorWireRoundTrips(t *testing.T) {
	t.Parallel()
	for _, b := range networked {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			o := b.open(t, true)
			clk := newClock()
			plain := newVerifier(t, o.concerns, clk, mfa.Limits{})
			watched := monitoredVerifier(t, o.concerns, clk, new(alerts))
			ctx := context.Background()
			user := randName("wire-mon-")
			fid, setup := enrollTOTP(t, plain, clk, user)
			ip := randIP()
			verify := func(v *mfa.Verifier, right bool) int64 {
				t.Helper()
				code := testkit.WrongTOTPCode(t, setup.Secret, clk.Now())
				if right {
					code = testkit.TOTPCode(t, setup.Secret, clk.Now())
				}
				o.wire.Take()
				_, err := v.Verify(ctx, mfa.VerifyRequest{UserID: user, FactorID: fid, IP: ip, Response: code})
				n := o.wire.Take()
				if right && err != nil || !right && !errors.Is(err, mfa.ErrWrongCode) {
					t.Fatalf("verify (right code %v): %v", right, err)
				}
				clk.Add(30 * time.Second)
				return n
			}
			// Warm up each path once, then count the fewest of three (three
			// wrong codes each stay under the limits), the two Verifiers
			// taking turns. On a cluster a pipeline to two nodes counts
			// once only if both requests leave before either answer comes
			// back, which a loaded machine can delay; taking turns gives
			// both sides the same chances.
			verify(plain, true)
			verify(watched, true)
			least := func(right bool) (withoutMonitor, withMonitor int64) {
				withoutMonitor, withMonitor = verify(plain, right), verify(watched, right)
				for range 2 {
					withoutMonitor = min(withoutMonitor, verify(plain, right))
					withMonitor = min(withMonitor, verify(watched, right))
				}
				return withoutMonitor, withMonitor
			}
			okPlain, okWatched := least(true)
			wrongPlain, wrongWatched := least(false)
			t.Logf("round trips: success %d without the monitor, %d with; wrong code %d, %d", okPlain, okWatched, wrongPlain, wrongWatched)
			low, limit := int64(1), int64(1)
			switch b.name {
			case "redis-cluster":
				// The user's lists and the address's may sit on three
				// nodes. And on a loaded machine a cluster pipeline can
				// count as two round trips on one side and one on the
				// other (see above), which in CI made both successes 5:
				// only the bound above is asserted here; the single-node
				// backends assert that the monitor adds one.
				low, limit = -3, 3
			case "mongo":
				limit = 4 // read, insert, read again, and a delete once a list is full (see mongostore)
			}
			if d := okWatched - okPlain; d < low || d > limit {
				t.Errorf("the monitor added %d round trips to a success, want 1 (at most %d)", d, limit)
			}
			if d := wrongWatched - wrongPlain; d < low || d > limit {
				t.Errorf("the monitor added %d round trips to a wrong code, want 1 (at most %d)", d, limit)
			}
		})
	}
}
