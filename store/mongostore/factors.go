package mongostore

import (
	"cmp"
	"context"
	"slices"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/mfakit/mfa/store"
)

func factorKey(userID, id string) string   { return tFactor + key(userID, id) }
func lookupKey(kind, lookup string) string { return tLookup + key(kind, lookup) }

// live reports whether r is a factor that exists.
func live(r *rec) bool { return r != nil && !r.Z }

func toFactor(r *rec) store.Factor {
	return store.Factor{
		UserID: r.U, ID: r.RID, Kind: r.Kind, Name: r.Name, Status: store.Status(r.State),
		Lookup: r.Lookup, Secret: orNil(r.Secret), Data: orNil(r.Data), Counter: r.Counter,
		Created: fromMicros(r.Created), Confirmed: fromMicros(r.Confirmed), LastUsed: fromMicros(r.LastUsed),
	}
}

// setFactor writes f's fields into the version n.
func setFactor(n *rec, f store.Factor) {
	n.U, n.RID, n.Kind, n.Name, n.State = f.UserID, f.ID, f.Kind, f.Name, string(f.Status)
	n.Lookup, n.Secret, n.Data, n.Counter = f.Lookup, orNil(f.Secret), orNil(f.Data), f.Counter
	n.Created, n.Confirmed, n.LastUsed = micros(f.Created), micros(f.Confirmed), micros(f.LastUsed)
	n.Z = false
}

// CreateFactor implements [store.Factors]. It inserts the factor's next
// version (ErrExists when that is taken or the factor exists), then, for
// a factor with a Lookup, claims the lookup by inserting the next version
// of the lookup's record naming this factor. A lookup whose newest
// version names a live factor with that lookup is taken: the new factor
// is then deleted again and the error wraps ErrExists.
func (s *Store) CreateFactor(ctx context.Context, f store.Factor) error {
	const op = "create factor"
	k := factorKey(f.UserID, f.ID)
	m, start, err := s.latest(ctx, k)
	if err != nil {
		return wrap(op, err)
	}
	cur := m[k]
	if live(cur) {
		return sentinel(op, store.ErrExists)
	}
	var n *rec
	if cur == nil {
		n = s.first(k, tFactor, 0)
	} else {
		n = s.next(cur)
	}
	setFactor(n, f)
	ok, err := s.put(ctx, start, n)
	switch {
	case err != nil:
		return wrap(op, err)
	case !ok:
		return sentinel(op, store.ErrExists)
	case f.Lookup == "":
		return nil
	}
	taken, err := s.claimLookup(ctx, f)
	if err != nil {
		return wrap(op, err)
	}
	if taken {
		if err := s.deleteFactor(ctx, f.UserID, f.ID, false); err != nil {
			return wrap(op+": undo", err)
		}
		return sentinel(op, store.ErrExists)
	}
	return nil
}

// claimLookup makes f the owner of its lookup unless a live factor of the
// same kind with that lookup owns it; taken reports the latter.
func (s *Store) claimLookup(ctx context.Context, f store.Factor) (taken bool, err error) {
	lk := lookupKey(f.Kind, f.Lookup)
	for {
		m, start, err := s.latest(ctx, lk)
		if err != nil {
			return false, err
		}
		cur := m[lk]
		if cur != nil && (cur.U != f.UserID || cur.RID != f.ID) {
			owner, err := s.lookupOwner(ctx, cur, f.Kind, f.Lookup)
			if err != nil {
				return false, err
			}
			if owner != nil {
				return true, nil
			}
		}
		var n *rec
		if cur == nil {
			n = s.first(lk, tLookup, 0)
		} else {
			n = s.next(cur)
		}
		n.U, n.RID = f.UserID, f.ID
		// The claim goes even when it already names f: a fresh version
		// orders it against a concurrent claim.
		ok, err := s.put(ctx, start, n)
		if err != nil || ok {
			return false, err
		}
		if err := ctx.Err(); err != nil {
			return false, err
		}
	}
}

// lookupOwner returns the newest version of the factor a lookup version
// names when that factor is live and still has the lookup, else nil.
func (s *Store) lookupOwner(ctx context.Context, l *rec, kind, lookup string) (*rec, error) {
	fk := factorKey(l.U, l.RID)
	m, _, err := s.latest(ctx, fk)
	if err != nil {
		return nil, err
	}
	f := m[fk]
	if !live(f) || f.Kind != kind || f.Lookup != lookup {
		return nil, nil
	}
	return f, nil
}

// GetFactor implements [store.Factors].
func (s *Store) GetFactor(ctx context.Context, userID, id string) (store.Factor, error) {
	const op = "get factor"
	k := factorKey(userID, id)
	m, _, err := s.latest(ctx, k)
	if err != nil {
		return store.Factor{}, wrap(op, err)
	}
	if !live(m[k]) {
		return store.Factor{}, sentinel(op, store.ErrNotFound)
	}
	return toFactor(m[k]), nil
}

// FindFactor implements [store.Factors]: the lookup's newest version
// names the factor, which must be live and still carry the lookup.
func (s *Store) FindFactor(ctx context.Context, kind, lookup string) (store.Factor, error) {
	const op = "find factor"
	if lookup == "" {
		return store.Factor{}, sentinel(op, store.ErrNotFound)
	}
	lk := lookupKey(kind, lookup)
	m, _, err := s.latest(ctx, lk)
	if err != nil {
		return store.Factor{}, wrap(op, err)
	}
	if m[lk] == nil {
		return store.Factor{}, sentinel(op, store.ErrNotFound)
	}
	f, err := s.lookupOwner(ctx, m[lk], kind, lookup)
	if err != nil {
		return store.Factor{}, wrap(op, err)
	}
	if f == nil {
		return store.Factor{}, sentinel(op, store.ErrNotFound)
	}
	return toFactor(f), nil
}

