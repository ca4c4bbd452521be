package mongostore

import (
	"context"
	"errors"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/mfakit/mfa/store"
)

// sessionDoc is one session; Retired holds the refresh hashes rotated
// away, in the same document, so rotation and reuse detection are each
// one atomic update.
type sessionDoc struct {
	ID      string   `bson:"_id"`
	User    string   `bson:"u"`
	Refresh []byte   `bson:"r"`
	Data    []byte   `bson:"d"`
	Created int64    `bson:"c"`
	Last    int64    `bson:"l"`
	Idle    int64    `bson:"ie"`
	Expires int64    `bson:"x"`
	Revoked bool     `bson:"rv"`
	Retired [][]byte `bson:"old,omitempty"`
	At      any      `bson:"at,omitempty"`
}

func (d sessionDoc) session() store.Session {
	return store.Session{
		ID: d.ID, UserID: d.User, Refresh: orNil(d.Refresh), Data: orNil(d.Data),
		Created: fromMicros(d.Created), LastUsed: fromMicros(d.Last),
		IdleExpires: fromMicros(d.Idle), Expires: fromMicros(d.Expires), Revoked: d.Revoked,
	}
}

// CreateSession implements [store.Sessions].
func (s *Store) CreateSession(ctx context.Context, x store.Session) error {
	_, err := s.sessions.InsertOne(ctx, sessionDoc{
		ID: x.ID, User: x.UserID, Refresh: x.Refresh, Data: x.Data, Created: micros(x.Created),
		Last: micros(x.LastUsed), Idle: micros(x.IdleExpires), Expires: micros(x.Expires), Revoked: x.Revoked,
		At: s.ttlAt(micros(x.Expires)),
	})
	if mongo.IsDuplicateKeyError(err) {
		return sentinel("create session", store.ErrExists)
	}
	return wrap("create session", err)
}

// GetSession implements [store.Sessions].
func (s *Store) GetSession(ctx context.Context, id string) (store.Session, error) {
	var d sessionDoc
	err := s.sessions.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return store.Session{}, sentinel("get session", store.ErrNotFound)
	}
	if err != nil {
		return store.Session{}, wrap("get session", err)
	}
	return d.session(), nil
}

// RotateRefresh implements [store.Sessions]: one findOneAndUpdate whose
// filter holds the presented hash, the session live at req.Now, and not
// revoked; it moves the hash to Retired. Only when that matches nothing
// does a second update, whose filter holds the presented hash among the
// retired ones, revoke the session (ErrReused). Hashes are compared by
// value: they are keyed hashes, so timing tells an attacker nothing.
func (s *Store) RotateRefresh(ctx context.Context, req store.Rotate) (store.Session, error) {
	const op = "rotate refresh"
	now := micros(req.Now)
	filter := bson.D{
		{Key: "_id", Value: req.SessionID}, {Key: "r", Value: req.Old}, {Key: "rv", Value: false},
		{Key: "ie", Value: bson.D{{Key: "$gt", Value: now}}}, {Key: "x", Value: bson.D{{Key: "$gt", Value: now}}},
	}
	set := bson.D{{Key: "r", Value: req.New}, {Key: "l", Value: now}, {Key: "ie", Value: micros(req.IdleExpires)}}
	if req.Data != nil {
		set = append(set, bson.E{Key: "d", Value: req.Data})
	}
	var d sessionDoc
	err := s.sessions.FindOneAndUpdate(ctx, filter,
		bson.D{{Key: "$set", Value: set}, {Key: "$push", Value: bson.D{{Key: "old", Value: req.Old}}}},
		options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&d)
	if err == nil {
		return d.session(), nil
	}
	if !errors.Is(err, mongo.ErrNoDocuments) {
		return store.Session{}, wrap(op, err)
	}
	reused := bson.D{
		{Key: "_id", Value: req.SessionID}, {Key: "old", Value: req.Old}, {Key: "rv", Value: false},
		{Key: "ie", Value: bson.D{{Key: "$gt", Value: now}}}, {Key: "x", Value: bson.D{{Key: "$gt", Value: now}}},
	}
	res, err := s.sessions.UpdateOne(ctx, reused, bson.D{
		{Key: "$set", Value: bson.D{{Key: "rv", Value: true}}}, {Key: "$unset", Value: bson.D{{Key: "old", Value: ""}}},
	})
	if err != nil {
		return store.Session{}, wrap(op, err)
	}
	if res.MatchedCount == 1 {
		return store.Session{}, sentinel(op, store.ErrReused)
	}
	return store.Session{}, sentinel(op, store.ErrNotFound)
}

// RevokeSession implements [store.Sessions].
func (s *Store) RevokeSession(ctx context.Context, id string) error {
	res, err := s.sessions.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, bson.D{
		{Key: "$set", Value: bson.D{{Key: "rv", Value: true}}}, {Key: "$unset", Value: bson.D{{Key: "old", Value: ""}}},
	})
	if err != nil {
		return wrap("revoke session", err)
	}
	if res.MatchedCount == 0 {
		return sentinel("revoke session", store.ErrNotFound)
	}
	return nil
}

// RevokeUserSessions implements [store.Sessions].
func (s *Store) RevokeUserSessions(ctx context.Context, userID string) (int, error) {
	res, err := s.sessions.UpdateMany(ctx, bson.D{{Key: "u", Value: userID}, {Key: "rv", Value: false}}, bson.D{
		{Key: "$set", Value: bson.D{{Key: "rv", Value: true}}}, {Key: "$unset", Value: bson.D{{Key: "old", Value: ""}}},
	})
	if err != nil {
		return 0, wrap("revoke user sessions", err)
	}
	return int(res.ModifiedCount), nil
}

// ListSessions implements [store.Sessions].
func (s *Store) ListSessions(ctx context.Context, userID string) ([]store.Session, error) {
	cur, err := s.sessions.Find(ctx, bson.D{{Key: "u", Value: userID}, {Key: "rv", Value: false}},
		options.Find().SetSort(bson.D{{Key: "c", Value: 1}, {Key: "_id", Value: 1}}))
	if err != nil {
		return nil, wrap("list sessions", err)
	}
	var docs []sessionDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, wrap("list sessions", err)
	}
	out := make([]store.Session, 0, len(docs))
	for _, d := range docs {
		out = append(out, d.session())
	}
	return out, nil
}
