package mongostore

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/mfakit/mfa/store"
)

// counterDoc is one failure counter; its _id is CounterKey.String(). V is
// a random version, new at every write: every change is a compare-and-set
// on it, and a counter deleted and created again never repeats the
// version a slow writer read.
type counterDoc struct {
	ID       string `bson:"_id"`
	Failures int    `bson:"f"`
	Until    int64  `bson:"u"`
	Expires  int64  `bson:"x"`
	V        int64  `bson:"v"`
	At       any    `bson:"at,omitempty"`
}

func (d counterDoc) state() store.CounterState {
	return store.CounterState{Failures: d.Failures, Until: fromMicros(d.Until), Expires: fromMicros(d.Expires)}
}

// maxRounds bounds the compare-and-set rounds of one Hit under contention.
const maxRounds = 100

// Hit implements [store.Counters]. Each counter is its own document, and
// MongoDB (without multi-document transactions) changes one document
// atomically, so Hit reads the counters (and the factor, at the same
// time), decides with [store.Decide] exactly as every backend decides,
// and writes each new state with a compare-and-set on the document's
// version, all writes at once. A counter that changed meanwhile is read
// and decided again, alone. No counter ever admits more than its rule
// allows; but a counter that another attempt blocked between the read and
// the write refuses after the others have counted, and they keep the
// failure: a slight relaxation, on the side of counting, as on a sharded
// Redis. A refusal costs one round trip, an admitted attempt two.
func (s *Store) Hit(ctx context.Context, req store.HitRequest) (store.HitResult, error) {
	var (
		fwg   sync.WaitGroup
		f     store.Factor
		found bool
		ferr  error
	)
	if req.Load.ID != "" {
		fwg.Go(func() {
			f, ferr = s.GetFactor(ctx, req.Load.UserID, req.Load.ID)
			if errors.Is(ferr, store.ErrNotFound) {
				ferr = nil
			} else {
				found = ferr == nil
			}
		})
	}
	res, err := s.hit(ctx, req)
	fwg.Wait()
	if err != nil {
		return store.HitResult{}, wrap("hit", err)
	}
	if !res.Admitted {
		return res, nil
	}
	if ferr != nil {
		return store.HitResult{}, wrap("hit: load factor", ferr)
	}
	res.Factor, res.Found = f, found
	return res, nil
}

func (s *Store) hit(ctx context.Context, req store.HitRequest) (store.HitResult, error) {
	pending := req.Counters
	for range maxRounds {
		docs, err := s.readCounters(ctx, pending)
		if err != nil {
			return store.HitResult{}, err
		}
		res := store.Decide(store.HitRequest{Now: req.Now, Counters: pending}, func(k store.CounterKey) store.CounterState {
			return docs[k.String()].state()
		})
		if !res.Admitted {
			return res, nil
		}
		// Apply in order, so a key named twice counts twice.
		next := map[string]counterDoc{}
		for _, c := range pending {
			k := c.Key.String()
			d, ok := next[k]
			if !ok {
				d = docs[k]
			}
			st := c.Rule.Apply(d.state(), req.Now)
			d.Failures, d.Until, d.Expires = st.Failures, micros(st.Until), micros(st.Expires)
			next[k] = d
		}
		lost, err := s.writeCounters(ctx, docs, next)
		if err != nil {
			return store.HitResult{}, err
		}
		if len(lost) == 0 {
			return store.HitResult{Admitted: true}, nil
		}
		var again []store.Counter
		for _, c := range pending {
			if lost[c.Key.String()] {
				again = append(again, c)
			}
		}
		pending = again
	}
	return store.HitResult{}, errors.New("counters kept changing")
}

// readCounters returns the stored documents of cs' keys; a missing one
// has V 0.
func (s *Store) readCounters(ctx context.Context, cs []store.Counter) (map[string]counterDoc, error) {
	keys := make([]string, 0, len(cs))
	for _, c := range cs {
		keys = append(keys, c.Key.String())
	}
	docs := make(map[string]counterDoc, len(keys))
	if len(keys) == 0 {
		return docs, nil
	}
	cur, err := s.counters.Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: keys}}}})
	if err != nil {
		return nil, err
	}
	var list []counterDoc
	if err := cur.All(ctx, &list); err != nil {
		return nil, err
	}
	for _, d := range list {
		docs[d.ID] = d
	}
	return docs, nil
}

