package session_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mfakit/mfa/internal/testkit"
	"github.com/mfakit/mfa/session"
)

func TestRememberedDevice(t *testing.T) {
	f := newFixture(t)
	tok, err := f.m.Remember(ctx, user, "Laptop", 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.m.CheckDevice(ctx, user, tok); err != nil {
		t.Fatalf("own device refused: %v", err)
	}
	list, err := f.m.Devices(ctx, user)
	if err != nil || len(list) != 1 || list[0].Name != "Laptop" || !list[0].Expires.Equal(t0.Add(30*24*time.Hour)) {
		t.Fatalf("Devices = %+v, %v", list, err)
	}
	d, err := f.store.GetDevice(ctx, list[0].ID, t0)
	if err != nil || len(d.Hash) != 32 || strings.Contains(tok, string(d.Hash)) {
		t.Fatalf("stored device must hold a keyed hash: %+v, %v", d, err)
	}
	bobs, err := f.m.Remember(ctx, "bob", "Phone", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	short, err := f.m.Remember(ctx, user, "Kiosk", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, uid, token string
	}{
		{"another user's device", user, bobs},
		{"my device presented for bob", "bob", tok},
		{"malformed", user, "nope"},
		{"empty", user, ""},
		{"tampered secret", user, testkit.FlipChar(tok, len(tok)-5)},
		{"refresh token", user, f.start(t, user, 2).RefreshToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := f.m.CheckDevice(ctx, tt.uid, tt.token); !errors.Is(err, session.ErrDevice) {
				t.Fatalf("err = %v, want ErrDevice", err)
			}
		})
	}
	f.clk.Add(time.Hour)
	if err := f.m.CheckDevice(ctx, user, short); !errors.Is(err, session.ErrDevice) {
		t.Errorf("expired device: err = %v", err)
	}
	if err := f.m.ForgetDevice(ctx, "bob", list[0].ID); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("forgetting another user's device: err = %v", err)
	}
	if err := f.m.ForgetDevice(ctx, user, list[0].ID); err != nil {
		t.Fatal(err)
	}
	if err := f.m.CheckDevice(ctx, user, tok); !errors.Is(err, session.ErrDevice) {
		t.Errorf("forgotten device: err = %v", err)
	}
	if _, err := f.m.Remember(ctx, user, "x", 400*24*time.Hour); err == nil {
		t.Error("a TTL above 365 days must be refused")
	}
	if _, err := f.m.Remember(ctx, user, strings.Repeat("n", 257), 0); err == nil {
		t.Error("an overlong name must be refused")
	}
	if _, err := f.m.Remember(ctx, user, "A", 0); err != nil {
		t.Fatal(err)
	}
	if _, err := f.m.Remember(ctx, user, "B", 0); err != nil {
		t.Fatal(err)
	}
	n, err := f.m.ForgetAllDevices(ctx, user)
	if err != nil || n < 2 {
		t.Fatalf("ForgetAllDevices = %d, %v", n, err)
	}
	if list, _ := f.m.Devices(ctx, user); len(list) != 0 {
		t.Errorf("devices left: %+v", list)
	}
	if err := f.m.CheckDevice(ctx, "bob", bobs); !errors.Is(err, session.ErrDevice) {
		// bob's one-hour device expired with the clock above.
		t.Errorf("bob's expired device: err = %v", err)
	}
	evs := f.events()
	if !slices.Contains(evs, session.EventDeviceRemembered) || !slices.Contains(evs, session.EventDeviceRevoked) {
		t.Errorf("events = %v", evs)
	}
}
