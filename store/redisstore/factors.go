package redisstore

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/mfakit/mfa/store"
)

// A factor is a hash under its user's tag. "user", "id", "kind", "status"
// and "counter" are always present; the others only when not empty.

func factorFields(f store.Factor) fields {
	a := fields{"user", f.UserID, "id", f.ID, "kind", f.Kind, "status", string(f.Status),
		"counter", strconv.FormatInt(f.Counter, 10)}
	a = a.add("name", f.Name)
	a = a.add("lookup", f.Lookup)
	a = a.add("secret", f.Secret)
	a = a.add("data", f.Data)
	a = a.add("created", timeText(f.Created, false))
	a = a.add("confirmed", timeText(f.Confirmed, false))
	a = a.add("last_used", timeText(f.LastUsed, false))
	return a
}

// factorNames are the fields a factor hash can hold: its user and ID, then
// recordNames.
var factorNames = [...]any{"user", "id", "kind", "name", "status", "lookup",
	"secret", "data", "counter", "created", "confirmed", "last_used"}

// recordNames are the fields of a factor but its user and ID, which its
// key names already, in the order of the values factorOf reads. A factor
// is read with HMGET of these names rather than HGETALL: the reply is
// values alone, one per name, which the client decodes by position with no
// map and no field names. Every name costs Redis a search of the hash and
// a parsed argument, so the two the caller knows are not asked for.
var recordNames = factorNames[2:]

// readFactor is the HMGET of recordNames of the factor at key. Absent
// fields read back as "", as absent and empty ones are written.
func readFactor(ctx context.Context, key string) *redis.StringSliceCmd {
	a := make([]any, 2, 2+len(recordNames))
	a[0], a[1] = "hmget", key
	return redis.NewStringSliceCmd(ctx, append(a, recordNames...)...)
}

// factorOf decodes the values of recordNames, as readFactor returns them,
// into the factor of userID and id; found is false when the hash holds
// none of them (no such factor).
func factorOf(userID, id string, v []string) (f store.Factor, found bool, err error) {
	if len(v) != len(recordNames) {
		return store.Factor{}, false, fail("read factor", fmt.Errorf("reply of %d values", len(v)))
	}
	for _, x := range v {
		if x != "" {
			found = true
			break
		}
	}
	if !found {
		return store.Factor{}, false, nil
	}
	f = store.Factor{
		UserID: userID, ID: id, Kind: v[0], Name: v[1], Status: store.Status(v[2]), Lookup: v[3],
		Secret: bytesOf(v[4]), Data: bytesOf(v[5]),
	}
	if v[6] != "" {
		if f.Counter, err = strconv.ParseInt(v[6], 10, 64); err != nil {
			return store.Factor{}, false, errors.New("mfa: redisstore: bad integer in field counter")
		}
	}
	for i, t := range []*time.Time{&f.Created, &f.Confirmed, &f.LastUsed} {
		if *t, err = parseTime(v[7+i]); err != nil {
			return store.Factor{}, false, err
		}
	}
	return f, true, nil
}

// factor decodes a factor read with HGETALL (a list, a scan).
func (h hash) factor() (store.Factor, error) {
	var v [len(factorNames)]string
	for i, name := range factorNames {
		v[i] = h[name.(string)]
	}
	f, _, err := factorOf(v[0], v[1], v[2:])
	return f, err
}

// bytesOf is a stored text as bytes: nil when empty.
func bytesOf(v string) []byte {
	if v == "" {
		return nil
	}
	return []byte(v)
}

