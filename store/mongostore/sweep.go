package mongostore

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Sweep implements [store.Sweeper]. It deletes, in batches of at most
// Config.SweepBatch documents:
//
//   - challenges (and the claims that took them), devices and signal
//     records expired at now;
//   - every version of a counter or session whose newest version is
//     expired at now (a session past Expires or IdleExpires, revoked or
//     not);
//   - versions superseded by one written more than Config.Grace ago (by
//     Config.Now), and every version of a deleted factor or a cleared
//     counter whose newest version is that old.
//
// Recovery cases are audit records and are never removed, nor is a
// factor's or case's newest version.
func (s *Store) Sweep(ctx context.Context, now time.Time) (int64, error) {
	var total int64
	exp := bson.D{{Key: "x", Value: bson.D{{Key: "$gt", Value: 0}, {Key: "$lte", Value: micros(now)}}}}
	for _, c := range []*mongo.Collection{s.challenges, s.devices, s.signals} {
		n, err := s.deleteBatches(ctx, c, exp)
		total += n
		if err != nil {
			return total, wrap("sweep", err)
		}
	}
	n, err := s.sweepRecords(ctx, now)
	total += n
	return total, wrap("sweep", err)
}

// deleteBatches deletes the documents filter matches, a batch of _ids at
// a time.
func (s *Store) deleteBatches(ctx context.Context, c *mongo.Collection, filter bson.D) (int64, error) {
	var total int64
	for {
		cur, err := c.Find(ctx, filter, options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}}).SetLimit(int64(s.batch)))
		if err != nil {
			return total, err
		}
		var ids []struct {
			ID string `bson:"_id"`
		}
		if err := cur.All(ctx, &ids); err != nil {
			return total, err
		}
		if len(ids) == 0 {
			return total, nil
		}
		in := make(bson.A, len(ids))
		for i, d := range ids {
			in[i] = d.ID
		}
		r, err := c.DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: in}}}})
		if err != nil {
			return total, err
		}
		total += r.DeletedCount
		if len(ids) < s.batch || r.DeletedCount == 0 {
			return total, nil
		}
	}
}

// sweepRecords removes the versions of records that are gone or
// superseded long enough.
func (s *Store) sweepRecords(ctx context.Context, now time.Time) (int64, error) {
	// Candidates: records with a version expired at now, and records with
	// a version written before the cutoff.
	cutoff := s.now().Add(-s.grace).UnixMicro()
	old := make(map[string]int64) // key: the newest version written before the cutoff
	expired := make(map[string]bool)
	cur, err := s.recs.Find(ctx, bson.D{{Key: "$or", Value: bson.A{
		bson.D{{Key: "x", Value: bson.D{{Key: "$gt", Value: 0}, {Key: "$lte", Value: micros(now)}}}},
		bson.D{{Key: "t", Value: bson.D{{Key: "$lt", Value: cutoff}}}},
	}}}, options.Find().SetProjection(bson.D{{Key: "k", Value: 1}, {Key: "v", Value: 1}, {Key: "t", Value: 1}, {Key: "x", Value: 1}}))
	if err != nil {
		return 0, err
	}
	for cur.Next(ctx) {
		var r struct {
			K string `bson:"k"`
			V int64  `bson:"v"`
			T int64  `bson:"t"`
			X int64  `bson:"x"`
		}
		if err := cur.Decode(&r); err != nil {
			cur.Close(ctx)
			return 0, err
		}
		if r.X > 0 && r.X <= micros(now) {
			expired[r.K] = true
		}
		if r.T < cutoff {
			if v, ok := old[r.K]; !ok || r.V > v {
				old[r.K] = r.V
			}
		}
	}
	if err := cur.Close(ctx); err != nil {
		return 0, err
	}
	keys := make([]string, 0, len(old)+len(expired))
	for k := range old {
		keys = append(keys, k)
	}
	for k := range expired {
		if _, ok := old[k]; !ok {
			keys = append(keys, k)
		}
	}
	var total int64
	for len(keys) > 0 {
		batch := keys[:min(len(keys), s.batch)]
		keys = keys[len(batch):]
		m, _, err := s.latest(ctx, batch...)
		if err != nil {
			return total, err
		}
		var del bson.A
		for _, k := range batch {
			r := m[k]
			if r == nil {
				continue
			}
			v, isOld := old[k]
			switch {
			case r.Y != tCase && r.Y != tFactor && r.Y != tLookup && r.X > 0 && r.X <= micros(now):
				// Expired: the whole record.
				del = append(del, bson.D{{Key: "k", Value: k}, {Key: "v", Value: bson.D{{Key: "$lte", Value: r.V}}}})
			case isOld && v == r.V && r.Z:
				// Deleted or cleared long enough ago: the whole record.
				del = append(del, bson.D{{Key: "k", Value: k}, {Key: "v", Value: bson.D{{Key: "$lte", Value: r.V}}}})
			case isOld && v > 0:
				// Versions before one written long enough ago.
				del = append(del, bson.D{{Key: "k", Value: k}, {Key: "v", Value: bson.D{{Key: "$lt", Value: v}}}})
			}
		}
		if len(del) == 0 {
			continue
		}
		res, err := s.recs.DeleteMany(ctx, bson.D{{Key: "$or", Value: del}})
		if err != nil {
			return total, err
		}
		total += res.DeletedCount
	}
	return total, nil
}
