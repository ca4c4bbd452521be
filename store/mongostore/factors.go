package mongostore

import (
	"context"
	"errors"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/mfakit/mfa/store"
)

// factorDoc is one factor; its _id is key(user, id).
type factorDoc struct {
	ID        string `bson:"_id"`
	User      string `bson:"u"`
	FactorID  string `bson:"i"`
	Kind      string `bson:"k"`
	Name      string `bson:"n"`
	Status    string `bson:"s"`
	Lookup    string `bson:"lk"`
	Secret    []byte `bson:"sec"`
	Data      []byte `bson:"d"`
	Counter   int64  `bson:"ctr"`
	Created   int64  `bson:"c"`
	Confirmed int64  `bson:"cf"`
	LastUsed  int64  `bson:"lu"`
}

func (d factorDoc) factor() store.Factor {
	return store.Factor{
		UserID: d.User, ID: d.FactorID, Kind: d.Kind, Name: d.Name, Status: store.Status(d.Status),
		Lookup: d.Lookup, Secret: orNil(d.Secret), Data: orNil(d.Data), Counter: d.Counter,
		Created: fromMicros(d.Created), Confirmed: fromMicros(d.Confirmed), LastUsed: fromMicros(d.LastUsed),
	}
}

// lookupDoc claims a Factor.Lookup for one factor; its _id is
// key(kind, lookup), so the claim is unique without a transaction.
type lookupDoc struct {
	ID    string `bson:"_id"`
	Owner string `bson:"o"` // the factor's _id
}

// CreateFactor implements [store.Factors]. A Lookup is claimed first (an
// insert whose _id is the kind and lookup) and released if the factor's
// ID turns out taken; a concurrent create of the same lookup may see it
// taken for that moment.
func (s *Store) CreateFactor(ctx context.Context, f store.Factor) error {
	const op = "create factor"
	id := key(f.UserID, f.ID)
	if f.Lookup != "" {
		_, err := s.lookups.InsertOne(ctx, lookupDoc{ID: key(f.Kind, f.Lookup), Owner: id})
		if mongo.IsDuplicateKeyError(err) {
			return sentinel(op, store.ErrExists)
		}
		if err != nil {
			return wrap(op, err)
		}
	}
	_, err := s.factors.InsertOne(ctx, factorDoc{
		ID: id, User: f.UserID, FactorID: f.ID, Kind: f.Kind, Name: f.Name, Status: string(f.Status),
		Lookup: f.Lookup, Secret: f.Secret, Data: f.Data, Counter: f.Counter,
		Created: micros(f.Created), Confirmed: micros(f.Confirmed), LastUsed: micros(f.LastUsed),
	})
	if err != nil {
		if f.Lookup != "" {
			s.release(ctx, f.Kind, f.Lookup, id)
		}
		if mongo.IsDuplicateKeyError(err) {
			return sentinel(op, store.ErrExists)
		}
		return wrap(op, err)
	}
	return nil
}

// release deletes a lookup claim if the factor owns it. A failure leaves
// a claim without a factor, which FindFactor reports as not found and
// which blocks only that lookup; it errs on the side of refusing.
func (s *Store) release(ctx context.Context, kind, lookup, owner string) {
	_, _ = s.lookups.DeleteOne(context.WithoutCancel(ctx), bson.D{{Key: "_id", Value: key(kind, lookup)}, {Key: "o", Value: owner}})
}

