package otel_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/internal/testkit"
	mfaotel "github.com/mfakit/mfa/metrics/otel"
	"github.com/mfakit/mfa/session"
	"github.com/mfakit/mfa/store"
	"github.com/mfakit/mfa/store/memstore"
	"github.com/mfakit/mfa/store/timed"
	"github.com/mfakit/mfa/totp"
)

func newMetrics(t *testing.T, c mfaotel.Config) (*mfaotel.Metrics, *sdkmetric.ManualReader) {
	t.Helper()
	reader := sdkmetric.NewManualReader()
	c.MeterProvider = sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	m, err := mfaotel.New(c)
	if err != nil {
		t.Fatal(err)
	}
	return m, reader
}

// collected is one collection: counter points keyed `name{k=v,...}` (keys
// in order), histogram points keyed `name{k=v,...}` too.
type collected struct {
	counters map[string]int64
	hists    map[string]metricdata.HistogramDataPoint[float64]
}

func collect(t *testing.T, r *sdkmetric.ManualReader) collected {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := r.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	c := collected{counters: map[string]int64{}, hists: map[string]metricdata.HistogramDataPoint[float64]{}}
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != mfaotel.ScopeName {
			t.Errorf("scope %q, want %q", sm.Scope.Name, mfaotel.ScopeName)
		}
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				if !d.IsMonotonic {
					t.Errorf("%s is not monotonic", m.Name)
				}
				for _, p := range d.DataPoints {
					c.counters[key(m.Name, p.Attributes.ToSlice())] = p.Value
				}
			case metricdata.Histogram[float64]:
				if m.Unit != "s" {
					t.Errorf("%s unit %q, want s", m.Name, m.Unit)
				}
				for _, p := range d.DataPoints {
					c.hists[key(m.Name, p.Attributes.ToSlice())] = p
				}
			default:
				t.Errorf("%s: unexpected data %T", m.Name, m.Data)
			}
		}
	}
	return c
}

func key(name string, kvs []attribute.KeyValue) string {
	var b strings.Builder
	b.WriteString(name + "{")
	for i, kv := range kvs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(string(kv.Key) + "=" + kv.Value.String())
	}
	return b.String() + "}"
}