// CreateFactor implements [store.Factors]. The factor, its entry in the
// user's index and its lookup are written by one script; on a sharded
// Redis the lookup (another slot) is claimed first and released again if
// the factor's ID turns out to be taken.
func (s *Store) CreateFactor(ctx context.Context, f store.Factor) error {
	const op = "create factor"
	keys := []string{s.factorKey(f.UserID, f.ID), s.factorIndex(f.UserID)}
	var lookup string
	if f.Lookup != "" {
		lookup = s.lookupKey(f.Kind, f.Lookup)
	}
	args := append(fields{f.ID, f.UserID}, factorFields(f)...)
	if lookup == "" || !s.sharded {
		if lookup != "" {
			keys = append(keys, lookup)
		}
		v, err := createFactorScript.Run(ctx, s.c, keys, args...).Result()
		return status(op, v, err)
	}
	v, err := claimScript.Run(ctx, s.c, []string{lookup}, f.UserID, f.ID).Result()
	if err := status(op, v, err); err != nil {
		return err
	}
	v, err = createFactorScript.Run(ctx, s.c, keys, args...).Result()
	if err := status(op, v, err); err != nil {
		if rerr := releaseScript.Run(ctx, s.c, []string{lookup}, f.UserID, f.ID).Err(); rerr != nil {
			return errors.Join(err, fail("release lookup", rerr))
		}
		return err
	}
	return nil
}

// GetFactor implements [store.Factors].
func (s *Store) GetFactor(ctx context.Context, userID, id string) (store.Factor, error) {
	cmd := readFactor(ctx, s.factorKey(userID, id))
	if err := s.c.Process(ctx, cmd); err != nil {
		return store.Factor{}, fail("get factor", err)
	}
	f, found, err := factorOf(userID, id, cmd.Val())
	if err == nil && !found {
		err = status("get factor", "nf", nil)
	}
	return f, err
}

// FindFactor implements [store.Factors]. It reads the lookup, then the
// factor it names, and checks that the factor still carries that lookup.
func (s *Store) FindFactor(ctx context.Context, kind, lookup string) (store.Factor, error) {
	const op = "find factor"
	if lookup == "" {
		return store.Factor{}, status(op, "nf", nil)
	}
	ref, err := s.c.HMGet(ctx, s.lookupKey(kind, lookup), "user", "id").Result()
	if err != nil {
		return store.Factor{}, fail(op, err)
	}
	userID, ok1 := ref[0].(string)
	id, ok2 := ref[1].(string)
	if !ok1 || !ok2 {
		return store.Factor{}, status(op, "nf", nil)
	}
	f, err := s.GetFactor(ctx, userID, id)
	if err != nil {
		return store.Factor{}, err
	}
	if f.Kind != kind || f.Lookup != lookup {
		return store.Factor{}, status(op, "nf", nil)
	}
	return f, nil
}

// ListFactors implements [store.Factors]: the user's index, then every
// factor it names, in one pipeline.
func (s *Store) ListFactors(ctx context.Context, userID string) ([]store.Factor, error) {
	const op = "list factors"
	ids, err := s.c.SMembers(ctx, s.factorIndex(userID)).Result()
	if err != nil {
		return nil, fail(op, err)
	}
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = s.factorKey(userID, id)
	}
	hs, err := s.readAll(ctx, keys)
	if err != nil {
		return nil, fail(op, err)
	}
	list := make([]store.Factor, 0, len(hs))
	for _, h := range hs {
		if len(h) == 0 {
			continue // deleted between the two reads
		}
		f, err := hash(h).factor()
		if err != nil {
			return nil, err
		}
		list = append(list, f)
	}
	slices.SortFunc(list, func(a, b store.Factor) int {
		return cmp.Or(a.Created.Compare(b.Created), cmp.Compare(a.ID, b.ID))
	})
	return list, nil
}

// UpdateFactor implements [store.Factors].
func (s *Store) UpdateFactor(ctx context.Context, f store.Factor) error {
	v, err := updateFactorScript.Run(ctx, s.c, []string{s.factorKey(f.UserID, f.ID)},
		f.Name, string(f.Status), timeText(f.Confirmed, false), f.Secret, f.Data).Result()
	return status("update factor", v, err)
}

// DeleteFactor implements [store.Factors]. The factor's kind and lookup are
// read first, to name the lookup key the script must free; the script
// checks they have not changed (a delete and re-create in between) and the
// read is retried if they have.
func (s *Store) DeleteFactor(ctx context.Context, userID, id string) error {
	return s.deleteFactor(ctx, "delete factor", userID, id, "")
}

