package prometheus_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	prom "github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/email"
	"github.com/mfakit/mfa/internal/testkit"
	mfaprom "github.com/mfakit/mfa/metrics/prometheus"
	"github.com/mfakit/mfa/push"
	"github.com/mfakit/mfa/session"
	"github.com/mfakit/mfa/store"
	"github.com/mfakit/mfa/store/memstore"
	"github.com/mfakit/mfa/store/timed"
	"github.com/mfakit/mfa/totp"
)

func newMetrics(t *testing.T) (*mfaprom.Metrics, *prom.Registry) {
	t.Helper()
	reg := prom.NewRegistry()
	m, err := mfaprom.New(mfaprom.Config{Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	return m, reg
}

// A real Verifier on a timed memstore: enrolment, a success, a replay,
// wrong codes, a rate limit, a lock and a removal each land in their
// counter with the right labels, and every store call in the histogram.
func TestVerifier(t *testing.T) {
	ctx := context.Background()
	m, reg := newMetrics(t)
	clock := testkit.NewClock(testkit.T0)
	// The timer's clock moves 1 ms at each reading, and reads twice per
	// call, so every call lasts exactly 1 ms.
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
		Hooks: []mfa.Hook{m.Hook()},
		// Two free failures, then a 1 s delay; the third failure locks.
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
	verify(good, mfa.ErrReplayed)                                         // failure 1
	verify(testkit.WrongTOTPCode(t, setup.Secret, now), mfa.ErrWrongCode) // failure 2: delay
	verify(testkit.WrongTOTPCode(t, setup.Secret, now), mfa.ErrRateLimited)
	clock.Add(2 * time.Second)
	verify(testkit.WrongTOTPCode(t, setup.Secret, clock.Now()), mfa.ErrWrongCode) // failure 3: cap
	verify(testkit.TOTPCode(t, setup.Secret, clock.Step()), mfa.ErrLocked)
	if err := v.RemoveFactor(ctx, mfa.ChangeRequest{UserID: "alice", FactorID: en.FactorID, AuthTime: clock.Now()}); err != nil {
		t.Fatal(err)
	}

	// A refusal by a limit comes before the factor is read, so its event
	// carries only the kind the request named: none here.
	want := `
# HELP mfa_verifications_total Verification attempts by factor kind, outcome and reason.
# TYPE mfa_verifications_total counter
mfa_verifications_total{kind="none",outcome="locked",reason="locked"} 1
mfa_verifications_total{kind="none",outcome="rate_limited",reason="rate_limited"} 1
mfa_verifications_total{kind="totp",outcome="failed",reason="wrong_code"} 2
mfa_verifications_total{kind="totp",outcome="replay_refused",reason="replayed"} 1
mfa_verifications_total{kind="totp",outcome="succeeded",reason="none"} 1
# HELP mfa_rate_limited_total Verification attempts refused by a rate-limit delay.
# TYPE mfa_rate_limited_total counter
mfa_rate_limited_total{kind="none"} 1
# HELP mfa_locked_total Verification attempts refused because the second factor is locked.
# TYPE mfa_locked_total counter
mfa_locked_total{kind="none"} 1
# HELP mfa_enrolments_total Factor enrolments begun and confirmed.
# TYPE mfa_enrolments_total counter
mfa_enrolments_total{kind="totp",stage="begun"} 1
mfa_enrolments_total{kind="totp",stage="confirmed"} 1
# HELP mfa_factor_removals_total Factors removed.
# TYPE mfa_factor_removals_total counter
mfa_factor_removals_total{kind="totp"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want),
		"mfa_verifications_total", "mfa_rate_limited_total", "mfa_locked_total", "mfa_enrolments_total", "mfa_factor_removals_total"); err != nil {
		t.Error(err)
	}

	// Every verification made one Hit; each success (the confirmation and
	// the sign-in) one Advance; all lasted 1 ms.
	hist := histograms(t, reg)
	for _, c := range []struct {
		series string
		count  uint64
	}{
		{"Hit/ok", 7},
		{"Advance/ok", 2},
		{"CreateFactor/ok", 1},
		{"DeleteFactor/ok", 1},
	} {
		h, ok := hist[c.series]
		if !ok {
			t.Errorf("no store_call_duration_seconds series %s; have %v", c.series, slices.Sorted(mapKeys(hist)))
			continue
		}
		if h.GetSampleCount() != c.count || h.GetSampleSum() != float64(c.count)*0.001 {
			t.Errorf("%s: %d calls, %v s in all; want %d calls of 1 ms", c.series, h.GetSampleCount(), h.GetSampleSum(), c.count)
		}
		for _, b := range h.GetBucket() {
			if want := c.count * uint64(boolInt(b.GetUpperBound() >= 0.001)); b.GetCumulativeCount() != want {
				t.Errorf("%s: bucket le=%v holds %d, want %d", c.series, b.GetUpperBound(), b.GetCumulativeCount(), want)
			}
		}
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func mapKeys[K comparable, V any](m map[K]V) func(func(K) bool) {
	return func(yield func(K) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// histograms returns the store histogram's series, keyed "op/outcome".
func histograms(t *testing.T, g prom.Gatherer) map[string]*dto.Histogram {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*dto.Histogram{}
	for _, mf := range mfs {
		if mf.GetName() != "mfa_store_call_duration_seconds" {
			continue
		}
		for _, metric := range mf.GetMetric() {
			l := map[string]string{}
			for _, p := range metric.GetLabel() {
				l[p.GetName()] = p.GetValue()
			}
			out[l["op"]+"/"+l["outcome"]] = metric.GetHistogram()
		}
	}
	return out
}

// A real session Manager: starts, a refresh, a reuse, a step-up and
// revocations (one session, and all of a user's) land in sessions_total,
// remembered and forgotten devices in devices_total.
func TestSessionHook(t *testing.T) {
	ctx := context.Background()
	m, reg := newMetrics(t)
	now := testkit.T0
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
		Store: memstore.New(), Hasher: hasher, Keys: keys, Now: func() time.Time { return now },
		Hooks: []session.Hook{m.SessionHook()},
	})
	if err != nil {
		t.Fatal(err)
	}
	res := func(user string) *mfa.Result {
		return &mfa.Result{UserID: user, FactorID: "t1", Kind: mfa.KindTOTP, AMR: []string{"otp"}, AAL: mfa.AAL2, Time: now}
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	a1, err := sm.Start(ctx, "alice", res("alice"))
	must(err)
	a2, err := sm.Start(ctx, "alice", res("alice"))
	must(err)
	b1, err := sm.Start(ctx, "bob", res("bob"))
	must(err)
	_, err = sm.Refresh(ctx, a1.RefreshToken)
	must(err)
	if _, err := sm.Refresh(ctx, a1.RefreshToken); !errors.Is(err, session.ErrReused) {
		t.Fatalf("reused refresh token: %v, want ErrReused", err)
	}
	stepped := res("alice")
	stepped.AMR, stepped.AAL, stepped.Kind = []string{"hwk"}, mfa.AAL3, mfa.KindWebAuthn
	_, err = sm.StepUp(ctx, a2.RefreshToken, stepped)
	must(err)
	must(sm.RevokeToken(ctx, b1.RefreshToken))
	n, err := sm.RevokeUser(ctx, "alice") // a2 only: a1 went with the reuse
	must(err)
	if n != 1 {
		t.Fatalf("RevokeUser ended %d sessions, want 1", n)
	}
	tok, err := sm.Remember(ctx, "alice", "laptop", time.Hour)
	must(err)
	_ = tok
	_, err = sm.Remember(ctx, "alice", "phone", time.Hour)
	must(err)
	_, err = sm.Remember(ctx, "alice", "tablet", time.Hour)
	must(err)
	devs, err := sm.Devices(ctx, "alice")
	must(err)
	must(sm.ForgetDevice(ctx, "alice", devs[0].ID))
	n, err = sm.ForgetAllDevices(ctx, "alice")
	must(err)
	if n != 2 {
		t.Fatalf("ForgetAllDevices ended %d, want 2", n)
	}
	want := `
# HELP mfa_sessions_total Session events; a user-wide revocation adds the sessions it ended.
# TYPE mfa_sessions_total counter
mfa_sessions_total{event="refreshed"} 1
mfa_sessions_total{event="reuse_detected"} 1
mfa_sessions_total{event="revoked"} 2
mfa_sessions_total{event="started"} 3
mfa_sessions_total{event="stepped_up"} 1
# HELP mfa_devices_total Remembered-device events; a user-wide revocation adds the devices it ended.
# TYPE mfa_devices_total counter
mfa_devices_total{event="remembered"} 3
mfa_devices_total{event="revoked"} 3
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "mfa_sessions_total", "mfa_devices_total"); err != nil {
		t.Error(err)
	}
}

// Values outside the closed sets (a kind, reason, event type, alert kind,
// severity or store operation a client or a bug could have chosen) are
// counted under "other", never under themselves: nothing a client sends
// becomes a label value.
func TestHostileValuesAreOther(t *testing.T) {
	ctx := context.Background()
	m, reg := newMetrics(t)
	hostile := []string{"alice@example.com", "192.0.2.1", "totp\n", "TOTP", "x\"}", "mfa: wrong code for alice", "verify.failed "}
	hook, shook := m.Hook(), m.SessionHook()
	for _, h := range hostile {
		for _, e := range []mfa.Event{
			{Type: mfa.EventVerifyFailed, Kind: mfa.Kind(h), Reason: h, UserID: h, IP: h, FactorID: h},
			{Type: mfa.EventType(h), Kind: mfa.KindTOTP, UserID: h},
			{Type: mfa.EventEnrollBegun, Kind: mfa.Kind(h)},
		} {
			if err := hook(ctx, e); err != nil {
				t.Fatalf("Hook returned %v; it must never deny", err)
			}
		}
		if err := shook(ctx, session.Event{Type: session.EventType(h), UserID: h, IP: h}); err != nil {
			t.Fatalf("SessionHook returned %v; it must never deny", err)
		}
		m.Alert(h, h)
		m.Alert("spraying", h)
		m.ObserveStoreCall(ctx, timed.Call{Op: timed.Op(h), Outcome: timed.Outcome(h), Duration: time.Millisecond})
	}
	n := float64(len(hostile))
	for _, c := range []struct {
		name string
		got  float64
		want float64
	}{
		{"verifications{other,failed,other}", counterValue(t, reg, "mfa_verifications_total", "kind", "other", "outcome", "failed", "reason", "other"), n},
		{"events{type=other}", counterValue(t, reg, "mfa_events_total", "type", "other"), n},
		{"enrolments{other,begun}", counterValue(t, reg, "mfa_enrolments_total", "kind", "other", "stage", "begun"), n},
		{"sessions{other}", counterValue(t, reg, "mfa_sessions_total", "event", "other"), n},
		{"alerts{other,other}", counterValue(t, reg, "mfa_alerts_total", "kind", "other", "severity", "other"), n},
		{"alerts{spraying,other}", counterValue(t, reg, "mfa_alerts_total", "kind", "spraying", "severity", "other"), n},
	} {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if h := histograms(t, reg)["other/other"]; h.GetSampleCount() != uint64(n) {
		t.Errorf("store_call_duration_seconds{op=other,outcome=other} has %d samples, want %v", h.GetSampleCount(), n)
	}
	// No hostile string is a label value, and no user or address appears
	// anywhere in the exposition.
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, metric := range mf.GetMetric() {
			for _, p := range metric.GetLabel() {
				if slices.Contains(hostile, p.GetValue()) {
					t.Errorf("%s has a series labelled %s=%q", mf.GetName(), p.GetName(), p.GetValue())
				}
			}
		}
	}
	body := scrape(t, m.Handler())
	if strings.Contains(body, "alice") || strings.Contains(body, "192.0.2.1") {
		t.Errorf("/metrics names a user or an address:\n%s", body)
	}
}

// counterValue reads one counter series from g.
func counterValue(t *testing.T, g prom.Gatherer, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	series:
		for _, metric := range mf.GetMetric() {
			l := map[string]string{}
			for _, p := range metric.GetLabel() {
				l[p.GetName()] = p.GetValue()
			}
			for i := 0; i < len(labels); i += 2 {
				if l[labels[i]] != labels[i+1] {
					continue series
				}
			}
			return metric.GetCounter().GetValue()
		}
	}
	return 0
}

