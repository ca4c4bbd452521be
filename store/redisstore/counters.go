package redisstore

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/mfakit/mfa/store"
)

// A counter is a hash with "n" (failures), "u" (until, ms) and "e"
// (expires, ms), the last two absent when zero. Redis drops it grace after
// its expiry; without a TTL it stays until a Reset.

// hitGroup is the part of a Hit that one script decides: counters that
// share a hash slot, and the factor to load if it shares their slot.
type hitGroup struct {
	counters []store.Counter
	keys     []string
	load     string // factor key to load, or ""
}

// Hit implements [store.Counters] with one script that reads every counter,
// decides and counts, sent in one pipeline with the HMGET that reads the
// factor, so a TOTP attempt is one round trip.
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
		g := hitGroup{counters: req.Counters, keys: make([]string, len(req.Counters)), load: load}
		for i, c := range req.Counters {
			g.keys[i] = s.counterKey(c.Key)
		}
		return s.hitRun(ctx, req, []hitGroup{g}, "c")
	}
	groups := s.hitGroups(req.Counters, load)
	if len(groups) > 1 {
		if res, err := s.hitRun(ctx, req, groups, "p"); err != nil || !res.Admitted {
			return res, err
		}
	}
	return s.hitRun(ctx, req, groups, "c")
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

// hitCmds are the commands of one group. mode 'p' only decides;
// otherwise the group counts and, if it has a factor to load, reads it
// with an HMGET sent right after the script in the same pipeline (one
// round trip): reading it through the script would cost the server more
// (each value crosses from Redis to Lua and back). The factor is read
// whatever the script decides, and used only if it admitted. A group
// with no counter needs no script.
func (s *Store) hitCmds(ctx context.Context, now time.Time, g hitGroup, mode string) (script, factor *redis.StringSliceCmd) {
	if mode != "p" && g.load != "" {
		factor = readFactor(ctx, g.load)
	}
	if len(g.counters) == 0 {
		return nil, factor
	}
	ms := msDown(now)
	args := hitScript.args(g.keys, 2+3*len(g.counters))
	args = append(args, ms, mode)
	for _, c := range g.counters {
		r := c.Rule
		var expires, live any = "", ""
		if ttl := durMs(r.TTL); ttl > 0 {
			expires, live = ms+ttl, ttl+grace.Milliseconds()
		}
		args = append(args, s.ruleArg(r), expires, live)
	}
	return redis.NewStringSliceCmd(ctx, args...), factor
}

// ruleArg is a rule's argument to the hit script, its ruleText boxed
// once, by the four fields the text is made of.
type ruleArg struct {
	free, cap int
	base, max time.Duration
	arg       any
}

// maxRuleArgs bounds the rules a Store keeps arguments for: a Verifier
// hands over a few (the user's, the factor's, the IP's, an issuance's),
// and a caller that makes rules of its own per request gets a text made
// for each call past this many.
const maxRuleArgs = 16

// ruleArg returns r's argument to the hit script. A Verifier hands the
// same few rules to every Hit, and making each text and boxing it cost
// two allocations per counter, so the Store keeps them, in a list it
// copies to add one.
func (s *Store) ruleArg(r store.Rule) any {
	cur := s.rules.Load()
	if cur != nil {
		for i := range *cur {
			if e := &(*cur)[i]; e.free == r.Free && e.cap == r.Cap && e.base == r.Base && e.max == r.Max {
				return e.arg
			}
		}
	}
	arg := any(ruleText(r))
	if cur == nil || len(*cur) < maxRuleArgs {
		var next []ruleArg
		if cur != nil {
			next = append(next, *cur...)
		}
		next = append(next, ruleArg{free: r.Free, cap: r.Cap, base: r.Base, max: r.Max, arg: arg})
		s.rules.CompareAndSwap(cur, &next) // on a lost race the next call adds it
	}
	return arg
}

// ruleText is the hit script's text of a rule: "Free Base Max Cap", the
// durations in ms, negative values as 0.
func ruleText(r store.Rule) string {
	var b [4 * 21]byte
	t := strconv.AppendInt(b[:0], int64(max(r.Free, 0)), 10)
	t = append(t, ' ')
	t = strconv.AppendInt(t, max(durMs(r.Base), 0), 10)
	t = append(t, ' ')
	t = strconv.AppendInt(t, max(durMs(r.Max), 0), 10)
	t = append(t, ' ')
	t = strconv.AppendInt(t, int64(max(r.Cap, 0)), 10)
	return string(t)
}

// hitRun runs the commands of every group in mode, in one pipeline when
// there are several, and merges their decisions: admitted only if every
// group admitted, locked if any is, RetryAfter the latest of the delayed
// groups. When Redis no longer caches the script, the commands are sent
// again, the script in full. Any error, or a reply of another form, is
// an error: the attempt is denied.
func (s *Store) hitRun(ctx context.Context, req store.HitRequest, groups []hitGroup, mode string) (store.HitResult, error) {
	scripts := make([]*redis.StringSliceCmd, len(groups))
	factors := make([]*redis.StringSliceCmd, len(groups))
	run := make([]redis.Cmder, 0, 2*len(groups))
	for i, g := range groups {
		scripts[i], factors[i] = s.hitCmds(ctx, req.Now, g, mode)
		if scripts[i] != nil {
			run = append(run, scripts[i])
		}
		if factors[i] != nil {
			run = append(run, factors[i])
		}
	}
	if len(run) > 0 {
		s.process(ctx, run)
	}
	run = run[:0]
	for i, c := range scripts {
		if c != nil && hitScript.noScript(c) {
			scripts[i] = redis.NewStringSliceCmd(ctx, c.Args()...)
			run = append(run, scripts[i])
			if factors[i] != nil { // read again after the count
				factors[i] = readFactor(ctx, groups[i].load)
				run = append(run, factors[i])
			}
		}
	}
	if len(run) > 0 {
		s.process(ctx, run)
	}
	out := store.HitResult{Admitted: true}
	for _, c := range scripts {
		if c == nil {
			continue
		}
		v, err := c.Result()
		if err != nil {
			return store.HitResult{}, fail("hit", err)
		}
		r, err := decision(v)
		if err != nil {
			return store.HitResult{}, err
		}
		switch {
		case r.Admitted:
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
		if out.Locked {
			out.RetryAfter = time.Time{}
		}
		return out, nil
	}
	for _, c := range factors { // one group at most loads the factor
		if c == nil {
			continue
		}
		v, err := c.Result()
		if err != nil {
			return store.HitResult{}, fail("hit: read factor", err)
		}
		if out.Factor, out.Found, err = factorOf(req.Load.UserID, req.Load.ID, v); err != nil {
			return store.HitResult{}, err
		}
	}
	return out, nil
}

// decision reads a hit script's reply: {admitted, locked, retry-after ms}.
func decision(v []string) (store.HitResult, error) {
	if len(v) != 3 {
		return store.HitResult{}, fail("hit", fmt.Errorf("reply of %d elements", len(v)))
	}
	res := store.HitResult{Admitted: v[0] == "1", Locked: v[1] == "1"}
	if !res.Admitted && !res.Locked {
		retry, err := strconv.ParseInt(v[2], 10, 64)
		if err != nil {
			return store.HitResult{}, fail("hit", fmt.Errorf("bad retry-after %q", v[2]))
		}
		res.RetryAfter = time.UnixMilli(retry).UTC()
	}
	return res, nil
}

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