// The Verifier flow of the Prometheus adapter's test, recorded through
// OpenTelemetry: the same counts under the same labels.
func TestVerifier(t *testing.T) {
	ctx := context.Background()
	m, reader := newMetrics(t, mfaotel.Config{})
	clock := testkit.NewClock(testkit.T0)
	tick := testkit.NewClock(testkit.T0)
	tm, err := timed.New(timed.Config{Observer: m, Now: func() time.Time { tick.Add(time.Millisecond); return tick.Now() }})
	if err != nil {
		t.Fatal(err)
	}
	tf, err := totp.New(totp.Config{Issuer: "Example"})
	if err != nil {
		t.Fatal(err)
	}
	keyring, err := mfa.NewKeyring(mfa.Key{ID: "k1", Secret: bytes.Repeat([]byte{1}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	v, err := mfa.New(mfa.Config{
		Store: tm.ForVerifier(memstore.New()), Factors: []mfa.Factor{tf}, Sealer: keyring,
		HashKey: bytes.Repeat([]byte{2}, 32), Now: clock.Now, Rand: testkit.Rand(1),
		Hooks:  []mfa.Hook{m.Hook()},
		Limits: mfa.Limits{User: store.Rule{Free: 2, Base: time.Second, Max: time.Second, Cap: 3}},
	})
	if err != nil {
		t.Fatal(err)
	}
	en, err := v.BeginEnrollment(ctx, mfa.EnrollRequest{UserID: "alice", Kind: mfa.KindTOTP})
	if err != nil {
		t.Fatal(err)
	}
	setup, err := mfa.ShowAs[*totp.Setup](en.Show)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.ConfirmEnrollment(ctx, mfa.ConfirmRequest{UserID: "alice", FactorID: en.FactorID, Response: testkit.TOTPCode(t, setup.Secret, clock.Now())}); err != nil {
		t.Fatal(err)
	}
	verify := func(code string, want error) {
		t.Helper()
		_, err := v.Verify(ctx, mfa.VerifyRequest{UserID: "alice", FactorID: en.FactorID, Response: code})
		if !errors.Is(err, want) && !(want == nil && err == nil) {
			t.Fatalf("Verify: %v, want %v", err, want)
		}
	}
	now := clock.Step()
	good := testkit.TOTPCode(t, setup.Secret, now)
	verify(good, nil)
	verify(good, mfa.ErrReplayed)
	verify(testkit.WrongTOTPCode(t, setup.Secret, now), mfa.ErrWrongCode)
	verify(testkit.WrongTOTPCode(t, setup.Secret, now), mfa.ErrRateLimited)
	clock.Add(2 * time.Second)
	verify(testkit.WrongTOTPCode(t, setup.Secret, clock.Now()), mfa.ErrWrongCode)
	verify(testkit.TOTPCode(t, setup.Secret, clock.Step()), mfa.ErrLocked)
	if err := v.RemoveFactor(ctx, mfa.ChangeRequest{UserID: "alice", FactorID: en.FactorID, AuthTime: clock.Now()}); err != nil {
		t.Fatal(err)
	}

	got := collect(t, reader)
	want := map[string]int64{
		"mfa.verifications{kind=none,outcome=locked,reason=locked}":             1,
		"mfa.verifications{kind=none,outcome=rate_limited,reason=rate_limited}": 1,
		"mfa.verifications{kind=totp,outcome=failed,reason=wrong_code}":         2,
		"mfa.verifications{kind=totp,outcome=replay_refused,reason=replayed}":   1,
		"mfa.verifications{kind=totp,outcome=succeeded,reason=none}":            1,
		"mfa.rate_limited{kind=none}":                                           1,
		"mfa.locked{kind=none}":                                                 1,
		"mfa.enrolments{kind=totp,stage=begun}":                                 1,
		"mfa.enrolments{kind=totp,stage=confirmed}":                             1,
		"mfa.factor_removals{kind=totp}":                                        1,
	}
	for k, n := range want {
		if got.counters[k] != n {
			t.Errorf("%s = %d, want %d", k, got.counters[k], n)
		}
	}
	for k := range got.counters {
		if strings.HasPrefix(k, "mfa.verifications{") && want[k] == 0 {
			t.Errorf("unexpected %s = %d", k, got.counters[k])
		}
	}
	for series, count := range map[string]uint64{"Hit,outcome=ok": 7, "Advance,outcome=ok": 2, "DeleteFactor,outcome=ok": 1} {
		p, ok := got.hists["mfa.store.call.duration{op="+series+"}"]
		if !ok {
			t.Errorf("no histogram point op=%s; have %v", series, slices.Sorted(maps.Keys(got.hists)))
			continue
		}
		if p.Count != count || p.Sum != float64(count)*0.001 {
			t.Errorf("op=%s: %d calls, %v s; want %d calls of 1 ms", series, p.Count, p.Sum, count)
		}
		if !slices.Equal(p.Bounds, mfaotel.DefaultBuckets) {
			t.Errorf("bounds %v, want DefaultBuckets", p.Bounds)
		}
	}
}

// A session Manager's events land in sessions and devices.
func TestSessionHook(t *testing.T) {
	ctx := context.Background()
	m, reader := newMetrics(t, mfaotel.Config{})
	key, err := session.GenerateEd25519Key("k1", testkit.Rand(2))
	if err != nil {
		t.Fatal(err)
	}
	keys, err := session.NewKeySet(key)
	if err != nil {
		t.Fatal(err)
	}
	hasher, err := mfa.NewHasher(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	sm, err := session.New(session.Config{
		Issuer: "https://app.example", Audience: "https://app.example",
		Store: memstore.New(), Hasher: hasher, Keys: keys, Now: func() time.Time { return testkit.T0 },
		Hooks: []session.Hook{m.SessionHook()},
	})
	if err != nil {
		t.Fatal(err)
	}
	res := &mfa.Result{UserID: "alice", FactorID: "t1", Kind: mfa.KindTOTP, AMR: []string{"otp"}, AAL: mfa.AAL2, Time: testkit.T0}
	a1, err := sm.Start(ctx, "alice", res)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sm.Start(ctx, "alice", res); err != nil {
		t.Fatal(err)
	}
	if _, err := sm.Refresh(ctx, a1.RefreshToken); err != nil {
		t.Fatal(err)
	}
	if _, err := sm.Refresh(ctx, a1.RefreshToken); !errors.Is(err, session.ErrReused) {
		t.Fatalf("reuse: %v", err)
	}
	if n, err := sm.RevokeUser(ctx, "alice"); err != nil || n != 1 {
		t.Fatalf("RevokeUser: %d, %v", n, err)
	}
	if _, err := sm.Remember(ctx, "alice", "laptop", time.Hour); err != nil {
		t.Fatal(err)
	}
	if n, err := sm.ForgetAllDevices(ctx, "alice"); err != nil || n != 1 {
		t.Fatalf("ForgetAllDevices: %d, %v", n, err)
	}
	got := collect(t, reader).counters
	for k, n := range map[string]int64{
		"mfa.sessions{event=started}":        2,
		"mfa.sessions{event=refreshed}":      1,
		"mfa.sessions{event=reuse_detected}": 1,
		"mfa.sessions{event=revoked}":        1,
		"mfa.devices{event=remembered}":      1,
		"mfa.devices{event=revoked}":         1,
	} {
		if got[k] != n {
			t.Errorf("%s = %d, want %d", k, got[k], n)
		}
	}
}

// Values outside the closed sets are recorded as "other", and no input
// becomes an attribute value.
func TestHostileValuesAreOther(t *testing.T) {
	ctx := context.Background()
	m, reader := newMetrics(t, mfaotel.Config{})
	hostile := []string{"alice@example.com", "192.0.2.1", "totp\n", "TOTP", "mfa: wrong code for alice"}
	for _, h := range hostile {
		if err := m.Hook()(ctx, mfa.Event{Type: mfa.EventVerifyFailed, Kind: mfa.Kind(h), Reason: h, UserID: h, IP: h}); err != nil {
			t.Fatal(err)
		}
		if err := m.Hook()(ctx, mfa.Event{Type: mfa.EventType(h)}); err != nil {
			t.Fatal(err)
		}
		if err := m.SessionHook()(ctx, session.Event{Type: session.EventType(h), UserID: h}); err != nil {
			t.Fatal(err)
		}
		m.Alert(h, h)
		m.ObserveStoreCall(ctx, timed.Call{Op: timed.Op(h), Outcome: timed.Outcome(h)})
	}
	got := collect(t, reader)
	n := int64(len(hostile))
	for k, want := range map[string]int64{
		"mfa.verifications{kind=other,outcome=failed,reason=other}": n,
		"mfa.events{type=other}":                                    n,
		"mfa.sessions{event=other}":                                 n,
		"mfa.alerts{kind=other,severity=other}":                     n,
	} {
		if got.counters[k] != want {
			t.Errorf("%s = %d, want %d", k, got.counters[k], want)
		}
	}
	if p := got.hists["mfa.store.call.duration{op=other,outcome=other}"]; p.Count != uint64(n) {
		t.Errorf("store histogram op=other: %d points, want %d", p.Count, n)
	}
	all := fmt.Sprint(slices.Collect(maps.Keys(got.counters)), slices.Collect(maps.Keys(got.hists)))
	for _, s := range []string{"alice", "192.0.2.1", "TOTP"} {
		if strings.Contains(all, s) {
			t.Errorf("an attribute holds %q: %s", s, all)
		}
	}
}

// Bad Config values are refused with ErrConfig; Prefix, Kinds and
// AlertKinds are honoured.
func TestConfig(t *testing.T) {
	for _, c := range []struct {
		name string
		cfg  mfaotel.Config
	}{
		{"kind other", mfaotel.Config{Kinds: []mfa.Kind{"other"}}},
		{"empty alert kind", mfaotel.Config{AlertKinds: []string{""}}},
		{"buckets not increasing", mfaotel.Config{Buckets: []float64{1, 0.5}}},
		{"zero bucket", mfaotel.Config{Buckets: []float64{0}}},
	} {
		if m, err := mfaotel.New(c.cfg); !errors.Is(err, mfaotel.ErrConfig) || m != nil {
			t.Errorf("%s: New = %v, %v; want ErrConfig", c.name, m, err)
		}
	}
	m, reader := newMetrics(t, mfaotel.Config{Prefix: "app", Kinds: []mfa.Kind{"voice"}, AlertKinds: []string{"custom"}})
	if err := m.Hook()(context.Background(), mfa.Event{Type: mfa.EventFactorRemoved, Kind: "voice"}); err != nil {
		t.Fatal(err)
	}
	m.Alert("custom", "info")
	m.Alert("spraying", "info")
	got := collect(t, reader).counters
	for k, n := range map[string]int64{
		"app.factor_removals{kind=voice}":       1,
		"app.alerts{kind=custom,severity=info}": 1,
		"app.alerts{kind=other,severity=info}":  1,
	} {
		if got[k] != n {
			t.Errorf("%s = %d, want %d", k, got[k], n)
		}
	}
	// The zero Config works: the global provider (a no-op here).
	if _, err := mfaotel.New(mfaotel.Config{}); err != nil {
		t.Errorf("New(zero Config): %v", err)
	}
}
