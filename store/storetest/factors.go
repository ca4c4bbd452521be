package storetest

import (
	"bytes"
	"testing"
	"time"

	"github.com/mfakit/mfa/store"
)

// newFactor returns a fully populated active factor of a fresh user, with a
// unique lookup so it can be found and can collide on purpose.
func newFactor(kind string) store.Factor {
	return store.Factor{
		UserID:    uid("user"),
		ID:        "f1",
		Kind:      kind,
		Name:      "phone",
		Status:    store.StatusActive,
		Lookup:    uid("lookup"),
		Secret:    randBytes(40),
		Data:      []byte(`{"digits":6}`),
		Counter:   7,
		Created:   at(0),
		Confirmed: at(time.Minute),
		LastUsed:  at(2 * time.Minute),
	}
}

// testFactors runs when the value is a [store.Factors]; it uses nothing
// else. Advance is called without counters to reset or forgive.
func testFactors(t *testing.T, s store.Factors) {
	t.Run("CreateGet", func(t *testing.T) {
		f := newFactor("totp")
		must(t, "CreateFactor", s.CreateFactor(ctx, f))
		got, err := s.GetFactor(ctx, f.UserID, f.ID)
		must(t, "GetFactor", err)
		checkFactor(t, "GetFactor", got, f)

		pending := newFactor("totp")
		pending.Status, pending.Lookup, pending.Secret, pending.Data = store.StatusPending, "", nil, nil
		pending.Counter, pending.Confirmed, pending.LastUsed = 0, time.Time{}, time.Time{}
		must(t, "CreateFactor pending", s.CreateFactor(ctx, pending))
		got, err = s.GetFactor(ctx, pending.UserID, pending.ID)
		must(t, "GetFactor pending", err)
		checkFactor(t, "GetFactor pending (zero times, nil bytes)", got, pending)
	})

	t.Run("NotFound", func(t *testing.T) {
		f := newFactor("totp")
		must(t, "CreateFactor", s.CreateFactor(ctx, f))
		_, err := s.GetFactor(ctx, f.UserID, "other")
		wantErr(t, "GetFactor unknown ID", err, store.ErrNotFound)
		_, err = s.GetFactor(ctx, uid("user"), f.ID)
		wantErr(t, "GetFactor same ID of another user", err, store.ErrNotFound)
		_, err = s.FindFactor(ctx, "totp", uid("lookup"))
		wantErr(t, "FindFactor unknown lookup", err, store.ErrNotFound)
		u := f
		u.UserID = uid("user")
		wantErr(t, "UpdateFactor unknown", s.UpdateFactor(ctx, u), store.ErrNotFound)
		wantErr(t, "DeleteFactor unknown", s.DeleteFactor(ctx, u.UserID, f.ID), store.ErrNotFound)
		err = s.Advance(ctx, store.Advance{UserID: u.UserID, FactorID: f.ID, From: f.Counter, To: f.Counter + 1, Now: at(time.Hour)})
		wantErr(t, "Advance unknown", err, store.ErrNotFound)
		got, err := s.GetFactor(ctx, f.UserID, f.ID)
		must(t, "GetFactor", err)
		checkFactor(t, "factor after operations on a namesake of another user", got, f)
	})

	t.Run("Exists", func(t *testing.T) {
		f := newFactor("webauthn")
		must(t, "CreateFactor", s.CreateFactor(ctx, f))

		dupID := newFactor("webauthn")
		dupID.UserID, dupID.Name = f.UserID, "other"
		wantErr(t, "CreateFactor same user and ID", s.CreateFactor(ctx, dupID), store.ErrExists)

		dupLookup := newFactor("webauthn")
		dupLookup.Lookup, dupLookup.Name = f.Lookup, "other"
		wantErr(t, "CreateFactor same kind and lookup, other user", s.CreateFactor(ctx, dupLookup), store.ErrExists)
		_, err := s.GetFactor(ctx, dupLookup.UserID, dupLookup.ID)
		wantErr(t, "GetFactor after refused create", err, store.ErrNotFound)

		got, err := s.GetFactor(ctx, f.UserID, f.ID)
		must(t, "GetFactor", err)
		checkFactor(t, "original after refused creates", got, f)

		otherUser := newFactor("webauthn")
		otherUser.ID = f.ID
		must(t, "CreateFactor same ID, other user", s.CreateFactor(ctx, otherUser))

		otherKind := newFactor("passkey-other-kind")
		otherKind.Lookup = f.Lookup
		must(t, "CreateFactor same lookup, other kind", s.CreateFactor(ctx, otherKind))

		// Empty Lookup means none: many factors of one kind may have it.
		for i := range 3 {
			e := newFactor("webauthn")
			e.Lookup = ""
			if i > 0 {
				e.UserID = f.UserID
				e.ID = uid("f")
			}
			must(t, "CreateFactor empty lookup", s.CreateFactor(ctx, e))
		}
	})

	t.Run("Find", func(t *testing.T) {
		f := newFactor("webauthn")
		must(t, "CreateFactor", s.CreateFactor(ctx, f))
		other := newFactor("backup_codes")
		other.Lookup = f.Lookup
		must(t, "CreateFactor same lookup, other kind", s.CreateFactor(ctx, other))

		got, err := s.FindFactor(ctx, "webauthn", f.Lookup)
		must(t, "FindFactor", err)
		checkFactor(t, "FindFactor", got, f)
		got, err = s.FindFactor(ctx, "backup_codes", f.Lookup)
		must(t, "FindFactor other kind", err)
		checkFactor(t, "FindFactor other kind", got, other)
		_, err = s.FindFactor(ctx, "totp", f.Lookup)
		wantErr(t, "FindFactor kind without that lookup", err, store.ErrNotFound)

		noLookup := newFactor("webauthn")
		noLookup.Lookup = ""
		must(t, "CreateFactor empty lookup", s.CreateFactor(ctx, noLookup))
		_, err = s.FindFactor(ctx, "webauthn", "")
		wantErr(t, "FindFactor empty lookup (means none)", err, store.ErrNotFound)
	})

	t.Run("ListOrder", func(t *testing.T) {
		user := uid("user")
		// Created first, ID second: "b" and "c" share an instant.
		want := []store.Factor{
			{UserID: user, ID: "z", Kind: "totp", Status: store.StatusActive, Created: at(0)},
			{UserID: user, ID: "b", Kind: "webauthn", Status: store.StatusActive, Created: at(time.Millisecond)},
			{UserID: user, ID: "c", Kind: "totp", Status: store.StatusPending, Created: at(time.Millisecond)},
			{UserID: user, ID: "a", Kind: "backup_codes", Status: store.StatusActive, Created: at(time.Hour)},
		}
		for _, i := range []int{3, 2, 0, 1} { // insertion order differs from both orders
			must(t, "CreateFactor", s.CreateFactor(ctx, want[i]))
		}
		neighbour := newFactor("totp")
		must(t, "CreateFactor of another user", s.CreateFactor(ctx, neighbour))

		list, err := s.ListFactors(ctx, user)
		must(t, "ListFactors", err)
		id := func(f store.Factor) string { return f.ID }
		if g, w := ids(list, id), ids(want, id); g != w {
			t.Fatalf("ListFactors IDs = %s, want %s (Created then ID, pending included)", g, w)
		}
		for i := range want {
			checkFactor(t, "ListFactors["+want[i].ID+"]", list[i], want[i])
		}

		list, err = s.ListFactors(ctx, uid("user"))
		must(t, "ListFactors of a user without factors", err)
		if len(list) != 0 {
			t.Fatalf("ListFactors of a user without factors = %d factors, want none", len(list))
		}
	})

	t.Run("Update", func(t *testing.T) {
		f := newFactor("totp")
		f.Status, f.Confirmed = store.StatusPending, time.Time{}
		must(t, "CreateFactor", s.CreateFactor(ctx, f))

		u := f
		u.Name = "laptop"
		u.Status = store.StatusActive
		u.Secret = randBytes(41)
		u.Data = []byte("new data")
		u.Confirmed = at(time.Hour)
		// Fields UpdateFactor must leave alone:
		u.Counter = 1000
		u.Kind = "other-kind"
		u.Lookup = uid("lookup")
		u.Created = at(48 * time.Hour)
		u.LastUsed = at(49 * time.Hour)
		must(t, "UpdateFactor", s.UpdateFactor(ctx, u))

		want := u
		want.Counter, want.Kind, want.Lookup, want.Created, want.LastUsed = f.Counter, f.Kind, f.Lookup, f.Created, f.LastUsed
		got, err := s.GetFactor(ctx, f.UserID, f.ID)
		must(t, "GetFactor", err)
		checkFactor(t, "after UpdateFactor", got, want)
		got, err = s.FindFactor(ctx, f.Kind, f.Lookup)
		must(t, "FindFactor by the unchanged lookup", err)
		checkFactor(t, "FindFactor after UpdateFactor", got, want)
		_, err = s.FindFactor(ctx, u.Kind, u.Lookup)
		wantErr(t, "FindFactor by the lookup UpdateFactor ignored", err, store.ErrNotFound)

		// Secret and Data are replaced, nil included.
		u.Secret, u.Data = nil, nil
		must(t, "UpdateFactor nil bytes", s.UpdateFactor(ctx, u))
		want.Secret, want.Data = nil, nil
		got, err = s.GetFactor(ctx, f.UserID, f.ID)
		must(t, "GetFactor", err)
		checkFactor(t, "after UpdateFactor with nil Secret and Data", got, want)
	})

	t.Run("Delete", func(t *testing.T) {
		f := newFactor("webauthn")
		must(t, "CreateFactor", s.CreateFactor(ctx, f))
		keep := newFactor("webauthn")
		keep.UserID, keep.ID = f.UserID, "f2"
		must(t, "CreateFactor second", s.CreateFactor(ctx, keep))

		must(t, "DeleteFactor", s.DeleteFactor(ctx, f.UserID, f.ID))
		_, err := s.GetFactor(ctx, f.UserID, f.ID)
		wantErr(t, "GetFactor deleted", err, store.ErrNotFound)
		_, err = s.FindFactor(ctx, f.Kind, f.Lookup)
		wantErr(t, "FindFactor deleted", err, store.ErrNotFound)
		wantErr(t, "DeleteFactor twice", s.DeleteFactor(ctx, f.UserID, f.ID), store.ErrNotFound)
		list, err := s.ListFactors(ctx, f.UserID)
		must(t, "ListFactors", err)
		if len(list) != 1 || list[0].ID != keep.ID {
			t.Fatalf("ListFactors after delete = %v, want only %s", ids(list, func(f store.Factor) string { return f.ID }), keep.ID)
		}

		// The ID and the lookup are free again.
		again := newFactor("webauthn")
		again.UserID, again.ID, again.Lookup = f.UserID, f.ID, f.Lookup
		must(t, "CreateFactor reusing ID and lookup", s.CreateFactor(ctx, again))
		got, err := s.FindFactor(ctx, f.Kind, f.Lookup)
		must(t, "FindFactor", err)
		checkFactor(t, "recreated factor", got, again)
	})

	t.Run("DeletePending", func(t *testing.T) {
		f := newFactor("webauthn")
		f.Status, f.Confirmed = store.StatusPending, time.Time{}
		must(t, "CreateFactor pending", s.CreateFactor(ctx, f))
		active := newFactor("webauthn")
		active.UserID, active.ID = f.UserID, "f2"
		must(t, "CreateFactor active", s.CreateFactor(ctx, active))
		namesake := newFactor("webauthn")
		namesake.ID, namesake.Status, namesake.Confirmed = f.ID, store.StatusPending, time.Time{}
		must(t, "CreateFactor pending namesake of another user", s.CreateFactor(ctx, namesake))

		// An active factor is refused and kept, lookup included.
		wantErr(t, "DeletePendingFactor active", s.DeletePendingFactor(ctx, active.UserID, active.ID), store.ErrConflict)
		got, err := s.GetFactor(ctx, active.UserID, active.ID)
		must(t, "GetFactor active", err)
		checkFactor(t, "active factor after a refused DeletePendingFactor", got, active)
		got, err = s.FindFactor(ctx, active.Kind, active.Lookup)
		must(t, "FindFactor active", err)
		checkFactor(t, "FindFactor after a refused DeletePendingFactor", got, active)

		wantErr(t, "DeletePendingFactor unknown ID", s.DeletePendingFactor(ctx, f.UserID, "none"), store.ErrNotFound)
		wantErr(t, "DeletePendingFactor unknown user", s.DeletePendingFactor(ctx, uid("user"), f.ID), store.ErrNotFound)

		must(t, "DeletePendingFactor", s.DeletePendingFactor(ctx, f.UserID, f.ID))
		_, err = s.GetFactor(ctx, f.UserID, f.ID)
		wantErr(t, "GetFactor deleted", err, store.ErrNotFound)
		_, err = s.FindFactor(ctx, f.Kind, f.Lookup)
		wantErr(t, "FindFactor deleted", err, store.ErrNotFound)
		wantErr(t, "DeletePendingFactor twice", s.DeletePendingFactor(ctx, f.UserID, f.ID), store.ErrNotFound)
		list, err := s.ListFactors(ctx, f.UserID)
		must(t, "ListFactors", err)
		if len(list) != 1 || list[0].ID != active.ID {
			t.Fatalf("ListFactors after DeletePendingFactor = %v, want only %s", ids(list, func(f store.Factor) string { return f.ID }), active.ID)
		}
		got, err = s.GetFactor(ctx, namesake.UserID, namesake.ID)
		must(t, "GetFactor namesake of another user", err)
		checkFactor(t, "another user's factor with the deleted ID", got, namesake)

		// The ID and the lookup are free again.
		again := newFactor("webauthn")
		again.UserID, again.ID, again.Lookup = f.UserID, f.ID, f.Lookup
		must(t, "CreateFactor reusing ID and lookup", s.CreateFactor(ctx, again))
	})

	t.Run("Advance", func(t *testing.T) {
		f := newFactor("totp")
		must(t, "CreateFactor", s.CreateFactor(ctx, f))

		// A stale From: nothing changes.
		err := s.Advance(ctx, store.Advance{UserID: f.UserID, FactorID: f.ID, From: f.Counter - 1, To: f.Counter + 1,
			Data: []byte("lost"), Now: at(2 * time.Hour)})
		wantErr(t, "Advance with a stale From", err, store.ErrConflict)
		got, err := s.GetFactor(ctx, f.UserID, f.ID)
		must(t, "GetFactor", err)
		checkFactor(t, "after a conflicting Advance", got, f)

		// Data nil keeps the stored Data.
		want := f
		want.Counter, want.LastUsed = 59, at(3*time.Hour)
		must(t, "Advance", s.Advance(ctx, store.Advance{UserID: f.UserID, FactorID: f.ID, From: f.Counter, To: 59, Now: at(3 * time.Hour)}))
		got, err = s.GetFactor(ctx, f.UserID, f.ID)
		must(t, "GetFactor", err)
		checkFactor(t, "after Advance without Data", got, want)

		// The old From no longer matches.
		err = s.Advance(ctx, store.Advance{UserID: f.UserID, FactorID: f.ID, From: f.Counter, To: 60, Now: at(4 * time.Hour)})
		wantErr(t, "Advance replaying the old From", err, store.ErrConflict)

		// Non-nil Data replaces, an empty slice included.
		want.Counter, want.LastUsed, want.Data = 60, at(5*time.Hour), []byte("bitmap")
		must(t, "Advance with Data", s.Advance(ctx, store.Advance{UserID: f.UserID, FactorID: f.ID, From: 59, To: 60, Data: []byte("bitmap"), Now: at(5 * time.Hour)}))
		got, err = s.GetFactor(ctx, f.UserID, f.ID)
		must(t, "GetFactor", err)
		checkFactor(t, "after Advance with Data", got, want)

		want.Counter, want.LastUsed, want.Data = 61, at(6*time.Hour), nil
		must(t, "Advance with empty Data", s.Advance(ctx, store.Advance{UserID: f.UserID, FactorID: f.ID, From: 60, To: 61, Data: []byte{}, Now: at(6 * time.Hour)}))
		got, err = s.GetFactor(ctx, f.UserID, f.ID)
		must(t, "GetFactor", err)
		checkFactor(t, "after Advance with empty Data", got, want)

		// UpdateFactor does not undo what Advance did to Counter or LastUsed.
		stale := f // read before the Advances
		stale.Name = "renamed"
		must(t, "UpdateFactor", s.UpdateFactor(ctx, stale))
		got, err = s.GetFactor(ctx, f.UserID, f.ID)
		must(t, "GetFactor", err)
		if got.Counter != 61 || !got.LastUsed.Equal(at(6*time.Hour)) || got.Name != "renamed" {
			t.Fatalf("UpdateFactor from a stale copy: Counter %d LastUsed %v Name %q, want 61, %v, renamed",
				got.Counter, got.LastUsed, got.Name, at(6*time.Hour))
		}
	})

	t.Run("NoAliasing", func(t *testing.T) {
		f := newFactor("totp")
		in := f
		in.Secret, in.Data = append([]byte(nil), f.Secret...), append([]byte(nil), f.Data...)
		must(t, "CreateFactor", s.CreateFactor(ctx, in))
		in.Secret[0] ^= 0xff
		in.Data[0] ^= 0xff

		got, err := s.GetFactor(ctx, f.UserID, f.ID)
		must(t, "GetFactor", err)
		checkFactor(t, "after the caller changed the bytes it created with", got, f)
		// The returned slices do not overlap: growing Secret leaves Data.
		_ = append(got.Secret, make([]byte, len(f.Data))...)
		if !bytes.Equal(got.Data, f.Data) {
			t.Fatalf("appending to the returned Secret changed the returned Data to %x", got.Data)
		}
		got.Secret[0] ^= 0xff
		got.Data[0] ^= 0xff
		got, err = s.GetFactor(ctx, f.UserID, f.ID)
		must(t, "GetFactor", err)
		checkFactor(t, "after the caller changed bytes it got", got, f)

		data := []byte("advanced")
		want := f
		want.Counter, want.LastUsed, want.Data = f.Counter+1, at(time.Hour), []byte("advanced")
		must(t, "Advance", s.Advance(ctx, store.Advance{UserID: f.UserID, FactorID: f.ID, From: f.Counter, To: f.Counter + 1, Data: data, Now: at(time.Hour)}))
		data[0] = 'X'
		upd := want
		upd.Secret = append([]byte(nil), want.Secret...)
		must(t, "UpdateFactor", s.UpdateFactor(ctx, upd))
		upd.Secret[0] ^= 0xff
		got, err = s.GetFactor(ctx, f.UserID, f.ID)
		must(t, "GetFactor", err)
		checkFactor(t, "after changing bytes passed to Advance and UpdateFactor", got, want)
	})
}
