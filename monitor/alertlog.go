package monitor

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"
	"unicode/utf8"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/geo"
	"github.com/mfakit/mfa/store"
)

// AlertLogConfig configures an [AlertLog]. Every field is safe when zero.
type AlertLogConfig struct {
	// Keep is the most alerts the log holds; the oldest go first. At
	// most store.MaxSignalKeep. Default 100.
	Keep int
	// TTL is how long an alert stays in the log. Default 7 days.
	TTL time.Duration
	// Now is the clock: what expires, and the time of an alert that
	// has none. Default time.Now.
	Now func() time.Time
}

// AlertLog keeps the latest alerts in the store ([store.Signals]), as
// one bounded, expiring list shared by every instance, so that an admin
// page served by any instance shows the alerts every instance raised. Its
// [AlertLog.Hook] goes in Config.Alerts; [AlertLog.Recent] reads the list.
//
// An alert is stored compactly, within store.MaxSignalData: a text field
// longer than 64 bytes is cut and ends in "…", and when the whole alert
// is still too large every field is cut shorter until it fits; at most 8
// Evidence.Kinds are kept. The log holds what alerts hold (identifiers,
// addresses, places, counts), never a secret; anyone who can read the
// store can read it, as they can the detectors' lists.
//
// # Cost
//
// Each alert is one store call (an Observe that appends and trims), made
// synchronously by the request that raised it; Recent is one store call
// that only reads. Both are one round trip on a networked backend.
type AlertLog struct {
	store store.Signals
	keep  int
	ttl   time.Duration
	now   func() time.Time
}

// alertLogKey names the log's list: under the monitor's prefix, and no
// user or address key takes this form (those have a "/" after one
// letter).
const alertLogKey = keyPrefix + "log"

// recAlert is the record type of an alert in the log.
const recAlert byte = 'L'

// maxAlertKinds bounds Evidence.Kinds in a stored alert.
const maxAlertKinds = 8

// NewAlertLog validates cfg and returns a log kept in st. Errors wrap
// mfa.ErrConfig.
func NewAlertLog(st store.Signals, cfg AlertLogConfig) (*AlertLog, error) {
	if st == nil {
		return nil, fmt.Errorf("%w: monitor: NewAlertLog needs a store", mfa.ErrConfig)
	}
	l := &AlertLog{store: st, keep: orInt(cfg.Keep, 100), ttl: orDuration(cfg.TTL, 7*24*time.Hour), now: cfg.Now}
	if l.now == nil {
		l.now = time.Now
	}
	if l.keep < 1 || l.keep > store.MaxSignalKeep {
		return nil, fmt.Errorf("%w: monitor: AlertLogConfig.Keep must be 1 to %d", mfa.ErrConfig, store.MaxSignalKeep)
	}
	if l.ttl < 0 {
		return nil, fmt.Errorf("%w: monitor: AlertLogConfig.TTL must not be negative", mfa.ErrConfig)
	}
	return l, nil
}

// Hook returns the AlertHook that appends each alert to the log. An
// alert without a Kind or with an unknown Severity is refused
// (ErrInvalidAlert); a store failure wraps ErrUnavailable. Either is
// reported to Config.AlertErrors and denies nothing unless
// Config.DenyOnAlertError is set.
func (l *AlertLog) Hook() AlertHook {
	return func(ctx context.Context, a Alert) error {
		if a.Kind == "" || a.Severity < SeverityInfo || a.Severity > SeverityCritical {
			return fmt.Errorf("%w: kind %q, severity %d", ErrInvalidAlert, cut(string(a.Kind), 16), int(a.Severity))
		}
		now := l.now()
		at := a.Time
		if at.IsZero() {
			at = now
		}
		_, err := l.store.Observe(ctx, now, store.Sighting{
			Key:    alertLogKey,
			Signal: store.Signal{Time: at, Expires: now.Add(l.ttl), Data: encodeAlert(a)},
			Keep:   l.keep,
		})
		if err != nil {
			return fmt.Errorf("%w: alert log: %w", ErrUnavailable, err)
		}
		return nil
	}
}

// Recent returns the alerts in the log, newest first. A record that does
// not parse fails the whole read (an error wrapping ErrUnavailable), so
// a damaged log is noticed rather than shown in part; a record of a type
// this version does not know (written by a later one) is skipped.
func (l *AlertLog) Recent(ctx context.Context) ([]Alert, error) {
	lists, err := l.store.Observe(ctx, l.now(), store.Sighting{Key: alertLogKey, Keep: l.keep})
	if err != nil {
		return nil, fmt.Errorf("%w: alert log: %w", ErrUnavailable, err)
	}
	if len(lists) != 1 {
		return nil, fmt.Errorf("%w: alert log: the store answered %d lists for 1", ErrUnavailable, len(lists))
	}
	out := make([]Alert, 0, len(lists[0]))
	for i := len(lists[0]) - 1; i >= 0; i-- {
		a, err := decodeAlert(lists[0][i])
		if errors.Is(err, errUnknown) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%w: alert log: %w", ErrUnavailable, err)
		}
		out = append(out, a)
	}
	return out, nil
}

