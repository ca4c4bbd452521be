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

// sweepRecords removes the records that are gone and the versions
// superseded long enough.
func (s *Store) sweepRecords(ctx context.Context, now time.Time) (int64, error) {
	var total int64
	// Counters and sessions whose head is expired at now, if their newest
	// version is too: every document of the record.
	var expired []string
	err := s.scan(ctx, s.head, bson.D{{Key: "y", Value: bson.D{{Key: "$in", Value: bson.A{tCounter, tSession}}}},
		{Key: "x", Value: bson.D{{Key: "$gt", Value: 0}, {Key: "$lte", Value: micros(now)}}}},
		func(r *sweepRow) { expired = append(expired, r.K) })
	if err != nil {
		return 0, err
	}
	n, err := s.sweepKeys(ctx, expired, func(r *rec) (bson.D, bool) {
		if r.X > 0 && r.X <= micros(now) {
			return bson.D{{Key: "k", Value: r.K}}, true
		}
		return nil, false
	})
	total += n
	if err != nil {
		return total, err
	}

	// Versions written before the cutoff: those before the newest of
	// them go, and a deleted factor or cleared counter whose newest
	// version is that old goes whole.
	cutoff := s.now().Add(-s.grace).UnixMicro()
	old := make(map[string]int64)
	err = s.scan(ctx, s.vers, bson.D{{Key: "t", Value: bson.D{{Key: "$lt", Value: cutoff}}}},
		func(r *sweepRow) { old[r.K] = max(old[r.K], r.V) })
	if err != nil {
		return total, err
	}
	keys := make([]string, 0, len(old))
	for k := range old {
		keys = append(keys, k)
	}
	n, err = s.sweepKeys(ctx, keys, func(r *rec) (bson.D, bool) {
		m := old[r.K]
		switch {
		case r.Z && r.V == m:
			return bson.D{{Key: "k", Value: r.K}}, true
		case min(m, r.V) > 0:
			return bson.D{{Key: "k", Value: r.K}, {Key: "v", Value: bson.D{{Key: "$lt", Value: min(m, r.V)}}}}, false
		}
		return nil, false
	})
	return total + n, err
}

type sweepRow struct {
	K string `bson:"k"`
	V int64  `bson:"v"`
}

// scan calls f with the key and version of each document of c filter
// matches.
func (s *Store) scan(ctx context.Context, c *mongo.Collection, filter bson.D, f func(*sweepRow)) error {
	cur, err := c.Find(ctx, filter, options.Find().SetProjection(bson.D{{Key: "k", Value: 1}, {Key: "v", Value: 1}}))
	if err != nil {
		return err
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		var r sweepRow
		if err := cur.Decode(&r); err != nil {
			return err
		}
		f(&r)
	}
	return cur.Err()
}

// sweepKeys reads the newest version of each record named, a batch at a
// time, and deletes the versions del returns a filter for (nil: none),
// and the head too when del says all.
func (s *Store) sweepKeys(ctx context.Context, keys []string, del func(*rec) (filter bson.D, all bool)) (int64, error) {
	var total int64
	for len(keys) > 0 {
		batch := keys[:min(len(keys), s.batch)]
		keys = keys[len(batch):]
		m, _, err := s.latest(ctx, batch...)
		if err != nil {
			return total, err
		}
		var or, whole bson.A
		for _, k := range batch {
			if r := m[k]; r != nil {
				if d, all := del(r); d != nil {
					or = append(or, d)
					if all {
						whole = append(whole, k)
					}
				}
			}
		}
		if len(or) == 0 {
			continue
		}
		res, err := s.vers.DeleteMany(ctx, bson.D{{Key: "$or", Value: or}})
		if err != nil {
			return total, err
		}
		total += res.DeletedCount
		if len(whole) > 0 {
			if res, err = s.head.DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: whole}}}}); err != nil {
				return total, err
			}
			total += res.DeletedCount
		}
	}
	return total, nil
}
