package mongostore

import (
	"cmp"
	"context"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/mfakit/mfa/store"
)

// Devices are written once and deleted, never changed: plain documents.
type deviceDoc struct {
	ID       string `bson:"_id"`
	UserID   string `bson:"u"`
	Hash     []byte `bson:"h,omitempty"`
	Name     string `bson:"name,omitempty"`
	Created  int64  `bson:"cr,omitempty"`
	LastUsed int64  `bson:"lu,omitempty"`
	X        int64  `bson:"x"` // Expires
	At       any    `bson:"at,omitempty"`
}

func (d deviceDoc) device() store.Device {
	return store.Device{ID: d.ID, UserID: d.UserID, Hash: orNil(d.Hash), Name: d.Name,
		Created: fromMicros(d.Created), LastUsed: fromMicros(d.LastUsed), Expires: fromMicros(d.X)}
}

// CreateDevice implements [store.Devices].
func (s *Store) CreateDevice(ctx context.Context, d store.Device) error {
	_, err := s.devices.InsertOne(ctx, deviceDoc{ID: d.ID, UserID: d.UserID, Hash: orNil(d.Hash), Name: d.Name,
		Created: micros(d.Created), LastUsed: micros(d.LastUsed), X: micros(d.Expires), At: s.ttlAt(d.Expires)})
	if isDup(err) {
		return sentinel("create device", store.ErrExists)
	}
	return wrap("create device", err)
}

// GetDevice implements [store.Devices].
func (s *Store) GetDevice(ctx context.Context, id string, now time.Time) (store.Device, error) {
	var d deviceDoc
	err := s.devices.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d)
	if err == mongo.ErrNoDocuments || err == nil && !now.Before(fromMicros(d.X)) {
		return store.Device{}, sentinel("get device", store.ErrNotFound)
	}
	if err != nil {
		return store.Device{}, wrap("get device", err)
	}
	return d.device(), nil
}

// ListDevices implements [store.Devices].
func (s *Store) ListDevices(ctx context.Context, userID string, now time.Time) ([]store.Device, error) {
	cur, err := s.devices.Find(ctx, bson.D{{Key: "u", Value: userID}, {Key: "x", Value: bson.D{{Key: "$gt", Value: micros(now)}}}})
	if err != nil {
		return nil, wrap("list devices", err)
	}
	var docs []deviceDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, wrap("list devices", err)
	}
	list := make([]store.Device, 0, len(docs))
	for _, d := range docs {
		if now.Before(fromMicros(d.X)) {
			list = append(list, d.device())
		}
	}
	slices.SortFunc(list, func(a, b store.Device) int {
		return cmp.Or(a.Created.Compare(b.Created), cmp.Compare(a.ID, b.ID))
	})
	return list, nil
}

// DeleteDevice implements [store.Devices].
func (s *Store) DeleteDevice(ctx context.Context, userID, id string) error {
	r, err := s.devices.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "u", Value: userID}})
	if err != nil {
		return wrap("delete device", err)
	}
	if r.DeletedCount == 0 {
		return sentinel("delete device", store.ErrNotFound)
	}
	return nil
}

// DeleteUserDevices implements [store.Devices].
func (s *Store) DeleteUserDevices(ctx context.Context, userID string) (int, error) {
	r, err := s.devices.DeleteMany(ctx, bson.D{{Key: "u", Value: userID}})
	if err != nil {
		return 0, wrap("delete user devices", err)
	}
	return int(r.DeletedCount), nil
}
