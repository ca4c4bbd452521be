package mongostore

import (
	"bytes"
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/mfakit/mfa/store"
)

// ScanFactors implements [store.Resealable], in (UserID, ID) order.
func (s *Store) ScanFactors(ctx context.Context, cursor string, limit int) ([]store.Factor, string, error) {
	const op = "scan factors"
	after, err := store.ParseRefCursor(cursor)
	if err != nil {
		return nil, "", sentinel(op, err)
	}
	limit = max(limit, 1)
	filter := bson.D{{Key: "y", Value: tFactor}}
	if cursor != "" {
		filter = append(filter, bson.E{Key: "$or", Value: bson.A{
			bson.D{{Key: "u", Value: bson.D{{Key: "$gt", Value: after.UserID}}}},
			bson.D{{Key: "u", Value: after.UserID}, {Key: "id", Value: bson.D{{Key: "$gt", Value: after.ID}}}},
		}})
	}
	cur, err := s.head.Find(ctx, filter, options.Find().SetSort(bson.D{{Key: "u", Value: 1}, {Key: "id", Value: 1}}))
	if err != nil {
		return nil, "", wrap(op, err)
	}
	defer cur.Close(ctx)
	// Heads, in order; the walk stops at the first factor past the page.
	// A head behind its newest version is as good here: SwapSecret
	// compares with the newest.
	var page []store.Factor
	var last store.FactorRef
	more := false
	for cur.Next(ctx) {
		var r rec
		if err := cur.Decode(&r); err != nil {
			return nil, "", wrap(op, err)
		}
		ref := store.FactorRef{UserID: r.U, ID: r.RID}
		if ref == last {
			continue
		}
		if len(page) == limit {
			more = true
			break
		}
		last = ref
		if live(&r) {
			page = append(page, toFactor(&r))
		}
	}
	if err := cur.Err(); err != nil {
		return nil, "", wrap(op, err)
	}
	next := ""
	if more {
		next = store.RefCursor(last)
	}
	return page, next, nil
}

// SwapSecret implements [store.Resealable]: the factor's next version
// with the new secret, read again and retried when another change came
// first.
func (s *Store) SwapSecret(ctx context.Context, ref store.FactorRef, old, new []byte) error {
	const op = "swap secret"
	_, err := s.change(ctx, op, factorKey(ref.UserID, ref.ID), func(cur *rec) (*rec, error) {
		switch {
		case !live(cur):
			return nil, sentinel(op, store.ErrNotFound)
		case !bytes.Equal(cur.Secret, old):
			return nil, sentinel(op, store.ErrConflict)
		}
		n := s.next(cur)
		n.Secret = orNil(new)
		return n, nil
	})
	return err
}
