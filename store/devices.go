package store

import (
	"context"
	"time"
)

// Device is a remembered device: a user's browser trusted for a while in
// place of a second factor, when the application's policy allows it.
type Device struct {
	ID       string
	UserID   string
	Hash     []byte // keyed hash of the device token
	Name     string
	Created  time.Time
	LastUsed time.Time
	Expires  time.Time
}

// Devices keeps remembered devices.
type Devices interface {
	// CreateDevice stores d; ErrExists if its ID is taken.
	CreateDevice(ctx context.Context, d Device) error
	// GetDevice returns a device that has not expired at now, or ErrNotFound.
	GetDevice(ctx context.Context, id string, now time.Time) (Device, error)
	// ListDevices returns a user's devices not expired at now, ordered by
	// Created then ID.
	ListDevices(ctx context.Context, userID string, now time.Time) ([]Device, error)
	// DeleteDevice removes one device of a user; ErrNotFound if none.
	DeleteDevice(ctx context.Context, userID, id string) error
	// DeleteUserDevices removes every device of a user and returns how many.
	DeleteUserDevices(ctx context.Context, userID string) (int, error)
}
