package mongostore

import (
	"cmp"
	"context"
	"slices"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/mfakit/mfa/store"
)

func caseKey(id string) string { return tCase + id }

func toCase(r *rec) store.RecoveryCase {
	return store.RecoveryCase{ID: r.RID, UserID: r.U, State: store.CaseState(r.State), Token: orNil(r.Token), Data: orNil(r.Data),
		Created: fromMicros(r.Created), Updated: fromMicros(r.Updated), NotBefore: fromMicros(r.NotBefore), Expires: fromMicros(r.Expires)}
}

// CreateCase implements [store.Recovery].
func (s *Store) CreateCase(ctx context.Context, c store.RecoveryCase) error {
	const op = "create case"
	k := caseKey(c.ID)
	m, start, err := s.latest(ctx, k)
	if err != nil {
		return wrap(op, err)
	}
	if m[k] != nil {
		return sentinel(op, store.ErrExists)
	}
	n := s.first(k, tCase, 0)
	n.RID, n.U, n.State, n.Token, n.Data = c.ID, c.UserID, string(c.State), orNil(c.Token), orNil(c.Data)
	n.Created, n.Updated, n.NotBefore, n.Expires = micros(c.Created), micros(c.Updated), micros(c.NotBefore), micros(c.Expires)
	ok, err := s.put(ctx, start, n)
	if err != nil {
		return wrap(op, err)
	}
	if !ok {
		return sentinel(op, store.ErrExists)
	}
	return nil
}

// GetCase implements [store.Recovery].
func (s *Store) GetCase(ctx context.Context, id string) (store.RecoveryCase, error) {
	k := caseKey(id)
	m, _, err := s.latest(ctx, k)
	if err != nil {
		return store.RecoveryCase{}, wrap("get case", err)
	}
	if m[k] == nil {
		return store.RecoveryCase{}, sentinel("get case", store.ErrNotFound)
	}
	return toCase(m[k]), nil
}

// ListCases implements [store.Recovery].
func (s *Store) ListCases(ctx context.Context, userID string) ([]store.RecoveryCase, error) {
	m, err := s.listLatest(ctx, bson.D{{Key: "y", Value: tCase}, {Key: "u", Value: userID}})
	if err != nil {
		return nil, wrap("list cases", err)
	}
	return sortedCases(m, -1, func(store.RecoveryCase) bool { return true }), nil
}

// ListOpenCases implements [store.Recovery]: the cases whose head is
// open, read again to keep those whose newest version is open.
func (s *Store) ListOpenCases(ctx context.Context, limit int) ([]store.RecoveryCase, error) {
	if limit < 1 {
		return []store.RecoveryCase{}, ctx.Err()
	}
	open := bson.A{string(store.CasePending), string(store.CaseApproved)}
	// A case whose head is closed is closed: states only move forward.
	m, err := s.listLatest(ctx, bson.D{{Key: "y", Value: tCase}, {Key: "st", Value: bson.D{{Key: "$in", Value: open}}}})
	if err != nil {
		return nil, wrap("list open cases", err)
	}
	return sortedCases(m, limit, func(c store.RecoveryCase) bool { return c.State.Open() }), nil
}

func sortedCases(m map[string]*rec, limit int, keep func(store.RecoveryCase) bool) []store.RecoveryCase {
	out := []store.RecoveryCase{}
	for _, r := range m {
		if c := toCase(r); keep(c) {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b store.RecoveryCase) int {
		return cmp.Or(a.Created.Compare(b.Created), cmp.Compare(a.ID, b.ID))
	})
	if limit >= 0 && len(out) > limit {
		out = out[:limit]
	}
	return out
}

// MoveCase implements [store.Recovery]. The move is the case's next
// version: of concurrent moves that read the same version exactly one
// inserts it, and since every move changes the state, the others' From
// no longer holds (ErrConflict).
func (s *Store) MoveCase(ctx context.Context, m store.CaseMove) (store.RecoveryCase, error) {
	const op = "move case"
	k := caseKey(m.ID)
	got, start, err := s.latest(ctx, k)
	if err != nil {
		return store.RecoveryCase{}, wrap(op, err)
	}
	cur := got[k]
	switch {
	case cur == nil:
		return store.RecoveryCase{}, sentinel(op, store.ErrNotFound)
	case cur.State != string(m.From):
		return store.RecoveryCase{}, sentinel(op, store.ErrConflict)
	}
	n := s.next(cur)
	n.State, n.Updated = string(m.To), micros(m.Now)
	if !m.NotBefore.IsZero() {
		n.NotBefore = micros(m.NotBefore)
	}
	if !m.Expires.IsZero() {
		n.Expires = micros(m.Expires)
	}
	if m.Data != nil {
		n.Data = orNil(m.Data)
	}
	ok, err := s.put(ctx, start, n)
	if err != nil {
		return store.RecoveryCase{}, wrap(op, err)
	}
	if !ok {
		return store.RecoveryCase{}, sentinel(op, store.ErrConflict)
	}
	return toCase(n), nil
}
