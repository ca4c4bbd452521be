package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/mfakit/mfa/store"
)

const deviceCols = "id, user_id, token_hash, name, created_us, last_used_us, expires_us"

func scanDevice(sc scanner) (store.Device, error) {
	var (
		d                          store.Device
		created, lastUsed, expires int64
	)
	if err := sc.Scan(&d.ID, &d.UserID, &d.Hash, &d.Name, &created, &lastUsed, &expires); err != nil {
		return store.Device{}, err
	}
	d.Created, d.LastUsed, d.Expires = fromMicros(created), fromMicros(lastUsed), fromMicros(expires)
	return d, nil
}

// CreateDevice implements [store.Devices].
func (s *Store) CreateDevice(ctx context.Context, d store.Device) error {
	if err := checkSizes(
		field{"device ID", len(d.ID), maxID}, field{"user ID", len(d.UserID), maxID},
		field{"device hash", len(d.Hash), maxHash}, field{"name", len(d.Name), maxText},
	); err != nil {
		return err
	}
	_, err := s.exec(ctx, "INSERT INTO {p}devices ("+deviceCols+") VALUES (?,?,?,?,?,?,?)",
		d.ID, d.UserID, d.Hash, d.Name, micros(d.Created), micros(d.LastUsed), micros(d.Expires))
	if s.duplicate(err) {
		return fmt.Errorf("mfa: sqlstore: create device: %w", store.ErrExists)
	}
	return wrapErr("create device", err)
}

// GetDevice implements [store.Devices].
func (s *Store) GetDevice(ctx context.Context, id string, now time.Time) (store.Device, error) {
	d, err := scanDevice(s.db.QueryRowContext(ctx, s.sql("SELECT "+deviceCols+" FROM {p}devices WHERE id = ? AND expires_us > ?"), id, micros(now)))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Device{}, fmt.Errorf("mfa: sqlstore: device: %w", store.ErrNotFound)
	}
	return d, wrapErr("get device", err)
}

// ListDevices implements [store.Devices].
func (s *Store) ListDevices(ctx context.Context, userID string, now time.Time) ([]store.Device, error) {
	rows, err := s.db.QueryContext(ctx, s.sql("SELECT "+deviceCols+" FROM {p}devices WHERE user_id = ? AND expires_us > ? ORDER BY created_us, id"), userID, micros(now))
	if err != nil {
		return nil, wrapErr("list devices", err)
	}
	defer rows.Close()
	list := []store.Device{}
	for rows.Next() {
		d, err := scanDevice(rows)
		if err != nil {
			return nil, wrapErr("list devices", err)
		}
		list = append(list, d)
	}
	if err := rows.Err(); err != nil {
		return nil, wrapErr("list devices", err)
	}
	return list, nil
}

// DeleteDevice implements [store.Devices].
func (s *Store) DeleteDevice(ctx context.Context, userID, id string) error {
	res, err := s.exec(ctx, "DELETE FROM {p}devices WHERE id = ? AND user_id = ?", id, userID)
	if err != nil {
		return wrapErr("delete device", err)
	}
	return affectedOne(res, "delete device")
}

// DeleteUserDevices implements [store.Devices]. Expired devices not yet
// swept are deleted and counted too.
func (s *Store) DeleteUserDevices(ctx context.Context, userID string) (int, error) {
	res, err := s.exec(ctx, "DELETE FROM {p}devices WHERE user_id = ?", userID)
	if err != nil {
		return 0, wrapErr("delete user devices", err)
	}
	n, err := res.RowsAffected()
	return int(n), wrapErr("delete user devices", err)
}
