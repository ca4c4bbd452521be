package mongostore

import (
	"context"
	"slices"
	"time"

	"github.com/mfakit/mfa/store"
)

func counterKey(k store.CounterKey) string { return tCounter + k.String() }

func toState(r *rec) store.CounterState {
	if r == nil || r.Z {
		return store.CounterState{}
	}
	return store.CounterState{Failures: r.Failures, Until: fromMicros(r.Until), Expires: fromMicros(r.Expires)}
}

// setState writes st into the version n; a zero state marks the counter
// cleared, which Sweep may remove once the version is old enough.
func setState(n *rec, st store.CounterState) {
	n.Failures, n.Until, n.Expires, n.X = st.Failures, micros(st.Until), micros(st.Expires), micros(st.Expires)
	n.Z = st == store.CounterState{}
}

// nextCounter returns the version after cur (nil: none yet) of counter k.
func (s *Store) nextCounter(k string, cur *rec) *rec {
	if cur == nil {
		return s.first(k, tCounter, 0)
	}
	return s.next(cur)
}

// Hit implements [store.Counters]. One query reads the heads of every
// counter (and of the factor to load); when the attempt is admitted, one
// ordered insert writes each counter's next version, in the order of
// their keys, and one command their heads. A
// counter's next version is a compare-and-set on the version read: when
// its _id is taken, another attempt was counted first, and that counter
// and the ones after it are read, decided and written again (those before
// it are counted already). So every admitted attempt is counted on every
// counter, each count decided on the state it replaced, and no update is
// lost. Attempts on the same counters meet on the first one, so only one
// of them goes on to the others; an attempt whose counters only partly
// overlap another's may be refused on the second reading after the first
// counters counted it: an over-count, never an under-count.
func (s *Store) Hit(ctx context.Context, req store.HitRequest) (store.HitResult, error) {
	const op = "hit"
	keys := make([]string, 0, len(req.Counters)+1)
	for _, c := range req.Counters {
		keys = append(keys, counterKey(c.Key))
	}
	fk := ""
	if req.Load.ID != "" {
		fk = factorKey(req.Load.UserID, req.Load.ID)
		keys = append(keys, fk)
	}
	m, start, err := s.heads(ctx, keys...)
	if err != nil {
		return store.HitResult{}, wrap(op, err)
	}
	if r := s.decideCounters(req, keys, m); r.Locked {
		// A lock read from heads is read again from the newest versions:
		// a head left behind must not lock anyone for good.
		if m, start, err = s.latest(ctx, keys...); err != nil {
			return store.HitResult{}, wrap(op, err)
		}
	}
	loadedAt := start
	wrote := make(map[string]*rec)         // the versions this Hit wrote
	todo := make([]int, len(req.Counters)) // indexes of req.Counters still to count
	for i := range todo {
		todo[i] = i
	}
	var res store.HitResult
	for first := true; ; first = false {
		states := make([]store.CounterState, len(todo))
		sub := store.HitRequest{Now: req.Now, Counters: make([]store.Counter, len(todo))}
		for j, i := range todo {
			states[j] = toState(m[keys[i]])
			sub.Counters[j] = req.Counters[i]
		}
		r := store.DecideStates(sub, states)
		if first {
			res = r
		}
		if !r.Admitted {
			return store.HitResult{Locked: r.Locked, RetryAfter: r.RetryAfter}, nil
		}
		// One version per counter key; a key named twice counts twice.
		next := make(map[string]*rec)
		owners := make(map[string][]int)
		var order []string
		for _, i := range todo {
			k := keys[i]
			n := next[k]
			if n == nil {
				n = s.nextCounter(k, m[k])
				next[k] = n
				order = append(order, k)
			}
			setState(n, req.Counters[i].Rule.Apply(toState(n), req.Now))
			owners[k] = append(owners[k], i)
		}
		if len(order) == 0 {
			break
		}
		// In one order for every Hit, and ordered, so that of attempts on
		// the same counters the one that takes the first counter's next
		// version takes the others' too.
		slices.Sort(order)
		vs := make([]*rec, len(order))
		for j, k := range order {
			vs[j] = next[k]
		}
		taken, err := s.insert(ctx, start, true, vs...)
		if err != nil {
			return store.HitResult{}, wrap(op, err)
		}
		for j, v := range vs {
			if !slices.Contains(taken, j) {
				wrote[v.K] = v
			}
		}
		if len(taken) == 0 {
			break
		}
		todo = todo[:0]
		var again []string
		for _, j := range taken {
			todo = append(todo, owners[order[j]]...)
			again = append(again, order[j])
		}
		if err := ctx.Err(); err != nil {
			return store.HitResult{}, wrap(op, err)
		}
		fresh, st, err := s.latest(ctx, again...)
		if err != nil {
			return store.HitResult{}, wrap(op, err)
		}
		for _, k := range again {
			m[k] = fresh[k]
		}
		start = st
	}
	res.Admitted = true
	if fk != "" && live(m[fk]) {
		res.Found, res.Factor = true, toFactor(m[fk])
		// For the Advance that commits a success (see recent). Each
		// version written was the newest when its insert began, after
		// the latest read.
		s.recent.put(loadedAt, m[fk])
		for _, v := range wrote {
			s.recent.put(start, v)
		}
	}
	return res, nil
}

