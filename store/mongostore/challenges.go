package mongostore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/mfakit/mfa/store"
)

// challengeDoc is an issued challenge, or (Take set) the claim that took
// it.
type challengeDoc struct {
	ID       string `bson:"_id"`
	X        int64  `bson:"x"` // Expires, for Sweep
	Nonce    string `bson:"n,omitempty"`
	At       any    `bson:"at,omitempty"`
	Take     bool   `bson:"take,omitempty"`
	UserID   string `bson:"u,omitempty"`
	FactorID string `bson:"f,omitempty"`
	Kind     string `bson:"kind,omitempty"`
	Binding  string `bson:"b,omitempty"`
	Data     []byte `bson:"data,omitempty"`
	Created  int64  `bson:"cr,omitempty"`
}

func challengeID(id string) string { return "c" + id }

// takeID names the claim on one issued challenge: its ID and the random
// nonce of the put that stored it, so a challenge put again under an ID
// taken before is a new one.
func takeID(id, nonce string) string { return "t" + key(id, nonce) }

// PutChallenge implements [store.Challenges].
func (s *Store) PutChallenge(ctx context.Context, c store.Challenge) error {
	var n [12]byte
	if _, err := rand.Read(n[:]); err != nil {
		return wrap("put challenge", err)
	}
	_, err := s.challenges.InsertOne(ctx, challengeDoc{
		ID: challengeID(c.ID), X: micros(c.Expires), At: s.ttlAt(c.Expires), Nonce: hex.EncodeToString(n[:]),
		UserID: c.UserID, FactorID: c.FactorID, Kind: c.Kind, Binding: c.Binding, Data: orNil(c.Data), Created: micros(c.Created),
	})
	if isDup(err) {
		return sentinel("put challenge", store.ErrExists)
	}
	return wrap("put challenge", err)
}

// TakeChallenge implements [store.Challenges]: it reads the challenge,
// inserts the claim that takes it, and deletes it. Of concurrent takes
// exactly one inserts the claim; every other finds its _id taken
// (ErrNotFound). The claim stays until Sweep removes it once the
// challenge would have expired.
func (s *Store) TakeChallenge(ctx context.Context, id string, now time.Time) (store.Challenge, error) {
	const op = "take challenge"
	var d challengeDoc
	err := s.challenges.FindOne(ctx, bson.D{{Key: "_id", Value: challengeID(id)}}).Decode(&d)
	if err == mongo.ErrNoDocuments {
		return store.Challenge{}, sentinel(op, store.ErrNotFound)
	}
	if err != nil {
		return store.Challenge{}, wrap(op, err)
	}
	c := store.Challenge{ID: id, UserID: d.UserID, FactorID: d.FactorID, Kind: d.Kind, Binding: d.Binding,
		Data: orNil(d.Data), Created: fromMicros(d.Created), Expires: fromMicros(d.X)}
	if !c.Expires.After(now) {
		if _, err := s.challenges.DeleteOne(ctx, bson.D{{Key: "_id", Value: d.ID}}); err != nil {
			return store.Challenge{}, wrap(op, err)
		}
		return store.Challenge{}, sentinel(op, store.ErrNotFound)
	}
	_, err = s.challenges.InsertOne(ctx, challengeDoc{ID: takeID(id, d.Nonce), X: d.X, At: s.ttlAt(c.Expires), Take: true})
	if isDup(err) {
		return store.Challenge{}, sentinel(op, store.ErrNotFound)
	}
	if err != nil {
		return store.Challenge{}, wrap(op, err)
	}
	// Taken: the challenge goes, so its ID can be put again. Only the
	// winner deletes it, and while it is there no other put can replace
	// it, so the document deleted is the one taken.
	if _, err := s.challenges.DeleteOne(ctx, bson.D{{Key: "_id", Value: d.ID}}); err != nil {
		return store.Challenge{}, wrap(op, err)
	}
	return c, nil
}
