// Package timed times every call to a store backend and reports it to an
// [Observer]: which operation ([Op], named after the method), how long it
// took, and how it ended ([Outcome], read from the store's sentinel
// errors). A metrics adapter (metrics/prometheus, metrics/otel) turns the
// reports into latency histograms.
//
//	t, err := timed.New(timed.Config{Observer: m}) // m from metrics/prometheus or metrics/otel
//	v, err := mfa.New(mfa.Config{Store: t.ForVerifier(backend), ...})
//	s, err := session.New(session.Config{Store: t.ForSessions(backend), ...})
//
// # Which concerns a wrapped value keeps
//
// Consumers find optional concerns by type assertion: the Verifier walks a
// [store.Resealable] to re-seal factors, a scheduled job sweeps a
// [store.Sweeper]. A wrapper that claimed a concern its backend lacks would
// fail at run time; one that hid a concern its backend has would disable a
// feature without a word. So there is no single Wrap(any) returning an
// opaque value; each constructor states what its result implements:
//
//   - [Timer.ForVerifier]: [VerifierStore] (what mfa.Config.Store needs),
//     plus [store.Resealable] and [store.Sweeper] exactly when the wrapped
//     value implements them.
//   - [Timer.ForSessions]: [SessionStore] (what session.Config.Store
//     needs), plus [store.Sweeper] exactly when the wrapped value has it.
//   - [Timer.ForRecovery]: [RecoveryStore] (what recovery.Config.Store
//     needs), plus [store.Sweeper] exactly when the wrapped value has it.
//   - [Timer.Factors], [Timer.Counters], [Timer.Challenges],
//     [Timer.Sessions], [Timer.Devices], [Timer.Recovery],
//     [Timer.Signals], [Timer.Sweeper]: one concern each, and nothing
//     else, for composing a [store.Split] or any consumer declared later.
//
// A wrapped value is a different value from its backend: keep the backend
// to sweep, migrate or close it when the wrapper lacks the concern.
//
// Wrapping a [store.Split] times its cross-concern operations as one call
// each (a Hit that loads a factor is one "Hit"); wrapping each field of the
// Split instead times every backend's share.
//
// # Cost
//
// A call costs two readings of the clock, a few comparisons of the error
// with the store's sentinels and the Observer's own work; the wrapper
// allocates nothing per call.
//
// # Security
//
// An Observer receives the operation, the outcome and the duration, never
// an argument or a result: no user ID, key, hash or sealed secret reaches
// it, and every field comes from a closed set, so labels built from them
// stay few. The wrapper returns the backend's results and errors unchanged,
// so every guarantee of the store contract (atomicity, single use, the
// sentinel each method wraps) is the backend's, and a failing backend still
// fails closed. An Observer runs synchronously on every store call, on the
// verification path too: it must be fast and must not block.
package timed
