// Package otel records what the mfa library reports as OpenTelemetry
// metrics (go.opentelemetry.io/otel/metric): the same instruments as
// package metrics/prometheus, named the OpenTelemetry way. It is a module
// of its own and depends on the metrics API only; the application picks
// the SDK and exporter.
//
//	m, err := otel.New(otel.Config{MeterProvider: provider})
//	t, err := timed.New(timed.Config{Observer: m}) // store latency
//	v, err := mfa.New(mfa.Config{Store: t.ForVerifier(backend), Hooks: []mfa.Hook{m.Hook()}, ...})
//	s, err := session.New(session.Config{Store: t.ForSessions(backend), Hooks: []session.Hook{m.SessionHook()}, ...})
//
// # Instruments
//
// With the default Prefix "mfa" (counters are Int64Counters):
//
//	mfa.verifications {kind,outcome,reason}   outcome: succeeded, failed, replay_refused, rate_limited, locked
//	mfa.rate_limited {kind}                   attempts refused by a delay
//	mfa.locked {kind}                         attempts refused by the consecutive-failure cap
//	mfa.enrolments {kind,stage}               stage: begun, confirmed
//	mfa.factor_removals {kind}
//	mfa.challenges {kind,outcome}             outcome: issued, resent, capped, failed
//	mfa.events {type}                         every Verifier event by type
//	mfa.sessions {event}                      started, refreshed, stepped_up, revoked, reuse_detected
//	mfa.devices {event}                       remembered, revoked
//	mfa.alerts {kind,severity}                through [Metrics.Alert]
//	mfa.store.call.duration {op,outcome}      Float64Histogram in seconds, through store/timed
//
// Labels mean what they mean in package metrics/prometheus, whose
// documentation says more (a refusal by a limit carries the kind the
// request named, "none" when it named only a factor ID).
//
// # Security
//
// Every attribute value comes from a closed set: the factor kinds of this
// module and [Config.Kinds], the sentinel errors' reasons, the event types
// the library defines, the store's operations and outcomes, the alert
// kinds of [Config.AlertKinds] and three severities. Anything else,
// including a kind or reason a client could have influenced, is recorded
// as "other"; an empty kind or reason is "none". No user ID, factor ID,
// session ID, IP address, place or input ever becomes an attribute, so the
// metrics hold no personal data and their cardinality is bounded.
//
// The hooks never return an error, so metrics never deny a verification or
// a session. Exported metrics show aggregate rates of failures and locks:
// send them to an internal collector, not to a public endpoint.
package otel
