package prometheus_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"time"

	otptotp "github.com/pquerna/otp/totp"
	prom "github.com/prometheus/client_golang/prometheus"

	"github.com/mfakit/mfa"
	mfaprom "github.com/mfakit/mfa/metrics/prometheus"
	"github.com/mfakit/mfa/store/memstore"
	"github.com/mfakit/mfa/store/timed"
	"github.com/mfakit/mfa/totp"
)

// Count a Verifier's events and time its store calls, then serve them on
// /metrics.
func Example() {
	ctx := context.Background()
	now := time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC)

	reg := prom.NewRegistry()
	m, err := mfaprom.New(mfaprom.Config{Registerer: reg})
	if err != nil {
		panic(err)
	}
	t, _ := timed.New(timed.Config{Observer: m}) // store-call latency
	tf, _ := totp.New(totp.Config{Issuer: "Example"})
	keyring, _ := mfa.NewKeyring(mfa.Key{ID: "2026-01", Secret: bytes.Repeat([]byte{1}, 32)})
	v, err := mfa.New(mfa.Config{
		Store:   t.ForVerifier(memstore.New()),
		Factors: []mfa.Factor{tf},
		Sealer:  keyring,
		HashKey: bytes.Repeat([]byte{2}, 32),
		Now:     func() time.Time { return now },
		Hooks:   []mfa.Hook{m.Hook()},
	})
	if err != nil {
		panic(err)
	}

	en, _ := v.BeginEnrollment(ctx, mfa.EnrollRequest{UserID: "alice", Kind: mfa.KindTOTP})
	setup, _ := mfa.ShowAs[*totp.Setup](en.Show)
	code, _ := otptotp.GenerateCode(setup.Secret, now)
	_, _ = v.ConfirmEnrollment(ctx, mfa.ConfirmRequest{UserID: "alice", FactorID: en.FactorID, Response: code})
	_, _ = v.Verify(ctx, mfa.VerifyRequest{UserID: "alice", FactorID: en.FactorID, Response: code}) // a replay
	m.Alert("replay", "warning")                                                                    // as the monitor's alert hook would

	// In an application: mux.Handle("GET /metrics", m.Handler()) on an
	// internal listener.
	w := httptest.NewRecorder()
	m.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	for line := range strings.Lines(w.Body.String()) {
		if strings.HasPrefix(line, "mfa_verifications_total") || strings.HasPrefix(line, "mfa_enrolments_total") ||
			strings.HasPrefix(line, "mfa_alerts_total") || strings.HasPrefix(line, `mfa_store_call_duration_seconds_count{op="Advance"`) {
			fmt.Print(line)
		}
	}
	// Output:
	// mfa_alerts_total{kind="replay",severity="warning"} 1
	// mfa_enrolments_total{kind="totp",stage="begun"} 1
	// mfa_enrolments_total{kind="totp",stage="confirmed"} 1
	// mfa_store_call_duration_seconds_count{op="Advance",outcome="ok"} 1
	// mfa_verifications_total{kind="totp",outcome="replay_refused",reason="replayed"} 1
}
