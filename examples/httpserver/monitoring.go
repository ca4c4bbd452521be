package main

// Monitoring, metrics and client addresses:
//
//   - Client addresses come from a clientip.Source: the peer, or behind a
//     reverse proxy the header it writes (-client-ip-header), honoured
//     only from the proxies named by -trusted-proxies. A request whose
//     address cannot be read (a trusted proxy's malformed header) is
//     refused before any handler runs.
//   - A sign-in monitor (package monitor) watches every verification,
//     session and recovery: its Guard can deny an address trying many
//     accounts, or ask for a security key after impossible travel. It
//     keeps its lists in the app's store (store.Signals), so every
//     instance sees what every other saw. Its alerts go to the log, to the
//     alert log the admin page reads (admin.go) and to the metrics.
//     Places come from MaxMind files (-geoip, -geoip-asn); without them
//     every place is unknown and only spraying and method switching are
//     detected.
//   - Metrics (metrics/prometheus): verification, session and alert
//     counters, and the latency of every store call (store/timed), at
//     GET /metrics for the addresses -metrics-from names (loopback by
//     default): the counts tell an attacker how the defences behave.

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/clientip"
	"github.com/mfakit/mfa/geo"
	mfaprom "github.com/mfakit/mfa/metrics/prometheus"
	"github.com/mfakit/mfa/monitor"
	"github.com/mfakit/mfa/recovery"
	"github.com/mfakit/mfa/session"
	"github.com/mfakit/mfa/store"
	"github.com/mfakit/mfa/store/timed"
)

// opsConfig is how the app finds client addresses and places, who may
// read its metrics, and where its admin area may be used from. The zero
// value reads the peer address, places nothing, serves /metrics to
// loopback only and restricts no country.
type opsConfig struct {
	// clientIP reads client addresses; nil: the peer address.
	clientIP *clientip.Source
	// locator places addresses (geo/maxmind); nil: every place unknown.
	locator geo.Locator
	// adminCountries are the countries (ISO 3166-1 alpha-2) the admin
	// area may be used from. With a locator and none, the admin area is
	// closed; without a locator there must be none.
	adminCountries []string
	// metricsFrom are the client networks that may read /metrics; nil:
	// loopback. metricsOff: no /metrics at all.
	metricsFrom []netip.Prefix
	metricsOff  bool
}

// loopback is who reads /metrics by default.
var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

// alertLogKeep and alertLogTTL bound the alert log: the latest 100
// alerts of the last week, whichever instance raised them.
const (
	alertLogKeep = 100
	alertLogTTL  = 7 * 24 * time.Hour
)

// storeViews are the app's store as each consumer sees it: every call
// timed for the metrics.
type storeViews struct {
	verifier timed.VerifierStore
	sessions timed.SessionStore
	recovery timed.RecoveryStore
}

// wireMonitoring sets up client addresses, metrics (on a registry of this
// app's own, so two apps in one process never share counters) and, when
// the store keeps signal lists, the monitor and its alert log. It returns
// the timed views of the store.
func (a *app) wireMonitoring(cfg appConfig, now func() time.Time) (storeViews, error) {
	a.ip = cfg.ops.clientIP
	if a.ip == nil {
		a.ip = &clientip.Source{} // the peer address
	}
	a.metricsFrom = cfg.ops.metricsFrom
	if a.metricsFrom == nil && !cfg.ops.metricsOff {
		a.metricsFrom = loopback
	}
	var err error
	if a.metrics, err = mfaprom.New(mfaprom.Config{Registerer: prometheus.NewRegistry()}); err != nil {
		return storeViews{}, err
	}
	t, err := timed.New(timed.Config{Observer: a.metrics})
	if err != nil {
		return storeViews{}, err
	}
	views := storeViews{verifier: t.ForVerifier(cfg.store), sessions: t.ForSessions(cfg.store), recovery: t.ForRecovery(cfg.store)}

	signals, ok := cfg.store.(store.Signals)
	if !ok {
		cfg.log.Warn("monitoring is off: this store keeps no signal lists (store.Signals), so no detector runs and the admin page lists no alerts",
			"store", fmt.Sprintf("%T", cfg.store))
		return views, nil
	}
	signals = t.Signals(signals)
	if a.alertLog, err = monitor.NewAlertLog(signals, monitor.AlertLogConfig{Keep: alertLogKeep, TTL: alertLogTTL, Now: now}); err != nil {
		return storeViews{}, err
	}
	a.monitor, err = monitor.New(monitor.Config{
		Store:   signals,
		Locator: cfg.ops.locator,
		Now:     now,
		Alerts: []monitor.AlertHook{
			monitor.SlogAlerts(cfg.log),
			a.alertLog.Hook(),
			func(_ context.Context, al monitor.Alert) error {
				a.metrics.Alert(string(al.Kind), al.Severity.String())
				return nil
			},
		},
		// An alert that could not be written to the log changes no
		// decision; it is logged.
		AlertErrors: func(ctx context.Context, al monitor.Alert, err error) {
			cfg.log.ErrorContext(ctx, "alert not delivered", "alert", al.Kind, "user", al.UserID, "err", err)
		},
	})
	if err != nil {
		return storeViews{}, err
	}
	return views, nil
}

// guard is the Verifier's Guard: the monitor's, or none.
func (a *app) guard() mfa.Guard {
	if a.monitor == nil {
		return nil
	}
	return a.monitor.Guard()
}

// verifierHooks are the Verifier's hooks for metrics and monitoring.
func (a *app) verifierHooks() []mfa.Hook {
	hooks := []mfa.Hook{a.metrics.Hook()}
	if a.monitor != nil {
		hooks = append(hooks, a.monitor.Hook())
	}
	return hooks
}

// sessionHooks are the session Manager's hooks for metrics and
// monitoring.
func (a *app) sessionHooks() []session.Hook {
	hooks := []session.Hook{a.metrics.SessionHook()}
	if a.monitor != nil {
		hooks = append(hooks, a.monitor.SessionHook())
	}
	return hooks
}

// recoveryHooks are the recovery Manager's hooks for monitoring.
func (a *app) recoveryHooks() []recovery.Hook {
	if a.monitor == nil {
		return nil
	}
	return []recovery.Hook{a.monitor.RecoveryHook()}
}

// checkClientIP refuses a request whose client address cannot be read: a
// trusted proxy sent a malformed header. Reading it as unknown instead
// would let such requests share one empty address in every counter.
func (a *app) checkClientIP(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := a.ip.Addr(r); err != nil {
			a.log.Warn("request refused: client address unreadable", "path", r.URL.Path, "err", err)
			http.Error(w, "Bad request: the client address could not be read.", http.StatusBadRequest)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// metricsHandler serves the Prometheus text format to clients in
// metricsFrom (by the client address, so a remote client behind a trusted
// proxy on this host is not taken for a local one), and 403 to the rest.
func (a *app) metricsHandler() http.Handler {
	h := a.metrics.Handler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		addr, err := a.ip.Addr(r)
		if err != nil || !slices.ContainsFunc(a.metricsFrom, func(p netip.Prefix) bool { return p.Contains(addr) }) {
			http.Error(w, "Forbidden: metrics are served to the networks -metrics-from names.", http.StatusForbidden)
			return
		}
		h.ServeHTTP(w, r)
	})
}