// decideCounters decides req on the states in m.
func (s *Store) decideCounters(req store.HitRequest, keys []string, m map[string]*rec) store.HitResult {
	states := make([]store.CounterState, len(req.Counters))
	for i := range req.Counters {
		states[i] = toState(m[keys[i]])
	}
	return store.DecideStates(req, states)
}

// counterOp is one reset (Forgive nil) or forgive of one counter.
type counterOp struct {
	key     string
	forgive *store.Counter
}

func counterOps(reset []store.CounterKey, forgive []store.Counter) []counterOp {
	ops := make([]counterOp, 0, len(reset)+len(forgive))
	for _, k := range reset {
		ops = append(ops, counterOp{key: counterKey(k)})
	}
	for i := range forgive {
		ops = append(ops, counterOp{key: counterKey(forgive[i].Key), forgive: &forgive[i]})
	}
	return ops
}

// counterChanges returns the next version of each counter ops change,
// given the newest versions in m, and for each version the ops that made
// it. A counter already in the state an op asks for gets no version.
//
// Read from heads only (fresh false), a counter that seems already so is
// written all the same, since its head may be behind.
func (s *Store) counterChanges(m map[string]*rec, now time.Time, ops []counterOp, fresh bool) ([]*rec, [][]counterOp) {
	next := make(map[string]int)
	var vs []*rec
	var owners [][]counterOp
	for _, o := range ops {
		j, ok := next[o.key]
		var st store.CounterState
		if ok {
			st = toState(vs[j])
		} else {
			st = toState(m[o.key])
		}
		var after store.CounterState
		if o.forgive != nil {
			after = o.forgive.Rule.Forgive(st, now)
		}
		if !ok {
			if m[o.key] == nil || fresh && after == st {
				continue // missing, or already so
			}
			j = len(vs)
			next[o.key] = j
			vs = append(vs, s.nextCounter(o.key, m[o.key]))
			owners = append(owners, nil)
		}
		setState(vs[j], after)
		owners[j] = append(owners[j], o)
	}
	return vs, owners
}

// applyCounterOps runs ops, reading again and retrying each counter whose
// next version another writer took first.
func (s *Store) applyCounterOps(ctx context.Context, now time.Time, ops []counterOp) error {
	for len(ops) > 0 {
		keys := make([]string, len(ops))
		for i, o := range ops {
			keys[i] = o.key
		}
		m, start, err := s.latest(ctx, keys...)
		if err != nil {
			return err
		}
		vs, owners := s.counterChanges(m, now, ops, true)
		if len(vs) == 0 {
			return nil
		}
		taken, err := s.insert(ctx, start, false, vs...)
		if err != nil {
			return err
		}
		ops = ops[:0:0]
		for _, j := range taken {
			ops = append(ops, owners[j]...)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return nil
}

// Reset implements [store.Counters]: a cleared counter's next version
// holds the zero state.
func (s *Store) Reset(ctx context.Context, keys ...store.CounterKey) error {
	if len(keys) == 0 {
		return nil
	}
	return wrap("reset", s.applyCounterOps(ctx, time.Time{}, counterOps(keys, nil)))
}

// Forgive implements [store.Counters].
func (s *Store) Forgive(ctx context.Context, now time.Time, counters ...store.Counter) error {
	if len(counters) == 0 {
		return nil
	}
	return wrap("forgive", s.applyCounterOps(ctx, now, counterOps(nil, counters)))
}

// CounterState implements [store.Counters].
func (s *Store) CounterState(ctx context.Context, key store.CounterKey) (store.CounterState, error) {
	k := counterKey(key)
	m, _, err := s.latest(ctx, k)
	if err != nil {
		return store.CounterState{}, wrap("counter state", err)
	}
	return toState(m[k]), nil
}
