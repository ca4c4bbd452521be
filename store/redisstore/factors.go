package redisstore

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"strconv"

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

func (h hash) factor() (store.Factor, error) {
	var err error
	f := store.Factor{
		UserID:    h["user"],
		ID:        h["id"],
		Kind:      h["kind"],
		Name:      h["name"],
		Status:    store.Status(h["status"]),
		Lookup:    h["lookup"],
		Secret:    h.bytes("secret"),
		Data:      h.bytes("data"),
		Counter:   h.int("counter", &err),
		Created:   h.time("created", &err),
		Confirmed: h.time("confirmed", &err),
		LastUsed:  h.time("last_used", &err),
	}
	return f, err
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
	h, err := s.c.HGetAll(ctx, s.factorKey(userID, id)).Result()
	if err != nil {
		return store.Factor{}, fail("get factor", err)
	}
	if len(h) == 0 {
		return store.Factor{}, status("get factor", "nf", nil)
	}
	return hash(h).factor()
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
	keys := make([]string, 1, 1+len(req.Reset))
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
	hasData := "0"
	if req.Data != nil {
		hasData = "1"
	}
	args := []any{
		strconv.FormatInt(req.From, 10), strconv.FormatInt(req.To, 10),
		strconv.FormatInt(msDown(req.Now), 10), hasData, req.Data, strconv.Itoa(len(keys) - 1),
	}
	var forgiveLater []store.Counter
	for _, c := range req.Forgive {
		ck := s.counterKey(c.Key)
		if s.sharded && tagOf(ck) != tagOf(fk) {
			forgiveLater = append(forgiveLater, c)
			continue
		}
		keys = append(keys, ck)
		args = append(args, strconv.Itoa(c.Rule.Free))
	}
	v, err := advanceScript.Run(ctx, s.c, keys, args...).Result()
	if err := status(op, v, err); err != nil {
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
