package mongostore

import (
	"context"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/mfakit/mfa/store"
)

type deviceDoc struct {
	ID      string `bson:"_id"`
	User    string `bson:"u"`
	Hash    []byte `bson:"h"`
	Name    string `bson:"n"`
	Created int64  `bson:"c"`
	Last    int64  `bson:"l"`
	Expires int64  `bson:"x"`
	At      any    `bson:"at,omitempty"`
}

func (d deviceDoc) device() store.Device {
	return store.Device{
		ID: d.ID, UserID: d.User, Hash: orNil(d.Hash), Name: d.Name,
		Created: fromMicros(d.Created), LastUsed: fromMicros(d.Last), Expires: fromMicros(d.Expires),
	}
}

// CreateDevice implements [store.Devices].
func (s *Store) CreateDevice(ctx context.Context, d store.Device) error {
	_, err := s.devices.InsertOne(ctx, deviceDoc{
		ID: d.ID, User: d.UserID, Hash: d.Hash, Name: d.Name, Created: micros(d.Created),
		Last: micros(d.LastUsed), Expires: micros(d.Expires), At: s.ttlAt(micros(d.Expires)),
	})
	if mongo.IsDuplicateKeyError(err) {
		return sentinel("create device", store.ErrExists)
	}
	return wrap("create device", err)
}

// GetDevice implements [store.Devices].
func (s *Store) GetDevice(ctx context.Context, id string, now time.Time) (store.Device, error) {
	var d deviceDoc
	err := s.devices.FindOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "x", Value: bson.D{{Key: "$gt", Value: micros(now)}}}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return store.Device{}, sentinel("get device", store.ErrNotFound)
	}
	if err != nil {
		return store.Device{}, wrap("get device", err)
	}
	return d.device(), nil
}

// ListDevices implements [store.Devices].
func (s *Store) ListDevices(ctx context.Context, userID string, now time.Time) ([]store.Device, error) {
	cur, err := s.devices.Find(ctx, bson.D{{Key: "u", Value: userID}, {Key: "x", Value: bson.D{{Key: "$gt", Value: micros(now)}}}},
		options.Find().SetSort(bson.D{{Key: "c", Value: 1}, {Key: "_id", Value: 1}}))
	if err != nil {
		return nil, wrap("list devices", err)
	}
	var docs []deviceDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, wrap("list devices", err)
	}
	out := make([]store.Device, 0, len(docs))
	for _, d := range docs {
		out = append(out, d.device())
	}
	return out, nil
}

// DeleteDevice implements [store.Devices].
func (s *Store) DeleteDevice(ctx context.Context, userID, id string) error {
	res, err := s.devices.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "u", Value: userID}})
	if err != nil {
		return wrap("delete device", err)
	}
	if res.DeletedCount == 0 {
		return sentinel("delete device", store.ErrNotFound)
	}
	return nil
}

// DeleteUserDevices implements [store.Devices].
func (s *Store) DeleteUserDevices(ctx context.Context, userID string) (int, error) {
	res, err := s.devices.DeleteMany(ctx, bson.D{{Key: "u", Value: userID}})
	if err != nil {
		return 0, wrap("delete user devices", err)
	}
	return int(res.DeletedCount), nil
}
