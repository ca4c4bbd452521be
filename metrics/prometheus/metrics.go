package prometheus

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	prom "github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/metrics/internal/label"
	"github.com/mfakit/mfa/session"
	"github.com/mfakit/mfa/store/timed"
)

// ErrConfig: the Config given to [New] is invalid.
var ErrConfig = errors.New("mfa: prometheus: invalid config")

// DefaultBuckets are the store-call latency buckets, in seconds: from
// 100 µs (an in-process store) to 2.5 s (a store that is failing).
var DefaultBuckets = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5}

// Config configures [New]. Every field is safe when zero.
type Config struct {
	// Registerer receives the collectors. Default
	// prometheus.DefaultRegisterer, which a second New on the same
	// registry refuses (the metrics are already registered).
	Registerer prom.Registerer
	// Gatherer is what [Metrics.Handler] serves. Default: Registerer when
	// it is also a Gatherer (a *prometheus.Registry is), else
	// prometheus.DefaultGatherer.
	Gatherer prom.Gatherer
	// Namespace prefixes every metric name. Default "mfa".
	Namespace string
	// Kinds adds factor kinds, beyond this module's, that are counted
	// under their own name rather than "other". Default none.
	Kinds []mfa.Kind
	// AlertKinds are the alert kinds counted under their own name by
	// [Metrics.Alert]. Default: the kinds of package monitor.
	AlertKinds []string
	// Buckets are the store-call latency buckets, in seconds. Default
	// DefaultBuckets.
	Buckets []float64
}

// Metrics holds the collectors. Its methods are safe for concurrent use.
type Metrics struct {
	set        *label.Set
	gatherer   prom.Gatherer
	verify     *prom.CounterVec
	rateLimit  *prom.CounterVec
	locked     *prom.CounterVec
	enrol      *prom.CounterVec
	removals   *prom.CounterVec
	challenges *prom.CounterVec
	events     *prom.CounterVec
	sessions   *prom.CounterVec
	devices    *prom.CounterVec
	alerts     *prom.CounterVec
	store      *prom.HistogramVec
}

// New registers the collectors with c.Registerer and returns them. It
// fails, registering nothing, when c is invalid (ErrConfig) or when any
// of them cannot be registered (a name already taken).
func New(c Config) (*Metrics, error) {
	if c.Registerer == nil {
		c.Registerer = prom.DefaultRegisterer
	}
	if c.Gatherer == nil {
		if g, ok := c.Registerer.(prom.Gatherer); ok {
			c.Gatherer = g
		} else {
			c.Gatherer = prom.DefaultGatherer
		}
	}
	if c.Namespace == "" {
		c.Namespace = "mfa"
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
	counter := func(name, help string, labels ...string) *prom.CounterVec {
		return prom.NewCounterVec(prom.CounterOpts{Namespace: c.Namespace, Name: name, Help: help}, labels)
	}
	m := &Metrics{
		set:        set,
		gatherer:   c.Gatherer,
		verify:     counter("verifications_total", "Verification attempts by factor kind, outcome and reason.", "kind", "outcome", "reason"),
		rateLimit:  counter("rate_limited_total", "Verification attempts refused by a rate-limit delay.", "kind"),
		locked:     counter("locked_total", "Verification attempts refused because the second factor is locked.", "kind"),
		enrol:      counter("enrolments_total", "Factor enrolments begun and confirmed.", "kind", "stage"),
		removals:   counter("factor_removals_total", "Factors removed.", "kind"),
		challenges: counter("challenges_total", "Challenges issued, resent, capped or failed.", "kind", "outcome"),
		events:     counter("events_total", "Verifier events by type.", "type"),
		sessions:   counter("sessions_total", "Session events; a user-wide revocation adds the sessions it ended.", "event"),
		devices:    counter("devices_total", "Remembered-device events; a user-wide revocation adds the devices it ended.", "event"),
		alerts:     counter("alerts_total", "Monitoring alerts by kind and severity.", "kind", "severity"),
		store: prom.NewHistogramVec(prom.HistogramOpts{
			Namespace: c.Namespace, Name: "store_call_duration_seconds",
			Help: "Duration of store calls by operation and outcome.", Buckets: c.Buckets,
		}, []string{"op", "outcome"}),
	}
	cs := []prom.Collector{m.verify, m.rateLimit, m.locked, m.enrol, m.removals, m.challenges, m.events,
		m.sessions, m.devices, m.alerts, m.store}
	for i, col := range cs {
		if err := c.Registerer.Register(col); err != nil {
			for _, done := range cs[:i] {
				c.Registerer.Unregister(done)
			}
			return nil, fmt.Errorf("mfa: prometheus: register: %w", err)
		}
	}
	return m, nil
}

// Hook returns an mfa.Hook that counts every Verifier event. It never
// returns an error.
func (m *Metrics) Hook() mfa.Hook {
	return func(_ context.Context, e mfa.Event) error {
		m.observe(e)
		return nil
	}
}

func (m *Metrics) observe(e mfa.Event) {
	c := m.set.Event(e)
	m.events.WithLabelValues(c.Type).Inc()
	switch {
	case c.Verification != "":
		m.verify.WithLabelValues(c.Kind, c.Verification, c.Reason).Inc()
		switch c.Verification {
		case label.RateLimited:
			m.rateLimit.WithLabelValues(c.Kind).Inc()
		case label.Locked:
			m.locked.WithLabelValues(c.Kind).Inc()
		}
	case c.Challenge != "":
		m.challenges.WithLabelValues(c.Kind, c.Challenge).Inc()
	case c.Enrolment != "":
		m.enrol.WithLabelValues(c.Kind, c.Enrolment).Inc()
	case c.Removal:
		m.removals.WithLabelValues(c.Kind).Inc()
	}
}

// SessionHook returns a session.Hook that counts every session and
// device event. It never returns an error.
func (m *Metrics) SessionHook() session.Hook {
	return func(_ context.Context, e session.Event) error {
		devices, event, n, ok := label.SessionEvent(e)
		switch {
		case !ok:
			m.sessions.WithLabelValues(label.Other).Inc()
		case devices:
			m.devices.WithLabelValues(event).Add(float64(n))
		default:
			m.sessions.WithLabelValues(event).Add(float64(n))
		}
		return nil
	}
}

// Alert counts one monitoring alert. kind is counted under its own name
// when it is one of Config.AlertKinds, and severity when it is "info",
// "warning" or "critical"; anything else under "other".
func (m *Metrics) Alert(kind, severity string) {
	m.alerts.WithLabelValues(m.set.Alert(kind, severity)).Inc()
}

// ObserveStoreCall records one store call in the latency histogram:
// Metrics is the [timed.Observer] of a store/timed Timer.
func (m *Metrics) ObserveStoreCall(_ context.Context, c timed.Call) {
	m.store.WithLabelValues(label.Op(c.Op), label.Outcome(c.Outcome)).Observe(c.Duration.Seconds())
}

// Handler serves the Gatherer (see [Config.Gatherer]) in the Prometheus
// exposition format; the same as promhttp.HandlerFor with default options.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.gatherer, promhttp.HandlerOpts{})
}