// DeletePendingFactor implements [store.Factors]: the same script as
// DeleteFactor, which checks the status and deletes in one step. On a
// sharded Redis the lookup (another slot) is released after, as
// DeleteFactor does.
func (s *Store) DeletePendingFactor(ctx context.Context, userID, id string) error {
	return s.deleteFactor(ctx, "delete pending factor", userID, id, store.StatusPending)
}

// deleteFactor removes a factor, only while it has status want unless
// want is empty.
func (s *Store) deleteFactor(ctx context.Context, op, userID, id string, want store.Status) error {
	key := s.factorKey(userID, id)
	for range 8 {
		v, err := s.c.HMGet(ctx, key, "kind", "lookup").Result()
		if err != nil {
			return fail(op, err)
		}
		kind, ok := v[0].(string)
		if !ok {
			return status(op, "nf", nil)
		}
		lookup, _ := v[1].(string)
		keys := []string{key, s.factorIndex(userID)}
		var lk string
		if lookup != "" {
			lk = s.lookupKey(kind, lookup)
			if !s.sharded {
				keys = append(keys, lk)
			}
		}
		r, err := deleteFactorScript.Run(ctx, s.c, keys, id, kind, lookup, userID, string(want)).Result()
		if r == "retry" {
			continue
		}
		if err := status(op, r, err); err != nil {
			return err
		}
		if lk != "" && s.sharded {
			// A lookup left behind keeps blocking its value, which is
			// the safe side; report it all the same.
			if err := releaseScript.Run(ctx, s.c, []string{lk}, userID, id).Err(); err != nil {
				return fail("release lookup", err)
			}
		}
		return nil
	}
	return fail(op, errors.New("factor kept changing"))
}

// Advance implements [store.Factors]: one script compares and sets the
// counter, writes LastUsed and Data and clears the counters named in Reset
// that share the factor's hash slot, which on a single Redis is all of
// them and on a sharded one at least the user and factor counters the
// Verifier resets. Other counters are cleared after the commit, as
// [store.Split] does.
func (s *Store) Advance(ctx context.Context, req store.Advance) error {
	const op = "advance"
	fk := s.factorKey(req.UserID, req.FactorID)
	keys := make([]string, 1, 1+len(req.Reset)+len(req.Forgive))
	keys[0] = fk
	var later []string
	for _, k := range req.Reset {
		ck := s.counterKey(k)
		if s.sharded && tagOf(ck) != tagOf(fk) {
			later = append(later, ck)
			continue
		}
		keys = append(keys, ck)
	}
	nreset := len(keys) - 1
	var forgiveLater []store.Counter
	var freeBuf [4]int
	frees := freeBuf[:0]
	for _, c := range req.Forgive {
		ck := s.counterKey(c.Key)
		if s.sharded && tagOf(ck) != tagOf(fk) {
			forgiveLater = append(forgiveLater, c)
			continue
		}
		keys = append(keys, ck)
		frees = append(frees, c.Rule.Free)
	}
	args := advanceScript.args(keys, 5+len(frees))
	spec := 4 * nreset // and Data kept
	switch {
	case req.Data == nil:
	case len(req.Data) > 0:
		spec++ // replaced
	default:
		spec += 2 // removed
	}
	args = append(args, req.From, req.To, msDown(req.Now), spec)
	if spec%4 == 1 {
		args = append(args, req.Data)
	}
	for _, f := range frees {
		args = append(args, f)
	}
	cmd := runScript(ctx, s.c, advanceScript, redis.NewStringCmd, args)
	if err := status(op, cmd.Val(), cmd.Err()); err != nil {
		return err
	}
	if err := s.del(ctx, later); err != nil {
		return fail("reset counters after success", err)
	}
	if err := s.Forgive(ctx, req.Now, forgiveLater...); err != nil {
		return fail("forgive counters after success", err)
	}
	return nil
}

// del deletes keys that may lie in different slots.
func (s *Store) del(ctx context.Context, keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	if !s.sharded {
		return s.c.Del(ctx, keys...).Err()
	}
	_, err := s.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, k := range keys {
			p.Del(ctx, k)
		}
		return nil
	})
	return err
}
