// Package prometheus exports what the mfa library reports as Prometheus
// metrics (github.com/prometheus/client_golang): verification outcomes by
// factor kind and reason, rate limits and locks, enrolments, factor
// removals, challenges, session and device events, monitoring alerts, and
// the latency of every store call.
//
// It is a module of its own, so only applications that use Prometheus pull
// in client_golang. Import it under another name, since the client's
// package is called prometheus too:
//
//	import mfaprom "github.com/mfakit/mfa/metrics/prometheus"
//
//	reg := prometheus.NewRegistry()
//	m, err := mfaprom.New(mfaprom.Config{Registerer: reg})
//	t, err := timed.New(timed.Config{Observer: m}) // store latency
//	v, err := mfa.New(mfa.Config{Store: t.ForVerifier(backend), Hooks: []mfa.Hook{m.Hook()}, ...})
//	s, err := session.New(session.Config{Store: t.ForSessions(backend), Hooks: []session.Hook{m.SessionHook()}, ...})
//	http.Handle("GET /metrics", m.Handler()) // or promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
//
// # Metrics
//
// With the default Namespace "mfa":
//
//	mfa_verifications_total{kind,outcome,reason}   outcome: succeeded, failed, replay_refused, rate_limited, locked
//	mfa_rate_limited_total{kind}                   attempts refused by a delay
//	mfa_locked_total{kind}                         attempts refused by the consecutive-failure cap
//	mfa_enrolments_total{kind,stage}               stage: begun, confirmed
//	mfa_factor_removals_total{kind}
//	mfa_challenges_total{kind,outcome}             outcome: issued, resent, capped, failed
//	mfa_events_total{type}                         every Verifier event by type
//	mfa_sessions_total{event}                      started, refreshed, stepped_up, revoked, reuse_detected
//	mfa_devices_total{event}                       remembered, revoked
//	mfa_alerts_total{kind,severity}                through [Metrics.Alert]
//	mfa_store_call_duration_seconds{op,outcome}    histogram, through store/timed
//
// An attempt refused by a limit is refused before its factor is read, so
// its kind is the one the request named: "none" when it named only a
// factor ID. A revocation that ends every session (or device) of a user
// adds the number it ended. Rate-limited and locked attempts count both in
// verifications_total and in their own counters, which are there for
// alerting rules that need no label matching.
//
// # Security
//
// Every label value comes from a closed set: the factor kinds of this
// module and [Config.Kinds], the sentinel errors' reasons, the event
// types the library defines, the store's operations and outcomes, the
// alert kinds of [Config.AlertKinds] and three severities. Anything else,
// including a kind or reason a client could have influenced, is counted
// under "other"; an empty kind or reason is "none". No user ID, factor
// ID, session ID, IP address, place or input ever becomes a label value,
// so the metrics hold no personal data and the number of series is
// bounded (a few thousand at most, almost all of them store histograms,
// which appear only for operations that ran).
//
// The hooks never return an error, so metrics never deny a verification or
// a session; they run synchronously, cost a few map lookups and an atomic
// add per counter, and allocate nothing once a series exists. /metrics shows aggregate rates of failures and locks,
// which tell an attacker how the defences behave: serve it on an internal
// port or behind authentication, not on the public listener.
package prometheus