// ListFactors implements [store.Factors].
func (s *Store) ListFactors(ctx context.Context, userID string) ([]store.Factor, error) {
	m, err := s.listLatest(ctx, bson.D{{Key: "y", Value: tFactor}, {Key: "u", Value: userID}})
	if err != nil {
		return nil, wrap("list factors", err)
	}
	list := make([]store.Factor, 0, len(m))
	for _, r := range m {
		if live(r) {
			list = append(list, toFactor(r))
		}
	}
	slices.SortFunc(list, func(a, b store.Factor) int {
		return cmp.Or(a.Created.Compare(b.Created), cmp.Compare(a.ID, b.ID))
	})
	return list, nil
}

// UpdateFactor implements [store.Factors]: the next version with the new
// fields, read again and retried when another change got there first.
func (s *Store) UpdateFactor(ctx context.Context, f store.Factor) error {
	const op = "update factor"
	_, err := s.change(ctx, op, factorKey(f.UserID, f.ID), func(cur *rec) (*rec, error) {
		if !live(cur) {
			return nil, sentinel(op, store.ErrNotFound)
		}
		n := s.next(cur)
		n.Name, n.State, n.Secret, n.Data, n.Confirmed = f.Name, string(f.Status), orNil(f.Secret), orNil(f.Data), micros(f.Confirmed)
		return n, nil
	})
	return err
}

// DeleteFactor implements [store.Factors]: the next version is a
// tombstone.
func (s *Store) DeleteFactor(ctx context.Context, userID, id string) error {
	return s.deleteFactor(ctx, userID, id, false)
}

// DeletePendingFactor implements [store.Factors]. The tombstone is the
// next version of a pending factor, so of it and an activating
// UpdateFactor that read the same version only one is inserted; the
// other reads again and finds the factor deleted (ErrNotFound) or
// active (ErrConflict).
func (s *Store) DeletePendingFactor(ctx context.Context, userID, id string) error {
	return s.deleteFactor(ctx, userID, id, true)
}

func (s *Store) deleteFactor(ctx context.Context, userID, id string, pendingOnly bool) error {
	const op = "delete factor"
	_, err := s.change(ctx, op, factorKey(userID, id), func(cur *rec) (*rec, error) {
		switch {
		case !live(cur):
			return nil, sentinel(op, store.ErrNotFound)
		case pendingOnly && cur.State != string(store.StatusPending):
			return nil, sentinel(op, store.ErrConflict)
		}
		n := s.next(cur)
		n.Z, n.Secret, n.Data, n.Name = true, nil, nil, ""
		return n, nil
	})
	return err
}

// Advance implements [store.Factors]. One query reads the factor's and
// the counters' heads (none when the Hit of the same verification, in
// this process, read and wrote them); one ordered insert writes the factor's
// next version first and then each counter's. The factor's version is
// the compare-and-set: when its _id is taken, another change came first
// and nothing of this one is written (ErrConflict). A counter whose next
// version is taken is read again and written again.
func (s *Store) Advance(ctx context.Context, req store.Advance) error {
	const op = "advance"
	fk := factorKey(req.UserID, req.FactorID)
	keys := make([]string, 0, 1+len(req.Reset)+len(req.Forgive))
	keys = append(keys, fk)
	for _, k := range req.Reset {
		keys = append(keys, counterKey(k))
	}
	for _, c := range req.Forgive {
		keys = append(keys, counterKey(c.Key))
	}
	// The Hit of the same verification, in this process, has most likely
	// just read the factor and written the counters.
	m, start, ok := s.recent.take(s.grace/4, keys...)
	if !ok {
		var err error
		if m, start, err = s.heads(ctx, keys...); err != nil {
			return wrap(op, err)
		}
	}
	fresh := false
	var err error
	if cur := m[fk]; !live(cur) || cur.Counter != req.From {
		// Refused on the head alone: decide again on the newest version.
		if m, start, err = s.latest(ctx, keys...); err != nil {
			return wrap(op, err)
		}
		fresh = true
	}
	cur := m[fk]
	switch {
	case !live(cur):
		return sentinel(op, store.ErrNotFound)
	case cur.Counter != req.From:
		return sentinel(op, store.ErrConflict)
	}
	n := s.next(cur)
	n.Counter, n.LastUsed = req.To, micros(req.Now)
	if req.Data != nil {
		n.Data = orNil(req.Data)
	}
	ops := counterOps(req.Reset, req.Forgive)
	vs, owners := s.counterChanges(m, req.Now, ops, fresh)
	taken, err := s.insert(ctx, start, true, append([]*rec{n}, vs...)...)
	switch {
	case err != nil:
		return wrap(op, err)
	case len(taken) > 0 && taken[0] == 0:
		// Another change came first. If this one read a head left behind
		// (a write stopped before its head), reading on to the newest
		// version writes the head again, so that the next verification
		// loads the factor as it is.
		if !fresh {
			if _, _, err := s.latest(ctx, fk); err != nil {
				return wrap(op, err)
			}
		}
		return sentinel(op, store.ErrConflict)
	case len(taken) > 0:
		// The factor moved; a counter another writer changed meanwhile
		// is read and cleared again on its own.
		var again []counterOp
		for _, i := range taken {
			again = append(again, owners[i-1]...)
		}
		if err := s.applyCounterOps(ctx, req.Now, again); err != nil {
			return wrap(op+": counters after success", err)
		}
	}
	return nil
}
