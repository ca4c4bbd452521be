package monitor_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/geo"
	"github.com/mfakit/mfa/internal/testkit"
	"github.com/mfakit/mfa/monitor"
	"github.com/mfakit/mfa/store"
	"github.com/mfakit/mfa/store/memstore"
)

func newLog(t testing.TB, st store.Signals, cfg monitor.AlertLogConfig) *monitor.AlertLog {
	t.Helper()
	l, err := monitor.NewAlertLog(st, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func alertAt(kind monitor.AlertKind, user string, at time.Time) monitor.Alert {
	return monitor.Alert{Kind: kind, Severity: monitor.SeverityWarning, Time: at, UserID: user}
}

func usersOf(as []monitor.Alert) []string {
	var out []string
	for _, a := range as {
		out = append(out, a.UserID)
	}
	return out
}

// TestAlertLogRoundTrip: every field of an alert comes back as written.
func TestAlertLogRoundTrip(t *testing.T) {
	ctx := context.Background()
	clk := testkit.NewClock(testkit.T0)
	l := newLog(t, memstore.New(), monitor.AlertLogConfig{Now: clk.Now})
	full := monitor.Alert{
		Kind: monitor.KindImpossibleTravel, Severity: monitor.SeverityCritical, Time: testkit.T0.Add(-time.Second),
		UserID: "alice", IP: ipNewYork, Place: newYork,
		Evidence: monitor.Evidence{
			Event: "verify.succeeded", Denied: true, FactorID: "f1", FactorKind: mfa.KindTOTP, Users: 7,
			Kinds: []mfa.Kind{mfa.KindTOTP, mfa.KindBackupCodes}, Window: 5 * time.Minute,
			SessionID: "s1", OtherSessionID: "s0", PrevIP: ipParis, PrevPlace: paris, PrevTime: testkit.T0.Add(-time.Hour),
			DistanceKm: 5837, SpeedKmh: math.Inf(1), CaseID: "c1", Actor: "op", Reason: "mfa: wrong code",
		},
	}
	bare := monitor.Alert{Kind: monitor.KindEnrolled, Severity: monitor.SeverityInfo, Time: testkit.T0, UserID: "bob"}
	for _, a := range []monitor.Alert{full, bare} {
		if err := l.Hook()(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	got, err := l.Recent(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("got %d alerts, want 2", len(got))
	}
	if !reflect.DeepEqual(got[0], bare) {
		t.Errorf("newest:\n got %+v\nwant %+v", got[0], bare)
	}
	if !reflect.DeepEqual(got[1], full) {
		t.Errorf("oldest:\n got %+v\nwant %+v", got[1], full)
	}
}

// TestAlertLogOrderBoundExpiry: newest first, at most Keep, and an alert
// is gone once its TTL has passed.
func TestAlertLogOrderBoundExpiry(t *testing.T) {
	ctx := context.Background()
	clk := testkit.NewClock(testkit.T0)
	l := newLog(t, memstore.New(), monitor.AlertLogConfig{Keep: 3, TTL: time.Hour, Now: clk.Now})
	hook := l.Hook()
	for i := range 5 {
		if err := hook(ctx, alertAt(monitor.KindReplay, fmt.Sprint("u", i), clk.Now())); err != nil {
			t.Fatal(err)
		}
		clk.Add(10 * time.Minute)
	}
	// An alert stamped earlier than the newest sorts by its time.
	if err := hook(ctx, alertAt(monitor.KindReplay, "late", testkit.T0.Add(35*time.Minute))); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		after time.Duration
		want  []string
	}{
		{0, []string{"u4", "late", "u3"}},
		// Each expires an hour after it was written: u3 at T0+1h30m, u4
		// at T0+1h40m, late (written at T0+50m) at T0+1h50m.
		{40 * time.Minute, []string{"u4", "late"}},
		{10 * time.Minute, []string{"late"}},
		{10 * time.Minute, nil},
	}
	for _, s := range steps {
		clk.Add(s.after)
		got, err := l.Recent(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(usersOf(got), s.want) {
			t.Fatalf("at %v: got %v, want %v", clk.Now().Sub(testkit.T0), usersOf(got), s.want)
		}
	}
}

// TestAlertLogShared: two logs (two instances) on one store see each
// other's alerts, in time order, and do not touch the monitor's lists.
func TestAlertLogShared(t *testing.T) {
	ctx := context.Background()
	clk := testkit.NewClock(testkit.T0)
	st := memstore.New()
	a := newLog(t, st, monitor.AlertLogConfig{Now: clk.Now})
	b := newLog(t, st, monitor.AlertLogConfig{Now: clk.Now})
	for i, l := range []*monitor.AlertLog{a, b, a} {
		clk.Add(time.Second)
		if err := l.Hook()(ctx, alertAt(monitor.KindLocked, fmt.Sprint("u", i), clk.Now())); err != nil {
			t.Fatal(err)
		}
	}
	for _, l := range []*monitor.AlertLog{a, b} {
		got, err := l.Recent(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"u2", "u1", "u0"}; !reflect.DeepEqual(usersOf(got), want) {
			t.Fatalf("got %v, want %v", usersOf(got), want)
		}
	}
	// The monitor, on the same store, raises and logs an alert; its own
	// lists hold no alert records, or it would fail on them.
	rec := &alerts{}
	m, err := monitor.New(monitor.Config{Store: st, Now: clk.Now, Alerts: []monitor.AlertHook{a.Hook(), rec.hook}})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"ann", "bob", "cat", "dan", "eve"} {
		_ = m.Guard()(ctx, mfa.Attempt{UserID: u, IP: ipAttacker, Kind: mfa.KindTOTP})
	}
	if err := m.Guard()(ctx, mfa.Attempt{UserID: "fay", IP: ipAttacker}); !errors.Is(err, monitor.ErrAddressFlagged) {
		t.Fatalf("guard: %v", err)
	}
	got, err := b.Recent(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 || got[0].Kind != monitor.KindSpraying || got[0].IP != ipAttacker || got[0].Evidence.Users != 5 {
		t.Fatalf("after spraying: %+v", got)
	}
	if len(rec.take()) != 1 {
		t.Fatal("want one spraying alert")
	}
}

// TestAlertLogLargeAlert: an alert whose fields would not fit a record is
// stored cut, each cut field marked, and reads back.
func TestAlertLogLargeAlert(t *testing.T) {
	ctx := context.Background()
	st := &signals{Signals: memstore.New()}
	l := newLog(t, st, monitor.AlertLogConfig{Now: testkit.NewClock(testkit.T0).Now})
	long := strings.Repeat("é", 200) // 400 bytes, two per rune
	many := make([]mfa.Kind, 20)
	for i := range many {
		many[i] = mfa.Kind(long)
	}
	a := monitor.Alert{Kind: monitor.KindRecovery, Severity: monitor.SeverityInfo, Time: testkit.T0, UserID: long, IP: long,
		Place: geo.Place{Country: long, Network: long},
		Evidence: monitor.Evidence{Event: long, FactorID: long, Kinds: many, SessionID: long, OtherSessionID: long,
			PrevIP: long, CaseID: long, Actor: long, Reason: long}}
	if err := l.Hook()(ctx, a); err != nil {
		t.Fatal(err) // memstore refuses Data beyond store.MaxSignalData
	}
	got, err := l.Recent(ctx)
	if err != nil || len(got) != 1 {
		t.Fatalf("recent: %v, %d", err, len(got))
	}
	u := got[0].UserID
	if !strings.HasSuffix(u, "…") || !strings.HasPrefix(long, strings.TrimSuffix(u, "…")) || len(u) > 64 {
		t.Errorf("user ID stored as %q", u)
	}
	if len(got[0].Evidence.Kinds) != 8 {
		t.Errorf("kept %d kinds, want 8", len(got[0].Evidence.Kinds))
	}
	if got[0].Kind != monitor.KindRecovery {
		t.Errorf("kind %q", got[0].Kind)
	}
}

// TestAlertLogBadInput: an alert the log cannot record, a failing store,
// and a record that does not parse are clear errors; nothing is written
// for a refused alert.
func TestAlertLogBadInput(t *testing.T) {
	ctx := context.Background()
	clk := testkit.NewClock(testkit.T0)
	st := &signals{Signals: memstore.New()}
	l := newLog(t, st, monitor.AlertLogConfig{Now: clk.Now})
	for _, a := range []monitor.Alert{
		{Severity: monitor.SeverityInfo, UserID: "alice"},
		{Kind: monitor.KindLocked, Severity: monitor.SeverityCritical + 1},
		{Kind: monitor.KindLocked, Severity: -1},
	} {
		if err := l.Hook()(ctx, a); !errors.Is(err, monitor.ErrInvalidAlert) {
			t.Errorf("hook(%+v) = %v, want ErrInvalidAlert", a, err)
		}
	}
	if n := st.calls.Load(); n != 0 {
		t.Errorf("refused alerts made %d store calls", n)
	}
	if got, err := l.Recent(ctx); err != nil || len(got) != 0 {
		t.Fatalf("recent after refusals: %v, %v", got, err)
	}

	st.fail.Store(true)
	if err := l.Hook()(ctx, alertAt(monitor.KindLocked, "alice", clk.Now())); !errors.Is(err, monitor.ErrUnavailable) || !errors.Is(err, errStoreDown) {
		t.Errorf("hook with the store down: %v", err)
	}
	if _, err := l.Recent(ctx); !errors.Is(err, monitor.ErrUnavailable) {
		t.Errorf("recent with the store down: %v", err)
	}

	for _, c := range []struct {
		name string
		data []byte
		fail bool
	}{
		{"empty", []byte{}, true},
		{"truncated", []byte{'L', 1, 6, 'l', 'o', 'c', 'k'}, true},
		{"unknown severity", append([]byte{'L', 9}, encodedTail()...), true},
		{"trailing bytes", append(append([]byte{'L', 1}, encodedTail()...), 0), true},
		{"well formed", append([]byte{'L', 1}, encodedTail()...), false},
		{"another type", []byte{'?', 1, 2, 3}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := newLog(t, corruptSignals{c.data}, monitor.AlertLogConfig{}).Recent(ctx)
			if c.fail {
				if !errors.Is(err, monitor.ErrUnavailable) || !strings.Contains(err.Error(), "malformed record") || got != nil {
					t.Fatalf("got %v, %v; want a malformed-record error", got, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

// encodedTail is a valid alert record after its type and severity bytes:
// kind "locked", every other field empty or zero.
func encodedTail() []byte {
	b := []byte{6, 'l', 'o', 'c', 'k', 'e', 'd', 0, 0}
	b = append(b, 0, 0, 0)    // place: country, network, no point
	b = append(b, 0, 0, 0, 0) // event, denied, factor ID, factor kind
	b = append(b, 0, 0, 0)    // users, kinds, window
	b = append(b, 0, 0, 0)    // session, other session, prev IP
	b = append(b, 0, 0, 0, 0) // prev place, prev time
	b = append(b, make([]byte, 16)...)
	return append(b, 0, 0, 0) // case, actor, reason
}

func TestNewAlertLogValidates(t *testing.T) {
	st := memstore.New()
	for _, c := range []struct {
		st  store.Signals
		cfg monitor.AlertLogConfig
	}{
		{nil, monitor.AlertLogConfig{}},
		{st, monitor.AlertLogConfig{Keep: -1}},
		{st, monitor.AlertLogConfig{Keep: store.MaxSignalKeep + 1}},
		{st, monitor.AlertLogConfig{TTL: -time.Second}},
	} {
		if _, err := monitor.NewAlertLog(c.st, c.cfg); !errors.Is(err, mfa.ErrConfig) {
			t.Errorf("NewAlertLog(%v, %+v) = %v, want ErrConfig", c.st != nil, c.cfg, err)
		}
	}
}

// FuzzAlertLogRecords: whatever bytes the log's list holds, Recent
// decodes them without panicking, and either fails with ErrUnavailable
// or returns alerts with a kind and a known severity.
func FuzzAlertLogRecords(f *testing.F) {
	f.Add(append([]byte{'L', 1}, encodedTail()...))
	f.Add([]byte{'L'})
	f.Add([]byte{'L', 2, 255})
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := newLog(t, corruptSignals{data}, monitor.AlertLogConfig{}).Recent(context.Background())
		if err != nil {
			if !errors.Is(err, monitor.ErrUnavailable) {
				t.Fatalf("recent: %v", err)
			}
			return
		}
		for _, a := range got {
			if a.Kind == "" || a.Severity < monitor.SeverityInfo || a.Severity > monitor.SeverityCritical {
				t.Fatalf("decoded %+v", a)
			}
		}
	})
}
