package storetest

import (
	"testing"
	"time"

	"github.com/mfakit/mfa/store"
)

// testSweep runs when the value is a [store.Sweeper]; it expires records of
// each concern the value also keeps (challenges, counters, sessions,
// devices, signals). It works years before base, so sweeping a shared database
// removes only what it made itself: every other subtest's records expire
// after base.
func testSweep(t *testing.T, v any) {
	sw := v.(store.Sweeper)
	early := func(d time.Duration) time.Time { return at(d - 6*365*24*time.Hour) }
	now := early(time.Hour)
	user := uid("user")

	// One expired and one live record of each kind; expiry at now counts
	// as expired. check runs after the sweep.
	var dead int64
	var checks []func()

	if s, ok := v.(store.Challenges); ok {
		chDead, chLive := newChallenge(), newChallenge()
		chDead.Created, chDead.Expires = early(0), now
		chLive.Created, chLive.Expires = early(0), now.Add(time.Millisecond)
		must(t, "PutChallenge", s.PutChallenge(ctx, chDead))
		must(t, "PutChallenge", s.PutChallenge(ctx, chLive))
		dead++
		checks = append(checks, func() {
			_, err := s.TakeChallenge(ctx, chDead.ID, early(0))
			wantErr(t, "TakeChallenge of a swept challenge, earlier clock", err, store.ErrNotFound)
			got, err := s.TakeChallenge(ctx, chLive.ID, now)
			must(t, "TakeChallenge of a live challenge", err)
			checkChallenge(t, "live challenge after Sweep", got, chLive)
		})
	}

	if s, ok := v.(store.Counters); ok {
		ctrDead, ctrLive, ctrForever := userKey(), userKey(), userKey()
		for _, c := range []store.Counter{
			{Key: ctrDead, Rule: store.Rule{TTL: time.Minute}},
			{Key: ctrLive, Rule: store.Rule{TTL: 2 * time.Hour}},
			{Key: ctrForever},
		} {
			_, err := s.Hit(ctx, store.HitRequest{Now: early(0), Counters: []store.Counter{c}})
			must(t, "Hit", err)
		}
		dead++
		checks = append(checks, func() {
			st, err := s.CounterState(ctx, ctrDead)
			must(t, "CounterState", err)
			checkState(t, "swept counter", st, store.CounterState{})
			st, err = s.CounterState(ctx, ctrLive)
			must(t, "CounterState", err)
			checkState(t, "live counter", st, store.CounterState{Failures: 1, Expires: early(2 * time.Hour)})
			st, err = s.CounterState(ctx, ctrForever)
			must(t, "CounterState", err)
			checkState(t, "counter without TTL", st, store.CounterState{Failures: 1})
		})
	}

	if s, ok := v.(store.Sessions); ok {
		sessIdle, sessAbs, sessLive := newSession(user), newSession(user), newSession(user)
		for _, p := range []*store.Session{&sessIdle, &sessAbs, &sessLive} {
			p.Created, p.LastUsed, p.IdleExpires, p.Expires = early(0), early(0), early(2*time.Hour), early(12*time.Hour)
		}
		sessIdle.IdleExpires = early(30 * time.Minute)
		sessAbs.Expires = early(time.Hour)
		for _, x := range []store.Session{sessIdle, sessAbs, sessLive} {
			must(t, "CreateSession", s.CreateSession(ctx, x))
		}
		dead += 2
		checks = append(checks, func() {
			for _, x := range []store.Session{sessIdle, sessAbs} {
				_, err := s.GetSession(ctx, x.ID)
				wantErr(t, "GetSession of a swept session", err, store.ErrNotFound)
			}
			sess, err := s.GetSession(ctx, sessLive.ID)
			must(t, "GetSession", err)
			checkSession(t, "live session after Sweep", sess, sessLive)
		})
	}

	if s, ok := v.(store.Devices); ok {
		devDead, devLive := newDevice(user), newDevice(user)
		devDead.Created, devDead.Expires = early(0), early(time.Minute)
		devLive.Created, devLive.Expires = early(0), early(24*time.Hour)
		must(t, "CreateDevice", s.CreateDevice(ctx, devDead))
		must(t, "CreateDevice", s.CreateDevice(ctx, devLive))
		dead++
		checks = append(checks, func() {
			_, err := s.GetDevice(ctx, devDead.ID, early(0))
			wantErr(t, "GetDevice of a swept device, earlier clock", err, store.ErrNotFound)
			dev, err := s.GetDevice(ctx, devLive.ID, now)
			must(t, "GetDevice", err)
			checkDevice(t, "live device after Sweep", dev, devLive)
		})
	}

	if s, ok := v.(store.Signals); ok {
		// One list keeps a live record beside an expired one; the other
		// holds only expired records.
		mixed, gone := uid("sig"), uid("sig")
		live := store.Signal{Time: early(time.Millisecond), Expires: now.Add(time.Millisecond), Data: []byte("live")}
		_, err := s.Observe(ctx, early(0),
			store.Sighting{Key: mixed, Signal: store.Signal{Time: early(0), Expires: now, Data: []byte("dead")}, Keep: 10},
			store.Sighting{Key: mixed, Signal: live, Keep: 10},
			store.Sighting{Key: gone, Signal: store.Signal{Time: early(0), Expires: early(time.Minute), Data: []byte("dead")}, Keep: 10})
		must(t, "Observe", err)
		dead += 2
		checks = append(checks, func() {
			// An earlier clock would still see the expired records, had
			// Sweep left them.
			lists, err := s.Observe(ctx, early(0), store.Sighting{Key: mixed, Keep: 10}, store.Sighting{Key: gone, Keep: 10})
			must(t, "Observe after Sweep, earlier clock", err)
			checkSignals(t, "list with a live record after Sweep", lists[0], []store.Signal{live})
			checkSignals(t, "list of expired records after Sweep", lists[1], []store.Signal{})
		})
	}

	n, err := sw.Sweep(ctx, now)
	must(t, "Sweep", err)
	// A shared database may hold other expired rows, so at least.
	if n < dead {
		t.Errorf("Sweep removed %d rows, want at least %d", n, dead)
	}
	// Gone: the expired ones. Kept: the live ones, and those that never
	// expire.
	for _, check := range checks {
		check()
	}
}
