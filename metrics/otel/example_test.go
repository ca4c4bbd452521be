package otel_test

import (
	"context"
	"fmt"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/mfakit/mfa"
	mfaotel "github.com/mfakit/mfa/metrics/otel"
)

// Record a Verifier's events through an OpenTelemetry MeterProvider. Here
// a ManualReader collects them; an application registers its exporter's
// reader instead.
func Example() {
	ctx := context.Background()
	reader := sdkmetric.NewManualReader()
	m, err := mfaotel.New(mfaotel.Config{MeterProvider: sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))})
	if err != nil {
		panic(err)
	}
	hook := m.Hook() // mfa.Config.Hooks; m itself is a store/timed Observer
	_ = hook(ctx, mfa.Event{Type: mfa.EventVerifyFailed, Kind: mfa.KindTOTP, Reason: mfa.ErrWrongCode.Error(), UserID: "alice"})
	_ = hook(ctx, mfa.Event{Type: mfa.EventVerifyFailed, Kind: mfa.KindTOTP, Reason: mfa.ErrWrongCode.Error(), UserID: "bob"})

	var rm metricdata.ResourceMetrics
	_ = reader.Collect(ctx, &rm)
	for _, metric := range rm.ScopeMetrics[0].Metrics {
		if metric.Name != "mfa.verifications" {
			continue
		}
		for _, p := range metric.Data.(metricdata.Sum[int64]).DataPoints {
			kind, _ := p.Attributes.Value("kind")
			reason, _ := p.Attributes.Value("reason")
			fmt.Println(metric.Name, kind.AsString(), reason.AsString(), p.Value)
		}
	}
	// Output:
	// mfa.verifications totp wrong_code 2
}
