package mongostore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
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

// heads reads the head of each record named, by _id: a copy of its
// newest version as last written there. A write that was interrupted
// between its version and its head, or two heads written out of order,
// can leave a head behind its newest version; a head is never ahead, as
// it is written only after its version. Writers need nothing more: their
// insert of the next version fails when the head was behind. A missing
// record is missing from the map. It also returns when the read began,
// for [Store.insert]'s check.
func (s *Store) heads(ctx context.Context, keys ...string) (map[string]*rec, time.Time, error) {
	start := time.Now()
	m := make(map[string]*rec, len(keys))
	switch len(keys) {
	case 0:
		return m, start, nil
	case 1:
		r, err := s.byID(ctx, s.head, keys[0])
		if r != nil {
			m[r.K] = r
		}
		return m, start, err
	}
	cur, err := s.head.Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: keys}}}})
	if err != nil {
		return nil, start, err
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		r := new(rec)
		if err := cur.Decode(r); err != nil {
			return nil, start, err
		}
		m[r.K] = r
	}
	return m, start, cur.Err()
}

// latest reads the newest version of each record named: its head, and
// then each version after the head's, by _id, until one is missing. A
// head found behind is written again.
func (s *Store) latest(ctx context.Context, keys ...string) (map[string]*rec, time.Time, error) {
	m, start, err := s.heads(ctx, keys...)
	if err != nil {
		return nil, start, err
	}
	got := make([]*rec, len(keys))
	behind := make([]bool, len(keys))
	err = each(len(keys), func(i int) error {
		k := keys[i]
		r := m[k]
		v := int64(-1)
		if r != nil {
			v = r.V
		}
		for {
			n, err := s.byID(ctx, s.vers, versionID(k, v+1))
			if err != nil {
				return err
			}
			if n == nil {
				break
			}
			r, v, behind[i] = n, n.V, true
		}
		got[i] = r
		return nil
	})
	if err != nil {
		return nil, start, err
	}
	var repair []*rec
	for i, r := range got {
		if r != nil {
			m[r.K] = r
			if behind[i] {
				repair = append(repair, r)
			}
		}
	}
	// A repair is written only while the versions it read are surely
	// still there (see ErrSlow), so that it never puts back a head that
	// Sweep has made obsolete.
	if len(repair) > 0 && time.Since(start) <= s.grace/2 {
		if err := s.writeHeads(ctx, repair); err != nil {
			return nil, start, err
		}
	}
	return m, start, nil
}

// byID reads one document of c, nil when there is none.
func (s *Store) byID(ctx context.Context, c *mongo.Collection, id string) (*rec, error) {
	r := new(rec)
	err := c.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(r)
	if err == mongo.ErrNoDocuments {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return r, nil
}

// each runs f(0) ... f(n-1) at once (at most 16 at a time) and returns
// the first error.
func each(n int, f func(i int) error) error {
	if n == 1 {
		return f(0)
	}
	errs := make([]error, n)
	sem := make(chan struct{}, 16)
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			errs[i] = f(i)
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// listLatest returns the newest version of every record whose head
// filter matches.
func (s *Store) listLatest(ctx context.Context, filter bson.D) (map[string]*rec, error) {
	cur, err := s.head.Find(ctx, filter, options.Find().SetProjection(bson.D{{Key: "k", Value: 1}}))
	if err != nil {
		return nil, err
	}
	var ks []struct {
		K string `bson:"k"`
	}
	if err := cur.All(ctx, &ks); err != nil {
		return nil, err
	}
	if len(ks) == 0 {
		return map[string]*rec{}, nil
	}
	keys := make([]string, len(ks))
	for i, k := range ks {
		keys[i] = k.K
	}
	m, _, err := s.latest(ctx, keys...)
	return m, err
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
	taken, err = insertDocs(ctx, s.vers, ordered, docs)
	if err != nil {
		return nil, err
	}
	if time.Since(start) > s.grace/2 {
		return nil, ErrSlow
	}
	written := make([]*rec, 0, len(vs))
	for i, v := range vs {
		if !slices.Contains(taken, i) {
			written = append(written, v)
		}
	}
	if err := s.writeHeads(ctx, written); err != nil {
		return nil, err
	}
	return taken, nil
}

// writeHeads writes each version as the head of its record, in one
// command. Two first heads of one record written at once may make one
// upsert find the other's _id taken: the head is then the other's, which
// is as good (a head may be behind).
func (s *Store) writeHeads(ctx context.Context, vs []*rec) error {
	if len(vs) == 0 {
		return nil
	}
	models := make([]mongo.WriteModel, len(vs))
	for i, v := range vs {
		h := *v
		h.ID = v.K
		models[i] = mongo.NewReplaceOneModel().SetFilter(bson.D{{Key: "_id", Value: h.ID}}).SetReplacement(&h).SetUpsert(true)
	}
	_, err := s.head.BulkWrite(ctx, models, options.BulkWrite().SetOrdered(false))
	var bwe mongo.BulkWriteException
	if errors.As(err, &bwe) && bwe.WriteConcernError == nil && len(bwe.WriteErrors) > 0 {
		for _, we := range bwe.WriteErrors {
			if !mongo.IsDuplicateKeyError(we) {
				return err
			}
		}
		return nil
	}
	return err
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

// change is the loop every overwrite runs: read the head of k, let f
// decide (returning the next version, or nil and an error or nil to
// stop), insert it, and start again from the newest version when another
// writer got there first. A refusal decided on the head alone is decided
// again on the newest version, as the head may be behind.
func (s *Store) change(ctx context.Context, op, k string, f func(cur *rec) (*rec, error)) (*rec, error) {
	read, fresh := s.heads, false
	for {
		m, start, err := read(ctx, k)
		if err != nil {
			return nil, wrap(op, err)
		}
		n, err := f(m[k])
		if (err != nil || n == nil) && !fresh {
			read, fresh = s.latest, true
			continue
		}
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
		read, fresh = s.latest, true
		if err := ctx.Err(); err != nil {
			return nil, wrap(op, err)
		}
	}
}

func sentinel(op string, err error) error { return fmt.Errorf("mfa: mongostore: %s: %w", op, err) }
