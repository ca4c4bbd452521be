package redisstore

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/mfakit/mfa/store"
)

// A counter is a hash with "n" (failures), "u" (until, ms) and "e"
// (expires, ms), the last two absent when zero. Redis drops it grace after
// its expiry; without a TTL it stays until a Reset.

// hitGroup is the part of a Hit that one script decides.
type hitGroup struct {
	counters []store.Counter
	keys     []string
	load     string // factor key to load, or ""
}

// Hit implements [store.Counters] with one script that reads every counter,
// decides, counts and loads the factor, so a TOTP attempt is one round
// trip.
//
// On a sharded Redis the counters are grouped by hash slot (the user's
// counters and the factor in one, the IP counter in another) and each group
// is one script. All groups are first asked to decide without counting; if
// any refuses, nothing is counted and the result is exact. Otherwise every
// group counts, in one pipeline. Each group is atomic, so no counter ever
// admits more than its rule allows; but if a concurrent attempt blocked a
// group between the two steps, the groups that did count keep the
// failure, which errs on the side of counting.
func (s *Store) Hit(ctx context.Context, req store.HitRequest) (store.HitResult, error) {
	var load string
	if req.Load.ID != "" {
		load = s.factorKey(req.Load.UserID, req.Load.ID)
	}
	if !s.sharded {
		g := hitGroup{counters: req.Counters, keys: make([]string, 0, len(req.Counters)+1), load: load}
		for _, c := range req.Counters {
			g.keys = append(g.keys, s.counterKey(c.Key))
		}
		return s.hit(ctx, req.Now, g)
	}
	groups := s.hitGroups(req.Counters, load)
	if len(groups) == 1 {
		return s.hit(ctx, req.Now, groups[0])
	}
	peek := make([]call, len(groups))
	for i, g := range groups {
		peek[i] = s.hitCall(req.Now, g, "p")
	}
	if res, err := s.hitMany(ctx, peek); err != nil || !res.Admitted {
		return res, err
	}
	count := make([]call, len(groups))
	for i, g := range groups {
		count[i] = s.hitCall(req.Now, g, "")
	}
	return s.hitMany(ctx, count)
}

// hitGroups splits counters by hash tag; the factor to load joins the
// group of its own tag (the user's), or a group of its own.
func (s *Store) hitGroups(counters []store.Counter, load string) []hitGroup {
	var groups []hitGroup
	index := map[string]int{}
	for _, c := range counters {
		k := s.counterKey(c.Key)
		tag := tagOf(k)
		i, ok := index[tag]
		if !ok {
			i = len(groups)
			index[tag] = i
			groups = append(groups, hitGroup{})
		}
		groups[i].counters = append(groups[i].counters, c)
		groups[i].keys = append(groups[i].keys, k)
	}
	if load != "" {
		i, ok := index[tagOf(load)]
		if !ok {
			i = len(groups)
			groups = append(groups, hitGroup{})
		}
		groups[i].load = load
	}
	if len(groups) == 0 {
		groups = append(groups, hitGroup{})
	}
	return groups
}

// hitCall is the script call for one group. mode "p" only decides;
// otherwise the group counts and loads its factor, if it has one.
func (s *Store) hitCall(now time.Time, g hitGroup, mode string) call {
	keys := g.keys
	switch {
	case mode == "p":
	case g.load != "":
		mode = "1"
		keys = append(keys, g.load)
	default:
		mode = "0"
	}
	ms := msDown(now)
	args := make([]any, 0, 4+6*len(g.counters))
	args = append(args, ms, len(g.counters), mode, grace.Milliseconds())
	for _, c := range g.counters {
		r := c.Rule
		expires, live := "", ""
		if ttl := durMs(r.TTL); ttl > 0 {
			expires = strconv.FormatInt(ms+ttl, 10)
			live = strconv.FormatInt(ttl+grace.Milliseconds(), 10)
		}
		args = append(args, max(r.Free, 0), durMs(r.Base), durMs(r.Max), max(r.Cap, 0), expires, live)
	}
	return call{keys: keys, args: args}
}

