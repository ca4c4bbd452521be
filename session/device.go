package session

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mfakit/mfa/store"
)

// DeviceInfo describes a remembered device, without its token or hash.
type DeviceInfo struct {
	ID       string
	Name     string
	Created  time.Time
	LastUsed time.Time
	Expires  time.Time
}

func (m *Manager) deviceHash(userID, id string, secret []byte) []byte {
	return m.hasher.Stamp(domainDevice, []byte(userID), []byte(id), secret)
}

// maxNameLen bounds a device name.
const maxNameLen = 256

// Remember trusts the user's device (browser) for ttl (Config.DeviceTTL
// when 0, at most 365 days) and returns its token, an opaque
// "<id>.<256 random bits>" to keep in a long-lived cookie (see
// [Manager.SetDeviceCookie]). Only a keyed hash bound to the user is
// stored.
//
// Whether a remembered device may stand in for a second factor, and at
// which level, is the application's policy: NIST SP 800-63B does not count
// a remembered browser as an authenticator. An application that accepts
// it typically calls CheckDevice after the password and then Start with a
// Result it builds itself, at the level its policy grants.
func (m *Manager) Remember(ctx context.Context, userID, name string, ttl time.Duration) (string, error) {
	if userID == "" || len(userID) > maxIDLen {
		return "", fmt.Errorf("%w: user ID must be 1 to %d bytes", ErrInvalidResult, maxIDLen)
	}
	if len(name) > maxNameLen {
		return "", fmt.Errorf("%w: device name longer than %d bytes", ErrInvalidResult, maxNameLen)
	}
	if ttl == 0 {
		ttl = m.deviceTTL
	}
	if ttl < 0 || ttl > maxDeviceTTL {
		return "", fmt.Errorf("%w: device TTL must be at most %s", ErrConfig, maxDeviceTTL)
	}
	id, tok, secret, err := m.newOpaque()
	if err != nil {
		return "", err
	}
	now := m.now()
	d := store.Device{
		ID: id, UserID: userID, Hash: m.deviceHash(userID, id, secret), Name: name,
		Created: now, LastUsed: now, Expires: now.Add(ttl),
	}
	if err := m.store.CreateDevice(ctx, d); err != nil {
		return "", wrap(ErrStore, err)
	}
	if err := m.emit(ctx, Event{Type: EventDeviceRemembered, Time: now, UserID: userID, DeviceID: id}); err != nil {
		if derr := m.store.DeleteDevice(ctx, userID, id); derr != nil {
			return "", errors.Join(err, wrap(ErrStore, derr))
		}
		return "", err
	}
	return tok, nil
}

// CheckDevice reports whether token is a remembered, unexpired device of
// userID. Any other token (another user's, forgotten, expired, malformed)
// fails with an error wrapping ErrDevice; the hashes are compared in
// constant time.
func (m *Manager) CheckDevice(ctx context.Context, userID, token string) error {
	id, secret, err := splitOpaque(token)
	if err != nil {
		return refuse(ErrDevice, "malformed")
	}
	d, err := m.store.GetDevice(ctx, id, m.now())
	if errors.Is(err, store.ErrNotFound) {
		return refuse(ErrDevice, "")
	}
	if err != nil {
		return wrap(ErrStore, err)
	}
	// The user is inside the hash: another user's device never matches,
	// and the comparison below is the only test.
	if !m.hasher.Match(d.Hash, domainDevice, []byte(userID), []byte(id), secret) || d.UserID != userID {
		return refuse(ErrDevice, "")
	}
	return nil
}

// Devices lists a user's remembered devices that have not expired,
// oldest first.
func (m *Manager) Devices(ctx context.Context, userID string) ([]DeviceInfo, error) {
	list, err := m.store.ListDevices(ctx, userID, m.now())
	if err != nil {
		return nil, wrap(ErrStore, err)
	}
	out := make([]DeviceInfo, 0, len(list))
	for _, d := range list {
		out = append(out, DeviceInfo{ID: d.ID, Name: d.Name, Created: d.Created, LastUsed: d.LastUsed, Expires: d.Expires})
	}
	return out, nil
}

// ForgetDevice stops trusting one of a user's devices; ErrNotFound if the
// user has no such device.
func (m *Manager) ForgetDevice(ctx context.Context, userID, id string) error {
	if err := m.store.DeleteDevice(ctx, userID, id); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return ErrNotFound
		}
		return wrap(ErrStore, err)
	}
	return m.emit(ctx, Event{Type: EventDeviceRevoked, Time: m.now(), UserID: userID, DeviceID: id})
}

// ForgetAllDevices stops trusting every device of a user and returns how
// many there were.
func (m *Manager) ForgetAllDevices(ctx context.Context, userID string) (int, error) {
	n, err := m.store.DeleteUserDevices(ctx, userID)
	if err != nil {
		return n, wrap(ErrStore, err)
	}
	return n, m.emit(ctx, Event{Type: EventDeviceRevoked, Time: m.now(), UserID: userID, Count: n})
}
