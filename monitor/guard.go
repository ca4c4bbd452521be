package monitor

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"time"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/geo"
	"github.com/mfakit/mfa/store"
)

// Guard returns the mfa.Guard to set in mfa.Config.Guard. For each
// attempt it makes one Observe call (none for an attempt with neither a
// user nor a known address) that adds the attempt to the user's and the
// address's lists and reads the user's sign-ins; from them it detects
// spraying, method switching and impossible travel, raises each alert
// once, and decides:
//
//   - an address flagged for spraying is denied with ErrAddressFlagged
//     (unless Config.AllowFlagged);
//   - an attempt from a place the user cannot have reached since the
//     latest sign-in is denied with ErrPhishingResistantRequired unless
//     its kind is in Config.PhishingResistant (unless Config.AllowTravel);
//     an enrolment confirmation, which needs a fresh sign-in already, is
//     not held to it;
//   - an enrolment confirmation, and an attempt that names no user (a
//     passkey sign-in), add nothing to the lists: their Observe only
//     reads the address's list, and there is none when the address is
//     unknown;
//   - any error of the store, the locator or the random source denies
//     with ErrUnavailable.
//
// A sign-in clears its user's attempts from the address's count only
// through [Monitor.SessionHook]: without it, an address from which
// Config.SprayUsers users verify within the window is flagged.
func (m *Monitor) Guard() mfa.Guard { return m.guard }

