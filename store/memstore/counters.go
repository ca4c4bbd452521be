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
	res := store.Decide(req, func(k store.CounterKey) store.CounterState { return s.counters[k] })
	if !res.Admitted {
		return res, nil
	}
	for _, c := range req.Counters {
		s.counters[c.Key] = c.Rule.Apply(s.counters[c.Key], req.Now)
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
