package mongostore

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Sweep implements [store.Sweeper]: it deletes the challenges, counters,
// sessions and devices expired at now (by the caller's clock) and returns
// how many went, at most Options.SweepBatch per delete, each found
// through an index on its expiry field. A session goes once past Expires
// or IdleExpires, revoked or not, with the hashes it retired (they live in
// its document). A sweep cut short can run again.
func (s *Store) Sweep(ctx context.Context, now time.Time) (int64, error) {
	t := micros(now)
	le := func(field string) bson.D { return bson.D{{Key: field, Value: bson.D{{Key: "$lte", Value: t}}}} }
	steps := []struct {
		what   string
		c      *mongo.Collection
		filter bson.D
	}{
		{"challenges", s.challenges, le("x")},
		{"counters", s.counters, bson.D{{Key: "x", Value: bson.D{{Key: "$gt", Value: 0}, {Key: "$lte", Value: t}}}}},
		{"sessions", s.sessions, le("x")},
		{"sessions", s.sessions, le("ie")},
		{"devices", s.devices, le("x")},
	}
	var total int64
	for _, st := range steps {
		n, err := s.sweep(ctx, st.c, st.filter)
		total += n
		if err != nil {
			return total, wrap("sweep "+st.what, err)
		}
	}
	return total, nil
}

// sweep deletes the documents of c matching filter, a batch at a time:
// the IDs of one batch are read, then deleted if they still match.
func (s *Store) sweep(ctx context.Context, c *mongo.Collection, filter bson.D) (int64, error) {
	var total int64
	for {
		cur, err := c.Find(ctx, filter, options.Find().SetLimit(int64(s.batch)).SetProjection(bson.D{{Key: "_id", Value: 1}}))
		if err != nil {
			return total, err
		}
		var docs []struct {
			ID string `bson:"_id"`
		}
		if err := cur.All(ctx, &docs); err != nil {
			return total, err
		}
		if len(docs) == 0 {
			return total, nil
		}
		ids := make([]string, len(docs))
		for i, d := range docs {
			ids[i] = d.ID
		}
		res, err := c.DeleteMany(ctx, append(bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}}, filter...))
		if err != nil {
			return total, err
		}
		total += res.DeletedCount
		if len(docs) < s.batch {
			return total, nil
		}
	}
}
