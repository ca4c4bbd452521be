package memstore

import (
	"context"
	"slices"
	"time"

	"github.com/mfakit/mfa/store"
)

var _ store.Signals = (*Store)(nil)

// Observe implements [store.Signals]: every sighting under one lock.
func (s *Store) Observe(ctx context.Context, now time.Time, sightings ...store.Sighting) ([][]store.Signal, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(sightings) == 0 {
		return nil, nil
	}
	for _, o := range sightings {
		if err := o.Check(); err != nil {
			return nil, err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.signals == nil {
		s.signals = make(map[string][]store.Signal)
	}
	lists := make([][]store.Signal, len(sightings))
	for i, o := range sightings {
		l := slices.DeleteFunc(s.signals[o.Key], func(r store.Signal) bool { return !now.Before(r.Expires) })
		if o.Signal.Data != nil && now.Before(o.Signal.Expires) {
			r := o.Signal
			r.Data = slices.Clone(r.Data)
			// Insert after every record at or before its Time: oldest
			// first, and in the order added among equal times.
			at := len(l)
			for at > 0 && l[at-1].Time.After(r.Time) {
				at--
			}
			l = slices.Insert(l, at, r)
		}
		if len(l) > o.Keep {
			l = slices.Delete(l, 0, len(l)-o.Keep)
		}
		if len(l) == 0 {
			delete(s.signals, o.Key)
		} else {
			s.signals[o.Key] = l
		}
		out := make([]store.Signal, len(l))
		for j, r := range l {
			out[j] = store.Signal{Time: r.Time, Expires: r.Expires, Data: slices.Clone(r.Data)}
		}
		lists[i] = out
	}
	return lists, nil
}

// sweepSignals drops expired signal records; s.mu is held.
func (s *Store) sweepSignals(now time.Time) int64 {
	var n int64
	for k, l := range s.signals {
		before := len(l)
		l = slices.DeleteFunc(l, func(r store.Signal) bool { return !now.Before(r.Expires) })
		n += int64(before - len(l))
		if len(l) == 0 {
			delete(s.signals, k)
		} else {
			s.signals[k] = l
		}
	}
	return n
}