// writeCounters writes each new state if its document is still at the
// version read (an insert where there was none), all at once, and
// returns the keys whose compare-and-set lost.
func (s *Store) writeCounters(ctx context.Context, old, next map[string]counterDoc) (map[string]bool, error) {
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		lost = map[string]bool{}
		errs []error
	)
	for k, d := range next {
		wg.Go(func() {
			ok, err := s.casCounter(ctx, k, old[k].V, d)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				errs = append(errs, err)
			case !ok:
				lost[k] = true
			}
		})
	}
	wg.Wait()
	return lost, errors.Join(errs...)
}

// version returns a fresh document version, never 0 (absent).
func version() int64 { return rand.Int64N(math.MaxInt64-1) + 1 }

// casCounter writes d under key k if the document is at version v (0:
// absent) and reports whether it did.
func (s *Store) casCounter(ctx context.Context, k string, v int64, d counterDoc) (bool, error) {
	at := s.ttlAt(d.Expires)
	if v == 0 {
		_, err := s.counters.InsertOne(ctx, counterDoc{ID: k, Failures: d.Failures, Until: d.Until, Expires: d.Expires, V: version(), At: at})
		if mongo.IsDuplicateKeyError(err) {
			return false, nil
		}
		return err == nil, err
	}
	set := bson.D{{Key: "f", Value: d.Failures}, {Key: "u", Value: d.Until}, {Key: "x", Value: d.Expires}, {Key: "v", Value: version()}, {Key: "at", Value: at}}
	res, err := s.counters.UpdateOne(ctx, bson.D{{Key: "_id", Value: k}, {Key: "v", Value: v}}, bson.D{{Key: "$set", Value: set}})
	if err != nil {
		return false, err
	}
	return res.MatchedCount == 1, nil
}

// Reset implements [store.Counters].
func (s *Store) Reset(ctx context.Context, keys ...store.CounterKey) error {
	return wrap("reset counters", s.settle(ctx, time.Time{}, keys, nil))
}

// Forgive implements [store.Counters].
func (s *Store) Forgive(ctx context.Context, now time.Time, counters ...store.Counter) error {
	return wrap("forgive counters", s.settle(ctx, now, nil, counters))
}

// settle deletes the reset counters and forgives the others in one
// ordered bulk write, one round trip. Forgiving is [store.Rule.Forgive]
// as two updates whose filters cannot both match: one for a count that
// falls below Free (the delay goes), one for a count that stays at or
// above it; each is atomic on its document.
func (s *Store) settle(ctx context.Context, now time.Time, reset []store.CounterKey, forgive []store.Counter) error {
	var models []mongo.WriteModel
	if len(reset) > 0 {
		keys := make([]string, len(reset))
		for i, k := range reset {
			keys[i] = k.String()
		}
		models = append(models, mongo.NewDeleteManyModel().SetFilter(bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: keys}}}}))
	}
	live := bson.D{{Key: "$or", Value: bson.A{bson.D{{Key: "x", Value: 0}}, bson.D{{Key: "x", Value: bson.D{{Key: "$gt", Value: micros(now)}}}}}}}
	for _, c := range forgive {
		k := c.Key.String()
		below := append(bson.D{{Key: "_id", Value: k}, {Key: "f", Value: bson.D{{Key: "$gt", Value: 0}, {Key: "$lte", Value: c.Rule.Free}}}}, live...)
		above := append(bson.D{{Key: "_id", Value: k}, {Key: "f", Value: bson.D{{Key: "$gt", Value: max(c.Rule.Free, 0)}}}}, live...)
		models = append(models,
			mongo.NewUpdateOneModel().SetFilter(below).SetUpdate(bson.D{
				{Key: "$inc", Value: bson.D{{Key: "f", Value: -1}}},
				{Key: "$set", Value: bson.D{{Key: "u", Value: int64(0)}, {Key: "v", Value: version()}}},
			}),
			mongo.NewUpdateOneModel().SetFilter(above).SetUpdate(bson.D{
				{Key: "$inc", Value: bson.D{{Key: "f", Value: -1}}},
				{Key: "$set", Value: bson.D{{Key: "v", Value: version()}}},
			}),
		)
	}
	if len(models) == 0 {
		return nil
	}
	_, err := s.counters.BulkWrite(ctx, models)
	return err
}

// CounterState implements [store.Counters]. An expired counter that has
// not been swept is returned as stored.
func (s *Store) CounterState(ctx context.Context, k store.CounterKey) (store.CounterState, error) {
	var d counterDoc
	err := s.counters.FindOne(ctx, bson.D{{Key: "_id", Value: k.String()}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return store.CounterState{}, nil
	}
	if err != nil {
		return store.CounterState{}, fmt.Errorf("mfa: mongostore: counter state: %w", err)
	}
	return d.state(), nil
}
