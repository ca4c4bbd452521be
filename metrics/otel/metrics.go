package otel

import (
	"context"
	"errors"
	"fmt"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/metrics/internal/label"
	"github.com/mfakit/mfa/session"
	"github.com/mfakit/mfa/store/timed"
)

// ErrConfig: the Config given to [New] is invalid.
var ErrConfig = errors.New("mfa: otel: invalid config")

// ScopeName is the instrumentation scope of the Meter, which New asks of
// the MeterProvider.
const ScopeName = "github.com/mfakit/mfa/metrics/otel"

// DefaultBuckets are the store-call duration buckets, in seconds: from
// 100 µs (an in-process store) to 2.5 s (a store that is failing).
var DefaultBuckets = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5}

// Config configures [New]. Every field is safe when zero.
type Config struct {
	// MeterProvider makes the Meter. Default otel.GetMeterProvider(), the
	// global one (a no-op until the application sets one).
	MeterProvider metric.MeterProvider
	// Prefix starts every instrument name. Default "mfa".
	Prefix string
	// Kinds adds factor kinds, beyond this module's, that are recorded
	// under their own name rather than "other". Default none.
	Kinds []mfa.Kind
	// AlertKinds are the alert kinds recorded under their own name by
	// [Metrics.Alert]. Default: the kinds of package monitor.
	AlertKinds []string
	// Buckets are the store-call duration bucket boundaries, in seconds.
	// Default DefaultBuckets.
	Buckets []float64
}

// Metrics holds the instruments. Its methods are safe for concurrent use.
type Metrics struct {
	set        *label.Set
	verify     metric.Int64Counter
	rateLimit  metric.Int64Counter
	locked     metric.Int64Counter
	enrol      metric.Int64Counter
	removals   metric.Int64Counter
	challenges metric.Int64Counter
	events     metric.Int64Counter
	sessions   metric.Int64Counter
	devices    metric.Int64Counter
	alerts     metric.Int64Counter
	store      metric.Float64Histogram
	// storeAttrs holds the attributes of every (op, outcome) pair, made
	// once, so a store call records without building them.
	storeAttrs map[[2]string]metric.RecordOption
}

// New makes the instruments, or returns an error wrapping ErrConfig when
// c is invalid, or the Meter's error.
func New(c Config) (*Metrics, error) {
	if c.MeterProvider == nil {
		c.MeterProvider = otel.GetMeterProvider()
	}
	if c.Prefix == "" {
		c.Prefix = "mfa"
	}
	if c.Buckets == nil {
		c.Buckets = DefaultBuckets
	}
	for i, b := range c.Buckets {
		if b <= 0 || (i > 0 && b <= c.Buckets[i-1]) {
			return nil, fmt.Errorf("%w: Buckets must be positive and increasing", ErrConfig)
		}
	}
	kinds := make([]string, len(c.Kinds))
	for i, k := range c.Kinds {
		kinds[i] = string(k)
	}
	set, err := label.NewSet(kinds, c.AlertKinds)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	meter := c.MeterProvider.Meter(ScopeName)
	var errs []error
	counter := func(name, desc string) metric.Int64Counter {
		ctr, err := meter.Int64Counter(c.Prefix+"."+name, metric.WithDescription(desc), metric.WithUnit("{"+name+"}"))
		errs = append(errs, err)
		return ctr
	}
	m := &Metrics{
		set:        set,
		verify:     counter("verifications", "Verification attempts by factor kind, outcome and reason."),
		rateLimit:  counter("rate_limited", "Verification attempts refused by a rate-limit delay."),
		locked:     counter("locked", "Verification attempts refused because the second factor is locked."),
		enrol:      counter("enrolments", "Factor enrolments begun and confirmed."),
		removals:   counter("factor_removals", "Factors removed."),
		challenges: counter("challenges", "Challenges issued, resent, capped or failed."),
		events:     counter("events", "Verifier events by type."),
		sessions:   counter("sessions", "Session events; a user-wide revocation adds the sessions it ended."),
		devices:    counter("devices", "Remembered-device events; a user-wide revocation adds the devices it ended."),
		alerts:     counter("alerts", "Monitoring alerts by kind and severity."),
	}
	m.store, err = meter.Float64Histogram(c.Prefix+".store.call.duration",
		metric.WithDescription("Duration of store calls by operation and outcome."),
		metric.WithUnit("s"), metric.WithExplicitBucketBoundaries(c.Buckets...))
	if err := errors.Join(append(errs, err)...); err != nil {
		return nil, fmt.Errorf("mfa: otel: %w", err)
	}
	m.storeAttrs = map[[2]string]metric.RecordOption{}
	for _, op := range append(timed.Ops(), label.Other) {
		for _, o := range append(timed.Outcomes(), label.Other) {
			m.storeAttrs[[2]string{string(op), string(o)}] = metric.WithAttributeSet(attribute.NewSet(
				attribute.String("op", string(op)), attribute.String("outcome", string(o))))
		}
	}
	return m, nil
}

func attrs(kv ...attribute.KeyValue) metric.AddOption {
	return metric.WithAttributeSet(attribute.NewSet(kv...))
}

// Hook returns an mfa.Hook that counts every Verifier event. It never
// returns an error.
func (m *Metrics) Hook() mfa.Hook {
	return func(ctx context.Context, e mfa.Event) error {
		c := m.set.Event(e)
		kind := attribute.String("kind", c.Kind)
		m.events.Add(ctx, 1, attrs(attribute.String("type", c.Type)))
		switch {
		case c.Verification != "":
			m.verify.Add(ctx, 1, attrs(kind, attribute.String("outcome", c.Verification), attribute.String("reason", c.Reason)))
			switch c.Verification {
			case label.RateLimited:
				m.rateLimit.Add(ctx, 1, attrs(kind))
			case label.Locked:
				m.locked.Add(ctx, 1, attrs(kind))
			}
		case c.Challenge != "":
			m.challenges.Add(ctx, 1, attrs(kind, attribute.String("outcome", c.Challenge)))
		case c.Enrolment != "":
			m.enrol.Add(ctx, 1, attrs(kind, attribute.String("stage", c.Enrolment)))
		case c.Removal:
			m.removals.Add(ctx, 1, attrs(kind))
		}
		return nil
	}
}

// SessionHook returns a session.Hook that counts every session and
// device event. It never returns an error.
func (m *Metrics) SessionHook() session.Hook {
	return func(ctx context.Context, e session.Event) error {
		devices, event, n, ok := label.SessionEvent(e)
		switch {
		case !ok:
			m.sessions.Add(ctx, 1, attrs(attribute.String("event", label.Other)))
		case devices:
			m.devices.Add(ctx, int64(n), attrs(attribute.String("event", event)))
		default:
			m.sessions.Add(ctx, int64(n), attrs(attribute.String("event", event)))
		}
		return nil
	}
}

// Alert counts one monitoring alert. kind is recorded under its own name
// when it is one of Config.AlertKinds, and severity when it is "info",
// "warning" or "critical"; anything else as "other".
func (m *Metrics) Alert(kind, severity string) {
	kind, severity = m.set.Alert(kind, severity)
	m.alerts.Add(context.Background(), 1, attrs(attribute.String("kind", kind), attribute.String("severity", severity)))
}

// ObserveStoreCall records one store call in the duration histogram:
// Metrics is the [timed.Observer] of a store/timed Timer.
func (m *Metrics) ObserveStoreCall(ctx context.Context, c timed.Call) {
	m.store.Record(ctx, c.Duration.Seconds(), m.storeAttrs[[2]string{label.Op(c.Op), label.Outcome(c.Outcome)}])
}
