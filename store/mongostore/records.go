package mongostore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Record types, the y field of a version.
const (
	tFactor  = "f"
	tLookup  = "l"
	tCounter = "c"
	tSession = "s"
	tCase    = "r"
)

// rec is one version of one record. A record is the sequence of its
// versions, each a document whose _id is the record's key and the
// version number; the record's state is its newest version. A version is
// never changed once written: a change inserts the next one, and of
// concurrent changes that read the same version exactly one insert
// succeeds, because the others find its _id taken.
type rec struct {
	ID string `bson:"_id"`
	K  string `bson:"k"`           // the record's key
	V  int64  `bson:"v"`           // the version number
	T  int64  `bson:"t"`           // when written, by Config.Now, in microseconds (for Sweep)
	Y  string `bson:"y"`           // record type
	U  string `bson:"u,omitempty"` // user, for listings
	X  int64  `bson:"x,omitempty"` // the record is dead at and after this instant (0: never)
	Z  bool   `bson:"z,omitempty"` // the record is deleted (a factor) or cleared (a counter)

	// Factors (ID), sessions (ID), recovery cases (ID), lookups (the
	// owner's user in U and factor in ID).
	RID       string `bson:"id,omitempty"`
	Kind      string `bson:"kind,omitempty"`
	Name      string `bson:"name,omitempty"`
	State     string `bson:"st,omitempty"`
	Lookup    string `bson:"lk,omitempty"`
	Secret    []byte `bson:"sec,omitempty"`
	Data      []byte `bson:"data,omitempty"`
	Counter   int64  `bson:"ctr,omitempty"`
	Created   int64  `bson:"cr,omitempty"`
	Confirmed int64  `bson:"cf,omitempty"`
	LastUsed  int64  `bson:"lu,omitempty"`

	// Counters.
	Failures int   `bson:"f,omitempty"`
	Until    int64 `bson:"un,omitempty"`
	Expires  int64 `bson:"ex,omitempty"`

	// Sessions (also Data, Created, LastUsed, Expires).
	Refresh []byte   `bson:"rt,omitempty"`
	Retired [][]byte `bson:"old,omitempty"`
	Idle    int64    `bson:"ie,omitempty"`
	Revoked bool     `bson:"rv,omitempty"`

	// Recovery cases (also State, Data, Created, Expires).
	Token     []byte `bson:"tok,omitempty"`
	Updated   int64  `bson:"up,omitempty"`
	NotBefore int64  `bson:"nb,omitempty"`
}

// next returns a copy of r as the version after it, to be changed and
// inserted.
func (s *Store) next(r *rec) *rec {
	n := *r
	n.V++
	n.ID = versionID(n.K, n.V)
	n.T = s.now().UnixMicro()
	return &n
}

// first returns the first version of the record k of type y (or the
// version after the last one swept, v).
func (s *Store) first(k, y string, v int64) *rec {
	return &rec{ID: versionID(k, v), K: k, V: v, T: s.now().UnixMicro(), Y: y}
}

func versionID(k string, v int64) string { return k + "#" + strconv.FormatInt(v, 10) }

// latest reads the newest version of each record named, in one query; a
// record with no version is missing from the map. It also returns when
// the read began, for [Store.insert]'s check.
func (s *Store) latest(ctx context.Context, keys ...string) (map[string]*rec, time.Time, error) {
	start := time.Now()
	var filter bson.D
	if len(keys) == 1 {
		filter = bson.D{{Key: "k", Value: keys[0]}}
	} else {
		filter = bson.D{{Key: "k", Value: bson.D{{Key: "$in", Value: keys}}}}
	}
	m, err := s.newest(ctx, filter)
	return m, start, err
}

// newest reads the versions filter matches and keeps the newest of each
// record.
func (s *Store) newest(ctx context.Context, filter any, opts ...options.Lister[options.FindOptions]) (map[string]*rec, error) {
	cur, err := s.recs.Find(ctx, filter, opts...)
	if err != nil {
		return nil, err
	}
	defer cur.Close(ctx)
	m := make(map[string]*rec)
	for cur.Next(ctx) {
		r := new(rec)
		if err := cur.Decode(r); err != nil {
			return nil, err
		}
		if old, ok := m[r.K]; !ok || r.V > old.V {
			m[r.K] = r
		}
	}
	return m, cur.Err()
}

// insert writes new versions. Ordered, it stops at the first _id taken;
// unordered, it tries every one. taken lists the indexes of the versions
// not written because their _id was taken (ordered: that one and every
// later one). A write that began (read) more than half of Config.Grace
// ago wraps ErrSlow instead, whatever landed.
func (s *Store) insert(ctx context.Context, start time.Time, ordered bool, vs ...*rec) (taken []int, err error) {
	docs := make([]any, len(vs))
	for i, v := range vs {
		docs[i] = v
	}
	taken, err = insertDocs(ctx, s.recs, ordered, docs)
	if err != nil {
		return nil, err
	}
	if time.Since(start) > s.grace/2 {
		return nil, ErrSlow
	}
	return taken, nil
}

// insertDocs inserts docs into c and returns the indexes of those not
// written because their _id was taken (ordered: that one and every later
// one).
func insertDocs(ctx context.Context, c *mongo.Collection, ordered bool, docs []any) (taken []int, err error) {
	_, err = c.InsertMany(ctx, docs, options.InsertMany().SetOrdered(ordered))
	if err == nil {
		return nil, nil
	}
	var bwe mongo.BulkWriteException
	if !errors.As(err, &bwe) || bwe.WriteConcernError != nil || len(bwe.WriteErrors) == 0 {
		return nil, err
	}
	for _, we := range bwe.WriteErrors {
		if !mongo.IsDuplicateKeyError(we) {
			return nil, err
		}
		taken = append(taken, we.Index)
	}
	if ordered {
		for i := taken[len(taken)-1] + 1; i < len(docs); i++ {
			taken = append(taken, i)
		}
	}
	return taken, nil
}

// put writes one version; ok is false when its _id was taken.
func (s *Store) put(ctx context.Context, start time.Time, v *rec) (ok bool, err error) {
	taken, err := s.insert(ctx, start, true, v)
	return err == nil && len(taken) == 0, err
}

// change is the loop every overwrite runs: read the newest version of k,
// let f decide (returning the next version, or nil and an error or nil
// to stop), insert it, and start again when another writer got there
// first.
func (s *Store) change(ctx context.Context, op, k string, f func(cur *rec) (*rec, error)) (*rec, error) {
	for {
		m, start, err := s.latest(ctx, k)
		if err != nil {
			return nil, wrap(op, err)
		}
		n, err := f(m[k])
		if err != nil || n == nil {
			return nil, err
		}
		ok, err := s.put(ctx, start, n)
		if err != nil {
			return nil, wrap(op, err)
		}
		if ok {
			return n, nil
		}
		if err := ctx.Err(); err != nil {
			return nil, wrap(op, err)
		}
	}
}

func sentinel(op string, err error) error { return fmt.Errorf("mfa: mongostore: %s: %w", op, err) }
