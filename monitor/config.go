package monitor

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"time"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/geo"
	"github.com/mfakit/mfa/store"
)

// Config configures a [Monitor]. Store is required; every other field is
// safe when zero, and a zero threshold or window takes the default its
// doc states.
type Config struct {
	// Store keeps the lists the detectors read, shared by every instance.
	// Required.
	Store store.Signals
	// Locator places client addresses. Default none: places are unknown,
	// so new-country, new-network, impossible-travel and simultaneous-
	// session detection are off; spraying and method switching work.
	Locator geo.Locator
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Rand is the source of the nonces that tell a caller its own record
	// in a list. Default crypto/rand.Reader.
	Rand io.Reader
	// Alerts receive every alert, synchronously and in order. Default none.
	Alerts []AlertHook
	// DenyOnAlertError: when an alert hook fails, the Guard denies the
	// attempt the alert was raised for (ErrAlertUndelivered), and Hook,
	// SessionHook and RecoveryHook return the error, which refuses what
	// the event reports. Default false: the failure goes to AlertErrors
	// and every decision stands as the detectors made it. Either way no
	// denial depends on an alert being delivered, so a broken alert
	// channel never admits what the detectors deny.
	DenyOnAlertError bool
	// AlertErrors hears of every alert hook failure. Default: logged at
	// Error level on slog.Default().
	AlertErrors func(ctx context.Context, a Alert, err error)

	// SprayUsers is how many distinct users with attempts from one
	// address (an IPv4 address or an IPv6 /64), not followed by a sign-in
	// of that user from there, flag the address. Default 5.
	SprayUsers int
	// SprayWindow is how long an attempt counts toward SprayUsers.
	// Default 10 minutes.
	SprayWindow time.Duration
	// SwitchKinds is how many distinct factor kinds tried by one user
	// raise a method-switching alert. Default 3.
	SwitchKinds int
	// SwitchWindow is how long an attempt counts toward SwitchKinds.
	// Default 5 minutes.
	SwitchWindow time.Duration
	// Lookback is how long a sign-in's country and network are
	// remembered: one from a country or network not seen within it is
	// new. Default 90 days.
	Lookback time.Duration
	// MaxSpeed is the fastest, in km/h, a user is taken to travel between
	// two sign-ins (or a sign-in and an attempt); faster is impossible
	// travel. Default 1000 (an airliner).
	MaxSpeed float64
	// SessionLive is how long after it starts or steps up a session
	// counts as live for simultaneous access, unless it was revoked
	// sooner. Sessions refresh without telling the monitor, so this
	// stands in for the idle limit. Default 1 hour (the AAL2 idle limit
	// of session.DefaultLifetimes).
	SessionLive time.Duration
	// KeepAttempts, KeepAddress and KeepSignIns bound the lists kept per
	// user (attempts), per address and per user (sign-ins); at most
	// store.MaxSignalKeep. Defaults 32, 64 and 32.
	KeepAttempts, KeepAddress, KeepSignIns int

	// PhishingResistant are the kinds the Guard admits after impossible
	// travel. Default [mfa.KindWebAuthn].
	PhishingResistant []mfa.Kind
	// AllowFlagged: the Guard alerts about an address flagged for
	// spraying but admits its attempts. Default false: it denies them
	// (ErrAddressFlagged).
	AllowFlagged bool
	// AllowTravel: the Guard alerts about impossible travel but admits
	// every kind. Default false: it denies kinds not in
	// PhishingResistant (ErrPhishingResistantRequired).
	AllowTravel bool
}

// Monitor runs the detectors. It keeps no state between calls beyond its
// configuration: any number of Monitors on one store behave as one. It
// is safe for concurrent use.
type Monitor struct {
	store   store.Signals
	locator geo.Locator
	now     func() time.Time
	rand    io.Reader
	alerts  []AlertHook
	strict  bool
	onError func(ctx context.Context, a Alert, err error)

	sprayUsers, switchKinds             int
	sprayWindow, switchWindow, lookback time.Duration
	sessionLive                         time.Duration
	maxSpeed                            float64
	keepAttempts, keepAddress, keepSign int
	resistant                           []mfa.Kind
	allowFlagged, allowTravel           bool
}