func scrape(t *testing.T, h http.Handler) string {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	if w.Code != http.StatusOK {
		t.Fatalf("GET /metrics: %d", w.Code)
	}
	b, _ := io.ReadAll(w.Body)
	return string(b)
}

// Every kind, event type and alert kind the library defines is counted
// under its own name, not "other".
func TestKnownValuesKeepTheirNames(t *testing.T) {
	ctx := context.Background()
	m, reg := newMetrics(t)
	kinds := []mfa.Kind{mfa.KindTOTP, mfa.KindBackupCodes, mfa.KindWebAuthn, email.Kind, "sms", push.Kind} // package sms is a module of its own
	types := []mfa.EventType{
		mfa.EventEnrollBegun, mfa.EventEnrollConfirmed, mfa.EventFactorRemoved, mfa.EventChallengeIssued,
		mfa.EventChallengeResent, mfa.EventIssueFailed, mfa.EventIssueCapped, mfa.EventVerifySucceeded,
		mfa.EventVerifyFailed, mfa.EventReplayRefused, mfa.EventRateLimited, mfa.EventLocked, mfa.EventUnlocked,
		mfa.EventCodesRegenerated, mfa.EventBackupCodeUsed, mfa.EventBackupCodesLow, mfa.EventSignCountRegressed,
		email.EventUsed, "sms.restricted_used", push.EventSuspectedFraud, push.EventPaused,
	}
	reasons := []error{
		mfa.ErrInvalidInput, mfa.ErrMalformedResponse, mfa.ErrWrongCode, mfa.ErrReplayed, mfa.ErrRateLimited,
		mfa.ErrLocked, mfa.ErrExpired, mfa.ErrChallengeMismatch, mfa.ErrNotFound, mfa.ErrNotEnrolled,
		mfa.ErrUnsupportedKind, mfa.ErrStepUpRequired, mfa.ErrSealed, mfa.ErrDenied, mfa.ErrStore,
		mfa.ErrConfig, mfa.ErrInternal,
	}
	hook := m.Hook()
	for _, k := range kinds {
		for _, typ := range types {
			if err := hook(ctx, mfa.Event{Type: typ, Kind: k}); err != nil {
				t.Fatal(err)
			}
		}
		for _, r := range reasons {
			if err := hook(ctx, mfa.Event{Type: mfa.EventVerifyFailed, Kind: k, Reason: r.Error()}); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, op := range timed.Ops() {
		for _, o := range timed.Outcomes() {
			m.ObserveStoreCall(ctx, timed.Call{Op: op, Outcome: o})
		}
	}
	for _, k := range []string{"spraying", "method_switching", "new_country", "new_network", "impossible_travel",
		"simultaneous_sessions", "rate_limited", "locked", "replay", "clone_suspected", "token_reuse", "enrolled",
		"method_changed", "recovery"} {
		for _, s := range []string{"info", "warning", "critical"} {
			m.Alert(k, s)
		}
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	series := 0
	for _, mf := range mfs {
		for _, metric := range mf.GetMetric() {
			series++
			for _, p := range metric.GetLabel() {
				if p.GetValue() == "other" {
					t.Errorf("%s has a series labelled %s=other", mf.GetName(), p.GetName())
				}
			}
		}
	}
	if series == 0 {
		t.Fatal("nothing was counted")
	}
}

// Alerts are counted by kind and severity.
func TestAlert(t *testing.T) {
	m, reg := newMetrics(t)
	m.Alert("impossible_travel", "critical")
	m.Alert("impossible_travel", "critical")
	m.Alert("new_country", "warning")
	want := `
# HELP mfa_alerts_total Monitoring alerts by kind and severity.
# TYPE mfa_alerts_total counter
mfa_alerts_total{kind="impossible_travel",severity="critical"} 2
mfa_alerts_total{kind="new_country",severity="warning"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "mfa_alerts_total"); err != nil {
		t.Error(err)
	}
}

// Config: extra kinds and alert kinds keep their names; bad values are
// refused with ErrConfig; a registration that fails leaves nothing
// behind.
func TestConfig(t *testing.T) {
	ctx := context.Background()
	reg := prom.NewRegistry()
	m, err := mfaprom.New(mfaprom.Config{Registerer: reg, Namespace: "app", Kinds: []mfa.Kind{"sms_voice"}, AlertKinds: []string{"custom"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Hook()(ctx, mfa.Event{Type: mfa.EventFactorRemoved, Kind: "sms_voice"}); err != nil {
		t.Fatal(err)
	}
	m.Alert("custom", "info")
	m.Alert("spraying", "info") // not in this Config's AlertKinds
	if got := counterValue(t, reg, "app_factor_removals_total", "kind", "sms_voice"); got != 1 {
		t.Errorf("app_factor_removals_total{kind=sms_voice} = %v, want 1", got)
	}
	if got := counterValue(t, reg, "app_alerts_total", "kind", "custom", "severity", "info"); got != 1 {
		t.Errorf("app_alerts_total{kind=custom} = %v, want 1", got)
	}
	if got := counterValue(t, reg, "app_alerts_total", "kind", "other", "severity", "info"); got != 1 {
		t.Errorf("app_alerts_total{kind=other} = %v, want 1", got)
	}

	for _, c := range []struct {
		name string
		cfg  mfaprom.Config
	}{
		{"kind other", mfaprom.Config{Kinds: []mfa.Kind{"other"}}},
		{"kind none", mfaprom.Config{Kinds: []mfa.Kind{"none"}}},
		{"empty kind", mfaprom.Config{Kinds: []mfa.Kind{""}}},
		{"kind with a space", mfaprom.Config{Kinds: []mfa.Kind{"a b"}}},
		{"long alert kind", mfaprom.Config{AlertKinds: []string{strings.Repeat("a", 65)}}},
		{"buckets not increasing", mfaprom.Config{Buckets: []float64{0.1, 0.1}}},
		{"negative bucket", mfaprom.Config{Buckets: []float64{-1}}},
	} {
		c.cfg.Registerer = prom.NewRegistry()
		if m, err := mfaprom.New(c.cfg); !errors.Is(err, mfaprom.ErrConfig) || m != nil {
			t.Errorf("%s: New = %v, %v; want ErrConfig", c.name, m, err)
		}
	}

	// A name taken in the registry: New fails and unregisters what it had
	// registered, so the registry holds only the earlier collector.
	reg = prom.NewRegistry()
	taken := prom.NewCounter(prom.CounterOpts{Namespace: "mfa", Name: "alerts_total", Help: "taken"})
	reg.MustRegister(taken)
	if m, err := mfaprom.New(mfaprom.Config{Registerer: reg}); err == nil || m != nil {
		t.Fatalf("New on a registry with mfa_alerts_total taken = %v, %v; want an error", m, err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	if len(mfs) != 1 || mfs[0].GetName() != "mfa_alerts_total" {
		t.Errorf("after a failed New the registry holds %d families, want only the one taken", len(mfs))
	}
	if _, err := mfaprom.New(mfaprom.Config{Registerer: reg, Namespace: "other"}); err != nil {
		t.Errorf("New with another namespace on the same registry: %v", err)
	}
}

// Handler serves the registry in the exposition format.
func TestHandler(t *testing.T) {
	m, _ := newMetrics(t)
	m.Alert("spraying", "critical")
	body := scrape(t, m.Handler())
	if !strings.Contains(body, `mfa_alerts_total{kind="spraying",severity="critical"} 1`) {
		t.Errorf("/metrics lacks the alert:\n%s", body)
	}
}

// Counting costs no allocation: the store observer and the hooks run on
// every verification.
func TestAllocs(t *testing.T) {
	ctx := context.Background()
	m, _ := newMetrics(t)
	call := timed.Call{Op: timed.OpHit, Outcome: timed.OK, Duration: time.Millisecond}
	hook, shook := m.Hook(), m.SessionHook()
	events := []mfa.Event{
		{Type: mfa.EventVerifySucceeded, Kind: mfa.KindTOTP, UserID: "alice"},
		{Type: mfa.EventVerifyFailed, Kind: mfa.KindTOTP, Reason: mfa.ErrWrongCode.Error()},
		{Type: mfa.EventLocked, Reason: mfa.ErrLocked.Error()},
	}
	sev := session.Event{Type: session.EventRefreshed, UserID: "alice"}
	run := func() {
		m.ObserveStoreCall(ctx, call)
		for _, e := range events {
			_ = hook(ctx, e)
		}
		_ = shook(ctx, sev)
		m.Alert("spraying", "critical")
	}
	run() // the series exist from here on
	if n := testing.AllocsPerRun(100, run); n != 0 {
		t.Errorf("%v allocations per round of events, want 0", n)
	}
}

// Hooks and the observer are safe for concurrent use, and lose no count.
func TestConcurrent(t *testing.T) {
	ctx := context.Background()
	m, reg := newMetrics(t)
	const goroutines, each = 8, 500
	done := make(chan struct{})
	for range goroutines {
		go func() {
			defer func() { done <- struct{}{} }()
			for range each {
				_ = m.Hook()(ctx, mfa.Event{Type: mfa.EventVerifyFailed, Kind: mfa.KindTOTP, Reason: mfa.ErrWrongCode.Error()})
				m.ObserveStoreCall(ctx, timed.Call{Op: timed.OpHit, Outcome: timed.OK})
			}
		}()
	}
	for range goroutines {
		<-done
	}
	if got := counterValue(t, reg, "mfa_verifications_total", "kind", "totp", "outcome", "failed", "reason", "wrong_code"); got != goroutines*each {
		t.Errorf("verifications = %v, want %d", got, goroutines*each)
	}
	if got := histograms(t, reg)["Hit/ok"].GetSampleCount(); got != goroutines*each {
		t.Errorf("store histogram holds %d samples, want %d", got, goroutines*each)
	}
}
