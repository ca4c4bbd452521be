package storetest

import (
	"testing"
	"time"

	"github.com/mfakit/mfa/store"
)

func newDevice(userID string) store.Device {
	return store.Device{
		ID:       uid("dev"),
		UserID:   userID,
		Hash:     randBytes(32),
		Name:     "Firefox on Linux",
		Created:  at(0),
		LastUsed: at(time.Minute),
		Expires:  at(30 * 24 * time.Hour),
	}
}

// testDevices runs when the value is a [store.Devices].
func testDevices(t *testing.T, s store.Devices) {
	t.Run("CreateGet", func(t *testing.T) {
		d := newDevice(uid("user"))
		in := d
		in.Hash = append([]byte(nil), d.Hash...)
		must(t, "CreateDevice", s.CreateDevice(ctx, in))
		in.Hash[0] ^= 0xff
		got, err := s.GetDevice(ctx, d.ID, at(time.Hour))
		must(t, "GetDevice", err)
		checkDevice(t, "GetDevice", got, d)
		got.Hash[0] ^= 0xff
		got, err = s.GetDevice(ctx, d.ID, at(time.Hour))
		must(t, "GetDevice", err)
		checkDevice(t, "GetDevice after the caller changed its copy", got, d)

		dup := newDevice(uid("user"))
		dup.ID = d.ID
		wantErr(t, "CreateDevice with a taken ID", s.CreateDevice(ctx, dup), store.ErrExists)
		_, err = s.GetDevice(ctx, uid("dev"), at(0))
		wantErr(t, "GetDevice unknown", err, store.ErrNotFound)
	})

	t.Run("Expiry", func(t *testing.T) {
		d := newDevice(uid("user"))
		must(t, "CreateDevice", s.CreateDevice(ctx, d))
		_, err := s.GetDevice(ctx, d.ID, d.Expires.Add(-time.Millisecond))
		must(t, "GetDevice just before Expires", err)
		_, err = s.GetDevice(ctx, d.ID, d.Expires)
		wantErr(t, "GetDevice at Expires", err, store.ErrNotFound)
		list, err := s.ListDevices(ctx, d.UserID, d.Expires)
		must(t, "ListDevices", err)
		if len(list) != 0 {
			t.Fatalf("ListDevices at Expires = %d devices, want none", len(list))
		}
	})

	t.Run("List", func(t *testing.T) {
		user := uid("user")
		a, b, c, old := newDevice(user), newDevice(user), newDevice(user), newDevice(user)
		b.Created, c.Created = at(time.Second), at(time.Second)
		if c.ID < b.ID {
			b, c = c, b
		}
		old.Created, old.Expires = at(time.Millisecond), at(time.Hour)
		for _, d := range []store.Device{c, old, a, b} {
			must(t, "CreateDevice", s.CreateDevice(ctx, d))
		}
		must(t, "CreateDevice of another user", s.CreateDevice(ctx, newDevice(uid("user"))))

		id := func(d store.Device) string { return d.ID }
		list, err := s.ListDevices(ctx, user, at(time.Minute))
		must(t, "ListDevices", err)
		if g, w := ids(list, id), ids([]store.Device{a, old, b, c}, id); g != w {
			t.Fatalf("ListDevices = %s, want %s (Created then ID)", g, w)
		}
		list, err = s.ListDevices(ctx, user, at(2*time.Hour))
		must(t, "ListDevices", err)
		if g, w := ids(list, id), ids([]store.Device{a, b, c}, id); g != w {
			t.Fatalf("ListDevices after one expired = %s, want %s", g, w)
		}
		checkDevice(t, "ListDevices[0]", list[0], a)

		list, err = s.ListDevices(ctx, uid("user"), at(0))
		must(t, "ListDevices of a user without devices", err)
		if len(list) != 0 {
			t.Fatalf("ListDevices of a user without devices = %d", len(list))
		}
	})

	t.Run("Delete", func(t *testing.T) {
		user := uid("user")
		a, b, c := newDevice(user), newDevice(user), newDevice(user)
		other := newDevice(uid("user"))
		for _, d := range []store.Device{a, b, c, other} {
			must(t, "CreateDevice", s.CreateDevice(ctx, d))
		}
		wantErr(t, "DeleteDevice of another user's device", s.DeleteDevice(ctx, user, other.ID), store.ErrNotFound)
		_, err := s.GetDevice(ctx, other.ID, at(0))
		must(t, "GetDevice after a refused delete", err)

		must(t, "DeleteDevice", s.DeleteDevice(ctx, user, a.ID))
		_, err = s.GetDevice(ctx, a.ID, at(0))
		wantErr(t, "GetDevice deleted", err, store.ErrNotFound)
		wantErr(t, "DeleteDevice twice", s.DeleteDevice(ctx, user, a.ID), store.ErrNotFound)

		n, err := s.DeleteUserDevices(ctx, user)
		must(t, "DeleteUserDevices", err)
		if n != 2 {
			t.Fatalf("DeleteUserDevices = %d, want 2", n)
		}
		for _, d := range []store.Device{b, c} {
			_, err := s.GetDevice(ctx, d.ID, at(0))
			wantErr(t, "GetDevice after DeleteUserDevices", err, store.ErrNotFound)
		}
		n, err = s.DeleteUserDevices(ctx, user)
		must(t, "DeleteUserDevices again", err)
		if n != 0 {
			t.Fatalf("DeleteUserDevices again = %d, want 0", n)
		}
		_, err = s.GetDevice(ctx, other.ID, at(0))
		must(t, "GetDevice of another user after DeleteUserDevices", err)
	})
}
