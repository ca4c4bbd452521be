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
		if p := s.counters[c.Key]; p != nil {
			*p = c.Rule.Forgive(*p, now)
		}
	}
}

// maxSpare bounds the memory of dropped counters kept for new ones.
const maxSpare = 64

// drop deletes a counter and keeps its memory for the next new one, so
// that a success's reset and the next attempt's count allocate nothing;
// s.mu is held.
func (s *Store) drop(k store.CounterKey) {
	p := s.counters[k]
	if p == nil {
		return
	}
	delete(s.counters, k)
	if len(s.spare) < maxSpare {
		*p = store.CounterState{}
		s.spare = append(s.spare, p)
	}
}

// add stores a new counter; s.mu is held.
func (s *Store) add(k store.CounterKey, st store.CounterState) {
	var p *store.CounterState
	if n := len(s.spare); n > 0 {
		p, s.spare = s.spare[n-1], s.spare[:n-1]
	} else {
		p = new(store.CounterState)
	}
	*p = st
	s.counters[k] = p
}

// Hit implements [store.Counters]: the decision, the counting and the load of
// req.Load happen under one lock.
func (s *Store) Hit(ctx context.Context, req store.HitRequest) (store.HitResult, error) {
	if err := ctx.Err(); err != nil {
		return store.HitResult{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// Each counter is looked up once, for the decision and the count: the
	// keys are several strings, so hashing them is much of a Hit's cost.
	var pbuf [4]*store.CounterState
	var sbuf [4]store.CounterState
	ptrs, states := pbuf[:0], sbuf[:0]
	for _, c := range req.Counters {
		p := s.counters[c.Key]
		ptrs = append(ptrs, p)
		if p != nil {
			states = append(states, *p)
		} else {
			states = append(states, store.CounterState{})
		}
	}
	res := store.DecideStates(req, states)
	if !res.Admitted {
		return res, nil
	}
	for i, c := range req.Counters {
		p := ptrs[i]
		if p == nil {
			p = s.counters[c.Key] // named twice: the first made it
		}
		if p == nil {
			s.add(c.Key, c.Rule.Apply(store.CounterState{}, req.Now))
			continue
		}
		*p = c.Rule.Apply(*p, req.Now)
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
		s.drop(k)
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
	if p := s.counters[key]; p != nil {
		return *p, nil
	}
	return store.CounterState{}, nil
}
