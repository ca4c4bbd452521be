package mongostore

import (
	"context"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/mfakit/mfa/store"
)

type challengeDoc struct {
	ID       string `bson:"_id"`
	User     string `bson:"u"`
	FactorID string `bson:"f"`
	Kind     string `bson:"k"`
	Binding  string `bson:"b"`
	Data     []byte `bson:"d"`
	Created  int64  `bson:"c"`
	Expires  int64  `bson:"x"`
	At       any    `bson:"at,omitempty"`
}

// PutChallenge implements [store.Challenges].
func (s *Store) PutChallenge(ctx context.Context, c store.Challenge) error {
	_, err := s.challenges.InsertOne(ctx, challengeDoc{
		ID: c.ID, User: c.UserID, FactorID: c.FactorID, Kind: c.Kind, Binding: c.Binding, Data: c.Data,
		Created: micros(c.Created), Expires: micros(c.Expires), At: s.ttlAt(micros(c.Expires)),
	})
	if mongo.IsDuplicateKeyError(err) {
		return sentinel("put challenge", store.ErrExists)
	}
	return wrap("put challenge", err)
}

// TakeChallenge implements [store.Challenges]: one findOneAndDelete, so
// of N concurrent takes exactly one gets the document.
func (s *Store) TakeChallenge(ctx context.Context, id string, now time.Time) (store.Challenge, error) {
	var d challengeDoc
	err := s.challenges.FindOneAndDelete(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return store.Challenge{}, sentinel("take challenge", store.ErrNotFound)
	}
	if err != nil {
		return store.Challenge{}, wrap("take challenge", err)
	}
	if d.Expires <= micros(now) {
		return store.Challenge{}, sentinel("take challenge", store.ErrNotFound)
	}
	return store.Challenge{
		ID: d.ID, UserID: d.User, FactorID: d.FactorID, Kind: d.Kind, Binding: d.Binding,
		Data: orNil(d.Data), Created: fromMicros(d.Created), Expires: fromMicros(d.Expires),
	}, nil
}