// encodeAlert writes a as a record that fits store.MaxSignalData,
// cutting text fields shorter until it does.
func encodeAlert(a Alert) []byte {
	for _, limit := range [...]int{maxField, 32, 16, 8} {
		if b := appendAlert(nil, a, limit); len(b) <= store.MaxSignalData {
			return b
		}
	}
	return appendAlert(nil, a, 0) // kinds and numbers only; cannot pass the bound
}

func appendAlert(b []byte, a Alert, limit int) []byte {
	s := func(v string) { b = appendString(b, cut(v, limit)) }
	place := func(p geo.Place) {
		b = appendPlace(b, geo.Place{Country: cut(p.Country, limit), Network: cut(p.Network, limit),
			Lat: p.Lat, Lon: p.Lon, Radius: p.Radius, HasPoint: p.HasPoint})
	}
	e := a.Evidence
	b = append(b, recAlert, byte(a.Severity))
	s(string(a.Kind))
	s(a.UserID)
	s(a.IP)
	place(a.Place)
	s(e.Event)
	if e.Denied {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	s(e.FactorID)
	s(string(e.FactorKind))
	b = binary.AppendVarint(b, int64(e.Users))
	kinds := e.Kinds[:min(len(e.Kinds), maxAlertKinds)]
	b = append(b, byte(len(kinds)))
	for _, k := range kinds {
		s(string(k))
	}
	b = binary.AppendVarint(b, int64(e.Window))
	s(e.SessionID)
	s(e.OtherSessionID)
	s(e.PrevIP)
	place(e.PrevPlace)
	var prev int64
	if !e.PrevTime.IsZero() {
		prev = e.PrevTime.UnixNano()
	}
	b = binary.AppendVarint(b, prev)
	b = binary.BigEndian.AppendUint64(b, math.Float64bits(e.DistanceKm))
	b = binary.BigEndian.AppendUint64(b, math.Float64bits(e.SpeedKmh))
	s(e.CaseID)
	s(e.Actor)
	s(e.Reason)
	return b
}

// cut shortens v to at most limit bytes, ending in "…" when cut, on a
// rune boundary.
func cut(v string, limit int) string {
	if len(v) <= limit {
		return v
	}
	const ellipsis = "…"
	n := limit - len(ellipsis)
	if n <= 0 {
		return ""
	}
	for n > 0 && !utf8.RuneStart(v[n]) {
		n--
	}
	return v[:n] + ellipsis
}

// decodeAlert reads a record encodeAlert wrote.
func decodeAlert(sig store.Signal) (Alert, error) {
	d := decoder{b: sig.Data}
	typ := d.byte()
	if !d.err && typ != recAlert {
		return Alert{}, errUnknown
	}
	a := Alert{Time: sig.Time, Severity: Severity(d.byte())}
	a.Kind = AlertKind(d.string())
	a.UserID = d.string()
	a.IP = d.string()
	a.Place = d.place()
	e := &a.Evidence
	e.Event = d.string()
	switch d.byte() {
	case 0:
	case 1:
		e.Denied = true
	default:
		d.err = true
	}
	e.FactorID = d.string()
	e.FactorKind = mfa.Kind(d.string())
	users := d.varint()
	n := int(d.byte())
	if n > maxAlertKinds {
		d.err = true
	}
	for i := 0; i < n && !d.err; i++ {
		e.Kinds = append(e.Kinds, mfa.Kind(d.string()))
	}
	window := d.varint()
	e.SessionID = d.string()
	e.OtherSessionID = d.string()
	e.PrevIP = d.string()
	e.PrevPlace = d.place()
	if prev := d.varint(); prev != 0 {
		e.PrevTime = time.Unix(0, prev).UTC()
	}
	e.DistanceKm = math.Float64frombits(d.uint64())
	e.SpeedKmh = math.Float64frombits(d.uint64())
	e.CaseID = d.string()
	e.Actor = d.string()
	e.Reason = d.string()
	switch {
	case d.err || len(d.b) != 0,
		a.Kind == "" || a.Severity > SeverityCritical,
		users < 0 || users > math.MaxInt32 || window < 0,
		math.IsNaN(e.DistanceKm) || e.DistanceKm < 0 || math.IsNaN(e.SpeedKmh) || e.SpeedKmh < 0:
		return Alert{}, errMalformed
	}
	e.Users, e.Window = int(users), time.Duration(window)
	return a, nil
}
