package monitor

import (
	"context"
	"fmt"
	"time"

	"github.com/mfakit/mfa/session"
	"github.com/mfakit/mfa/store"
)

// SessionHook returns the hook to set in session.Config.Hooks. On
// session.started and session.stepped_up it makes one Observe call that
// adds the sign-in to the user's sign-ins (session, address, place,
// level, time) and a sign-in to the address's list (which clears that
// user's attempts from it for spraying), and detects:
//
//   - a country or a network the user has not signed in from within
//     Config.Lookback (a user with no earlier sign-in of known place
//     raises nothing);
//   - impossible travel from the user's previous sign-in;
//   - a new session in one country while one started in another country
//     is live (not revoked, started within Config.SessionLive).
//
// On session.revoked it makes one Observe call that marks the session
// (or, for a user-wide revocation, every earlier session) ended. On
// session.reuse_detected it raises KindTokenReuse without store I/O.
// A store or locator error is returned, which refuses the session.
func (m *Monitor) SessionHook() session.Hook { return m.sessionHook }

func (m *Monitor) sessionHook(ctx context.Context, e session.Event) error {
	if e.UserID == "" {
		return nil
	}
	switch e.Type {
	case session.EventStarted, session.EventSteppedUp:
		return m.signedIn(ctx, e)
	case session.EventRevoked:
		return m.ended(ctx, e)
	case session.EventReuseDetected:
		return m.deliver(ctx, Alert{Kind: KindTokenReuse, Severity: SeverityCritical, Time: m.now(), UserID: e.UserID,
			Evidence: Evidence{Event: string(e.Type), SessionID: e.SessionID}})
	}
	return nil
}

func (m *Monitor) signedIn(ctx context.Context, e session.Event) error {
	now := m.now()
	addr := parseAddr(e.IP)
	place, err := m.locate(ctx, addr)
	if err != nil {
		return err
	}
	nonce, err := m.nonce()
	if err != nil {
		return err
	}
	r := record{typ: recSignIn, nonce: nonce, session: e.SessionID, place: place, aal: e.AAL, live: now.Add(m.sessionLive)}
	if addr.IsValid() {
		r.ip = addr.String()
	}
	sights := []store.Sighting{{Key: userKey('s', e.UserID), Keep: m.keepSign,
		Signal: store.Signal{Time: now, Expires: now.Add(m.lookback), Data: r.encode()}}}
	if addr.IsValid() {
		s := record{typ: recSignedIn, nonce: nonce, user: tagOf(e.UserID)}
		sights = append(sights, store.Sighting{Key: addressKey(addr), Keep: m.keepAddress,
			Signal: store.Signal{Time: now, Expires: now.Add(m.sprayWindow), Data: s.encode()}})
	}
	// The user's attempts, read in the same call: the travel the Guard
	// already alerted about, at the attempt from this address, is not
	// alerted again.
	sights = append(sights, store.Sighting{Key: userKey('a', e.UserID), Keep: m.keepAttempts})
	lists, err := m.store.Observe(ctx, now, sights...)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	if len(lists) != len(sights) {
		return fmt.Errorf("%w: the store returned %d lists for %d sightings", ErrUnavailable, len(lists), len(sights))
	}
	recs, mine, err := list(lists[0], recSignIn, nonce)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	// The sign-in as built here, not as read back: a record from a clock
	// behind the others' may be trimmed from a full list at once (mine is
	// then -1, and every record is another's).
	me := r
	me.time = now
	base := Alert{Time: now, UserID: e.UserID, IP: r.ip, Place: place, Evidence: Evidence{Event: string(e.Type), SessionID: e.SessionID}}
	var alerts []Alert
	var prev record
	hasPrev, countries, networks, seenCountry, seenNetwork, sameSession := false, 0, 0, false, false, false
	for i, o := range recs {
		if i == mine || o.typ != recSignIn {
			continue
		}
		prev, hasPrev = o, true
		if o.place.Country != "" {
			countries++
			seenCountry = seenCountry || o.place.Country == place.Country
		}
		if o.place.Network != "" {
			networks++
			seenNetwork = seenNetwork || o.place.Network == place.Network
		}
		sameSession = sameSession || (o.session == e.SessionID && e.SessionID != "")
	}
	withPrev := func(al Alert, kind AlertKind, sev Severity) Alert {
		al.Kind, al.Severity = kind, sev
		al.Evidence.PrevIP, al.Evidence.PrevPlace, al.Evidence.PrevTime = prev.ip, prev.place, prev.time
		al.Evidence.Window = m.lookback
		return al
	}
	if place.Country != "" && countries > 0 && !seenCountry {
		alerts = append(alerts, withPrev(base, KindNewCountry, SeverityWarning))
	}
	if place.Network != "" && networks > 0 && !seenNetwork {
		alerts = append(alerts, withPrev(base, KindNewNetwork, SeverityWarning))
	}
	attempts, _, err := list(lists[len(lists)-1], 0, 0)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	if hasPrev {
		if dist, speed, far := m.travel(prev, me); far && !m.travelledFrom(prev, attempts, me.ip) {
			al := withPrev(base, KindImpossibleTravel, SeverityCritical)
			al.Evidence.Window = 0
			al.Evidence.OtherSessionID = prev.session
			al.Evidence.DistanceKm, al.Evidence.SpeedKmh = dist, speed
			alerts = append(alerts, al)
		}
	}
	if !sameSession && place.Country != "" {
		if o, ok := liveElsewhere(recs, me, mine, now); ok {
			al := base
			al.Kind, al.Severity = KindSimultaneousSessions, SeverityCritical
			al.Evidence.OtherSessionID = o.session
			al.Evidence.PrevIP, al.Evidence.PrevPlace, al.Evidence.PrevTime = o.ip, o.place, o.time
			alerts = append(alerts, al)
		}
	}
	return m.deliver(ctx, alerts...)
}