// GetFactor implements [store.Factors].
func (s *Store) GetFactor(ctx context.Context, userID, id string) (store.Factor, error) {
	var d factorDoc
	err := s.factors.FindOne(ctx, bson.D{{Key: "_id", Value: key(userID, id)}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return store.Factor{}, sentinel("get factor", store.ErrNotFound)
	}
	if err != nil {
		return store.Factor{}, wrap("get factor", err)
	}
	return d.factor(), nil
}

// FindFactor implements [store.Factors]: the lookup's claim names the
// factor.
func (s *Store) FindFactor(ctx context.Context, kind, lookup string) (store.Factor, error) {
	var l lookupDoc
	err := s.lookups.FindOne(ctx, bson.D{{Key: "_id", Value: key(kind, lookup)}}).Decode(&l)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return store.Factor{}, sentinel("find factor", store.ErrNotFound)
	}
	if err != nil {
		return store.Factor{}, wrap("find factor", err)
	}
	var d factorDoc
	err = s.factors.FindOne(ctx, bson.D{{Key: "_id", Value: l.Owner}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) || (err == nil && (d.Kind != kind || d.Lookup != lookup)) {
		return store.Factor{}, sentinel("find factor", store.ErrNotFound)
	}
	if err != nil {
		return store.Factor{}, wrap("find factor", err)
	}
	return d.factor(), nil
}

// ListFactors implements [store.Factors].
func (s *Store) ListFactors(ctx context.Context, userID string) ([]store.Factor, error) {
	cur, err := s.factors.Find(ctx, bson.D{{Key: "u", Value: userID}},
		options.Find().SetSort(bson.D{{Key: "c", Value: 1}, {Key: "i", Value: 1}}))
	if err != nil {
		return nil, wrap("list factors", err)
	}
	var docs []factorDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, wrap("list factors", err)
	}
	out := make([]store.Factor, 0, len(docs))
	for _, d := range docs {
		out = append(out, d.factor())
	}
	return out, nil
}

// UpdateFactor implements [store.Factors].
func (s *Store) UpdateFactor(ctx context.Context, f store.Factor) error {
	res, err := s.factors.UpdateOne(ctx, bson.D{{Key: "_id", Value: key(f.UserID, f.ID)}}, bson.D{{Key: "$set", Value: bson.D{
		{Key: "n", Value: f.Name}, {Key: "s", Value: string(f.Status)}, {Key: "sec", Value: f.Secret},
		{Key: "d", Value: f.Data}, {Key: "cf", Value: micros(f.Confirmed)},
	}}})
	if err != nil {
		return wrap("update factor", err)
	}
	if res.MatchedCount == 0 {
		return sentinel("update factor", store.ErrNotFound)
	}
	return nil
}

// DeleteFactor implements [store.Factors]; the lookup's claim is released
// after.
func (s *Store) DeleteFactor(ctx context.Context, userID, id string) error {
	var d factorDoc
	err := s.factors.FindOneAndDelete(ctx, bson.D{{Key: "_id", Value: key(userID, id)}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return sentinel("delete factor", store.ErrNotFound)
	}
	if err != nil {
		return wrap("delete factor", err)
	}
	if d.Lookup != "" {
		s.release(ctx, d.Kind, d.Lookup, d.ID)
	}
	return nil
}

// DeletePendingFactor implements [store.Factors]: one delete whose filter
// names the pending status, so it and an activation cannot both win.
func (s *Store) DeletePendingFactor(ctx context.Context, userID, id string) error {
	const op = "delete pending factor"
	var d factorDoc
	err := s.factors.FindOneAndDelete(ctx, bson.D{{Key: "_id", Value: key(userID, id)}, {Key: "s", Value: string(store.StatusPending)}}).Decode(&d)
	if err == nil {
		if d.Lookup != "" {
			s.release(ctx, d.Kind, d.Lookup, d.ID)
		}
		return nil
	}
	if !errors.Is(err, mongo.ErrNoDocuments) {
		return wrap(op, err)
	}
	if _, err := s.GetFactor(ctx, userID, id); err != nil {
		return err
	}
	return sentinel(op, store.ErrConflict)
}

// Advance implements [store.Factors]: one update whose filter holds the
// expected counter is the compare-and-set; the counters are reset and
// forgiven just after it, in one bulk write, as the contract allows.
func (s *Store) Advance(ctx context.Context, req store.Advance) error {
	const op = "advance"
	set := bson.D{{Key: "ctr", Value: req.To}, {Key: "lu", Value: micros(req.Now)}}
	if req.Data != nil {
		set = append(set, bson.E{Key: "d", Value: req.Data})
	}
	id := key(req.UserID, req.FactorID)
	res, err := s.factors.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "ctr", Value: req.From}}, bson.D{{Key: "$set", Value: set}})
	if err != nil {
		return wrap(op, err)
	}
	if res.MatchedCount == 0 {
		if _, err := s.GetFactor(ctx, req.UserID, req.FactorID); err != nil {
			return err
		}
		return sentinel(op, store.ErrConflict)
	}
	return wrap("reset counters after success", s.settle(ctx, req.Now, req.Reset, req.Forgive))
}