// New validates cfg and returns a Monitor. Errors wrap mfa.ErrConfig.
func New(cfg Config) (*Monitor, error) {
	if cfg.Store == nil {
		return nil, fmt.Errorf("%w: monitor: Store is required", mfa.ErrConfig)
	}
	m := &Monitor{
		store:        cfg.Store,
		locator:      cfg.Locator,
		now:          cfg.Now,
		rand:         cfg.Rand,
		alerts:       slices.Clone(cfg.Alerts),
		strict:       cfg.DenyOnAlertError,
		onError:      cfg.AlertErrors,
		sprayUsers:   orInt(cfg.SprayUsers, 5),
		switchKinds:  orInt(cfg.SwitchKinds, 3),
		sprayWindow:  orDuration(cfg.SprayWindow, 10*time.Minute),
		switchWindow: orDuration(cfg.SwitchWindow, 5*time.Minute),
		lookback:     orDuration(cfg.Lookback, 90*24*time.Hour),
		sessionLive:  orDuration(cfg.SessionLive, time.Hour),
		maxSpeed:     cfg.MaxSpeed,
		keepAttempts: orInt(cfg.KeepAttempts, 32),
		keepAddress:  orInt(cfg.KeepAddress, 64),
		keepSign:     orInt(cfg.KeepSignIns, 32),
		resistant:    slices.Clone(cfg.PhishingResistant),
		allowFlagged: cfg.AllowFlagged,
		allowTravel:  cfg.AllowTravel,
	}
	if m.now == nil {
		m.now = time.Now
	}
	if m.rand == nil {
		m.rand = rand.Reader
	}
	if m.onError == nil {
		m.onError = func(ctx context.Context, a Alert, err error) {
			slog.Default().LogAttrs(ctx, slog.LevelError, "mfa: alert not delivered",
				slog.String("alert", string(a.Kind)), slog.String("user_id", a.UserID), slog.String("error", err.Error()))
		}
	}
	if m.maxSpeed == 0 {
		m.maxSpeed = 1000
	}
	if len(m.resistant) == 0 {
		m.resistant = []mfa.Kind{mfa.KindWebAuthn}
	}
	bad := func(what string) (*Monitor, error) {
		return nil, fmt.Errorf("%w: monitor: %s", mfa.ErrConfig, what)
	}
	switch {
	case m.sprayUsers < 2 || m.switchKinds < 2:
		return bad("SprayUsers and SwitchKinds must be at least 2")
	case m.sprayWindow < 0 || m.switchWindow < 0 || m.lookback < 0 || m.sessionLive < 0:
		return bad("windows must not be negative")
	case m.maxSpeed < 0 || m.maxSpeed != m.maxSpeed:
		return bad("MaxSpeed must be a positive number of km/h")
	case m.keepAttempts < 1 || m.keepAddress < 1 || m.keepSign < 1 ||
		m.keepAttempts > store.MaxSignalKeep || m.keepAddress > store.MaxSignalKeep || m.keepSign > store.MaxSignalKeep:
		return bad(fmt.Sprintf("Keep fields must be 1 to %d", store.MaxSignalKeep))
	case m.keepAddress < m.sprayUsers:
		return bad("KeepAddress must be at least SprayUsers")
	case m.keepAttempts < m.switchKinds:
		return bad("KeepAttempts must be at least SwitchKinds")
	}
	for _, h := range m.alerts {
		if h == nil {
			return bad("an alert hook is nil")
		}
	}
	return m, nil
}

func orInt(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

func orDuration(v, def time.Duration) time.Duration {
	if v == 0 {
		return def
	}
	return v
}

// phishingResistant reports whether k is one of Config.PhishingResistant.
func (m *Monitor) phishingResistant(k mfa.Kind) bool {
	return k != "" && slices.Contains(m.resistant, k)
}
