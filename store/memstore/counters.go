package memstore

import (
	"context"
	"time"

	"github.com/mfakit/mfa/store"
)

// Forgive implements [store.Counters].
func (s *Store) Forgive(ctx context.Context, now time.Time, counters ...store.Counter) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.forgive(now, counters)
	return nil
}

func (s *Store) forgive(now time.Time, counters []store.Counter) {
	for _, c := range counters {
		if st, ok := s.counters[c.Key]; ok {
			s.counters[c.Key] = c.Rule.Forgive(st, now)
		}
	}
}

// Hit implements [store.Counters]: the decision, the counting and the load of
// req.Load happen under one lock.
func (s *Store) Hit(ctx context.Context, req store.HitRequest) (store.HitResult, error) {
	if err := ctx.Err(); err != nil {
		return store.HitResult{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// Each counter is read once, for the decision and the count: the keys
	// are several strings, so hashing them is much of a Hit's cost.
	var buf [4]store.CounterState
	states := buf[:0]
	for _, c := range req.Counters {
		states = append(states, s.counters[c.Key])
	}
	res := store.DecideStates(req, states)
	if !res.Admitted {
		return res, nil
	}
	for i, c := range req.Counters {
		st := states[i]
		for _, d := range req.Counters[:i] {
			if d.Key == c.Key { // named twice: counted twice
				st = s.counters[c.Key]
				break
			}
		}
		s.counters[c.Key] = c.Rule.Apply(st, req.Now)
	}
	if req.Load.ID != "" {
		if f := s.factor(req.Load.UserID, req.Load.ID); f != nil {
			res.Factor, res.Found = cloneFactor(f), true
		}
	}
	return res, nil
}

// Reset implements [store.Counters].
func (s *Store) Reset(ctx context.Context, keys ...store.CounterKey) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range keys {
		delete(s.counters, k)
	}
	return nil
}

// CounterState implements [store.Counters]. An expired counter that has not
// been swept is returned as stored.
func (s *Store) CounterState(ctx context.Context, key store.CounterKey) (store.CounterState, error) {
	if err := ctx.Err(); err != nil {
		return store.CounterState{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counters[key], nil
}
