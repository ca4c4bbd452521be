package memstore

import (
	"context"
	"time"
)

// Sweep implements [store.Sweeper]: it deletes the challenges, counters,
// sessions, devices and signal records expired at now and returns how many went.
// A session goes once it is past Expires or IdleExpires, revoked or not.
func (s *Store) Sweep(ctx context.Context, now time.Time) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var n int64
	for id, c := range s.challenges {
		if !c.Expires.After(now) {
			delete(s.challenges, id)
			n++
		}
	}
	for k, c := range s.counters {
		if !live(c.Expires, now) {
			s.drop(k)
			n++
		}
	}
	for id, sess := range s.sessions {
		if !now.Before(sess.Expires) || !now.Before(sess.IdleExpires) {
			delete(s.sessions, id)
			n++
		}
	}
	for id, d := range s.devices {
		if !now.Before(d.Expires) {
			delete(s.devices, id)
			n++
		}
	}
	n += s.sweepSignals(now)
	return n, nil
}