func (m *Monitor) guard(ctx context.Context, a mfa.Attempt) error {
	now := m.now()
	addr := parseAddr(a.IP)
	place, err := m.locate(ctx, addr)
	if err != nil {
		return err
	}
	if a.Confirm || a.UserID == "" {
		return m.confirming(ctx, now, addr)
	}
	nonce, err := m.nonce()
	if err != nil {
		return err
	}
	ip := ""
	if addr.IsValid() {
		ip = addr.String()
	}
	// The user's attempts and sign-ins, and the address's list when the
	// address is known: one call.
	attempt := record{typ: recAttempt, nonce: nonce, kind: a.Kind, ip: ip, place: place}
	sights := [3]store.Sighting{
		{Key: userKey('a', a.UserID), Keep: m.keepAttempts,
			Signal: store.Signal{Time: now, Expires: now.Add(m.switchWindow), Data: attempt.encode()}},
		{Key: userKey('s', a.UserID), Keep: m.keepSign},
	}
	n := 2
	if addr.IsValid() {
		tried := record{typ: recTried, nonce: nonce, user: tagOf(a.UserID)}
		sights[2] = store.Sighting{Key: addressKey(addr), Keep: m.keepAddress,
			Signal: store.Signal{Time: now, Expires: now.Add(m.sprayWindow), Data: tried.encode()}}
		n = 3
	}
	lists, err := m.store.Observe(ctx, now, sights[:n]...)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	if len(lists) != n {
		return fmt.Errorf("%w: the store returned %d lists for %d sightings", ErrUnavailable, len(lists), n)
	}
	attempts, mine, err := list(lists[0], recAttempt, nonce)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	signIns, _, err := list(lists[1], 0, 0)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	var tried []record
	triedMine := -1
	if n == 3 {
		if tried, triedMine, err = list(lists[2], recTried, nonce); err != nil {
			return fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
	}

	base := Alert{Time: now, UserID: a.UserID, IP: ip, Place: place, Evidence: Evidence{FactorID: a.FactorID, FactorKind: a.Kind}}
	var alerts []Alert
	var deny error
	if n == 3 {
		before, after := m.spraying(tried, triedMine)
		if after >= m.sprayUsers {
			if !m.allowFlagged {
				deny = ErrAddressFlagged
			}
			if before < m.sprayUsers {
				al := base
				al.Kind, al.Severity = KindSpraying, SeverityCritical
				al.Evidence.Users, al.Evidence.Window, al.Evidence.Denied = after, m.sprayWindow, deny != nil
				alerts = append(alerts, al)
			}
		}
	}
	if kinds, first := m.switching(attempts, mine, now); first {
		al := base
		al.Kind, al.Severity = KindMethodSwitching, SeverityWarning
		al.Evidence.Kinds, al.Evidence.Window = kinds, m.switchWindow
		alerts = append(alerts, al)
	}
	// The attempt as built here, not as read back: a record from a clock
	// behind the others' may be trimmed from a full list at once.
	attempt.time = now
	if last, ok := latestSignIn(signIns); ok {
		if dist, speed, far := m.travel(last, attempt); far {
			if deny == nil && !m.allowTravel && !m.phishingResistant(a.Kind) {
				deny = ErrPhishingResistantRequired
			}
			if m.firstTravel(last, attempts, mine) {
				al := base
				al.Kind, al.Severity = KindImpossibleTravel, SeverityCritical
				al.Evidence.PrevIP, al.Evidence.PrevPlace, al.Evidence.PrevTime = last.ip, last.place, last.time
				al.Evidence.SessionID = last.session
				al.Evidence.DistanceKm, al.Evidence.SpeedKmh, al.Evidence.Denied = dist, speed, deny != nil
				alerts = append(alerts, al)
			}
		}
	}
	if err := m.deliver(ctx, alerts...); err != nil && deny == nil {
		deny = err
	}
	return deny
}

// confirming checks an enrolment confirmation, or an attempt that names
// no user (a passkey sign-in, whose response names the user): the first
// is by a user signed in already (enrolment needs a fresh verification),
// the second cannot be a guess at anyone's code, so neither adds to the
// lists, where a day of new users enrolling from one office would look
// like spraying; each is only denied from a flagged address.
func (m *Monitor) confirming(ctx context.Context, now time.Time, addr netip.Addr) error {
	if !addr.IsValid() {
		return nil
	}
	lists, err := m.store.Observe(ctx, now, store.Sighting{Key: addressKey(addr), Keep: m.keepAddress})
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	if len(lists) != 1 {
		return fmt.Errorf("%w: the store returned %d lists for 1 sighting", ErrUnavailable, len(lists))
	}
	recs, _, err := list(lists[0], 0, 0)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	if _, n := m.spraying(recs, -1); n >= m.sprayUsers && !m.allowFlagged {
		return ErrAddressFlagged
	}
	return nil
}

// locate places addr; an unknown address or no Locator is the zero
// Place. A failing locator is ErrUnavailable.
func (m *Monitor) locate(ctx context.Context, addr netip.Addr) (geo.Place, error) {
	if m.locator == nil || !addr.IsValid() {
		return geo.Place{}, nil
	}
	p, err := m.locator.Locate(ctx, addr)
	if err != nil {
		return geo.Place{}, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return clean(p), nil
}

// clean keeps a place within what a record holds: text fields cut to
// maxField bytes, a point dropped when it is not on the globe.
func clean(p geo.Place) geo.Place {
	if len(p.Country) > maxField {
		p.Country = p.Country[:maxField]
	}
	if len(p.Network) > maxField {
		p.Network = p.Network[:maxField]
	}
	if !(p.Lat >= -90 && p.Lat <= 90 && p.Lon >= -180 && p.Lon <= 180) || !(p.Radius >= 0) || math.IsInf(p.Radius, 1) {
		p.HasPoint, p.Lat, p.Lon, p.Radius = false, 0, 0, 0
	}
	if !p.HasPoint {
		p.Lat, p.Lon, p.Radius = 0, 0, 0
	}
	return p
}

func (m *Monitor) nonce() (uint64, error) {
	var b [8]byte
	if _, err := m.rand.Read(b[:]); err != nil {
		return 0, fmt.Errorf("%w: random source: %w", ErrUnavailable, err)
	}
	return binary.BigEndian.Uint64(b[:]), nil
}

// spraying counts the distinct users with an attempt from the address
// not followed by a sign-in of that user from there, without the caller's
// own record (before) and with it (after): the caller whose record makes
// the count reach the threshold is the one that raises the alert, however
// many instances write to the list at once.
func (m *Monitor) spraying(recs []record, mine int) (before, after int) {
	count := func(skip int) int {
		tried := map[userTag]time.Time{}
		signed := map[userTag]time.Time{}
		for i, r := range recs {
			if i == skip {
				continue
			}
			switch r.typ {
			case recTried:
				tried[r.user] = r.time
			case recSignedIn:
				signed[r.user] = r.time
			}
		}
		n := 0
		for u, t := range tried {
			if s, ok := signed[u]; !ok || t.After(s) {
				n++
			}
		}
		return n
	}
	return count(mine), count(-1)
}

// switching returns the distinct kinds of the user's attempts within
// the window ending at now, and whether the caller's own attempt is the
// one that brought their number to the threshold (as for spraying).
func (m *Monitor) switching(recs []record, mine int, now time.Time) ([]mfa.Kind, bool) {
	from := now.Add(-m.switchWindow)
	distinct := func(skip int) []mfa.Kind {
		var kinds []mfa.Kind
		for i, r := range recs {
			if i == skip || r.typ != recAttempt || r.kind == "" || r.time.Before(from) || slices.Contains(kinds, r.kind) {
				continue
			}
			kinds = append(kinds, r.kind)
		}
		return kinds
	}
	after := distinct(-1)
	if mine < 0 || len(after) < m.switchKinds {
		return after, false
	}
	return after, len(distinct(mine)) < m.switchKinds
}

// latestSignIn returns the user's most recent sign-in.
func latestSignIn(recs []record) (record, bool) {
	for i := len(recs) - 1; i >= 0; i-- {
		if recs[i].typ == recSignIn {
			return recs[i], true
		}
	}
	return record{}, false
}

// travel reports whether going from a to b at their times is faster than
// Config.MaxSpeed, with the least distance between them and the speed it
// implies. Clocks that disagree can put b before a: the time between them
// is taken as it is, in either direction, and two places apart at one
// instant are infinitely fast.
func (m *Monitor) travel(a, b record) (dist, speed float64, far bool) {
	if !a.place.HasPoint || !b.place.HasPoint {
		return 0, 0, false
	}
	dist = geo.Distance(a.place, b.place)
	if dist <= 0 {
		return dist, 0, false
	}
	dt := b.time.Sub(a.time)
	if dt < 0 {
		dt = -dt
	}
	if dt == 0 {
		return dist, math.Inf(1), true
	}
	speed = dist / dt.Hours()
	return dist, speed, speed > m.maxSpeed
}

// firstTravel reports whether no attempt of the user's list but the
// caller's was already impossible travel from the same sign-in: the
// alert is raised once, not at every retry.
func (m *Monitor) firstTravel(last record, attempts []record, mine int) bool {
	for i, r := range attempts {
		if i == mine || r.typ != recAttempt || r.time.Before(last.time) {
			continue
		}
		if _, _, far := m.travel(last, r); far {
			return false
		}
	}
	return true
}
