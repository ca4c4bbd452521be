package memstore

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/mfakit/mfa/store"
)

func copyDevice(d store.Device) store.Device {
	d.Hash = clone(d.Hash)
	return d
}

// CreateDevice implements [store.Devices].
func (s *Store) CreateDevice(ctx context.Context, d store.Device) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, taken := s.devices[d.ID]; taken {
		return store.ErrExists
	}
	s.devices[d.ID] = copyDevice(d)
	return nil
}

// GetDevice implements [store.Devices].
func (s *Store) GetDevice(ctx context.Context, id string, now time.Time) (store.Device, error) {
	if err := ctx.Err(); err != nil {
		return store.Device{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.devices[id]
	if !ok || !now.Before(d.Expires) {
		return store.Device{}, store.ErrNotFound
	}
	return copyDevice(d), nil
}

// ListDevices implements [store.Devices].
func (s *Store) ListDevices(ctx context.Context, userID string, now time.Time) ([]store.Device, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	list := []store.Device{}
	for _, d := range s.devices {
		if d.UserID == userID && now.Before(d.Expires) {
			list = append(list, copyDevice(d))
		}
	}
	slices.SortFunc(list, func(a, b store.Device) int {
		return cmp.Or(a.Created.Compare(b.Created), cmp.Compare(a.ID, b.ID))
	})
	return list, nil
}

// DeleteDevice implements [store.Devices].
func (s *Store) DeleteDevice(ctx context.Context, userID, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.devices[id]
	if !ok || d.UserID != userID {
		return store.ErrNotFound
	}
	delete(s.devices, id)
	return nil
}

// DeleteUserDevices implements [store.Devices]. Expired devices not yet
// swept are deleted and counted too.
func (s *Store) DeleteUserDevices(ctx context.Context, userID string) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for id, d := range s.devices {
		if d.UserID == userID {
			delete(s.devices, id)
			n++
		}
	}
	return n, nil
}
