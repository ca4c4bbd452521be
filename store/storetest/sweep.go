package storetest

import (
	"testing"
	"time"

	"github.com/mfakit/mfa/store"
)

// testSweep runs when the backend is a [store.Sweeper]. It works years
// before base, so sweeping a shared database removes only what it made
// itself: every other subtest's records expire after base.
func testSweep(t *testing.T, s store.Store) {
	sw, ok := s.(store.Sweeper)
	if !ok {
		t.Skip("backend does not implement store.Sweeper")
	}
	early := func(d time.Duration) time.Time { return at(d - 6*365*24*time.Hour) }
	now := early(time.Hour)
	user := uid("user")

	// One expired and one live record of each kind; expiry at now counts
	// as expired.
	chDead, chLive := newChallenge(), newChallenge()
	chDead.Created, chDead.Expires = early(0), now
	chLive.Created, chLive.Expires = early(0), now.Add(time.Millisecond)
	must(t, "PutChallenge", s.PutChallenge(ctx, chDead))
	must(t, "PutChallenge", s.PutChallenge(ctx, chLive))

	markDead, markLive, markForever := uid("mark"), uid("mark"), uid("mark")
	must(t, "Mark", s.Mark(ctx, markDead, early(0), early(time.Minute)))
	must(t, "Mark", s.Mark(ctx, markLive, early(0), early(2*time.Hour)))
	must(t, "Mark", s.Mark(ctx, markForever, early(0), time.Time{}))

	ctrDead, ctrLive, ctrForever := userKey(), userKey(), userKey()
	for _, c := range []store.Counter{
		{Key: ctrDead, Rule: store.Rule{TTL: time.Minute}},
		{Key: ctrLive, Rule: store.Rule{TTL: 2 * time.Hour}},
		{Key: ctrForever},
	} {
		_, err := s.Hit(ctx, store.HitRequest{Now: early(0), Counters: []store.Counter{c}})
		must(t, "Hit", err)
	}

	sessIdle, sessAbs, sessLive := newSession(user), newSession(user), newSession(user)
	for _, p := range []*store.Session{&sessIdle, &sessAbs, &sessLive} {
		p.Created, p.LastUsed, p.IdleExpires, p.Expires = early(0), early(0), early(2*time.Hour), early(12*time.Hour)
	}
	sessIdle.IdleExpires = early(30 * time.Minute)
	sessAbs.Expires = early(time.Hour)
	for _, x := range []store.Session{sessIdle, sessAbs, sessLive} {
		must(t, "CreateSession", s.CreateSession(ctx, x))
	}

	devDead, devLive := newDevice(user), newDevice(user)
	devDead.Created, devDead.Expires = early(0), early(time.Minute)
	devLive.Created, devLive.Expires = early(0), early(24*time.Hour)
	must(t, "CreateDevice", s.CreateDevice(ctx, devDead))
	must(t, "CreateDevice", s.CreateDevice(ctx, devLive))

	n, err := sw.Sweep(ctx, now)
	must(t, "Sweep", err)
	// A shared database may hold other expired rows, so at least.
	const dead = 6
	if n < dead {
		t.Errorf("Sweep removed %d rows, want at least %d", n, dead)
	}

	// Gone: the expired ones.
	_, err = s.TakeChallenge(ctx, chDead.ID, early(0))
	wantErr(t, "TakeChallenge of a swept challenge, earlier clock", err, store.ErrNotFound)
	must(t, "Mark of a swept mark", s.Mark(ctx, markDead, early(0), early(time.Minute)))
	st, err := s.CounterState(ctx, ctrDead)
	must(t, "CounterState", err)
	checkState(t, "swept counter", st, store.CounterState{})
	for _, x := range []store.Session{sessIdle, sessAbs} {
		_, err = s.GetSession(ctx, x.ID)
		wantErr(t, "GetSession of a swept session", err, store.ErrNotFound)
	}
	_, err = s.GetDevice(ctx, devDead.ID, early(0))
	wantErr(t, "GetDevice of a swept device, earlier clock", err, store.ErrNotFound)

	// Kept: the live ones, and those that never expire.
	got, err := s.TakeChallenge(ctx, chLive.ID, now)
	must(t, "TakeChallenge of a live challenge", err)
	checkChallenge(t, "live challenge after Sweep", got, chLive)
	wantErr(t, "Mark of a live mark", s.Mark(ctx, markLive, now, early(3*time.Hour)), store.ErrExists)
	wantErr(t, "Mark of a mark kept forever", s.Mark(ctx, markForever, now, time.Time{}), store.ErrExists)
	st, err = s.CounterState(ctx, ctrLive)
	must(t, "CounterState", err)
	checkState(t, "live counter", st, store.CounterState{Failures: 1, Expires: early(2 * time.Hour)})
	st, err = s.CounterState(ctx, ctrForever)
	must(t, "CounterState", err)
	checkState(t, "counter without TTL", st, store.CounterState{Failures: 1})
	sess, err := s.GetSession(ctx, sessLive.ID)
	must(t, "GetSession", err)
	checkSession(t, "live session after Sweep", sess, sessLive)
	dev, err := s.GetDevice(ctx, devLive.ID, now)
	must(t, "GetDevice", err)
	checkDevice(t, "live device after Sweep", dev, devLive)
}
