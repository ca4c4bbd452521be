package monitor_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/internal/testkit"
	"github.com/mfakit/mfa/monitor"
	"github.com/mfakit/mfa/session"
	"github.com/mfakit/mfa/store/memstore"
)

// BenchmarkGuard times one Guard call on memstore: the encoding, the
// one Observe and the detectors over full lists (32 attempts, 32
// sign-ins, 64 address records), without the store's network time.
func BenchmarkGuard(b *testing.B) {
	ctx := context.Background()
	clk := testkit.NewClock(testkit.T0)
	m, err := monitor.New(monitor.Config{Store: memstore.New(), Locator: &locator{}, Now: clk.Now, SprayUsers: 64, AllowTravel: true})
	if err != nil {
		b.Fatal(err)
	}
	for i := range 32 {
		if err := m.SessionHook()(ctx, session.Event{Type: session.EventStarted, UserID: "alice", SessionID: fmt.Sprint("s", i), IP: ipParis}); err != nil {
			b.Fatal(err)
		}
	}
	g := m.Guard()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		if err := g(ctx, mfa.Attempt{UserID: "alice", Kind: mfa.KindTOTP, IP: ipParis}); err != nil {
			b.Fatal(err)
		}
	}
}