func (s *Store) hit(ctx context.Context, now time.Time, g hitGroup) (store.HitResult, error) {
	c := s.hitCall(now, g, "")
	v, err := hitScript.Run(ctx, s.c, c.keys, c.args...).Slice()
	if err != nil {
		return store.HitResult{}, fail("hit", err)
	}
	return hitResult(v, g.load != "")
}

// hitMany runs the calls of several groups in one pipeline and merges
// their decisions: admitted only if every group admitted, locked if any
// is, RetryAfter the latest of the delayed groups.
func (s *Store) hitMany(ctx context.Context, calls []call) (store.HitResult, error) {
	cmds, err := s.runMany(ctx, hitScript, calls)
	if err != nil {
		return store.HitResult{}, fail("hit", err)
	}
	out := store.HitResult{Admitted: true}
	for i, c := range cmds {
		v, err := c.Slice()
		if err != nil {
			return store.HitResult{}, fail("hit", err)
		}
		r, err := hitResult(v, calls[i].args[2] == "1")
		if err != nil {
			return store.HitResult{}, err
		}
		switch {
		case r.Admitted:
			if r.Found {
				out.Factor, out.Found = r.Factor, true
			}
		case r.Locked:
			out.Admitted, out.Locked = false, true
		default:
			out.Admitted = false
			if r.RetryAfter.After(out.RetryAfter) {
				out.RetryAfter = r.RetryAfter
			}
		}
	}
	if !out.Admitted {
		out.Found, out.Factor = false, store.Factor{}
		if out.Locked {
			out.RetryAfter = time.Time{}
		}
	}
	return out, nil
}

// hitResult reads a hit script's reply; loads says the call asked for a
// factor, whose fields then make the whole reply when it was admitted.
func hitResult(v []any, loads bool) (store.HitResult, error) {
	if loads && (len(v) == 0 || isText(v[0])) {
		if len(v) == 0 {
			return store.HitResult{Admitted: true}, nil // no such factor
		}
		f, err := pairs(v).factor()
		if err != nil {
			return store.HitResult{}, err
		}
		return store.HitResult{Admitted: true, Found: true, Factor: f}, nil
	}
	if len(v) != 3 {
		return store.HitResult{}, fail("hit", fmt.Errorf("reply of %d elements", len(v)))
	}
	admitted, _ := v[0].(int64)
	locked, _ := v[1].(int64)
	retry, _ := v[2].(int64)
	res := store.HitResult{Admitted: admitted == 1, Locked: locked == 1}
	if !res.Admitted && !res.Locked {
		res.RetryAfter = time.UnixMilli(retry).UTC()
	}
	return res, nil
}

func isText(x any) bool { _, ok := x.(string); return ok }

// Reset implements [store.Counters].
func (s *Store) Reset(ctx context.Context, keys ...store.CounterKey) error {
	ks := make([]string, len(keys))
	for i, k := range keys {
		ks[i] = s.counterKey(k)
	}
	if err := s.del(ctx, ks); err != nil {
		return fail("reset", err)
	}
	return nil
}

// CounterState implements [store.Counters]. A counter past its expiry that
// Redis has not dropped yet is returned as stored.
func (s *Store) CounterState(ctx context.Context, key store.CounterKey) (store.CounterState, error) {
	v, err := s.c.HMGet(ctx, s.counterKey(key), "n", "u", "e").Result()
	if err != nil {
		return store.CounterState{}, fail("counter state", err)
	}
	var st store.CounterState
	text := func(i int) string { x, _ := v[i].(string); return x }
	if n := text(0); n != "" {
		f, err := strconv.Atoi(n)
		if err != nil {
			return store.CounterState{}, fail("counter state", fmt.Errorf("bad count %q", n))
		}
		st.Failures = f
	}
	if st.Until, err = parseTime(text(1)); err != nil {
		return store.CounterState{}, err
	}
	if st.Expires, err = parseTime(text(2)); err != nil {
		return store.CounterState{}, err
	}
	return st, nil
}