// liveElsewhere returns a live session of the list started in another
// known country than me (recs[mine], when it is there): not this
// session, not ended by a later revocation, and within its SessionLive
// at now.
func liveElsewhere(recs []record, me record, mine int, now time.Time) (record, bool) {
	for i, o := range recs {
		if i == mine || o.typ != recSignIn || o.session == me.session || !o.live.After(now) ||
			o.place.Country == "" || o.place.Country == me.place.Country {
			continue
		}
		if !endedAfter(recs, o) {
			return o, true
		}
	}
	return record{}, false
}

// endedAfter reports whether s was revoked: by its own revocation, or by
// a user-wide one at or after it started.
func endedAfter(recs []record, s record) bool {
	for _, r := range recs {
		switch {
		case r.typ == recEnded && r.session == s.session && s.session != "":
			return true
		case r.typ == recEndedAll && !r.time.Before(s.time):
			return true
		}
	}
	return false
}

// ended marks a revoked session, or all of a user's sessions, ended.
func (m *Monitor) ended(ctx context.Context, e session.Event) error {
	now := m.now()
	nonce, err := m.nonce()
	if err != nil {
		return err
	}
	r := record{typ: recEndedAll, nonce: nonce}
	if e.SessionID != "" {
		r.typ, r.session = recEnded, e.SessionID
	}
	_, err = m.store.Observe(ctx, now, store.Sighting{Key: userKey('s', e.UserID), Keep: m.keepSign,
		Signal: store.Signal{Time: now, Expires: now.Add(m.sessionLive), Data: r.encode()}})
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return nil
}

// travelledFrom reports whether an attempt from ip since last was
// already impossible travel from it: the Guard alerted about it.
func (m *Monitor) travelledFrom(last record, attempts []record, ip string) bool {
	for _, r := range attempts {
		if r.typ != recAttempt || r.ip != ip || r.time.Before(last.time) {
			continue
		}
		if _, _, far := m.travel(last, r); far {
			return true
		}
	}
	return false
}
